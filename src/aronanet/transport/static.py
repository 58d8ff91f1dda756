"""Static files of the web client, served on the WebSocket port for every path but /artp.

Only files under the web root are served: the URL path is decoded, normalised and resolved,
and anything that lands outside the root (``..``, symlinks out, encoded slashes) is a 404,
the same answer as for a file that does not exist.
"""

from __future__ import annotations

import mimetypes
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


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str


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
    return StaticFile(path.read_bytes(), content_type(path))
