"""``aronanet serve --publish ... [--ngrok]``: a real node publishing to local fakes."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from discovery_node import DiscoveryNode, run_cli, wait_until
from fake_services import FakeGitHub, FakeNgrokAgent, FakeRecordHost

from aronanet.client import ArtpClient

TOKEN_VAR = "ARONANET_TEST_PUBLISH_TOKEN"


@pytest.fixture
def nodes() -> Iterator[list[DiscoveryNode]]:
    """Nodes a test started; all stopped at its end, whatever happened."""
    started: list[DiscoveryNode] = []
    yield started
    for node in started:
        node.stop()


def node_fingerprint(node: DiscoveryNode) -> str:
    return run_cli("fingerprint", "--data-dir", str(node.data_dir)).stdout.strip()


def test_a_node_publishes_its_address_and_fingerprint_to_a_url(
    tmp_path, nodes, record_host: FakeRecordHost
):
    env = {**os.environ, TOKEN_VAR: record_host.token or ""}
    node = DiscoveryNode(
        tmp_path / "node",
        ("--publish", record_host.record_url, "--publish-token-env", TOKEN_VAR),
        env=env,
    )
    nodes.append(node.start())
    wait_until(lambda: record_host.published(), "the published record")
    [record] = record_host.published()
    assert record["artp"] == "1.0" and record["addresses"] == [node.address]
    assert record["fingerprint"] == node_fingerprint(node)
    node.wait_output("clients run: aronanet discover")
    assert node.stop() == 0
    assert record_host.token not in node.output()  # not even at DEBUG


def test_a_node_creates_its_gist_once_and_updates_it_after_a_restart(
    tmp_path, nodes, github: FakeGitHub
):
    env = {**os.environ, "GITHUB_TOKEN": github.token}
    publish = f'github_api = "{github.url}"\n'
    first = DiscoveryNode(tmp_path / "node", ("--publish", "gist"), publish, env=env)
    nodes.append(first.start())
    first.wait_output("published the node record")
    first.stop()
    [gist_id] = github.gists
    second = DiscoveryNode(tmp_path / "node", ("--publish", "gist"), publish, env=env)
    nodes.append(second.start())
    wait_until(lambda: github.requests_to("PATCH"), "the gist update")
    assert list(github.gists) == [gist_id] and len(github.requests_to("POST")) == 1
    assert github.content_of(gist_id)["addresses"] == [second.address]
    assert stat.S_IMODE((tmp_path / "node" / "gist-id").stat().st_mode) == 0o600
    assert github.token not in first.output() + second.output()


def test_a_node_behind_ngrok_publishes_the_tunnel_address_first(
    tmp_path, nodes, record_host: FakeRecordHost, ngrok_agent: FakeNgrokAgent
):
    env = {**os.environ, TOKEN_VAR: record_host.token or ""}
    node = DiscoveryNode(
        tmp_path / "node",
        ("--publish", record_host.record_url, "--publish-token-env", TOKEN_VAR, "--ngrok"),
        f'ngrok_api = "{ngrok_agent.url}"\n',
        env=env,
    )
    nodes.append(node.start())
    wait_until(lambda: record_host.published(), "the published record")
    [start] = ngrok_agent.requests_to("POST")
    assert start.json()["proto"] == "tcp" and start.json()["addr"] == node.address
    assert record_host.published()[0]["addresses"] == ["0.tcp.ngrok.io:10001", node.address]
    node.wait_output("ngrok tunnel open: 0.tcp.ngrok.io:10001")


async def test_a_node_without_an_ngrok_agent_says_what_to_run_and_still_serves(tmp_path, nodes):
    unused = DiscoveryNode(tmp_path / "nothing").port  # a free port: no agent answers there
    node = DiscoveryNode(
        tmp_path / "node", ("--ngrok",), f'ngrok_api = "http://127.0.0.1:{unused}"\n'
    )
    nodes.append(node.start())
    node.wait_output(f"ngrok tcp {node.port}")
    client = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    try:
        assert await client.ping() >= 0
    finally:
        await client.close()


def test_a_node_told_to_read_an_unset_token_variable_refuses_to_start(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != TOKEN_VAR}
    node = DiscoveryNode(
        tmp_path / "node",
        ("--publish", "http://127.0.0.1:9/node.json", "--publish-token-env", TOKEN_VAR),
        env=env,
    ).launch()
    assert node.process is not None and node.process.wait(timeout=20) == 1
    assert f"environment variable {TOKEN_VAR} is not set" in node.output()


def test_a_publish_target_that_is_neither_gist_nor_url_is_a_usage_error(tmp_path):
    result = run_cli("serve", "--data-dir", str(tmp_path / "d"), "--publish", "ftp://x")
    assert result.returncode == 2
    assert "is not 'gist', 'gist:ID' or an http(s) URL" in result.stderr


def test_the_record_in_the_gist_is_compact_json(tmp_path, nodes, github: FakeGitHub):
    env = {**os.environ, "GITHUB_TOKEN": github.token}
    node = DiscoveryNode(
        tmp_path / "node", ("--publish", "gist"), f'github_api = "{github.url}"\n', env=env
    )
    nodes.append(node.start())
    wait_until(lambda: github.gists, "the gist")
    [files] = github.gists.values()
    content = files["aronanet-node.json"]
    assert json.loads(content)["fingerprint"] == node_fingerprint(node)
    assert ": " not in content  # compact, as encode_record writes it
