"""Real image files for the image tests, made with Pillow (and one PNG crafted by hand).

Shared by ``tests/unit/images`` and ``tests/integration/images`` (whose conftest puts this
directory on ``sys.path``). Noise images are used where size matters: they do not compress,
so a file of a given size really carries that many bytes through a transfer.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib

from PIL import Image


def noise_image(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """An RGB image of random pixels: incompressible, so sizes stay predictable."""
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """The bytes of ``image`` saved in ``fmt`` (PNG, JPEG, GIF, WEBP)."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png(width: int = 64, height: int = 48, *, seed: int = 0) -> bytes:
    return encode(noise_image(width, height, seed=seed), "PNG", compress_level=1)


def jpeg(width: int = 64, height: int = 48, *, seed: int = 0) -> bytes:
    return encode(noise_image(width, height, seed=seed), "JPEG", quality=95)


def gif(width: int = 32, height: int = 24) -> bytes:
    return encode(noise_image(width, height).convert("P"), "GIF")


def webp(width: int = 32, height: int = 24) -> bytes:
    return encode(noise_image(width, height), "WEBP", quality=80)


def png_of_size(target: int, *, seed: int = 0) -> bytes:
    """A noise PNG of about ``target`` bytes (a little more, never less)."""
    side = int((target / 3) ** 0.5) + 8
    return png(side, side, seed=seed)


def png_bomb(width: int, height: int) -> bytes:
    """A valid grayscale PNG of ``width`` x ``height`` black pixels, a few KiB on disk:
    the classic decompression bomb. Compressed row by row so the test never holds it."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one byte per pixel
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def truncated(data: bytes) -> bytes:
    """The first half of an image file: a valid header, missing pixels."""
    return data[: len(data) // 2]


def not_an_image() -> bytes:
    return b"#!/bin/sh\necho this is a shell script, not a picture\n" + os.urandom(64)
