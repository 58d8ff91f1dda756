"""docs/PROTOCOL.md §14.16-14.21 (moderation): every worked request and reply decodes as
the message it claims to be, so the document and the codec cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from aronanet.proto import codec
from aronanet.proto.codec import Rejection
from aronanet.proto.features import KNOWN_FEATURES, MODERATION

PROTOCOL_MD = Path(__file__).resolve().parents[3] / "docs" / "PROTOCOL.md"
_LINE = re.compile(r"^(?P<arrow>[→←]) (?P<json>\{.*\})", re.MULTILINE)


def moderation_sections() -> str:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    start = text.index("### 14.16 Moderation")
    return text[start:]


def test_the_worked_examples_decode() -> None:
    found = _LINE.findall(moderation_sections())
    assert len(found) >= 15
    kinds = set()
    for arrow, text in found:
        data = text.encode()
        decoded = codec.decode_request(data) if arrow == "→" else codec.decode_event(data)
        assert not isinstance(decoded, Rejection), (text, decoded)
        kinds.add(type(decoded).__name__)
        wire = msgspec.json.decode(data)
        again = msgspec.json.decode(codec.encode(decoded))
        assert {key: again[key] for key in wire} == wire  # nothing lost or changed
    assert {"SetRole", "ChannelInfoRequest", "SetMode", "Ban", "Mute", "Auth"} <= kinds
    assert {"Ok", "Error", "ModerationEvent", "PartEvent"} <= kinds


def test_moderation_is_a_known_feature() -> None:
    assert MODERATION in KNOWN_FEATURES
