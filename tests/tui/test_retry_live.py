"""Failed and offline messages against a real node: /retry and Ctrl+R resend the failed ones,
and lines typed while the node is down are sent once it is back."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from live_app import SIZE, join, make_app, register, type_line
from tui_helpers import PASSWORD, Node, wait_for

from aronanet.client.connection import ArtpClient
from aronanet.client.state import Delivery, LinkStatus
from aronanet.tui.app import AronaApp


def deliveries(app: AronaApp, key: str) -> dict[str, Delivery]:
    return {line.text: line.delivery for line in app.state.buffers[key].lines if line.sender}


async def test_failed_dm_is_resent_by_ctrl_r_after_a_node_restart(
    node: Node, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        await type_line(pilot, "/msg yuuka are you there?")
        await wait_for(pilot, lambda: deliveries(app, "yuuka") == {"are you there?": "failed"})
        assert app.state.buffers["yuuka"].lines[-1].failure.startswith("NO_SUCH_USER")
        await pilot.press("alt+2")
        await wait_for(pilot, lambda: app.state.active == "#general")
        node.stop()
        await wait_for(pilot, lambda: app.state.link.status is not LinkStatus.ONLINE)
        await type_line(pilot, "typed while the node was down")
        assert deliveries(app, "#general") == {"typed while the node was down": "queued"}
        node.start()
        await wait_for(pilot, lambda: app.state.link.status is LinkStatus.ONLINE, timeout=20)
        await wait_for(pilot, lambda: set(deliveries(app, "#general").values()) == {"sent"})
        assert deliveries(app, "yuuka")["are you there?"] is Delivery.FAILED  # never blindly
        yuuka = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
        await yuuka.auth("yuuka", PASSWORD, register=True)
        await pilot.press("alt+3")
        await wait_for(pilot, lambda: app.state.active == "yuuka")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: deliveries(app, "yuuka") == {"are you there?": "sent"})
        received = await yuuka.history("user", "sensei")
        await yuuka.close()
    assert [(m.from_, m.content) for m in received] == [("sensei", "are you there?")]


async def test_retry_with_nothing_failed_says_so(node: Node, tmp_path: Path) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        await type_line(pilot, "/retry")
        assert (
            app.state.current.lines[-1].text == "Sensei, nothing here is waiting to be sent again."
        )
