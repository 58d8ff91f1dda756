"""The image requests: ``IMG_CHUNK`` (upload), ``IMG_STATUS`` (resume), ``IMG_GET`` (download).

ArTP/1.0 §4, with the extensions documented in docs/PROTOCOL.md (``IMG_STATUS`` and the
``start`` field of ``IMG_GET``). The node finds this module through ``node.EXTENSIONS`` and
calls ``register_handlers(table)``, which replaces the placeholders of ``handlers.py``.

* Upload: chunk 0 is checked (metadata, destination, quota) before a byte is stored; every
  chunk goes to the transfer's spill file (``image_transfers.TransferRegistry``) and, in
  scale-out mode, to PostgreSQL (``image_postgres.SharedUploads``), so that the upload
  resumes on any node. After the last one, size and SHA-256 are checked, Pillow validates
  the image in a worker thread (one at a time, so decoding memory is bounded by one image)
  while another flushes the spill file to disk, the image goes to the ``BlobStore``
  (``image_blobs``: files by default, PostgreSQL in scale-out mode) under its SHA-256,
  then the message is stored and routed by ``messaging.post_message``, and only then does
  the uploader get ``OK`` (§4: "replies OK (re, transfer, image, msg_id) and delivers a
  MSG").
* Download: only a user who can read a message carrying the image gets it; anyone else gets
  the same ``NOT_FOUND`` as for an image that does not exist (§4). The first batch of
  chunks is a reply in order; the rest stream from a task of their own, so the session
  keeps serving its other requests meanwhile. Chunks are read eight at a time and written
  as fast as the peer reads them and no faster (the session's backlog is watched), so a
  slow reader is neither dropped nor a reason to buffer the whole image.

Which users may read which image, and how much a user has uploaded, are queries on the
``messages`` table (the attachment JSON), so an image message is committed in exactly one
insert. Both are ``Store`` methods; their indexes are the store's migrations.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import pybase64
from msgspec import UNSET, UnsetType

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto.messages import (
    Attachment,
    Error,
    ImgChunk,
    ImgData,
    ImgGet,
    ImgStatus,
    Ok,
)
from aronanet.server.handlers import HandlerTable, Later, Reply, RequestContext
from aronanet.server.image_blobs import (
    BlobReader,
    BlobStore,
    LocalBlobStore,
    blob_store_for,
    chunk_count,
)
from aronanet.server.image_refusals import refuse_quota, storage_failed
from aronanet.server.image_transfers import (
    CompletedUpload,
    TransferRegistry,
    UploadHeader,
    UploadTransfer,
)
from aronanet.server.image_validation import ImageInfo, validate_image
from aronanet.server.logs import log_event
from aronanet.server.messaging import post_message, resolve_destination
from aronanet.server.metrics import NodeCounters
from aronanet.server.moderation import check_may_post
from aronanet.server.services import Services
from aronanet.server.session import Session
from aronanet.server.store.base import Store

if TYPE_CHECKING:
    from aronanet.server.image_postgres import SharedUpload, SharedUploads

logger = logging.getLogger(__name__)

#: A download pauses while the session's unsent output is above this share of the backlog
#: at which the node drops a peer, and polls every ``_DRAIN_POLL`` seconds until it is not.
_BACKLOG_PAUSE = 0.25
_DRAIN_POLL = 0.002
#: Download chunks read with one read and queued in one loop iteration, so written with one
#: transport write: 256 KiB of image, about 350 KB on the wire.
_CHUNKS_PER_BATCH = 8
_attachment_decoder = msgspec.json.Decoder(Attachment)


class ImageIndex:
    """The two questions the image handlers ask the database, answered by the ``Store``
    (``readable_image_attachment``, ``uploaded_image_bytes``), so images work on every
    backend, SQLite and PostgreSQL alike."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def readable_attachment(self, user: str, sha256: str) -> Attachment | None:
        """An attachment of a message carrying ``sha256`` that ``user`` may read, if any."""
        found = await self._store.readable_image_attachment(user, sha256)
        return _attachment_decoder.decode(found) if found else None

    async def uploaded_bytes(self, user: str) -> int:
        return await self._store.uploaded_image_bytes(user)


@dataclass
class ImageService:
    """The node's image state: stored images, uploads in progress (this node's, and in
    scale-out mode everyone's), the index, the validator slot."""

    services: Services
    #: The stored images: ``spills`` itself by default, PostgreSQL in scale-out mode.
    blobs: BlobStore
    #: This node's spill area, where uploads are assembled.
    spills: LocalBlobStore
    registry: TransferRegistry
    index: ImageIndex
    downloads: Downloads
    #: Scale-out mode: the uploads in progress of every node, so any node resumes any.
    shared: SharedUploads | None = None
    #: One thread validates every image, one at a time: decoding memory is bounded by one
    #: image, and it is reused from one malloc arena instead of being kept by several.
    validator: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="aronanet-images")
    )
    #: Uploads whose last chunk arrived and that are being validated and committed: an
    #: ``IMG_STATUS`` for one waits for its outcome instead of answering "nothing held".
    finishing: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)

    @classmethod
    def create(cls, services: Services) -> ImageService:
        """Build it for a started node; spill files of a previous run are removed.

        On a PostgreSQL store (scale-out mode) images and uploads in progress go to the
        shared database; otherwise everything stays under ``DATA_DIR/images``.
        """
        spills = LocalBlobStore(Path(services.settings.data_dir) / "images")
        spills.prepare()
        shared_limits = services.settings.uses_postgres  # per user: counted in PostgreSQL
        registry = TransferRegistry(
            spills, services.limits, services.monotonic, per_user_here=not shared_limits
        )
        downloads = Downloads(services.limits.max_transfers_per_session)
        index = ImageIndex(services.store)
        blobs: BlobStore = spills
        shared = None
        if services.settings.uses_postgres:
            from aronanet.server.image_postgres import SharedUploads
            from aronanet.server.store.postgres import PostgresStore

            assert isinstance(services.store, PostgresStore)
            blobs = blob_store_for(services)
            shared = SharedUploads(services.store.image_connections, services.limits)
        service = cls(services, blobs, spills, registry, index, downloads, shared=shared)
        service._schedule_expiry()
        return service

    def _schedule_expiry(self) -> None:
        """Discard abandoned uploads periodically, even when no image request comes in."""
        period = max(0.05, min(self.services.limits.transfer_timeout / 4, 30.0))

        def tick() -> None:
            self.registry.expire()
            if self.shared is not None:
                self._expiring = loop.create_task(self._expire_shared())
            self._timer = loop.call_later(period, tick)

        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(period, tick)

    async def _expire_shared(self) -> None:
        """Forget shared uploads idle past ``transfer_timeout`` (a failure waits a tick)."""
        assert self.shared is not None
        try:
            await self.shared.expire(self.services.limits.transfer_timeout)
        except Exception as exc:  # the database is away: the next tick tries again
            log_event(logger, "upload_expiry_failed", logging.WARNING, error=type(exc).__name__)

    async def check_quota(self, user: str, size: int) -> None:
        """Refuse an upload that would take ``user`` past ``upload_quota_bytes``. In
        scale-out mode the uploads in progress are every node's: ``SharedUploads`` checks
        the quota in the transaction that admits the upload (``record``)."""
        if self.shared is not None:
            return
        used = await self.index.uploaded_bytes(user) + self.registry.pending_bytes(user)
        refuse_quota(used, size, self.services.limits.upload_quota_bytes)

    async def validate(self, transfer: UploadTransfer) -> Attachment:
        """Size, SHA-256, then a real image within the pixel limit; ``RequestError`` if not.

        The spill file is flushed to disk meanwhile (a thread waiting on the disk beside the
        one decoding), so that ``store_file`` has only the rename left to make durable.
        """
        spill = transfer.finish()
        check = partial(validate_image, spill, max_pixels=self.services.limits.max_image_pixels)
        validating = asyncio.get_running_loop().run_in_executor(self.validator, check)
        syncing = asyncio.to_thread(self.spills.sync, spill)
        info, synced = await asyncio.gather(validating, syncing, return_exceptions=True)
        for outcome in (info, synced):
            if isinstance(outcome, BaseException):
                raise outcome
        assert isinstance(info, ImageInfo)
        return transfer.header.attachment(info)

    async def store_file(self, transfer: UploadTransfer) -> None:
        """Store the validated (and synced) spill file under its content address, durably."""
        await self.blobs.put(transfer.spill_path, transfer.header.sha256, synced=True)

    async def adopt(self, user: str, owner: str, transfer_id: str, index: int) -> None:
        """Scale-out: rebuild here an upload in progress that another node received part
        of, so that its chunk ``index`` continues it. A local copy left behind when the
        upload moved elsewhere (it expects another index) is replaced; one that expects
        ``index`` is used as it is (``record`` refuses the chunk if another node went on)."""
        if self.shared is None:
            return
        local = self.registry.get(user, transfer_id)
        if local is not None and local.next_index == index:
            return
        self.registry.discard(user, transfer_id)
        found = await self.shared.load(user, transfer_id)
        if found is None or found.state != "active":
            return  # the chunk is then refused as for an unknown transfer
        transfer = self.registry.resume(user, owner, transfer_id, found.header)
        try:
            async for data in self.shared.chunks(user, transfer_id, found.next_index):
                transfer.restore(data)
        except BaseException:
            self.registry.discard(user, transfer_id)
            raise

    async def record(self, transfer: UploadTransfer, index: int, data: bytes) -> None:
        """Scale-out: share a received chunk; nothing to do on a single node."""
        if self.shared is not None:
            await self.shared.record_chunk(
                transfer.user, transfer.transfer_id, transfer.header, index, data
            )

    async def fail(self, user: str, transfer_id: str, error: RequestError) -> None:
        """Discard an upload and remember why, here and (scale-out) for every node."""
        self.registry.fail(user, transfer_id, error)
        if self.shared is not None:
            await self.shared.failed(user, transfer_id, error)


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
            destination = await resolve_destination(ctx, header.dest_type, header.dest)
            await check_may_post(ctx, destination.dest_type, destination.dest)  # §14.18-14.19
            await service.check_quota(user, header.size)
        else:
            await service.adopt(user, ctx.session.id, chunk.transfer, chunk.index)
        transfer, data = registry.append_chunk(user, ctx.session.id, chunk)
        await service.record(transfer, chunk.index, data)
    except RequestError as error:
        await service.fail(user, chunk.transfer, error)
        raise _for_transfer(error, chunk.transfer) from None
    if not transfer.complete:
        return None
    registry.detach(user, chunk.transfer)
    key = (user, chunk.transfer)
    service.finishing[key] = asyncio.Event()
    return Later(_complete_and_announce(service, ctx, transfer, key))


async def _complete_and_announce(
    service: ImageService, ctx: RequestContext, transfer: UploadTransfer, key: tuple[str, str]
) -> Ok:
    """``_complete``, then wake the ``IMG_STATUS`` requests waiting for its outcome."""
    try:
        return await _complete(service, ctx, transfer)
    finally:
        finished = service.finishing.pop(key, None)
        if finished is not None:
            finished.set()


async def _complete(service: ImageService, ctx: RequestContext, transfer: UploadTransfer) -> Ok:
    """Validate, store, post the message; ``OK`` only once image and message are committed."""
    header, user = transfer.header, ctx.user
    try:
        attachment = await service.validate(transfer)
        # Checked again: the sender may have left the channel during the upload.
        destination = await resolve_destination(ctx, header.dest_type, header.dest)
        await check_may_post(ctx, destination.dest_type, destination.dest)  # muted meanwhile?
        await service.store_file(transfer)
    except (RequestError, OSError) as failure:
        transfer.discard()
        error = failure if isinstance(failure, RequestError) else storage_failed(failure)
        await service.fail(user, transfer.transfer_id, error)
        raise _for_transfer(error, transfer.transfer_id) from None
    except BaseException:
        transfer.discard()
        raise
    event = await post_message(ctx, destination, header.content, attachment)
    if service.shared is not None:
        await service.shared.finished(
            user, transfer.transfer_id, header.sha256, event.id, event.timestamp
        )
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
) -> Reply | Later:
    """Extension ``IMG_STATUS``: the chunk indices the node holds for an upload.

    A finished upload answers with all its indices plus ``image``, ``msg_id`` and
    ``timestamp`` (so a client whose connection dropped before the ``OK`` does not post the
    image twice); a failed one answers its ``ERROR``; an unknown one ``received: []``. One
    still being validated and committed is answered once that ends, with its outcome: a
    client that reconnected in that window must not be told to upload it again.
    """
    service = images(ctx.services)
    finishing = service.finishing.get((ctx.user, request.transfer))
    if finishing is not None:
        return Later(_status_when_finished(service, ctx, request, finishing))
    return await _status(service, ctx, request)


async def _status_when_finished(
    service: ImageService, ctx: RequestContext, request: ImgStatus, finished: asyncio.Event
) -> Ok:
    await finished.wait()
    return await _status(service, ctx, request)


async def _status(service: ImageService, ctx: RequestContext, request: ImgStatus) -> Ok:
    """What the shared state says (scale-out: the upload may have gone on elsewhere), else
    what this node knows of the upload."""
    registry, user = service.registry, ctx.user
    if service.shared is not None:
        shared = await service.shared.load(user, request.transfer)
        if shared is not None:
            return _shared_status(ctx, request, shared)
    if (failure := registry.failure(user, request.transfer)) is not None:
        raise _for_transfer(failure, request.transfer)
    received = registry.received(user, request.transfer)
    done = registry.completed(user, request.transfer)
    if done is not None:
        return ctx.ok(
            transfer=request.transfer,
            received=received,
            image=done.image,
            msg_id=done.msg_id,
            timestamp=done.timestamp,
        )
    return ctx.ok(transfer=request.transfer, received=received)


def _shared_status(ctx: RequestContext, request: ImgStatus, shared: SharedUpload) -> Ok:
    if shared.error is not None:
        raise _for_transfer(shared.error, request.transfer)
    if shared.state != "done":
        return ctx.ok(transfer=request.transfer, received=list(range(shared.next_index)))
    return ctx.ok(
        transfer=request.transfer,
        received=list(range(shared.header.total)),
        image=shared.image,
        msg_id=shared.msg_id,
        timestamp=shared.timestamp,
    )


# -------------------------------------------------------------------------------- download


class Downloads:
    """The downloads streaming on the node: per-session slots, and the tasks that stream.

    A session streams at most ``per_session`` images at once; a further ``IMG_GET`` waits
    for a slot, holding up that session's later requests (as every download did before
    downloads ran beside them), so a client cannot make the node open files without bound.
    """

    def __init__(self, per_session: int) -> None:
        self._per_session = per_session
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._holders: dict[str, int] = {}  # sessions' holders and waiters, to free slots
        self._tasks: set[asyncio.Task[None]] = set()

    async def acquire(self, session_id: str) -> None:
        slot = self._slots.setdefault(session_id, asyncio.Semaphore(self._per_session))
        self._holders[session_id] = self._holders.get(session_id, 0) + 1
        try:
            await slot.acquire()
        except BaseException:
            self._forget(session_id)
            raise

    def release(self, session_id: str) -> None:
        self._slots[session_id].release()
        self._forget(session_id)

    def _forget(self, session_id: str) -> None:
        self._holders[session_id] -= 1
        if self._holders[session_id] == 0:
            del self._holders[session_id], self._slots[session_id]

    def start(self, stream: Awaitable[None]) -> None:
        """Run ``stream`` in the background, holding a reference until it ends."""
        task = asyncio.ensure_future(stream)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


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


def register_handlers(table: HandlerTable) -> None:
    """Called by the node: the three image requests, sharing one per-node state."""
    images = LazyImageService()
    table.register(ImgChunk, partial(handle_img_chunk, images))
    table.register(ImgStatus, partial(handle_img_status, images))
    table.register(ImgGet, partial(handle_img_get, images))
