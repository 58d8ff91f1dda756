"""What every handler may use, in one object built by the node: store, accounts, routing.

Handlers receive it through their ``RequestContext`` instead of importing globals, so tests
build a node with their own store, clock or ids, and nothing is created at import time.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from aronanet.config import Limits
from aronanet.server.accounts import Accounts
from aronanet.server.channels import Channels
from aronanet.server.metrics import NodeCounters
from aronanet.server.moderation_state import ModerationState
from aronanet.server.ratelimit import BucketMap, Buckets, Budget, Clock
from aronanet.server.router import Router
from aronanet.server.settings import NodeSettings
from aronanet.server.store.moderation import ModerationStore


@dataclass(slots=True)
class EventIds:
    """Ids of events that are not stored messages (JOIN, PART, TOPIC, PING).

    §3: ids are "opaque string, unique on the node". A random prefix per process keeps them
    unique across restarts; the ``e`` keeps them apart from message ids, which are digits.
    """

    prefix: str = field(default_factory=lambda: "e" + secrets.token_hex(4) + "-")
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def next(self) -> str:
        return f"{self.prefix}{next(self._counter)}"


@dataclass(frozen=True, slots=True)
class Services:
    settings: NodeSettings
    store: ModerationStore
    accounts: Accounts
    channels: Channels
    router: Router
    ids: EventIds
    wall_clock: Callable[[], float]
    monotonic: Clock
    #: Channels created per user (``channel_creation_burst``, ``channel_creations_per_second``).
    channel_creations: BucketMap
    #: §14.15: searches per session (``search_burst``, ``searches_per_second``).
    searches: BucketMap
    #: §14.16-14.20: channel modes, roles and mutes (cached), and the node admins.
    moderation: ModerationState
    #: What handlers count for ``/metrics`` (plain increments).
    counters: NodeCounters = field(default_factory=NodeCounters)
    #: Scale-out mode: buckets every node spends from (Redis), for the budgets that must
    #: hold across nodes: messages, searches and typing notices per account, and channel
    #: creations per user.
    shared_buckets: Buckets | None = None

    @property
    def limits(self) -> Limits:
        return self.settings.limits

    @property
    def message_budget(self) -> Budget:
        """§5 flood control, per account across nodes (with ``shared_buckets``)."""
        return Budget("messages", self.limits.rate_messages_per_second, self.limits.rate_burst)

    @property
    def search_budget(self) -> Budget:
        """§14.15 searches, per account across nodes (with ``shared_buckets``)."""
        return Budget("searches", self.limits.searches_per_second, self.limits.search_burst)

    @property
    def typing_budget(self) -> Budget:
        """§14.13 typing notices, per account across nodes (with ``shared_buckets``)."""
        return Budget("typing", self.limits.typing_per_second, self.limits.typing_burst)

    @property
    def creation_budget(self) -> Budget:
        limits = self.limits
        return Budget(
            "channel-creations", limits.channel_creations_per_second, limits.channel_creation_burst
        )

    def now(self) -> int:
        """§3: "timestamp (integer Unix seconds, set by the server)"."""
        return int(self.wall_clock())
