"""``aronanet chat [ADDRESS]``: the terminal client's command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from aronanet.client.connection import ArtpClient, TrustCallback
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.identity import load_or_create_key
from aronanet.tui.session import Connector


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="the terminal chat client",
        description="Chat on an AronaNET node from the terminal (Arona will guide you).",
    )
    parser.add_argument(
        "address",
        nargs="?",
        help="host[:port] or ws(s)://host:port/artp (default: the last node you used)",
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="where the device key, known nodes, settings and the image cache live",
    )
    parser.add_argument("--user", default=None, help="the user name to prefill")
    parser.add_argument("--theme", choices=("light", "dark"), default=None)
    parser.set_defaults(handler=run)


def make_connector(paths: ClientPaths) -> Connector:
    """Connect with this identity's device key and known-nodes file (trust on first use)."""

    async def connect(address: str, trust_new: TrustCallback | None) -> ArtpClient:
        key = load_or_create_key(paths.device_key)
        known = KnownNodes(paths.known_nodes)
        return await ArtpClient.connect(
            address, device_key=key, known_nodes=known, trust_new=trust_new
        )

    return connect


def run(args: argparse.Namespace) -> int:
    from aronanet.tui.app import AronaApp
    from aronanet.tui.images import image_cache_dir
    from aronanet.tui.settings import ChatSettings, load_settings
    from aronanet.tui.theme import DARK, LIGHT
    from aronanet.tui.widgets.inline_image import prepare_terminal_graphics

    paths = ClientPaths.at(args.config_dir)
    paths.config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    saved = load_settings(paths.config_dir)
    settings = ChatSettings(
        address=args.address or saved.address,
        user=args.user or saved.user,
        theme=saved.theme,
    )
    theme = {"light": LIGHT, "dark": DARK}.get(args.theme or "")
    app = AronaApp(
        make_connector(paths),
        settings=settings,
        config_dir=paths.config_dir,
        forget_key=KnownNodes(paths.known_nodes).forget,
        theme_name=theme,
        cache_dir=image_cache_dir(args.config_dir and paths.config_dir),
    )
    # textual-image must ask the terminal about Kitty/Sixel support before Textual owns it
    prepare_terminal_graphics()
    return app.run() or 0
