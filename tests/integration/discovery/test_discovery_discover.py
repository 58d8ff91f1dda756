"""``aronanet discover SOURCE [--pin]`` as a real process, then a real client connecting.

The security property under test: a record's fingerprint, once pinned, is what the node
must prove in its handshake; a tampered record ends in a loud refusal, never a session.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from discovery_node import DiscoveryNode, run_cli, wait_until
from fake_services import FakeGitHub, FakeRecordHost

from aronanet.client import ArtpClient, KnownNodes
from aronanet.discovery.record import build_record, encode_record
from aronanet.errors import ClientError, KeyChangedError

TOKEN_VAR = "ARONANET_TEST_PUBLISH_TOKEN"
IMPOSTOR = "SHA256:" + base64.b64encode(hashlib.sha256(b"impostor").digest()).decode().rstrip("=")


@pytest.fixture
def published_node(tmp_path: Path, record_host: FakeRecordHost) -> Iterator[DiscoveryNode]:
    """A real node that has published its record to ``record_host``."""
    env = {**os.environ, TOKEN_VAR: record_host.token or ""}
    node = DiscoveryNode(
        tmp_path / "node",
        ("--publish", record_host.record_url, "--publish-token-env", TOKEN_VAR),
        env=env,
    ).start()
    wait_until(lambda: record_host.published(), "the published record")
    yield node
    node.stop()


def refuse_unknown(address: str, fingerprint: str) -> bool:
    """A trust callback that proves a connection used a pin: it refuses every new node."""
    return False


def test_discover_prints_the_addresses_and_the_fingerprint(published_node, record_host):
    result = run_cli("discover", record_host.record_url)
    assert result.returncode == 0, result.stderr
    fingerprint = record_host.published()[0]["fingerprint"]
    assert f"fingerprint {fingerprint}" in result.stdout
    assert f"address     {published_node.address}" in result.stdout
    assert f"aronanet chat {published_node.address}" in result.stdout


async def test_a_pinned_record_makes_the_first_connection_verified(
    tmp_path, published_node, record_host
):
    config = tmp_path / "client"
    result = run_cli("discover", record_host.record_url, "--pin", "--config-dir", str(config))
    assert result.returncode == 0, result.stderr
    assert f"pinned {published_node.address}" in result.stderr
    known = KnownNodes(config / "known_nodes")
    client = await ArtpClient.connect(
        published_node.address,
        device_key=X25519PrivateKey.generate(),
        known_nodes=known,
        trust_new=refuse_unknown,  # would refuse: the pin must be what lets us in
    )
    try:
        assert client.fingerprint == record_host.published()[0]["fingerprint"]
    finally:
        await client.close()


async def test_a_tampered_fingerprint_makes_the_connection_refused_loudly(
    tmp_path, published_node, record_host
):
    genuine = record_host.published()[0]
    tampered = build_record(genuine["name"], genuine["addresses"], IMPOSTOR, now=genuine["updated"])
    record_host.served = encode_record(tampered)
    config = tmp_path / "client"
    assert (
        run_cli("discover", record_host.record_url, "--pin", "--config-dir", str(config)).returncode
        == 0
    )
    with pytest.raises(KeyChangedError) as caught:
        await ArtpClient.connect(
            published_node.address,
            device_key=X25519PrivateKey.generate(),
            known_nodes=KnownNodes(config / "known_nodes"),
        )
    assert caught.value.pinned == IMPOSTOR and caught.value.presented == genuine["fingerprint"]


def test_the_script_client_refuses_a_node_pinned_from_a_tampered_record(
    tmp_path, published_node, record_host
):
    genuine = record_host.published()[0]
    tampered = build_record(genuine["name"], genuine["addresses"], IMPOSTOR, now=genuine["updated"])
    record_host.served = encode_record(tampered)
    config = str(tmp_path / "client")
    run_cli("discover", record_host.record_url, "--pin", "--config-dir", config)
    env = {**os.environ, "PW": "correct horse battery"}
    result = run_cli(
        "send",
        published_node.address,
        "--user",
        "sensei",
        "--password-env",
        "PW",
        "--register",
        "--config-dir",
        config,
        "#general",
        "hello",
        env=env,
    )
    assert result.returncode == 5
    assert "HAS CHANGED" in result.stderr and IMPOSTOR in result.stderr


def test_discover_never_overwrites_a_pin_with_a_different_key(
    tmp_path, published_node, record_host
):
    config = tmp_path / "client"
    known = KnownNodes(config / "known_nodes")
    known.pin(published_node.address, IMPOSTOR)
    result = run_cli("discover", record_host.record_url, "--pin", "--config-dir", str(config))
    assert result.returncode == 5
    assert "DIFFERS FROM THE ONE YOU PINNED" in result.stderr and "aronanet trust" in result.stderr
    assert known.lookup(published_node.address) == IMPOSTOR


async def test_a_node_is_found_and_pinned_through_a_gist(
    tmp_path, published_node, github: FakeGitHub
):
    fingerprint = run_cli("fingerprint", "--data-dir", str(published_node.data_dir)).stdout.strip()
    record = build_record("arona", [published_node.address], fingerprint, now=1_700_000_000)
    gist_id = "aa" * 16
    github.gists[gist_id] = {"aronanet-node.json": encode_record(record).decode()}
    config = tmp_path / "client"
    result = run_cli(
        "discover",
        f"https://gist.github.com/arona/{gist_id}",
        "--pin",
        "--github-api",
        github.url,
        "--config-dir",
        str(config),
    )
    assert result.returncode == 0, result.stderr
    client = await ArtpClient.connect(
        published_node.address,
        device_key=X25519PrivateKey.generate(),
        known_nodes=KnownNodes(config / "known_nodes"),
        trust_new=refuse_unknown,
    )
    await client.close()


def test_discover_reports_a_record_that_is_not_valid(record_host: FakeRecordHost):
    record_host.served = b'{"artp": "2.0"}'
    result = run_cli("discover", record_host.record_url)
    assert result.returncode == 1
    assert "not a valid ArTP/1.0 node record" in result.stderr


def test_discover_reports_a_gist_that_does_not_exist(github: FakeGitHub):
    result = run_cli("discover", "bb" * 16, "--github-api", github.url)
    assert result.returncode == 1 and "no gist" in result.stderr


async def test_without_discover_pin_the_same_strict_client_refuses_the_node(
    tmp_path, published_node
):
    """The control for the verified connection above: there, the pin made the difference."""
    with pytest.raises(ClientError, match="not accepted"):
        await ArtpClient.connect(
            published_node.address,
            device_key=X25519PrivateKey.generate(),
            known_nodes=KnownNodes(tmp_path / "client" / "known_nodes"),
            trust_new=refuse_unknown,
        )
