"""One connection from handshake to close: its proto ``Connection``, input, replies, timers.

* Input: the transport feeds bytes; the ``Connection`` turns them into events. Requests and
  rejections queue in an inbox worked through by one task at a time, so a session's requests
  are handled in order; a long inbox pauses reading (the peer is faster than the node).
* Replies: §3 "Replies to one session come in the order of its requests". A handler may
  answer at once or later (``MSG`` answers after its group commit), and later answers are
  held back until every earlier one is out, while the next requests are already handled.
* Output: events and replies are queued as encoded plaintexts, in order, and the session is
  marked dirty; the router flushes it once per loop iteration: everything queued is encrypted
  in one call (one JSON array with ``batch``) and written at once. A peer that lags too far
  is dropped.
* Timers: the §2 handshake timeout; keep-alive is checked by the node's sweeper.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import msgspec

from aronanet.config import MAX_PLAINTEXT
from aronanet.errors import ErrorCode, FrameError
from aronanet.proto import codec
from aronanet.proto.codec import Rejection
from aronanet.proto.connection import Connection as ProtoConnection
from aronanet.proto.connection import (
    ConnectionEvent,
    ConnectionFailed,
    HandshakeComplete,
    MessageReceived,
    MessageRejected,
    State,
)
from aronanet.proto.features import BATCH
from aronanet.proto.messages import Error, PingEvent, Request
from aronanet.server.logs import log_event
from aronanet.server.ratelimit import Clock, TokenBucket
from aronanet.server.router import Audience, Recipient, Router
from aronanet.server.together import BACKLOG_EXCEEDED, Seat, TogetherPlan
from aronanet.transport.base import Stream
from aronanet.transport.tcp import TcpStream

logger = logging.getLogger(__name__)

Inbound = Request | Rejection
Dispatch = Callable[["Session", Inbound], Awaitable[None]]

#: Requests waiting in the inbox before the node stops reading from the peer, and resumes.
INBOX_HIGH = 256
INBOX_LOW = 64
#: Replies awaiting their commit before the session waits for the oldest one.
MAX_REPLIES_IN_FLIGHT = 256
#: Why a session is dropped when the node's whole outgoing budget is spent and its peer
#: holds the most (past its own limit, it is ``BACKLOG_EXCEEDED``; both are counted).
NODE_BACKLOG_EXCEEDED = "the node's outgoing budget is spent and this peer holds the most"


class Session:
    """The node's side of one connection; the transport's ``StreamSink``."""

    def __init__(
        self,
        session_id: str,
        stream: Stream,
        conn: ProtoConnection,
        *,
        router: Router,
        dispatch: Dispatch,
        monotonic: Clock,
        rate_bucket: TokenBucket | None,
        on_closed: Callable[[Session], None],
        on_error_sent: Callable[[str], None] = lambda _code: None,
    ) -> None:
        self._id = session_id
        self.stream = stream
        self.conn = conn
        self.user: str | None = None
        #: The client's static key's fingerprint: its device id (§14.3), once handshaken.
        self.device: str | None = None
        #: §14.1: the features this session enabled, and the client name it gave.
        self.features: frozenset[str] = frozenset()
        self.client_name: str | None = None
        self.rate_bucket = rate_bucket
        self.closed = False
        #: Why the session ended, once it has (``_finish``).
        self.close_reason: str | None = None
        self.last_heard = monotonic()
        self.ping_outstanding: str | None = None
        self._router = router
        self._dispatch = dispatch
        self._monotonic = monotonic
        self._on_closed = on_closed
        #: Counts an ``ERROR`` the session makes itself (``/metrics``; the handlers count theirs).
        self._on_error_sent = on_error_sent
        self._inbox: deque[Inbound] = deque()
        self._reading_paused = False
        self._worker: asyncio.Task[None] | None = None
        self._replies: deque[asyncio.Future[msgspec.Struct | None]] = deque()
        self._handshake_timer: asyncio.TimerHandle | None = None
        #: Encoded events and replies queued this loop turn, encrypted at the flush.
        self._queued: list[bytes] = []
        #: ArTP/1.1 batch (§14.2): a flush sends the queued messages as one JSON array.
        self._batching = False
        self._closers: set[asyncio.Task[None]] = set()

    @property
    def id(self) -> str:
        return self._id

    @property
    def peer(self) -> str:
        return self.stream.peer_host

    def authenticate(self, user: str) -> None:
        """Logged in as ``user``: from now on every event for ``user`` reaches this session."""
        self.user = user
        self._router.attach(user, self)

    def enable_batch(self) -> None:
        """The client asked for ``batch``: from now on a flush sends one array per write."""
        self._batching = True

    def fan_out_queue(self) -> list[bytes]:
        """The router's fast path for encoded events: this loop turn's list (the session's
        for its life: ``flush`` empties it in place and encrypts it)."""
        return self._queued

    @property
    def batching(self) -> bool:
        return self._batching

    def start_handshake_timer(self, timeout: float) -> None:
        """§2: "A handshake that fails (... timeout of 10 s) ends with the connection closed"."""
        loop = asyncio.get_running_loop()
        self._handshake_timer = loop.call_later(timeout, self._handshake_expired, timeout)

    def _handshake_expired(self, timeout: float) -> None:
        if self.conn.state is not State.OPEN:
            self.abort(f"handshake not finished within {timeout:g} s")

    # ------------------------------------------------------------ input (StreamSink)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.last_heard = self._monotonic()
        self.ping_outstanding = None
        if self.stream.framed:
            self.conn.receive_data(data)
        else:
            self.conn.receive_message(data)
        for event in self.conn.events_received():
            self._on_event(event)
        if not self.closed:
            self._router.mark_dirty(self)  # handshake messages are queued without a reply

    def connection_lost(self) -> None:
        self._finish("connection closed")

    def _on_event(self, event: ConnectionEvent) -> None:
        if isinstance(event, MessageReceived):
            self._enqueue(event.message)  # type: ignore[arg-type]  # a Request on the server
        elif isinstance(event, MessageRejected):
            self._enqueue(event.rejection)
        elif isinstance(event, HandshakeComplete):
            self.device = event.fingerprint
            self.features, self.client_name = event.features, event.client
            if BATCH in self.features:
                self.enable_batch()
            if self._handshake_timer is not None:
                self._handshake_timer.cancel()
            log_event(logger, "session_open", logging.DEBUG, session=self.id, peer=self.peer)
        elif isinstance(event, ConnectionFailed):
            # §2: nothing is sent in clear text; the Connection already dropped its output.
            self.abort(f"protocol violation: {event.reason}")

    def _enqueue(self, item: Inbound) -> None:
        self._inbox.append(item)
        if not self._reading_paused and len(self._inbox) >= INBOX_HIGH:
            self._reading_paused = True
            self.stream.pause_reading()
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        try:
            while self._inbox and not self.closed:
                if len(self._replies) >= MAX_REPLIES_IN_FLIGHT:
                    await asyncio.wait([self._replies[0]])
                item = self._inbox.popleft()
                if self._reading_paused and len(self._inbox) <= INBOX_LOW:
                    self._reading_paused = False
                    self.stream.resume_reading()
                await self._dispatch(self, item)
        finally:
            self._worker = None

    # ------------------------------------------------------------ replies, in order

    def reply(self, message: msgspec.Struct) -> None:
        """Answer the request being handled, after every earlier request's answer."""
        if not self._replies:
            self.send(message)
            return
        ready: asyncio.Future[msgspec.Struct | None] = asyncio.get_running_loop().create_future()
        ready.set_result(message)
        self._replies.append(ready)

    def reply_later(self, answer: asyncio.Future[msgspec.Struct | None]) -> None:
        """Hold this request's place in the reply order until ``answer`` resolves.

        ``answer`` must never raise (the dispatcher turns errors into ``ERROR`` replies);
        ``None`` means the request has no reply.
        """
        self._replies.append(answer)
        answer.add_done_callback(self._release_replies)

    def replies_flushed(self) -> Awaitable[object]:
        """Something to await until every reply queued so far (at this call) has been sent.

        For streams that go on beside later requests (``IMG_GET``): their first replies take
        their place in order, the rest follow with ``send`` once this is done. Each reply
        waited on is released by ``_release_replies``, a done callback registered before
        the wait's own, so it has been sent by the time the waiter wakes up.
        """
        pending = list(self._replies)
        return asyncio.wait(pending) if pending else asyncio.sleep(0)

    def _release_replies(self, _: object = None) -> None:
        while self._replies and self._replies[0].done():
            answer = self._replies.popleft()
            message = None if answer.cancelled() else answer.result()
            if message is not None:
                self.send(message)

    # ------------------------------------------------------------ output

    def send(self, message: msgspec.Struct) -> None:
        """Encrypt and queue ``message`` now, out of reply order (events, keep-alive)."""
        if not self.closed and self.conn.state is State.OPEN:
            encoded = codec.encode(message)
            payload = (
                encoded if len(encoded) <= MAX_PLAINTEXT else self._too_large(message, encoded)
            )
            if payload is None:
                return
            self._router.hand_over_before(self.id)  # same order as the events around it
            self._queued.append(payload)
            self._router.mark_dirty(self)

    def _too_large(self, message: msgspec.Struct, encoded: bytes) -> bytes | None:
        """A message over the §3 limit cannot be sent, and must not stop what is queued
        after it: a reply becomes an ``ERROR`` (§6: every request gets its answer), anything
        else is left out. Every handler fits its reply (``ok_fitting``); this is the net."""
        log_event(
            logger,
            "reply_too_large",
            logging.WARNING,
            session=self.id,
            type=type(message).__name__,
            bytes=len(encoded),
        )
        request_id = getattr(message, "re", None)
        if not isinstance(request_id, str):
            return None
        refusal = Error(
            code=ErrorCode.TOO_LARGE,
            message=f"the answer ({len(encoded)} bytes) does not fit one message; ask for less",
            re=request_id,
        )
        self._on_error_sent(refusal.code)
        return codec.encode(refusal)

    def queue_encoded(self, payload: bytes) -> bool:
        """Fan-out: queue an already-encoded event for this session (router marks dirty)."""
        if self.closed or self.conn.state is not State.OPEN:
            return False
        self._router.hand_over_before(self.id)
        self._queued.append(payload)
        return True

    def flush(self) -> None:
        """Encrypt what is queued, then one transport write of it all; drop the peer if it
        lags too far."""
        if self.closed:
            return
        self._router.hand_over_before(self.id)  # closing: the router's flush has done it
        queued = self._queued
        if queued:
            try:
                if self._batching:
                    self.conn.send_plaintexts(self._router.batches(queued))
                else:
                    self._encrypt_each(queued)
            finally:
                queued.clear()  # in place: the router holds this list's append
        if not self.stream.send_pending(self.conn):
            self.abort(BACKLOG_EXCEEDED)

    @staticmethod
    def flush_together(audience: Audience, payloads: list[bytes]) -> None:
        """The router's ``FlushTogether``: ``payloads`` (one run) to sessions that had
        nothing else queued, by the audience's ``TogetherPlan`` (made at its first run):
        for TCP sessions one plaintext sealed for all in one pass and written in another,
        with no Python call per session; the others (WebSocket, a 1.0 client given several
        events) flush alone."""
        plan = audience.prepared
        if not isinstance(plan, TogetherPlan):
            plan = audience.prepared = Session._plan(audience.sessions)
        plan.send(payloads)

    @staticmethod
    def _plan(sessions: tuple[Recipient, ...]) -> TogetherPlan:
        batching: list[Seat] = []
        unbatched: list[Seat] = []
        alone: list[Recipient] = []
        for session in sessions:
            if (
                isinstance(session, Session)
                and isinstance(session.stream, TcpStream)
                and not session.closed
                and session.conn.state is State.OPEN
            ):
                seat = (session, session.conn, session.stream)
                (batching if session._batching else unbatched).append(seat)
            else:
                alone.append(session)
        return TogetherPlan.of(batching, unbatched, alone)

    def _encrypt_each(self, queued: list[bytes]) -> None:
        """ArTP/1.0: one frame per queued message, encrypted in one call."""
        conn = self.conn
        try:
            conn.send_encoded_many(
                queued, self._router.frame_headers(queued) if conn.framed else None
            )
        except FrameError:
            for plaintext in queued:  # one is over the size limit: send the others
                try:
                    conn.send_encoded(plaintext)
                except FrameError:
                    log_event(logger, "delivery_refused", logging.WARNING, session=self.id)

    # ------------------------------------------------------------ keep-alive and closing

    def keep_alive(
        self, now: float, ping_after: float, close_after: float, ping_id: Callable[[], str]
    ) -> None:
        """PING a session idle for ``ping_after`` s; close one silent for ``close_after`` s."""
        silent = now - self.last_heard
        if silent >= close_after:
            self.close(f"silent for {silent:.0f} s")
        elif (
            silent >= ping_after and self.ping_outstanding is None and self.conn.state is State.OPEN
        ):
            self.ping_outstanding = ping_id()
            self.send(PingEvent(id=self.ping_outstanding))

    def pong_received(self) -> None:
        self.ping_outstanding = None

    def close_after_replies(self, reason: str) -> None:
        """Close once the reply being prepared and every earlier one is sent (§14.3: a
        session revoking its own device gets its ``OK`` first)."""

        async def close_when_replied() -> None:
            await asyncio.sleep(0)  # the dispatcher queues this request's reply first
            await self.replies_flushed()
            self.close(reason)

        task = asyncio.get_running_loop().create_task(close_when_replied())
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    def close(self, reason: str) -> None:
        """Write what is queued, then close (a clean end: shutdown, keep-alive)."""
        if not self.closed:
            self.flush()
            self.stream.close()
        self._finish(reason)

    def abort(self, reason: str) -> None:
        """Close now, discarding output (a violation, a lagging peer, a timeout)."""
        if not self.closed:
            self.stream.abort()
        self._finish(reason)

    def _finish(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
        if self.user is not None:
            self._router.detach(self.user, self)
        log_event(
            logger, "session_closed", logging.DEBUG, session=self.id, peer=self.peer, reason=reason
        )
        self._on_closed(self)

    async def drain(self) -> None:
        """Wait until every queued request is handled and every reply resolved (shutdown)."""
        while self._worker is not None or any(not r.done() for r in self._replies):
            pending = [r for r in self._replies if not r.done()]
            if self._worker is not None:
                pending.append(self._worker)  # type: ignore[arg-type]
            await asyncio.wait(pending)
