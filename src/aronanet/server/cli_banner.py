"""What ``aronanet serve`` tells the operator: the start-up banner, or why it could not start.

Kept apart from running the node because it is the text a newcomer reads first (README
"Getting started"): where to connect, the fingerprint to compare, the command that opens the
client from this very shell, and which flag fixes the usual start failures.
"""

from __future__ import annotations

import errno
import os
import shlex
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

from aronanet.config import WS_PATH
from aronanet.server.settings import NodeSettings, redact_url


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
