"""What one broker event costs Redis, by number of subscribers, measured on Redis alone.

Every node of a community subscribes to the one channel its events go through
(``broker/redis.py``), so each event is one ``PUBLISH`` and one delivery per node. This
probe publishes ``events`` payloads of ``size`` bytes (pipelined, as the nodes do) to a
channel of its own with 1, 4 and 16 plain-socket subscribers that read and discard, and
reads Redis's CPU (``INFO cpu``, getrusage) around it: Redis's cost per event is then
``base + per_subscriber x subscribers``, the two numbers the estimate in docs/SCALE-OUT.md
needs. Redis is shared: run it on a quiet server.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

_PIPELINE = 1000


@dataclass(frozen=True, slots=True)
class RedisCost:
    subscribers: int
    events: int
    cpu_seconds: float

    @property
    def us_per_event(self) -> float:
        return self.cpu_seconds / self.events * 1e6


def _message_bytes(channel: str, size: int) -> int:
    """Length of one RESP2 pub/sub ``message`` push carrying ``size`` bytes."""
    parts = [b"message", channel.encode(), b"x" * size]
    return len(b"*3\r\n") + sum(len(f"${len(part)}\r\n".encode()) + len(part) + 2 for part in parts)


class _Subscriber(threading.Thread):
    """A raw socket subscribed to ``channel``, reading until ``expected`` bytes came."""

    def __init__(self, host: str, port: int, channel: str, expected: int) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection((host, port), timeout=30)
        command = f"*2\r\n$9\r\nSUBSCRIBE\r\n${len(channel)}\r\n{channel}\r\n"
        self.sock.sendall(command.encode())
        confirmation = len(f"*3\r\n$9\r\nsubscribe\r\n${len(channel)}\r\n{channel}\r\n:1\r\n")
        self.expected = expected + confirmation
        self.received = 0

    def run(self) -> None:
        try:
            while self.received < self.expected:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return
                self.received += len(chunk)
        finally:
            self.sock.close()


def _cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _wait_subscribed(client: redis.Redis, channel: str, count: int) -> None:
    for _ in range(500):
        numsub = dict(client.pubsub_numsub(channel))
        if numsub.get(channel.encode(), 0) >= count:
            return
        threading.Event().wait(0.01)
    raise TimeoutError(f"{count} subscribers did not subscribe to {channel}")


def publish_cost(url: str, subscribers: int, events: int, size: int) -> RedisCost:
    """Redis CPU for ``events`` publishes of ``size`` bytes to ``subscribers`` readers."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    channel = f"aronanet-bench-cost-{os.getpid()}-{secrets.token_hex(3)}"
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    readers = [
        _Subscriber(host, port, channel, events * _message_bytes(channel, size))
        for _ in range(subscribers)
    ]
    try:
        for reader in readers:
            reader.start()
        _wait_subscribed(client, channel, subscribers)
        payload = secrets.token_bytes(size)
        before = _cpu(client)
        for start in range(0, events, _PIPELINE):
            pipe = client.pipeline(transaction=False)
            for _ in range(min(_PIPELINE, events - start)):
                pipe.publish(channel, payload)
            pipe.execute()
        for reader in readers:
            reader.join(timeout=60)
        return RedisCost(subscribers, events, _cpu(client) - before)
    finally:
        client.close()


def fanout_costs(url: str, events: int, size: int) -> list[RedisCost]:
    """``publish_cost`` with 1, 4 and 16 subscribers."""
    return [publish_cost(url, count, events, size) for count in (1, 4, 16)]


def per_subscriber(costs: list[RedisCost]) -> tuple[float, float]:
    """(µs per event with no subscriber, µs per subscriber) by least squares."""
    xs = [cost.subscribers for cost in costs]
    ys = [cost.us_per_event for cost in costs]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return mean_y - slope * mean_x, slope
