"""The sender's two load shapes: saturation and a fixed rate.

Saturation keeps a pipelined window of messages in flight: at most ``ack_window`` not yet
acknowledged by the server (ArTP's ``OK``; IRC acknowledges nothing) and at most
``lag_window`` not yet delivered to the slowest receiver. The fixed rate sends one message
every ``1 / rate`` seconds on an absolute schedule, so a late send does not shift the rest.
Both end with a bounded drain: every message delivered to every member, or an error.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from loadgen.counters import Progress
from loadgen.payload import make_content

_POLL_SECONDS = 0.0005
_MAX_BATCH = 64


class Sender(Protocol):
    sent: int

    @property
    def acked(self) -> int: ...

    def send_messages(self, channel: str, contents: list[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class Window:
    """Flow-control bounds of a saturation run, in messages."""

    ack_window: int = 128
    lag_window: int = 256


@dataclass(frozen=True, slots=True)
class SendRun:
    """What a load shape sent, and the wall-clock span until the last delivery."""

    messages: int
    started: float
    drained: float

    @property
    def seconds(self) -> float:
        return self.drained - self.started


async def saturate(
    sender: Sender,
    channel: str,
    progress: Progress,
    duration: float,
    window: Window,
    drain_timeout: float,
) -> SendRun:
    """Send as fast as the server takes messages, for ``duration`` seconds."""
    base = sender.sent
    started = time.monotonic()
    deadline = started + duration
    while time.monotonic() < deadline:
        in_flight = sender.sent - base
        room = min(
            window.ack_window - (sender.sent - sender.acked),
            window.lag_window - (in_flight - progress.slowest()),
            _MAX_BATCH,
        )
        if room <= 0:
            await asyncio.sleep(_POLL_SECONDS)
            continue
        sender.send_messages(channel, [make_content(in_flight + i) for i in range(room)])
        await asyncio.sleep(0)
    return await _drain(sender, base, progress, started, drain_timeout)


async def fixed_rate(
    sender: Sender,
    channel: str,
    progress: Progress,
    rate: float,
    duration: float,
    drain_timeout: float,
) -> SendRun:
    """Send ``rate`` messages per second for ``duration`` seconds on a fixed schedule."""
    base = sender.sent
    count = max(1, round(rate * duration))
    started = time.monotonic()
    for sequence in range(count):
        delay = started + sequence / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sender.send_messages(channel, [make_content(sequence)])
    return await _drain(sender, base, progress, started, drain_timeout)


async def _drain(
    sender: Sender, base: int, progress: Progress, started: float, timeout: float
) -> SendRun:
    """Wait until every member has every message and every message is acknowledged."""
    messages = sender.sent - base
    deadline = time.monotonic() + timeout
    while progress.slowest() < messages or sender.acked < sender.sent:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"after {timeout} s the slowest receiver has {progress.slowest()} of "
                f"{messages} messages and {sender.sent - sender.acked} are unacknowledged"
            )
        await asyncio.sleep(_POLL_SECONDS)
    return SendRun(messages=messages, started=started, drained=time.monotonic())
