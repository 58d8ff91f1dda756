"""The terminal client driven by Textual's Pilot against a real node on 127.0.0.1.

Each test starts ``aronanet serve`` in a subprocess and a second, scripted ``ArtpClient`` so
that messages really travel through the node in both directions.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from live_app import SIZE, join, make_app, register, rendered_text, type_line
from tui_helpers import PASSWORD, Node, wait_for

from aronanet.client.connection import ArtpClient
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.client.state import Delivery, LinkStatus
from aronanet.tui.app import AronaApp
from aronanet.tui.settings import load_settings
from aronanet.tui.widgets.buffer_list import BufferList
from aronanet.tui.widgets.message_log import MessageLog


async def test_new_user_registers_joins_and_talks_with_a_second_client(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        assert "Sensei, you are connected to #general!" in rendered_text(app)
        await peer.join("#general")
        await type_line(pilot, "Hello Arona!")
        await wait_for(pilot, lambda: app.state.current.lines[-1].delivery is Delivery.SENT)
        seen = await peer.history("channel", "#general")
        assert [(m.from_, m.content) for m in seen] == [("sensei", "Hello Arona!")]
        await peer.send_message("channel", "#general", "Welcome, sensei")
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "Welcome, sensei")
        await pilot.pause()
        assert "hoshino  Welcome, sensei" in rendered_text(app)
        assert "hoshino" in app.state.current.members
    saved = load_settings(tmp_path / "cfg")
    assert (saved.address, saved.user) == (node.address, "sensei")
    assert KnownNodes(ClientPaths.at(tmp_path / "cfg").known_nodes).lookup(node.address)


async def test_messages_elsewhere_count_as_unread_until_the_buffer_is_opened(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#lounge")
        await join(pilot, app, "#general")
        await peer.join("#lounge")
        await peer.send_message("channel", "#lounge", "snacks?")
        await peer.send_message("channel", "#lounge", "sensei, snacks!")
        await wait_for(pilot, lambda: app.state.buffers["#lounge"].unread == 2)
        assert app.state.buffers["#lounge"].highlights == 1
        await pilot.pause()
        assert "#lounge (2) @1" in app.screen.query_one(BufferList).render().plain
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: app.state.active == "#lounge")
        assert app.state.buffers["#lounge"].unread == 0
        await peer.send_message("user", "sensei", "psst")
        await wait_for(pilot, lambda: "hoshino" in app.state.buffers)
        assert app.state.buffers["hoshino"].highlights == 1


async def test_scrolling_up_loads_older_history_without_duplicates(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#general")
    for number in range(230):
        await peer.send_message("channel", "#general", f"line {number}")
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        await wait_for(pilot, lambda: len(messages(app)) == 100)
        assert messages(app)[-1] == "line 229"
        log = app.screen.query_one(MessageLog)
        for expected in (200, 230):
            log.scroll_end(animate=False, immediate=True)
            await pilot.pause()
            log.scroll_home(animate=False, immediate=True)
            await wait_for(pilot, lambda n=expected: len(messages(app)) == n)
        assert messages(app) == [f"line {number}" for number in range(230)]
        assert app.state.current.older == "idle"  # a short page is not the start...
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        log.scroll_home(animate=False, immediate=True)
        await wait_for(pilot, lambda: app.state.current.older == "complete")  # ...empty is
        assert len(messages(app)) == 230


def messages(app: AronaApp) -> list[str]:
    return [line.text for line in app.state.current.lines if line.kind == "message"]


async def test_client_reconnects_after_the_node_restarts_and_catches_up(
    node: Node, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        await type_line(pilot, "before the restart")
        await wait_for(pilot, lambda: app.state.current.lines[-1].delivery is Delivery.SENT)
        node.stop()
        await wait_for(pilot, lambda: app.state.link.status is not LinkStatus.ONLINE)
        await type_line(pilot, "typed while offline")
        offline = [line for line in app.state.current.lines if line.text == "typed while offline"]
        assert [line.delivery for line in offline] == [Delivery.QUEUED]
        assert "⋯ pending" in rendered_text(app)
        node.start()
        other = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
        await other.auth("yuuka", PASSWORD, register=True)
        await other.join("#general")
        await other.send_message("channel", "#general", "sent during the outage")
        await other.close()
        await wait_for(pilot, lambda: app.state.link.status is LinkStatus.ONLINE, timeout=20)
        await wait_for(pilot, lambda: "typed while offline" in sent(app))
        await wait_for(pilot, lambda: "sent during the outage" in messages(app))
        ids = [line.id for line in app.state.current.lines]
        assert len(ids) == len(set(ids))
        assert messages(app).count("before the restart") == 1


def sent(app: AronaApp) -> list[str]:
    return [line.text for line in app.state.current.lines if line.delivery is Delivery.SENT]
