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


#: A sender and the channel it writes to.
Lane = tuple[Sender, str]


async def saturate_many(
    lanes: list[Lane],
    progress: Progress,
    duration: float,
    window: Window,
    drain_timeout: float,
) -> SendRun:
    """``saturate`` for several senders, each on its own channel, in lock-step.

    Every lane sends the same messages at the same time, so every receiver of every channel
    expects the same count and one ``progress`` minimum bounds them all; the lanes advance
    as fast as the slowest of them is acknowledged and delivered.
    """
    bases = [sender.sent for sender, _ in lanes]
    started = time.monotonic()
    deadline = started + duration
    sequence = 0
    while time.monotonic() < deadline:
        unacknowledged = max(sender.sent - sender.acked for sender, _ in lanes)
        room = min(
            window.ack_window - unacknowledged,
            window.lag_window - (sequence - progress.slowest()),
            _MAX_BATCH,
        )
        if room <= 0:
            await asyncio.sleep(_POLL_SECONDS)
            continue
        contents = [make_content(sequence + i) for i in range(room)]
        for sender, channel in lanes:
            sender.send_messages(channel, contents)
        sequence += room
        await asyncio.sleep(0)
    return await _drain_all(lanes, bases, progress, started, drain_timeout)


async def fixed_rate_many(
    lanes: list[Lane],
    progress: Progress,
    rate: float,
    duration: float,
    drain_timeout: float,
) -> SendRun:
    """``rate`` messages per second in all, shared evenly by the lanes, their schedules
    staggered so the sends do not come in bursts of one per lane."""
    share = rate / len(lanes)

    async def lane(index: int, sender: Sender, channel: str) -> SendRun:
        await asyncio.sleep(index / rate)
        return await fixed_rate(sender, channel, progress, share, duration, drain_timeout)

    runs = await asyncio.gather(*(lane(i, *pair) for i, pair in enumerate(lanes)))
    return _combined(runs)


async def _drain_all(
    lanes: list[Lane], bases: list[int], progress: Progress, started: float, timeout: float
) -> SendRun:
    runs = await asyncio.gather(
        *(
            _drain(sender, base, progress, started, timeout)
            for (sender, _), base in zip(lanes, bases, strict=True)
        )
    )
    return _combined(runs)


def _combined(runs: list[SendRun]) -> SendRun:
    return SendRun(
        messages=sum(run.messages for run in runs),
        started=min(run.started for run in runs),
        drained=max(run.drained for run in runs),
    )
