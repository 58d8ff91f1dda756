"""The reducer's ArTP/1.1 sync rules: cids, the outbox at start, conversations, read markers,
and the /devices command line."""

from __future__ import annotations

import pytest

from aronanet.client import commands as cmd
from aronanet.client.account_commands import DevicesCommand, PasswordCommand
from aronanet.client.command_spec import CommandError
from aronanet.client.state import (
    Activated,
    ChatState,
    ConversationsListed,
    Delivery,
    EventsReceived,
    HistoryLoaded,
    LinkDown,
    LoggedIn,
    MessageQueued,
    OutboxRestored,
    PendingMessage,
    ReadMarked,
    SendStarted,
    reduce,
    unread_marker_behind,
)
from aronanet.errors import ClientError
from aronanet.proto.messages import ConversationInfo, DeviceInfo, MsgEvent
from aronanet.tui.devices import resolve_device


def msg(id_: str, sender: str = "hoshino", content: str = "ok", **fields: object) -> MsgEvent:
    values: dict[str, object] = {"dest_type": "channel", "dest": "#general", "timestamp": 1000}
    values.update(fields)
    return MsgEvent(id=id_, from_=sender, content=content, **values)  # type: ignore[arg-type]


def run(state: ChatState, *actions: object) -> ChatState:
    for action in actions:
        state = reduce(state, action)  # type: ignore[arg-type]
    return state


def logged_in() -> ChatState:
    return run(ChatState(), LoggedIn("sensei", ("#general",), 900))


def own_lines(state: ChatState, key: str = "#general") -> list[tuple[str, str, Delivery]]:
    return [(x.id, x.text, x.delivery) for x in state.buffers[key].lines if x.sender]


def test_two_identical_lines_stay_two_when_the_node_copy_carries_a_cid() -> None:
    state = run(
        logged_in(),
        MessageQueued("#general", "ok", 1000, cid="cid-1"),
        MessageQueued("#general", "ok", 1001, cid="cid-2"),
        HistoryLoaded("#general", (msg("7", "sensei", cid="cid-2"),), after="0"),
    )
    assert own_lines(state) == [
        ("local:cid-1", "ok", Delivery.QUEUED),
        ("7", "ok", Delivery.SENT),
    ]


def test_a_message_resent_after_a_power_cut_replaces_its_earlier_copy() -> None:
    # §3: seen as 7, lost by the node's power cut, resent by its sender with the same cid
    # and stored as 12: one line, with the id the node now has.
    state = run(
        logged_in(),
        EventsReceived((msg("7", "hoshino", "power?", cid="c-9"), msg("8", "shiroko", "hi"))),
        EventsReceived((msg("12", "Hoshino", "power?", cid="c-9"),)),
    )
    lines = [(x.id, x.sender, x.text) for x in state.buffers["#general"].lines if x.sender]
    assert lines == [("8", "shiroko", "hi"), ("12", "Hoshino", "power?")]
    assert "7" not in state.buffers["#general"].ids
    # The same cid from someone else is another message (§14.4).
    state = run(state, EventsReceived((msg("13", "shiroko", "power?", cid="c-9"),)))
    assert [x.id for x in state.buffers["#general"].lines if x.sender] == ["8", "12", "13"]


def test_a_line_in_flight_when_the_link_drops_is_queued_again_when_it_has_a_cid() -> None:
    state = run(
        logged_in(),
        MessageQueued("#general", "with cid", 1000, cid="c1"),
        MessageQueued("#general", "without", 1000),
        SendStarted("local:c1"),
        SendStarted("local:1"),
        LinkDown("reset", 1.0, 1001),
    )
    deliveries = {text: delivery for _, text, delivery in own_lines(state)}
    assert deliveries == {"with cid": Delivery.QUEUED, "without": Delivery.FAILED}


def test_outbox_entries_found_at_start_show_as_pending_in_their_buffers_once() -> None:
    pending = (
        PendingMessage("user", "plana", "typed offline", 990, "c1"),
        PendingMessage("channel", "#general", "/me waves", 991, "c2"),
    )
    state = run(logged_in(), OutboxRestored(pending), OutboxRestored(pending))
    assert own_lines(state, "plana") == [("local:c1", "typed offline", Delivery.QUEUED)]
    [line] = [x for x in state.buffers["#general"].lines if x.sender]
    assert (line.kind, line.text, line.cid) == ("action", "waves", "c2")


def test_conversations_make_buffers_and_take_the_node_counts_except_for_the_one_shown() -> None:
    listed = (
        ConversationInfo(dest_type="channel", dest="#general", unread=3, mentions=1, read="4"),
        ConversationInfo(dest_type="user", dest="Plana", last_id="9", unread=2, mentions=0),
    )
    state = run(logged_in(), Activated("#general"), ConversationsListed(listed))
    assert state.buffers["plana"].kind == "user"
    assert (state.buffers["plana"].unread, state.buffers["#general"].read) == (0, "4")
    state = reduce(state, ConversationsListed(listed, counts=True))
    assert (state.buffers["plana"].unread, state.buffers["plana"].highlights) == (2, 2)
    assert state.buffers["#general"].unread == 0  # on screen: read


def test_a_read_marker_from_another_device_clears_what_it_covers() -> None:
    state = run(
        logged_in(),
        EventsReceived((msg("1"), msg("2", content="sensei, look"), msg("3", "sensei"))),
    )
    assert state.buffers["#general"].unread == 2
    state = reduce(state, ReadMarked("channel", "#general", "1"))
    buffer = state.buffers["#general"]
    assert (buffer.read, buffer.unread, buffer.highlights) == ("1", 1, 1)
    state = reduce(state, ReadMarked("channel", "#general", "3"))
    assert (state.buffers["#general"].unread, state.buffers["#general"].highlights) == (0, 0)
    assert unread_marker_behind(state.buffers["#general"]) is None


def test_the_marker_to_send_is_the_newest_message_when_the_node_is_behind() -> None:
    state = run(logged_in(), EventsReceived((msg("1"), msg("2"))))
    assert unread_marker_behind(state.buffers["#general"]) == "2"
    state = reduce(state, ReadMarked("channel", "#general", "2"))
    assert unread_marker_behind(state.buffers["#general"]) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/devices", DevicesCommand("list")),
        ("/devices list", DevicesCommand("list")),
        ("/devices rename 2 old laptop", DevicesCommand("rename", "2", "old laptop")),
        ("/devices revoke SHA256:abc", DevicesCommand("revoke", "SHA256:abc")),
        ("/password", PasswordCommand()),
    ],
)
def test_devices_and_password_commands_parse(line: str, expected: object) -> None:
    assert cmd.parse(line) == expected


@pytest.mark.parametrize(
    "line", ["/devices rename 2", "/devices revoke", "/devices revoke 1 2", "/devices burn 1"]
)
def test_devices_misuse_shows_the_usage(line: str) -> None:
    parsed = cmd.parse(line)
    assert isinstance(parsed, CommandError)
    assert "usage: /devices" in parsed.message


def test_a_device_name_over_64_characters_is_refused_before_sending() -> None:
    parsed = cmd.parse("/devices rename 1 " + "x" * 65)
    assert isinstance(parsed, CommandError)
    assert "1-64 characters" in parsed.message


DEVICES = [
    DeviceInfo(id="SHA256:abcd", name="a", first_seen=1, last_seen=2, address="", current=True),
    DeviceInfo(id="SHA256:abxy", name="b", first_seen=1, last_seen=2, address="", current=False),
]


@pytest.mark.parametrize("reference", ["2", "SHA256:abxy", "abx", "SHA256:abx"])
def test_a_device_is_named_by_number_id_or_unique_prefix(reference: str) -> None:
    assert resolve_device(DEVICES, reference).name == "b"


@pytest.mark.parametrize("reference", ["ab", "zz", "3", "0"])
def test_an_ambiguous_or_unknown_device_reference_is_refused(reference: str) -> None:
    with pytest.raises(ClientError) as refused:
        resolve_device(DEVICES, reference)
    assert refused.value.code == "NOT_FOUND"
