"""parse_address: every spelling a user may type, and the canonical form it pins under."""

from __future__ import annotations

import pytest

from aronanet.client.address import NodeAddress, parse_address


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("example.org", NodeAddress("tcp", "example.org", 7777)),
        ("Example.ORG:7000", NodeAddress("tcp", "example.org", 7000)),
        ("tcp://node.lan:1234", NodeAddress("tcp", "node.lan", 1234)),
        ("127.0.0.1:9", NodeAddress("tcp", "127.0.0.1", 9)),
        ("[::1]:7777", NodeAddress("tcp", "::1", 7777)),
        ("[::1]", NodeAddress("tcp", "::1", 7777)),
        ("::1", NodeAddress("tcp", "::1", 7777)),
        ("[0:0:0:0:0:0:0:1]:80", NodeAddress("tcp", "::1", 80)),
        ("ws://host:9000/artp", NodeAddress("ws", "host", 9000, "/artp")),
        ("ws://host", NodeAddress("ws", "host", 7778, "/artp")),
        ("wss://chat.example.org/artp", NodeAddress("wss", "chat.example.org", 443, "/artp")),
        ("WS://[::1]:8080/custom/path", NodeAddress("ws", "::1", 8080, "/custom/path")),
    ],
)
def test_parse_address_accepts_every_documented_form(typed: str, expected: NodeAddress) -> None:
    assert parse_address(typed) == expected


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("localhost", "localhost:7777"),
        ("[::1]:7000", "[::1]:7000"),
        ("ws://h", "ws://h:7778/artp"),
        ("wss://[::1]/artp", "wss://[::1]:443/artp"),
    ],
)
def test_str_of_an_address_is_its_canonical_spelling(typed: str, canonical: str) -> None:
    assert str(parse_address(typed)) == canonical
    assert parse_address(canonical) == parse_address(typed)


def test_websocket_uri_brackets_an_ipv6_host() -> None:
    assert parse_address("ws://[::1]:7778/artp").websocket_uri() == "ws://[::1]:7778/artp"


@pytest.mark.parametrize(
    ("typed", "complaint"),
    [
        ("", "empty"),
        ("host:", "missing port"),
        ("host:0", "outside 1..65535"),
        ("host:65536", "outside 1..65535"),
        ("host:http", "not a number"),
        ("[::1", "unclosed"),
        ("[nothost]:7777", "not an IPv6 address"),
        ("[::1]x", "unexpected"),
        ("a:b:c", "not an IPv6 address"),
        ("http://host", "unsupported scheme"),
        ("host/artp", "no path"),
        ("ws://user:pw@host/artp", "credentials"),
        ("ws://host/artp?x=1", "query"),
        ("ws://host:99999/artp", "port"),
        ("my host", "whitespace"),
        (":7777", "no host"),
    ],
)
def test_parse_address_rejects_malformed_input_saying_why(typed: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_address(typed)
