"""A TCP address that names the node's WebSocket port (issue 10).

The node answers bytes that cannot be HTTP with an HTTP 400 at once; the client recognises the
``HTTP/`` and says in one line which address to use, instead of waiting 10 s and then
blaming the handshake.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from client_support import PASSWORD, NodeProcess, aronanet_command, unique_name
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient
from aronanet.errors import ClientError

EXIT_CONNECTION = 3
#: Well under the 10 s handshake timeout the client used to wait for.
PROMPTLY = 5.0


async def test_the_library_says_the_port_is_the_websocket_port(node: NodeProcess) -> None:
    started = time.monotonic()
    with pytest.raises(ClientError) as caught:
        await ArtpClient.connect(
            f"127.0.0.1:{node.ws_port}", device_key=X25519PrivateKey.generate(), timeout=10
        )
    assert time.monotonic() - started < PROMPTLY
    assert caught.value.code == "CONNECT"
    assert caught.value.message == (
        f"127.0.0.1:{node.ws_port} answered in HTTP: it looks like the node's WebSocket port; "
        f"connect to ws://127.0.0.1:{node.ws_port}/artp instead, or to the node's TCP port "
        "(default 7777)"
    )


def test_the_command_line_says_it_in_one_line_and_exits_3(node: NodeProcess, tmp_path) -> None:
    env = {**os.environ, "ARONA_TEST_PW": PASSWORD}
    command = [
        *aronanet_command(), "send", f"127.0.0.1:{node.ws_port}", "#x", "hi",
        "--user", unique_name("port"), "--password-env", "ARONA_TEST_PW", "--register",
        "--config-dir", str(tmp_path / "config"),
    ]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert time.monotonic() - started < PROMPTLY + 5  # interpreter start-up included
    assert result.returncode == EXIT_CONNECTION
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "WebSocket port" in lines[0] and f"ws://127.0.0.1:{node.ws_port}/artp" in lines[0]
