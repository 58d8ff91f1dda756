"""TLS on the WebSocket port (issue 12): with ``--tls-cert``/``--tls-key`` the web client and
its WebSocket come over https:// and wss:// only, so nobody on the path can swap the code that
pins the node's key; a certificate that cannot be used stops the node, with one line."""

from __future__ import annotations

import asyncio
import datetime
import ssl
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect as ws_connect

from .conftest import node_settings


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost), valid for a day, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(san, critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
async def tls_node(tmp_path, start_node):
    cert, key = _self_signed(tmp_path)
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<h1>Arona</h1>")
    settings = replace(node_settings(tmp_path / "n"), web_dir=web, tls_cert=cert, tls_key=key)
    node = await start_node(settings)
    trust = ssl.create_default_context(cafile=str(cert))
    return node, trust


async def test_the_page_comes_over_https(tls_node):
    node, trust = tls_node
    reader, writer = await asyncio.open_connection("127.0.0.1", node.ws_port, ssl=trust)
    writer.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{node.ws_port}\r\n\r\n".encode())
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"<h1>Arona</h1>")


async def test_the_websocket_comes_over_wss(tls_node):
    node, trust = tls_node
    url = f"wss://127.0.0.1:{node.ws_port}/artp"
    async with ws_connect(url, subprotocols=["artp.1"], ssl=trust) as ws:
        assert ws.subprotocol == "artp.1"


async def test_plain_http_gets_no_page_from_a_tls_port(tls_node):
    node, _ = tls_node
    reader, writer = await asyncio.open_connection("127.0.0.1", node.ws_port)
    writer.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{node.ws_port}\r\n\r\n".encode())
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert b"<h1>Arona</h1>" not in answer


def test_a_certificate_that_cannot_be_used_stops_the_node_with_one_line(tmp_path):
    missing = tmp_path / "missing.pem"
    run = [sys.executable, "-m", "aronanet", "serve", "--data-dir", str(tmp_path / "d")]
    run += ["--port", "0", "--ws-port", "0", "--tls-cert", str(missing)]
    result = subprocess.run(run, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert f"cannot use the TLS certificate {missing}" in result.stderr
    assert "Traceback" not in result.stderr
