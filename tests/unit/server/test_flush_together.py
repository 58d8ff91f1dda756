"""``Session.flush_together``: one run to many sessions at once, as each would have got it
alone: sealed for every TCP session in chunks, the rest flushed on their own, laggards
dropped."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from aronanet.proto.codec import encode
from aronanet.proto.connection import Connection, MessageReceived
from aronanet.proto.messages import Error, MsgEvent, Ok
from aronanet.server.broker.local import LocalBroker
from aronanet.server.metrics import NodeCounters
from aronanet.server.router import Router
from aronanet.server.session import Session
from aronanet.server.store.rows import user_key
from aronanet.server.together import SEAL_CHUNK_BYTES
from aronanet.transport.tcp import TcpStream

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "proto"))
from connection_pair import open_pair


class RecordingTransport:
    """What a TCP session's flush uses of an asyncio transport; keeps what it was given."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def get_write_buffer_size(self) -> int:
        return len(self.data)

    def is_closing(self) -> bool:
        return False

    def abort(self) -> None:
        pass


def _seat(
    router: Router,
    name: str,
    *,
    batch: bool,
    backlog: int = 1 << 30,
    counters: NodeCounters | None = None,
) -> tuple[Session, Connection, RecordingTransport]:
    client, server = open_pair()
    transport = RecordingTransport()
    stream = TcpStream(lambda _: None, backlog)
    stream._transport = transport  # type: ignore[assignment]
    session = Session(
        f"s-{name}",
        stream,
        server,
        router=router,
        dispatch=None,  # type: ignore[arg-type]
        monotonic=time.monotonic,
        rate_bucket=None,
        on_closed=lambda _: None,
        on_error_sent=(counters or NodeCounters()).error_sent,
    )
    if batch:
        session.enable_batch()
    session.authenticate(name)
    return session, client, transport


def _event(number: int, size: int) -> MsgEvent:
    return MsgEvent(
        id=str(number), from_="a", dest_type="channel", dest="#c", content="x" * size, timestamp=1
    )


def _received(client: Connection, transport: RecordingTransport) -> list[object]:
    client.receive_data(transport.data)
    transport.data = b""
    return [
        event.message for event in client.events_received() if isinstance(event, MessageReceived)
    ]


async def test_a_burst_bigger_than_a_chunk_reaches_every_batch_and_1_0_session_in_order() -> None:
    router = Router(LocalBroker(), Session.flush_together)
    seats = [_seat(router, f"b{n}", batch=True) for n in range(12)]
    seats += [_seat(router, f"p{n}", batch=False) for n in range(3)]
    recipients = tuple(user_key(session.user) for session, _, _ in seats)
    events = [_event(number, 2000) for number in range(10)]
    sessions_per_chunk = SEAL_CHUNK_BYTES // (len(events) * (len(encode(events[0])) + 1))
    assert 1 < sessions_per_chunk < 12  # several chunks, each of several sessions
    for event in events:
        router.deliver(recipients, encode(event), None)
    router._flush_dirty()
    for _, client, transport in seats:
        assert _received(client, transport) == events
    router.deliver(recipients, encode(_event(99, 10)), None)  # the streams go on
    router._flush_dirty()
    for _, client, transport in seats:
        assert _received(client, transport) == [_event(99, 10)]


async def test_a_session_over_its_backlog_is_dropped_and_the_others_still_get_the_event() -> None:
    router = Router(LocalBroker(), Session.flush_together)
    keeping_up = _seat(router, "fast", batch=True)
    lagging = _seat(router, "slow", batch=True, backlog=100)
    router.deliver(("fast", "slow"), encode(_event(1, 200)), None)
    router._flush_dirty()
    assert lagging[0].closed and not keeping_up[0].closed
    assert _received(keeping_up[1], keeping_up[2]) == [_event(1, 200)]


async def test_a_burst_over_one_arrays_limit_reaches_each_session_split_in_order() -> None:
    router = Router(LocalBroker(), Session.flush_together)
    seats = [_seat(router, f"b{n}", batch=True) for n in range(3)]
    recipients = tuple(user_key(session.user) for session, _, _ in seats)
    events = [_event(number, 2000) for number in range(40)]  # ~80 KB: two arrays each
    for event in events:
        router.deliver(recipients, encode(event), None)
    router._flush_dirty()
    for _, client, transport in seats:
        assert _received(client, transport) == events


async def test_an_answer_too_large_to_send_becomes_an_error_and_stops_nothing_after_it() -> None:
    router = Router(LocalBroker(), Session.flush_together)
    counters = NodeCounters()
    for batch in (True, False):
        session, client, transport = _seat(router, f"x{batch}", batch=batch, counters=counters)
        session.send(Ok(re="r1"))
        session.send(Ok(re="r2", blocks=["b" * 32] * 3000))  # ~105 KB: over one message
        session.send(_event(3, 70_000))  # an event over the limit: left out
        session.send(Ok(re="r4"))
        router._flush_dirty()
        got = _received(client, transport)
        assert [type(m).__name__ for m in got] == ["Ok", "Error", "Ok"]
        assert isinstance(got[1], Error) and got[1].code == "TOO_LARGE" and got[1].re == "r2"
        assert got[2] == Ok(re="r4") and not session.closed
    assert counters.errors["TOO_LARGE"] == 2  # /metrics counts them


async def test_a_session_dropped_after_its_audience_was_planned_is_left_out_of_the_next_run() -> (
    None
):
    router = Router(LocalBroker(), Session.flush_together)
    seats = [_seat(router, f"b{n}", batch=n % 2 == 0) for n in range(4)]
    recipients = tuple(user_key(session.user) for session, _, _ in seats)
    router.deliver(recipients, encode(_event(1, 10)), None)  # the audience's plan is made
    router._flush_dirty()
    dropped, client, transport = seats[1]
    # A frame that fails to decrypt: the session drops its keys, closes and leaves the
    # router, and with it the plan that had it (sealing for it now would raise).
    dropped.data_received(b"\x00\x20" + bytes(32))
    assert dropped.closed and dropped.conn._send_cipher is None
    transport.is_closing = lambda: True  # type: ignore[method-assign]  # as a real one would
    router.deliver(recipients, encode(_event(2, 10)), None)
    router._flush_dirty()
    assert _received(client, transport) == [_event(1, 10)]
    for session, client, transport in (seats[0], *seats[2:]):
        assert _received(client, transport) == [_event(1, 10), _event(2, 10)]
        assert not session.closed
