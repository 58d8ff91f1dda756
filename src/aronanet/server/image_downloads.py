"""The image download request: ``IMG_GET``, streamed (with its ``start`` extension).

ArTP/1.0 §4, with the ``start`` field documented in docs/PROTOCOL.md. Only a user who can
read a message carrying the image gets it; anyone else gets the same ``NOT_FOUND`` as for
an image that does not exist (§4). The first batch of chunks is a reply in order; the rest
stream from a task of their own, so the session keeps serving its other requests
meanwhile. Chunks are read eight at a time and written as fast as the peer reads them and
no faster (the session's backlog is watched), so a slow reader is neither dropped nor a
reason to buffer the whole image.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

import pybase64
from msgspec import UNSET, UnsetType

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto.messages import Attachment, Error, ImgData, ImgGet
from aronanet.server.handlers import RequestContext
from aronanet.server.image_blobs import BlobReader, chunk_count
from aronanet.server.image_service import Downloads, LazyImageService
from aronanet.server.logs import log_event
from aronanet.server.metrics import NodeCounters
from aronanet.server.session import Session

#: The image events keep the logger name they had before ``image_handlers`` was split, so
#: filters on that name still see them.
logger = logging.getLogger("aronanet.server.image_handlers")

#: A download pauses while the session's unsent output is above this share of the backlog
#: at which the node drops a peer, and polls every ``_DRAIN_POLL`` seconds until it is not.
_BACKLOG_PAUSE = 0.25
_DRAIN_POLL = 0.002
#: Download chunks read with one read and queued in one loop iteration, so written with one
#: transport write: 256 KiB of image, about 350 KB on the wire.
_CHUNKS_PER_BATCH = 8


@dataclass
class Download:
    """One ``IMG_GET`` stream: the stored image, open at the next chunk to send."""

    request_id: str | UnsetType
    attachment: Attachment
    source: BlobReader
    size: int
    total: int
    chunk_size: int
    next_index: int

    @property
    def done(self) -> bool:
        return self.next_index >= self.total

    async def next_batch(self) -> list[ImgData]:
        """Up to ``_CHUNKS_PER_BATCH`` chunks, read from the blob store with one read."""
        count = min(_CHUNKS_PER_BATCH, self.total - self.next_index)
        block = memoryview(await self.source.read(count * self.chunk_size))
        if len(block) <= (count - 1) * self.chunk_size:
            raise OSError(f"image file {self.attachment.image} is shorter than {self.size} bytes")
        batch = []
        for offset in range(0, len(block), self.chunk_size):
            batch.append(self._chunk(block[offset : offset + self.chunk_size]))
            self.next_index += 1
        return batch

    def _chunk(self, data: memoryview) -> ImgData:
        """§4: chunks carry ``re``, ``image``, ``index``, ``total``, ``data``; index 0 also
        ``name``, ``mime``, ``size``, ``sha256``."""
        first = self.next_index == 0
        attachment = self.attachment
        return ImgData(
            re=self.request_id,
            image=attachment.image,
            index=self.next_index,
            total=self.total,
            data=pybase64.b64encode_as_string(data),
            name=attachment.name if first else UNSET,
            mime=attachment.mime if first else UNSET,
            size=self.size if first else UNSET,
            sha256=attachment.image if first else UNSET,
        )

    def close(self) -> None:
        self.source.close()


async def handle_img_get(images: LazyImageService, ctx: RequestContext, request: ImgGet) -> None:
    """§4 download, streamed as ``IMG_CHUNK`` replies with ``re``; ``start`` resumes.

    The first chunks are replies in order (§3); the rest stream from a task of their own
    while the session goes on with its next requests, whose replies may come between them
    (each chunk carries ``re``, so clients tell the streams and replies apart).
    """
    service = images(ctx.services)
    attachment = None
    size = await service.blobs.stored_size(request.image)
    if size is not None:
        attachment = await service.index.readable_attachment(ctx.user, request.image)
    if attachment is None or size is None:
        # §4: "anyone else gets NOT_FOUND, the same as for an image that does not exist".
        raise RequestError(ErrorCode.NOT_FOUND, f"no image {request.image}")
    chunk_size = ctx.services.limits.chunk_size
    total = chunk_count(size, chunk_size)
    if request.start >= total:
        raise RequestError(
            ErrorCode.INVALID, f"start {request.start} is past the last chunk {total - 1}"
        )
    session, downloads = ctx.session, service.downloads
    await downloads.acquire(session.id)
    download: Download | None = None
    try:
        source = await service.blobs.open_reader(request.image, request.start * chunk_size)
        download = Download(
            ctx.request_id, attachment, source, size, total, chunk_size, request.start
        )
        for message in await download.next_batch():
            ctx.reply(message)  # §3: the stream starts in the order of the requests
    except BaseException:
        if download is not None:
            download.close()
        downloads.release(session.id)
        raise
    downloads.start(
        _stream_rest(session, download, downloads, session.replies_flushed(), ctx.services.counters)
    )


async def _stream_rest(
    session: Session,
    download: Download,
    downloads: Downloads,
    first_sent: Awaitable[object],
    counters: NodeCounters,
) -> None:
    """After the first batch is out, queue the rest batch by batch, as fast as the peer
    reads and no faster; the slot and the file are released however it ends."""
    try:
        await first_sent
        while not download.done and not session.closed:
            await _writable(session)
            for message in await download.next_batch():
                session.send(message)
    except Exception as exc:
        log_event(logger, "download_failed", logging.ERROR, error=type(exc).__name__)
        counters.error_sent(ErrorCode.INTERNAL)
        session.send(
            Error(code=ErrorCode.INTERNAL, message="internal error", re=download.request_id)
        )
    finally:
        download.close()
        downloads.release(session.id)


async def _writable(session: Session) -> None:
    """Yield so the router flushes the batch, then wait while the peer's backlog is full."""
    await asyncio.sleep(0)
    while not session.closed and session.stream.backlog_fill() > _BACKLOG_PAUSE:
        await asyncio.sleep(_DRAIN_POLL)
