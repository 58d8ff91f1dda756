"""``/img PATH`` (or a pasted path): check locally, upload with progress, survive a reconnect.

One ``ImageUpload`` widget per upload shows the bar; Escape cancels the newest one. The file
is checked before a byte is sent (``inspect_image``: Pillow reads the real type, the size is
held against ``HELLO``'s ``max_image``), so an obviously refused file never costs a transfer.
A refusal, local or from the node, shows the code and a sentence (``explain_refusal``).

The transfer id is chosen here, once, so that a dropped link does not lose the upload: the
job waits for the session to log in again and calls ``upload_image`` with the same id, which
asks the node (``IMG_STATUS``) what it holds and sends only the rest, or returns the earlier
``OK`` if the upload had in fact finished.

§3: the sending session gets no ``MSG`` of its own upload, so the line is built from the
``OK`` (``msg_id``, ``timestamp``, ``image``) and the local metadata; a later ``HISTORY``
copy has the same id and is deduplicated by the reducer.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aronanet.client.connection import ArtpClient
from aronanet.client.state import Action, Buffer, ChatState, EventsReceived, Noted
from aronanet.client.transfers import (
    LocalImage,
    UploadCancelled,
    inspect_image,
    new_transfer_id,
    upload_image,
)
from aronanet.errors import ClientError
from aronanet.proto.messages import Attachment, MsgEvent, Ok
from aronanet.tui import voice
from aronanet.tui.session import ChatSession
from aronanet.tui.widgets.inline_image import ImageUpload, explain_refusal

#: File name endings a pasted path must have to be taken as an image to send.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
#: Error codes that mean "the link went away", after which the upload resumes.
LINK_LOST = frozenset({"DISCONNECTED", "OFFLINE"})
#: Seconds a finished upload's bar stays, full and saying "sent", before it goes away.
SENT_LINGER = 1.5
#: Seconds a refused or cancelled upload's panel keeps its reason on screen (the reason is
#: also a line in the buffer); the next line typed, the next upload or Escape clear it sooner.
FAILED_LINGER = 10.0


class UploadHost(Protocol):
    """What uploads need from the app."""

    state: ChatState

    def dispatch(self, action: Action) -> None: ...
    def now(self) -> int: ...
    def spawn(self, work: Awaitable[None]) -> None: ...
    def show_upload(self, widget: ImageUpload) -> None: ...


def pasted_image_path(text: str) -> Path | None:
    """The image file a paste names, if it names one: what terminals paste on a file drop.

    Accepts a plain path, one in quotes, one with backslash-escaped spaces, or a
    ``file://`` URI; the file must exist and end like an image (its real type is checked by
    the upload). Anything else is ordinary text for the input line.
    """
    lines = text.strip().splitlines()
    if len(lines) != 1:
        return None
    candidate = lines[0].strip()
    if len(candidate) >= 2 and candidate[0] == candidate[-1] and candidate[0] in "'\"":
        candidate = candidate[1:-1]
    if candidate.startswith("file://"):
        candidate = urllib.parse.unquote(urllib.parse.urlparse(candidate).path)
    candidate = candidate.replace("\\ ", " ")
    try:
        path = Path(candidate).expanduser()
        is_image_file = path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
    except (OSError, ValueError):
        return None
    return path if is_image_file else None


def own_image_event(
    ok: Ok, image: LocalImage, *, sender: str, buffer: Buffer, now: int
) -> MsgEvent:
    """The ``MSG`` the node delivered to everyone else, rebuilt from our ``OK`` (§4)."""
    attachment = Attachment(
        image=ok.image if isinstance(ok.image, str) else image.sha256,
        name=image.name,
        mime=image.mime,
        size=image.size,
        width=image.width,
        height=image.height,
    )
    return MsgEvent(
        id=ok.msg_id if isinstance(ok.msg_id, str) else f"upload:{ok.transfer}",
        from_=sender,
        dest_type="channel" if buffer.kind == "channel" else "user",
        dest=buffer.name,
        content="",
        timestamp=ok.timestamp if isinstance(ok.timestamp, int) else now,
        attachment=attachment,
    )


def _show_progress(widget: ImageUpload, done: int, total: int) -> None:
    """Progress for a bar that is on screen; a bar being torn down must not stop the upload."""
    if widget.is_attached and widget.is_mounted:
        widget.show_progress(done, total)


@dataclass
class _Upload:
    path: Path
    buffer: Buffer
    widget: ImageUpload
    cancel: asyncio.Event
    transfer_id: str
    done: bool = False


class ImageUploads:
    """Every upload of this session: started by ``/img``, cancelled by Escape."""

    def __init__(
        self,
        host: UploadHost,
        session: ChatSession,
        *,
        on_uploaded: Callable[[Path, str], Awaitable[None]] | None = None,
        failed_linger: float = FAILED_LINGER,
    ) -> None:
        self._host = host
        self._failed_linger = failed_linger
        self._session = session
        self._on_uploaded = on_uploaded
        self._uploads: list[_Upload] = []

    def start(self, path: Path, buffer: Buffer) -> None:
        """Show the upload's widget and run it in the background."""
        try:
            size = path.stat().st_size
        except OSError as error:
            self._note(f"Sensei, I cannot read {path} ({error.strerror}).", error=True)
            return
        self.dismiss_finished()
        cancel = asyncio.Event()
        upload = _Upload(path, buffer, ImageUpload(path, size, cancel), cancel, new_transfer_id())
        self._uploads.append(upload)
        self._host.show_upload(upload.widget)
        self._host.spawn(self._run(upload))

    def cancel_latest(self) -> bool:
        """Escape: cancel the newest running upload, or clear finished ones; True if any."""
        running = [upload for upload in self._uploads if not upload.done]
        if running:
            running[-1].widget.action_cancel()
            return True
        return self.dismiss_finished()

    def dismiss_finished(self) -> bool:
        finished = [upload for upload in self._uploads if upload.done]
        for upload in finished:
            upload.widget.remove()
            self._uploads.remove(upload)
        return bool(finished)

    @property
    def running(self) -> int:
        return sum(not upload.done for upload in self._uploads)

    async def _run(self, upload: _Upload) -> None:
        """One upload to its end: posted, cancelled or refused; its panel then stays a
        moment (``SENT_LINGER``, ``failed_linger``) and goes by itself."""
        try:
            ok, image = await self._attempts(upload)
        except UploadCancelled:
            upload.done = True
            self._note(f"Upload of {upload.path.name} cancelled, Sensei.", key=upload.buffer.key)
            await self._linger(upload, self._failed_linger)
            return
        except ClientError as error:
            upload.done = True
            if error.code == "CLOSED":
                return  # the app is closing; nobody is left to tell
            if upload.widget.is_attached:
                upload.widget.show_error(error.code, explain_refusal(error.code, error.message))
            self._note(
                voice.failure(f"sending {upload.path.name}", error),
                key=upload.buffer.key,
                error=True,
            )
            await self._linger(upload, self._failed_linger)
            return
        upload.done = True
        await self._posted(upload, ok, image)
        if upload.widget.is_attached:
            upload.widget.show_done()
        await self._linger(upload, SENT_LINGER)

    async def _linger(self, upload: _Upload, seconds: float) -> None:
        """Keep a finished upload's panel ``seconds``, then remove it (unless Escape, a new
        upload or a typed line removed it meanwhile)."""
        await asyncio.sleep(seconds)
        if upload in self._uploads:
            upload.widget.remove()
            self._uploads.remove(upload)

    async def _attempts(self, upload: _Upload) -> tuple[Ok, LocalImage]:
        """Upload, and after a dropped link wait for the next login and resume (same id)."""
        image: LocalImage | None = None
        while True:
            client = await self._waiting_for_link(upload)
            try:
                if image is None:
                    # §4 limits from HELLO, checked before a byte is sent
                    image = await asyncio.to_thread(inspect_image, upload.path, client.hello)
                ok = await upload_image(
                    client,
                    upload.path,
                    "channel" if upload.buffer.kind == "channel" else "user",
                    upload.buffer.name,
                    transfer_id=upload.transfer_id,
                    progress=lambda done, total: _show_progress(upload.widget, done, total),
                    cancel=upload.cancel,
                )
                return ok, image
            except ClientError as error:
                if error.code not in LINK_LOST or upload.cancel.is_set():
                    raise
                if upload.widget.is_attached:
                    upload.widget.show_waiting()

    async def _waiting_for_link(self, upload: _Upload) -> ArtpClient:
        """The live client; while the link is down, wait for it unless the user cancels."""
        online = asyncio.ensure_future(self._session.wait_online())
        cancelled = asyncio.ensure_future(upload.cancel.wait())
        try:
            await asyncio.wait({online, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
            if not online.done():
                online.cancel()
        if upload.cancel.is_set() or not online.done() or online.cancelled():
            raise UploadCancelled(upload.transfer_id, 0, upload.widget.file_size)
        return online.result()

    async def _posted(self, upload: _Upload, ok: Ok, image: LocalImage) -> None:
        sender = self._host.state.me or ""
        event = own_image_event(
            ok, image, sender=sender, buffer=upload.buffer, now=self._host.now()
        )
        if self._on_uploaded is not None:
            await self._on_uploaded(upload.path, image.sha256)
        self._host.dispatch(EventsReceived((event,)))

    def _note(self, text: str, *, key: str | None = None, error: bool = False) -> None:
        self._host.dispatch(Noted(text, self._host.now(), key=key, error=error))
