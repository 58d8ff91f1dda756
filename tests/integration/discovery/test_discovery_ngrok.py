"""Tunnels through the ngrok agent's local API (a local fake of it), and republishing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket

import pytest
from fake_services import FakeNgrokAgent, FakeRecordHost

from aronanet.discovery.errors import NgrokUnavailableError
from aronanet.discovery.ngrok import NgrokAgent
from aronanet.discovery.publisher import Listening, Publisher
from aronanet.discovery.settings import PublishSettings
from aronanet.discovery.tokens import Secret
from aronanet.discovery.url import UrlPublisher

FINGERPRINT = "SHA256:" + base64.b64encode(hashlib.sha256(b"node").digest()).decode().rstrip("=")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_tcp_tunnel_is_started_when_the_agent_has_none(ngrok_agent):
    address = await NgrokAgent(ngrok_agent.url).tcp_tunnel(7777)
    [start] = ngrok_agent.requests_to("POST")
    assert start.path == "/api/tunnels"
    assert start.json() == {"name": "aronanet-7777", "proto": "tcp", "addr": "127.0.0.1:7777"}
    assert address == "0.tcp.ngrok.io:10001"


async def test_the_tunnel_of_ngrok_tcp_port_is_reused(ngrok_agent):
    ngrok_agent.add_tunnel("command_line", "localhost:7777")
    address = await NgrokAgent(ngrok_agent.url).tcp_tunnel(7777)
    assert address == "0.tcp.ngrok.io:10001"
    assert ngrok_agent.requests_to("POST") == []


async def test_an_absent_agent_is_explained_with_the_command_to_run():
    agent = NgrokAgent(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(NgrokUnavailableError) as caught:
        await agent.tcp_tunnel(7777)
    assert "ngrok tcp 7777" in str(caught.value) and "ngrok.com/download" in str(caught.value)


async def wait_for(condition, what: str) -> None:
    """Poll until ``condition()`` holds; fail (not hang) after a generous bound."""
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_record_is_republished_when_the_tunnel_address_changes(
    ngrok_agent: FakeNgrokAgent, record_host: FakeRecordHost
):
    notices: list[str] = []
    settings = PublishSettings(target=record_host.record_url, ngrok=True, refresh_interval=0.05)
    publisher = Publisher(
        name="arona",
        fingerprint=FINGERPRINT,
        settings=settings,
        sink=UrlPublisher(record_host.record_url, token=Secret(record_host.token)),
        tunnel=NgrokAgent(ngrok_agent.url),
        notify=notices.append,
    )
    task = asyncio.create_task(publisher.run(Listening("127.0.0.1", 7777, None)))
    try:
        await wait_for(lambda: len(record_host.published()) == 1, "the first record")
        ngrok_agent.reconnect()
        await wait_for(lambda: len(record_host.published()) == 2, "the republished record")
    finally:
        task.cancel()
    first, second = record_host.published()
    assert first["addresses"] == ["0.tcp.ngrok.io:10001", "127.0.0.1:7777"]
    assert second["addresses"] == ["1.tcp.ngrok.io:10002", "127.0.0.1:7777"]
    assert any("ngrok tunnel open: 1.tcp.ngrok.io:10002" in notice for notice in notices)


async def test_without_an_agent_the_local_addresses_are_published_and_the_fix_told_once(
    record_host: FakeRecordHost,
):
    notices: list[str] = []
    settings = PublishSettings(target=record_host.record_url, ngrok=True, refresh_interval=0.02)
    publisher = Publisher(
        name="arona",
        fingerprint=FINGERPRINT,
        settings=settings,
        sink=UrlPublisher(record_host.record_url, token=Secret(record_host.token)),
        tunnel=NgrokAgent(f"http://127.0.0.1:{closed_port()}"),
        notify=notices.append,
    )
    task = asyncio.create_task(publisher.run(Listening("127.0.0.1", 7777, 7778)))
    try:
        await wait_for(lambda: len(record_host.published()) == 1, "the local record")
        await asyncio.sleep(0.2)  # several more rounds, each failing to reach the agent
    finally:
        task.cancel()
    [record] = record_host.published()
    assert record["addresses"] == ["127.0.0.1:7777", "ws://127.0.0.1:7778/artp"]
    assert sum("ngrok tcp 7777" in notice for notice in notices) == 1
