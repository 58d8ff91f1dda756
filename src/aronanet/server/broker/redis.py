"""The scale-out ``Broker``: Redis pub/sub, so every node delivers to its own sessions.

Every node of a community publishes on, and subscribes to, ONE Redis channel
(``<prefix>:artp``). A delivery is handed to this node's sessions at once (no round-trip
through Redis for the local ones) and published for the others, which hand it to theirs: a
user's sessions receive every event whichever node they are on (§3 "A user may have several
sessions at once (devices); all receive events"). Channel membership and topic changes
(``channels.ChangeFeed``) go on the same channel through the same publisher, so every node
sees a change before the events that follow it.

Wire form on Redis: one msgpack array per message, tagged ``d`` (delivery) or ``c``
(change), carrying the origin node's id so a node ignores its own. ``skip_session`` is not
sent: session ids are only unique on their node, and the skipped session is always local.

Losing Redis: publishing and subscribing each reconnect on their own with backoff and log
``broker_lost`` / ``broker_reconnected``. Deliveries made meanwhile are not replayed (live
delivery is best-effort; HISTORY is the record), but channel changes may have been missed,
so every ``on_resync`` callback (the channel cache reloads from the store) runs on a node
whose subscription was interrupted, and on EVERY node after some node could not publish
(it sends a ``r`` message once it can again).

Catching up (``caught_up``): a PING on the subscription's own connection is answered after
every message Redis had already queued to it, so once its answer is read, every change
another node published before the PING has been handled here. A node asks before refusing
a request on what it has cached (a moderation refusal), so a change whose requester
already heard ``OK`` through another node is in force here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from aronanet.server.broker.base import Broker, CloseSessions, Delivery, DeliveryHandler
from aronanet.server.logs import log_event
from aronanet.server.store.base import BackendUnavailableError

logger = logging.getLogger(__name__)

#: Messages waiting for Redis before the oldest are dropped (Redis is down or slow).
MAX_PENDING = 100_000
#: Messages sent per pipeline round-trip.
MAX_PIPELINE = 1000
RECONNECT_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0, 5.0)
#: A subscriber that has heard nothing for this long PINGs, and reconnects after 3 of them.
IDLE_PING = 5.0
#: ``published()`` waits at most this long for Redis (a slow Redis must not hold requests).
PUBLISHED_WAIT = 1.0

ResyncHandler = Callable[[], Awaitable[None]]
ChangeHandler = Callable[[bytes], None]


class RemoteClose(msgspec.Struct, frozen=True, array_like=True):
    """``CloseSessions`` on the wire (§14.3 revocation reaches every node)."""

    devices: tuple[str, ...] | None
    spare_device: str | None
    reason: str


class RemoteDelivery(msgspec.Struct, frozen=True, array_like=True, tag="d"):
    """A ``Delivery``; the ArTP/1.1 fields trail with defaults, so nodes of the previous
    version still decode it (and ignore them) during a rolling upgrade."""

    origin: str
    recipients: tuple[str, ...]
    payload: bytes
    feature: str | None = None
    close: RemoteClose | None = None


class RemoteChange(msgspec.Struct, frozen=True, array_like=True, tag="c"):
    origin: str
    change: bytes


class RemoteResync(msgspec.Struct, frozen=True, array_like=True, tag="r"):
    """The origin dropped messages it could not publish: everyone resyncs."""

    origin: str


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(RemoteDelivery | RemoteChange | RemoteResync)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A dedicated connection subscribed to the community's channel."""

    client: Redis
    pubsub: Any  # redis.asyncio.client.PubSub

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()
        with contextlib.suppress(Exception):
            await self.client.aclose()


def describe(url: str) -> str:
    """``host:port`` of a Redis URL, for messages (never the password)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


class RedisBroker(Broker):
    """Deliveries and channel changes between the nodes of one community, over Redis."""

    def __init__(self, url: str, *, prefix: str = "aronanet", node_id: str | None = None) -> None:
        self.url = url
        self.channel = f"{prefix}:artp"
        self.node_id = node_id or secrets.token_hex(8)
        self._handlers: list[DeliveryHandler] = []
        self._change_handlers: list[ChangeHandler] = []
        self._resync_handlers: list[ResyncHandler] = []
        self._pending: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._publish_task: asyncio.Task[None] | None = None
        self._listen_task: asyncio.Task[None] | None = None
        self._publisher: Redis | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self._closing = False
        #: Messages dropped because Redis was unreachable (a count, for logs and tests).
        self.dropped = 0
        #: Times the subscription was re-established after losing Redis.
        self.reconnects = 0
        #: Messages were dropped since the last resync request went out.
        self.owes_resync = False
        #: Messages ever queued, and how many of them Redis took or this node dropped (in
        #: queue order, so every message up to ``_settled`` is done with).
        self._queued = 0
        self._settled = 0
        self._published_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._subscription: Subscription | None = None
        #: ``caught_up`` calls waiting for the answer to their PING, by its token
        self._catching_up: dict[bytes, asyncio.Future[None]] = {}
        self._pings = 0

    # ---------------------------------------------------------------- Broker

    def subscribe(self, handler: DeliveryHandler) -> None:
        self._handlers.append(handler)

    def publish(self, delivery: Delivery) -> None:
        """This node's sessions now; the other nodes' through Redis (never awaits)."""
        for handler in self._handlers:
            handler(delivery)
        close = delivery.close
        remote = RemoteDelivery(
            self.node_id,
            delivery.recipients,
            delivery.payload,
            delivery.feature,
            None if close is None else RemoteClose(close.devices, close.spare_device, close.reason),
        )
        self._enqueue(_encoder.encode(remote))

    async def start(self) -> None:
        """Connect and subscribe; ``BackendUnavailableError`` if Redis cannot be reached."""
        subscription = await self._subscribe()
        self._publisher = self._client("pub")
        self._publish_task = asyncio.create_task(self._publish_loop(), name="aronanet-publish")
        self._listen_task = asyncio.create_task(
            self._listen_loop(subscription), name="aronanet-listen"
        )

    async def close(self) -> None:
        """Send what is already queued (briefly), then disconnect."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        self._settle(0)  # nobody waits for a publisher that is going away
        if self._listen_task is not None:
            self._listen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listen_task
        if self._resync_task is not None:
            self._resync_task.cancel()
        if self._publish_task is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._publish_task, timeout=2.0)
        if self._publisher is not None:
            await self._publisher.aclose()

    # ---------------------------------------------------------------- ChangeFeed

    def publish_change(self, change: bytes) -> None:
        self._enqueue(_encoder.encode(RemoteChange(self.node_id, change)))

    def subscribe_changes(self, on_change: ChangeHandler, on_resync: ResyncHandler) -> None:
        self._change_handlers.append(on_change)
        self._resync_handlers.append(on_resync)

    async def published(self) -> None:
        """Return once Redis took every message queued so far (it then sits in every other
        node's subscription), or this node dropped it, or after ``PUBLISHED_WAIT``."""
        if self._settled >= self._queued or self._closing:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._published_waiters.append((self._queued, waiter))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), PUBLISHED_WAIT)

    async def caught_up(self) -> None:
        """Return once every message Redis queued to this node before now has been handled
        (a PING through the subscription comes back after them), or after ``PUBLISHED_WAIT``,
        or at once with no subscription (Redis is lost: the resync will catch up)."""
        subscription = self._subscription
        if subscription is None or self._closing:
            return
        self._pings += 1
        token = b"caught-up-%d" % self._pings
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._catching_up[token] = answered
        try:
            await subscription.pubsub.ping(token)
            await asyncio.wait_for(asyncio.shield(answered), PUBLISHED_WAIT)
        except (TimeoutError, RedisError, OSError):
            pass  # the listener notices a lost Redis; nobody waits longer than a publish
        finally:
            self._catching_up.pop(token, None)

    def _answered(self, token: object) -> None:
        answered = self._catching_up.get(token) if isinstance(token, bytes) else None
        if answered is not None and not answered.done():
            answered.set_result(None)

    def _settle(self, count: int) -> None:
        """``count`` more queued messages are done with: wake who waited for them."""
        self._settled += count
        waiting = []
        for target, waiter in self._published_waiters:
            if target <= self._settled or self._closing:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                waiting.append((target, waiter))
        self._published_waiters = waiting

    # ---------------------------------------------------------------- publishing

    def _enqueue(self, message: bytes) -> None:
        if self._closing:
            return
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
            self._drop(1)
            self._settle(1)
        self._pending.append(message)
        self._queued += 1
        self._wake.set()

    async def _publish_loop(self) -> None:
        """Send queued messages in order, many per round-trip; reconnect after a failure."""
        assert self._publisher is not None
        failures = 0
        while self._pending or not self._closing:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._pending.popleft() for _ in range(min(len(self._pending), MAX_PIPELINE))]
            owed = self.owes_resync
            try:
                async with self._publisher.pipeline(transaction=False) as pipe:
                    if owed:  # first, so no node applies a later change to a stale cache
                        pipe.publish(self.channel, _encoder.encode(RemoteResync(self.node_id)))
                    for message in batch:
                        pipe.publish(self.channel, message)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                if self._closing:
                    return
                # Redis may have taken some of the batch: resending could duplicate events,
                # so the batch is dropped (HISTORY keeps every message).
                self._drop(len(batch))
                self._settle(len(batch))
                log_event(logger, "broker_lost", logging.WARNING, side="publish", error=exc)
                await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
                failures += 1
            else:
                self._settle(len(batch))
                if owed:
                    self.owes_resync = False
                if failures:
                    log_event(logger, "broker_reconnected", side="publish", dropped=self.dropped)
                failures = 0

    def _drop(self, count: int) -> None:
        """Messages are lost: once publishing works again, every node must resync."""
        self.dropped += count
        self.owes_resync = True

    # ---------------------------------------------------------------- subscribing

    def _client(self, role: str) -> Redis:
        """A client that raises on a lost connection instead of silently reconnecting, so
        that this module knows when it may have missed messages."""
        return Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            client_name=f"aronanet-{role}-{self.node_id}",
            socket_connect_timeout=5.0,
            socket_keepalive=True,
        )

    async def _subscribe(self) -> Subscription:
        client = self._client("sub")
        subscription = Subscription(client, client.pubsub(ignore_subscribe_messages=True))
        try:
            await subscription.pubsub.subscribe(self.channel)
        except (RedisError, OSError) as exc:
            await subscription.close()
            raise BackendUnavailableError(
                f"cannot subscribe on Redis at {describe(self.url)}: {exc}"
            ) from None
        return subscription

    async def _listen_loop(self, subscription: Subscription) -> None:
        """Listen until cancelled, re-subscribing (and resyncing) whenever Redis is lost."""
        while True:
            try:
                await self._listen(subscription)
            except (RedisError, OSError) as exc:
                log_event(logger, "broker_lost", logging.WARNING, side="subscribe", error=exc)
            finally:
                await subscription.close()
            subscription = await self._resubscribe()
            self.reconnects += 1
            log_event(logger, "broker_reconnected", side="subscribe")
            await self._resync()

    async def _listen(self, subscription: Subscription) -> None:
        idle = 0
        self._subscription = subscription
        try:
            while True:
                idle = await self._listen_once(subscription, idle)
        finally:
            self._subscription = None
            for answered in self._catching_up.values():  # the resync catches up instead
                if not answered.done():
                    answered.set_result(None)

    async def _listen_once(self, subscription: Subscription, idle: int) -> int:
        """One message (or a quiet ``IDLE_PING``); the count of quiet ones in a row."""
        message = await subscription.pubsub.get_message(timeout=IDLE_PING)
        if message is None:
            if idle >= 3:
                raise OSError(f"no answer from Redis for {IDLE_PING * (idle + 1):g} s")
            await subscription.pubsub.ping()
            return idle + 1
        kind = message.get("type")
        if kind == "message":
            try:
                self._receive(message["data"])
            except Exception as exc:  # a handler's bug must not stop every delivery
                log_event(logger, "broker_handler_failed", logging.ERROR, error=exc)
        elif kind == "pong":
            self._answered(message.get("data"))
        return 0

    async def _resync(self) -> None:
        """Let every subscriber catch up on what the interruption may have hidden."""
        for resync in self._resync_handlers:
            try:
                await resync()
            except Exception as exc:
                log_event(logger, "broker_resync_failed", logging.ERROR, error=exc)

    async def _resubscribe(self) -> Subscription:
        attempt = 0
        while True:
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1
            with contextlib.suppress(BackendUnavailableError):
                return await self._subscribe()

    def _receive(self, data: bytes) -> None:
        """One message from Redis: another node's delivery or channel change."""
        try:
            message = _decoder.decode(data)
        except msgspec.DecodeError:
            log_event(logger, "broker_garbled", logging.WARNING, size=len(data))
            return
        if message.origin == self.node_id:
            return  # delivered locally when it was published
        if isinstance(message, RemoteResync):
            if self._resync_task is None or self._resync_task.done():
                self._resync_task = asyncio.get_running_loop().create_task(self._resync())
            return
        if isinstance(message, RemoteChange):
            for on_change in self._change_handlers:
                on_change(message.change)
            return
        close = message.close
        delivery = Delivery(
            message.recipients,
            message.payload,
            feature=message.feature,
            close=None
            if close is None
            else CloseSessions(close.devices, close.spare_device, close.reason),
        )
        for handler in self._handlers:
            handler(delivery)
