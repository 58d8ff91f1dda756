"""The ``Broker`` interface: how an encoded event reaches sessions, possibly on other nodes.

A ``Delivery`` is one encoded event and the users it is for. The router publishes it; every
subscribed node (just this one with the in-process broker) hands it to its local sessions
of those users. Publishing never awaits: it is on the hot path of every message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event for ``recipients`` (user keys), except the session ``skip_session``.

    ``feature``: only sessions that enabled this ArTP/1.1 feature get it (§14.1: what is
    new on the wire is sent only to sessions that asked for it). ``close``: instead of (or
    after) the event, the matching sessions of the recipients are closed (§14.3: a revoked
    device's sessions end at once, on whichever node they are).
    """

    recipients: tuple[str, ...]
    payload: bytes  # the event's JSON, encoded once for every recipient session
    skip_session: str | None = None
    feature: str | None = None
    close: CloseSessions | None = None


@dataclass(frozen=True, slots=True)
class CloseSessions:
    """Which sessions of a delivery's recipients to close: those of ``devices`` (device ids),
    or, with ``devices`` None, every session whose device is not ``spare_device``."""

    devices: tuple[str, ...] | None = None
    spare_device: str | None = None
    reason: str = "closed by the account owner"

    def matches(self, device: str | None) -> bool:
        if self.devices is not None:
            return device in self.devices
        return device != self.spare_device


DeliveryHandler = Callable[[Delivery], None]


class Broker(ABC):
    """Carries deliveries between nodes serving one community."""

    @abstractmethod
    def subscribe(self, handler: DeliveryHandler) -> None:
        """Call ``handler`` for every delivery published by any node (this one included)."""

    @abstractmethod
    def publish(self, delivery: Delivery) -> None:
        """Send ``delivery`` to every subscriber; must not block or await."""

    async def start(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Connect to the backend, if there is one."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Disconnect; deliveries published afterwards are dropped."""
