"""Who may use the WebSocket port, and the headers every HTTP answer on it carries.

Sans-I/O decisions for ``ws.py`` (no sockets here), so each rule is tested on literal headers:

* ``looks_like_http``: the first bytes of a connection either can start an HTTP request or
  cannot (a TCP ArTP client's length prefix begins with ``0x00``); the latter is answered at
  once instead of after the 10 s opening timeout.
* ``HttpPolicy.refusal``: only GET and HEAD (405 with ``Allow`` otherwise); a duplicated
  ``Host`` or ``Origin`` is a 400 (RFC 9112 §3.2 for ``Host``); a browser (a request with an
  ``Origin``) may open ``/artp`` only from the node's own page, reached under one of the
  node's own names (DNS rebinding: a page of ``evil.example`` whose name now points at the
  node sends ``Host`` and ``Origin`` both ``evil.example``), or from an origin the operator
  listed. Requests without an ``Origin`` are not from a browser page and are accepted.
* ``security_headers``: a Content-Security-Policy that allows the app's own files, the
  inline ``<style>``/``<script>`` elements of the page being served (by hash, nothing else
  inline), images as ``data:``/``blob:`` (received images are shown that way) and the node's
  own WebSocket; plus nosniff, no referrer and no framing.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from websockets.datastructures import Headers

from aronanet.config import WS_PATH

#: Static files answer these; everything else is 405.
ALLOWED_METHODS: Final = ("GET", "HEAD")
#: The ``/artp`` upgrade is a GET (RFC 6455 §4.1).
UPGRADE_METHODS: Final = ("GET",)
#: ``--ws-origins *``: any origin (turns the browser check off; the operator's choice).
ANY_ORIGIN: Final = "*"
#: Loopback names that always mean this machine (RFC 6761 §6.3).
LOOPBACK_NAMES: Final = frozenset({"localhost"})

#: RFC 9110 §9: a method is a token; every registered one starts with an ASCII letter.
_REQUEST_START: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
#: ``host`` or ``host:port``, ``[v6]`` or ``[v6]:port``: the only Host values echoed in CSP.
_HOST_VALUE: Final = re.compile(r"\A(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z")
#: react-native-web creates one empty ``<style>`` element and fills it through the CSSOM
#: (``insertRule``, which CSP does not govern); its empty text needs this hash, nothing more.
EMPTY_STYLE_HASH: Final = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
_INLINE: Final = re.compile(
    rb"<(?P<tag>script|style)(?P<attrs>[^>]*)>(?P<body>.*?)</(?P=tag)\s*>", re.DOTALL | re.I
)


def looks_like_http(first_bytes: bytes) -> bool:
    """Could ``first_bytes`` start an HTTP request? False for an ArTP frame or TLS record."""
    return not first_bytes or first_bytes[0] in _REQUEST_START


@dataclass(frozen=True, slots=True)
class Refusal:
    """An HTTP answer that refuses the request: status, reason phrase, one line of text."""

    status: int
    reason: str
    text: str
    allow: str | None = None


class HttpPolicy:
    """The WebSocket port's rules for one node: its names and the origins it allows."""

    def __init__(self, *, origins: Iterable[str] = (), hosts: Iterable[str] = ()) -> None:
        listed = {origin.rstrip("/").lower() for origin in origins}
        self._any_origin = ANY_ORIGIN in listed
        self._origins = frozenset(listed - {ANY_ORIGIN})
        self._hosts = frozenset(h.lower().strip("[]") for h in hosts if h) | LOOPBACK_NAMES

    def refusal(self, method: str, path: str, headers: Headers) -> Refusal | None:
        """Why this request is refused, or None to go on (serve the file, or upgrade)."""
        for name in ("Host", "Origin"):
            if len(headers.get_all(name)) > 1:
                return Refusal(400, "Bad Request", f"more than one {name} header")
        upgrade = path == WS_PATH
        allowed = UPGRADE_METHODS if upgrade else ALLOWED_METHODS
        if method not in allowed:
            verb = "opens" if upgrade else "serves"
            text = f"method {method[:16]} not allowed: this path {verb} with {', '.join(allowed)}"
            return Refusal(405, "Method Not Allowed", text, allow=", ".join(allowed))
        return self._browser_refusal(headers) if upgrade else None

    def _browser_refusal(self, headers: Headers) -> Refusal | None:
        origin = headers.get("Origin")
        if origin is None or self._any_origin:
            return None  # not a browser page (or the operator allows every origin)
        origin = origin.rstrip("/").lower()
        if origin in self._origins:
            return None
        host = headers.get("Host", "").lower()
        if origin not in (f"http://{host}", f"https://{host}"):
            return Refusal(403, "Forbidden", "origin not allowed (list it with --ws-origins)")
        if not self.is_own_name(host):
            return Refusal(
                403, "Forbidden", "host name not allowed (add the node's names with --ws-hosts)"
            )
        return None

    def is_own_name(self, host_header: str) -> bool:
        """Is the ``Host`` header one of the node's names? IP literals always are: a browser
        that sends one navigated to that address itself, no DNS answer was involved."""
        name = _strip_port(host_header)
        if _is_ip_literal(name):
            return True
        return name in self._hosts or name.endswith(".localhost")


def security_headers(
    host_header: str | None, page: bytes | None = None, connect_to: Sequence[str] = ()
) -> dict[str, str]:
    """The headers every HTTP answer carries; ``page`` is the HTML being served, if any;
    ``connect_to``: more sources the page may connect to (the community's other nodes)."""
    scripts, styles = _inline_hashes(page) if page is not None else ((), ())
    connect = "'self'"
    if host_header is not None and _HOST_VALUE.match(host_header):
        connect += f" ws://{host_header} wss://{host_header}"
    connect = " ".join((connect, *connect_to))
    policy = [
        "default-src 'none'",
        " ".join(("script-src 'self'", *scripts)),
        " ".join(("style-src 'self'", EMPTY_STYLE_HASH, *styles)),
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "manifest-src 'self'",
        f"connect-src {connect}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return {
        "Content-Security-Policy": "; ".join(policy),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


def _inline_hashes(page: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """CSP source expressions for each inline ``<script>`` and ``<style>`` of ``page``."""
    scripts: list[str] = []
    styles: list[str] = []
    for found in _INLINE.finditer(page):
        if found.group("tag").lower() == b"script" and b"src=" in found.group("attrs").lower():
            continue  # an external script: 'self' covers it
        digest = base64.b64encode(hashlib.sha256(found.group("body")).digest()).decode()
        source = f"'sha256-{digest}'"
        (scripts if found.group("tag").lower() == b"script" else styles).append(source)
    return tuple(scripts), tuple(styles)


def _strip_port(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
