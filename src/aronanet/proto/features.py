"""ArTP/1.1 feature negotiation (§14.1): what a client asks for in handshake message 1.

Message 1's payload is sent in clear before any key is agreed, so it is parsed defensively:
it is JSON ``{"client": "<name/version>", "features": ["batch", "sync"]}``, and anything
else (empty, not JSON, no list, non-string items) simply asks for nothing. Unknown names are
ignored, so a client may ask for features a node does not know yet. The features of a
session are the ones asked for AND supported by the node, sorted: the ``features`` of HELLO.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import msgspec

#: §14.2: node-to-client messages may be JSON arrays of messages.
BATCH: Final = "batch"
#: §14.3-14.6: devices, exactly-once sending, conversations, read markers.
SYNC: Final = "sync"
#: §14.9-14.14: replies, edits, deletes, reactions, typing, changes (their events).
LIFECYCLE: Final = "lifecycle"
#: §14.16-14.21: channel roles, kicks, bans, mutes, modes, invitations, blocks, admins
#: (what it gates: the ``MODERATION`` event).
MODERATION: Final = "moderation"
#: Every feature name of ArTP/1.1.
KNOWN_FEATURES: Final = frozenset({BATCH, SYNC, LIFECYCLE, MODERATION})

_decoder = msgspec.json.Decoder()
_DECODE_FAILURES = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


@dataclass(frozen=True, slots=True)
class ClientPayload:
    """What handshake message 1 said: the client's name (if any) and the features asked."""

    client: str | None = None
    features: frozenset[str] = frozenset()


def parse_client_payload(payload: bytes) -> ClientPayload:
    """Read message 1's payload; never raises (a bad payload asks for nothing)."""
    if not payload:
        return ClientPayload()
    try:
        value: Any = _decoder.decode(payload)
    except _DECODE_FAILURES:
        return ClientPayload()
    if not isinstance(value, dict):
        return ClientPayload()
    client = value.get("client")
    asked = value.get("features")
    features = (
        frozenset(name for name in asked if isinstance(name, str))
        if isinstance(asked, list)
        else frozenset()
    )
    return ClientPayload(client if isinstance(client, str) else None, features)


def client_payload(client: str | None, features: Iterable[str] = ()) -> bytes:
    """Message 1's payload for a client: empty when it has neither a name nor features."""
    asked = sorted(set(features))
    body: dict[str, Any] = {}
    if client is not None:
        body["client"] = client
    if asked:
        body["features"] = asked
    return msgspec.json.encode(body) if body else b""


def negotiate(asked: Iterable[str], supported: Iterable[str]) -> tuple[str, ...]:
    """§14.1: the session's features are those asked AND supported, sorted."""
    return tuple(sorted(set(asked) & set(supported)))
