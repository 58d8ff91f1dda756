"""Terminal client responsiveness: key press to screen, under a busy channel.

The issue's target: with 50 channels, 10,000 lines of scrollback and a channel receiving
100 messages per second, a key press shows on screen in under 50 ms. This drives the real
``AronaApp`` headless with Textual's Pilot: the state is built by the real reducer, the busy
channel is fed the way ``ChatSession`` feeds it (``EventsReceived`` batches once per frame),
and each sample is the time from a key event entering the app the way a real key does (the
driver's ``send_message``, as Pilot does) until the input line holds the key and the next
frame has been written to the terminal (``App._display``; the headless driver writes it
nowhere, so terminal I/O is not counted). ``pilot.press`` itself is not timed: it waits for
the process to go idle, which a busy channel never lets it do, and would measure that wait.

    .venv/bin/python bench/bench_tui.py                 # the issue's numbers
    .venv/bin/python bench/bench_tui.py --presses 1000 --rate 200 --active quiet

``--active busy`` (default) has the user looking at the busy channel, the worst case: every
frame appends rows to the visible log.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import statistics
import string
import sys
import time
from collections.abc import Iterator

from textual import events

from aronanet.client.state import (
    Activated,
    ChannelJoined,
    ChatState,
    EventsReceived,
    LoggedIn,
    reduce,
)
from aronanet.proto.messages import MsgEvent
from aronanet.tui.app import AronaApp
from aronanet.tui.session import FRAME_SECONDS
from aronanet.tui.widgets.chat_input import ChatInput

TARGET_MS = 50.0
SIZE = (140, 45)
NICKS = ("hoshino", "yuuka", "arisu", "momoi", "midori", "hina", "iori", "aru")


def message(number: int, channel: str, now: int) -> MsgEvent:
    nick = NICKS[number % len(NICKS)]
    return MsgEvent(
        id=f"b{number}",
        from_=nick,
        dest_type="channel",
        dest=channel,
        content=f"message {number}: the budget report, the clubroom, and lunch at noon",
        timestamp=now,
    )


def build_state(channels: int, scrollback: int, active: str, now: int) -> ChatState:
    """``channels`` joined channels, ``scrollback`` lines in #busy, ``active`` in view."""
    names = ["#busy", "#quiet", *(f"#room{n}" for n in range(channels - 2))]
    state = reduce(ChatState(), LoggedIn("sensei", tuple(names), now))
    for name in names:
        state = reduce(state, ChannelJoined(name, "benchmark", ("sensei", *NICKS), now))
    history = tuple(message(n, "#busy", now - scrollback + n) for n in range(scrollback))
    state = reduce(state, EventsReceived(history))
    return reduce(state, Activated(active))


async def feed(app: AronaApp, rate: float, stop: asyncio.Event, counter: Iterator[int]) -> int:
    """Deliver ``rate`` messages/s to #busy in one batch per frame, as ChatSession does."""
    sent = 0
    carry = 0.0
    while not stop.is_set():
        carry += rate * FRAME_SECONDS
        batch = int(carry)
        carry -= batch
        if batch:
            now = int(time.time())
            app.dispatch(
                EventsReceived(tuple(message(next(counter), "#busy", now) for _ in range(batch)))
            )
            sent += batch
        await asyncio.sleep(FRAME_SECONDS)
    return sent


class FrameClock:
    """Records when the app last wrote a frame (wraps ``App._display`` on this instance)."""

    def __init__(self, app: AronaApp) -> None:
        self.last = 0.0
        display = app._display

        def timed(screen: object, renderable: object) -> None:
            display(screen, renderable)  # type: ignore[arg-type]
            self.last = time.perf_counter()

        app._display = timed  # type: ignore[method-assign]


async def press_to_screen(
    app: AronaApp, chat_input: ChatInput, frames: FrameClock, key: str
) -> float:
    """Milliseconds from the key event to the first frame written after the input shows it."""
    event = events.Key(key, key)
    event.set_sender(app)
    before = time.perf_counter()
    assert app._driver is not None
    app._driver.send_message(event)
    while not chat_input.value.endswith(key):
        await asyncio.sleep(0)
    typed = time.perf_counter()
    while frames.last < typed:
        await asyncio.sleep(0)
    return (frames.last - before) * 1000


async def _no_network(address: str, trust_new: object) -> object:
    raise RuntimeError("the benchmark never connects")


def full_collections() -> int:
    """Full (generation 2) garbage collections so far: each is a pause of tens of ms."""
    return int(gc.get_stats()[2]["collections"])


async def run(args: argparse.Namespace) -> tuple[list[float], int, float, int]:
    app = AronaApp(_no_network, renderer="halfcell")  # type: ignore[arg-type]
    latencies: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await app.enter_chat()
        now = int(time.time())
        app.state = build_state(args.channels, args.scrollback, f"#{args.active}", now)
        app.dispatch(Activated(f"#{args.active}"))
        await pilot.pause()
        chat_input = app.screen.query_one(ChatInput)
        frames = FrameClock(app)
        stop = asyncio.Event()
        feeder = asyncio.ensure_future(feed(app, args.rate, stop, itertools.count(args.scrollback)))
        await pilot.pause(1.0)  # let the feed reach its steady state
        started, collections = time.perf_counter(), full_collections()
        keys = itertools.cycle(string.ascii_lowercase)
        for number in range(args.presses):
            if number % 60 == 0:
                chat_input.value = ""
            key = next(keys)
            latencies.append(await press_to_screen(app, chat_input, frames, key))
            await asyncio.sleep(0.005)  # a fast typist, not a flood
        elapsed = time.perf_counter() - started
        collections = full_collections() - collections
        stop.set()
        delivered = await feeder
    return latencies, delivered, elapsed, collections


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(
    args: argparse.Namespace,
    latencies: list[float],
    delivered: int,
    elapsed: float,
    collections: int,
) -> None:
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    rows = [
        ("load average (1/5/15 min, at the end)", f"{load} on {os.cpu_count()} CPUs"),
        ("channels", f"{args.channels}"),
        ("scrollback lines (#busy)", f"{args.scrollback}"),
        ("busy channel rate", f"{args.rate:g} msg/s (in view: #{args.active})"),
        ("messages delivered during the run", f"{delivered} in {elapsed:.1f} s"),
        ("key presses", f"{len(latencies)}"),
        ("p50 key -> screen", f"{statistics.median(latencies):.1f} ms"),
        ("p90 key -> screen", f"{percentile(latencies, 0.90):.1f} ms"),
        ("p99 key -> screen", f"{percentile(latencies, 0.99):.1f} ms"),
        ("max key -> screen", f"{max(latencies):.1f} ms"),
        ("full GC collections while typing", f"{collections}"),
        (
            "target (p99)",
            f"< {TARGET_MS:g} ms: "
            + ("met" if percentile(latencies, 0.99) < TARGET_MS else "MISSED"),
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print("command: " + " ".join([sys.executable, *sys.argv]))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--scrollback", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s to #busy")
    parser.add_argument("--presses", type=int, default=400)
    parser.add_argument("--active", choices=("busy", "quiet"), default="busy")
    args = parser.parse_args()
    latencies, delivered, elapsed, collections = asyncio.run(run(args))
    report(args, latencies, delivered, elapsed, collections)


if __name__ == "__main__":
    main()
