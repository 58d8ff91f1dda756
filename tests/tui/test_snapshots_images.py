"""Snapshots of images in the chat: a picture inline in the log, and an upload in progress.

Light and dark, fixed clock, UTC, half-block rendering (the fallback every terminal has).
The picture comes from a cache in tmp_path, verified by SHA-256 like any download. Update
with ``--snapshot-update`` after looking at the SVGs under ``__snapshots__``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from textual.pilot import Pilot
from tui_helpers import (
    FIXED_NOW,
    hold_still,
    lively_state,
    picture_cache,
    png_attachment,
    settle_images,
    snapshot_app,
    store_in_cache,
)

from aronanet.client.state import Activated, ChatState, EventsReceived, reduce
from aronanet.proto.messages import Attachment, MsgEvent
from aronanet.tui.theme import DARK, LIGHT
from aronanet.tui.widgets.inline_image import ImageUpload

SIZE = (110, 32)
THEMES = pytest.mark.parametrize("theme", [LIGHT, DARK])


def halo_picture(cache_dir: Path) -> Attachment:
    """A sky-blue halo on white, stored in the cache under its SHA-256."""
    image = Image.new("RGB", (96, 48), (250, 252, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((28, 6, 68, 42), outline=(18, 150, 219), width=6)
    draw.rectangle((0, 40, 96, 48), fill=(255, 182, 193))
    data, attachment = png_attachment(image, "halo.png")
    store_in_cache(cache_dir, data)
    return attachment


def state_with_picture(attachment: Attachment) -> ChatState:
    """The lively chat, then arisu posts the halo as the newest message."""
    event = MsgEvent(
        id="m-halo",
        from_="arisu",
        dest_type="channel",
        dest="#general",
        content="The halo, as promised",
        timestamp=FIXED_NOW - 60,
        attachment=attachment,
    )
    state = reduce(lively_state(), EventsReceived((event,)))
    general = state.buffers["#general"]
    # keep it the last line: drop the pending and failed lines of lively_state
    lines = tuple(line for line in general.lines if line.sender != "sensei")
    return dataclasses.replace(
        state, buffers={**state.buffers, "#general": dataclasses.replace(general, lines=lines)}
    )


@THEMES
def test_log_with_an_inline_image(
    snap_compare: Callable[..., bool], theme: str, tmp_path: Path
) -> None:
    cache = picture_cache(tmp_path / "cache")
    attachment = halo_picture(cache)

    async def before(pilot: Pilot[int]) -> None:
        app = pilot.app
        await app.enter_chat()  # type: ignore[attr-defined]
        app.state = state_with_picture(attachment)  # type: ignore[attr-defined]
        app.dispatch(Activated("#general"))  # type: ignore[attr-defined]
        await pilot.pause()
        await settle_images(pilot, 2)  # the halo and lively_state's drawing, both cached
        await hold_still(pilot)

    assert snap_compare(snapshot_app(theme, cache), terminal_size=SIZE, run_before=before)


@THEMES
def test_upload_in_progress(snap_compare: Callable[..., bool], theme: str, tmp_path: Path) -> None:
    async def before(pilot: Pilot[int]) -> None:
        app = pilot.app
        await app.enter_chat()  # type: ignore[attr-defined]
        app.state = lively_state()  # type: ignore[attr-defined]
        app.dispatch(Activated("#general"))  # type: ignore[attr-defined]
        size = 2_400_000
        upload = ImageUpload(Path("receipts.png"), size, asyncio.Event())
        app.show_upload(upload)  # type: ignore[attr-defined]
        await pilot.pause()
        upload.show_progress(size * 2 // 5, size)
        await settle_images(pilot, 1)
        await hold_still(pilot)

    cache = picture_cache(tmp_path / "cache")
    assert snap_compare(snapshot_app(theme, cache), terminal_size=SIZE, run_before=before)
