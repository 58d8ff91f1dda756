"""Node addresses: what a user types, parsed into where and how to connect.

ArTP/1.0 §1 names two transports: TCP on port 7777 and WebSocket on port 7778 at path
``/artp``. A user writes ``host``, ``host:port``, ``[::1]:7777`` or a ``ws://``/``wss://`` URL;
``parse_address`` turns any of these into one ``NodeAddress`` whose ``str()`` is canonical,
so that the known-nodes file pins one spelling per node endpoint.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass
from typing import Literal

from aronanet.config import DEFAULT_TCP_PORT, DEFAULT_WS_PORT, WS_PATH

Scheme = Literal["tcp", "ws", "wss"]

#: A ``wss://`` address without a port is a node behind a TLS reverse proxy, on HTTPS's port.
DEFAULT_WSS_PORT = 443


@dataclass(frozen=True)
class NodeAddress:
    """Where a node listens and over which transport; ``str()`` is the canonical spelling."""

    scheme: Scheme
    host: str
    port: int
    path: str = ""

    @property
    def is_websocket(self) -> bool:
        """True for ``ws``/``wss`` (one ArTP message per binary WebSocket message)."""
        return self.scheme != "tcp"

    @property
    def host_for_url(self) -> str:
        """The host as it appears in ``host:port``: an IPv6 literal goes in brackets."""
        return f"[{self.host}]" if ":" in self.host else self.host

    def websocket_uri(self) -> str:
        """The URI to open for a WebSocket address; the caller checks ``is_websocket``."""
        return f"{self.scheme}://{self.host_for_url}:{self.port}{self.path}"

    def __str__(self) -> str:
        if self.is_websocket:
            return self.websocket_uri()
        return f"{self.host_for_url}:{self.port}"


def parse_address(address: str) -> NodeAddress:
    """Parse what a user typed into a ``NodeAddress``; raise ``ValueError`` saying what is wrong.

    TCP forms: ``host``, ``host:port``, ``[v6]``, ``[v6]:port``, a bare IPv6 literal, or any of
    these after ``tcp://``. WebSocket forms: ``ws://host[:port][/path]`` (port 7778, path
    ``/artp`` by default, as ArTP §1 says) and ``wss://`` (port 443 by default).
    """
    text = address.strip()
    if not text:
        raise ValueError("empty node address: give host, host:port or ws://host:port/artp")
    if any(char.isspace() for char in text):
        raise ValueError(f"node address {address!r} contains whitespace")
    lowered = text.lower()
    if lowered.startswith(("ws://", "wss://")):
        return _parse_websocket(text)
    if lowered.startswith("tcp://"):
        text = text[len("tcp://") :]
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise ValueError(f"unsupported scheme {scheme!r} in {address!r}: use tcp, ws or wss")
    return _parse_tcp(text, address)


def _parse_websocket(text: str) -> NodeAddress:
    """Split a ``ws://``/``wss://`` URL into a WebSocket ``NodeAddress``."""
    parts = urllib.parse.urlsplit(text)
    scheme: Scheme = "wss" if parts.scheme.lower() == "wss" else "ws"
    if not parts.hostname:
        raise ValueError(f"no host in {text!r}")
    if parts.username or parts.password:
        raise ValueError(f"{text!r} carries credentials in the URL; log in with --user instead")
    if parts.query or parts.fragment:
        raise ValueError(f"{text!r} has a query or fragment; a node address has neither")
    try:
        explicit_port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {text!r}: {exc}") from exc
    default_port = DEFAULT_WSS_PORT if scheme == "wss" else DEFAULT_WS_PORT
    port = explicit_port if explicit_port is not None else default_port
    _check_port(port, text)
    return NodeAddress(scheme, _normalise_host(parts.hostname), port, parts.path or WS_PATH)


def _parse_tcp(text: str, original: str) -> NodeAddress:
    """Split ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 literal."""
    if "/" in text:
        raise ValueError(f"a TCP address has no path: {original!r} (did you mean ws://...?)")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError(f"unclosed '[' in {original!r}")
        if rest and not rest.startswith(":"):
            raise ValueError(f"unexpected {rest!r} after ']' in {original!r}")
        _require_ipv6(host, original)
        port_text = rest[1:] if rest else ""
    elif text.count(":") > 1:
        # A bare IPv6 literal cannot carry a port: "::1" is host ::1 on the default port.
        _require_ipv6(text, original)
        host, port_text = text, ""
    else:
        host, _, port_text = text.partition(":")
        if ":" in text and not port_text:
            raise ValueError(f"missing port after ':' in {original!r}")
    if not host:
        raise ValueError(f"no host in {original!r}")
    port = _parse_port(port_text, original) if port_text else DEFAULT_TCP_PORT
    return NodeAddress("tcp", _normalise_host(host), port)


def _parse_port(text: str, original: str) -> int:
    if not text.isdigit():
        raise ValueError(f"port {text!r} in {original!r} is not a number")
    port = int(text)
    _check_port(port, original)
    return port


def _check_port(port: int, original: str) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} in {original!r} is outside 1..65535")


def _require_ipv6(host: str, original: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError as exc:
        raise ValueError(f"{host!r} in {original!r} is not an IPv6 address") from exc


def _normalise_host(host: str) -> str:
    """Lower-case names and compress IPv6 literals, so one node has one canonical spelling."""
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host.lower().rstrip(".")
