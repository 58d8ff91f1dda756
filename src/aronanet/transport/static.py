"""Static files of the web client, served on the WebSocket port for every path but /artp.

Only files under the web root are served: the URL path is decoded, normalised and resolved,
and anything that lands outside the root (``..``, symlinks out, encoded slashes) is a 404,
the same answer as for a file that does not exist.

Delivery: files under ``_expo/static/`` carry a hash of their content in their name (the
bundler names them so), so they are cached for a year as ``immutable``; every other file
(``index.html``, the service worker, the manifest) is revalidated with its ETag on each load.
A ``NAME.gz`` beside a file (``scripts/build-web.sh`` writes them at build time) is its gzip
form, served to browsers that accept it: the node never compresses on the fly.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Types a browser must get right for a web app, whatever the host's mime.types says.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
}
#: Files larger than this are not served from memory (a web bundle is far smaller).
MAX_STATIC_FILE = 32 * 1024 * 1024
#: Where the bundler puts content-hashed files: a new version has a new name.
HASHED_PREFIX = "_expo/static/"
#: How long a content-hashed file may be kept without asking again: a year, the HTTP maximum.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
#: Everything else: keep a copy, but ask (If-None-Match) before using it.
REVALIDATE_CACHE = "no-cache"
#: Where the web client learns the community's other node addresses (``community_addresses``).
COMMUNITY_PATH = "/community.json"


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    #: A strong validator of ``body``: a quoted prefix of its SHA-256.
    etag: str = ""
    #: The file's name is content-hashed: cache it for good.
    immutable: bool = False
    #: The precompressed gzip form, when the build wrote one.
    gzip: bytes | None = None

    @property
    def cache_control(self) -> str:
        return IMMUTABLE_CACHE if self.immutable else REVALIDATE_CACHE

    def matches(self, if_none_match: str | None) -> bool:
        """RFC 9110 §13.1.2: does an ``If-None-Match`` list name this version (``*`` does)?"""
        if not if_none_match:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


def resolve(web_root: Path, url_path: str) -> Path | None:
    """The file under ``web_root`` that ``url_path`` names (``index.html`` for a directory)."""
    path = unquote(urlsplit(url_path).path)
    if "\x00" in path or "\\" in path:
        return None
    root = web_root.resolve()
    candidate = (root / path.lstrip("/")).resolve()
    if not candidate.is_relative_to(root):
        return None
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def load(web_root: Path, url_path: str) -> StaticFile | None:
    """Read the file ``url_path`` names, or None when there is none to serve (blocking)."""
    path = resolve(web_root, url_path)
    if path is None or path.stat().st_size > MAX_STATIC_FILE:
        return None
    body = path.read_bytes()
    compressed = path.with_name(path.name + ".gz")
    gzip = compressed.read_bytes() if compressed.is_file() else None
    relative = path.relative_to(web_root.resolve()).as_posix()
    return StaticFile(
        body,
        content_type(path),
        etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
        immutable=relative.startswith(HASHED_PREFIX),
        gzip=gzip,
    )


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Does an ``Accept-Encoding`` header allow gzip (and not with ``q=0``)?"""
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = (
                params.strip().removeprefix("q=").strip()
                if params.strip().startswith("q=")
                else "1"
            )
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def community_file(addresses: Sequence[str]) -> StaticFile:
    """``/community.json``: ``{"addresses": [...]}``, the community's WebSocket addresses, so
    the web client fails over to the other nodes without the user typing them (an empty
    list for a node on its own)."""
    body = json.dumps({"addresses": list(addresses)}).encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    return StaticFile(body, _CONTENT_TYPES[".json"], etag=etag)


def community_origins(addresses: Sequence[str]) -> tuple[str, ...]:
    """The page origins of the community's nodes (``http(s)://host:port``): a page served by
    one node opens the WebSocket of another when it fails over."""
    return _sources(addresses, {"ws": ("http", "https"), "wss": ("https",)})


def community_sockets(addresses: Sequence[str]) -> tuple[str, ...]:
    """The community's WebSockets as CSP ``connect-src`` sources (``ws(s)://host:port``), so
    the page may open them: scheme and host only, whatever path an address names."""
    return _sources(addresses, {"ws": ("ws", "wss"), "wss": ("wss",)})


def _sources(addresses: Sequence[str], schemes: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """``scheme://host:port`` for each address, in each scheme its own maps to (the settings'
    pattern keeps the host to letters, digits, ``.-_`` or a bracketed IPv6 literal)."""
    found: list[str] = []
    for address in addresses:
        parts = urlsplit(address if "://" in address else f"ws://{address}")
        if parts.netloc:
            found.extend(f"{scheme}://{parts.netloc.lower()}" for scheme in schemes[parts.scheme])
    return tuple(found)
