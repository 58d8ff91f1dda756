"""Invitation links for tests (§14.21): a token written into a node's store, as
``aronanet admin invite`` does, and the ``aronanet://`` link naming the node's key."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client.connection import ArtpClient
from aronanet.server.accounts import token_hash
from aronanet.server.store.moderation_sql import AuditRecord
from aronanet.server.store.sqlite import SqliteStore


async def mint_invitation(data_dir: Path, *, uses: int = 1) -> str:
    """A fresh invitation token in the SQLite store of a (running) node; the node reads
    tokens from the store when one is used, so no restart is needed."""
    token = secrets.token_urlsafe(24)
    store = SqliteStore(data_dir / "aronanet.sqlite3")
    await store.open()
    try:
        now = int(time.time())
        record = AuditRecord(at=now, by="test", action="invite_token")
        await store.add_token(token_hash(token), "invite", None, uses, now + 3600, record)
    finally:
        await store.close()
    return token


async def node_fingerprint(address: str) -> str:
    """The node's key fingerprint, as a first-time visitor would see it."""
    client = await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())
    try:
        return client.fingerprint
    finally:
        await client.close()


def invite_link(address: str, fingerprint: str, token: str) -> str:
    return f"aronanet://{address}/?fp={fingerprint}&invite={token}"
