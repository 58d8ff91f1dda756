"""The chat's link settings: who signs in where, how long to wait between tries, and which
failures no other try (or other address of the community) can mend."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from aronanet.client import sync
from aronanet.errors import ClientError


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnect attempts: ``initial * factor**n`` capped, with jitter."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        base = min(self.maximum, self.initial * self.factor**attempt)
        return base * (1 - self.jitter * rng())


@dataclass(frozen=True)
class Login:
    address: str
    user: str
    #: Kept in memory to log in again after a reconnect if the device cannot; never logged.
    #: Empty: sign in with this device only (ArTP/1.1 §14.3).
    password: str
    #: §14.21: the invitation token that lets this registration through ("" for none).
    invite: str = ""
    #: §14.21: a password reset token, ``password`` then being the new one ("" for none).
    reset: str = ""

    def password_source(self) -> sync.PasswordSource | None:
        """What ``sign_in`` asks when the device is not enough: the typed password, if any."""
        password = self.password
        return (lambda: password) if password else None


def is_final(error: BaseException) -> bool:
    """A failure another address of the community cannot change: a refused key or login."""
    return isinstance(error, ClientError) and error.code in ("AUTH_FAILED", "UNTRUSTED", "ADDRESS")
