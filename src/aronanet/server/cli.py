"""``aronanet serve`` and ``aronanet fingerprint``: the node's command line (ArTP §5).

Settings come from the defaults, then ``--config FILE`` (TOML), then flags: a flag left out
leaves the file's value alone.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import shlex
import shutil
import signal
import socket
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
    merged,
    normalise,
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
    "max_connections": "max_connections",
    "max_outgoing_queue": "max_outgoing_queue",
    "max_outgoing_bytes": "max_outgoing_bytes",
    "max_outgoing_bytes_per_node": "max_outgoing_bytes_per_node",
    "rate": "rate_messages_per_second",
    "rate_burst": "rate_burst",
    "max_reactions": "max_reactions",
    "keep_edit_history": "keep_edit_history",
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
        description="Print the fingerprint (SHA256:...) of the node's key in its data "
        "directory. The key is created by the first `aronanet serve`; this command never "
        "creates one.",
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


def settings_from_args(args: argparse.Namespace) -> NodeSettings:
    """Defaults, then the TOML file, then the flags that were given: checked as one whole.

    The file is checked alone first, so that an error names the file and its key; what
    fails after the flags are laid over it names the flag.
    """
    file_values: dict[str, Any] = {}
    if args.config is not None:
        document = read_toml(args.config)  # its errors name the file already
        try:
            file_values = normalise(document)
            from_mapping(file_values)
        except SettingsError as exc:
            raise SettingsError(f"{args.config}: {exc}", exc.key) from None
    flags = _flag_values(args)
    try:
        return from_mapping(merged(file_values, normalise(flags)))
    except SettingsError as exc:
        flag = _flag_for(exc.key)
        if flag is None:
            raise
        shown = str(exc).split(": ", 1)[-1]
        raise SettingsError(f"{flag} {_flag_text(args, exc.key)}: {shown}", exc.key) from None


def _flag_for(key: tuple[str, ...]) -> str | None:
    """The flag that sets the setting at ``key`` (a path as in the file), if there is one."""
    destinations: dict[tuple[str, ...], str] = {
        ("registration_open",): "registration",
        ("use_uvloop",): "no_uvloop",
        ("limits", "rate_limit_enabled"): "rate_limit",
        **{("limits", limit): flag for flag, limit in _LIMIT_FLAGS.items()},
        **{("publish", name): flag for flag, name in _PUBLISH_FLAGS.items()},
        ("admin", "listen"): "admin_listen",
    }
    destination = destinations.get(key, key[0] if len(key) == 1 else None)
    return None if destination is None else "--" + destination.replace("_", "-")


def _flag_text(args: argparse.Namespace, key: tuple[str, ...]) -> str:
    flag = _flag_for(key)
    assert flag is not None
    value = getattr(args, flag[2:].replace("-", "_"), None)
    return "" if value is None or isinstance(value, bool) else str(value)


def _flag_values(args: argparse.Namespace) -> dict[str, Any]:
    given = {key: value for key, value in vars(args).items() if value is not None}
    values: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for key in (
        "data_dir",
        "host",
        "port",
        "ws_port",
        "node_name",
        "web_dir",
        "tls_cert",
        "tls_key",
        "log_level",
        "store",
        "broker",
        "broker_prefix",
    ):
        if key in given:
            values[key] = str(given[key]) if isinstance(given[key], Path) else given[key]
    if "ws_port" in given and given["ws_port"].isdigit():
        values["ws_port"] = int(given["ws_port"])
    if "registration" in given:
        chosen = given["registration"]
        values["registration"] = "invite" if chosen == "invite" else chosen == "open"
    for key in ("ws_origins", "ws_hosts", "admins", "community_addresses"):
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
    if "admin_listen" in given:
        values["admin"] = {"listen": given["admin_listen"]}
    return values


def run_fingerprint(args: argparse.Namespace) -> int:
    """Print ``SHA256:...`` of the node's existing key.

    Never creates a key: a fingerprint of a key no node uses would be handed out to users
    (README "Getting started") and then refused by every client as a changed key.
    """
    try:
        settings = settings_from_args(args)
        key = identity.load_key(settings.key_path)
    except FileNotFoundError:
        print(
            f"aronanet fingerprint: no node key in {settings.data_dir}: run `aronanet serve` "
            "once (with the same --data-dir or --config) to create it",
            file=sys.stderr,
        )
        return 1
    except (SettingsError, identity.KeyFileError, OSError) as exc:
        print(f"aronanet fingerprint: {exc}", file=sys.stderr)
        return 1
    print(identity.fingerprint(identity.public_key_bytes(key)))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Run the node until SIGINT/SIGTERM; exit code 0 after a clean stop."""
    from aronanet.server.datadir import PRIVATE_UMASK
    from aronanet.server.logs import configure_logging

    os.umask(PRIVATE_UMASK)  # before anything is created: database, WAL, images, keys
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        print(f"aronanet serve: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    return _run_loop(_serve(settings), settings.use_uvloop)


def _run_loop(main: Any, use_uvloop: bool) -> int:
    from aronanet.server.runtime import GIL_SWITCH_INTERVAL

    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return int(uvloop.run(main))
    return int(asyncio.run(main))


async def _serve(settings: NodeSettings) -> int:
    from aronanet.server.datadir import DataDirError, NodeLock, make_private

    lock = NodeLock(settings.data_dir)
    try:
        make_private(settings.data_dir)
        lock.acquire()
    except (DataDirError, OSError) as exc:
        print(f"aronanet serve: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        return await _run_node(settings)
    finally:
        lock.release()  # only once the node has stopped writing


async def _run_node(settings: NodeSettings) -> int:
    from aronanet.discovery.errors import DiscoveryError
    from aronanet.identity import KeyFileError
    from aronanet.server.admin import AdminListenError
    from aronanet.server.node import Node
    from aronanet.server.runtime import settle_garbage_collector
    from aronanet.server.store.base import BackendUnavailableError

    node = Node(settings)
    # Handlers first: a signal that arrives while the node starts (it may already accept on
    # one port) must stop it cleanly once started, not interrupt the start with a traceback.
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_requested.set)
    try:
        await node.start()
    except (
        KeyFileError,
        OSError,
        BackendUnavailableError,
        DiscoveryError,
        AdminListenError,
    ) as exc:
        print(f"aronanet serve: cannot start: {start_failure(exc, settings)}", file=sys.stderr)
        await node.stop()
        return 1
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, node.request_stop)
    if stop_requested.is_set():
        node.request_stop()
    print(banner(node), flush=True)
    settle_garbage_collector()  # the start's objects are made: out of the collector's way
    await node.run_until_stopped()
    return 0


def start_failure(error: Exception, settings: NodeSettings) -> str:
    """Why the node could not start, with the flag that fixes the usual causes."""
    if isinstance(error, socket.gaierror):
        return (
            f"cannot listen on host {settings.host!r} ({error.strerror}); give --host an "
            "address of this machine, such as 127.0.0.1 or 0.0.0.0"
        )
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        ports = f"{settings.port}" + (f" or {settings.ws_port}" if settings.ws_port else "")
        return (
            f"port {ports} on {settings.host} is already in use by another program; "
            "choose others with --port and --ws-port"
        )
    return str(error)


def banner(node: Any) -> str:
    """The human start-up text: where to connect, and the fingerprint to compare."""
    settings = node.settings
    host = settings.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    data = _home_short(settings.data_dir)
    lines = [
        f"AronaNET node {settings.node_name!r} is running (data in {data})",
        f"  TCP        {host}:{node.tcp_port}",
    ]
    if node.ws_port is not None:
        secure = "s" if settings.tls_cert is not None else ""
        lines.append(f"  WebSocket  ws{secure}://{shown}:{node.ws_port}{WS_PATH}")
        if settings.web_dir is not None:
            lines.append(f"  Web client http{secure}://{shown}:{node.ws_port}/")
    if node.admin is not None:
        admin_host = settings.admin.listen.rsplit(":", 1)[0]
        lines.append(
            f"  Admin      http://{admin_host}:{node.admin.port}/metrics and /healthz "
            "(no authentication: keep it private)"
        )
    if settings.uses_postgres or settings.uses_redis:
        lines.append(f"  Store      {redact_url(settings.store)}")
        lines.append(f"  Broker     {redact_url(settings.broker)} ({settings.broker_prefix})")
    lines += [
        f"  Fingerprint {node.fingerprint}",
        f"open the client with: {aronanet_command()} chat {shown}:{node.tcp_port}",
        "stop with Ctrl-C",
    ]
    return "\n".join(lines)


def aronanet_command() -> str:
    """How the operator can run ``aronanet`` from the shell that started this node.

    ``./scripts/serve`` runs ``.venv/bin/aronanet``, which is not on PATH: a banner saying
    ``aronanet chat`` would send a newcomer to "command not found". Plain ``aronanet`` only
    when PATH finds this very program; otherwise its path (relative to the current
    directory when it is below it), or ``python -m aronanet`` when run that way.
    """
    program = Path(sys.argv[0])
    if program.name == "__main__.py":  # python -m aronanet
        return f"{_shell_path(Path(sys.executable))} -m aronanet"
    on_path = shutil.which(program.name)
    if on_path is not None and Path(on_path).resolve() == program.resolve():
        return program.name
    return _shell_path(program)


def _home_short(path: Path) -> str:
    """``path`` with the home directory written ``~``, as the README shows it."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(Path("~") / absolute.relative_to(Path.home()))
    except ValueError:
        return str(path)


def _shell_path(path: Path) -> str:
    """``path`` as short as a shell accepts it: relative below the current directory."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return shlex.quote(str(absolute))
    return shlex.quote(str(relative) if relative.parent != Path() else f"./{relative}")
