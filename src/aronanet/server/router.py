"""Fan-out: an encoded event to every session of its recipients, never awaiting a socket.

The hot path (docs/ARCHITECTURE.md): the event is encoded once by the caller; here it is
queued once per recipient session and the session is marked dirty. All dirty sessions are
flushed in ONE ``loop.call_soon`` callback, so a burst of messages costs each recipient one
transport write per loop iteration, not one per message.

Who the sessions of a recipient tuple are is worked out once and kept (``FanOut``) until
any session logs in or out: a channel's members are the same tuple message after message
(``Channel.member_keys``). A burst of events to the same sessions (a group commit of one
channel's messages) is a ``Run``: each event is appended to it once, and the run is handed
to every session in one ``list.extend`` each when anything else is queued to one of them.
At the flush, the sessions of a pending run that have nothing else queued get it together
(``FlushTogether``: one plaintext sealed for all of them in one pass, the common case of a
channel message); every other session encrypts what it queued in one call
(``Connection.send_encoded_many``, or one array per flush with ``batch``). In the common
case every session of the run is idle: they are then the run's ``Audience``, kept with the
``FanOut`` per sender, so neither the router nor the session layer loops over them in
Python to find out again, message after message, what it found out for the one before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aronanet.proto.connection import batch_plaintexts, frame_headers
from aronanet.server.broker.base import Broker, CloseSessions, Delivery
from aronanet.server.logs import log_event
from aronanet.server.store.rows import user_key

logger = logging.getLogger(__name__)

#: Recipient tuples whose sessions are kept resolved; past this the cache starts over.
MAX_FAN_OUTS = 4096
#: Sessions in all kept ``FanOut``s together (a session counts once per tuple it is in):
#: the cache's memory is bounded in entries, not only in tuples.
MAX_FAN_OUT_MEMBERS = 1 << 18
#: Audiences (one per recent sender) kept with one ``FanOut``; past this they start over.
MAX_AUDIENCES = 8


class Recipient(Protocol):
    """What the router needs of a session."""

    @property
    def id(self) -> str: ...

    @property
    def device(self) -> str | None:
        """The session's device id (its client key's fingerprint), once handshaken."""
        ...

    @property
    def features(self) -> frozenset[str]:
        """The ArTP/1.1 features the session enabled (§14.1)."""
        ...

    def queue_encoded(self, payload: bytes) -> bool:
        """Queue ``payload`` for the next flush; False if the session cannot take it."""
        ...

    def fan_out_queue(self) -> list[bytes]:
        """The list of encoded events queued to this (logged-in, open) session this loop
        turn, the same list for the session's life: runs extend it, the flush empties it."""
        ...

    def flush(self) -> None:
        """Write everything queued in one transport write (dropping a lagging peer)."""
        ...

    def close(self, reason: str) -> None:
        """Write what is queued, then close the connection."""
        ...


@dataclass(slots=True)
class Audience:
    """Sessions a run reaches at once, none with anything else queued.

    The common one is a ``FanOut``'s sessions but the sender's, kept with the ``FanOut``:
    what a ``FlushTogether`` works out about them (which are on TCP, which batch) it keeps
    in ``prepared`` and uses for every later message from that sender to them."""

    sessions: tuple[Recipient, ...]
    #: their session ids, to take them out of the dirty set
    ids: tuple[str, ...]
    #: their ``fan_out_queue`` lists: all empty is the fast path (``any`` runs in C)
    queues: tuple[list[bytes], ...] = ()
    #: the ``FlushTogether``'s own plan for these sessions, made at first use
    prepared: object = None

    @classmethod
    def of(cls, sessions: Sequence[Recipient]) -> Audience:
        return cls(tuple(sessions), tuple(session.id for session in sessions))


#: How a run reaches the sessions that had nothing else queued at the flush, all at once
#: (``Session.flush_together``); by default, each queues it and flushes.
FlushTogether = Callable[[Audience, list[bytes]], None]


def flush_one_by_one(sessions: Sequence[Recipient], payloads: list[bytes]) -> None:
    for session in sessions:
        session.fan_out_queue().extend(payloads)
        session.flush()


def flush_each_alone(audience: Audience, payloads: list[bytes]) -> None:
    """The default ``FlushTogether``: each session of ``audience`` queues the run and flushes."""
    flush_one_by_one(audience.sessions, payloads)


class SharedPrep:
    """``prepare`` (joining into ``batch`` arrays, or making the frame headers) with a
    memory of one: the members of a channel queue the same events in a loop turn and are
    flushed one after another, so the work is done once per flush of the channel, not once
    per member (each session still encrypts for itself)."""

    __slots__ = ("_last", "_prepare", "_prepared")

    def __init__(self, prepare: Callable[[list[bytes]], list[bytes]]) -> None:
        self._prepare = prepare
        self._last: list[bytes] = []
        self._prepared: list[bytes] = []

    def __call__(self, plaintexts: list[bytes]) -> list[bytes]:
        # Lists of the same bytes objects compare by identity, element by element, in C.
        if plaintexts != self._last:
            self._last = plaintexts.copy()
            self._prepared = self._prepare(plaintexts)
        return self._prepared

    def forget(self) -> None:
        """Drop the memory (the end of a flush: nothing to hold on to between turns)."""
        self._last, self._prepared = [], []


@dataclass(frozen=True, slots=True)
class FanOut:
    """The sessions of one recipient tuple, resolved for the per-delivery loop."""

    #: (session id, its ``fan_out_queue``, the session) of every session
    members: tuple[tuple[str, list[bytes], Recipient], ...]
    #: the same sessions by id: marked dirty in one ``dict.update``
    sessions: dict[str, Recipient]
    #: by the session a run skips (its sender's, or None): the others, as an ``Audience``
    audiences: dict[str | None, Audience] = field(default_factory=dict)

    def audience(self, skip: str | None) -> Audience:
        """Every session but ``skip``'s, kept for the next message from the same sender."""
        audience = self.audiences.get(skip)
        if audience is None:
            if len(self.audiences) >= MAX_AUDIENCES:
                self.audiences.clear()
            kept = [member for member in self.members if member[0] != skip]
            audience = Audience(
                tuple(session for _, _, session in kept),
                tuple(session_id for session_id, _, _ in kept),
                tuple(queue for _, queue, _ in kept),
            )
            self.audiences[skip] = audience
        return audience


@dataclass(slots=True)
class Run:
    """Consecutive events to the sessions of one ``FanOut`` but ``skip``, not yet handed
    to them: queued once per event instead of once per session and event."""

    fan_out: FanOut
    skip: str | None
    payloads: list[bytes]
    #: sessions reached by each event (those of ``fan_out`` but ``skip``)
    reach: int

    def hand_over(self) -> None:
        """Queue the events to each session, in order, after what it already has."""
        payloads, skip = self.payloads, self.skip
        for session_id, queue, _ in self.fan_out.members:
            if session_id != skip:
                queue.extend(payloads)

    def flush(self, dirty: dict[str, Recipient], together: FlushTogether) -> None:
        """At the flush: the sessions with nothing else queued get the events ``together``
        (and leave ``dirty``); the others get them after what they have, and are flushed
        with the rest of ``dirty``."""
        payloads, skip = self.payloads, self.skip
        audience = self.fan_out.audience(skip)
        if not any(audience.queues):  # the common case: nothing else queued to any of them
            self._undirty(dirty, audience)
            if audience.sessions:
                together(audience, payloads)
            return
        idle: list[Recipient] = []
        for session_id, queue, session in self.fan_out.members:
            if session_id == skip:
                continue
            if queue:
                queue.extend(payloads)
            else:
                idle.append(session)
                dirty.pop(session_id, None)
        if idle:
            together(Audience.of(idle), payloads)

    def _undirty(self, dirty: dict[str, Recipient], audience: Audience) -> None:
        """Take ``audience`` out of ``dirty``: they are flushed ``together``."""
        sessions, skip = self.fan_out.sessions, self.skip
        # A pending run's sessions are all dirty; often nothing else is (or only the
        # sender's session, with its reply), and the key views compare in C.
        if dirty.keys() == sessions.keys():
            sender = dirty.get(skip) if skip is not None else None
            dirty.clear()
            if sender is not None:
                dirty[sender.id] = sender
        else:
            for session_id in audience.ids:
                dirty.pop(session_id, None)


class Router:
    """Who is online, and how an event reaches them."""

    def __init__(self, broker: Broker, flush_together: FlushTogether = flush_each_alone) -> None:
        self._broker = broker
        self._flush_together = flush_together
        self._sessions: dict[str, dict[str, Recipient]] = {}
        self._dirty: dict[str, Recipient] = {}
        self._flush_scheduled = False
        self._fan_outs: dict[tuple[str, ...], FanOut] = {}
        self._fan_out_members = 0
        self._run: Run | None = None
        #: What sessions use at a flush: ``batch`` ones to join their queued events into
        #: arrays, the others (on TCP) for the frame headers of their queued events.
        self.batches = SharedPrep(batch_plaintexts)
        self.frame_headers = SharedPrep(frame_headers)
        #: Events queued to a session on this node, one per session per event (``/metrics``).
        self.deliveries = 0
        broker.subscribe(self._deliver_here)

    # ---------------------------------------------------------------- presence

    def attach(self, user: str, session: Recipient) -> None:
        """``session`` is now logged in as ``user`` and receives its events (§3: all sessions)."""
        self._sessions.setdefault(user_key(user), {})[session.id] = session
        self._forget_fan_outs()

    def detach(self, user: str, session: Recipient) -> None:
        self.hand_over()
        key = user_key(user)
        sessions = self._sessions.get(key)
        if sessions is not None:
            sessions.pop(session.id, None)
            if not sessions:
                del self._sessions[key]
        self._dirty.pop(session.id, None)
        self._forget_fan_outs()

    def _forget_fan_outs(self) -> None:
        """Sessions came or went (or the cache is full): resolve every tuple afresh."""
        self._fan_outs.clear()
        self._fan_out_members = 0

    def is_online(self, user: str) -> bool:
        return user_key(user) in self._sessions

    def session_count(self) -> int:
        return sum(len(sessions) for sessions in self._sessions.values())

    # ---------------------------------------------------------------- delivery

    def deliver(
        self, recipients: tuple[str, ...], payload: bytes, skip_session: str | None
    ) -> None:
        """Send ``payload`` (an encoded event) to every session of ``recipients``."""
        self._broker.publish(Delivery(recipients, payload, skip_session))

    def publish(self, delivery: Delivery) -> None:
        """Hand a prepared ``Delivery`` (ArTP/1.1: gated by a feature, or closing sessions)
        to every node."""
        self._broker.publish(delivery)

    def _deliver_here(self, delivery: Delivery) -> None:
        """Every event: one append to the run of its sessions, or a new run (the sessions
        marked dirty in one update). The encryption waits for the flush."""
        if delivery.feature is not None or delivery.close is not None:
            self._deliver_selectively(delivery)
            return
        fan_out = self._fan_outs.get(delivery.recipients)
        if fan_out is None:
            fan_out = self._resolve(delivery.recipients)
        skip = delivery.skip_session
        run = self._run
        if run is None or run.fan_out is not fan_out or run.skip != skip:
            if run is not None:
                run.hand_over()
            reach = len(fan_out.members) - (skip in fan_out.sessions)
            run = self._run = Run(fan_out, skip, [], reach)
            dirty = self._dirty
            dirty.update(fan_out.sessions)
            if dirty and not self._flush_scheduled:
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush_dirty)
        run.payloads.append(delivery.payload)
        self.deliveries += run.reach

    def hand_over(self) -> None:
        """Queue the pending run to its sessions now (before anything else is queued)."""
        run, self._run = self._run, None
        if run is not None:
            run.hand_over()

    def hand_over_before(self, session_id: str) -> None:
        """``session_id`` is about to queue something of its own: its share of the pending
        run goes first (a session the run skips need not wait for it)."""
        run = self._run
        if run is not None and session_id in run.fan_out.sessions and session_id != run.skip:
            self.hand_over()

    def _resolve(self, recipients: tuple[str, ...]) -> FanOut:
        """The sessions of ``recipients`` (each user once), kept until a session comes or
        goes. A closing session detaches at once, so none in a ``FanOut`` is closed."""
        members: list[tuple[str, list[bytes], Recipient]] = []
        sessions: dict[str, Recipient] = {}
        for key in dict.fromkeys(recipients):
            for session_id, session in self._sessions.get(key, {}).items():
                members.append((session_id, session.fan_out_queue(), session))
                sessions[session_id] = session
        if (
            len(self._fan_outs) >= MAX_FAN_OUTS
            or self._fan_out_members + len(members) > MAX_FAN_OUT_MEMBERS
        ):
            self._forget_fan_outs()
        self._fan_out_members += len(members)
        fan_out = FanOut(tuple(members), sessions)
        self._fan_outs[recipients] = fan_out
        return fan_out

    def _deliver_selectively(self, delivery: Delivery) -> None:
        """ArTP/1.1 deliveries (rare): only to sessions with ``feature``; then ``close``."""
        self.hand_over()
        feature, close, payload = delivery.feature, delivery.close, delivery.payload
        for key in dict.fromkeys(delivery.recipients):
            for session_id, session in list(self._sessions.get(key, {}).items()):
                if session_id == delivery.skip_session:
                    continue
                wanted = feature is None or feature in session.features
                if payload and wanted and session.queue_encoded(payload):
                    self.deliveries += 1
                    self.mark_dirty(session)
                if close is not None and close.matches(session.device):
                    self._close(session, close)

    def _close(self, session: Recipient, close: CloseSessions) -> None:
        log_event(logger, "session_revoked", session=session.id)
        session.close(close.reason)

    def mark_dirty(self, session: Recipient) -> None:
        """Flush ``session`` at the end of this loop iteration, with every other dirty one."""
        self._dirty[session.id] = session
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_dirty)

    def _flush_dirty(self) -> None:
        self._flush_scheduled = False
        run, self._run = self._run, None
        dirty, self._dirty = self._dirty, {}
        if run is not None:
            try:
                run.flush(dirty, self._flush_together)
            except Exception:  # the rest of dirty must still be written
                log_event(logger, "flush_failed", logging.ERROR, sessions=len(run.fan_out.members))
        for session in dirty.values():
            try:
                session.flush()
            except Exception:  # one broken session must not starve the rest
                log_event(logger, "flush_failed", logging.ERROR, session=session.id)
        self.batches.forget()
        self.frame_headers.forget()
