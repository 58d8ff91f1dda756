"""``aronanet serve`` and ``aronanet fingerprint``: the node's command line (ArTP §5).

Settings come from the defaults, then ``--config FILE`` (TOML), then flags: a flag left out
leaves the file's value alone. The flags are in ``cli_arguments``, their mapping onto the
settings in ``cli_settings``, and what the node prints on start in ``cli_banner``; this
module registers the commands and runs the node until it is asked to stop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from aronanet import identity
from aronanet.server.cli_arguments import add_serve_arguments
from aronanet.server.cli_banner import banner, start_failure
from aronanet.server.cli_settings import settings_from_args
from aronanet.server.settings import NodeSettings, SettingsError, default_data_dir


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` and ``fingerprint`` to the ``aronanet`` command."""
    serve = subparsers.add_parser(
        "serve",
        help="run a node in the foreground",
        description="Run an AronaNET node in the foreground until SIGINT or SIGTERM. "
        "Settings come from the defaults, then --config, then these flags.",
    )
    add_serve_arguments(serve)
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
