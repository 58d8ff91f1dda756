"""The router's runs: a burst of events to the same sessions is queued once per event and
handed to each session in one piece, yet every session still sees everything queued to it
in the order it was delivered or sent (§3), and exactly once."""

from __future__ import annotations

import asyncio

from aronanet.server import router as router_module
from aronanet.server.broker.base import Delivery
from aronanet.server.broker.local import LocalBroker
from aronanet.server.router import Audience, Router, flush_one_by_one


class FakeSession:
    """A ``Recipient`` that records what it is given, in order, like ``Session`` does:
    its own output asks the router to hand over the pending run first."""

    def __init__(self, router: Router, session_id: str, user: str) -> None:
        self._router = router
        self.id = session_id
        self.device: str | None = None
        self.features: frozenset[str] = frozenset({"x"})
        self.queued: list[bytes] = []
        self.flushed: list[bytes] = []
        router.attach(user, self)

    def send(self, payload: bytes) -> None:
        self._router.hand_over_before(self.id)
        self.queued.append(payload)
        self._router.mark_dirty(self)

    def queue_encoded(self, payload: bytes) -> bool:
        self._router.hand_over_before(self.id)
        self.queued.append(payload)
        return True

    def fan_out_queue(self) -> list[bytes]:
        return self.queued

    def flush(self) -> None:
        self._router.hand_over_before(self.id)
        self.flushed += self.queued
        self.queued.clear()

    def close(self, reason: str) -> None:
        self.flush()


CHANNEL = ("ann", "bob", "cid")


async def test_interleaved_runs_replies_and_direct_events_keep_each_sessions_order() -> None:
    router = Router(LocalBroker())
    ann, bob, cid = (FakeSession(router, f"s-{name}", name) for name in ("ann", "bob", "cid"))
    router.deliver(CHANNEL, b"m1", ann.id)  # a run skipping ann
    router.deliver(CHANNEL, b"m2", ann.id)  # the same run
    ann.send(b"ok2")  # skipped by the run: no hand-over needed, order is still right
    bob.send(b"own")  # bob is in the run: m1, m2 first
    router.deliver(CHANNEL, b"m3", ann.id)  # a new run
    router.deliver(("cid",), b"dm", None)  # another fan-out: the run goes first
    router.deliver(CHANNEL, b"m4", bob.id)  # another skip: a new run
    router.publish(Delivery(("ann",), b"feat", None, feature="x"))  # selective: hands over
    router.deliver(CHANNEL, b"m5", None)  # left pending until the flush
    await asyncio.sleep(0)  # the flush callback runs
    assert ann.flushed == [b"ok2", b"m4", b"feat", b"m5"]
    assert bob.flushed == [b"m1", b"m2", b"own", b"m3", b"m5"]
    assert cid.flushed == [b"m1", b"m2", b"m3", b"dm", b"m4", b"m5"]
    assert router.deliveries == 2 + 2 + 2 + 1 + 2 + 1 + 3  # every session reached, once


async def test_a_closing_session_gets_its_share_of_the_run_before_it_closes() -> None:
    router = Router(LocalBroker())
    ann, bob = FakeSession(router, "s-ann", "ann"), FakeSession(router, "s-bob", "bob")
    router.deliver(("ann", "bob"), b"m1", None)
    bob.close("leaving")  # writes what is queued, then the node detaches it
    router.detach("bob", bob)
    router.deliver(("ann", "bob"), b"m2", None)
    await asyncio.sleep(0)
    assert bob.flushed == [b"m1"]
    assert ann.flushed == [b"m1", b"m2"]


async def test_a_run_goes_together_to_the_sessions_with_nothing_else_queued() -> None:
    together: list[tuple[list[str], list[bytes]]] = []

    def record(audience: Audience, payloads: list[bytes]) -> None:
        together.append(([session.id for session in audience.sessions], list(payloads)))
        flush_one_by_one(audience.sessions, payloads)

    router = Router(LocalBroker(), record)
    ann, bob, cid = (FakeSession(router, f"s-{name}", name) for name in ("ann", "bob", "cid"))
    bob.send(b"own")  # queued before the run: bob gets the run after it, on his own
    router.deliver(CHANNEL, b"m1", ann.id)
    router.deliver(CHANNEL, b"m2", ann.id)
    ann.send(b"ok")
    await asyncio.sleep(0)
    assert together == [(["s-cid"], [b"m1", b"m2"])]
    assert cid.flushed == [b"m1", b"m2"]
    assert bob.flushed == [b"own", b"m1", b"m2"]
    assert ann.flushed == [b"ok"]


async def test_an_audience_is_kept_per_sender_until_a_session_comes_or_goes() -> None:
    seen: list[Audience] = []

    def record(audience: Audience, payloads: list[bytes]) -> None:
        seen.append(audience)
        flush_one_by_one(audience.sessions, payloads)

    router = Router(LocalBroker(), record)
    ann, bob, cid = (FakeSession(router, f"s-{name}", name) for name in ("ann", "bob", "cid"))
    for payload, sender in ((b"m1", ann), (b"m2", ann), (b"m3", bob)):
        router.deliver(CHANNEL, payload, sender.id)
        sender.send(b"ok-" + payload)  # the sender's reply: it stays dirty, and is flushed
        await asyncio.sleep(0)
    assert seen[0] is seen[1] and seen[2] is not seen[0]  # kept for ann; bob's is his own
    assert [session.id for session in seen[2].sessions] == ["s-ann", "s-cid"]
    dan = FakeSession(router, "s-dan", "dan")  # a login: every audience is worked out anew
    router.deliver((*CHANNEL, "dan"), b"m4", ann.id)
    await asyncio.sleep(0)
    assert seen[3] is not seen[0] and [s.id for s in seen[3].sessions][-1] == "s-dan"
    assert ann.flushed == [b"ok-m1", b"ok-m2", b"m3"]  # m4 skips its sender
    assert bob.flushed == [b"m1", b"m2", b"ok-m3", b"m4"]
    assert cid.flushed == [b"m1", b"m2", b"m3", b"m4"] and dan.flushed == [b"m4"]


async def test_another_session_dirty_in_the_same_turn_is_still_flushed() -> None:
    router = Router(LocalBroker())
    ann, bob, eve = (FakeSession(router, f"s-{name}", name) for name in ("ann", "bob", "eve"))
    router.deliver(("ann", "bob"), b"m1", None)
    eve.send(b"own")  # not in the run: dirty beside it
    await asyncio.sleep(0)
    assert ann.flushed == bob.flushed == [b"m1"] and eve.flushed == [b"own"]


async def test_the_kept_fan_outs_are_bounded_in_sessions_not_only_in_tuples() -> None:
    router = Router(LocalBroker())
    for number in range(6):
        FakeSession(router, f"s-{number}", f"u{number}")
    everyone = tuple(f"u{number}" for number in range(6))
    router_module.MAX_FAN_OUT_MEMBERS = 10  # restored below
    try:
        router.deliver(everyone, b"a", None)  # 6 sessions kept
        router.deliver(everyone[:3], b"b", None)  # 9
        assert len(router._fan_outs) == 2
        router.deliver(everyone[3:], b"c", None)  # 12 > 10: the cache starts over
        assert list(router._fan_outs) == [everyone[3:]] and router._fan_out_members == 3
    finally:
        router_module.MAX_FAN_OUT_MEMBERS = 1 << 18
    await asyncio.sleep(0)
