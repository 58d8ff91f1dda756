"""Fan-out: an encoded event to every session of its recipients, never awaiting a socket.

The hot path (ARCHITECTURE.md): the event is encoded once by the caller; here it is
encrypted once per recipient session (``send_encoded``) and the session is marked dirty.
All dirty sessions are flushed in ONE ``loop.call_soon`` callback, so a burst of messages
costs each recipient one transport write per loop iteration, not one per message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aronanet.server.broker.base import Broker, CloseSessions, Delivery
from aronanet.server.logs import log_event
from aronanet.server.store.base import user_key

logger = logging.getLogger(__name__)


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
        """Encrypt and queue ``payload``; False if the session cannot take it (closing)."""
        ...

    def flush(self) -> None:
        """Write everything queued in one transport write (dropping a lagging peer)."""
        ...

    def close(self, reason: str) -> None:
        """Write what is queued, then close the connection."""
        ...


class Router:
    """Who is online, and how an event reaches them."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._sessions: dict[str, dict[str, Recipient]] = {}
        self._dirty: dict[str, Recipient] = {}
        self._flush_scheduled = False
        #: Events queued to a session on this node, one per session per event (``/metrics``).
        self.deliveries = 0
        broker.subscribe(self._deliver_here)

    # ---------------------------------------------------------------- presence

    def attach(self, user: str, session: Recipient) -> None:
        """``session`` is now logged in as ``user`` and receives its events (§3: all sessions)."""
        self._sessions.setdefault(user_key(user), {})[session.id] = session

    def detach(self, user: str, session: Recipient) -> None:
        key = user_key(user)
        sessions = self._sessions.get(key)
        if sessions is not None:
            sessions.pop(session.id, None)
            if not sessions:
                del self._sessions[key]
        self._dirty.pop(session.id, None)

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
        """The per-recipient loop of every event: locals only, one flush scheduled per event."""
        if delivery.feature is not None or delivery.close is not None:
            self._deliver_selectively(delivery)
            return
        payload = delivery.payload
        skip = delivery.skip_session
        dirty = self._dirty
        sessions_by_user = self._sessions
        delivered = 0
        for key in dict.fromkeys(delivery.recipients):
            sessions = sessions_by_user.get(key)
            if sessions is None:
                continue
            for session_id, session in sessions.items():
                if session_id != skip and session.queue_encoded(payload):
                    dirty[session_id] = session
                    delivered += 1
        self.deliveries += delivered
        if dirty and not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_dirty)

    def _deliver_selectively(self, delivery: Delivery) -> None:
        """ArTP/1.1 deliveries (rare): only to sessions with ``feature``; then ``close``."""
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
        dirty, self._dirty = self._dirty, {}
        for session in dirty.values():
            try:
                session.flush()
            except Exception:  # one broken session must not starve the rest
                log_event(logger, "flush_failed", logging.ERROR, session=session.id)
