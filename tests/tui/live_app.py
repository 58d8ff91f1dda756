"""Driving the real app against a real node: building it, registering, joining, reading.

(A module with a unique name rather than conftest, so that every live test module can
import it whatever else is on ``sys.path``.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from textual.pilot import Pilot
from tui_helpers import FAST_BACKOFF, PASSWORD, Node, wait_for

from aronanet.client.connection import ArtpClient, TrustCallback
from aronanet.client.invite_link import InviteLink
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.tui.app import AronaApp
from aronanet.tui.cli import make_connector, startup_settings
from aronanet.tui.images import image_cache_dir
from aronanet.tui.screens.trust import TrustScreen
from aronanet.tui.session import Connector
from aronanet.tui.widgets.chat_input import ChatInput
from aronanet.tui.widgets.message_log import MessageLog

SIZE = (120, 36)


def make_app(
    node: Node,
    config_dir: Path,
    user: str = "sensei",
    *,
    viewer: list[Path] | None = None,
    gate: asyncio.Event | None = None,
    failed_upload_linger: float = 10.0,
    sign_in_by_device: bool = True,
    invite: InviteLink | None = None,
    reset_token: str = "",
) -> AronaApp:
    """The app as ``aronanet chat --config-dir`` builds it, with half-block images, UTC, a
    fast reconnect backoff, and opened images recorded in ``viewer`` instead of launched.

    With ``gate``, every connection waits until the event is set: a test clears it to hold
    the app offline while it changes things on the node, then sets it to let it reconnect.
    The settings come from ``config_dir`` as on the command line: a second app with the same
    directory signs in with the device by itself.
    """
    paths = ClientPaths.at(config_dir)
    opened = viewer if viewer is not None else []
    connector = make_connector(paths)
    return AronaApp(
        connector if gate is None else _gated(connector, gate),
        settings=startup_settings(config_dir, node.address, user),
        config_dir=config_dir,
        forget_key=KnownNodes(paths.known_nodes).forget,
        tz=dt.UTC,
        backoff=FAST_BACKOFF,
        cache_dir=image_cache_dir(config_dir),
        save_dir=config_dir / "saved",
        renderer="halfcell",
        viewer=opened.append,
        failed_upload_linger=failed_upload_linger,
        sign_in_by_device=sign_in_by_device,
        invite=invite,
        reset_token=reset_token,
    )


async def type_line(pilot: Pilot[int], line: str) -> None:
    await pilot.press(*line, "enter")


async def register(pilot: Pilot[int]) -> None:
    """Create the account from the login screen, trusting the node on first use."""
    await pilot.click("#to-register")
    await pilot.pause()
    screen = pilot.app.screen
    screen.query_one("#password").value = PASSWORD  # type: ignore[attr-defined]
    screen.query_one("#confirm").value = PASSWORD  # type: ignore[attr-defined]
    await pilot.click("#submit")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TrustScreen))
    await pilot.press("y")
    await wait_for(pilot, lambda: isinstance(pilot.app.focused, ChatInput))


async def join(pilot: Pilot[int], app: AronaApp, channel: str) -> None:
    await type_line(pilot, f"/join {channel}")
    await wait_for(pilot, lambda: app.state.active == channel and bool(app.state.current.members))


def rendered_text(app: AronaApp) -> str:
    log = app.screen.query_one(MessageLog)
    return "\n".join(log.render_line(y).text for y in range(log.size.height))


def notes(app: AronaApp) -> list[str]:
    """Arona's lines in the active buffer, oldest first."""
    return [line.text for line in app.state.current.lines if line.kind in ("info", "error")]


def _gated(connector: Connector, gate: asyncio.Event) -> Connector:
    async def connect(address: str, trust_new: TrustCallback | None) -> ArtpClient:
        await gate.wait()
        return await connector(address, trust_new)

    return connect
