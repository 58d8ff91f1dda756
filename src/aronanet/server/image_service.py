"""The node's image state, shared by the image handlers: ``ImageService`` and its parts.

Apart from the handlers (``image_uploads``, ``image_downloads``) because both sides use one
per-node state: the stored images (the ``BlobStore``), the uploads in progress (this
node's ``TransferRegistry`` and, in scale-out mode, ``image_postgres.SharedUploads``), the
per-session download slots, the validator thread. It is built on the first image request
(``LazyImageService``), since the handler table exists before the node's services do.

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

from aronanet.errors import RequestError
from aronanet.proto.messages import Attachment
from aronanet.server.image_blobs import BlobStore, LocalBlobStore, blob_store_for
from aronanet.server.image_refusals import refuse_quota
from aronanet.server.image_transfers import TransferRegistry, UploadTransfer
from aronanet.server.image_validation import ImageInfo, validate_image
from aronanet.server.logs import log_event
from aronanet.server.services import Services
from aronanet.server.store.base import Store

if TYPE_CHECKING:
    from aronanet.server.image_postgres import SharedUploads

#: The image events keep the logger name they had before ``image_handlers`` was split, so
#: filters on that name still see them.
logger = logging.getLogger("aronanet.server.image_handlers")

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
