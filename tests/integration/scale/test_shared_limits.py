"""Rate limits and login throttles across two node processes: kept in Redis, so a client
that alternates between the nodes gets one node's budget, not one per node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from node.driver import TestClient

from aronanet.proto.lifecycle import Typing
from aronanet.proto.messages import Auth, Error, Join, Ok, Search, SendMsg

from .cluster import ClusterNode, start_cluster
from .services import redis_client

BURST = 5
#: Searches and typing notices an account may send, on all nodes together, before waiting.
SEARCHES = TYPINGS = 3


@pytest.fixture
def limited(tmp_path: Path, postgres_url: str, redis_prefix: str) -> Iterator[list[ClusterNode]]:
    """Two nodes with the rate limit on (5 messages, then one every 10 s; 3 searches and 3
    typing notices, then one every 100 s) and a login throttle of 3 failures per (account,
    address), then one every 100 s."""
    nodes = start_cluster(
        tmp_path,
        postgres_url,
        redis_prefix,
        rate_limit=True,
        limits={
            "rate_burst": BURST,
            "rate_messages_per_second": 0.1,
            "search_burst": SEARCHES,
            "searches_per_second": 0.01,
            "typing_burst": TYPINGS,
            "typing_per_second": 0.01,
        },
        login_throttle={"burst": 3, "refill_per_second": 0.01},
    )
    yield nodes
    for node in nodes:
        node.stop()


async def test_a_client_alternating_between_nodes_gets_one_message_budget(
    limited: list[ClusterNode], clients: list[TestClient], redis_prefix: str
) -> None:
    a, b = limited
    on_a = await TestClient.connect(a.port)
    on_b = await TestClient.connect(b.port)
    clients += [on_a, on_b]
    await on_a.login("hasty")
    await on_b.login("hasty", register=False)
    # JOIN spends a token too: one from each session, two of the account's five.
    await on_a.ok(Join(channel="#flood"))
    await on_b.ok(Join(channel="#flood"))

    replies = []
    for n in range(8):
        client = (on_a, on_b)[n % 2]
        replies.append(
            await client.request(SendMsg(dest_type="channel", dest="#flood", content=f"m{n}"))
        )

    accepted = [r for r in replies if isinstance(r, Ok)]
    refused = [r for r in replies if isinstance(r, Error)]
    # 5 tokens for the account on both nodes together (one may have come back meanwhile);
    # each node alone would have let its session send 4 more after its JOIN: 8 in all.
    assert BURST - 2 <= len(accepted) <= BURST - 1
    assert refused and all(r.code == "RATE_LIMITED" and r.retry_after_ms for r in refused)
    assert {id(c) for c, r in zip((on_a, on_b) * 4, replies, strict=True) if r in refused} == {
        id(on_a),
        id(on_b),
    }  # both nodes refuse
    keys = redis_client().keys(f"{redis_prefix}:bucket:messages:*")
    assert len(keys) == 1 and redis_client().pttl(keys[0]) > 0  # one bucket, expiring


async def test_login_failures_count_across_nodes(
    limited: list[ClusterNode], clients: list[TestClient]
) -> None:
    a, b = limited
    owner = await TestClient.connect(a.port)
    clients.append(owner)
    await owner.login("guarded")
    guessers = [await TestClient.connect(node.port) for node in (a, b, a, b, a, b)]
    clients += guessers

    codes = []
    for guesser in guessers:
        reply = await guesser.request(Auth(user="guarded", password="wrong password"))
        assert isinstance(reply, Error)
        codes.append(reply.code)

    # Three failures per (account, address) in all, whichever node heard them.
    assert codes == ["AUTH_FAILED"] * 3 + ["RATE_LIMITED"] * 3


async def _alternating(
    on_a: TestClient, on_b: TestClient, requests: list[Search] | list[Typing]
) -> list[str]:
    """Send ``requests`` alternately through A and B; each reply's kind (``OK`` or the
    error code), checking that every refusal says when to retry."""
    kinds = []
    for n, request in enumerate(requests):
        reply = await (on_a, on_b)[n % 2].request(request)
        if isinstance(reply, Error):
            assert reply.retry_after_ms and reply.retry_after_ms > 50_000
            kinds.append(reply.code)
        else:
            assert isinstance(reply, Ok)
            kinds.append("OK")
    return kinds


async def test_searches_alternating_between_nodes_share_one_budget(
    limited: list[ClusterNode], clients: list[TestClient], redis_prefix: str
) -> None:
    a, b = limited
    on_a, on_b = await TestClient.connect(a.port), await TestClient.connect(b.port)
    clients += [on_a, on_b]
    await on_a.login("seeker")
    await on_b.login("seeker", register=False)

    kinds = await _alternating(on_a, on_b, [Search(query="anything")] * (2 * SEARCHES))

    # One budget of 3 for the account; one per session would have let all six through.
    assert kinds == ["OK"] * SEARCHES + ["RATE_LIMITED"] * SEARCHES
    assert len(redis_client().keys(f"{redis_prefix}:bucket:searches:*")) == 1
    # Searching never spent MSG tokens: the same sessions still send.
    await on_a.ok(Join(channel="#seeking"))


async def test_typing_notices_alternating_between_nodes_share_one_budget(
    limited: list[ClusterNode], clients: list[TestClient], redis_prefix: str
) -> None:
    a, b = limited
    on_a = await TestClient.connect(a.port, features=("lifecycle",))
    on_b = await TestClient.connect(b.port, features=("lifecycle",))
    clients += [on_a, on_b]
    await on_a.login("typist")
    await on_b.login("typist", register=False)
    await on_a.ok(Join(channel="#typing"))
    notices = [Typing(dest_type="channel", dest="#typing", typing=n % 4 < 2) for n in range(8)]

    kinds = await _alternating(on_a, on_b, notices[: 2 * TYPINGS])

    assert kinds == ["OK"] * TYPINGS + ["RATE_LIMITED"] * TYPINGS
    assert len(redis_client().keys(f"{redis_prefix}:bucket:typing:*")) == 1
