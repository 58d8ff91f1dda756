"""``aronanet discover`` tells how to connect with every usable address of the record at
once: a community's list, which the client moves along when one node fails (issue 16)."""

from __future__ import annotations

from aronanet.client.community import parse_address_list
from aronanet.discovery.cli import describe
from aronanet.discovery.record import NodeRecord

FINGERPRINT = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"


def test_the_connect_line_lists_every_usable_address_in_order() -> None:
    record = NodeRecord(
        name="arona",
        addresses=["127.0.0.1:7001", "ftp://nope", "ws://h:7778/artp", "127.0.0.1:7002"],
        fingerprint=FINGERPRINT,
        updated=0,
    )
    line = describe(record).splitlines()[-1]
    assert line == "connect with: aronanet chat 127.0.0.1:7001,ws://h:7778/artp,127.0.0.1:7002"
    listed = line.removeprefix("connect with: aronanet chat ")
    assert parse_address_list(listed) == ("127.0.0.1:7001", "ws://h:7778/artp", "127.0.0.1:7002")


def test_a_record_with_no_usable_address_has_no_connect_line() -> None:
    record = NodeRecord(name="a", addresses=["ftp://x"], fingerprint=FINGERPRINT, updated=0)
    assert "connect with" not in describe(record)
