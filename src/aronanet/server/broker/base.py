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
    """An event for ``recipients`` (user keys), except the session ``skip_session``."""

    recipients: tuple[str, ...]
    payload: bytes  # the event's JSON, encoded once for every recipient session
    skip_session: str | None = None


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
