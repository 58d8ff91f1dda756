"""How a held message changes on the client (§14.9-14.13): EDIT, DELETE and REACTION events
applied to a ``ConversationView``, replies that quote the changed message, CHANGES pages,
and who is typing."""

from __future__ import annotations

from aronanet.client.conversation_view import ConversationView, event_key
from aronanet.client.lifecycle import TypingTracker, applied, reacted
from aronanet.proto.lifecycle import (
    DeleteEvent,
    EditEvent,
    Reaction,
    ReactionEvent,
    ReplyQuote,
    TypingEvent,
)
from aronanet.proto.messages import Attachment, MsgEvent

CHANNEL = "#c"
ME = "sensei"


def msg(msg_id: str, content: str, **fields: object) -> MsgEvent:
    return MsgEvent(
        id=msg_id,
        from_="kei",
        dest_type="channel",
        dest=CHANNEL,
        content=content,
        timestamp=1,
        **fields,  # type: ignore[arg-type]
    )


def reaction(emoji: str, user: str, count: int, *, added: bool = True) -> ReactionEvent:
    return ReactionEvent(
        id="e", msg_id="1", from_=user, emoji=emoji, added=added, count=count,
        dest_type="channel", dest=CHANNEL, timestamp=2, rev="9",
    )  # fmt: skip


def view_of(*messages: MsgEvent) -> ConversationView:
    view = ConversationView("channel", CHANNEL)
    for message in messages:
        view.append(message)
    return view


def test_an_edit_replaces_the_text_and_requotes_replies() -> None:
    quote = ReplyQuote(id="1", from_="kei", content="old")
    view = view_of(msg("1", "old", rev="1"), msg("2", "re", reply_to="1", reply=quote))
    edit = EditEvent(
        id="e", msg_id="1", from_="kei", dest_type="channel", dest=CHANNEL,
        content="new " + "x" * 200, edited=5, timestamp=5, rev="7",
    )  # fmt: skip
    assert view.apply(edit, ME)
    assert (view.messages["1"].content[:4], view.messages["1"].edited) == ("new ", 5)
    assert view.messages["2"].reply.content == ("new " + "x" * 200)[:140]
    assert view.rev == "7"
    assert view.ids == ["1", "2"]  # an edit never moves a message


def test_a_delete_makes_a_tombstone_and_marks_quotes_deleted() -> None:
    image = Attachment(image="a" * 64, name="x.png", mime="image/png", size=1, width=1, height=1)
    held = msg("1", "pic", attachment=image, reactions=[Reaction(emoji="👍", count=1, users=["a"])])
    view = view_of(held, msg("2", "re", reply_to="1"))
    gone = DeleteEvent(
        id="e", msg_id="1", from_="kei", dest_type="channel", dest=CHANNEL, timestamp=9
    )
    assert view.apply(gone, ME)
    tomb = view.messages["1"]
    assert (tomb.content, tomb.deleted) == ("", 9)
    assert not isinstance(tomb.attachment, Attachment) and not isinstance(tomb.reactions, list)
    assert (view.messages["2"].reply.content, view.messages["2"].reply.deleted) == ("", True)
    assert not view.apply(
        DeleteEvent(id="e", msg_id="99", from_="k", dest_type="channel", dest=CHANNEL, timestamp=1),
        ME,
    )


def deletion(msg_id: str) -> DeleteEvent:
    return DeleteEvent(
        id="e", msg_id=msg_id, from_="kei", dest_type="channel", dest=CHANNEL, timestamp=9
    )


def test_a_deleted_unread_message_is_no_longer_unread() -> None:
    mine = MsgEvent(id="3", from_=ME, dest_type="channel", dest=CHANNEL, content="me", timestamp=1)
    view = view_of(msg("1", "a"), msg("2", "b"), mine, msg("4", "d"))
    view.unread = 3  # as the node counts them: every one not ours, no marker
    view.apply(deletion("2"), ME)
    view.apply(deletion("2"), ME)  # twice: counted once
    view.apply(deletion("3"), ME)  # ours was never unread
    assert view.unread == 2
    view.mark_read("1", ME)  # recounted after the marker: "4" ("2" is deleted, "3" ours)
    assert view.unread == 1
    view.apply(deletion("1"), ME)  # at the marker: read already
    assert view.unread == 1
    view.apply(deletion("4"), ME)
    assert view.unread == 0


def test_reactions_keep_first_reaction_order_and_the_nodes_count() -> None:
    state = reacted([], reaction("👍", "ann", 1))
    state = reacted(state, reaction("🎉", "bob", 1))
    state = reacted(state, reaction("👍", "bob", 2))
    assert [(r.emoji, r.count, r.users) for r in state] == [
        ("👍", 2, ["ann", "bob"]),
        ("🎉", 1, ["bob"]),
    ]
    state = reacted(state, reaction("👍", "ann", 1, added=False))
    state = reacted(state, reaction("🎉", "bob", 0, added=False))
    assert [(r.emoji, r.count, r.users) for r in state] == [("👍", 1, ["bob"])]
    assert applied(msg("1", "x"), reaction("👍", "ann", 1)).reactions[0].users == ["ann"]


def test_a_changes_page_updates_held_messages_only() -> None:
    view = view_of(msg("1", "a"), msg("2", "b"))
    changed = view.merge_changes([msg("2", "b, edited", edited=3, rev="5"), msg("3", "new")])
    assert changed == 1 and view.ids == ["1", "2"] and view.messages["2"].content == "b, edited"


def test_typing_expires_stops_and_ends_with_a_message() -> None:
    now = [100.0]
    tracker = TypingTracker(lambda: now[0])
    here = event_key("channel", CHANNEL, "Kei", "me")

    def typing(who: str, on: bool = True) -> TypingEvent:
        return TypingEvent(
            id="t", from_=who, dest_type="channel", dest=CHANNEL, typing=on,
            expires_ms=6000, timestamp=1,
        )  # fmt: skip

    tracker.typing(here, typing("Kei"))
    tracker.typing(here, typing("ann"))
    assert tracker.who(here) == ["ann", "Kei"]
    tracker.typing(here, typing("ann", False))
    assert tracker.who(here) == ["Kei"]
    now[0] += 6.5
    assert tracker.who(here) == []
    tracker.typing(here, typing("Kei"))
    tracker.message_sent(here, "kei")
    assert tracker.who(here) == []


def test_a_dm_event_is_keyed_by_the_peer_from_either_side() -> None:
    assert event_key("user", "me", "Kei", "me") == ("user", "kei")  # to me, from Kei
    assert event_key("user", "Kei", "me", "me") == ("user", "kei")  # mine, to Kei
