"""Accounts: registration and login with Argon2id, and the login throttle (§6 AUTH).

* Passwords are hashed with Argon2id (memory-hard, §3 "never in clear"), in a worker thread
  so that the event loop keeps serving while a hash runs. Hashes run at most
  ``hashes_per_address`` at once per address, ``hashes_per_account`` per account and
  ``hash_slots`` on the node: a guesser queues behind their own hashes, and everyone
  else's login still finds a free slot.
* A failed login is ``AUTH_FAILED`` whatever the reason, and an unknown user costs the same
  hash as a known one (§3: no user enumeration).
* The throttle is a budget RESERVED before the hashing ``await`` and given back if the login
  succeeds: checking before and charging after would let concurrent sessions all pass the
  check while the first hash runs. Failures count per (account, address) pair, per address
  and per account, with a much higher ceiling per account, so a stranger guessing from one
  address cannot lock the owner out from another. A device that may skip the throttle (one
  that has signed in before, once the node knows devices) is recognised by an injected
  ``DeviceTrust`` predicate. Registrations have their own budget per address. The budgets
  are ``Buckets``: this node's own by default, Redis's in scale-out mode, so that attempts
  spread over several nodes count together.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from aronanet.errors import ErrorCode, RequestError
from aronanet.server.addresses import address_group
from aronanet.server.logs import log_event
from aronanet.server.ratelimit import Buckets, Budget, Charge, Clock, KeyedSlots, LocalBuckets
from aronanet.server.settings import LoginThrottle, PasswordHashing
from aronanet.server.store.base import DuplicateUserError
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.store.rows import UserRow, user_key

logger = logging.getLogger(__name__)

#: ``(user key, device fingerprint) -> may this device skip the login throttle?`` The
#: devices feature answers True for a device that has signed in to that account before.
DeviceTrust = Callable[[str, str], Awaitable[bool]]


async def no_trusted_devices(user: str, device: str) -> bool:
    """The default ``DeviceTrust``: every attempt is throttled."""
    return False


class Accounts:
    """Registration and login against a ``Store``; the only code that sees passwords."""

    def __init__(
        self,
        store: ModerationStore,
        *,
        hashing: PasswordHashing,
        throttle: LoginThrottle,
        registration_open: bool | Literal["invite"],
        wall_clock: Callable[[], float],
        monotonic: Clock,
        device_trust: DeviceTrust = no_trusted_devices,
        buckets: Buckets | None = None,
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
        self._device_trust = device_trust
        t = throttle
        self._buckets = buckets if buckets is not None else LocalBuckets(monotonic)
        self._by_pair = Budget("login-pair", t.refill_per_second, t.burst)
        self._by_address = Budget("login-address", t.address_refill_per_second, t.address_burst)
        self._by_account = Budget("login-account", t.account_refill_per_second, t.account_burst)
        self._registrations = Budget("register", t.register_refill_per_second, t.register_burst)
        self._address_hashes = KeyedSlots(t.hashes_per_address)
        self._account_hashes = KeyedSlots(t.hashes_per_account)
        self._slots = asyncio.Semaphore(t.hash_slots)
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

    async def register(
        self, name: str, password: str, address: str, invite: str | None = None
    ) -> str:
        """Create the account and return its name; §3 ``USER_EXISTS``/``REGISTRATION_CLOSED``.

        §14.21: with ``registration = "invite"`` only an ``invite`` token (one use of it,
        spent here and given back if the name is taken) lets a new account in."""
        if not self._registration_open:
            raise RequestError(
                ErrorCode.REGISTRATION_CLOSED, "this node does not accept new accounts"
            )
        # A budget of its own, spent by every attempt (taken names too), before any work.
        wait = await self._buckets.take([(self._registrations, address_group(address))])
        _refuse_if_waiting(wait, "too many registrations")
        if await self._store.get_user(name) is not None:
            raise RequestError(ErrorCode.USER_EXISTS, f"the name {name} is taken")
        spent = await self._spend_invitation(invite)
        async with self._hash_slot(user_key(name), address):
            password_hash = await asyncio.to_thread(self._hasher.hash, password)
        try:
            await self._store.create_user(UserRow(name, password_hash, int(self._wall_clock())))
        except DuplicateUserError:
            if spent is not None:
                await self._store.refund_token(spent)
            raise RequestError(ErrorCode.USER_EXISTS, f"the name {name} is taken") from None
        self._names[user_key(name)] = name
        log_event(logger, "account_created", user=name)
        return name

    async def login(self, name: str, password: str, address: str, device: str | None = None) -> str:
        """Return the account's registered name, or raise ``AUTH_FAILED`` (any reason).

        ``device`` is the session's device fingerprint: a device ``DeviceTrust`` vouches
        for skips the throttle's budgets (not the hashing slots).
        """
        key = user_key(name)
        trusted = device is not None and await self._device_trust(key, device)
        reservation = await self._reserve(key, address, trusted)
        user = await self._store.get_user(name)
        stored_hash = user.password_hash if user else await self._decoy()
        async with self._hash_slot(key, address):
            verified = await asyncio.to_thread(self._verify, stored_hash, password)
        if verified and user is not None:
            await reservation.refund()
            return user.name
        log_event(logger, "login_failed", peer=address)
        raise RequestError(ErrorCode.AUTH_FAILED, "wrong user name or password")

    async def _spend_invitation(self, invite: str | None) -> str | None:
        """On an invite-only node: spend a use of ``invite`` (its hash is returned), or
        ``REGISTRATION_CLOSED``. Elsewhere no invitation is needed (None)."""
        if self._registration_open != "invite":
            return None
        digest = token_hash(invite) if invite else None
        now = int(self._wall_clock())
        if digest is None or await self._store.use_token(digest, "invite", now) is None:
            raise RequestError(
                ErrorCode.REGISTRATION_CLOSED,
                "this node accepts new accounts by invitation only: "
                "this invitation is unknown, used up or expired",
            )
        return digest

    async def reset_password(self, name: str, token: str, password: str, address: str) -> str:
        """§14.21 AUTH ``reset``: a live reset token made for ``name`` sets a new password;
        anything else is ``AUTH_FAILED`` (throttled like a login). Returns the name."""
        key = user_key(name)
        reservation = await self._reserve(key, address, trusted=False)
        user = await self._store.get_user(name)
        digest = token_hash(token)
        owner = await self._store.use_token(digest, "reset", int(self._wall_clock()))
        if user is None or owner != key:
            if owner is not None:
                await self._store.refund_token(digest)
            log_event(logger, "reset_failed", peer=address)
            raise RequestError(ErrorCode.AUTH_FAILED, "this reset token is not valid for you")
        await reservation.refund()
        if await self._store.is_disabled(key):  # §14.20: the token stays for later
            await self._store.refund_token(digest)
            raise RequestError(ErrorCode.ACCOUNT_DISABLED, f"the account {user.name} is disabled")
        async with self._hash_slot(key, address):
            password_hash = await asyncio.to_thread(self._hasher.hash, password)
        await self._store.set_password_hash(user.name, password_hash)
        log_event(logger, "password_reset", user=user.name)
        return user.name

    async def change_password(self, name: str, old: str, new: str, address: str) -> None:
        """§14.3 PASSWORD: ``old`` is checked like a login from an unknown device (a wrong
        one is ``AUTH_FAILED`` and spends the throttle's budgets, even from a signed-in
        device: a stolen session must not guess the password at leisure), then the new
        hash replaces the old one."""
        await self.login(name, old, address)
        async with self._hash_slot(user_key(name), address):
            password_hash = await asyncio.to_thread(self._hasher.hash, new)
        await self._store.set_password_hash(name, password_hash)
        log_event(logger, "password_changed", user=name)

    async def _reserve(self, key: str, address: str, trusted: bool) -> _Reservation:
        """Spend one failure from each budget now, all at once (locally without yielding, in
        Redis in one script); ``RATE_LIMITED`` if one is empty. The caller refunds it when
        the login succeeds."""
        group = address_group(address)
        charges: tuple[Charge, ...] = (
            ()
            if trusted
            else (
                (self._by_pair, f"{key}\n{group}"),
                (self._by_address, group),
                (self._by_account, key),
            )
        )
        _refuse_if_waiting(await self._buckets.take(charges), "too many failed attempts")
        return _Reservation(self._buckets, charges)

    @contextlib.asynccontextmanager
    async def _hash_slot(self, key: str, address: str) -> AsyncIterator[None]:
        """One of this address's, this account's, and the node's hashing slots, in that order
        (the same order everywhere, so holders never wait on each other in a cycle)."""
        async with (
            self._address_hashes.hold(address_group(address)),
            self._account_hashes.hold(key),
            self._slots,
        ):
            yield

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _decoy(self) -> str:
        """A hash of a random password, so unknown names cost as much as known ones."""
        if self._decoy_hash is None:
            async with self._slots:
                self._decoy_hash = await asyncio.to_thread(self._hasher.hash, "no such user")
        return self._decoy_hash


def token_hash(token: str) -> str:
    """§14.21: tokens are kept only as their SHA-256 (hex): a stolen database lets
    nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


class _Reservation:
    """The failure budget one login attempt holds while its password is checked."""

    def __init__(self, buckets: Buckets, charges: tuple[Charge, ...]) -> None:
        self._buckets = buckets
        self._charges = charges

    async def refund(self) -> None:
        """The attempt succeeded: it was not a failure, give its tokens back."""
        await self._buckets.refund(self._charges)


def _refuse_if_waiting(wait: int, reason: str) -> None:
    """``RATE_LIMITED`` with ``retry_after_ms`` when a budget says to wait ``wait`` ms."""
    if wait:
        raise RequestError(
            ErrorCode.RATE_LIMITED, f"{reason}; retry in {wait} ms", retry_after_ms=wait
        )
