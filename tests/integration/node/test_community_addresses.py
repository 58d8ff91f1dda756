"""``community_addresses``: a node tells the web client its community's other WebSocket
addresses at ``/community.json`` (so the client fails over without the user typing them), and
lets pages served by those nodes open its ``/artp`` (the client moves between nodes)."""

from __future__ import annotations

import json
from dataclasses import replace

from .conftest import node_settings
from .test_http_edge import _get, _http, _upgrade_status

COMMUNITY = ("127.0.0.1:17778", "wss://chat2.example/artp")
BY_HAND = '{"addresses": ["by-hand:7778"]}'


async def _node_with_web_dir(tmp_path, start_node, files: dict[str, str], community=()):
    """A node serving ``files`` as its web client, naming ``community``."""
    web = tmp_path / "web"
    web.mkdir()
    for name, text in files.items():
        (web / name).write_text(text)
    settings = replace(node_settings(tmp_path / "n"), web_dir=web, community_addresses=community)
    return await start_node(settings)


async def test_the_community_json_names_the_addresses_as_configured(tmp_path, start_node):
    node = await start_node(replace(node_settings(tmp_path / "n"), community_addresses=COMMUNITY))
    port = node.ws_port
    status, headers, body = await _http(port, _get(port, "/community.json"))
    assert status == 200
    assert headers["content-type"] == ["application/json"]
    assert headers["cache-control"] == ["no-cache"]  # a changed list is seen at the next load
    assert json.loads(body) == {"addresses": list(COMMUNITY)}
    status, _, head_body = await _http(port, _get(port, "/community.json", "HEAD"))
    assert (status, head_body) == (200, b"")


async def test_without_the_setting_the_community_is_an_empty_list(tmp_path, start_node):
    node = await start_node(node_settings(tmp_path / "n"))  # no web client either
    status, _, body = await _http(node.ws_port, _get(node.ws_port, "/community.json"))
    assert (status, json.loads(body)) == (200, {"addresses": []})
    status, _, _ = await _http(node.ws_port, _get(node.ws_port, "/other.json"))
    assert status == 404  # nothing else is served without a web directory


async def test_the_setting_wins_over_a_web_dir_file(tmp_path, start_node):
    node = await _node_with_web_dir(tmp_path, start_node, {"community.json": BY_HAND}, COMMUNITY)
    _, _, body = await _http(node.ws_port, _get(node.ws_port, "/community.json"))
    assert json.loads(body) == {"addresses": list(COMMUNITY)}


async def test_a_web_dir_file_of_that_name_is_served_when_the_setting_is_empty(
    tmp_path, start_node
):
    node = await _node_with_web_dir(tmp_path, start_node, {"community.json": BY_HAND})
    status, _, body = await _http(node.ws_port, _get(node.ws_port, "/community.json"))
    assert (status, json.loads(body)) == (200, {"addresses": ["by-hand:7778"]})


async def test_pages_of_the_community_may_open_the_websocket_and_no_others(tmp_path, start_node):
    node = await start_node(replace(node_settings(tmp_path / "n"), community_addresses=COMMUNITY))
    port = node.ws_port
    here = f"127.0.0.1:{port}"
    assert await _upgrade_status(port, here, "http://127.0.0.1:17778") == 101
    assert await _upgrade_status(port, here, "https://127.0.0.1:17778") == 101
    assert await _upgrade_status(port, here, "https://chat2.example") == 101
    # wss:// only: that node's page is https; and a port or host not listed stays refused
    assert await _upgrade_status(port, here, "http://chat2.example") == 403
    assert await _upgrade_status(port, here, "http://127.0.0.1:17779") == 403


async def test_the_page_may_connect_to_the_community_websockets(tmp_path, start_node):
    page = "<html><head></head></html>"
    node = await _node_with_web_dir(tmp_path, start_node, {"index.html": page}, COMMUNITY)
    _, headers, _ = await _http(node.ws_port, _get(node.ws_port, "/"))
    (policy,) = headers["content-security-policy"]
    (connect,) = [part for part in policy.split("; ") if part.startswith("connect-src ")]
    sources = connect.split()[1:]
    assert "ws://127.0.0.1:17778" in sources and "wss://127.0.0.1:17778" in sources
    assert "wss://chat2.example" in sources and "ws://chat2.example" not in sources
    assert f"ws://127.0.0.1:{node.ws_port}" in sources  # its own, as before
