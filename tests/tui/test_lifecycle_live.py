"""Replies, edits, deletes, reactions, typing and mentions (ArTP/1.1 §14.9-14.13) in the
terminal client, driven by Pilot against a real node; a second, scripted client (hoshino)
checks what really went through the node (its ``HISTORY`` and the events it receives)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from live_app import SIZE, join, make_app, notes, register, rendered_text, type_line
from msgspec import UNSET
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from tui_helpers import Node, wait_for

from aronanet.client.connection import ArtpClient, build_request
from aronanet.client.state import Delivery, LinkStatus
from aronanet.proto.lifecycle import DeleteEvent, Edit, EditEvent, React, Typing, TypingEvent
from aronanet.proto.messages import Event, MsgEvent, SendMsg
from aronanet.tui.app import AronaApp
from aronanet.tui.screens.search import SearchScreen
from aronanet.tui.widgets.bars import TypingLine
from aronanet.tui.widgets.buffer_list import BufferList
from aronanet.tui.widgets.chat_input import ChatInput
from aronanet.tui.widgets.message_log import MessageLog


class Inbox:
    """Every event the peer receives, collected in the background."""

    def __init__(self, client: ArtpClient) -> None:
        self.events: list[Event] = []
        self._task = asyncio.create_task(self._collect(client))

    async def _collect(self, client: ArtpClient) -> None:
        async for event in client.events():
            self.events.append(event)

    def changed(self, kind: type, msg_id: str) -> bool:
        """True once an event of ``kind`` (EDIT, DELETE) about ``msg_id`` arrived."""
        return any(isinstance(e, kind) and e.msg_id == msg_id for e in self.events)  # type: ignore[attr-defined]

    def typing(self) -> list[bool]:
        return [e.typing for e in self.events if isinstance(e, TypingEvent)]

    def close(self) -> None:
        self._task.cancel()


@pytest.fixture
async def inbox(peer: ArtpClient) -> AsyncIterator[Inbox]:
    collected = Inbox(peer)
    yield collected
    collected.close()


async def _in_general(pilot: Pilot[int], app: AronaApp, peer: ArtpClient) -> None:
    await register(pilot)
    await peer.join("#general")
    await join(pilot, app, "#general")


def _message(app: AronaApp, text: str) -> str:
    return next(x.id for x in app.state.current.lines if x.text == text and x.is_server_message)


async def _sent(pilot: Pilot[int], app: AronaApp, line: str) -> str:
    """Type ``line`` and return its id once the node confirmed it."""
    await type_line(pilot, line)
    await wait_for(
        pilot,
        lambda: any(
            x.text == line and x.delivery is Delivery.SENT for x in app.state.current.lines
        ),
    )
    return _message(app, line)


async def _enter(pilot: Pilot[int], line: str) -> None:
    """Put ``line`` in the input and press Enter (Pilot cannot press an emoji key)."""
    chat_input = pilot.app.screen.query_one(ChatInput)
    chat_input.value = line
    await pilot.press("enter")


async def _peer_sees(peer: ArtpClient, msg_id: str) -> MsgEvent:
    page = await peer.history("channel", "#general", limit=100)
    return next(m for m in page if m.id == msg_id)


async def test_a_selected_message_gets_a_reply_with_its_quote_and_enter_jumps_back(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await _in_general(pilot, app, peer)
        asked = await peer.send_message("channel", "#general", "lunch at noon, sensei?")
        await peer.send_message("channel", "#general", "my treat")
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "my treat")
        await pilot.press("alt+up", "alt+up", "r", *"yes please!", "enter")
        await wait_for(pilot, lambda: app.state.current.lines[-1].delivery is Delivery.SENT)
        reply = await _peer_sees(peer, app.state.current.lines[-1].id)
        assert (reply.content, reply.reply_to) == ("yes please!", asked.msg_id)
        assert reply.reply is not UNSET and reply.reply.from_ == "hoshino"
        await pilot.pause()
        assert "↳ hoshino: lunch at noon, sensei?" in rendered_text(app)
        await pilot.press("alt+up", "enter")  # the reply is the newest: jump to its quote
        log = app.screen.query_one(MessageLog)
        await wait_for(pilot, lambda: log.selected == asked.msg_id)
        await pilot.press("escape")
        # /reply N answers the N-th newest message: 2 is "my treat"
        await type_line(pilot, "/reply 2 thank you!")
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "thank you!")
        await wait_for(pilot, lambda: app.state.current.lines[-1].delivery is Delivery.SENT)
        treat = await _peer_sees(peer, app.state.current.lines[-1].id)
        assert treat.reply is not UNSET and treat.reply.content == "my treat"


async def test_a_jump_loads_the_quoted_message_around_it_when_it_is_not_held(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#general")
    first = await peer.send_message("channel", "#general", "the very first plan")
    for number in range(150):
        await peer.send_message("channel", "#general", f"filler {number}")
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        reply = build_request(
            SendMsg,
            dest_type="channel",
            dest="#general",
            content="as planned",
            reply_to=first.msg_id,
        )
        await peer.request(reply)
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "as planned")
        assert first.msg_id not in app.state.current.ids  # the latest page is 100
        await pilot.press("alt+up", "enter")
        log = app.screen.query_one(MessageLog)
        await wait_for(pilot, lambda: log.selected == first.msg_id)
        assert "the very first plan" in rendered_text(app)


async def test_up_on_an_empty_line_edits_the_last_message_for_everyone(
    node: Node, peer: ArtpClient, inbox: Inbox, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await _in_general(pilot, app, peer)
        msg_id = await _sent(pilot, app, "see you at noom")
        chat_input = app.screen.query_one(ChatInput)
        await pilot.press("up")
        assert chat_input.value == "see you at noom"
        await pilot.press("backspace", "n", "enter")
        await wait_for(pilot, lambda: app.state.current.lines[-1].edited > 0)
        stored = await _peer_sees(peer, msg_id)
        assert (stored.content, stored.edited is not UNSET) == ("see you at noon", True)
        await wait_for(pilot, lambda: inbox.changed(EditEvent, msg_id))
        await pilot.pause()
        assert "see you at noon (edited)" in rendered_text(app)
        # hoshino edits too: the EDIT event changes the line on this screen
        theirs = await peer.send_message("channel", "#general", "brb")
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "brb")
        await peer.request(build_request(Edit, msg_id=theirs.msg_id, content="back!"))
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "back!")
        # editing someone else's message is refused, in Arona's words
        await pilot.press("alt+up", "e")
        await wait_for(pilot, lambda: app.state.current.lines[-1].kind == "error")
        assert notes(app)[-1] == "Sensei, only your own messages can be edited."


async def test_delete_asks_first_and_leaves_a_tombstone_on_both_sides(
    node: Node, peer: ArtpClient, inbox: Inbox, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await _in_general(pilot, app, peer)
        msg_id = await _sent(pilot, app, "oops, wrong channel")
        await type_line(pilot, "/delete")
        chat_input = app.screen.query_one(ChatInput)
        await wait_for(pilot, lambda: chat_input.composing is not None)
        assert "y deletes" in str(chat_input.border_title)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.state.current.lines[-1].kind == "info")
        stored = await _peer_sees(peer, msg_id)
        assert (stored.content, stored.deleted is not UNSET) == ("", True)
        await wait_for(pilot, lambda: inbox.changed(DeleteEvent, msg_id))
        await pilot.pause()
        assert "sensei  message deleted" in rendered_text(app)
        assert (
            notes(app)[-1] == "Deleted, Sensei. Everyone sees 'message deleted' in its place now."
        )


async def test_react_toggles_and_the_nodes_refusal_is_said_in_aronas_voice(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await _in_general(pilot, app, peer)
        theirs = await peer.send_message("channel", "#general", "I finished the report!")
        await wait_for(pilot, lambda: app.state.current.lines[-1].text.startswith("I finished"))
        await _enter(pilot, "/react 🎉")
        await wait_for(pilot, lambda: bool(app.state.current.lines[-1].reactions))
        stored = await _peer_sees(peer, theirs.msg_id)
        assert [(r.emoji, r.count, r.users) for r in stored.reactions] == [("🎉", 1, ["sensei"])]  # type: ignore[union-attr]
        await peer.request(build_request(React, msg_id=theirs.msg_id, emoji="👍"))
        await wait_for(pilot, lambda: len(app.state.current.lines[-1].reactions) == 2)
        await pilot.pause()
        assert "🎉 1  👍 1" in rendered_text(app)
        await _enter(pilot, "/react 🎉")  # again: taken back
        await wait_for(pilot, lambda: len(app.state.current.lines[-1].reactions) == 1)
        stored = await _peer_sees(peer, theirs.msg_id)
        assert [(r.emoji, r.count) for r in stored.reactions] == [("👍", 1)]  # type: ignore[union-attr]
        await type_line(pilot, "/react :smile:")
        await wait_for(pilot, lambda: app.state.current.lines[-1].kind == "error")
        said = app.state.current.lines[-1].text
        assert said.startswith("Sorry Sensei, the node didn't accept that — INVALID: ")
        assert "one emoji" in said


async def test_typing_goes_out_and_comes_in(
    node: Node, peer: ArtpClient, inbox: Inbox, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await _in_general(pilot, app, peer)
        await pilot.press(*"on my w")
        await wait_for(pilot, lambda: inbox.typing() == [True])
        await pilot.press(*["backspace"] * len("on my w"))
        await wait_for(pilot, lambda: inbox.typing() == [True, False])
        await peer.request(build_request(Typing, dest_type="channel", dest="#general", typing=True))
        typing_line = app.screen.query_one(TypingLine)
        await wait_for(pilot, lambda: typing_line.words == "hoshino is typing…")
        await peer.send_message("channel", "#general", "here!")
        await wait_for(pilot, lambda: typing_line.words == "")


async def test_mentions_are_counted_apart_from_unread_in_the_sidebar(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await peer.join("#lounge")
        await join(pilot, app, "#lounge")
        await join(pilot, app, "#general")
        for text in ("snacks?", "@sensei snacks!", "anyone?"):
            await peer.send_message("channel", "#lounge", text)
        await wait_for(pilot, lambda: app.state.buffers["#lounge"].unread == 3)
        await pilot.pause()
        assert "#lounge (3) @1" in app.screen.query_one(BufferList).render().plain
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: app.state.active == "#lounge")
        await pilot.pause()
        mention = next(x for x in app.state.current.lines if x.text == "@sensei snacks!")
        assert mention.highlight


async def test_changes_made_while_offline_show_after_the_reconnect(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    online = asyncio.Event()
    online.set()
    app = make_app(node, tmp_path / "cfg", gate=online)
    async with app.run_test(size=SIZE) as pilot:
        await _in_general(pilot, app, peer)
        typo = await peer.send_message("channel", "#general", "meeting at 3")
        gone = await peer.send_message("channel", "#general", "ignore this")
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "ignore this")
        online.clear()
        await app.session.require_client().close()
        await wait_for(pilot, lambda: app.state.link.status is not LinkStatus.ONLINE)
        assert typo.msg_id and gone.msg_id
        await peer.edit(typo.msg_id, "meeting at 4")
        await peer.delete(gone.msg_id)
        await peer.react(typo.msg_id, "👀")
        online.set()
        await wait_for(pilot, lambda: app.state.link.status is LinkStatus.ONLINE)

        def deleted() -> bool:
            return any(x.id == gone.msg_id and x.deleted for x in app.state.current.lines)

        await wait_for(pilot, deleted)
        lines = {x.id: x for x in app.state.buffers["#general"].lines}
        assert (lines[typo.msg_id].text, lines[typo.msg_id].edited > 0) == ("meeting at 4", True)
        assert [(r.emoji, r.count) for r in lines[typo.msg_id].reactions] == [("👀", 1)]
        await pilot.pause()
        assert "meeting at 4 (edited)" in rendered_text(app)


async def test_search_lists_marked_results_and_enter_shows_one_in_context(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#general")
    wanted_text = "the Budget report is in the blue folder"
    wanted = await peer.send_message("channel", "#general", wanted_text)
    for number in range(150):
        await peer.send_message("channel", "#general", f"filler {number}")
    await peer.send_message("channel", "#general", "budget meeting moved")
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        assert wanted.msg_id not in app.state.current.ids
        await type_line(pilot, "/search budget")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        results = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: results.option_count == 2)
        newest, oldest = (results.get_option_at_index(i).prompt for i in range(2))
        assert isinstance(newest, Text) and "budget meeting moved" in newest.plain
        for row, word in ((newest, "budget"), (oldest, "Budget")):
            assert isinstance(row, Text)
            assert word in [row.plain[span.start : span.end] for span in row.spans]
        status = app.screen.query_one("#search-status", Static)
        assert "2 result(s)" in str(status.render())
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SearchScreen))
        log = app.screen.query_one(MessageLog)
        await wait_for(pilot, lambda: log.selected == wanted.msg_id)
        assert app.state.active == "#general"
        assert wanted_text in rendered_text(app)
        await type_line(pilot, '/search "no such words here"')
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        status = app.screen.query_one("#search-status", Static)
        await wait_for(pilot, lambda: "found nothing" in str(status.render()))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SearchScreen))
