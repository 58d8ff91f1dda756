"""``RedisBuckets`` against the real Redis: all-or-none takes, refunds, expiring keys, and
this node's own buckets while Redis is unreachable."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from aronanet.server.ratelimit import Budget, LocalBuckets
from aronanet.server.ratelimit_redis import RedisBuckets

from .cluster import free_port
from .services import REDIS_URL, redis_client

SLOW = Budget("slow", rate=0.01, burst=2)
ROOMY = Budget("roomy", rate=0.01, burst=10)


async def test_a_take_spends_from_every_bucket_or_from_none(redis_prefix: str) -> None:
    buckets = RedisBuckets(Redis.from_url(REDIS_URL), redis_prefix, LocalBuckets(time.monotonic))
    both = [(SLOW, "k"), (ROOMY, "k")]
    try:
        assert await buckets.take(both) == 0
        assert await buckets.take(both) == 0
        wait = await buckets.take(both)
        assert wait > 90_000  # one token of SLOW comes back in 100 s
        # The refused take spent nothing from ROOMY: 8 of its 10 are left.
        assert [await buckets.take([(ROOMY, "k")]) for _ in range(9)].count(0) == 8
        await buckets.refund([(SLOW, "k")])
        assert await buckets.take([(SLOW, "k")]) == 0
        sync = redis_client()
        for key in sync.keys(f"{redis_prefix}:bucket:*"):
            assert 0 < sync.pttl(key) <= 1_000_000 + 1000  # gone once the bucket is full again
    finally:
        await buckets.close()


async def test_without_redis_the_node_throttles_with_its_own_buckets() -> None:
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    buckets = RedisBuckets(unreachable, "nowhere", LocalBuckets(time.monotonic))
    try:
        assert [await buckets.take([(SLOW, "k")]) for _ in range(3)][:2] == [0, 0]
        assert await buckets.take([(SLOW, "k")]) > 0
    finally:
        await buckets.close()
