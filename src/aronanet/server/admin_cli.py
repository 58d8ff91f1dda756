"""``aronanet admin``: run a community from the node's machine (§14.20-14.21).

Works on the node's store (the data directory's SQLite file, or the configuration's
PostgreSQL URL) and is safe while the node runs: SQLite's locking (WAL, busy timeout) and
PostgreSQL transactions keep each write whole. Every action is written to the audit log,
which running nodes poll once a second as their control feed: a ``disable`` closes the
account's sessions within about a second (``server.node_admin.follow_control_feed``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segno

from aronanet import identity
from aronanet.errors import AronaError
from aronanet.server.accounts import token_hash
from aronanet.server.settings import NodeSettings, SettingsError, from_mapping, normalise, read_toml
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.store.moderation_rows import AuditRecord
from aronanet.server.store.rows import user_key

#: Who the audit log names for what this command did.
CLI_ACTOR = "admin-cli"
#: A password reset token lasts this long.
RESET_SECONDS = 24 * 3600
_DURATION = re.compile(r"\A(\d+)([smhdw])\Z")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

Action = Callable[[ModerationStore, argparse.Namespace, NodeSettings], Awaitable[int]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = subparsers.add_parser(
        "admin",
        help="run a community: admins, invitations, password resets, accounts, audit log",
        description="Change the node's store directly (safe while the node runs).",
    )
    admin.add_argument("--config", type=Path, help="the node's configuration file (TOML)")
    admin.add_argument("--data-dir", type=Path, help="the node's data directory")
    actions = admin.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, helptext in (
        ("grant", "make USER a node admin"),
        ("revoke", "take node admin rights from USER"),
        ("disable", "disable USER's account (their sessions close at once)"),
        ("enable", "enable USER's account again"),
        ("reset-password", "print a one-time password reset token for USER (valid 24 h)"),
    ):
        action = actions.add_parser(name, help=helptext)
        action.add_argument("user", metavar="USER")
    invite = actions.add_parser("invite", help="print a registration invitation and its QR code")
    invite.add_argument("--uses", type=int, default=1, help="registrations it allows (default 1)")
    invite.add_argument("--expires", default="7d", help="lifetime such as 12h, 7d, 2w (default 7d)")
    invite.add_argument("--address", help="HOST:PORT clients reach the node at (default: config)")
    invite.add_argument("--no-qr", action="store_true", help="print the address only")
    audit = actions.add_parser("audit", help="print the audit log, newest first")
    audit.add_argument("--limit", type=int, default=50)
    admin.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(f"aronanet admin: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run(args, settings))


def _settings(args: argparse.Namespace) -> NodeSettings:
    values: dict[str, Any] = normalise(read_toml(args.config)) if args.config else {}
    if args.data_dir is not None:
        values["data_dir"] = str(args.data_dir)
    return from_mapping(values)


async def _run(args: argparse.Namespace, settings: NodeSettings) -> int:
    from aronanet.server.assembly import build_store

    store = build_store(settings)
    await store.open()
    try:
        return await ACTIONS[args.action](store, args, settings)
    finally:
        await store.close()


def _record(action: str, user: str | None = None, reason: str | None = None) -> AuditRecord:
    return AuditRecord(at=int(time.time()), by=CLI_ACTOR, action=action, user=user, reason=reason)


async def _existing(store: ModerationStore, name: str) -> str | None:
    user = await store.get_user(name)
    if user is None:
        print(f"aronanet admin: there is no user {name}", file=sys.stderr)
        return None
    return user.name


async def _grant(store: ModerationStore, args: argparse.Namespace, _: NodeSettings) -> int:
    name = await _existing(store, args.user)
    if name is None:
        return 1
    admin = args.action == "grant"
    await store.set_admin(user_key(name), name, admin, _record(args.action, name))
    print(f"{name} is {'now' if admin else 'no longer'} a node admin")
    return 0


async def _disable(store: ModerationStore, args: argparse.Namespace, _: NodeSettings) -> int:
    name = await _existing(store, args.user)
    if name is None:
        return 1
    disabled = args.action == "disable"
    at = int(time.time()) if disabled else None
    await store.set_disabled(user_key(name), at, _record(args.action, name))
    print(f"{name} is {'disabled' if disabled else 'enabled'}")
    return 0


async def _reset(store: ModerationStore, args: argparse.Namespace, _: NodeSettings) -> int:
    name = await _existing(store, args.user)
    if name is None:
        return 1
    token = secrets.token_urlsafe(32)
    expires = int(time.time()) + RESET_SECONDS
    record = _record("password_reset", name)
    await store.add_token(token_hash(token), "reset", user_key(name), 1, expires, record)
    print(f"password reset token for {name} (valid 24 h, once):\n{token}")
    return 0


async def _invite(store: ModerationStore, args: argparse.Namespace, settings: NodeSettings) -> int:
    seconds = parse_duration(args.expires)
    if seconds is None or args.uses < 1:
        print("aronanet admin: --expires is like 12h, 7d or 2w; --uses at least 1", file=sys.stderr)
        return 2
    token = secrets.token_urlsafe(32)
    expires = int(time.time()) + seconds
    record = _record("registration_invite", reason=f"uses={args.uses},expires={args.expires}")
    await store.add_token(token_hash(token), "invite", None, args.uses, expires, record)
    url = invitation_url(
        args.address or f"{settings.host}:{settings.port}", _fingerprint(settings), token
    )
    print(url)
    if not args.no_qr:
        segno.make(url, error="l").terminal(compact=True)
    return 0


def invitation_url(address: str, fingerprint: str | None, token: str) -> str:
    """``aronanet://HOST:PORT/?fp=SHA256:...&invite=TOKEN`` (§14.21)."""
    query = f"fp={quote(fingerprint, safe=':')}&" if fingerprint else ""
    return f"aronanet://{address}/?{query}invite={token}"


def _fingerprint(settings: NodeSettings) -> str | None:
    try:
        key = identity.load_key(settings.key_path)
    except (OSError, ValueError, AronaError):
        return None
    return identity.fingerprint(identity.public_key_bytes(key))


def parse_duration(text: str) -> int | None:
    found = _DURATION.match(text.strip())
    return None if found is None else int(found[1]) * _UNITS[found[2]]


async def _audit(store: ModerationStore, args: argparse.Namespace, _: NodeSettings) -> int:
    for row in await store.audit(None, max(1, min(args.limit, 1000))):
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row.at))
        where = f" in {row.channel}" if row.channel else ""
        whom = f" {row.user}" if row.user else ""
        why = f": {row.reason}" if row.reason else ""
        print(f"{row.id}\t{when}Z\t{row.by} {row.action}{whom}{where}{why}")
    return 0


ACTIONS: dict[str, Action] = {
    "grant": _grant,
    "revoke": _grant,
    "disable": _disable,
    "enable": _disable,
    "reset-password": _reset,
    "invite": _invite,
    "audit": _audit,
}
