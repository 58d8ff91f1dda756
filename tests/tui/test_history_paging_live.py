"""History paging against a real node whose pages are trimmed to fit one frame.

Sixty messages of 3,900 characters do not fit in one 65,519-byte reply, so the node answers
a 100-message ``HISTORY`` with only the newest (or, with ``after``, the oldest) sixteen or
so. PROTOCOL.md, HISTORY: a short page is not the end, only an empty one is. These tests
show the client reaching the true first message when scrolling back, and catching up on
every message exactly once after the node restarts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from live_app import SIZE, join, make_app, register, type_line
from textual.pilot import Pilot
from tui_helpers import PASSWORD, Node, wait_for

from aronanet.client.connection import ArtpClient
from aronanet.client.state import STATUS_KEY, Delivery, LinkStatus
from aronanet.tui.app import AronaApp
from aronanet.tui.widgets.message_log import MessageLog

LONG_MESSAGES = 60
LONG_LENGTH = 3_900


def long_text(number: int) -> str:
    """Message ``number``: its number first, then prose up to LONG_LENGTH characters."""
    filler = "the budget report is in the clubroom, next to the lunch menu; " * 70
    return f"long {number:02d}: {filler}"[:LONG_LENGTH]


EXPECTED = [long_text(number) for number in range(LONG_MESSAGES)]


async def send_long_messages(client: ArtpClient) -> None:
    for text in EXPECTED:
        await client.send_message("channel", "#general", text)


def messages(app: AronaApp) -> list[str]:
    return [line.text for line in app.state.current.lines if line.kind == "message"]


def status_notes(app: AronaApp) -> list[str]:
    """Arona's lines in her own buffer, where the link's comings and goings are told."""
    return [line.text for line in app.state.buffers[STATUS_KEY].lines if line.kind == "info"]


async def scroll_back_to_the_start(pilot: Pilot[int], app: AronaApp) -> None:
    """Scroll to the top again and again, each time waiting for the page it asks for."""
    log = app.screen.query_one(MessageLog)
    for _ in range(2 * LONG_MESSAGES):
        if app.state.current.older == "complete":
            return
        held = len(messages(app))
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        log.scroll_home(animate=False, immediate=True)
        await wait_for(
            pilot,
            lambda held=held: len(messages(app)) > held or app.state.current.older == "complete",
        )
    raise AssertionError("scrollback never reached the start of the channel")


async def test_scrolling_back_through_trimmed_pages_reaches_the_first_message(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#general")
    await send_long_messages(peer)
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        await wait_for(pilot, lambda: bool(messages(app)))
        assert len(messages(app)) < LONG_MESSAGES  # the latest page was trimmed
        assert app.state.current.older == "idle"  # ... and is not taken for the start
        await scroll_back_to_the_start(pilot, app)
        assert messages(app) == EXPECTED
        assert messages(app)[0].startswith("long 00:")


async def test_catch_up_after_a_node_restart_shows_every_message_exactly_once(
    node: Node, tmp_path: Path
) -> None:
    online = asyncio.Event()
    online.set()
    app = make_app(node, tmp_path / "cfg", gate=online)
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        await type_line(pilot, "before the restart")
        await wait_for(pilot, lambda: app.state.current.lines[-1].delivery is Delivery.SENT)
        online.clear()  # the app stays offline until every long message is stored
        node.stop()
        await wait_for(pilot, lambda: app.state.link.status is not LinkStatus.ONLINE)
        node.start()
        yuuka = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
        await yuuka.auth("yuuka", PASSWORD, register=True)
        await yuuka.join("#general")
        await send_long_messages(yuuka)
        await yuuka.close()
        online.set()
        await wait_for(pilot, lambda: app.state.link.status is LinkStatus.ONLINE, timeout=20)
        await wait_for(pilot, lambda: "We're back" in status_notes(app)[-1])
        assert messages(app) == ["before the restart", *EXPECTED]
        ids = [line.id for line in app.state.current.lines]
        assert len(ids) == len(set(ids))
        assert f"I caught up on {LONG_MESSAGES} message(s)" in status_notes(app)[-1]
