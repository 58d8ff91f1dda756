"""``aronanet tail``: follow a session's events, across node restarts, with no gap and no
duplicate.

A node restart (an upgrade, a crash) must not end a script that follows a channel. When the
connection is lost, ``tail`` reconnects with a growing delay and replays, for each
conversation it follows, the stored messages after the last one it printed (the PROTOCOL.md
§6 ``HISTORY`` catch-up: ``after`` the last message id seen, repeated until an empty page).
Ids printed recently are remembered, so a message that arrives both live and in the replay
is printed once. A channel where nothing was printed yet resumes after the newest message it
held when ``tail`` first followed it, so nothing sent during the outage is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TextIO

from aronanet.client.community import AddressRing, parse_address_list
from aronanet.client.connection import ArtpClient
from aronanet.client.render import render_json, render_line
from aronanet.client.script import (
    CONNECTION_CODES,
    SessionOptions,
    channels_of,
    connect_to_community,
)
from aronanet.errors import ClientError
from aronanet.proto import messages

__all__ = ["CONNECTION_CODES", "TailOptions", "run_tail"]
#: The first delay before reconnecting, doubled after each failed attempt up to the cap.
FIRST_DELAY = 0.5
MAX_DELAY = 10.0
#: How many printed ids are remembered to drop a message delivered twice (live and replayed).
REMEMBERED_IDS = 10_000

#: A conversation: ("channel", "#name") or ("user", "name").
Conversation = tuple[str, str]


@dataclass(frozen=True)
class TailOptions:
    """What to follow and how: ``reconnect_for`` None retries forever, 0 never."""

    channels: list[str]
    since: str | None = None
    as_json: bool = False
    reconnect_for: float | None = None


@dataclass
class Position:
    """How far the output has got: the last message id per conversation, and the ids printed
    recently (insertion-ordered, oldest dropped first)."""

    last: dict[Conversation, str] = field(default_factory=dict)
    recent: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def seen(self, event_id: str | None) -> bool:
        return event_id is not None and event_id in self.recent

    def printed(self, event: messages.Event, me: str) -> None:
        event_id = getattr(event, "id", None)
        if event_id is None:
            return
        self.recent[event_id] = None
        if len(self.recent) > REMEMBERED_IDS:
            self.recent.popitem(last=False)
        if isinstance(event, messages.MsgEvent):
            self.last[conversation_of(event, me)] = event_id


def conversation_of(event: messages.MsgEvent, me: str) -> Conversation:
    """The conversation a message belongs to, as ``HISTORY`` names it (a DM by the peer)."""
    if event.dest_type == "channel":
        return ("channel", event.dest)
    peer = event.dest if event.from_.casefold() == me.casefold() else event.from_
    return ("user", peer)


async def run_tail(options: SessionOptions, tail: TailOptions, out: TextIO) -> bool:
    """Print events until SIGTERM (returns True) or until the node is gone for good.

    The first connection's failures are raised as they are (a wrong address or password is
    not worth retrying). After that, a lost connection is retried for ``reconnect_for``
    seconds; with 0 the function returns False at once, and when the time runs out it raises
    ``ClientError("DISCONNECTED")``.
    """
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    this_task = asyncio.current_task()
    assert this_task is not None

    def stop() -> None:
        stopped.set()
        this_task.cancel()

    # SIGTERM ends `tail` cleanly (exit 0) where the loop supports signal handlers; on
    # Windows it does not, and Ctrl-C (KeyboardInterrupt) is the way to stop.
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, stop)
    try:
        await _follow_across_restarts(options, tail, out)
    except asyncio.CancelledError:
        if not stopped.is_set():
            raise
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)
    return stopped.is_set()


async def _follow_across_restarts(options: SessionOptions, tail: TailOptions, out: TextIO) -> None:
    position = Position()
    ring = AddressRing(parse_address_list(options.address), spread=random.Random())
    client, welcome = await connect_to_community(options, sys.stderr, ring)
    await _session(client, welcome, options.user, tail, position, out, first=True)
    while tail.reconnect_for != 0:
        lost = ring.current
        print(
            f"aronanet tail: lost the connection to {lost}; reconnecting",
            file=sys.stderr,
            flush=True,
        )
        client, welcome = await _reconnect(options, tail.reconnect_for, ring)
        done = "reconnected to" if ring.current == lost else "moved to"
        print(f"aronanet tail: {done} {ring.current}", file=sys.stderr, flush=True)
        await _session(client, welcome, options.user, tail, position, out, first=False)


async def _reconnect(
    options: SessionOptions, reconnect_for: float | None, ring: AddressRing
) -> tuple[ArtpClient, messages.Ok]:
    """Log in again: at the community's next address at once, then at each in turn; between
    whole cycles (before each try with one address) wait FIRST_DELAY, then twice as long."""
    loop = asyncio.get_running_loop()
    deadline = None if reconnect_for is None else loop.time() + reconnect_for
    delay = FIRST_DELAY
    ring.lost()
    while True:
        if deadline is not None and loop.time() + delay > deadline:
            raise ClientError(
                "DISCONNECTED",
                f"lost the connection to {options.address} and could not reconnect within "
                f"{reconnect_for:g} s",
            )
        if len(ring.addresses) == 1 or ring.cycles:
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
        try:
            return await connect_to_community(options, sys.stderr, ring)
        except ClientError as error:
            if error.code not in CONNECTION_CODES:
                raise


async def _session(
    client: ArtpClient,
    welcome: messages.Ok,
    me: str,
    tail: TailOptions,
    position: Position,
    out: TextIO,
    *,
    first: bool,
) -> None:
    """Join, replay what was missed, then print live events until the connection ends."""
    try:
        async with client:
            member_of = channels_of(welcome)
            for channel in tail.channels:
                if channel not in member_of:
                    await client.join(channel)
            followed = tail.channels or member_of
            await _catch_up(client, followed, tail, position, me, out, first=first)
            wanted = set(tail.channels)
            async for event in client.events():
                if _is_wanted(event, wanted):
                    _print_once(event, position, me, tail.as_json, out)
    except ClientError as error:
        if error.code not in CONNECTION_CODES:
            raise


async def _catch_up(
    client: ArtpClient,
    followed: list[str],
    tail: TailOptions,
    position: Position,
    me: str,
    out: TextIO,
    *,
    first: bool,
) -> None:
    """Print the stored messages after where each conversation stands.

    Live events are queued from login on, so nothing falls between this replay and the
    live loop; a message in both is printed once.
    """
    conversations = [("channel", channel) for channel in followed]
    if not tail.channels:  # following everything: the direct messages seen so far too
        conversations += [c for c in position.last if c[0] == "user"]
    for conversation in conversations:
        after = position.last.get(conversation)
        if after is None and first and tail.since is not None:
            after = tail.since
        if after is None:
            await _mark_newest(client, conversation, position)
            continue
        async for message in client.history_after(*conversation, after):
            _print_once(message, position, me, tail.as_json, out)


async def _mark_newest(client: ArtpClient, conversation: Conversation, position: Position) -> None:
    """Remember the newest stored message of a conversation without printing it: where a
    replay starts if the connection is lost before anything there is printed."""
    newest = await client.history(*conversation, limit=1)
    if newest:
        position.last.setdefault(conversation, newest[-1].id)


def _print_once(
    event: messages.Event, position: Position, me: str, as_json: bool, out: TextIO
) -> None:
    if position.seen(getattr(event, "id", None)):
        return
    position.printed(event, me)
    if isinstance(event, messages.Error) and not as_json:
        print(render_line(event), file=sys.stderr, flush=True)
        return
    print(render_json(event) if as_json else render_line(event), file=out, flush=True)


def _is_wanted(event: messages.Event, channels: set[str]) -> bool:
    """With no channel filter everything is shown; otherwise only those channels' events."""
    if not channels:
        return True
    if isinstance(event, messages.MsgEvent | messages.ReadEvent):
        return event.dest_type == "channel" and event.dest in channels
    channel = getattr(event, "channel", None)
    return channel is None or channel in channels
