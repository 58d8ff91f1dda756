"""Loads every public Noise test vector in ``tests/vectors/noise`` into one shape.

The sources disagree on format and on who sends the first transport message (see
SOURCE.md there); this module is the one place that knows, so the tests only replay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

#: A copy kept in the repository (SOURCE.md there says where each file came from).
VECTOR_DIR = Path(__file__).resolve().parents[2] / "vectors" / "noise"
HANDSHAKE_LENGTHS = {"XX": 3, "NK": 2}


@dataclass(frozen=True)
class VectorMessage:
    payload: bytes
    ciphertext: bytes
    from_initiator: bool


@dataclass(frozen=True)
class NoiseVector:
    id: str
    pattern: str
    cipher: str
    init_prologue: bytes
    resp_prologue: bytes
    init_static: bytes | None
    init_ephemeral: bytes
    init_remote_static: bytes | None
    resp_static: bytes
    resp_ephemeral: bytes
    handshake_hash: bytes | None
    messages: tuple[VectorMessage, ...]

    @property
    def handshake_length(self) -> int:
        return HANDSHAKE_LENGTHS[self.pattern]


def private_key(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def _parse_name(name: str) -> tuple[str, str]:
    """``Noise_XX_25519_AESGCM_SHA256`` -> (``XX``, ``AESGCM``)."""
    _, pattern, dh, cipher, hash_name = name.split("_")
    assert (dh, hash_name) == ("25519", "SHA256"), name
    return pattern, cipher


def _optional_hex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _load_json(filename: str) -> list[NoiseVector]:
    document = json.loads((VECTOR_DIR / filename).read_text())
    vectors = []
    for index, raw in enumerate(document["vectors"]):
        name = raw.get("protocol_name") or raw["name"]
        pattern, cipher = _parse_name(name)
        # JSON convention: messages alternate I, R, I, ... straight through into transport.
        messages = tuple(
            VectorMessage(
                bytes.fromhex(message["payload"]),
                bytes.fromhex(message["ciphertext"]),
                from_initiator=position % 2 == 0,
            )
            for position, message in enumerate(raw["messages"])
        )
        vectors.append(
            NoiseVector(
                id=f"{filename}[{index}]-{name}",
                pattern=pattern,
                cipher=cipher,
                init_prologue=bytes.fromhex(raw["init_prologue"]),
                resp_prologue=bytes.fromhex(raw["resp_prologue"]),
                init_static=_optional_hex(raw.get("init_static")),
                init_ephemeral=bytes.fromhex(raw["init_ephemeral"]),
                init_remote_static=_optional_hex(raw.get("init_remote_static")),
                resp_static=bytes.fromhex(raw["resp_static"]),
                resp_ephemeral=bytes.fromhex(raw["resp_ephemeral"]),
                handshake_hash=_optional_hex(raw.get("handshake_hash")),
                messages=messages,
            )
        )
    return vectors


def _flynn_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, _, value = line.partition("=")
        current[key] = value
    return blocks


def _load_flynn(filename: str) -> list[NoiseVector]:
    vectors = []
    for index, block in enumerate(_flynn_blocks((VECTOR_DIR / filename).read_text())):
        pattern, cipher = _parse_name(block["handshake"])
        handshake_length = HANDSHAKE_LENGTHS[pattern]
        count = sum(1 for key in block if key.endswith("_ciphertext"))
        messages = []
        for position in range(count):
            if position < handshake_length:
                from_initiator = position % 2 == 0
            else:
                # flynn: transport always starts with c1 (initiator to responder), whoever
                # sent the last handshake message.
                from_initiator = (position - handshake_length) % 2 == 0
            messages.append(
                VectorMessage(
                    bytes.fromhex(block[f"msg_{position}_payload"]),
                    bytes.fromhex(block[f"msg_{position}_ciphertext"]),
                    from_initiator,
                )
            )
        resp_static = bytes.fromhex(block["resp_static"])
        prologue = bytes.fromhex(block.get("prologue", ""))
        vectors.append(
            NoiseVector(
                id=f"{filename}[{index}]-{block['handshake']}",
                pattern=pattern,
                cipher=cipher,
                init_prologue=prologue,
                resp_prologue=prologue,
                init_static=_optional_hex(block.get("init_static")),
                init_ephemeral=bytes.fromhex(block["gen_init_ephemeral"]),
                init_remote_static=(
                    private_key(resp_static).public_key().public_bytes_raw()
                    if pattern == "NK"
                    else None
                ),
                resp_static=resp_static,
                resp_ephemeral=bytes.fromhex(block["gen_resp_ephemeral"]),
                handshake_hash=None,
                messages=tuple(messages),
            )
        )
    return vectors


def load_all() -> list[NoiseVector]:
    """Every vector of every file; 21 in all at the time of writing."""
    return [
        *_load_json("noise_vectors.json"),
        *_load_json("noise_vectors_noise-c.json"),
        *_load_flynn("flynn_vectors.txt"),
    ]
