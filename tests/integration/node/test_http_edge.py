"""The WebSocket port's HTTP side, attacked as a browser page and a confused client would.

Issue 9 items 9 and 10, issue 10 (a TCP client on the WebSocket port): who may open ``/artp``
(same origin, the node's own names, DNS rebinding refused), which methods the static files
answer, the security headers on every answer, and an answer at once to bytes that are not
HTTP at all.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from dataclasses import replace

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from .conftest import node_settings

INLINE_STYLE = "body { margin: 0 }"
INLINE_SCRIPT = "window.arona = 1;"
PAGE = (
    f"<html><head><style id='reset'>{INLINE_STYLE}</style>"
    f"<script>{INLINE_SCRIPT}</script><script src='/app.js' defer></script></head></html>"
)
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


async def _http(port: int, request: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    """Send one literal request; the status, the headers (lower-case names), the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
    status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(": ")
        headers.setdefault(name.lower(), []).append(value)
    status = int(status_line.split()[1])
    body = b""
    if request.startswith(b"HEAD "):
        body = await asyncio.wait_for(reader.read(), 3)  # nothing may follow the headers
    elif status != 101 and "content-length" in headers:
        body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"][0])), 3)
    writer.close()
    return status, headers, body


def _get(port: int, path: str = "/", method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()


def _upgrade(port: int, host: str, origin: str | None, extra: str = "") -> bytes:
    origin_line = f"Origin: {origin}\r\n" if origin else ""
    return (
        f"GET /artp HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: artp.1\r\n{origin_line}{extra}\r\n"
    ).encode()


def _printed_tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Tracebacks the node would print: its own loggers at any level (``--log-level``), and
    anything at WARNING or above (Python's last-resort handler). The websockets library's
    DEBUG records (a client that closed before its request) are never printed."""
    return [
        r
        for r in caplog.records
        if r.exc_info and (r.name.startswith("aronanet") or r.levelno >= logging.WARNING)
    ]


@pytest.fixture
async def web_node(tmp_path, start_node):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text(PAGE)
    (web / "app.js").write_text("console.log('hi')")
    return await start_node(replace(node_settings(tmp_path / "w"), web_dir=web))


# ------------------------------------------------------------------ methods and headers


@pytest.mark.parametrize("method", ["POST", "PUT", "OPTIONS", "DELETE", "PATCH", "TRACE"])
async def test_static_files_answer_only_get_and_head(web_node, method):
    status, headers, _ = await _http(web_node.ws_port, _get(web_node.ws_port, "/", method))
    assert status == 405
    assert headers["allow"] == ["GET, HEAD"]


async def test_a_post_to_the_websocket_path_is_405_allowing_get(web_node):
    status, headers, _ = await _http(web_node.ws_port, _get(web_node.ws_port, "/artp", "POST"))
    assert (status, headers["allow"]) == (405, ["GET"])


async def test_head_gets_the_headers_of_get_without_the_body(web_node):
    port = web_node.ws_port
    _, get_headers, get_body = await _http(port, _get(port, "/app.js"))
    status, head_headers, head_body = await _http(port, _get(port, "/app.js", "HEAD"))
    assert (status, head_body) == (200, b"")
    assert head_headers["content-length"] == get_headers["content-length"] == [str(len(get_body))]


@pytest.mark.parametrize(
    "request_line", ["GET / ", "GET /app.js ", "GET /missing ", "POST / ", "GET /artp "]
)
async def test_every_http_answer_carries_the_security_headers(web_node, request_line):
    port = web_node.ws_port
    request = f"{request_line}HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    _, headers, _ = await _http(port, request)
    for name in SECURITY_HEADERS:
        assert name in headers, (request_line, name)
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["referrer-policy"] == ["no-referrer"]
    assert headers["x-frame-options"] == ["DENY"]
    policy = headers["content-security-policy"][0]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert f"connect-src 'self' ws://127.0.0.1:{port} wss://127.0.0.1:{port}" in policy


async def test_the_page_csp_allows_its_own_inline_elements_by_hash_and_nothing_else(web_node):
    _, headers, _ = await _http(web_node.ws_port, _get(web_node.ws_port, "/"))
    directives = dict(
        d.strip().split(" ", 1) for d in headers["content-security-policy"][0].split(";")
    )

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert directives["script-src"] == f"'self' {digest(INLINE_SCRIPT)}"
    assert directives["style-src"] == f"'self' {digest('')} {digest(INLINE_STYLE)}"
    assert "unsafe" not in headers["content-security-policy"][0]


async def test_the_websocket_upgrade_also_carries_the_security_headers(web_node):
    port = web_node.ws_port
    async with ws_connect(f"ws://127.0.0.1:{port}/artp", subprotocols=["artp.1"]) as ws:
        assert ws.response is not None
        assert "Content-Security-Policy" in ws.response.headers


# ------------------------------------------------------------------ who may open /artp


async def _upgrade_status(port: int, host: str, origin: str | None, extra: str = "") -> int:
    status, _, _ = await _http(port, _upgrade(port, host, origin, extra))
    return status


async def test_by_default_only_the_nodes_own_page_and_non_browsers_may_connect(node):
    port = node.ws_port
    here = f"127.0.0.1:{port}"
    assert await _upgrade_status(port, here, None) == 101  # not a browser
    assert await _upgrade_status(port, here, f"http://{here}") == 101  # the node's own page
    assert await _upgrade_status(port, f"localhost:{port}", f"http://localhost:{port}") == 101
    assert await _upgrade_status(port, here, "https://evil.example") == 403


async def test_dns_rebinding_is_refused_with_or_without_listed_origins(tmp_path, start_node):
    """Host and Origin both ``evil.example:PORT``: a page whose name now points at the node."""
    plain = await start_node()
    listed = await start_node(
        replace(node_settings(tmp_path / "listed"), ws_origins=("https://chat.example",))
    )
    for node in (plain, listed):
        rebound = f"evil.example:{node.ws_port}"
        assert await _upgrade_status(node.ws_port, rebound, f"http://{rebound}") == 403


async def test_names_given_with_ws_hosts_and_origins_given_with_ws_origins_are_allowed(
    tmp_path, start_node
):
    settings = replace(
        node_settings(tmp_path / "named"),
        ws_hosts=("chat.example",),
        ws_origins=("https://app.example",),
    )
    node = await start_node(settings)
    port = node.ws_port
    named = f"chat.example:{port}"
    assert await _upgrade_status(port, named, f"http://{named}") == 101
    assert await _upgrade_status(port, named, "https://app.example") == 101
    assert await _upgrade_status(port, named, "https://other.example") == 403


async def test_a_star_in_ws_origins_allows_every_origin(tmp_path, start_node):
    node = await start_node(replace(node_settings(tmp_path / "any"), ws_origins=("*",)))
    port = node.ws_port
    assert await _upgrade_status(port, f"127.0.0.1:{port}", "https://evil.example") == 101


@pytest.mark.parametrize(
    "extra",
    ["Host: 127.0.0.1\r\n", "Origin: http://127.0.0.1\r\n"],
    ids=["host", "origin"],
)
async def test_a_duplicated_host_or_origin_is_400_without_a_traceback(node, caplog, extra):
    caplog.set_level(logging.DEBUG)
    port = node.ws_port
    here = f"127.0.0.1:{port}"
    status, _, body = await _http(port, _upgrade(port, here, f"http://{here}", extra))
    assert status == 400
    assert b"more than one" in body
    assert not _printed_tracebacks(caplog), "a refusal logged a traceback"


async def test_the_websocket_library_refusals_still_work(node):
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(f"ws://127.0.0.1:{node.ws_port}/artp")  # no subprotocol
    assert refused.value.response.status_code == 400


# ------------------------------------------------------------------ not HTTP at all


@pytest.mark.parametrize(
    "first_bytes",
    [b"\x00\x00\x00\x20" + b"\x01" * 32, b"\x16\x03\x01\x02\x00\x01"],
    ids=["artp-frame", "tls-hello"],
)
async def test_bytes_that_cannot_be_http_are_answered_and_closed_at_once(node, first_bytes, caplog):
    """Issue 10: a TCP client on the WebSocket port waited 10 s (the opening timeout)."""
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", node.ws_port)
    writer.write(first_bytes)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    assert time.monotonic() - started < 2
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"WebSocket port" in answer
    await asyncio.sleep(0.1)  # let the node finish with the connection
    assert not _printed_tracebacks(caplog), "a refusal logged a traceback"
