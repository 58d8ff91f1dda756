"""Images in the terminal: an attachment rendered inline, and an upload with its progress.

``InlineImage`` shows one image attachment: a caption (name, size, dimensions) and the
picture itself, drawn by textual-image with the best method the terminal offers (Kitty
graphics protocol, Sixel, or Unicode half-blocks everywhere else). It owns no network
code: the app downloads the attachment (``client.transfers.download_image``, which verifies
the SHA-256) and hands the verified path to ``show_file``; until then the widget shows the
download's progress. ``o`` and ``s`` post ``OpenRequested`` / ``SaveRequested`` for the app
to act on (``open_in_viewer`` and ``save_copy`` below do the work).

``ImageUpload`` is the outgoing side of ``/img``: the file's caption, a progress bar fed by
``upload_image``'s ``progress`` callback, and a cancel key (Escape) that sets the
``asyncio.Event`` given to ``upload_image`` as ``cancel``.

textual-image asks the terminal what it supports the first time it is imported, which is
impossible once Textual owns the terminal: the app must call ``prepare_terminal_graphics()``
before ``App.run()``. Without that call the widget falls back to half-blocks.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from PIL import Image as PILImage
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from aronanet.proto.messages import Attachment
from aronanet.tui.attachments import human_size

Renderer = Literal["auto", "tgp", "sixel", "halfcell", "unicode"]

#: Largest picture kept for display, in pixels per side: a terminal cell grid needs far
#: fewer, and scaling a 40-megapixel photo on every repaint would stall the UI.
DISPLAY_MAX_SIDE = 640

_graphics_prepared = False


def prepare_terminal_graphics() -> None:
    """Let textual-image detect Kitty/Sixel support; call once, before ``App.run()``."""
    global _graphics_prepared
    import textual_image.widget  # noqa: F401 - the import queries the terminal

    _graphics_prepared = True


def _picture_class(renderer: Renderer) -> Callable[..., Widget]:
    """The textual-image widget for ``renderer``; "auto" only once the terminal was asked."""
    if renderer == "auto" and not _graphics_prepared:
        renderer = "halfcell"
    from textual_image import widget as images  # after prepare_terminal_graphics()

    classes: dict[str, Callable[..., Widget]] = {
        "auto": images.Image,
        "tgp": images.TGPImage,
        "sixel": images.SixelImage,
        "halfcell": images.HalfcellImage,
        "unicode": images.UnicodeImage,
    }
    return classes[renderer]


def caption(attachment: Attachment) -> str:
    """``arona.png · 68.4 KiB · 640×480``"""
    return (
        f"{attachment.name} · {human_size(attachment.size)} · "
        f"{attachment.width}×{attachment.height}"
    )


def load_for_display(path: Path) -> PILImage.Image:
    """Decode the first frame and shrink it to ``DISPLAY_MAX_SIDE``; blocking (a thread)."""
    with PILImage.open(path) as image:
        image.seek(0)
        frame = image.convert("RGB")
    frame.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE))
    return frame


def viewer_command(path: Path, platform: str = sys.platform) -> list[str]:
    """The command that opens ``path`` in the system's image viewer."""
    if platform == "darwin":
        return ["open", str(path)]
    if platform.startswith("win"):
        return ["cmd", "/c", "start", "", str(path)]
    return ["xdg-open", str(path)]


def open_in_viewer(path: Path) -> None:
    """Open ``path`` in the system viewer, detached so the chat keeps the terminal."""
    subprocess.Popen(
        viewer_command(path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def save_copy(path: Path, directory: Path, name: str) -> Path:
    """Copy a verified image to ``directory`` under its own file name, never overwriting.

    Only the last component of ``name`` is used: the name comes from another user.
    """
    safe = Path(name).name or "image"
    target = directory / safe
    stem, suffix = target.stem, target.suffix
    number = 1
    while target.exists():
        target = directory / f"{stem} ({number}){suffix}"
        number += 1
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    return target


class InlineImage(Widget, can_focus=True):
    """One image attachment in the log: caption, then the picture once it is downloaded."""

    DEFAULT_CSS = """
    InlineImage { height: auto; width: 1fr; padding: 0 1; }
    InlineImage:focus { background: $boost; }
    InlineImage .inline-image--caption { height: 1; color: $text-muted; }
    InlineImage .inline-image--status { height: 1; color: $text-muted; }
    InlineImage .inline-image--error { height: auto; color: $error; }
    InlineImage .inline-image--picture { width: auto; height: auto; max-height: 12; }
    """
    BINDINGS = [  # noqa: RUF012 - Textual's own convention
        Binding("o", "open", "Open image"),
        Binding("s", "save", "Save image"),
    ]

    class OpenRequested(Message):
        """The user asked to see the full image in the system viewer."""

        def __init__(self, attachment: Attachment, path: Path) -> None:
            super().__init__()
            self.attachment = attachment
            self.path = path

    class SaveRequested(Message):
        """The user asked to save the image (the app picks the directory)."""

        def __init__(self, attachment: Attachment, path: Path) -> None:
            super().__init__()
            self.attachment = attachment
            self.path = path

    def __init__(
        self,
        attachment: Attachment,
        *,
        renderer: Renderer = "auto",
        max_rows: int = 12,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.attachment = attachment
        self.renderer = renderer
        self.max_rows = max_rows
        self.path: Path | None = None

    def compose(self) -> ComposeResult:
        yield Static(caption(self.attachment), classes="inline-image--caption", markup=False)
        yield Static("downloading…", classes="inline-image--status", markup=False)

    def show_progress(self, done: int, total: int) -> None:
        """Feed ``download_image``'s ``progress`` callback here."""
        percent = 100 * done // total if total else 100
        self._status(f"downloading… {percent}%")

    def show_error(self, code: str, message: str) -> None:
        """The download failed: say why, with the node's code."""
        self._status(f"{code}: {message}", error=True)

    def show_file(self, path: Path) -> None:
        """Render the verified file at ``path`` (decoded in a thread, then mounted)."""
        self.path = path
        self._status("decoding…")
        self._load(path)

    @work(exclusive=True, group="inline-image")
    async def _load(self, path: Path) -> None:
        try:
            frame = await asyncio.to_thread(load_for_display, path)
        except Exception as exc:  # a cached file we cannot decode: say so, do not crash
            self.show_error("IMAGE_INVALID", f"cannot display {path.name} ({type(exc).__name__})")
            return
        picture = _picture_class(self.renderer)(frame, classes="inline-image--picture")
        picture.styles.max_height = self.max_rows
        await self.query(".inline-image--status").remove()
        await self.query(".inline-image--picture").remove()
        await self.mount(picture)

    def _status(self, text: str, *, error: bool = False) -> None:
        for status in self.query(".inline-image--status").results(Static):
            status.update(text)
            status.set_class(error, "inline-image--error")

    def action_open(self) -> None:
        if self.path is not None:
            self.post_message(self.OpenRequested(self.attachment, self.path))

    def action_save(self) -> None:
        if self.path is not None:
            self.post_message(self.SaveRequested(self.attachment, self.path))


class ImageUpload(Widget, can_focus=True):
    """An image on its way up: caption, a progress bar, and Escape to cancel."""

    DEFAULT_CSS = """
    ImageUpload { height: auto; width: 1fr; padding: 0 1; }
    ImageUpload .image-upload--caption { height: 1; }
    ImageUpload .image-upload--status { height: auto; color: $text-muted; }
    ImageUpload .image-upload--error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel upload")]  # noqa: RUF012

    class Cancelled(Message):
        """The user cancelled; ``upload_image`` raises ``UploadCancelled`` shortly."""

    def __init__(
        self,
        path: Path,
        size: int,
        cancel: asyncio.Event,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.path = path
        self.file_size = size
        self.cancel = cancel

    def compose(self) -> ComposeResult:
        yield Static(
            f"uploading {self.path.name} · {human_size(self.file_size)}",
            classes="image-upload--caption",
            markup=False,
        )
        yield ProgressBar(total=self.file_size, show_eta=False)
        yield Static("Esc cancels", classes="image-upload--status", markup=False)

    def show_progress(self, done: int, total: int) -> None:
        """``upload_image``'s ``progress`` callback."""
        self.query_one(ProgressBar).update(total=total, progress=done)

    def show_done(self) -> None:
        self._status("sent")

    def show_waiting(self) -> None:
        """The link dropped mid-upload: it resumes (same transfer id) once it is back."""
        self._status("link lost: resuming when it is back · Esc cancels")

    def show_error(self, code: str, explanation: str) -> None:
        """The node (or the local check) refused: its code and a human explanation."""
        self._status(f"{code}: {explanation}", error=True)

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one(".image-upload--status", Static)
        status.update(text)
        status.set_class(error, "image-upload--error")

    def action_cancel(self) -> None:
        if not self.cancel.is_set():
            self.cancel.set()
            self._status("cancelled")
            self.post_message(self.Cancelled())


#: Human explanations of the node's refusals, for ``ImageUpload.show_error``.
REFUSALS: dict[str, str] = {
    "TOO_LARGE": "the image is larger than this node accepts (bytes or pixels)",
    "IMAGE_INVALID": "the node could not read it as a PNG, JPEG, GIF or WebP image",
    "RATE_LIMITED": "too many uploads at once; try again in a moment",
    "NOT_IN_CHANNEL": "join the channel before sending it images",
    "NO_SUCH_USER": "there is no such user on this node",
    "DISCONNECTED": "the connection dropped; /img again resumes the upload",
    "CANCELLED": "you cancelled the upload",
}


def explain_refusal(code: str, message: str) -> str:
    """A sentence for a person, keeping the node's own message for the details."""
    reason = REFUSALS.get(code)
    return f"{reason} ({message})" if reason else message
