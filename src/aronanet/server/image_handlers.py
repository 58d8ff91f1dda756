"""The image requests: ``IMG_CHUNK`` (upload), ``IMG_STATUS`` (resume), ``IMG_GET`` (download).

ArTP/1.0 §4, with the extensions documented in docs/PROTOCOL.md (``IMG_STATUS`` and the
``start`` field of ``IMG_GET``). The node finds this module through ``node.EXTENSIONS`` and
calls ``register_handlers(table)``, which replaces the placeholders of ``handlers.py``.

* Upload: chunk 0 is checked (metadata, destination, quota) before a byte is stored; every
  chunk goes to the transfer's spill file (``images.TransferRegistry``). After the last one,
  size and SHA-256 are checked, Pillow validates the image in a worker thread (one at a
  time, so decoding memory is bounded by one image), the file is committed under its
  SHA-256, then the message is stored and routed by ``messaging.post_message``, and only
  then does the uploader get ``OK`` (§4: "replies OK (re, transfer, image, msg_id) and
  delivers a MSG").
* Download: only a user who can read a message carrying the image gets it; anyone else gets
  the same ``NOT_FOUND`` as for an image that does not exist (§4). Chunks are written as
  fast as the peer reads them and no faster (the session's backlog is watched), so a slow
  reader is neither dropped nor a reason to buffer the whole image.

Which users may read which image, and how much a user has uploaded, are queries on the
``messages`` table (the attachment JSON), so an image message is committed in exactly one
insert. The two partial indexes they need are created on first use.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto.messages import Attachment, ImgChunk, ImgData, ImgGet, ImgStatus, Ok
from aronanet.server.handlers import HandlerTable, Later, Reply, RequestContext
from aronanet.server.images import (
    CompletedUpload,
    ImageBlobStore,
    TransferRegistry,
    UploadHeader,
    UploadTransfer,
    chunk_count,
    validate_image,
)
from aronanet.server.logs import log_event
from aronanet.server.messaging import post_message, resolve_destination
from aronanet.server.services import Services
from aronanet.server.session import Session
from aronanet.server.store.base import user_key

logger = logging.getLogger(__name__)

#: A download pauses while the session's unsent output is above this share of the backlog
#: at which the node drops a peer, and polls every ``_DRAIN_POLL`` seconds until it is not.
_BACKLOG_PAUSE = 0.25
_DRAIN_POLL = 0.002
_attachment_decoder = msgspec.json.Decoder(Attachment)

_INDEXES = (
    "CREATE INDEX IF NOT EXISTS messages_by_image ON messages "
    "(json_extract(attachment, '$.image')) WHERE attachment IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS messages_images_by_sender ON messages "
    "(sender, json_extract(attachment, '$.image')) WHERE attachment IS NOT NULL",
)
#: §4 "Only a user who can read a message carrying that image": a member of its channel
#: (the same rule as HISTORY), or either party of its DM.
_READABLE_ATTACHMENT = """
    SELECT m.attachment FROM messages m
    WHERE m.attachment IS NOT NULL AND json_extract(m.attachment, '$.image') = ?1
      AND ((m.dest_type = 'channel' AND EXISTS (
              SELECT 1 FROM memberships ms WHERE ms.channel = m.dest AND ms.user_key = ?2))
           OR (m.dest_type = 'user' AND (lower(m.sender) = ?2 OR lower(m.dest) = ?2)))
    LIMIT 1
"""
#: Bytes of the distinct images a user has posted: what the upload quota counts.
_UPLOADED_BYTES = """
    SELECT COALESCE(SUM(size), 0) FROM (
      SELECT MAX(json_extract(attachment, '$.size')) AS size FROM messages
      WHERE attachment IS NOT NULL AND sender = ?1
      GROUP BY json_extract(attachment, '$.image'))
"""


class ImageIndex:
    """The two questions the image handlers ask the database, via the store's writer.

    ``SqliteStore.run`` is the store's extension point for components with their own SQL;
    a store without it (a future PostgreSQL backend) needs the same two queries.
    """

    def __init__(self, store: Any) -> None:
        run = getattr(store, "run", None)
        if run is None:
            raise RuntimeError(f"{type(store).__name__} cannot run the image queries")
        self._run: Callable[[Callable[[sqlite3.Connection], Any]], Any] = run
        self._ready = False

    async def _query(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        if not self._ready:
            await self._run(lambda conn: [conn.execute(sql) for sql in _INDEXES])
            self._ready = True
        return await self._run(fn)

    async def readable_attachment(self, user: str, sha256: str) -> Attachment | None:
        """An attachment of a message carrying ``sha256`` that ``user`` may read, if any."""
        row = await self._query(
            lambda conn: conn.execute(_READABLE_ATTACHMENT, (sha256, user_key(user))).fetchone()
        )
        return _attachment_decoder.decode(row[0]) if row else None

    async def uploaded_bytes(self, user: str) -> int:
        row = await self._query(lambda conn: conn.execute(_UPLOADED_BYTES, (user,)).fetchone())
        return int(row[0])


@dataclass
class ImageService:
    """The node's image state: files, uploads in progress, the index, the validator slot."""

    services: Services
    blobs: ImageBlobStore
    registry: TransferRegistry
    index: ImageIndex
    #: One thread validates every image, one at a time: decoding memory is bounded by one
    #: image, and it is reused from one malloc arena instead of being kept by several.
    validator: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="aronanet-images")
    )

    @classmethod
    def create(cls, services: Services) -> ImageService:
        """Build it for a started node; spill files of a previous run are removed."""
        blobs = ImageBlobStore(Path(services.settings.data_dir) / "images")
        blobs.prepare()
        registry = TransferRegistry(blobs, services.limits, services.monotonic)
        service = cls(services, blobs, registry, ImageIndex(services.store))
        service._schedule_expiry()
        return service

    def _schedule_expiry(self) -> None:
        """Discard abandoned uploads periodically, even when no image request comes in."""
        period = max(0.05, min(self.services.limits.transfer_timeout / 4, 30.0))

        def tick() -> None:
            self.registry.expire()
            self._timer = loop.call_later(period, tick)

        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(period, tick)

    async def check_quota(self, user: str, size: int) -> None:
        """Refuse an upload that would take ``user`` past ``upload_quota_bytes``."""
        quota = self.services.limits.upload_quota_bytes
        used = await self.index.uploaded_bytes(user) + self.registry.pending_bytes(user)
        if used + size > quota:
            raise RequestError(
                ErrorCode.TOO_LARGE,
                f"upload quota exceeded: {used} bytes used + {size} > quota of {quota} bytes",
            )

    async def validate(self, transfer: UploadTransfer) -> Attachment:
        """Size, SHA-256, then a real image within the pixel limit; ``RequestError`` if not."""
        spill = transfer.finish()
        check = partial(validate_image, spill, max_pixels=self.services.limits.max_image_pixels)
        info = await asyncio.get_running_loop().run_in_executor(self.validator, check)
        return transfer.header.attachment(info)

    async def store_file(self, transfer: UploadTransfer) -> None:
        """Move the validated spill file to its content address, durably."""
        await asyncio.to_thread(self.blobs.commit, transfer.spill_path, transfer.header.sha256)


class LazyImageService:
    """One ``ImageService`` per node, built on the first image request (the handler table
    is built before the node's services exist)."""

    def __init__(self) -> None:
        self._service: ImageService | None = None

    def __call__(self, services: Services) -> ImageService:
        if self._service is None or self._service.services is not services:
            self._service = ImageService.create(services)
        return self._service


# ---------------------------------------------------------------------------------- upload


def _for_transfer(error: RequestError, transfer_id: str) -> RequestError:
    """§4: a refusal carries ``transfer``."""
    return RequestError(error.code, error.message, **{**error.extra, "transfer": transfer_id})


async def handle_img_chunk(
    images: LazyImageService, ctx: RequestContext, chunk: ImgChunk
) -> Reply | Later:
    """§4 upload: no reply until the last chunk, or the first that fails."""
    service, user = images(ctx.services), ctx.user
    registry = service.registry
    if chunk.index > 0 and (failure := registry.failure(user, chunk.transfer)) is not None:
        if chunk.index == chunk.total - 1:
            raise _for_transfer(failure, chunk.transfer)  # the awaited last chunk learns why
        return None
    try:
        if chunk.index == 0:
            header = UploadHeader.from_chunk(chunk, ctx.services.limits)
            await resolve_destination(ctx, header.dest_type, header.dest)
            await service.check_quota(user, header.size)
        transfer = registry.append(user, ctx.session.id, chunk)
    except RequestError as error:
        registry.fail(user, chunk.transfer, error)
        raise _for_transfer(error, chunk.transfer) from None
    if not transfer.complete:
        return None
    registry.detach(user, chunk.transfer)
    return Later(_complete(service, ctx, transfer))


async def _complete(service: ImageService, ctx: RequestContext, transfer: UploadTransfer) -> Ok:
    """Validate, store, post the message; ``OK`` only once image and message are committed."""
    header, user = transfer.header, ctx.user
    try:
        attachment = await service.validate(transfer)
        # Checked again: the sender may have left the channel during the upload.
        destination = await resolve_destination(ctx, header.dest_type, header.dest)
        await service.store_file(transfer)
    except RequestError as error:
        transfer.discard()
        service.registry.fail(user, transfer.transfer_id, error)
        raise _for_transfer(error, transfer.transfer_id) from None
    except BaseException:
        transfer.discard()
        raise
    event = await post_message(ctx, destination, header.content, attachment)
    service.registry.remember(
        user,
        transfer.transfer_id,
        CompletedUpload(
            total=header.total,
            image=header.sha256,
            msg_id=event.id,
            timestamp=event.timestamp,
            finished_at=ctx.services.monotonic(),
        ),
    )
    log_event(
        logger, "image_stored", session=ctx.session.id, size=header.size, mime=attachment.mime
    )
    return ctx.ok(
        transfer=transfer.transfer_id,
        image=header.sha256,
        msg_id=event.id,
        timestamp=event.timestamp,
    )


async def handle_img_status(
    images: LazyImageService, ctx: RequestContext, request: ImgStatus
) -> Ok:
    """Extension ``IMG_STATUS``: the chunk indices the node holds for an upload.

    A finished upload answers with all its indices plus ``image``, ``msg_id`` and
    ``timestamp`` (so a client whose connection dropped before the ``OK`` does not post the
    image twice); a failed one answers its ``ERROR``; an unknown one ``received: []``.
    """
    registry, user = images(ctx.services).registry, ctx.user
    if (failure := registry.failure(user, request.transfer)) is not None:
        raise _for_transfer(failure, request.transfer)
    received = registry.received(user, request.transfer)
    done = registry.completed(user, request.transfer)
    if done is None:
        return ctx.ok(transfer=request.transfer, received=received)
    return ctx.ok(
        transfer=request.transfer,
        received=received,
        image=done.image,
        msg_id=done.msg_id,
        timestamp=done.timestamp,
    )


# -------------------------------------------------------------------------------- download


async def handle_img_get(images: LazyImageService, ctx: RequestContext, request: ImgGet) -> None:
    """§4 download, streamed as ``IMG_CHUNK`` replies with ``re``; ``start`` resumes."""
    service = images(ctx.services)
    attachment = None
    if service.blobs.exists(request.image):
        attachment = await service.index.readable_attachment(ctx.user, request.image)
    if attachment is None:
        # §4: "anyone else gets NOT_FOUND, the same as for an image that does not exist".
        raise RequestError(ErrorCode.NOT_FOUND, f"no image {request.image}")
    chunk_size = ctx.services.limits.chunk_size
    size = service.blobs.size(request.image)
    total = chunk_count(size, chunk_size)
    if request.start >= total:
        raise RequestError(
            ErrorCode.INVALID, f"start {request.start} is past the last chunk {total - 1}"
        )
    with service.blobs.open_at_chunk(request.image, request.start, chunk_size) as source:
        for index in range(request.start, total):
            if ctx.session.closed:
                return None
            data = source.read(chunk_size)
            ctx.reply(_download_chunk(ctx, attachment, index, total, size, data))
            await _writable(ctx.session)
    return None


def _download_chunk(
    ctx: RequestContext, attachment: Attachment, index: int, total: int, size: int, data: bytes
) -> ImgData:
    """§4: chunks carry ``re``, ``image``, ``index``, ``total``, ``data``; index 0 also
    ``name``, ``mime``, ``size``, ``sha256``."""
    first = index == 0
    return ImgData(
        re=ctx.request_id,
        image=attachment.image,
        index=index,
        total=total,
        data=base64.b64encode(data).decode("ascii"),
        name=attachment.name if first else UNSET,
        mime=attachment.mime if first else UNSET,
        size=size if first else UNSET,
        sha256=attachment.image if first else UNSET,
    )


async def _writable(session: Session) -> None:
    """Yield so the router flushes, then wait while the peer's backlog is too full."""
    await asyncio.sleep(0)
    while not session.closed and backlog_fill(session) > _BACKLOG_PAUSE:
        await asyncio.sleep(_DRAIN_POLL)


def backlog_fill(session: Session) -> float:
    """The share (0..1) of the backlog at which the node drops this peer that is in use.

    Prefers ``Stream.backlog_fill()``; until the transports offer it (requested from the
    transport's owner), reads the TCP write buffer and the WebSocket outbox they keep.
    """
    stream: Any = session.stream
    probe = getattr(stream, "backlog_fill", None)
    if callable(probe):
        return float(probe())
    transport = getattr(stream, "_transport", None)
    limit = getattr(stream, "_max_backlog_bytes", None)
    if transport is not None and limit:
        return float(transport.get_write_buffer_size()) / float(limit)
    outbox, messages = getattr(stream, "_outbox", None), getattr(stream, "_max_backlog", None)
    if outbox is not None and messages:
        return len(outbox) / float(messages)
    return 0.0


def register_handlers(table: HandlerTable) -> None:
    """Called by the node: the three image requests, sharing one per-node state."""
    images = LazyImageService()
    table.register(ImgChunk, partial(handle_img_chunk, images))
    table.register(ImgStatus, partial(handle_img_status, images))
    table.register(ImgGet, partial(handle_img_get, images))
