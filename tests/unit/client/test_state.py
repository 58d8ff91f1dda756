"""The pure reducer of the chat client: buffers, unread counts, delivery, dedup, scrollback."""

from __future__ import annotations

from aronanet.client.state import (
    STATUS_KEY,
    Activated,
    BufferClosed,
    ChannelJoined,
    ChatState,
    Cleared,
    Delivery,
    EventsReceived,
    HistoryFailed,
    HistoryLoaded,
    LinkConnecting,
    LinkDown,
    LinkStatus,
    LinkUp,
    LoggedIn,
    MessageQueued,
    Noted,
    OlderRequested,
    QueryOpened,
    SendConfirmed,
    SendFailed,
    SendStarted,
    first_message_id,
    last_message_id,
    mentions,
    neighbour,
    queued_outgoing,
    reduce,
    sidebar_order,
)
from aronanet.proto.messages import JoinEvent, MsgEvent, PartEvent, TopicEvent


def msg(
    id_: str,
    sender: str = "hoshino",
    content: str = "hello",
    *,
    dest: str = "#general",
    dest_type: str = "channel",
    ts: int = 1000,
) -> MsgEvent:
    return MsgEvent(
        id=id_, from_=sender, dest_type=dest_type, dest=dest, content=content, timestamp=ts
    )


def run(state: ChatState, *actions: object) -> ChatState:
    for action in actions:
        state = reduce(state, action)  # type: ignore[arg-type]
    return state


def logged_in(*channels: str) -> ChatState:
    return run(ChatState(), LoggedIn("sensei", channels or ("#general",), 900))


def texts(state: ChatState, key: str) -> list[str]:
    return [line.text for line in state.buffers[key].lines]


def test_reduce_returns_a_new_state_and_leaves_the_old_one_untouched() -> None:
    before = logged_in()
    after = reduce(before, EventsReceived((msg("m1"),)))
    assert before.buffers["#general"].lines == ()
    assert [line.id for line in after.buffers["#general"].lines] == ["m1"]


def test_login_creates_a_buffer_per_channel_after_the_status_buffer() -> None:
    state = logged_in("#general", "#lounge")
    assert list(state.buffers) == [STATUS_KEY, "#general", "#lounge"]
    assert state.me == "sensei"


def test_message_to_inactive_buffer_counts_as_unread() -> None:
    state = run(logged_in(), EventsReceived((msg("m1"), msg("m2"))))
    assert state.buffers["#general"].unread == 2
    assert state.buffers["#general"].highlights == 0


def test_message_to_active_buffer_is_not_unread() -> None:
    state = run(logged_in(), Activated("#general"), EventsReceived((msg("m1"),)))
    assert state.buffers["#general"].unread == 0


def test_mention_of_my_name_counts_as_highlight_and_marks_the_line() -> None:
    state = run(logged_in(), EventsReceived((msg("m1", content="Sensei, lunch?"),)))
    assert state.buffers["#general"].highlights == 1
    assert state.buffers["#general"].lines[0].highlight


def test_mentions_follow_the_node_rule() -> None:
    # ArTP/1.1 §14.5: the node's rule, so live highlights agree with CONVERSATIONS counts.
    assert mentions("hi @Sensei!", "sensei")
    assert mentions("sensei: hi", "sensei")
    assert mentions("SENSEI, hi", "sensei")
    assert not mentions("hi sensei!", "sensei")
    assert not mentions("hi @senseis", "sensei")
    assert not mentions("x_sensei", "sensei")
    assert not mentions("anything", None)


def test_direct_message_opens_a_buffer_named_after_the_sender_and_highlights() -> None:
    event = msg("d1", "Hoshino", "psst", dest="sensei", dest_type="user")
    state = run(logged_in(), EventsReceived((event,)))
    assert state.buffers["hoshino"].kind == "user"
    assert state.buffers["hoshino"].name == "Hoshino"
    assert state.buffers["hoshino"].highlights == 1


def test_my_own_direct_message_from_another_device_lands_in_the_recipients_buffer() -> None:
    event = msg("d1", "sensei", "on my way", dest="hoshino", dest_type="user")
    state = run(logged_in(), EventsReceived((event,)))
    assert texts(state, "hoshino") == ["on my way"]
    assert state.buffers["hoshino"].unread == 0


def test_activating_a_buffer_resets_its_counts() -> None:
    state = run(logged_in(), EventsReceived((msg("m1", content="sensei"),)), Activated("#general"))
    assert (state.buffers["#general"].unread, state.buffers["#general"].highlights) == (0, 0)
    assert state.active == "#general"


def test_duplicate_message_ids_are_kept_once() -> None:
    state = run(logged_in(), EventsReceived((msg("m1"), msg("m1"))), EventsReceived((msg("m1"),)))
    assert [line.id for line in state.buffers["#general"].lines] == ["m1"]
    assert state.buffers["#general"].unread == 1


def test_me_prefix_becomes_an_action_line() -> None:
    state = run(logged_in(), EventsReceived((msg("m1", content="/me waves"),)))
    line = state.buffers["#general"].lines[0]
    assert (line.kind, line.text) == ("action", "waves")


def test_queued_message_is_pending_until_confirmed() -> None:
    state = run(logged_in(), MessageQueued("#general", "hi all", 1000))
    [(buffer, line)] = queued_outgoing(state)
    assert (buffer.key, line.delivery, line.sender) == ("#general", Delivery.QUEUED, "sensei")
    state = run(state, SendStarted(line.id))
    assert queued_outgoing(state) == []
    state = run(state, SendConfirmed(line.id, "m9", 1001))
    sent = state.buffers["#general"].lines[0]
    assert (sent.id, sent.delivery, sent.timestamp) == ("m9", Delivery.SENT, 1001)
    assert last_message_id(state.buffers["#general"]) == "m9"


def test_refused_message_is_marked_failed_with_the_reason() -> None:
    state = run(logged_in(), MessageQueued("#general", "x", 1000))
    line_id = state.buffers["#general"].lines[0].id
    state = run(state, SendStarted(line_id), SendFailed(line_id, "RATE_LIMITED: slow down"))
    line = state.buffers["#general"].lines[0]
    assert (line.delivery, line.failure) == (Delivery.FAILED, "RATE_LIMITED: slow down")


def test_link_loss_marks_in_flight_messages_failed_but_keeps_queued_ones() -> None:
    state = run(
        logged_in(), MessageQueued("#general", "a", 1000), MessageQueued("#general", "b", 1000)
    )
    first = state.buffers["#general"].lines[0].id
    state = run(state, SendStarted(first), LinkDown("node closed", 2.0, 1001))
    deliveries = [line.delivery for line in state.buffers["#general"].lines]
    assert deliveries == [Delivery.FAILED, Delivery.QUEUED]
    assert state.link.status is LinkStatus.WAITING
    assert state.link.retry_in == 2.0


def test_node_copy_of_an_unconfirmed_message_replaces_it_instead_of_duplicating() -> None:
    state = run(logged_in(), MessageQueued("#general", "hi", 1000))
    line_id = state.buffers["#general"].lines[0].id
    state = run(state, SendStarted(line_id), LinkDown("gone", 1.0, 1001))
    state = run(state, HistoryLoaded("#general", (msg("m5", "sensei", "hi"),), after="m0"))
    lines = state.buffers["#general"].lines
    assert [(line.id, line.delivery) for line in lines] == [("m5", Delivery.SENT)]


def test_confirmation_after_the_copy_arrived_drops_the_local_line() -> None:
    state = run(logged_in(), MessageQueued("#general", "hi", 1000))
    line_id = state.buffers["#general"].lines[0].id
    state = run(state, SendStarted(line_id))
    # another action with different text in between, so reconciliation does not apply
    state = run(state, EventsReceived((msg("m5", "sensei", "different"),)))
    state = run(state, SendConfirmed(line_id, "m5", 1000))
    assert [line.id for line in state.buffers["#general"].lines] == ["m5"]


def test_scrollback_prepends_older_messages_and_detects_the_start() -> None:
    state = run(logged_in(), EventsReceived((msg("m3", ts=3), msg("m4", ts=4))))
    assert first_message_id(state.buffers["#general"]) == "m3"
    state = run(state, OlderRequested("#general"))
    assert state.buffers["#general"].older == "loading"
    state = run(state, HistoryLoaded("#general", (msg("m1", ts=1), msg("m2", ts=2)), before="m3"))
    assert [line.id for line in state.buffers["#general"].lines] == ["m1", "m2", "m3", "m4"]
    assert state.buffers["#general"].older == "idle"
    state = run(state, OlderRequested("#general"), HistoryLoaded("#general", (), before="m1"))
    assert state.buffers["#general"].older == "complete"
    assert state.buffers["#general"].unread == 2  # scrollback is never unread


def test_a_short_scrollback_page_is_not_the_start_of_history() -> None:
    """The node trims a page to fit one frame: 1 message of 100 asked still means "more"."""
    state = run(logged_in(), EventsReceived((msg("m3", ts=3),)), OlderRequested("#general"))
    state = run(state, HistoryLoaded("#general", (msg("m2", ts=2),), before="m3"))
    assert state.buffers["#general"].older == "idle"
    assert first_message_id(state.buffers["#general"]) == "m2"


def test_a_short_latest_page_leaves_older_history_to_load() -> None:
    state = run(logged_in(), HistoryLoaded("#general", (msg("m9", ts=9),)))
    assert state.buffers["#general"].older == "idle"


def test_an_empty_latest_page_means_the_conversation_has_no_history() -> None:
    state = run(logged_in(), HistoryLoaded("#general", ()))
    assert state.buffers["#general"].older == "complete"


def test_older_request_is_ignored_while_one_is_loading() -> None:
    state = run(logged_in(), OlderRequested("#general"))
    assert reduce(state, OlderRequested("#general")) is state


def test_failed_history_lets_the_user_retry() -> None:
    state = run(logged_in(), OlderRequested("#general"), HistoryFailed("#general"))
    assert state.buffers["#general"].older == "idle"


def test_catch_up_fills_the_gap_without_duplicates_in_time_order() -> None:
    state = run(logged_in(), Activated("#general"), EventsReceived((msg("m1", ts=10),)))
    state = run(
        state,
        LinkDown("gone", 1.0, 15),
        Noted("link lost", 15),
        EventsReceived((msg("m4", ts=30),)),
    )
    catch_up = (msg("m1", ts=10), msg("m2", ts=11), msg("m3", ts=20), msg("m4", ts=30))
    state = run(state, HistoryLoaded("#general", catch_up, after="m1"))
    ids = [line.id for line in state.buffers["#general"].lines]
    assert ids == ["m1", "m2", "note:0", "m3", "m4"]


def test_catch_up_of_an_inactive_buffer_counts_missed_messages_as_unread() -> None:
    state = run(logged_in(), HistoryLoaded("#general", (msg("m2"), msg("m3")), after="m1"))
    assert state.buffers["#general"].unread == 2


def test_latest_history_of_a_new_buffer_goes_before_later_notes() -> None:
    state = run(logged_in(), Noted("joined", 500, key="#general"))
    state = run(state, HistoryLoaded("#general", (msg("m1", ts=100),)))
    assert [line.id for line in state.buffers["#general"].lines] == ["m1", "note:0"]


def test_join_reply_sets_topic_and_sorted_members_and_can_activate() -> None:
    state = run(
        ChatState(),
        LoggedIn("sensei", (), 1),
        ChannelJoined("#lounge", "tea time", ("yuuka", "Arona", "sensei"), 2, activate=True),
    )
    lounge = state.buffers["#lounge"]
    assert (lounge.topic, lounge.members) == ("tea time", ("Arona", "sensei", "yuuka"))
    assert state.active == "#lounge"


def test_join_part_and_topic_events_update_members_and_topic() -> None:
    state = run(logged_in(), ChannelJoined("#general", "", ("sensei",), 1))
    state = run(
        state,
        EventsReceived(
            (
                JoinEvent(id="e1", from_="hoshino", channel="#general", timestamp=2),
                TopicEvent(id="e2", from_="hoshino", channel="#general", topic="nap", timestamp=3),
                PartEvent(id="e3", from_="hoshino", channel="#general", timestamp=4),
            )
        ),
    )
    general = state.buffers["#general"]
    assert general.members == ("sensei",)
    assert general.topic == "nap"
    assert [line.kind for line in general.lines] == ["join", "topic", "part"]


def test_my_part_from_another_session_closes_the_buffer() -> None:
    state = run(
        logged_in(),
        Activated("#general"),
        EventsReceived((PartEvent(id="e1", from_="sensei", channel="#general", timestamp=2),)),
    )
    assert "#general" not in state.buffers
    assert state.active == STATUS_KEY


def test_closing_the_active_buffer_activates_its_neighbour_and_status_cannot_close() -> None:
    state = run(logged_in("#a", "#b"), Activated("#b"), BufferClosed("#b"))
    assert state.active == "#a"
    assert reduce(state, BufferClosed(STATUS_KEY)) is state


def test_query_opens_and_activates_a_private_buffer() -> None:
    state = run(logged_in(), QueryOpened("Yuuka"))
    assert state.active == "yuuka"
    assert state.current.kind == "user"


def test_clear_empties_lines_but_keeps_ids_so_nothing_returns_twice() -> None:
    state = run(logged_in(), EventsReceived((msg("m1"),)), Cleared("#general"))
    assert state.buffers["#general"].lines == ()
    state = run(state, EventsReceived((msg("m1"),)))
    assert state.buffers["#general"].lines == ()


def test_note_goes_to_the_active_buffer_when_no_key_is_given() -> None:
    state = run(logged_in(), Activated("#general"), Noted("Sensei, hi", 5, error=True))
    line = state.buffers["#general"].lines[0]
    assert (line.kind, line.text) == ("error", "Sensei, hi")


def test_link_status_moves_through_connecting_online_and_offline() -> None:
    state = run(ChatState(), LinkConnecting("127.0.0.1:7777", 1))
    assert (state.link.status, state.address) == (LinkStatus.CONNECTING, "127.0.0.1:7777")
    state = run(state, LinkUp("arona-node", "SHA256:abc"))
    assert (state.link.status, state.node) == (LinkStatus.ONLINE, "arona-node")
    state = run(state, LinkDown("bye", None, 3))
    assert state.link.status is LinkStatus.OFFLINE


def test_a_busy_channel_keeps_every_message_once_in_order() -> None:
    state = logged_in()
    events = [msg(f"m{i}", ts=i) for i in range(10_000)]
    for start in range(0, len(events), 500):
        state = reduce(state, EventsReceived(tuple(events[start : start + 500])))
    lines = state.buffers["#general"].lines
    assert len(lines) == 10_000
    assert lines[0].id == "m0" and lines[-1].id == "m9999"


def test_queued_lines_go_out_in_typing_order_across_buffers() -> None:
    state = run(
        logged_in("#general", "#lounge"),
        MessageQueued("#lounge", "one", 1000),
        MessageQueued("#general", "two", 1000),
        MessageQueued("#lounge", "three", 1000),
    )
    assert [(b.key, line.text) for b, line in queued_outgoing(state)] == [
        ("#lounge", "one"),
        ("#general", "two"),
        ("#lounge", "three"),
    ]


def test_a_query_opened_by_msg_stays_in_the_background() -> None:
    state = run(logged_in(), Activated("#general"), QueryOpened("hoshino", activate=False))
    assert state.active == "#general"
    assert "hoshino" in state.buffers
    assert run(state, QueryOpened("hoshino")).active == "hoshino"


def test_the_sidebar_order_groups_buffers_and_ctrl_n_walks_it() -> None:
    state = run(logged_in("#general"), QueryOpened("hoshino"), ChannelJoined("#lounge", "", (), 1))
    assert [b.key for b in sidebar_order(state)] == [STATUS_KEY, "#general", "#lounge", "hoshino"]
    state = run(state, Activated("#lounge"))
    assert neighbour(state, 1) == "hoshino"
    assert neighbour(state, 2) == STATUS_KEY
    assert neighbour(state, -1) == "#general"
