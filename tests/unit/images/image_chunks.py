"""Helpers shared by the image unit and integration tests: limits, a clock, chunking."""

from __future__ import annotations

import base64
import hashlib

from aronanet.config import Limits
from aronanet.proto.messages import ImgChunk

SMALL_LIMITS = Limits(chunk_size=1024, max_image=256 * 1024, max_image_pixels=1_000_000)


class ManualClock:
    """A clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def chunks_of(
    data: bytes,
    *,
    transfer: str = "t1",
    chunk_size: int = SMALL_LIMITS.chunk_size,
    mime: str = "image/png",
    sha256: str | None = None,
    size: int | None = None,
    dest: str = "#general",
) -> list[ImgChunk]:
    """The IMG_CHUNK messages a well-behaved client sends for ``data`` (§4)."""
    pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] or [b""]
    total = len(pieces)
    chunks = [
        ImgChunk(
            transfer=transfer,
            index=index,
            total=total,
            data=base64.b64encode(piece).decode(),
        )
        for index, piece in enumerate(pieces)
    ]
    chunks[0] = ImgChunk(
        transfer=transfer,
        index=0,
        total=total,
        data=chunks[0].data,
        dest_type="channel",
        dest=dest,
        name="arona.png",
        mime=mime,
        size=len(data) if size is None else size,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
    )
    return chunks
