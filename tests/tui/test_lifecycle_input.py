"""The lifecycle gestures of the input line (ArTP/1.1 §14.9-14.13), fed from reducer state
(no node: what goes out is checked against a live node in test_lifecycle_live.py)."""

from __future__ import annotations

from tui_helpers import FIXED_NOW, hold_still, open_chat, snapshot_app

from aronanet.client.state import EventsReceived, MessageDeleted, TypingChanged
from aronanet.proto.lifecycle import ReplyQuote
from aronanet.proto.messages import MsgEvent
from aronanet.tui.app import AronaApp
from aronanet.tui.theme import LIGHT
from aronanet.tui.widgets.bars import TypingLine, typing_words
from aronanet.tui.widgets.chat_input import ChatInput
from aronanet.tui.widgets.message_log import MessageLog


def _stored(id_: str, sender: str, content: str, **fields: object) -> MsgEvent:
    return MsgEvent(
        id=id_,
        from_=sender,
        dest_type="channel",
        dest="#general",
        content=content,
        timestamp=FIXED_NOW - 60,
        **fields,  # type: ignore[arg-type]
    )


async def _with_talk(app: AronaApp) -> None:
    app.dispatch(
        EventsReceived(
            (
                _stored("20", "sensei", "lunch at noon?"),
                _stored(
                    "21",
                    "yuuka",
                    "noon works",
                    reply_to="20",
                    reply=ReplyQuote(id="20", from_="sensei", content="lunch at noon?"),
                ),
            )
        )
    )


async def test_up_on_an_empty_line_edits_our_last_message_and_escape_cancels() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await _with_talk(app)
        chat_input = app.screen.query_one(ChatInput)
        await pilot.press("up")
        assert chat_input.value == "lunch at noon?"
        assert chat_input.composing is not None and chat_input.composing.kind == "edit"
        assert "editing your message" in str(chat_input.border_title)
        await pilot.press("escape")
        assert (chat_input.value, chat_input.composing) == ("", None)


async def test_a_selection_moves_over_messages_and_r_replies_in_one_burst() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await _with_talk(app)
        await pilot.pause()
        log = app.screen.query_one(MessageLog)
        chat_input = app.screen.query_one(ChatInput)
        await pilot.press("alt+up")
        assert log.selected == "21"
        await pilot.press("ctrl+up", "ctrl+down", "alt+up")
        assert log.selected == "20"
        await pilot.press("r", *"see you", "enter")
        assert log.selected is None and chat_input.value == ""
        queued = app.state.current.lines[-1]
        assert (queued.text, queued.reply and queued.reply.id) == ("see you", "20")
        await pilot.pause()
        rows = [log.render_line(y).text.strip() for y in range(log.size.height)]
        quote = rows.index("↳ sensei: lunch at noon?", rows.index("↳ sensei: lunch at noon?") + 1)
        assert rows[quote + 1].endswith("sensei  see you  ⋯ pending")


async def test_edit_is_refused_on_someone_elses_message_and_deleted_ones_show_a_tombstone() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await _with_talk(app)
        await pilot.pause()
        await pilot.press("alt+up", "e")
        errors = [x.text for x in app.state.current.lines if x.kind == "error"]
        assert errors[-1] == "Sensei, only your own messages can be edited."
        app.dispatch(MessageDeleted("20", FIXED_NOW))
        await pilot.pause()
        log = app.screen.query_one(MessageLog)
        text = "\n".join(log.render_line(y).text for y in range(log.size.height))
        assert "sensei  message deleted" in text
        assert "↳ message deleted" in text


async def test_d_asks_first_and_n_keeps_the_message() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await _with_talk(app)
        await pilot.pause()
        chat_input = app.screen.query_one(ChatInput)
        await pilot.press("alt+up", "alt+up", "d")
        assert "y deletes" in str(chat_input.border_title)
        await pilot.press("n")
        assert chat_input.composing is None and chat_input.value == ""
        assert not any(x.deleted for x in app.state.current.lines)


async def test_the_typing_line_names_who_types_until_it_expires() -> None:
    assert typing_words(["kei"]) == "kei is typing…"
    assert typing_words(["kei", "yuuka"]) == "kei and yuuka are typing…"
    assert typing_words(["a", "b", "c", "d"]) == "a, b and 2 others are typing…"
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        app.dispatch(TypingChanged("channel", "#general", "kei", True, FIXED_NOW + 6, FIXED_NOW))
        app.dispatch(TypingChanged("channel", "#lounge", "momoi", True, FIXED_NOW + 6, FIXED_NOW))
        await hold_still(pilot)
        assert app.screen.query_one(TypingLine).words == "kei is typing…"
        app.dispatch(TypingChanged("channel", "#general", "kei", False, 0, FIXED_NOW))
        await pilot.pause()
        assert app.screen.query_one(TypingLine).words == ""
