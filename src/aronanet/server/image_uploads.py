"""The image upload requests: ``IMG_CHUNK`` (upload) and ``IMG_STATUS`` (resume).

ArTP/1.0 §4, with the ``IMG_STATUS`` extension documented in docs/PROTOCOL.md. Chunk 0 is
checked (metadata, destination, quota) before a byte is stored; every chunk goes to the
transfer's spill file (``image_transfers.TransferRegistry``) and, in scale-out mode, to
PostgreSQL (``image_postgres.SharedUploads``), so that the upload resumes on any node.
After the last one, size and SHA-256 are checked, Pillow validates the image in a worker
thread (one at a time, so decoding memory is bounded by one image) while another flushes
the spill file to disk, the image goes to the ``BlobStore`` (``image_blobs``: files by
default, PostgreSQL in scale-out mode) under its SHA-256, then the message is stored and
routed by ``messaging.post_message``, and only then does the uploader get ``OK`` (§4:
"replies OK (re, transfer, image, msg_id) and delivers a MSG").
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aronanet.errors import RequestError
from aronanet.proto.messages import ImgChunk, ImgStatus, Ok
from aronanet.server.handlers import Later, Reply, RequestContext
from aronanet.server.image_refusals import storage_failed
from aronanet.server.image_service import ImageService, LazyImageService
from aronanet.server.image_transfers import CompletedUpload, UploadHeader, UploadTransfer
from aronanet.server.logs import log_event
from aronanet.server.messaging import post_message, resolve_destination
from aronanet.server.moderation import check_may_post

if TYPE_CHECKING:
    from aronanet.server.image_postgres import SharedUpload

#: The image events keep the logger name they had before ``image_handlers`` was split, so
#: filters on that name still see them.
logger = logging.getLogger("aronanet.server.image_handlers")


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
