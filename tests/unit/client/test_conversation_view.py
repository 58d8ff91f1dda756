"""ConversationView: HISTORY pages are authoritative for the node's order; ids stay unique."""

from __future__ import annotations

from aronanet.client.conversation_view import ConversationView, key_of, name_of
from aronanet.proto.messages import MsgEvent


def msg(message_id: str, sender: str = "hoshino", dest: str = "#general") -> MsgEvent:
    dest_type = "channel" if dest.startswith("#") else "user"
    return MsgEvent(
        id=message_id,
        from_=sender,
        dest_type=dest_type,
        dest=dest,
        content=f"text {message_id}",
        timestamp=1,
    )


def test_a_live_event_that_overtook_a_gap_is_put_back_in_the_node_order() -> None:
    view = ConversationView("channel", "#general")
    view.merge_after(None, [msg("a"), msg("b")])
    view.append(msg("e"))  # arrived live while c and d were still unseen
    view.merge_after("b", [msg("c"), msg("d"), msg("e")])
    assert view.ids == ["a", "b", "c", "d", "e"]


def test_a_latest_page_after_a_live_event_is_fixed_by_the_next_after_page() -> None:
    view = ConversationView("channel", "#general")
    view.append(msg("z"))
    view.merge_after(None, [msg("x"), msg("y")])  # computed before z was posted
    view.merge_after("y", [msg("z")])
    assert view.ids == ["x", "y", "z"]


def test_every_id_is_held_once_whatever_the_order_of_pages_and_events() -> None:
    view = ConversationView("user", "plana")
    assert view.append(msg("1"))
    assert not view.append(msg("1"))
    assert view.merge_after("1", [msg("2"), msg("3")]) == 2
    assert view.merge_after("1", [msg("2"), msg("3")]) == 0
    assert view.merge_before([msg("0"), msg("1")]) == 1
    assert view.ids == ["0", "1", "2", "3"]


def test_an_anchor_not_held_places_the_page_at_the_end() -> None:
    view = ConversationView("channel", "#general")
    view.merge_after(None, [msg("a")])
    view.merge_after("unknown", [msg("b")])
    assert view.ids == ["a", "b"]


def test_a_read_marker_leaves_unread_what_follows_it_and_is_not_ours() -> None:
    view = ConversationView("channel", "#general")
    view.merge_after(None, [msg("1"), msg("2"), msg("3", sender="arona"), msg("4")])
    view.mark_read("2", "Arona")
    assert (view.read, view.unread) == ("2", 1)
    view.mark_read("4", "arona")
    assert view.unread == 0


def test_a_dm_belongs_to_the_other_party_from_either_side() -> None:
    mine = msg("1", sender="arona", dest="plana")
    theirs = msg("2", sender="Plana", dest="arona")
    assert name_of(mine, "ARONA") == "plana"
    assert name_of(theirs, "arona") == "Plana"
    assert key_of(mine, "arona") == key_of(theirs, "arona") == ("user", "plana")
    assert key_of(msg("3", sender="arona"), "arona") == ("channel", "#general")
