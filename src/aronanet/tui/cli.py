"""``aronanet chat [ADDRESS]``: the terminal client's command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aronanet.client.connection import ArtpClient, TrustCallback
from aronanet.client.invite_link import is_invite_link, parse_invite_link
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.identity import load_or_create_key
from aronanet.tui.session import Connector
from aronanet.tui.settings import ChatSettings, load_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="the terminal chat client",
        description="Chat on an AronaNET node from the terminal (Arona will guide you). "
        "After one password login on a node that offers ArTP/1.1 sync, later starts sign in "
        "with this device by themselves; --login or --user NAME shows the login screen, and "
        "/logout in the chat signs this device out.",
    )
    parser.add_argument(
        "address",
        nargs="?",
        help="host[:port], ws(s)://host:port/artp, several addresses of one community "
        "separated by commas (the chat moves to the next when its node dies), or an "
        "invitation link aronanet://HOST:PORT/?fp=SHA256:...&invite=TOKEN "
        "(default: the last node or list you used)",
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="where the device key, known nodes, settings and the image cache live",
    )
    parser.add_argument(
        "--user",
        default=None,
        help="sign in as this user: shows the login screen with the name filled in",
    )
    parser.add_argument(
        "--login",
        action="store_true",
        help="show the login screen even if this device signed in here before "
        "(to sign in as someone else)",
    )
    parser.add_argument(
        "--reset-token",
        default=None,
        metavar="TOKEN",
        help="open the password reset form with this token from `aronanet admin "
        "reset-password` (you choose the new password there)",
    )
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


def startup_settings(config_dir: Path, address: str | None, user: str | None) -> ChatSettings:
    """The saved settings, with the address and user of the command line over them."""
    saved = load_settings(config_dir)
    return ChatSettings(
        address=address or saved.address,
        user=user or saved.user,
        theme=saved.theme,
        devices=saved.devices,
    )


def run(args: argparse.Namespace) -> int:
    from aronanet.tui.app import AronaApp
    from aronanet.tui.images import image_cache_dir
    from aronanet.tui.theme import DARK, LIGHT
    from aronanet.tui.widgets.inline_image import prepare_terminal_graphics

    invite = None
    if args.address and is_invite_link(args.address):
        try:
            invite = parse_invite_link(args.address)
        except ValueError as error:
            print(f"aronanet chat: {error}", file=sys.stderr)
            return 2
    paths = ClientPaths.at(args.config_dir)
    paths.config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    theme = {"light": LIGHT, "dark": DARK}.get(args.theme or "")
    app = AronaApp(
        make_connector(paths),
        settings=startup_settings(
            paths.config_dir, invite.address if invite else args.address, args.user
        ),
        config_dir=paths.config_dir,
        forget_key=KnownNodes(paths.known_nodes).forget,
        theme_name=theme,
        cache_dir=image_cache_dir(args.config_dir and paths.config_dir),
        sign_in_by_device=not (args.login or args.user),
        invite=invite,
        reset_token=args.reset_token or "",
    )
    # textual-image must ask the terminal about Kitty/Sixel support before Textual owns it
    prepare_terminal_graphics()
    return app.run() or 0
