"""The published node record: where a node listens and which key it presents.

A record is one small JSON document::

    {"artp": "1.0", "name": "arona", "addresses": ["0.tcp.ngrok.io:12345",
     "ws://chat.example.org:7778/artp"], "fingerprint": "SHA256:...", "updated": 1700000000}

Security model. The record is *not* signed. A node's identity is its X25519 static key
(ArTP/1.0 §2), and X25519 can agree on keys but cannot sign; adding a second, signing key
would only move the question to "how do I trust that key?". Instead the record is trusted
on first use, exactly like the node key itself, and it cannot create a silent impostor:
the client pins the record's fingerprint for each address *before* its first connection,
and the handshake then proves the node holds the matching private key (§2: clients "MUST
refuse, loudly, a changed key"). A tampered record can therefore point a client at the
wrong host, or carry the wrong fingerprint, and the result is a refused connection with a
loud ``KeyChangedError``, never a session with someone else. Whoever can edit the record
can deny service; they cannot read or forge conversations.

Parsing is strict (msgspec, with the constraints below) and bounded: a record larger than
``MAX_RECORD_BYTES`` is refused before it is decoded. Unknown fields are ignored, so a
later version may add some (the contract's rule for messages, applied here too).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from aronanet.discovery.errors import RecordError

RECORD_VERSION: Final = "1.0"
#: Fetches of a record stop at this size; a real record is a few hundred bytes.
MAX_RECORD_BYTES: Final = 64 * 1024
MAX_ADDRESSES: Final = 16

#: ``host:port``, ``[v6]:port`` or a ``ws(s)://`` URL: no whitespace, bounded length.
Address = Annotated[str, Meta(min_length=1, max_length=300, pattern=r"\A\S+\Z")]
#: §2: "``SHA256:`` + unpadded standard base64 of SHA-256" (43 characters for 32 bytes).
Fingerprint = Annotated[str, Meta(pattern=r"\ASHA256:[A-Za-z0-9+/]{43}\Z")]
NodeName = Annotated[str, Meta(min_length=1, max_length=256)]
UnixSeconds = Annotated[int, Meta(ge=0)]


class NodeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What a node publishes about itself; see the module docstring for why it is unsigned."""

    artp: Literal["1.0"] = RECORD_VERSION
    name: NodeName
    addresses: Annotated[list[Address], Meta(min_length=1, max_length=MAX_ADDRESSES)]
    fingerprint: Fingerprint
    updated: UnixSeconds


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(NodeRecord)


def build_record(name: str, addresses: list[str], fingerprint: str, now: float) -> NodeRecord:
    """A record for the node right now; raises ``RecordError`` for values a reader would refuse.

    Validation goes through the same decoder as reading, so a node never publishes a record
    that its own clients would reject.
    """
    unique = list(dict.fromkeys(addresses))
    draft = {
        "artp": RECORD_VERSION,
        "name": name,
        "addresses": unique,
        "fingerprint": fingerprint,
        "updated": int(now),
    }
    return decode_record(_encoder.encode(draft))


def encode_record(record: NodeRecord) -> bytes:
    """The record as compact UTF-8 JSON, as published."""
    return _encoder.encode(record)


def decode_record(data: bytes | str) -> NodeRecord:
    """Parse a fetched record strictly; raise ``RecordError`` saying what is wrong.

    The size is checked first, so an oversized document is refused without being parsed.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(
            f"node record of {len(raw)} bytes exceeds the limit of {MAX_RECORD_BYTES} bytes"
        )
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise RecordError(f"not a valid ArTP/1.0 node record: {exc}") from None
    except msgspec.DecodeError as exc:
        raise RecordError(f"node record is not valid JSON: {exc}") from None
