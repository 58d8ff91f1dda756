"""Token buckets with an injected clock: flood control for sessions and login attempts.

A bucket holds up to ``burst`` tokens and regains ``rate`` tokens per second. Spending
a token that is not there is refused with the time until one will be, which the node
reports as ``retry_after_ms`` (ArTP §5: the message is dropped, the session stays open).
The clock is a parameter so tests step time instead of sleeping.

``Buckets`` is the interface the node's budgets go through when they must hold across
nodes (login throttle, registrations, channel creations, the per-account message, search
and typing rates): ``LocalBuckets`` here (the embedded default) and
``ratelimit_redis.RedisBuckets`` in scale-out mode, where a client spreading its attempts
over N nodes must not get N budgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]


@dataclass(slots=True)
class TokenBucket:
    """One bucket; ``try_spend`` returns 0 when allowed, else the wait in milliseconds."""

    rate: float
    burst: int
    clock: Clock
    tokens: float = -1.0
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(
                f"a bucket needs rate > 0 and burst >= 1, got {self.rate}, {self.burst}"
            )
        self.tokens = float(self.burst)
        self.updated = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_ms(self, cost: float = 1.0) -> int:
        """0 if ``cost`` tokens are there now, else the milliseconds until they will be."""
        self._refill()
        if self.tokens >= cost:
            return 0
        return max(1, math.ceil((cost - self.tokens) / self.rate * 1000))

    def try_spend(self, cost: float = 1.0) -> int:
        """Spend ``cost`` tokens if present (returns 0), else the milliseconds to wait."""
        wait = self.wait_ms(cost)
        if wait == 0:
            self.tokens -= cost
        return wait

    def refund(self, cost: float = 1.0) -> None:
        """Give back tokens spent on a reservation that turned out not to count."""
        self._refill()
        self.tokens = min(float(self.burst), self.tokens + cost)

    def is_full(self) -> bool:
        self._refill()
        return self.tokens >= self.burst


class BucketMap:
    """Buckets by key (an address, an account), forgetting full ones to bound memory."""

    def __init__(self, rate: float, burst: int, clock: Clock, max_keys: int = 65536) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def retry_after_ms(self, key: str) -> int:
        """0 if ``key`` has a token left (without spending it), else the wait in ms."""
        bucket = self._buckets.get(key)
        return 0 if bucket is None else bucket.wait_ms()

    def spend(self, key: str) -> int:
        """Spend one token of ``key``'s bucket; 0 when allowed, else the wait in ms."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full()
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, self._clock)
        return bucket.try_spend()

    def refund(self, key: str) -> None:
        """Give back the token a reservation of ``key`` spent (the attempt did not count)."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.refund()

    def _forget_full(self) -> None:
        for key in [key for key, bucket in self._buckets.items() if bucket.is_full()]:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:  # still full of offenders: drop the oldest
            for key in list(self._buckets)[: self._max_keys // 2]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass(frozen=True, slots=True)
class Budget:
    """A kind of bucket: its name (part of the key where buckets are shared) and size."""

    name: str
    rate: float
    burst: int


#: One bucket to spend from: a budget and the key it is kept under (an address, a user).
Charge = tuple[Budget, str]


class Buckets(Protocol):
    """Token buckets by (budget, key), spent several at once: all or none."""

    async def take(self, charges: Sequence[Charge]) -> int:
        """Spend one token of every bucket named if each has one (returns 0); otherwise
        spend nothing and return the milliseconds until all will have one."""
        ...

    async def refund(self, charges: Sequence[Charge]) -> None:
        """Give back the tokens a ``take`` spent (the attempt turned out not to count)."""
        ...


class LocalBuckets:
    """``Buckets`` in this process: one ``BucketMap`` per budget."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._maps: dict[str, BucketMap] = {}

    def _map(self, budget: Budget) -> BucketMap:
        found = self._maps.get(budget.name)
        if found is None:
            found = self._maps[budget.name] = BucketMap(budget.rate, budget.burst, self._clock)
        return found

    def take_now(self, charges: Sequence[Charge]) -> int:
        """``take`` without an ``await``: a caller that must spend before it yields."""
        wait = max((self._map(b).retry_after_ms(key) for b, key in charges), default=0)
        if wait == 0:
            for budget, key in charges:
                self._map(budget).spend(key)
        return wait

    async def take(self, charges: Sequence[Charge]) -> int:
        return self.take_now(charges)

    async def refund(self, charges: Sequence[Charge]) -> None:
        for budget, key in charges:
            self._map(budget).refund(key)


async def spend_session_and_account(
    sessions: BucketMap, session: str, shared: Buckets | None, budget: Budget, account: str
) -> int:
    """Spend a token of the session's own bucket and, in scale-out mode (``shared``), one of
    its account's bucket across every node: a user's sessions, wherever they are connected,
    together get one budget. 0 when allowed, else the wait in ms; a refusal spends nothing
    (the session's token comes back if the account's bucket refused)."""
    wait = sessions.spend(session)
    if wait or shared is None:
        return wait
    wait = await shared.take([(budget, account)])
    if wait:
        sessions.refund(session)
    return wait


class KeyedSlots:
    """At most ``per_key`` holders at once for each key (an address, an account).

    A semaphore exists only while a key has holders or waiters, so memory follows the work
    in progress, not the number of keys ever seen.
    """

    def __init__(self, per_key: int) -> None:
        self._per_key = per_key
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Wait for a slot of ``key`` and hold it for the ``async with`` block."""
        slot = self._slots.setdefault(key, asyncio.Semaphore(self._per_key))
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with slot:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._slots[key]

    def __len__(self) -> int:
        return len(self._slots)
