"""The image requests: ``IMG_CHUNK`` (upload), ``IMG_STATUS`` (resume), ``IMG_GET`` (download).

ArTP/1.0 §4, with the extensions documented in docs/PROTOCOL.md (``IMG_STATUS`` and the
``start`` field of ``IMG_GET``). The node finds this module through ``assembly.EXTENSIONS`` and
calls ``register_handlers(table)``, which replaces the placeholders of ``handlers.py``. The
handlers live in ``image_uploads`` and ``image_downloads``; the per-node state they share
is ``image_service.ImageService``.
"""

from __future__ import annotations

from functools import partial

from aronanet.proto.messages import ImgChunk, ImgGet, ImgStatus
from aronanet.server.handlers import HandlerTable
from aronanet.server.image_downloads import handle_img_get
from aronanet.server.image_service import LazyImageService
from aronanet.server.image_uploads import handle_img_chunk, handle_img_status


def register_handlers(table: HandlerTable) -> None:
    """Called by the node: the three image requests, sharing one per-node state."""
    images = LazyImageService()
    table.register(ImgChunk, partial(handle_img_chunk, images))
    table.register(ImgStatus, partial(handle_img_status, images))
    table.register(ImgGet, partial(handle_img_get, images))
