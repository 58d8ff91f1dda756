"""The node: builds every part from ``NodeSettings``, listens, and shuts down without loss.

Composition only: the store, broker, accounts, channels and router become ``Services``
(SQLite and the in-process broker by default; PostgreSQL and Redis when the settings name
them, imported only then, so the default node needs neither library nor service);
the handler table becomes a ``Dispatcher``; each accepted connection becomes a ``Session``.
Shutdown order is what makes it lose nothing (§5 "stops cleanly"): stop accepting, stop
reading, let every session finish what it already received, drain the store's writer (every
acknowledged message is then on disk), flush the replies, and only then close the sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aronanet import identity
from aronanet.proto.connection import Connection, Role
from aronanet.proto.features import BATCH, LIFECYCLE, MODERATION, SYNC
from aronanet.server.accounts import Accounts
from aronanet.server.addresses import address_group
from aronanet.server.assembly import (
    build_broker,
    build_handler_table,
    build_hello,
    build_shared_buckets,
    build_store,
)
from aronanet.server.broker.base import Broker
from aronanet.server.channels import ChangeFeed, Channels
from aronanet.server.handlers import Dispatcher
from aronanet.server.logs import ThrottledLog, log_event
from aronanet.server.moderation_state import ModerationState
from aronanet.server.node_admin import follow_control_feed
from aronanet.server.ratelimit import BucketMap, Clock, TokenBucket
from aronanet.server.router import Router
from aronanet.server.services import EventIds, Services
from aronanet.server.session import NODE_BACKLOG_EXCEEDED, Session
from aronanet.server.settings import NodeSettings
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.together import BACKLOG_EXCEEDED
from aronanet.transport.base import Stream
from aronanet.transport.budget import Backlogged, OutgoingBudget
from aronanet.transport.tcp import serve_tcp
from aronanet.transport.ws import WebSocketEndpoint, tls_context

if TYPE_CHECKING:
    from aronanet.discovery.publisher import Listening, Publisher
    from aronanet.server.admin import AdminServer
    from aronanet.server.ratelimit_redis import RedisBuckets

logger = logging.getLogger(__name__)

#: §14.1: the ArTP/1.1 features this node supports (a session gets those it asks for).
SUPPORTED_FEATURES = frozenset({BATCH, SYNC, LIFECYCLE, MODERATION})
LoopExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]
#: ``accept`` failures that mean the process is out of descriptors or memory.
_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: How long shutdown waits for sessions to finish requests they already sent.
DRAIN_TIMEOUT = 10.0


class Node:
    """One running ArTP node; ``start()``, then ``stop()`` (or ``run_until_stopped()``)."""

    def __init__(
        self,
        settings: NodeSettings,
        *,
        store: ModerationStore | None = None,
        broker: Broker | None = None,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Clock = time.monotonic,
    ) -> None:
        self.settings = settings
        self.store = store or build_store(settings)
        self.broker = broker or build_broker(settings)
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._sessions: dict[str, Session] = {}
        self._per_address: dict[str, int] = {}
        self._session_ids = itertools.count(1)
        self._servers: list[asyncio.AbstractServer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._stopped = asyncio.Event()
        #: The loop's exception handler before ``start`` (restored by ``stop``), if replaced.
        self._previous_exception_handler: list[LoopExceptionHandler | None] = []
        self.tcp_port: int | None = None
        self.ws_port: int | None = None
        #: Scale-out: the budgets kept in Redis (``build_shared_buckets``), else None.
        self._shared_buckets: RedisBuckets | None = None
        #: The admin listener (``/metrics``, ``/healthz``), when ``admin.listen`` is set.
        self.admin: AdminServer | None = None
        #: The node-wide budget of unsent output, once listening.
        self.outgoing_budget: OutgoingBudget | None = None

    # ------------------------------------------------------------------ start

    async def start(self) -> None:
        """Load the key and the state, then listen; returns once the ports accept."""
        settings = self.settings
        self._quiet_resource_errors()
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._key = await asyncio.to_thread(identity.load_or_create_key, settings.key_path)
        self.fingerprint = identity.fingerprint(identity.public_key_bytes(self._key))
        await self.store.open()
        self.services = self._build_services()  # subscribes to the broker before it starts
        await self.broker.start()
        await self.services.channels.load()
        await self.services.moderation.load()
        #: The request table in use; extensions and tests may register more handlers.
        self.handlers = build_handler_table()
        self._dispatcher = Dispatcher(self.handlers, self.services)
        self.hello = build_hello(settings)
        publisher = self._build_publisher()  # before listening: a bad token stops the start
        await self._listen()
        await self._start_admin()
        self._tasks.append(asyncio.create_task(self._keep_alive_loop()))
        # §14.20: what ``aronanet admin`` does to a running node (disable closes sessions).
        self._tasks.append(
            asyncio.create_task(follow_control_feed(self.store, self.services.router))
        )
        if settings.limits.empty_channel_ttl > 0:
            self._tasks.append(asyncio.create_task(self._expire_channels_loop()))
        if publisher is not None:  # in the background: publishing never delays readiness
            self._tasks.append(asyncio.create_task(publisher.run(self._listening())))
        log_event(
            logger, "node_started", tcp=self.tcp_port, ws=self.ws_port, fingerprint=self.fingerprint
        )

    async def _start_admin(self) -> None:
        """The admin listener (docs/OPERATIONS.md), imported only when it is asked for."""
        admin = self.settings.admin
        if admin.listen is None:
            return
        from aronanet.server.admin import AdminServer, store_answers
        from aronanet.server.metrics import exposition

        self.admin = AdminServer(
            admin,
            metrics=lambda: exposition(self),
            healthy=lambda: store_answers(self.store.ping, admin.health_timeout),
        )
        await self.admin.start()

    def _quiet_resource_errors(self) -> None:
        """Out of file descriptors (or memory), asyncio's accept loop reports every failed
        ``accept`` with a traceback, up to a thousand a second: 9 MB of log in 4 s, measured.
        Those become one line a minute; every other loop error goes where it went before."""
        loop = asyncio.get_running_loop()
        previous = loop.get_exception_handler()
        report = ThrottledLog(logger, "out_of_resources")

        def handle(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
            exc = context.get("exception")
            if isinstance(exc, OSError) and exc.errno in _RESOURCE_ERRNOS:
                report(error=errno.errorcode.get(exc.errno or 0, "?"))
            elif previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(handle)
        self._previous_exception_handler[:] = [previous]

    def _build_publisher(self) -> Publisher | None:
        """Discovery (docs/DISCOVERY.md): the record publisher and ngrok tunnel, if asked for."""
        publish = self.settings.publish
        if not publish.active:
            return None
        from aronanet.discovery.publisher import Publisher

        return Publisher.for_node(
            name=self.settings.node_name,
            fingerprint=self.fingerprint,
            settings=publish,
            data_dir=self.settings.data_dir,
        )

    def _listening(self) -> Listening:
        from aronanet.discovery.publisher import Listening

        assert self.tcp_port is not None
        return Listening(self.settings.host, self.tcp_port, self.ws_port)

    def _build_services(self) -> Services:
        settings = self.settings
        self._shared_buckets = build_shared_buckets(settings, self._monotonic)
        accounts = Accounts(
            self.store,
            hashing=settings.hashing,
            throttle=settings.login_throttle,
            registration_open=settings.registration_open,
            wall_clock=self._wall_clock,
            monotonic=self._monotonic,
            # §14.3: a recorded device of the account is trusted past the login throttle.
            device_trust=self.store.is_device,
            buckets=self._shared_buckets,
        )
        feed = self.broker if isinstance(self.broker, ChangeFeed) else None
        return Services(
            settings=settings,
            store=self.store,
            accounts=accounts,
            # With a broker that links nodes, channel changes are shared through it.
            channels=Channels(self.store, feed, self._monotonic),
            router=Router(self.broker, Session.flush_together),
            ids=EventIds(),
            wall_clock=self._wall_clock,
            monotonic=self._monotonic,
            channel_creations=BucketMap(
                settings.limits.channel_creations_per_second,
                settings.limits.channel_creation_burst,
                self._monotonic,
            ),
            shared_buckets=self._shared_buckets,
            searches=BucketMap(
                settings.limits.searches_per_second,
                settings.limits.search_burst,
                self._monotonic,
            ),
            moderation=ModerationState(self.store, feed, settings.admins),
        )

    async def _listen(self) -> None:
        settings, limits = self.settings, self.settings.limits
        budget = self.outgoing_budget = OutgoingBudget(
            limits.max_outgoing_bytes_per_node, self._shed
        )
        tcp = await serve_tcp(
            settings.host,
            settings.port,
            self._accept,
            max_backlog_bytes=limits.max_outgoing_bytes,
            budget=budget,
        )
        self._servers.append(tcp)
        self.tcp_port = tcp.sockets[0].getsockname()[1]
        if settings.ws_port is not None:
            endpoint = WebSocketEndpoint(
                self._accept,
                max_frame=limits.max_frame,
                max_backlog_messages=limits.max_outgoing_queue,
                max_backlog_bytes=limits.max_outgoing_bytes,
                origins=settings.ws_origins,
                web_root=settings.web_dir,
                hosts=(settings.host, *_machine_names(), *settings.ws_hosts),
                community=settings.community_addresses,
                budget=budget,
            )
            tls = (
                None
                if settings.tls_cert is None
                else tls_context(settings.tls_cert, settings.tls_key)
            )
            ws = await endpoint.serve(settings.host, settings.ws_port, tls)
            self._servers.append(ws)  # type: ignore[arg-type]  # same close/wait_closed
            self.ws_port = next(iter(ws.sockets)).getsockname()[1]

    def _shed(self, stream: Backlogged, held: int) -> None:
        """The node's unsent output is over its budget and ``stream`` holds the most: drop
        its session, as a peer over its own limit is (rare: a scan to find it is fine)."""
        session = next((s for s in self._sessions.values() if s.stream is stream), None)
        log_event(
            logger,
            "slow_reader_shed",
            logging.WARNING,
            session=session.id if session is not None else None,
            held=held,
            limit=self.settings.limits.max_outgoing_bytes_per_node,
        )
        if session is not None:
            session.abort(NODE_BACKLOG_EXCEEDED)
        elif isinstance(stream, Stream):
            stream.abort()

    # ------------------------------------------------------------------ sessions

    def _accept(self, stream: Stream) -> Session | None:
        """A new connection: refuse it when stopping, when the node holds its most, or over
        the per-address limit (an IPv6 address counts as its /64: ``address_group``)."""
        limits = self.settings.limits
        group = address_group(stream.peer_host)
        count = self._per_address.get(group, 0)
        if self._stopping or count >= limits.max_connections_per_address:
            log_event(
                logger,
                "connection_refused",
                peer=stream.peer_host,
                open=count,
                limit=limits.max_connections_per_address,
            )
            return None
        if len(self._sessions) >= limits.max_connections:
            log_event(
                logger,
                "connection_refused",
                peer=stream.peer_host,
                node_open=len(self._sessions),
                limit=limits.max_connections,
            )
            return None
        self._per_address[group] = count + 1
        conn = Connection(
            Role.SERVER,
            self._key,
            framed=stream.framed,
            hello=self.hello,
            features=SUPPORTED_FEATURES,
            max_frame=limits.max_frame,
        )
        bucket = (
            TokenBucket(limits.rate_messages_per_second, limits.rate_burst, self._monotonic)
            if limits.rate_limit_enabled
            else None
        )
        session = Session(
            f"s{next(self._session_ids)}",
            stream,
            conn,
            router=self.services.router,
            dispatch=self._dispatcher.dispatch,
            monotonic=self._monotonic,
            rate_bucket=bucket,
            on_closed=self._session_closed,
            on_error_sent=self.services.counters.error_sent,
        )
        session.start_handshake_timer(limits.handshake_timeout)
        self._sessions[session.id] = session
        return session

    def _session_closed(self, session: Session) -> None:
        self._sessions.pop(session.id, None)
        counters = self.services.counters
        counters.handshakes_of_closed_sessions += session.device is not None
        counters.slow_readers_dropped += session.close_reason in (
            BACKLOG_EXCEEDED,
            NODE_BACKLOG_EXCEEDED,
        )
        group = address_group(session.peer)
        remaining = self._per_address.get(group, 1) - 1
        if remaining > 0:
            self._per_address[group] = remaining
        else:
            self._per_address.pop(group, None)

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    def sessions(self) -> list[Session]:
        """The open connections (handshaken or not), for ``/metrics``."""
        return list(self._sessions.values())

    async def _keep_alive_loop(self) -> None:
        """PING idle sessions and close silent ones (§3 PING: "a client idle for 60 s")."""
        limits = self.settings.limits
        interval = min(5.0, max(0.05, min(limits.idle_ping_after, limits.idle_close_after) / 4))
        ids = self.services.ids
        while True:
            await asyncio.sleep(interval)
            now = self._monotonic()
            for session in list(self._sessions.values()):
                session.keep_alive(now, limits.idle_ping_after, limits.idle_close_after, ids.next)

    async def _expire_channels_loop(self) -> None:
        """Delete channels empty for ``empty_channel_ttl`` (§9), checking every ttl/4 s
        (at most a minute), so a channel goes between ttl and 1.25 ttl after its last PART."""
        ttl = self.settings.limits.empty_channel_ttl
        while True:
            await asyncio.sleep(min(60.0, max(0.05, ttl / 4)))
            try:
                gone = await self.services.channels.expire_empty(ttl)
            except Exception as exc:  # the store is down: try again next round
                log_event(
                    logger, "channel_expiry_failed", logging.WARNING, error=type(exc).__name__
                )
                continue
            if gone:
                log_event(logger, "channels_expired", count=len(gone))

    # ------------------------------------------------------------------ stop

    def request_stop(self) -> None:
        """Begin a clean shutdown (from a signal handler); ``run_until_stopped`` returns after."""
        if not self._stopping:
            asyncio.get_running_loop().create_task(self.stop())

    async def run_until_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop without losing anything acknowledged or already received; idempotent."""
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        if self.admin is not None:
            await self.admin.stop()
        for server in self._servers:
            server.close()
        for task in self._tasks:
            task.cancel()
        sessions = list(self._sessions.values())
        for session in sessions:
            session.stream.pause_reading()
        await self._drain(sessions)
        await self.store.close()
        for session in list(self._sessions.values()):
            session.close("node shutting down")
        for server in self._servers:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=5)
        await self.broker.close()
        if self._shared_buckets is not None:
            await self._shared_buckets.close()
        for previous in self._previous_exception_handler:
            asyncio.get_running_loop().set_exception_handler(previous)
        log_event(logger, "node_stopped")
        self._stopped.set()

    async def _drain(self, sessions: list[Session]) -> None:
        if not sessions:
            return
        drains = [asyncio.ensure_future(session.drain()) for session in sessions]
        _, pending = await asyncio.wait(drains, timeout=DRAIN_TIMEOUT)
        for task in pending:
            task.cancel()
        if pending:
            log_event(logger, "drain_timeout", logging.WARNING, sessions=len(pending))


def _machine_names() -> tuple[str, str]:
    """This machine's name, as a LAN browser may reach it (plain and mDNS ``.local``)."""
    name = socket.gethostname().lower()
    return name, f"{name.split('.', 1)[0]}.local"
