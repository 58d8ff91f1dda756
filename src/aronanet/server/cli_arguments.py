"""The flags of ``aronanet serve``: their names, types and help text.

Apart from the command's handlers because the help text is most of the command line: one
place to read what an operator can set, next to ``cli_settings``, which turns the flags
given into ``NodeSettings``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aronanet.config import DEFAULT_TCP_PORT, DEFAULT_WS_PORT
from aronanet.server.settings import default_data_dir


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Every ``serve`` flag; each one left out leaves the --config file's value alone."""
    add = parser.add_argument
    add("--config", type=Path, metavar="FILE", help="TOML settings file; flags override it")
    add(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help=f"state: key, database, images (default {default_data_dir()})",
    )
    add(
        "--host",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for everyone)",
    )
    add(
        "--port",
        type=int,
        metavar="P",
        help=f"TCP port (default {DEFAULT_TCP_PORT}; 0 picks a free one)",
    )
    add(
        "--ws-port",
        metavar="Q",
        help=f"WebSocket and web-client port (default {DEFAULT_WS_PORT}; 'off' disables)",
    )
    add("--node-name", metavar="NAME", help="the node's name, sent to clients in HELLO")
    add(
        "--store",
        metavar="URL",
        help="where accounts, channels and messages live: 'sqlite' (default: one file in "
        "the data directory, no service needed) or postgresql://USER@HOST:PORT/DB, shared "
        "by several nodes serving one community (scale-out, see docs/SCALE-OUT.md)",
    )
    add(
        "--broker",
        metavar="URL",
        help="how events reach sessions: 'local' (default: this process only) or "
        "redis://HOST:6379/0, through which several nodes behind one address fan out",
    )
    add(
        "--broker-prefix",
        metavar="NAME",
        help="Redis channel prefix; the same on every node of one community (default aronanet)",
    )
    add(
        "--registration",
        choices=("open", "closed", "invite"),
        help="whether new accounts may register: open (default), closed, or invite (only "
        "with a token from `aronanet admin invite`)",
    )
    add(
        "--admins",
        metavar="LIST",
        help="comma-separated user names of the node's admins (besides `aronanet admin grant`)",
    )
    add(
        "--ws-origins",
        metavar="LIST",
        help="comma-separated browser Origins allowed on WebSocket besides the node's own page "
        "(default: none; '*' allows any)",
    )
    add(
        "--ws-hosts",
        metavar="LIST",
        help="comma-separated names browsers reach this node by (e.g. chat.example.com), "
        "besides localhost, IP addresses, --host and this machine's name",
    )
    add(
        "--community-addresses",
        metavar="LIST",
        help="comma-separated WebSocket addresses (host:port or ws(s):// URLs) of the nodes "
        "sharing this node's key, told to the web client at /community.json for failover",
    )
    add(
        "--web-dir",
        type=Path,
        metavar="DIR",
        help="web client files, served over HTTP on the WebSocket port "
        "(default: the bundled client, if any)",
    )
    add(
        "--tls-cert",
        type=Path,
        metavar="PEM",
        help="serve the web client and the WebSocket over TLS (https://, wss://) with this "
        "certificate chain",
    )
    add("--tls-key", type=Path, metavar="PEM", help="the private key of --tls-cert")
    add(
        "--rate-limit",
        choices=("on", "off"),
        help="per-session rate limits (default on; 'off' for benchmarks)",
    )
    add(
        "--rate",
        type=float,
        metavar="N",
        help="messages per second a session may sustain (default 5)",
    )
    add(
        "--rate-burst",
        type=int,
        metavar="N",
        help="messages a session may send in a burst (default 20)",
    )
    add(
        "--max-frame",
        type=int,
        metavar="BYTES",
        help="largest frame accepted, at most 65535 (default 65535)",
    )
    add(
        "--max-content",
        type=int,
        metavar="N",
        help="longest message content in characters (default 4000)",
    )
    add(
        "--max-history", type=int, metavar="N", help="most messages per HISTORY reply (default 200)"
    )
    add(
        "--handshake-timeout",
        type=float,
        metavar="S",
        help="seconds to finish the handshake (default 10)",
    )
    add(
        "--idle-ping",
        type=float,
        metavar="S",
        help="seconds of silence before the node PINGs (default 60)",
    )
    add(
        "--idle-timeout",
        type=float,
        metavar="S",
        help="seconds of silence before the node closes (default 90)",
    )
    add(
        "--max-connections-per-address",
        type=int,
        metavar="N",
        help="open connections per client address, an IPv6 /64 counting as one (default 64)",
    )
    add(
        "--max-connections",
        type=int,
        metavar="N",
        help="open connections on the whole node (default 10000)",
    )
    add(
        "--max-outgoing-queue",
        type=int,
        metavar="N",
        help="messages queued for a slow WebSocket reader before it is dropped (default 4096)",
    )
    add(
        "--max-outgoing-bytes",
        type=int,
        metavar="BYTES",
        help="bytes queued for a slow reader before it is dropped (default 4194304)",
    )
    add(
        "--max-outgoing-bytes-per-node",
        type=int,
        metavar="BYTES",
        help="bytes queued for slow readers on the whole node; past it the ones holding "
        "the most are dropped (default 268435456)",
    )
    add(
        "--max-reactions",
        type=int,
        metavar="N",
        help="distinct emoji one message may carry (default 20)",
    )
    add(
        "--keep-edit-history",
        action="store_true",
        default=None,
        help="keep the texts that edits replace, for the operator (default: not kept)",
    )
    add(
        "--no-uvloop",
        action="store_true",
        default=None,
        help="use asyncio's own event loop even if uvloop is installed",
    )
    add(
        "--admin-listen",
        metavar="HOST:PORT",
        help="serve /metrics (Prometheus) and /healthz over plain HTTP on HOST:PORT, such as "
        "127.0.0.1:9101 (default: off). No authentication: keep it on loopback or a private "
        "network, never public (docs/OPERATIONS.md)",
    )
    _add_publish_arguments(parser)
    add(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        type=str.upper,
        help="log verbosity on stderr (default WARNING)",
    )


def _add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    """Discovery flags (docs/DISCOVERY.md); the [publish] table of --config mirrors them."""
    group = parser.add_argument_group("discovery (see docs/DISCOVERY.md)")
    add = group.add_argument
    add(
        "--publish",
        metavar="gist|URL",
        help="publish the node's address and fingerprint on start: 'gist' (a GitHub gist, "
        "token in $GITHUB_TOKEN), 'gist:ID' (an existing gist), or a URL to PUT the record to",
    )
    add("--publish-method", choices=("PUT", "POST"), help="HTTP method for a URL (default PUT)")
    add("--publish-token-env", metavar="VAR", help="read the publishing token from $VAR")
    add(
        "--publish-token-file",
        metavar="FILE",
        help="read the publishing token from FILE (mode 0600)",
    )
    add(
        "--public-address",
        action="append",
        metavar="ADDR",
        help="publish ADDR (host:port or ws://host:port/artp) instead of the bound addresses; "
        "repeatable",
    )
    add(
        "--ngrok",
        action="store_true",
        default=None,
        help="reach the node from outside through a TCP tunnel of the local ngrok agent",
    )
