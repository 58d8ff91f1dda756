"""``aronanet serve`` and ``aronanet fingerprint``: the node's command line (ArTP §5).

Settings come from the defaults, then ``--config FILE`` (TOML), then flags: a flag left out
leaves the file's value alone.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from aronanet import identity
from aronanet.config import DEFAULT_TCP_PORT, DEFAULT_WS_PORT, WS_PATH
from aronanet.server.settings import (
    NodeSettings,
    SettingsError,
    default_data_dir,
    from_mapping,
    read_toml,
    redact_url,
)

#: flag destination -> [limits] key, for the flags that set a limit.
_LIMIT_FLAGS = {
    "max_frame": "max_frame",
    "max_content": "max_content",
    "max_history": "max_history",
    "handshake_timeout": "handshake_timeout",
    "idle_ping": "idle_ping_after",
    "idle_timeout": "idle_close_after",
    "max_connections_per_address": "max_connections_per_address",
    "max_outgoing_queue": "max_outgoing_queue",
    "max_outgoing_bytes": "max_outgoing_bytes",
    "rate": "rate_messages_per_second",
    "rate_burst": "rate_burst",
}


#: flag destination -> [publish] key (discovery).
_PUBLISH_FLAGS = {
    "publish": "target",
    "publish_method": "method",
    "publish_token_env": "token_env",
    "publish_token_file": "token_file",
    "public_address": "public_addresses",
    "ngrok": "ngrok",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` and ``fingerprint`` to the ``aronanet`` command."""
    serve = subparsers.add_parser(
        "serve",
        help="run a node in the foreground",
        description="Run an AronaNET node in the foreground until SIGINT or SIGTERM. "
        "Settings come from the defaults, then --config, then these flags.",
    )
    _add_serve_arguments(serve)
    serve.set_defaults(handler=run_serve)
    fingerprint = subparsers.add_parser(
        "fingerprint",
        help="print the node's key fingerprint",
        description="Print the node's fingerprint (SHA256:...), creating its key if there is none.",
    )
    fingerprint.add_argument(
        "--data-dir", type=Path, help=f"the node's state directory (default {default_data_dir()})"
    )
    fingerprint.add_argument("--config", type=Path, help="a TOML settings file (for its data_dir)")
    fingerprint.set_defaults(handler=run_fingerprint)


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
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
        choices=("open", "closed"),
        help="whether new accounts may register (default open)",
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
        "--web-dir",
        type=Path,
        metavar="DIR",
        help="web client files, served over HTTP on the WebSocket port "
        "(default: the bundled client, if any)",
    )
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
        help="open connections per client address (default 64)",
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
        "--no-uvloop",
        action="store_true",
        default=None,
        help="use asyncio's own event loop even if uvloop is installed",
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


def settings_from_args(args: argparse.Namespace) -> NodeSettings:
    """Defaults, then the TOML file, then the flags that were given."""
    settings = NodeSettings()
    if args.config is not None:
        settings = from_mapping(read_toml(args.config), settings)
    return from_mapping(_flag_values(args), settings)


def _flag_values(args: argparse.Namespace) -> dict[str, Any]:
    given = {key: value for key, value in vars(args).items() if value is not None}
    values: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for key in (
        "data_dir",
        "host",
        "port",
        "node_name",
        "web_dir",
        "log_level",
        "store",
        "broker",
        "broker_prefix",
    ):
        if key in given:
            values[key] = given[key]
    if "ws_port" in given:
        values["ws_port"] = None if given["ws_port"] == "off" else _port(given["ws_port"])
    if "registration" in given:
        values["registration"] = given["registration"] == "open"
    for key in ("ws_origins", "ws_hosts"):
        if key in given:
            values[key] = [item.strip() for item in given[key].split(",") if item.strip()]
    if given.get("no_uvloop"):
        values["uvloop"] = False
    if "rate_limit" in given:
        limits["rate_limit_enabled"] = given["rate_limit"] == "on"
    for flag, key in _LIMIT_FLAGS.items():
        if flag in given:
            limits[key] = given[flag]
    if limits:
        values["limits"] = limits
    publish = {
        key: given[flag] for flag, key in _PUBLISH_FLAGS.items() if given.get(flag) is not None
    }
    if publish:
        values["publish"] = publish
    return values


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise SettingsError(f"--ws-port takes a port number or 'off', not {text!r}") from None
    return port


def run_fingerprint(args: argparse.Namespace) -> int:
    """Print ``SHA256:...`` of the node's key (creating the key if there is none)."""
    try:
        settings = settings_from_args(args)
        key = identity.load_or_create_key(settings.key_path)
    except (SettingsError, identity.KeyFileError, OSError) as exc:
        print(f"aronanet fingerprint: {exc}", file=sys.stderr)
        return 1
    print(identity.fingerprint(identity.public_key_bytes(key)))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Run the node until SIGINT/SIGTERM; exit code 0 after a clean stop."""
    from aronanet.server.logs import configure_logging

    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        print(f"aronanet serve: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    return _run_loop(_serve(settings), settings.use_uvloop)


def _run_loop(main: Any, use_uvloop: bool) -> int:
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return int(uvloop.run(main))
    return int(asyncio.run(main))


async def _serve(settings: NodeSettings) -> int:
    from aronanet.discovery.errors import DiscoveryError
    from aronanet.identity import KeyFileError
    from aronanet.server.node import Node
    from aronanet.server.store.base import BackendUnavailableError

    node = Node(settings)
    try:
        await node.start()
    except (KeyFileError, OSError, BackendUnavailableError, DiscoveryError) as exc:
        print(f"aronanet serve: cannot start: {exc}", file=sys.stderr)
        await node.stop()
        return 1
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, node.request_stop)
    print(banner(node), flush=True)
    await node.run_until_stopped()
    return 0


def banner(node: Any) -> str:
    """The human start-up text: where to connect, and the fingerprint to compare."""
    settings = node.settings
    host = settings.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    lines = [
        f"AronaNET node {settings.node_name!r} is running (data in {settings.data_dir})",
        f"  TCP        {host}:{node.tcp_port}",
    ]
    if node.ws_port is not None:
        lines.append(f"  WebSocket  ws://{shown}:{node.ws_port}{WS_PATH}")
        if settings.web_dir is not None:
            lines.append(f"  Web client http://{shown}:{node.ws_port}/")
    if settings.uses_postgres or settings.uses_redis:
        lines.append(f"  Store      {redact_url(settings.store)}")
        lines.append(f"  Broker     {redact_url(settings.broker)} ({settings.broker_prefix})")
    lines += [
        f"  Fingerprint {node.fingerprint}",
        f"open the client with: aronanet chat {shown}:{node.tcp_port}",
        "stop with Ctrl-C",
    ]
    return "\n".join(lines)
