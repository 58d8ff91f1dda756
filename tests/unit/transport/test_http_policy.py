"""The WebSocket port's rules on literal headers and bytes (no sockets)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from websockets.datastructures import Headers

from aronanet.transport.http_policy import HttpPolicy, looks_like_http, security_headers


@pytest.mark.parametrize(
    ("first_bytes", "http"),
    [
        (b"GET / HTTP/1.1\r\n", True),
        (b"G", True),
        (b"post", True),
        (b"\x00\x00\x00\x20", False),  # an ArTP TCP frame's length prefix
        (b"\x16\x03\x01", False),  # a TLS ClientHello
        (b"\r\nGET", False),
        (b" GET", False),
    ],
)
def test_only_bytes_that_can_start_a_request_line_look_like_http(first_bytes, http):
    assert looks_like_http(first_bytes) is http


@pytest.mark.parametrize(
    ("host", "own"),
    [
        ("127.0.0.1:7778", True),
        ("10.0.0.7", True),
        ("[::1]:7778", True),
        ("[fe80::1]", True),
        ("localhost:7778", True),
        ("LOCALHOST", True),
        ("app.localhost:7778", True),
        ("chat.example:7778", True),
        ("evil.example:7778", False),
        ("127.0.0.1.evil.example", False),
        ("", False),
    ],
)
def test_own_names_are_ip_literals_loopback_names_and_the_configured_ones(host, own):
    assert HttpPolicy(hosts=["Chat.Example"]).is_own_name(host) is own


def _headers(*pairs: tuple[str, str]) -> Headers:
    headers = Headers()
    for name, value in pairs:
        headers[name] = value  # appends: a name may repeat
    return headers


def test_a_page_of_a_rebound_name_is_refused_and_the_nodes_own_page_is_not():
    policy = HttpPolicy()
    rebound = _headers(("Host", "evil.example:7778"), ("Origin", "http://evil.example:7778"))
    own = _headers(("Host", "127.0.0.1:7778"), ("Origin", "http://127.0.0.1:7778"))
    refusal = policy.refusal("GET", "/artp", rebound)
    assert refusal is not None and refusal.status == 403 and "--ws-hosts" in refusal.text
    assert policy.refusal("GET", "/artp", own) is None
    assert policy.refusal("GET", "/artp", _headers(("Host", "evil.example"))) is None


def test_listed_origins_compare_without_case_or_trailing_slash():
    policy = HttpPolicy(origins=["https://App.Example/"])
    headers = _headers(("Host", "node.example"), ("Origin", "https://app.example"))
    assert policy.refusal("GET", "/artp", headers) is None


def test_static_paths_skip_the_browser_check_but_not_the_method_check():
    policy = HttpPolicy()
    foreign = _headers(("Host", "x"), ("Origin", "https://evil.example"))
    assert policy.refusal("GET", "/index.html", foreign) is None
    refusal = policy.refusal("DELETE", "/index.html", foreign)
    assert refusal is not None and (refusal.status, refusal.allow) == (405, "GET, HEAD")


def test_the_page_csp_hashes_inline_elements_only():
    page = b"<script src='/a.js'></script><SCRIPT>x()</SCRIPT><style media='all'>a{}</style>"
    policy = security_headers("node.example:7778", page)["Content-Security-Policy"]
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert script_src.count("'sha256-") == 1
    assert "connect-src 'self' ws://node.example:7778 wss://node.example:7778" in policy


def test_a_host_header_that_is_not_a_plain_host_is_not_echoed_into_the_policy():
    policy = security_headers("x; script-src *", None)["Content-Security-Policy"]
    assert "connect-src 'self';" in policy and "script-src *" not in policy


def test_protocol_md_shows_the_policy_every_answer_carries() -> None:
    """docs/PROTOCOL.md §1 prints the CSP; keep it the one the node sends."""
    document = (Path(__file__).resolve().parents[3] / "docs" / "PROTOCOL.md").read_text()
    block = re.search(r"```\s*\n\s*(default-src .*?)```", document, re.DOTALL)
    assert block is not None
    documented = " ".join(block.group(1).split())
    assert documented == security_headers("HOST")["Content-Security-Policy"]
