"""Pilot tests of the image widgets: inline rendering, download progress, upload progress."""

from __future__ import annotations

import asyncio
from pathlib import Path

import image_samples as samples
from PIL import Image
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import ProgressBar, Static

from aronanet.proto.messages import Attachment
from aronanet.tui.widgets.inline_image import (
    ImageUpload,
    InlineImage,
    explain_refusal,
    save_copy,
    viewer_command,
)

RED = (220, 20, 60)


def red_png(tmp_path: Path) -> tuple[Path, Attachment]:
    path = tmp_path / "red.png"
    Image.new("RGB", (40, 20), RED).save(path)
    attachment = Attachment(
        image="ab" * 32,
        name="red.png",
        mime="image/png",
        size=path.stat().st_size,
        width=40,
        height=20,
    )
    return path, attachment


class Harness(App[None]):
    """One widget on screen, and every message it posts."""

    def __init__(self, widget: InlineImage | ImageUpload) -> None:
        super().__init__()
        self.widget = widget
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_inline_image_open_requested(self, message: InlineImage.OpenRequested) -> None:
        self.posted.append(message)

    def on_inline_image_save_requested(self, message: InlineImage.SaveRequested) -> None:
        self.posted.append(message)

    def on_image_upload_cancelled(self, message: ImageUpload.Cancelled) -> None:
        self.posted.append(message)


def static_text(widget: InlineImage | ImageUpload, selector: str) -> str:
    return str(widget.query_one(selector, Static).content)


async def test_inline_image_shows_name_size_and_dimensions_before_the_pixels(
    tmp_path: Path,
) -> None:
    _, attachment = red_png(tmp_path)
    widget = InlineImage(attachment, renderer="halfcell")
    async with Harness(widget).run_test() as pilot:
        widget.show_progress(50, 200)
        await pilot.pause()
        assert static_text(widget, ".inline-image--caption").startswith("red.png · ")
        assert "40×20" in static_text(widget, ".inline-image--caption")
        assert static_text(widget, ".inline-image--status") == "downloading… 25%"


async def test_inline_image_renders_the_pictures_colours_in_half_blocks(tmp_path: Path) -> None:
    path, attachment = red_png(tmp_path)
    widget = InlineImage(attachment, renderer="halfcell")
    async with Harness(widget).run_test(size=(60, 20)) as pilot:
        widget.show_file(path)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        picture = widget.query_one(".inline-image--picture")
        assert picture.size.width > 0 and picture.size.height > 0
        strip = picture.render_line(0)
        colours = {
            segment.style.color.triplet
            for segment in strip
            if segment.style and segment.style.color and segment.style.color.triplet
        }
        assert RED in {tuple(colour) for colour in colours}
        assert not widget.query(".inline-image--status")


async def test_inline_image_reports_a_failed_download_with_its_code(tmp_path: Path) -> None:
    _, attachment = red_png(tmp_path)
    widget = InlineImage(attachment, renderer="halfcell")
    async with Harness(widget).run_test() as pilot:
        widget.show_error("NOT_FOUND", "no such image")
        await pilot.pause()
        status = widget.query_one(".inline-image--status", Static)
        assert str(status.content) == "NOT_FOUND: no such image"
        assert status.has_class("inline-image--error")


async def test_open_and_save_keys_post_requests_with_the_verified_path(tmp_path: Path) -> None:
    path, attachment = red_png(tmp_path)
    widget = InlineImage(attachment, renderer="halfcell")
    async with Harness(widget).run_test() as pilot:
        widget.show_file(path)
        await pilot.app.workers.wait_for_complete()
        widget.focus()
        await pilot.press("o", "s")
        await pilot.pause()
        kinds = [type(message) for message in pilot.app.posted]
        assert kinds == [InlineImage.OpenRequested, InlineImage.SaveRequested]
        assert all(message.path == path for message in pilot.app.posted)  # type: ignore[attr-defined]


async def test_upload_progress_moves_the_bar_and_escape_cancels(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(samples.jpeg(32, 32))
    cancel = asyncio.Event()
    widget = ImageUpload(path, 4096, cancel)
    async with Harness(widget).run_test() as pilot:
        widget.show_progress(1024, 4096)
        await pilot.pause()
        assert widget.query_one(ProgressBar).percentage == 0.25
        widget.focus()
        await pilot.press("escape")
        await pilot.pause()
        assert cancel.is_set()
        assert [type(m) for m in pilot.app.posted] == [ImageUpload.Cancelled]


async def test_upload_refusal_shows_the_code_and_an_explanation(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    path.write_bytes(samples.png(8, 8))
    widget = ImageUpload(path, 100, asyncio.Event())
    async with Harness(widget).run_test() as pilot:
        widget.show_error("TOO_LARGE", explain_refusal("TOO_LARGE", "image of 11 MiB"))
        await pilot.pause()
        text = static_text(widget, ".image-upload--status")
        assert text.startswith("TOO_LARGE: the image is larger than this node accepts")


def test_save_copy_keeps_only_the_file_name_and_never_overwrites(tmp_path: Path) -> None:
    source = tmp_path / "cached"
    source.write_bytes(b"pixels")
    saved = tmp_path / "saved"
    first = save_copy(source, saved, "../../etc/arona.png")
    second = save_copy(source, saved, "arona.png")
    assert (first.name, second.name) == ("arona.png", "arona (1).png")
    assert first.parent == saved and second.read_bytes() == b"pixels"


def test_the_viewer_command_fits_the_platform() -> None:
    assert viewer_command(Path("/x.png"), "linux") == ["xdg-open", "/x.png"]
    assert viewer_command(Path("/x.png"), "darwin") == ["open", "/x.png"]
