"""Accounts on a real SQLite store: the device-trust hook and the hashing slots."""

from __future__ import annotations

import asyncio
import time

from aronanet.errors import ErrorCode, RequestError
from aronanet.server.accounts import Accounts, DeviceTrust, no_trusted_devices
from aronanet.server.ratelimit import KeyedSlots
from aronanet.server.settings import LoginThrottle, PasswordHashing
from aronanet.server.store.sqlite import SqliteStore

PASSWORD = "correct horse battery"
FAST = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)


def accounts(store: SqliteStore, trust: DeviceTrust = no_trusted_devices, **throttle) -> Accounts:
    return Accounts(
        store,
        hashing=FAST,
        throttle=LoginThrottle(**throttle),
        registration_open=True,
        wall_clock=time.time,
        monotonic=time.monotonic,
        device_trust=trust,
    )


async def codes(attempts) -> list[str]:
    found = []
    for attempt in attempts:
        try:
            await attempt
            found.append("OK")
        except RequestError as error:
            found.append(str(error.code))
    return found


async def test_a_device_the_trust_hook_vouches_for_skips_the_throttle(store):
    async def trusted(user: str, device: str) -> bool:
        return (user, device) == ("owner", "SHA256:home")

    node = accounts(store, trusted, burst=2)
    await node.register("owner", PASSWORD, "10.0.0.1")
    wrong = [node.login("owner", "wrong password", "10.0.0.9", "SHA256:laptop") for _ in range(3)]
    assert await codes(wrong) == ["AUTH_FAILED", "AUTH_FAILED", ErrorCode.RATE_LIMITED]
    # The stranger's address is throttled; the owner's known device, there too, is not.
    assert await node.login("owner", PASSWORD, "10.0.0.9", "SHA256:home") == "owner"
    blocked = node.login("owner", PASSWORD, "10.0.0.9", "SHA256:laptop")
    assert await codes([blocked]) == [ErrorCode.RATE_LIMITED]


async def test_keyed_slots_let_per_key_holders_in_at_once_and_forget_idle_keys():
    slots = KeyedSlots(per_key=2)
    inside = {"a": 0, "b": 0}
    most = {"a": 0, "b": 0}

    async def hold(key: str) -> None:
        async with slots.hold(key):
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            await asyncio.sleep(0.01)
            inside[key] -= 1

    await asyncio.gather(*(hold(key) for key in "aaaaabbb"))
    assert most == {"a": 2, "b": 2}
    assert len(slots) == 0


async def test_failed_logins_from_one_ipv6_slash_64_share_the_address_budget(store):
    node = accounts(store, burst=100, address_burst=2)
    await node.register("owner", PASSWORD, "2001:db8:1:2::1")
    wrong = [node.login("owner", "wrong", f"2001:db8:1:2::{n}", None) for n in (10, 11, 12)]
    assert await codes(wrong) == ["AUTH_FAILED", "AUTH_FAILED", ErrorCode.RATE_LIMITED]
    # The next /64 is another client, with a budget of its own.
    assert await codes([node.login("owner", "wrong", "2001:db8:1:3::10", None)]) == ["AUTH_FAILED"]
