"""The node's publisher: keep the published record true while the node runs.

It runs as one background task owned by the node (started after the ports listen, so it
never delays readiness; cancelled on shutdown). Each round it works out the node's
addresses (the ngrok tunnel's public address first, when there is one), and publishes a
fresh record whenever they differ from what was last published: on start, and again when
ngrok reconnects with a new address. Failures never stop the node: they are reported once
to the operator, with what to do, and retried with a growing delay (or when a rate limit
says to).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aronanet.config import WS_PATH
from aronanet.discovery.errors import DiscoveryError, NgrokUnavailableError, RateLimitedError
from aronanet.discovery.gist import TOKEN_ENV, GistPublisher
from aronanet.discovery.ngrok import NgrokAgent
from aronanet.discovery.record import NodeRecord, build_record
from aronanet.discovery.settings import GIST_ID_FILE, PublishSettings
from aronanet.discovery.tokens import load_token
from aronanet.discovery.url import UrlPublisher

log = logging.getLogger(__name__)

#: Retry delays after a failed publish grow from the refresh interval up to this.
MAX_BACKOFF = 300.0
_WILDCARDS = ("0.0.0.0", "::", "")

Notify = Callable[[str], None]


class Sink(Protocol):
    """Somewhere a record is published: a gist, or a URL."""

    @property
    def description(self) -> str: ...

    async def publish(self, record: NodeRecord) -> str:
        """Publish ``record``; return what clients give ``aronanet discover``."""
        ...


@dataclass(frozen=True)
class Listening:
    """Where the node listens, known once its ports are bound."""

    host: str
    tcp_port: int
    ws_port: int | None


def print_notice(text: str) -> None:
    """The default ``notify``: one line for the operator on stderr."""
    print(f"aronanet serve: {text}", file=sys.stderr, flush=True)


def build_sink(publish: PublishSettings, data_dir: Path) -> Sink | None:
    """The sink the settings name; raises ``DiscoveryError`` for a missing or unsafe token, so
    that a node told to publish refuses to start rather than silently publishing nothing."""
    if publish.target is None:
        return None
    token_file = Path(publish.token_file).expanduser() if publish.token_file else None
    if publish.is_gist:
        token = load_token(publish.token_env, token_file, fallback_env=TOKEN_ENV)
        return GistPublisher(
            token, data_dir / GIST_ID_FILE, gist_id=publish.gist_id, api=publish.github_api
        )
    token = load_token(publish.token_env, token_file)
    return UrlPublisher(publish.target, method=publish.method, token=token)


class Publisher:
    """Publishes a node's record and republishes it when its addresses change."""

    def __init__(
        self,
        *,
        name: str,
        fingerprint: str,
        settings: PublishSettings,
        sink: Sink | None,
        tunnel: NgrokAgent | None = None,
        notify: Notify = print_notice,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._name = name
        self._fingerprint = fingerprint
        self._settings = settings
        self._sink = sink
        self._tunnel = tunnel
        self._notify = notify
        self._wall_clock = wall_clock
        self._published: list[str] | None = None
        self._tunnel_address: str | None = None
        #: The problem last told to the operator, per kind ("tunnel", "publish").
        self._told: dict[str, str] = {}

    @classmethod
    def for_node(
        cls,
        *,
        name: str,
        fingerprint: str,
        settings: PublishSettings,
        data_dir: Path,
        notify: Notify = print_notice,
    ) -> Publisher:
        """A publisher from the node's settings; ``DiscoveryError`` if they cannot work."""
        tunnel = NgrokAgent(settings.ngrok_api) if settings.ngrok else None
        sink = build_sink(settings, data_dir)
        return cls(
            name=name,
            fingerprint=fingerprint,
            settings=settings,
            sink=sink,
            tunnel=tunnel,
            notify=notify,
        )

    async def run(self, listening: Listening) -> None:
        """Publish now, then keep the record current until cancelled (node shutdown)."""
        delay = self._settings.refresh_interval
        while True:
            addresses = await self._addresses(listening)
            try:
                await self._publish_if_changed(addresses)
                delay = self._settings.refresh_interval
            except RateLimitedError as exc:
                self._report("publish", f"could not publish the node record: {exc}")
                delay = max(exc.retry_after, self._settings.refresh_interval)
            except DiscoveryError as exc:
                self._report(
                    "publish", f"could not publish the node record: {exc}; retrying in {delay:g} s"
                )
                delay = min(delay * 2, MAX_BACKOFF)
            if self._tunnel is None and self._published == addresses:
                return  # nothing can change any more: the addresses are fixed
            await asyncio.sleep(delay)

    async def _addresses(self, listening: Listening) -> list[str]:
        """The addresses to publish: the tunnel's first (reachable from anywhere), then ours."""
        addresses = local_addresses(self._settings, listening)
        if self._tunnel is None:
            return addresses
        try:
            public = await self._tunnel.tcp_tunnel(listening.tcp_port, _loopback(listening.host))
        except NgrokUnavailableError as exc:
            self._report("tunnel", str(exc))
            return addresses
        self._told.pop("tunnel", None)
        if public != self._tunnel_address:
            self._tunnel_address = public
            self._notify(f"ngrok tunnel open: {public} -> port {listening.tcp_port}")
        return [public, *addresses]

    async def _publish_if_changed(self, addresses: list[str]) -> None:
        if self._sink is None or addresses == self._published:
            return
        record = build_record(self._name, addresses, self._fingerprint, self._wall_clock())
        where = await self._sink.publish(record)
        self._published = addresses
        self._told.pop("publish", None)
        self._notify(
            f"published the node record ({', '.join(addresses)}) to {self._sink.description}; "
            f"clients run: aronanet discover {where} --pin"
        )

    def _report(self, kind: str, problem: str) -> None:
        """Tell the operator about a problem once, not on every retry."""
        if self._told.get(kind) != problem:
            self._told[kind] = problem
            self._notify(problem)
        log.debug("discovery problem: %s", kind)


def local_addresses(settings: PublishSettings, listening: Listening) -> list[str]:
    """The configured public addresses, or the bound ones (a wildcard host by host name)."""
    if settings.public_addresses:
        return list(settings.public_addresses)
    host = listening.host
    if host in _WILDCARDS:
        host = socket.gethostname()
    shown = f"[{host}]" if ":" in host else host
    addresses = [f"{shown}:{listening.tcp_port}"]
    if listening.ws_port is not None:
        addresses.append(f"ws://{shown}:{listening.ws_port}{WS_PATH}")
    return addresses


def _loopback(host: str) -> str:
    """Where the local ngrok agent should forward to: the bound host, loopback for wildcards."""
    if host in _WILDCARDS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
