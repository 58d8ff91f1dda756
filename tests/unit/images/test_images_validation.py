"""``validate_image``: real files of every allowed type, and every way to not be one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import image_samples as samples
import pytest

from aronanet.errors import ErrorCode, RequestError
from aronanet.server.image_validation import validate_image


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "mime", "size"),
    [
        (lambda: samples.png(64, 48), "image/png", (64, 48)),
        (lambda: samples.jpeg(64, 48), "image/jpeg", (64, 48)),
        (lambda: samples.gif(32, 24), "image/gif", (32, 24)),
        (lambda: samples.webp(32, 24), "image/webp", (32, 24)),
    ],
)
def test_validation_reports_the_real_type_and_dimensions(
    tmp_path: Path, make: Callable[[], bytes], mime: str, size: tuple[int, int]
) -> None:
    info = validate_image(write(tmp_path, make()), max_pixels=1_000_000)
    assert (info.mime, info.width, info.height) == (mime, *size)


def test_validation_refuses_bytes_that_are_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(RequestError) as caught:
        validate_image(write(tmp_path, samples.not_an_image()), max_pixels=1_000_000)
    assert caught.value.code is ErrorCode.IMAGE_INVALID


def test_validation_refuses_an_image_type_outside_the_allowed_four(tmp_path: Path) -> None:
    bmp = samples.encode(samples.noise_image(8, 8), "BMP")
    with pytest.raises(RequestError) as caught:
        validate_image(write(tmp_path, bmp), max_pixels=1_000_000)
    assert caught.value.code is ErrorCode.IMAGE_INVALID


@pytest.mark.parametrize("make", [samples.png, samples.jpeg], ids=["png", "jpeg"])
def test_validation_refuses_a_truncated_image(tmp_path: Path, make: Callable[[], bytes]) -> None:
    with pytest.raises(RequestError) as caught:
        validate_image(write(tmp_path, samples.truncated(make())), max_pixels=1_000_000)
    assert caught.value.code is ErrorCode.IMAGE_INVALID


def test_validation_refuses_a_decompression_bomb_from_its_header(tmp_path: Path) -> None:
    bomb = samples.png_bomb(7000, 7000)  # 49 million pixels in about 50 KB
    with pytest.raises(RequestError) as caught:
        validate_image(write(tmp_path, bomb), max_pixels=40_000_000)
    assert caught.value.code is ErrorCode.TOO_LARGE
    assert "7000x7000" in caught.value.message


def test_validation_refuses_a_bomb_beyond_pillows_own_limit(tmp_path: Path) -> None:
    bomb = samples.png_bomb(20000, 20000)  # 400 million pixels: Pillow refuses on open
    with pytest.raises(RequestError) as caught:
        validate_image(write(tmp_path, bomb), max_pixels=10**12)
    assert caught.value.code is ErrorCode.TOO_LARGE


def test_validation_accepts_an_image_exactly_at_the_pixel_limit(tmp_path: Path) -> None:
    info = validate_image(write(tmp_path, samples.png(100, 50)), max_pixels=5000)
    assert info.width * info.height == 5000
