"""Pinning a record's fingerprint: new pins, repeated pins, and conflicts."""

from __future__ import annotations

import base64
import hashlib

import pytest

from aronanet.client import KnownNodes
from aronanet.discovery.pinning import pin_record
from aronanet.discovery.record import build_record
from aronanet.errors import KeyChangedError


def fingerprint_of(seed: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(seed).digest()).decode().rstrip("=")


RECORD = build_record(
    "arona",
    ["Chat.Example.org:7777", "ws://chat.example.org:7778/artp", "chat.example.org:99999"],
    fingerprint_of(b"node"),
    now=0,
)


def test_each_usable_address_is_pinned_in_its_canonical_spelling(tmp_path):
    known = KnownNodes(tmp_path / "known_nodes")
    results = pin_record(RECORD, known)
    assert [(r.address, r.outcome) for r in results] == [
        ("chat.example.org:7777", "pinned"),
        ("ws://chat.example.org:7778/artp", "pinned"),
        ("chat.example.org:99999", "unusable"),
    ]
    assert known.entries() == {
        "chat.example.org:7777": RECORD.fingerprint,
        "ws://chat.example.org:7778/artp": RECORD.fingerprint,
    }


def test_pinning_the_same_record_again_changes_nothing(tmp_path):
    known = KnownNodes(tmp_path / "known_nodes")
    pin_record(RECORD, known)
    results = pin_record(RECORD, known)
    assert {r.outcome for r in results if r.outcome != "unusable"} == {"already pinned"}


def test_a_record_contradicting_a_pin_is_refused_and_pins_nothing(tmp_path):
    known = KnownNodes(tmp_path / "known_nodes")
    known.pin("ws://chat.example.org:7778/artp", fingerprint_of(b"earlier"))
    with pytest.raises(KeyChangedError) as caught:
        pin_record(RECORD, known)
    assert caught.value.pinned == fingerprint_of(b"earlier")
    assert known.lookup("chat.example.org:7777") is None
