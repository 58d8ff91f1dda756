"""Static keys on disk and their fingerprints.

A node's static X25519 key is its identity, a client's is its device identity (ArTP-1.0 §2).
Whoever reads the key file can impersonate the node, so the file is created private (0600,
in a 0700 directory), written atomically so a crash never leaves half a key, and a file
that others could read is refused rather than used: silently trusting a leaked key is worse
than failing loudly.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.errors import AronaError
from aronanet.filemodes import fsync_directory, loose_permissions

KEY_LENGTH = 32
FINGERPRINT_PREFIX = "SHA256:"


class KeyFileError(AronaError):
    """A key file that cannot be used safely: wrong size, or readable by others."""


def load_or_create_key(path: Path) -> X25519PrivateKey:
    """Load the raw 32-byte private key at ``path``, creating it if there is none.

    Raises ``KeyFileError`` for a file with group/other permission bits or the wrong size;
    the caller should show the message to the operator, who must fix or remove the file.
    """
    try:
        return load_key(path)
    except FileNotFoundError:
        pass
    _create_key_file(path)
    return load_key(path)


def public_key_bytes(key: X25519PrivateKey) -> bytes:
    """The raw 32-byte public key, as sent in the handshake and hashed for fingerprints."""
    return key.public_key().public_bytes_raw()


def fingerprint(public_key: bytes) -> str:
    """ArTP-1.0 §2: "``SHA256:`` + unpadded standard base64 of SHA-256 of the 32-byte public
    key (OpenSSH style)"."""
    if len(public_key) != KEY_LENGTH:
        raise ValueError(f"a public key is {KEY_LENGTH} bytes, not {len(public_key)}")
    digest = hashlib.sha256(public_key).digest()
    return FINGERPRINT_PREFIX + base64.b64encode(digest).decode("ascii").rstrip("=")


def load_key(path: Path) -> X25519PrivateKey:
    """Load the existing key at ``path``; never creates one.

    Raises ``FileNotFoundError`` when there is none (the caller says how to create it) and
    ``KeyFileError`` for a file with group/other permission bits or the wrong size.
    """
    with path.open("rb") as handle:
        loose = loose_permissions(handle.fileno())
        if loose is not None:
            raise KeyFileError(
                f"key file {path} has permissions {loose}; it must be readable "
                f"by its owner only (chmod 600 {path})"
            )
        raw = handle.read(KEY_LENGTH + 1)
    if len(raw) != KEY_LENGTH:
        size = f"{len(raw)}" if len(raw) <= KEY_LENGTH else f"more than {KEY_LENGTH}"
        raise KeyFileError(
            f"key file {path} holds {size} bytes; a key file holds exactly {KEY_LENGTH}"
        )
    return X25519PrivateKey.from_private_bytes(raw)


def _create_key_file(path: Path) -> None:
    """Write a fresh key next to ``path`` and link it into place.

    ``os.link`` never overwrites: if another process created the key meanwhile, theirs wins
    and is the one loaded, so two processes never end up with two identities.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = X25519PrivateKey.generate().private_bytes_raw()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race
            os.link(temporary, path)
        fsync_directory(path.parent)
    finally:
        temporary.unlink(missing_ok=True)
