"""What a node is built from, chosen by its settings: the store, the broker, the shared rate
limits, the handler table and the ``HELLO`` it greets each client with.

The optional backends (PostgreSQL, Redis) are imported only when the settings name them, so
the default node needs neither library nor service.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from msgspec import UNSET

from aronanet.proto.messages import Hello, HelloLimits
from aronanet.server.broker.base import Broker
from aronanet.server.broker.local import LocalBroker
from aronanet.server.conversations import register_conversation_handlers
from aronanet.server.devices import register_device_handlers
from aronanet.server.handlers import HandlerTable, register_core_handlers
from aronanet.server.lifecycle import register_lifecycle_handlers
from aronanet.server.messaging import register_messaging_handlers
from aronanet.server.moderation import register_moderation_handlers
from aronanet.server.node_admin import register_admin_handlers
from aronanet.server.ratelimit import Clock, LocalBuckets
from aronanet.server.search import register_search_handlers
from aronanet.server.settings import NodeSettings
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from aronanet.server.ratelimit_redis import RedisBuckets

#: Modules that extend the handler table with ``register_handlers(table)``, if installed.
EXTENSIONS = ("aronanet.server.image_handlers",)


def build_store(settings: NodeSettings) -> ModerationStore:
    """The store the settings name: the SQLite file under ``data_dir``, or PostgreSQL."""
    if settings.uses_postgres:
        from aronanet.server.store.postgres import PostgresStore

        return PostgresStore(settings.store)
    return SqliteStore(settings.database_path)


def build_shared_buckets(settings: NodeSettings, clock: Clock) -> RedisBuckets | None:
    """Scale-out (a Redis broker): rate limits and login throttles kept in Redis, so that
    a client spreading its attempts over the nodes gets one budget, not one per node."""
    if not settings.uses_redis:
        return None
    from redis.asyncio import Redis

    from aronanet.server.ratelimit_redis import RedisBuckets

    return RedisBuckets(
        Redis.from_url(settings.broker), settings.broker_prefix, LocalBuckets(clock)
    )


def build_broker(settings: NodeSettings) -> Broker:
    """The broker the settings name: in-process, or Redis pub/sub between nodes."""
    if settings.uses_redis:
        from aronanet.server.broker.redis import RedisBroker

        return RedisBroker(settings.broker, prefix=settings.broker_prefix)
    return LocalBroker()


def build_handler_table() -> HandlerTable:
    """The core handlers, then any installed extension (which may replace placeholders)."""
    table = HandlerTable()
    register_core_handlers(table)
    register_device_handlers(table)
    register_messaging_handlers(table)
    register_conversation_handlers(table)
    register_lifecycle_handlers(table)
    register_search_handlers(table)
    register_moderation_handlers(table)
    register_admin_handlers(table)
    for name in EXTENSIONS:
        if importlib.util.find_spec(name) is not None:
            module = importlib.import_module(name)
            register = getattr(module, "register_handlers", None)
            if register is not None:
                register(table)
    return table


def build_hello(settings: NodeSettings) -> Hello:
    """§2 HELLO: "the values are the node's real limits; more keys may follow"."""
    limits = settings.limits
    return Hello(
        node=settings.node_name,
        limits=HelloLimits(
            max_frame=limits.max_frame,
            max_content=limits.max_content,
            chunk_size=limits.chunk_size,
            max_image=limits.max_image,
            max_image_pixels=limits.max_image_pixels,
            max_history=limits.max_history,
            rate_messages_per_second=limits.rate_messages_per_second
            if limits.rate_limit_enabled
            else UNSET,
            rate_burst=limits.rate_burst if limits.rate_limit_enabled else UNSET,
            max_reactions=limits.max_reactions,
        ),
    )
