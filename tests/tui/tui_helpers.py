"""Shared pieces of the terminal-client tests: a fixed clock, a lively chat state, a node.

Test modules import these from here, not from ``conftest``: every test directory has a
``conftest`` module, and which one that name means depends on what pytest collected first.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import time
from pathlib import Path

from PIL import Image, ImageDraw
from textual.pilot import Pilot
from textual.widgets import Input

from aronanet.client.state import (
    Activated,
    ChannelJoined,
    ChatState,
    EventsReceived,
    LinkDown,
    LinkUp,
    LoggedIn,
    MessageQueued,
    Noted,
    SendFailed,
    SendStarted,
    reduce,
)
from aronanet.client.transfers import cache_path
from aronanet.proto.messages import Attachment, JoinEvent, MsgEvent, PartEvent, TopicEvent
from aronanet.tui.app import AronaApp
from aronanet.tui.link import Backoff
from aronanet.tui.widgets.inline_image import InlineImage
from aronanet.tui.widgets.message_log import MessageLog
from support.real_node import RealNode

#: Tuesday 25 November 2025, 09:30 UTC: every snapshot renders at this instant.
FIXED_NOW = 1_764_063_000
UTC = dt.UTC


def fixed_clock() -> float:
    return float(FIXED_NOW)


async def _never_connect(address: str, trust_new: object) -> object:
    raise AssertionError("snapshot apps never connect")


#: A cache that does not exist: snapshot apps neither read nor write the user's image cache.
NO_CACHE = Path("/nonexistent/aronanet-test-cache")


def png_attachment(image: Image.Image, name: str) -> tuple[bytes, Attachment]:
    """``image`` as PNG bytes, and the attachment a node would describe them with."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    attachment = Attachment(
        image=hashlib.sha256(data).hexdigest(),
        name=name,
        mime="image/png",
        size=len(data),
        width=image.width,
        height=image.height,
    )
    return data, attachment


def store_in_cache(cache_dir: Path, data: bytes) -> None:
    """Put ``data`` where a verified download of it would be (the loader checks it again)."""
    target = cache_path(cache_dir, hashlib.sha256(data).hexdigest())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


@functools.cache
def arisu_drawing() -> tuple[bytes, Attachment]:
    """The picture of lively_state's "Look what I drew": a sky-blue sun over pink hills."""
    image = Image.new("RGB", (80, 40), (250, 252, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((28, 4, 52, 28), fill=(18, 150, 219))
    draw.ellipse((-20, 26, 44, 60), fill=(255, 182, 193))
    draw.ellipse((36, 28, 100, 62), fill=(255, 205, 214))
    return png_attachment(image, "drawing.png")


def picture_cache(cache_dir: Path) -> Path:
    """An image cache holding lively_state's drawing, so that a snapshot shows the picture
    (a cached image needs no link) instead of an ``OFFLINE`` beside an online status."""
    store_in_cache(cache_dir, arisu_drawing()[0])
    return cache_dir


def snapshot_app(theme: str, cache_dir: Path = NO_CACHE) -> AronaApp:
    """An app with the fixed clock and UTC, half-block images, that must not touch the
    network (images not in ``cache_dir`` show ``OFFLINE``; see ``picture_cache``)."""
    return AronaApp(
        _never_connect,  # type: ignore[arg-type]
        clock=fixed_clock,
        tz=UTC,
        theme_name=theme,
        cache_dir=cache_dir,
        save_dir=NO_CACHE,
        renderer="halfcell",
    )


async def hold_still(pilot: Pilot[int]) -> None:
    """Stop what changes with the wall clock, so that a screenshot taken late (a loaded
    machine) equals one taken at once: each input's cursor blinks every 0.5 s."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def image_settled(widget: InlineImage) -> bool:
    """True once an inline image shows its picture or the reason it has none."""
    return bool(widget.query(".inline-image--picture") or widget.query(".inline-image--error"))


async def settle_images(pilot: Pilot[int], count: int) -> None:
    """Wait until the log has ``count`` image widgets and each has finished loading."""
    log = pilot.app.screen.query_one(MessageLog)

    def settled() -> bool:
        widgets = log.image_widgets.values()
        return len(widgets) == count and all(image_settled(w) for w in widgets)

    await wait_for(pilot, settled)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _msg(
    i: int,
    sender: str,
    content: str,
    ts: int,
    dest: str = "#general",
    dest_type: str = "channel",
    attachment: Attachment | None = None,
) -> MsgEvent:
    extra = {"attachment": attachment} if attachment else {}
    return MsgEvent(
        id=f"m{i}",
        from_=sender,
        dest_type=dest_type,
        dest=dest,  # type: ignore[arg-type]
        content=content,
        timestamp=ts,
        **extra,
    )


def lively_state() -> ChatState:
    """Two days of #general, unread #lounge, a DM with a highlight, pending and failed lines."""
    yesterday, today = FIXED_NOW - 86_400, FIXED_NOW - 600
    picture = arisu_drawing()[1]
    events = (
        _msg(1, "hoshino", "Morning, everyone. I'm napping in the clubroom.", yesterday),
        JoinEvent(id="e1", from_="yuuka", channel="#general", timestamp=yesterday + 60),
        _msg(2, "yuuka", "Sensei, the budget report is due today.", today),
        _msg(3, "hoshino", "/me rolls over", today + 30),
        TopicEvent(
            id="e2", from_="yuuka", channel="#general", topic="Budget week!", timestamp=today + 60
        ),
        _msg(4, "arisu", "Look what I drew", today + 90, attachment=picture),
        PartEvent(id="e3", from_="arisu", channel="#general", timestamp=today + 120),
        _msg(5, "momoi", "psst, lunch?", today + 150, dest="#lounge"),
        _msg(6, "momoi", "new game tonight", today + 160, dest="#lounge"),
        _msg(
            7,
            "hoshino",
            "sensei, are you free later?",
            today + 170,
            dest="sensei",
            dest_type="user",
        ),
    )
    actions = [
        LinkUp("arona-node", "SHA256:" + "x" * 43),
        LoggedIn("sensei", ("#general", "#lounge"), today),
        ChannelJoined("#general", "Budget week!", ("sensei", "hoshino", "yuuka"), today),
        ChannelJoined("#lounge", "games and snacks", ("sensei", "momoi", "midori"), today),
        Activated("#general"),
        EventsReceived(events[:7]),
        EventsReceived(events[7:]),
        MessageQueued("#general", "Working on it, Yuuka!", today + 200),
        MessageQueued("#general", "Attaching the receipts now", today + 210),
    ]
    state = ChatState()
    for action in actions:
        state = reduce(state, action)  # type: ignore[arg-type]
    failed = state.buffers["#general"].lines[-1].id
    for action in (SendStarted(failed), SendFailed(failed, "RATE_LIMITED: slow down")):
        state = reduce(state, action)
    return state


async def open_chat(pilot: Pilot[int]) -> AronaApp:
    """The chat screen of a snapshot app showing ``lively_state`` in #general."""
    app = pilot.app
    assert isinstance(app, AronaApp)
    await app.enter_chat()
    app.state = lively_state()
    app.dispatch(Activated("#general"))
    await pilot.pause()
    return app


def reconnecting_state() -> ChatState:
    state = lively_state()
    state = reduce(state, LinkDown("connection reset", 4.0, FIXED_NOW))
    return reduce(
        state, Noted("Sensei, the link dropped (connection reset). Trying again in 4s…", FIXED_NOW)
    )


# --------------------------------------------------------------------------- real node


class Node(RealNode):
    """The shared real-node harness, reached at ``address`` as the chat client names it."""

    @property
    def address(self) -> str:
        return self.tcp_address


PASSWORD = "correct horse"


FAST_BACKOFF = Backoff(initial=0.2, factor=1.5, maximum=1.0, jitter=0.0)


async def wait_for(pilot: object, condition: object, timeout: float = 15.0) -> None:
    """Let the app run until ``condition()`` holds; fail with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.05)  # type: ignore[attr-defined]
