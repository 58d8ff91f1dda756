"""The pure parts of ``client.transfers``: local checks before sending, chunk building."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import image_samples as samples
import msgspec
import pytest

from aronanet.client.transfers import (
    LocalImage,
    cache_path,
    chunk_total,
    inspect_image,
    make_chunk,
    new_transfer_id,
)
from aronanet.errors import ClientError
from aronanet.proto.messages import Hello, HelloLimits

HELLO = Hello(
    node="test",
    limits=HelloLimits(chunk_size=1024, max_image=64 * 1024, max_image_pixels=10_000),
)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_inspect_reads_type_size_dimensions_and_sha256_of_a_real_image(tmp_path: Path) -> None:
    data = samples.jpeg(40, 30)
    image = inspect_image(write(tmp_path, "photo.jpg", data), HELLO)
    assert (image.mime, image.size, image.width, image.height) == ("image/jpeg", len(data), 40, 30)
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.name == "photo.jpg"


def test_inspect_refuses_a_file_above_the_nodes_max_image(tmp_path: Path) -> None:
    path = write(tmp_path, "big.png", samples.png_of_size(70 * 1024))
    with pytest.raises(ClientError) as caught:
        inspect_image(path, HELLO)
    assert caught.value.code == "TOO_LARGE"
    assert str(64 * 1024) in caught.value.message


def test_inspect_refuses_a_file_that_is_not_an_allowed_image(tmp_path: Path) -> None:
    with pytest.raises(ClientError) as caught:
        inspect_image(write(tmp_path, "script.png", samples.not_an_image()), HELLO)
    assert caught.value.code == "IMAGE_INVALID"
    assert "script.png" in caught.value.message


def test_inspect_refuses_more_pixels_than_the_node_advertises(tmp_path: Path) -> None:
    with pytest.raises(ClientError) as caught:
        inspect_image(write(tmp_path, "bomb.png", samples.png_bomb(200, 200)), HELLO)
    assert caught.value.code == "TOO_LARGE"
    assert "200x200" in caught.value.message


def test_inspect_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ClientError) as caught:
        inspect_image(tmp_path / "nowhere.png", HELLO)
    assert "nowhere.png" in caught.value.message


def test_chunk_total_covers_the_size_in_chunks_of_at_most_chunk_size() -> None:
    assert [chunk_total(size, 1024) for size in (1, 1024, 1025, 4096)] == [1, 1, 2, 4]


def test_only_chunk_zero_carries_the_metadata() -> None:
    image = LocalImage(
        path=Path("a.png"),
        name="a.png",
        mime="image/png",
        size=3,
        sha256="0" * 64,
        width=1,
        height=1,
    )
    common = {"transfer_id": "t1", "total": 2, "dest_type": "channel", "dest": "#general"}
    first = make_chunk(image, index=0, data=b"ab", content="look", **common)  # type: ignore[arg-type]
    second = make_chunk(image, index=1, data=b"c", content="look", **common)  # type: ignore[arg-type]
    first_json = msgspec.json.decode(msgspec.json.encode(first))
    second_json = msgspec.json.decode(msgspec.json.encode(second))
    assert {"name", "mime", "size", "sha256", "dest", "content"} <= first_json.keys()
    assert second_json.keys() == {"version", "type", "transfer", "index", "total", "data"}
    assert base64.b64decode(second_json["data"]) == b"c"


def test_cache_paths_fan_out_by_the_first_two_hex_digits(tmp_path: Path) -> None:
    sha = "ab" + "c" * 62
    assert cache_path(tmp_path, sha) == tmp_path / "ab" / sha


def test_transfer_ids_are_fresh_and_fit_the_contract() -> None:
    ids = {new_transfer_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(1 <= len(value) <= 64 for value in ids)
