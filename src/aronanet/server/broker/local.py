"""The default ``Broker``: in-process, for a node that serves its community alone."""

from __future__ import annotations

from aronanet.server.broker.base import Broker, Delivery, DeliveryHandler


class LocalBroker(Broker):
    """Hands each delivery straight to the subscribers, synchronously."""

    def __init__(self) -> None:
        self._handlers: list[DeliveryHandler] = []

    def subscribe(self, handler: DeliveryHandler) -> None:
        self._handlers.append(handler)

    def publish(self, delivery: Delivery) -> None:
        for handler in self._handlers:
            handler(delivery)
