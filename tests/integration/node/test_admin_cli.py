"""``aronanet admin`` beside a running node (or community) (§14.20-14.21): invitations (a
single-use token refused the second time), password resets, disabling an account closes
its sessions within about a second, grants, and the audit log."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator

import pytest

from aronanet.proto.messages import Auth
from aronanet.proto.moderation import Audit
from support.real_node import aronanet_command

from .driver import PASSWORD
from .sync_support import Serve, Served, auth, entry_node, fresh_user


@pytest.fixture(scope="module")
def node(serve: Serve) -> Iterator[Served]:
    with serve("admin", flags=("--registration", "invite")) as running:
        yield running


def admin(node: Served, *args: str) -> str:
    """``aronanet admin`` as the operator runs it, with the node's config (which names the
    store: the community's PostgreSQL in scale mode) and data directory."""
    where = ("--config", str(node.config_path), "--data-dir", str(node.data_dir))
    done = subprocess.run(
        aronanet_command("admin", *where, *args),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def invitation(node: Served, *args: str) -> str:
    address = entry_node(node)
    printed = admin(node, "invite", "--address", address.tcp_address, *args)
    found = re.search(r"aronanet://127\.0\.0\.1:(\d+)/\?fp=SHA256:\S+&invite=([\w-]+)", printed)
    assert found is not None, printed
    assert int(found[1]) == address.port
    assert "█" in printed or "▀" in printed or "▄" in printed  # the QR code
    return found[2]


def register(user: str, invite: str | None = None) -> Auth:
    fields: dict[str, object] = {"user": user, "password": PASSWORD, "register": True}
    if invite is not None:
        fields["invite"] = invite
    return Auth(**fields)  # type: ignore[arg-type]


async def test_an_invitation_registers_once(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    token = invitation(node)
    first, second, third = [await session(node, None) for _ in range(3)]
    closed = await third.request(register(fresh_user("x")))
    assert closed.code == "REGISTRATION_CLOSED"
    await first.ok(register(fresh_user("a"), token))
    again = await second.request(register(fresh_user("b"), token))
    assert again.code == "REGISTRATION_CLOSED" and "invitation" in again.message


async def test_an_invitation_of_two_uses(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    token = invitation(node, "--uses", "2", "--expires", "1h")
    for _ in range(2):
        await (await session(node, None)).ok(register(fresh_user("t"), token))
    refused = await (await session(node, None)).request(register(fresh_user("t"), token))
    assert refused.code == "REGISTRATION_CLOSED"


async def test_disable_closes_sessions_of_a_running_node_and_reset_replaces_the_password(
    node: Served, session
) -> None:  # type: ignore[no-untyped-def]
    name = fresh_user("v")
    client = await session(node, None)
    await client.ok(register(name, invitation(node)))
    await asyncio.to_thread(admin, node, "disable", name)
    await client.wait_closed(timeout=5)
    refused = await (await session(node, None)).request(auth(name, PASSWORD))
    assert refused.code == "ACCOUNT_DISABLED"
    await asyncio.to_thread(admin, node, "enable", name)
    printed = await asyncio.to_thread(admin, node, "reset-password", name)
    token = printed.strip().splitlines()[-1]
    new = "a new password"
    wrong = await (await session(node, None)).request(
        Auth(user=fresh_user("z"), password=new, reset=token)
    )
    assert wrong.code == "AUTH_FAILED"
    await (await session(node, None)).ok(Auth(user=name, password=new, reset=token))
    reused = await (await session(node, None)).request(Auth(user=name, password=new, reset=token))
    assert reused.code == "AUTH_FAILED"
    await (await session(node, None)).ok(auth(name, new))
    old = await (await session(node, None)).request(auth(name, PASSWORD))
    assert old.code == "AUTH_FAILED"


async def test_grant_makes_an_admin_and_everything_is_audited(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    name = fresh_user("g")
    client = await session(node, None)
    await client.ok(register(name, invitation(node)))
    assert (await client.request(Audit())).code == "NOT_ADMIN"
    await asyncio.to_thread(admin, node, "grant", name)
    entries = (await client.ok(Audit(limit=10))).entries
    assert (entries[0].action, entries[0].user, entries[0].by) == ("grant", name, "admin-cli")
    printed = await asyncio.to_thread(admin, node, "audit", "--limit", "3")
    assert f"admin-cli grant {name}" in printed
    await asyncio.to_thread(admin, node, "revoke", name)
    assert (await client.request(Audit())).code == "NOT_ADMIN"
