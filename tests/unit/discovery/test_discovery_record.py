"""The node record: strict, bounded parsing, and what a node may publish."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from aronanet.discovery.errors import RecordError
from aronanet.discovery.record import (
    MAX_RECORD_BYTES,
    build_record,
    decode_record,
    encode_record,
)

FINGERPRINT = "SHA256:" + base64.b64encode(hashlib.sha256(b"key").digest()).decode().rstrip("=")
VALID = {
    "artp": "1.0",
    "name": "arona",
    "addresses": ["0.tcp.ngrok.io:12345", "ws://chat.example.org:7778/artp"],
    "fingerprint": FINGERPRINT,
    "updated": 1_700_000_000,
}


def test_a_record_survives_encoding_and_decoding():
    record = build_record("arona", VALID["addresses"], FINGERPRINT, now=1_700_000_000.9)
    assert decode_record(encode_record(record)) == record
    assert json.loads(encode_record(record)) == VALID


def test_a_record_lists_each_address_once_in_the_order_given():
    record = build_record("arona", ["b:1", "a:2", "b:1"], FINGERPRINT, now=0)
    assert record.addresses == ["b:1", "a:2"]


def test_unknown_fields_are_ignored_so_later_versions_can_add_some():
    assert decode_record(json.dumps(VALID | {"signature": "x", "region": "eu"})).name == "arona"


def test_a_record_larger_than_64_kib_is_refused_before_it_is_parsed():
    oversized = b" " * MAX_RECORD_BYTES + json.dumps(VALID).encode()
    with pytest.raises(RecordError, match=f"exceeds the limit of {MAX_RECORD_BYTES} bytes"):
        decode_record(oversized)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("not json", "not valid JSON"),
        (json.dumps([VALID]), "Expected `object`"),
        (json.dumps({k: v for k, v in VALID.items() if k != "fingerprint"}), "fingerprint"),
        (json.dumps(VALID | {"fingerprint": "MD5:abc"}), "fingerprint"),
        (json.dumps(VALID | {"fingerprint": FINGERPRINT + "A"}), "fingerprint"),
        (json.dumps(VALID | {"addresses": []}), "addresses"),
        (json.dumps(VALID | {"addresses": ["host :7777"]}), "addresses"),
        (json.dumps(VALID | {"addresses": [f"h:{n}" for n in range(17)]}), "addresses"),
        (json.dumps(VALID | {"addresses": "host:7777"}), "addresses"),
        (json.dumps(VALID | {"artp": "2.0"}), "artp"),
        (json.dumps(VALID | {"updated": -1}), "updated"),
        (json.dumps(VALID | {"updated": "yesterday"}), "updated"),
        (json.dumps(VALID | {"name": ""}), "name"),
    ],
)
def test_a_malformed_record_is_refused_with_the_reason(document, reason):
    with pytest.raises(RecordError, match=reason):
        decode_record(document)


def test_a_node_never_publishes_a_record_its_clients_would_refuse():
    with pytest.raises(RecordError, match="fingerprint"):
        build_record("arona", ["127.0.0.1:7777"], "SHA256:short", now=0)
