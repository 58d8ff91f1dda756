"""Accounts: registration and login with Argon2id, and failed-login throttling.

* Passwords are hashed with Argon2id (memory-hard, §3 "never in clear"), in a worker thread
  so that the event loop keeps serving while a hash runs, and at most a few at once so a
  login storm cannot exhaust memory.
* A failed login is ``AUTH_FAILED`` whatever the reason, and an unknown user costs the same
  hash as a known one (§3: no user enumeration).
* Failed logins spend tokens per address and per account; with none left, a login is
  refused as ``RATE_LIMITED`` before any hashing, for known and unknown names alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from aronanet.errors import ErrorCode, RequestError
from aronanet.server.logs import log_event
from aronanet.server.ratelimit import BucketMap, Clock
from aronanet.server.settings import LoginThrottle, PasswordHashing
from aronanet.server.store.base import DuplicateUserError, Store, UserRow, user_key

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Concurrent hashes; each may take ``memory_kib`` of memory.
HASH_SLOTS = 2


class Accounts:
    """Registration and login against a ``Store``; the only code that sees passwords."""

    def __init__(
        self,
        store: Store,
        *,
        hashing: PasswordHashing,
        throttle: LoginThrottle,
        registration_open: bool,
        wall_clock: Callable[[], float],
        monotonic: Clock,
    ) -> None:
        self._store = store
        self._hasher = PasswordHasher(
            time_cost=hashing.time_cost,
            memory_cost=hashing.memory_kib,
            parallelism=hashing.parallelism,
            type=Type.ID,
        )
        self._registration_open = registration_open
        self._wall_clock = wall_clock
        self._by_address = BucketMap(throttle.refill_per_second, throttle.burst, monotonic)
        self._by_account = BucketMap(throttle.refill_per_second, throttle.burst, monotonic)
        self._slots = asyncio.Semaphore(HASH_SLOTS)
        self._decoy_hash: str | None = None
        self._names: dict[str, str] = {}  # user key -> registered name; users are never deleted

    async def canonical_name(self, name: str) -> str | None:
        """The registered spelling of ``name`` (matched case-insensitively), or None."""
        key = user_key(name)
        known = self._names.get(key)
        if known is None:
            user = await self._store.get_user(name)
            if user is None:
                return None
            known = self._names[key] = user.name
        return known

    async def register(self, name: str, password: str, address: str) -> str:
        """Create the account and return its name; §3 ``USER_EXISTS``/``REGISTRATION_CLOSED``."""
        if not self._registration_open:
            raise RequestError(
                ErrorCode.REGISTRATION_CLOSED, "this node does not accept new accounts"
            )
        self._refuse_if_throttled(name, address)
        self._by_address.spend(address)  # registrations are throttled like failures
        if await self._store.get_user(name) is not None:
            raise RequestError(ErrorCode.USER_EXISTS, f"the name {name} is taken")
        password_hash = await self._in_thread(self._hasher.hash, password)
        try:
            await self._store.create_user(UserRow(name, password_hash, int(self._wall_clock())))
        except DuplicateUserError:
            raise RequestError(ErrorCode.USER_EXISTS, f"the name {name} is taken") from None
        self._names[user_key(name)] = name
        log_event(logger, "account_created", user=name)
        return name

    async def login(self, name: str, password: str, address: str) -> str:
        """Return the account's registered name, or raise ``AUTH_FAILED`` (any reason)."""
        self._refuse_if_throttled(name, address)
        user = await self._store.get_user(name)
        stored_hash = user.password_hash if user else await self._decoy()
        if await self._in_thread(self._verify, stored_hash, password) and user is not None:
            return user.name
        self._by_address.spend(address)
        self._by_account.spend(user_key(name))
        log_event(logger, "login_failed", peer=address)
        raise RequestError(ErrorCode.AUTH_FAILED, "wrong user name or password")

    async def change_password(self, name: str, old: str, new: str, address: str) -> None:
        """§14.3 PASSWORD: ``old`` is checked like a login (a wrong one is ``AUTH_FAILED``
        and counts in the login throttle), then the new hash replaces the old one."""
        await self.login(name, old, address)
        password_hash = await self._in_thread(self._hasher.hash, new)
        await self._store.set_password_hash(name, password_hash)
        log_event(logger, "password_changed", user=name)

    def _refuse_if_throttled(self, name: str, address: str) -> None:
        wait = max(
            self._by_address.retry_after_ms(address),
            self._by_account.retry_after_ms(user_key(name)),
        )
        if wait:
            raise RequestError(
                ErrorCode.RATE_LIMITED,
                f"too many failed attempts; retry in {wait} ms",
                retry_after_ms=wait,
            )

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _decoy(self) -> str:
        """A hash of a random password, so unknown names cost as much as known ones."""
        if self._decoy_hash is None:
            self._decoy_hash = await self._in_thread(self._hasher.hash, "no such user: decoy")
        return self._decoy_hash

    async def _in_thread(self, fn: Callable[..., T], *args: str) -> T:
        async with self._slots:
            return await asyncio.to_thread(fn, *args)
