"""The login throttle (§6 AUTH) against a real node: budgets reserved before hashing, per
(account, address) pair, per address, per account, and registrations apart.

Client addresses: every 127.x.y.z is this machine, so 127.0.0.2 is "the owner at home"
while 127.0.0.1 is "the stranger".
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import msgspec

from aronanet.errors import ErrorCode
from aronanet.proto.messages import Auth, Ok

from .conftest import TEST_THROTTLE, node_settings
from .driver import PASSWORD

WRONG = "not the password"


async def throttled_node(tmp_path: Path, start_node, **throttle: float):
    settings = node_settings(tmp_path / "throttled", rate_limit_enabled=False)
    return await start_node(
        replace(settings, login_throttle=msgspec.structs.replace(TEST_THROTTLE, **throttle))
    )


async def register(node, connect, name: str, source: str = "127.0.0.9") -> None:
    client = await connect(node, source=source)
    await client.login(name)
    await client.close()


async def attempt(node, connect, name: str, password: str, source: str) -> str:
    """One AUTH on a fresh session from ``source``: ``OK`` or the error code."""
    client = await connect(node, source=source)
    reply = await client.request(Auth(user=name, password=password), timeout=30)
    return "OK" if isinstance(reply, Ok) else str(reply.code)


async def test_concurrent_guesses_from_one_address_get_no_more_than_the_budget(
    tmp_path, start_node, connect
):
    node = await throttled_node(tmp_path, start_node)
    await register(node, connect, "victim")
    clients = [await connect(node) for _ in range(60)]
    started = time.monotonic()
    replies = await asyncio.gather(
        *(c.request(Auth(user="victim", password=f"guess number {i}"), timeout=60) for i, c in
          enumerate(clients))
    )  # fmt: skip
    elapsed = time.monotonic() - started
    checked = sum(1 for reply in replies if reply.code == ErrorCode.AUTH_FAILED)
    budget = TEST_THROTTLE.burst + elapsed * TEST_THROTTLE.refill_per_second + 1
    assert checked <= budget, f"{checked} passwords checked in {elapsed:.1f} s"
    assert {reply.code for reply in replies} == {ErrorCode.AUTH_FAILED, ErrorCode.RATE_LIMITED}


async def test_a_stranger_guessing_does_not_lock_the_owner_out(tmp_path, start_node, connect):
    node = await throttled_node(tmp_path, start_node)
    await register(node, connect, "owner", source="127.0.0.2")
    codes = [await attempt(node, connect, "owner", WRONG, "127.0.0.1") for _ in range(12)]
    assert codes[-1] == ErrorCode.RATE_LIMITED  # the stranger is throttled...
    assert await attempt(node, connect, "owner", PASSWORD, "127.0.0.2") == "OK"  # ...not the owner
    assert await attempt(node, connect, "owner", WRONG, "127.0.0.3") == ErrorCode.AUTH_FAILED


async def test_failures_per_account_and_address_are_limited_at_the_edge(
    tmp_path, start_node, connect
):
    node = await throttled_node(tmp_path, start_node, burst=3)
    await register(node, connect, "edge")
    codes = [await attempt(node, connect, "edge", WRONG, "127.0.0.1") for _ in range(4)]
    assert codes == [ErrorCode.AUTH_FAILED] * 3 + [ErrorCode.RATE_LIMITED]


async def test_a_successful_login_spends_no_budget(tmp_path, start_node, connect):
    node = await throttled_node(tmp_path, start_node, burst=2)
    await register(node, connect, "regular")
    for _ in range(4):
        assert await attempt(node, connect, "regular", PASSWORD, "127.0.0.1") == "OK"
    assert await attempt(node, connect, "regular", WRONG, "127.0.0.1") == ErrorCode.AUTH_FAILED


async def test_failures_per_address_across_accounts_are_limited_at_the_edge(
    tmp_path, start_node, connect
):
    node = await throttled_node(tmp_path, start_node, address_burst=3)
    codes = [await attempt(node, connect, f"sprayed{i}", WRONG, "127.0.0.1") for i in range(4)]
    assert codes == [ErrorCode.AUTH_FAILED] * 3 + [ErrorCode.RATE_LIMITED]
    assert await attempt(node, connect, "sprayed9", WRONG, "127.0.0.2") == ErrorCode.AUTH_FAILED


async def test_failures_per_account_across_addresses_have_a_ceiling_at_the_edge(
    tmp_path, start_node, connect
):
    node = await throttled_node(tmp_path, start_node, account_burst=3)
    codes = [await attempt(node, connect, "target", WRONG, f"127.0.0.{i}") for i in range(1, 5)]
    assert codes == [ErrorCode.AUTH_FAILED] * 3 + [ErrorCode.RATE_LIMITED]


async def test_registrations_have_their_own_budget_that_spares_logins(
    tmp_path, start_node, connect
):
    node = await throttled_node(tmp_path, start_node, register_burst=2, burst=10)
    outcomes = []
    for i in range(3):
        client = await connect(node)
        reply = await client.request(Auth(user=f"household{i}", password=PASSWORD, register=True))
        outcomes.append("OK" if isinstance(reply, Ok) else reply.code)
    assert outcomes == ["OK", "OK", ErrorCode.RATE_LIMITED]
    assert await attempt(node, connect, "household0", PASSWORD, "127.0.0.1") == "OK"
    assert await attempt(node, connect, "household1", WRONG, "127.0.0.1") == ErrorCode.AUTH_FAILED


def test_the_throttle_refuses_budgets_below_one() -> None:
    import pytest

    from aronanet.server.settings import SettingsError, from_mapping

    with pytest.raises(SettingsError, match=r"\[login_throttle\] register_burst = 0: must be"):
        from_mapping({"login_throttle": {"register_burst": 0}})
    with pytest.raises(SettingsError, match=r"\[login_throttle\] hash_slots = 0: must be"):
        from_mapping({"login_throttle": {"hash_slots": 0}})
