"""Images arriving in the log: fetched when they scroll into view, verified, cached on disk.

The message log mounts an ``InlineImage`` only for attachments on screen and asks
``ImageLoader.show`` to fill it. The loader looks in the cache first (a verified copy needs
no link at all), and otherwise downloads through ``client.transfers.download_image``, which
checks the SHA-256 before the file is used. At most ``MAX_PARALLEL_DOWNLOADS`` run at once,
and a download whose widgets all scrolled away before its turn is dropped, so paging through
a 10,000-line scrollback never fetches every picture in it.

Where things go: the cache is ``platformdirs.user_cache_dir("aronanet")/images`` (or
``CONFIG_DIR/cache/images`` when ``--config-dir`` is given, so tests stay in their tmp dir);
saved copies go to the user's Downloads directory, else Pictures, else home.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import platformdirs

from aronanet.client.connection import ArtpClient
from aronanet.client.paths import APP_NAME
from aronanet.client.transfers import cache_path, download_image, sha256_file
from aronanet.errors import ClientError
from aronanet.proto.messages import Attachment
from aronanet.tui.widgets.inline_image import InlineImage

log = logging.getLogger(__name__)

#: Downloads in flight at once; the others wait their turn (and may be dropped meanwhile).
MAX_PARALLEL_DOWNLOADS = 2


def image_cache_dir(config_dir: Path | None) -> Path:
    """Where verified downloads are kept, addressed by SHA-256."""
    if config_dir is not None:
        return config_dir / "cache" / "images"
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "images"


def default_save_dir() -> Path:
    """The user's Downloads directory, else Pictures, else home: where ``/save`` puts copies."""
    for candidate in (platformdirs.user_downloads_dir, platformdirs.user_pictures_dir):
        path = Path(candidate())
        if path.is_dir():
            return path
    return Path.home()


def _cached_copy(cache_dir: Path, sha256: str) -> Path | None:
    """The cached file if its bytes still match ``sha256``; blocking (run in a thread)."""
    path = cache_path(cache_dir, sha256)
    return path if path.is_file() and sha256_file(path) == sha256 else None


def _copy_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(source, target)


class ImageLoader:
    """Fills ``InlineImage`` widgets with verified files, downloading each image once."""

    def __init__(self, cache_dir: Path, client: Callable[[], ArtpClient | None]) -> None:
        self.cache_dir = cache_dir
        self._client = client
        self._verified: dict[str, Path] = {}
        self._waiting: dict[str, list[InlineImage]] = {}
        self._slots = asyncio.Semaphore(MAX_PARALLEL_DOWNLOADS)
        self.downloads_started = 0  # for tests and the benchmark: how many really ran

    def verified_path(self, sha256: str) -> Path | None:
        """The verified file of an image already shown once in this session, if any."""
        return self._verified.get(sha256)

    async def show(self, widget: InlineImage) -> None:
        """Give ``widget`` its picture: from memory, the disk cache, or a download."""
        sha256 = widget.attachment.image
        if (known := self._verified.get(sha256)) is not None:
            widget.show_file(known)
            return
        waiting = self._waiting.setdefault(sha256, [])
        waiting.append(widget)
        if len(waiting) > 1:
            return  # a fetch of this image is already under way; it will fill this one too
        try:
            path = await self._fetch(widget.attachment, lambda: self._anyone_waits(sha256))
        except (ClientError, OSError) as error:
            code, text = (
                (error.code, error.message)
                if isinstance(error, ClientError)
                else ("CACHE", str(error))
            )
            self._finish(sha256, lambda w: w.show_error(code, text))
            return
        if path is None:
            self._waiting.pop(sha256, None)  # nobody is looking any more
            return
        self._verified[sha256] = path
        self._finish(sha256, lambda w: w.show_file(path))

    async def file_for(self, attachment: Attachment) -> Path:
        """The verified file of ``attachment`` (for ``/open`` and ``/save``), fetched if need be."""
        known = self._verified.get(attachment.image)
        if known is None:
            known = await self._fetch(attachment, lambda: True)
            assert known is not None  # only None when nobody wants it any more
            self._verified[attachment.image] = known
        return known

    async def adopt(self, path: Path, sha256: str) -> None:
        """Our own upload: copy the file we just sent into the cache, so it needs no download.

        The copy is verified against ``sha256`` like any cached file before it is shown.
        """
        target = cache_path(self.cache_dir, sha256)
        try:
            await asyncio.to_thread(_copy_into, path, target)
        except OSError as error:
            log.info("could not cache an uploaded image: %s", error.strerror)

    def _anyone_waits(self, sha256: str) -> bool:
        return any(widget.is_attached for widget in self._waiting.get(sha256, []))

    async def _fetch(self, attachment: Attachment, wanted: Callable[[], bool]) -> Path | None:
        """Cache, else a download once a slot is free and ``wanted()`` still holds."""
        cached = await asyncio.to_thread(_cached_copy, self.cache_dir, attachment.image)
        if cached is not None:
            return cached
        async with self._slots:
            if not wanted():
                return None
            client = self._client()
            if client is None:
                raise ClientError("OFFLINE", "the link is down; the image loads when it is back")
            self.downloads_started += 1
            return await download_image(
                client,
                attachment,
                self.cache_dir,
                progress=lambda done, total: self._progress(attachment.image, done, total),
            )

    def _progress(self, sha256: str, done: int, total: int) -> None:
        for widget in self._waiting.get(sha256, []):
            if widget.is_attached:
                widget.show_progress(done, total)

    def _finish(self, sha256: str, apply: Callable[[InlineImage], None]) -> None:
        for widget in self._waiting.pop(sha256, []):
            if widget.is_attached:
                apply(widget)
