"""Token buckets, stepped by a fake clock: no sleeping, no timing."""

from __future__ import annotations

import pytest

from aronanet.server.ratelimit import (
    BucketMap,
    Budget,
    LocalBuckets,
    TokenBucket,
    spend_session_and_account,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_exactly_the_burst_then_asks_to_wait():
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.try_spend() for _ in range(3)] == [0, 0, 0]
    assert bucket.try_spend() == 500  # one token at 2 per second


def test_bucket_refills_with_time_but_never_above_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=2, clock=clock)
    bucket.try_spend()
    bucket.try_spend()
    clock.now += 0.25
    assert bucket.try_spend() == 750
    clock.now += 100
    assert [bucket.try_spend() for _ in range(3)] == [0, 0, 1000]


def test_a_refused_spend_costs_nothing():
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    bucket.try_spend()
    for _ in range(5):
        assert bucket.try_spend() == 1000
    clock.now += 1
    assert bucket.try_spend() == 0


def test_bucket_refuses_nonsense_parameters():
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, clock=FakeClock())


def test_bucket_map_keeps_keys_apart_and_peeks_without_spending():
    clock = FakeClock()
    buckets = BucketMap(rate=1.0, burst=1, clock=clock)
    assert buckets.spend("a") == 0
    assert buckets.retry_after_ms("a") == 1000
    assert buckets.retry_after_ms("a") == 1000
    assert buckets.retry_after_ms("b") == 0
    assert buckets.spend("b") == 0


def test_bucket_map_forgets_full_buckets_when_it_reaches_its_size():
    clock = FakeClock()
    buckets = BucketMap(rate=1.0, burst=1, clock=clock, max_keys=4)
    for key in "abcd":
        buckets.spend(key)
    clock.now += 10  # all full again
    buckets.spend("e")
    assert len(buckets) == 1


async def test_a_session_spends_its_own_bucket_and_its_accounts_shared_one() -> None:
    clock = FakeClock()
    account = Budget("searches", 1.0, 2)
    shared = LocalBuckets(clock)  # stands for the Redis buckets every node spends from
    sessions_a, sessions_b = BucketMap(1.0, 2, clock), BucketMap(1.0, 2, clock)

    async def spend(sessions: BucketMap, session: str) -> int:
        return await spend_session_and_account(sessions, session, shared, account, "ann")

    assert await spend(sessions_a, "s1") == 0
    assert await spend(sessions_b, "s2") == 0
    # The account's two tokens are gone, though each session has one left...
    assert await spend(sessions_a, "s1") == 1000
    # ...and a refusal by the account's bucket gives the session's token back.
    assert sessions_a.retry_after_ms("s1") == 0
    clock.now += 1.0
    assert await spend(sessions_a, "s1") == 0


async def test_without_shared_buckets_only_the_session_counts() -> None:
    clock = FakeClock()
    sessions = BucketMap(1.0, 1, clock)
    budget = Budget("typing", 1.0, 1)
    assert await spend_session_and_account(sessions, "s1", None, budget, "ann") == 0
    assert await spend_session_and_account(sessions, "s2", None, budget, "ann") == 0
    assert await spend_session_and_account(sessions, "s1", None, budget, "ann") == 1000
