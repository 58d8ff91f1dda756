"""How the node delivers the web client (issue 12, speed and delivery): content-hashed files
cached for a year as immutable, everything else revalidated by ETag (304), the gzip forms the
build wrote served to browsers that accept them, and never compressed on the fly.
"""

from __future__ import annotations

import gzip
from dataclasses import replace

import pytest

from .conftest import node_settings
from .test_http_edge import _get, _http

BUNDLE = b"console.log('arona');\n" * 200
HASHED = "/_expo/static/js/web/index-0123abcd.js"


@pytest.fixture
async def built_node(tmp_path, start_node):
    """A web directory as scripts/build-web.sh leaves it: hashed bundle, .gz beside it."""
    web = tmp_path / "web"
    bundle = web / HASHED.lstrip("/")
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(BUNDLE)
    bundle.with_name(bundle.name + ".gz").write_bytes(gzip.compress(BUNDLE, mtime=0))
    (web / "index.html").write_text(f"<script src='{HASHED}' defer></script>")
    (web / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    return await start_node(replace(node_settings(tmp_path / "w"), web_dir=web))


async def test_a_hashed_file_is_cached_for_a_year_as_immutable(built_node):
    _, headers, _ = await _http(built_node.ws_port, _get(built_node.ws_port, HASHED))
    assert headers["cache-control"] == ["public, max-age=31536000, immutable"]


@pytest.mark.parametrize("path", ["/", "/index.html", "/sw.js"])
async def test_the_page_and_the_service_worker_are_revalidated_with_an_etag(built_node, path):
    port = built_node.ws_port
    status, headers, body = await _http(port, _get(port, path))
    assert status == 200 and body
    assert headers["cache-control"] == ["no-cache"]
    (etag,) = headers["etag"]
    status, again, body = await _http(port, _get(port, path, extra=f"If-None-Match: {etag}\r\n"))
    assert (status, body) == (304, b"")
    assert again["etag"] == [etag]
    assert "content-security-policy" in again


async def test_a_stale_etag_gets_the_whole_file(built_node):
    port = built_node.ws_port
    status, _, body = await _http(port, _get(port, "/", extra='If-None-Match: "stale"\r\n'))
    assert status == 200 and body.startswith(b"<script")


async def test_the_precompressed_gzip_goes_to_a_browser_that_accepts_it(built_node):
    port = built_node.ws_port
    accept = "Accept-Encoding: gzip, deflate, br\r\n"
    status, headers, body = await _http(port, _get(port, HASHED, extra=accept))
    assert status == 200
    assert headers["content-encoding"] == ["gzip"]
    assert headers["vary"] == ["Accept-Encoding"]
    assert len(body) < len(BUNDLE) / 10
    assert gzip.decompress(body) == BUNDLE


@pytest.mark.parametrize(
    "accept", ["", "Accept-Encoding: identity\r\n", "Accept-Encoding: gzip;q=0\r\n"]
)
async def test_a_client_that_refuses_gzip_gets_the_plain_file(built_node, accept):
    port = built_node.ws_port
    status, headers, body = await _http(port, _get(port, HASHED, extra=accept))
    assert (status, body) == (200, BUNDLE)
    assert "content-encoding" not in headers


async def test_a_file_without_a_gzip_form_is_sent_plain_whatever_the_browser_accepts(built_node):
    port = built_node.ws_port
    _, headers, body = await _http(port, _get(port, "/sw.js", extra="Accept-Encoding: gzip\r\n"))
    assert "content-encoding" not in headers and body.startswith(b"self.")
