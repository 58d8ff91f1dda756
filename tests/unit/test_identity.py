"""Key files on a real filesystem (tmp_path) and OpenSSH-style fingerprints."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.identity import KeyFileError, fingerprint, load_or_create_key, public_key_bytes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_missing_key_is_created_private_in_a_private_directory(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "node.key"
    key = load_or_create_key(path)
    assert path.read_bytes() == key.private_bytes_raw()
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["node.key"]  # no temporary left behind


def test_an_existing_key_is_loaded_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    first = load_or_create_key(path)
    second = load_or_create_key(path)
    assert public_key_bytes(first) == public_key_bytes(second)


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_key(path)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_a_key_file_of_the_wrong_size_is_refused(tmp_path: Path, size: int) -> None:
    path = tmp_path / "node.key"
    path.write_bytes(b"k" * size)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="exactly 32"):
        load_or_create_key(path)


def test_public_key_bytes_are_the_raw_32_bytes() -> None:
    key = X25519PrivateKey.from_private_bytes(bytes(range(32)))
    assert public_key_bytes(key) == key.public_key().public_bytes_raw()
    assert len(public_key_bytes(key)) == 32


def test_fingerprint_is_unpadded_base64_of_sha256_with_prefix() -> None:
    public = bytes(range(32))
    digest = base64.b64encode(hashlib.sha256(public).digest()).decode().rstrip("=")
    assert fingerprint(public) == "SHA256:" + digest
    assert fingerprint(public) == "SHA256:Yw3NKWbEM2aRElRIu7JbT/QSpJxzLbLIq8G4WBvXEN0"
    assert not fingerprint(public).endswith("=")


def test_fingerprint_refuses_a_key_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        fingerprint(b"short")
