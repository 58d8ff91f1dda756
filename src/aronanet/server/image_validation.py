"""Is it really an image? The §4 checks on the bytes of an upload, before it is stored.

``validate_image`` decides whether bytes really are a PNG, JPEG, GIF or WebP image within
the pixel limit, reading the header before decoding anything (decompression bombs are
refused from their declared dimensions) and then decoding the first frame so that corrupt or
truncated data is refused too. Free of any socket, session or storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from aronanet.errors import ErrorCode, RequestError

#: §4: "an image of an allowed type (PNG, JPEG, GIF, WebP)": Pillow format name -> MIME type.
ALLOWED_FORMATS: dict[str, str] = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
ALLOWED_MIMES: frozenset[str] = frozenset(ALLOWED_FORMATS.values())


@dataclass(frozen=True)
class ImageInfo:
    """What validation learned about an image: its real type and dimensions."""

    mime: str
    width: int
    height: int


def invalid(message: str) -> RequestError:
    """An ``IMAGE_INVALID`` refusal."""
    return RequestError(ErrorCode.IMAGE_INVALID, message)


def too_large(message: str) -> RequestError:
    """A ``TOO_LARGE`` refusal."""
    return RequestError(ErrorCode.TOO_LARGE, message)


def validate_image(path: Path, *, max_pixels: int) -> ImageInfo:
    """Check that the file at ``path`` is an allowed image within ``max_pixels``.

    Raises ``RequestError`` (``IMAGE_INVALID`` or ``TOO_LARGE``). Blocking and CPU-bound: call
    it from a worker thread. Pillow parses hostile input here, and a malformed file can make
    it raise almost anything, so every exception but ours is reported as ``IMAGE_INVALID``.
    """
    try:
        with Image.open(path, formats=list(ALLOWED_FORMATS)) as image:
            width, height = image.size
            # §4 "within pixel limits": judged from the header, before a single pixel is
            # decoded, so a small file declaring huge dimensions costs nothing.
            if width * height > max_pixels:
                raise too_large(
                    f"image is {width}x{height} = {width * height} pixels, "
                    f"more than the limit of {max_pixels}"
                )
            mime = ALLOWED_FORMATS[str(image.format)]
            if image.format == "JPEG":
                # Decode at 1/8 scale: every byte of the entropy-coded data is still read
                # (truncation and corruption are still caught) for 1/64 of the memory.
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
    except RequestError:
        raise
    except UnidentifiedImageError:
        raise invalid("the data is not a PNG, JPEG, GIF or WebP image") from None
    except Image.DecompressionBombError as exc:
        raise too_large(f"decompression bomb refused: {exc}") from None
    except Exception as exc:  # hostile input: see the docstring
        raise invalid(f"the image data is corrupt or truncated ({type(exc).__name__})") from None
    if width < 1 or height < 1:
        raise invalid(f"image has empty dimensions {width}x{height}")
    return ImageInfo(mime=mime, width=width, height=height)
