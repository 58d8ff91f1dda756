"""The reducer's ArTP/1.1 lifecycle rules (§14.9-14.13): replies, edits, deletes, reactions,
typing; and the commands that start them."""

from __future__ import annotations

from aronanet.client import commands as cmd
from aronanet.client.command_spec import CommandError
from aronanet.client.lifecycle_commands import (
    DeleteCommand,
    EditCommand,
    ReactCommand,
    ReplyCommand,
    SearchCommand,
)
from aronanet.client.state import (
    Activated,
    ChatState,
    EventsReceived,
    HistoryLoaded,
    LoggedIn,
    MessageDeleted,
    MessageEdited,
    MessageQueued,
    Quote,
    Reaction,
    ReactionChanged,
    TypingChanged,
    last_own_message,
    reduce,
    typists,
)
from aronanet.proto.lifecycle import Reaction as WireReaction
from aronanet.proto.lifecycle import ReplyQuote
from aronanet.proto.messages import MsgEvent
from aronanet.tui.lifecycle import TypingNotifier, reacted


def msg(id_: str, sender: str = "hoshino", content: str = "ok", **fields: object) -> MsgEvent:
    values: dict[str, object] = {"dest_type": "channel", "dest": "#general", "timestamp": 1000}
    values.update(fields)
    return MsgEvent(id=id_, from_=sender, content=content, **values)  # type: ignore[arg-type]


def run(state: ChatState, *actions: object) -> ChatState:
    for action in actions:
        state = reduce(state, action)  # type: ignore[arg-type]
    return state


def general() -> ChatState:
    return run(
        ChatState(),
        LoggedIn("sensei", ("#general",), 900),
        Activated("#general"),
        EventsReceived(
            (
                msg("1", "yuuka", "lunch?"),
                msg(
                    "2",
                    "hoshino",
                    "yes!",
                    reply_to="1",
                    reply=ReplyQuote(id="1", from_="yuuka", content="lunch?"),
                    reactions=[WireReaction(emoji="👍", count=2, users=["yuuka", "sensei"])],
                ),
                msg("3", "sensei", "on my way"),
            )
        ),
    )


def line(state: ChatState, id_: str) -> object:
    return next(x for x in state.buffers["#general"].lines if x.id == id_)


def test_a_reply_carries_its_quote_and_reactions_from_the_node() -> None:
    reply = line(general(), "2")
    assert reply.reply == Quote("1", "yuuka", "lunch?")  # type: ignore[attr-defined]
    assert reply.reactions == (Reaction("👍", 2, ("yuuka", "sensei")),)  # type: ignore[attr-defined]


def test_an_edit_changes_the_text_and_the_quotes_of_its_replies() -> None:
    state = run(general(), MessageEdited("1", "lunch at noon?", 1234))
    assert (line(state, "1").text, line(state, "1").edited) == ("lunch at noon?", 1234)  # type: ignore[attr-defined]
    assert line(state, "2").reply == Quote("1", "yuuka", "lunch at noon?")  # type: ignore[attr-defined]


def test_a_delete_leaves_a_tombstone_and_a_deleted_quote_and_later_edits_change_nothing() -> None:
    state = run(general(), MessageDeleted("1", 1300), MessageEdited("1", "back?", 1400))
    tombstone = line(state, "1")
    assert (tombstone.text, tombstone.deleted, tombstone.edited) == ("", 1300, 0)  # type: ignore[attr-defined]
    assert line(state, "2").reply.deleted  # type: ignore[attr-defined]


def test_reactions_follow_the_nodes_count_and_disappear_at_zero() -> None:
    state = run(
        general(),
        ReactionChanged("2", "🎉", "yuuka", True, 1),
        ReactionChanged("2", "👍", "sensei", False, 1),
    )
    assert line(state, "2").reactions == (  # type: ignore[attr-defined]
        Reaction("👍", 1, ("yuuka",)),
        Reaction("🎉", 1, ("yuuka",)),
    )
    state = run(state, ReactionChanged("2", "🎉", "yuuka", False, 0))
    assert [r.emoji for r in line(state, "2").reactions] == ["👍"]  # type: ignore[attr-defined]
    assert not reacted(line(state, "2"), "👍", "Sensei")  # type: ignore[arg-type]
    assert reacted(line(general(), "2"), "👍", "Sensei")  # type: ignore[arg-type]


def test_a_page_brings_the_current_state_of_a_held_message() -> None:
    page = (msg("1", "yuuka", "lunch at one?", edited=1500),)
    state = run(general(), HistoryLoaded("#general", page, around="1"))
    assert (line(state, "1").text, line(state, "1").edited) == ("lunch at one?", 1500)  # type: ignore[attr-defined]
    assert len(state.buffers["#general"].lines) == 3


def test_an_around_page_lands_in_time_order_without_duplicates() -> None:
    older = (msg("0", "kei", "first", timestamp=10), msg("1", "yuuka", "lunch?"))
    state = run(general(), HistoryLoaded("#general", older, around="0"))
    assert [x.id for x in state.buffers["#general"].lines] == ["0", "1", "2", "3"]


def test_our_queued_reply_shows_its_quote_until_the_node_copy_comes() -> None:
    state = run(
        general(),
        MessageQueued("#general", "me too", 1100, cid="c1", reply=Quote("1", "yuuka", "lunch?")),
    )
    assert state.buffers["#general"].lines[-1].reply == Quote("1", "yuuka", "lunch?")


def test_up_edits_our_last_message_not_someone_elses_nor_a_deleted_one() -> None:
    state = general()
    assert last_own_message(state.current, "sensei").id == "3"  # type: ignore[union-attr]
    state = run(state, MessageDeleted("3", 1200))
    assert last_own_message(state.current, "sensei") is None


def test_typing_expires_and_a_message_from_the_typist_ends_it() -> None:
    state = run(
        general(),
        TypingChanged("channel", "#general", "kei", True, 106.0, 100.0),
        TypingChanged("channel", "#general", "yuuka", True, 104.0, 100.0),
    )
    assert typists(state, "#general", 101.0) == ["kei", "yuuka"]
    assert typists(state, "#general", 105.0) == ["kei"]
    state = run(state, EventsReceived((msg("9", "kei", "done"),)))
    assert typists(state, "#general", 101.0) == ["yuuka"]
    state = run(state, TypingChanged("channel", "#general", "yuuka", False, 0.0, 101.0))
    assert typists(state, "#general", 101.0) == []


def test_a_dm_typing_event_lands_in_the_typists_buffer() -> None:
    state = run(general(), TypingChanged("user", "sensei", "Kei", True, 106.0, 100.0))
    assert typists(state, "kei", 101.0) == ["Kei"]


def test_typing_true_goes_out_at_most_every_three_seconds_and_false_once() -> None:
    sent: list[tuple[str, bool]] = []
    now = [0.0]
    notifier = TypingNotifier(lambda key, typing: sent.append((key, typing)), lambda: now[0])
    for moment, text in ((0.0, "h"), (1.0, "he"), (2.9, "hel"), (3.0, "hell"), (4.0, "")):
        now[0] = moment
        notifier.changed("#general", text)
    notifier.stopped("#general")  # sent: nothing more to say
    notifier.changed("#general", "/react 👍")  # a command is not typing
    assert sent == [("#general", True), ("#general", True), ("#general", False)]


def test_lifecycle_commands_parse_with_their_usage() -> None:
    assert cmd.parse("/reply 2 yes") == ReplyCommand(2, "yes")
    assert cmd.parse("/reply yes") == ReplyCommand(None, "yes")
    assert cmd.parse("/edit") == EditCommand(None)
    assert cmd.parse("/edit fixed") == EditCommand("fixed")
    assert cmd.parse("/delete") == DeleteCommand()
    assert cmd.parse("/react 👍") == ReactCommand("👍")
    assert cmd.parse("/search lunch noon") == SearchCommand("lunch noon")
    assert cmd.parse("/react") == CommandError(
        "usage: /react EMOJI — react to the selected or newest message (again: take it back)"
    )
    assert isinstance(cmd.parse("/search " + "x" * 300), CommandError)
