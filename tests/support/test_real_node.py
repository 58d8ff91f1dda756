"""The shared real-node harness: the config it writes, its start, failure, stop and restart.

Every integration package leans on ``RealNode``; these tests pin what they rely on, so that a
change here fails here rather than as a puzzling timeout somewhere else.
"""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path

import pytest

from aronanet.server.settings import from_mapping
from support.real_node import LOOPBACK, NodeStartError, RealNode, toml_table


def accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=2):
            return True
    except OSError:
        return False


def test_the_config_is_toml_the_node_reads_with_cheap_hashing_and_the_given_tables(
    tmp_path: Path,
) -> None:
    node = RealNode(
        tmp_path / "data",
        limits={"transfer_timeout": 0.5, "max_content": 100, "rate_limit_enabled": False},
        extra_toml='[publish]\ngithub_api = "http://127.0.0.1:9/"\n',
    )
    settings = from_mapping(tomllib.loads(node.config_text()))
    assert (settings.hashing.time_cost, settings.hashing.memory_kib) == (1, 8)
    assert settings.login_throttle.burst >= 1_000_000
    assert settings.limits.transfer_timeout == 0.5 and settings.limits.max_content == 100
    assert settings.limits.rate_limit_enabled is False
    assert settings.publish.github_api == "http://127.0.0.1:9/"


def test_a_table_renders_strings_and_booleans_as_toml_reads_them() -> None:
    values = {"text": 'a "quoted" \\ value', "on": True, "off": False, "ratio": 1e-05}
    assert tomllib.loads(toml_table("t", values)) == {"t": values}
    assert toml_table("limits", {}) == ""


def test_extra_toml_without_a_table_header_is_refused_rather_than_misplaced(
    tmp_path: Path,
) -> None:
    node = RealNode(tmp_path / "data", extra_toml='node_name = "lost"\n')
    with pytest.raises(ValueError, match=r"must start with a \[table\] header"):
        node.config_text()


def test_a_node_without_websocket_has_no_websocket_address(tmp_path: Path) -> None:
    node = RealNode(tmp_path / "data", ws_port="off")
    assert node.serve_arguments()[-4:] == ["--ws-port", "off", "--rate-limit", "off"]
    with pytest.raises(RuntimeError, match="without WebSocket"):
        _ = node.ws_address


def test_a_started_node_listens_stops_cleanly_and_restarts_on_the_same_ports(
    tmp_path: Path,
) -> None:
    with RealNode(tmp_path / "data") as node:
        assert node.running and accepts(node.port)
        assert isinstance(node.ws_port, int) and accepts(node.ws_port)
        assert node.memory_kib("VmRSS") > 0
        assert node.stop() == 0 and not node.running
        node.restart()
        assert accepts(node.port)
        node.wait_for_log("(?s)Fingerprint .*Fingerprint ")  # the second banner is printed
        node.kill()
        assert not node.running and not accepts(node.port)
    banner = f"aronanet chat {LOOPBACK}:{node.port}"
    assert node.log_text().count(banner) == 2, node.log_text()


def test_a_node_that_cannot_start_fails_with_its_log_and_is_not_running(tmp_path: Path) -> None:
    node = RealNode(tmp_path / "data", extra_toml="[no_such_table]\nkey = 1\n")
    with pytest.raises(NodeStartError, match="unknown configuration key 'no_such_table'"):
        node.start()
    assert not node.running
