"""Images in the terminal client, against a real node: /img with its progress bar, cancel,
refusals with their codes, and pictures other users post appearing inline (fetched only
once they scroll into view)."""

from __future__ import annotations

import io
import random
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from live_app import SIZE, join, make_app, notes, register, type_line
from PIL import Image
from textual.pilot import Pilot
from textual.widgets import ProgressBar, Static
from tui_helpers import PASSWORD, Node, wait_for

from aronanet.client.connection import ArtpClient
from aronanet.client.state import LinkStatus
from aronanet.client.transfers import cache_path, upload_image
from aronanet.proto.messages import MsgEvent
from aronanet.tui.app import AronaApp
from aronanet.tui.widgets.inline_image import ImageUpload, InlineImage
from aronanet.tui.widgets.message_log import MessageLog

SKY = (18, 150, 219)


def noise_png(path: Path, side: int, *, seed: int = 0) -> Path:
    """Random pixels do not compress: a file of about 3 * side² bytes, many chunks long."""
    pixels = random.Random(seed).randbytes(side * side * 3)
    Image.frombytes("RGB", (side, side), pixels).save(path, compress_level=1)
    return path


def sky_png(path: Path) -> Path:
    Image.new("RGB", (64, 32), SKY).save(path)
    return path


def upload_widgets(app: AronaApp) -> list[ImageUpload]:
    return list(app.screen.query(ImageUpload).results(ImageUpload))


def status_of(widget: ImageUpload) -> str:
    return str(widget.query_one(".image-upload--status", Static).content)


def image_lines(app: AronaApp) -> list[str]:
    return [line.attachment.name for line in app.state.current.lines if line.attachment]


def picture_colours(widget: InlineImage) -> set[tuple[int, ...]]:
    picture = widget.query_one(".inline-image--picture")
    return {
        tuple(segment.style.color.triplet)
        for y in range(picture.size.height)
        for segment in picture.render_line(y)
        if segment.style and segment.style.color and segment.style.color.triplet
    }


async def chat_in_general(pilot: Pilot[int], app: AronaApp) -> None:
    await register(pilot)
    await join(pilot, app, "#general")


async def test_upload_shows_its_progress_then_the_image_in_the_senders_log(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#general")
    photo = noise_png(tmp_path / "photo.png", 700)  # ~1.5 MB: about 45 chunks
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await chat_in_general(pilot, app)
        await type_line(pilot, f"/img {photo}")
        await wait_for(pilot, lambda: len(upload_widgets(app)) == 1)
        widget = upload_widgets(app)[0]
        assert widget.region.height > 0  # on screen, above the input line
        await wait_for(pilot, lambda: (widget.query_one(ProgressBar).progress or 0) > 0)
        await wait_for(pilot, lambda: image_lines(app) == ["photo.png"])
        assert status_of(widget) == "sent"
        assert widget.query_one(ProgressBar).percentage == 1.0
        await wait_for(pilot, lambda: not upload_widgets(app))
        log = app.screen.query_one(MessageLog)
        await wait_for(pilot, lambda: len(log.image_widgets) == 1)
        (inline,) = log.image_widgets.values()
        await wait_for(pilot, lambda: bool(inline.query(".inline-image--picture")))
        assert app.images.downloads_started == 0  # our own upload was cached, not fetched
    (seen,) = await peer.history("channel", "#general")
    assert seen.from_ == "sensei" and seen.attachment
    assert seen.attachment.name == "photo.png" and seen.attachment.width == 700
    line = next(line for line in app.state.buffers["#general"].lines if line.attachment)
    assert (line.id, line.timestamp) == (seen.id, seen.timestamp)


async def test_upload_typed_while_offline_waits_for_the_link_then_goes_through(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#general")
    photo = noise_png(tmp_path / "photo.png", 300)
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await chat_in_general(pilot, app)
        node.stop()
        await wait_for(pilot, lambda: app.state.link.status is not LinkStatus.ONLINE)
        await type_line(pilot, f"/img {photo}")
        await wait_for(pilot, lambda: len(upload_widgets(app)) == 1)
        (widget,) = upload_widgets(app)
        assert status_of(widget) == "Esc cancels"  # waiting for the link, not failed
        node.start()
        await wait_for(pilot, lambda: image_lines(app) == ["photo.png"], timeout=20)
    history = await reconnected_history(node)
    assert [m.attachment.name for m in history if m.attachment] == ["photo.png"]


async def test_escape_cancels_a_waiting_upload_and_nothing_is_posted(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#general")
    photo = noise_png(tmp_path / "photo.png", 300)
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await chat_in_general(pilot, app)
        node.stop()
        await wait_for(pilot, lambda: app.state.link.status is not LinkStatus.ONLINE)
        await type_line(pilot, f"/img {photo}")
        await wait_for(pilot, lambda: len(upload_widgets(app)) == 1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: any("cancelled" in note for note in notes(app)))
        (widget,) = upload_widgets(app)
        assert status_of(widget) == "cancelled"
        node.start()
        await wait_for(pilot, lambda: app.state.link.status is LinkStatus.ONLINE, timeout=20)
        await pilot.press("escape")  # a second Escape clears the finished upload
        await wait_for(pilot, lambda: not upload_widgets(app))
        assert image_lines(app) == []
    assert await reconnected_history(node) == []


async def reconnected_history(node: Node) -> list[MsgEvent]:
    """#general as a fresh session of hoshino sees it (the peer's session died with the node)."""
    client = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    try:
        await client.auth("hoshino", PASSWORD)
        return await client.history("channel", "#general")
    finally:
        await client.close()


async def test_refusals_show_the_code_and_an_explanation(node: Node, tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"#!/bin/sh\necho not a picture\n")
    picture = sky_png(tmp_path / "sky.png")
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await chat_in_general(pilot, app)
        await type_line(pilot, f"/img {fake}")
        await wait_for(pilot, lambda: any("IMAGE_INVALID" in note for note in notes(app)))
        (local,) = upload_widgets(app)
        assert status_of(local).startswith("IMAGE_INVALID: the node could not read it")
        await type_line(pilot, "/query nobody")
        await type_line(pilot, f"/img {picture}")
        await wait_for(pilot, lambda: any("NO_SUCH_USER" in note for note in notes(app)))
        (refused,) = upload_widgets(app)  # the new upload cleared the finished one
        assert status_of(refused).startswith("NO_SUCH_USER: there is no such user on this node")
        assert image_lines(app) == []


async def test_a_refused_upload_panel_goes_by_itself_or_with_the_next_line(
    node: Node, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"not a picture")
    app = make_app(node, tmp_path / "cfg", failed_upload_linger=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await chat_in_general(pilot, app)
        await type_line(pilot, f"/img {fake}")
        await wait_for(pilot, lambda: any("IMAGE_INVALID" in note for note in notes(app)))
        await wait_for(pilot, lambda: not upload_widgets(app), timeout=5)
        app.uploads._failed_linger = 60.0  # now only the next line may clear it
        await type_line(pilot, f"/img {fake}")
        await wait_for(
            pilot,
            lambda: any(status_of(w).startswith("IMAGE_INVALID") for w in upload_widgets(app)),
        )
        await type_line(pilot, "and now something else")
        await pilot.pause()
        assert upload_widgets(app) == []


async def test_image_from_another_user_renders_inline_and_can_be_opened_and_saved(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    opened: list[Path] = []
    app = make_app(node, tmp_path / "cfg", viewer=opened)
    async with app.run_test(size=SIZE) as pilot:
        await chat_in_general(pilot, app)
        await peer.join("#general")
        await upload_image(peer, sky_png(tmp_path / "sky.png"), "channel", "#general")
        await wait_for(pilot, lambda: image_lines(app) == ["sky.png"])
        log = app.screen.query_one(MessageLog)
        await wait_for(pilot, lambda: len(log.image_widgets) == 1)
        (inline,) = log.image_widgets.values()
        await wait_for(pilot, lambda: bool(inline.query(".inline-image--picture")))
        caption = str(inline.query_one(".inline-image--caption", Static).content)
        assert caption.startswith("sky.png · ") and caption.endswith(" · 64×32")
        assert SKY in picture_colours(inline)
        cached = cache_path(app.images.cache_dir, inline.attachment.image)
        assert cached.is_file() and app.images.downloads_started == 1
        await type_line(pilot, "/open")
        await wait_for(pilot, lambda: opened == [cached])
        await type_line(pilot, "/save")
        saved = tmp_path / "cfg" / "saved" / "sky.png"
        await wait_for(pilot, lambda: saved.is_file())
        assert saved.read_bytes() == cached.read_bytes()


async def test_images_far_up_the_scrollback_download_only_when_scrolled_into_view(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#general")
    for number in range(3):
        colour = (40 * number, 90, 200)
        buffer = io.BytesIO()
        Image.new("RGB", (16, 16), colour).save(buffer, format="PNG")
        path = tmp_path / f"old{number}.png"
        path.write_bytes(buffer.getvalue())
        await upload_image(peer, path, "channel", "#general")
    for number in range(80):
        await peer.send_message("channel", "#general", f"chatter {number}")
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await chat_in_general(pilot, app)
        await wait_for(pilot, lambda: len(app.state.current.lines) >= 83)
        await pilot.pause()
        log = app.screen.query_one(MessageLog)
        assert image_lines(app) == ["old0.png", "old1.png", "old2.png"]
        assert log.image_widgets == {} and app.images.downloads_started == 0
        log.scroll_home(animate=False, immediate=True)
        await wait_for(pilot, lambda: len(log.image_widgets) >= 2)
        await wait_for(pilot, lambda: app.images.downloads_started >= 2)
        await wait_for(
            pilot,
            lambda: all(w.query(".inline-image--picture") for w in log.image_widgets.values()),
        )
        log.scroll_end(animate=False, immediate=True)
        await wait_for(pilot, lambda: log.image_widgets == {})
