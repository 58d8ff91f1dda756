"""ArTP/1.1 ``moderation`` (§14.16-14.21) against a real node (or community): the permission
matrix (every moderation request from every standing, with its exact code), bans across
reconnects, what a kicked 1.0 client sees, modes, mutes, blocks, admins, invitations."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from aronanet.proto.lifecycle import Delete
from aronanet.proto.messages import (
    Auth,
    Error,
    History,
    Join,
    ListChannels,
    Ok,
    Part,
    PartEvent,
    SendMsg,
    Topic,
)
from aronanet.proto.moderation import (
    AccountRequest,
    Audit,
    Ban,
    Block,
    Blocks,
    ChannelInfoRequest,
    Invite,
    Kick,
    ModerationEvent,
    Mute,
    SetMode,
    SetRole,
    Unban,
)

from .driver import PASSWORD, TestClient
from .sync_support import Serve, Served, auth, fresh_user

MODERATION = ("moderation", "sync", "lifecycle")
ADMIN = fresh_user("admin")


@pytest.fixture(scope="module")
def node(serve: Serve) -> Iterator[Served]:
    with serve("moderation", flags=("--admins", ADMIN)) as running:
        yield running


@dataclass
class Cast:
    """A fresh channel and one session per standing in it."""

    channel: str
    names: dict[str, str]
    clients: dict[str, TestClient]

    def __getitem__(self, who: str) -> TestClient:
        return self.clients[who]


STANDINGS = ("owner", "operator", "member", "banned", "muted", "outsider", "admin")


async def cast(node: Served, session, *, old_member: bool = False) -> Cast:  # type: ignore[no-untyped-def]
    channel = f"#{fresh_user('m').lower()}"
    names = {who: fresh_user(who[:3]) for who in STANDINGS if who != "admin"}
    names["admin"] = ADMIN
    clients: dict[str, TestClient] = {}
    for who in STANDINGS:
        register = who != "admin" or node.data_dir not in _admin_registered
        clients[who] = await session(node, names[who], register=register, features=MODERATION)
        if who == "admin":
            _admin_registered.add(node.data_dir)
    owner = clients["owner"]
    joined = await owner.ok(Join(channel=channel))
    assert joined.role == "owner"
    for who in ("operator", "member", "banned", "muted"):
        await clients[who].ok(Join(channel=channel))
    await owner.ok(SetRole(channel=channel, user=names["operator"], role="operator"))
    await owner.ok(Ban(channel=channel, user=names["banned"], reason="spam"))
    await owner.ok(Mute(channel=channel, user=names["muted"], seconds=600))
    return Cast(channel, names, clients)


#: The nodes (data directory) on which ADMIN registered: each mode has its own store.
_admin_registered: set[Path] = set()


async def moderation_event(client: TestClient, action: str) -> ModerationEvent:
    """The next MODERATION event of ``action`` (earlier ones, from setting the cast up,
    are skipped)."""
    while True:
        event = await client.next_event_of(ModerationEvent)
        if event.action == action:
            return event  # type: ignore[no-any-return]


async def code_of(client: TestClient, request: msgspec.Struct) -> str:
    reply = await client.request(request)
    return "OK" if isinstance(reply, Ok) else str(reply.code)


# ------------------------------------------------------------------ the permission matrix

#: (request builder, expected code per standing). The target is always the plain member,
#: except where the owner is the target (then operators get NOT_OWNER).
MATRIX: list[tuple[str, dict[str, str]]] = [
    ("kick member", {"owner": "OK", "operator": "OK", "member": "NOT_OPERATOR",
                     "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR",
                     "outsider": "NOT_OPERATOR", "admin": "OK"}),
    ("kick owner", {"owner": "NOT_OWNER", "operator": "NOT_OWNER", "member": "NOT_OPERATOR",
                    "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR",
                    "outsider": "NOT_OPERATOR", "admin": "OK"}),
    ("ban member", {"owner": "OK", "operator": "OK", "member": "NOT_OPERATOR",
                    "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR",
                    "outsider": "NOT_OPERATOR", "admin": "OK"}),
    ("unban banned", {"owner": "OK", "operator": "OK", "member": "NOT_OPERATOR",
                      "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR",
                      "outsider": "NOT_OPERATOR", "admin": "OK"}),
    ("mute member", {"owner": "OK", "operator": "OK", "member": "NOT_OPERATOR",
                     "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR",
                     "outsider": "NOT_OPERATOR", "admin": "OK"}),
    ("voice member", {"owner": "OK", "operator": "OK", "member": "NOT_OPERATOR",
                      "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR",
                      "outsider": "NOT_OPERATOR", "admin": "OK"}),
    ("demote owner", {"owner": "NOT_OWNER", "operator": "NOT_OWNER", "member": "NOT_OPERATOR",
                      "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR",
                      "outsider": "NOT_OPERATOR", "admin": "OK"}),
    ("name owner", {"owner": "NOT_ADMIN", "operator": "NOT_ADMIN", "member": "NOT_OPERATOR",
                    "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR",
                    "outsider": "NOT_OPERATOR", "admin": "OK"}),
    ("mode", {"owner": "OK", "operator": "OK", "member": "NOT_OPERATOR",
              "banned": "NOT_OPERATOR", "muted": "NOT_OPERATOR", "outsider": "NOT_OPERATOR",
              "admin": "OK"}),
    ("invite", {"owner": "OK", "operator": "OK", "member": "OK", "banned": "NOT_IN_CHANNEL",
                "muted": "OK", "outsider": "NOT_IN_CHANNEL", "admin": "OK"}),
    ("post", {"owner": "OK", "operator": "OK", "member": "OK", "banned": "BANNED",
              "muted": "MUTED", "outsider": "NOT_IN_CHANNEL", "admin": "NOT_IN_CHANNEL"}),
    ("history", {"owner": "OK", "operator": "OK", "member": "OK", "banned": "BANNED",
                 "muted": "OK", "outsider": "NOT_IN_CHANNEL", "admin": "NOT_IN_CHANNEL"}),
    ("join", {"owner": "OK", "operator": "OK", "member": "OK", "banned": "BANNED",
              "muted": "OK", "outsider": "OK", "admin": "OK"}),
    ("account", {"owner": "NOT_ADMIN", "operator": "NOT_ADMIN", "member": "NOT_ADMIN",
                 "banned": "NOT_ADMIN", "muted": "NOT_ADMIN", "outsider": "NOT_ADMIN",
                 "admin": "OK"}),
    ("audit", {"owner": "NOT_ADMIN", "operator": "NOT_ADMIN", "member": "NOT_ADMIN",
               "banned": "NOT_ADMIN", "muted": "NOT_ADMIN", "outsider": "NOT_ADMIN",
               "admin": "OK"}),
]  # fmt: skip


def build(action: str, c: Cast) -> msgspec.Struct:
    channel, names = c.channel, c.names
    member, owner = names["member"], names["owner"]
    return {
        "kick member": lambda: Kick(channel=channel, user=member),
        "kick owner": lambda: Kick(channel=channel, user=owner),
        "ban member": lambda: Ban(channel=channel, user=member),
        "unban banned": lambda: Unban(channel=channel, user=names["banned"]),
        "mute member": lambda: Mute(channel=channel, user=member, seconds=5),
        "voice member": lambda: SetRole(channel=channel, user=member, role="voiced"),
        "demote owner": lambda: SetRole(channel=channel, user=owner, role="member"),
        "name owner": lambda: SetRole(channel=channel, user=member, role="owner"),
        "mode": lambda: SetMode(channel=channel, moderated=False),
        "invite": lambda: Invite(channel=channel, user=names["outsider"]),
        "post": lambda: SendMsg(dest_type="channel", dest=channel, content="hi"),
        "history": lambda: History(dest_type="channel", dest=channel),
        "join": lambda: Join(channel=channel),
        "account": lambda: AccountRequest(user=names["outsider"], disabled=False),
        "audit": lambda: Audit(limit=5),
    }[action]()


@pytest.mark.parametrize(("action", "expected"), MATRIX, ids=[row[0] for row in MATRIX])
async def test_permission_matrix(
    node: Served, session, action: str, expected: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    # A fresh cast for each standing (one request changes things), set up side by side.
    first = await cast(node, session)  # alone: it may register the admin
    casts = [first, *await asyncio.gather(*(cast(node, session) for _ in STANDINGS[1:]))]
    found = {}
    for who, c in zip(STANDINGS, casts, strict=True):
        found[who] = await code_of(c[who], build(action, c))
    assert found == expected


# ------------------------------------------------------------------ effects


async def test_a_ban_holds_across_reconnects_and_unban_lifts_it(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    again = await session(node, c.names["banned"], features=())
    assert await code_of(again, Join(channel=c.channel)) == "BANNED"
    assert await code_of(again, History(dest_type="channel", dest=c.channel)) == "BANNED"
    info = await c["operator"].ok(ChannelInfoRequest(channel=c.channel))
    assert [(b.user, b.reason) for b in info.bans] == [(c.names["banned"], "spam")]
    await c["owner"].ok(Unban(channel=c.channel, user=c.names["banned"]))
    await again.ok(Join(channel=c.channel))


async def test_a_kicked_client_sees_part_and_moderation_clients_see_why_first(
    node: Served, session
) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    old = await session(node, c.names["member"], features=())  # a 1.0 session of the member
    await c["owner"].ok(Kick(channel=c.channel, user=c.names["member"], reason="calm down"))
    part = await old.next_event_of(PartEvent)
    assert (part.from_, part.channel) == (c.names["member"], c.channel)
    seen = await moderation_event(c["member"], "kick")
    assert (seen.action, seen.user, seen.by, seen.reason) == (
        "kick",
        c.names["member"],
        c.names["owner"],
        "calm down",
    )
    await moderation_event(c["operator"], "kick")  # the why, then the membership change:
    for client in (c["operator"], c["member"], c["owner"]):  # PART for everyone
        while (part := await client.next_event_of(PartEvent)).from_ != c.names["member"]:
            assert part.from_ == c.names["banned"]  # the cast's own ban came first
        assert part.channel == c.channel
    assert await code_of(old, SendMsg(dest_type="channel", dest=c.channel, content="x")) == (
        "NOT_IN_CHANNEL"
    )
    await old.ok(Join(channel=c.channel))  # a kick is not a ban


async def test_modes(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    reply = await c["operator"].ok(
        SetMode(channel=c.channel, invite_only=True, moderated=True, topic_locked=True)
    )
    assert (reply.modes.invite_only, reply.modes.moderated, reply.modes.topic_locked) == (
        True,
        True,
        True,
    )
    outsider = c["outsider"]
    listed = await outsider.ok(ListChannels())
    assert c.channel not in [entry.name for entry in listed.channel_list]
    listed = await c["member"].ok(ListChannels())
    assert c.channel in [entry.name for entry in listed.channel_list]
    assert await code_of(outsider, Join(channel=c.channel)) == "INVITE_ONLY"
    assert await code_of(outsider, ChannelInfoRequest(channel=c.channel)) == "NOT_IN_CHANNEL"
    await c["member"].ok(Invite(channel=c.channel, user=c.names["outsider"]))
    invited = await moderation_event(outsider, "invite")
    assert invited.channel == c.channel
    joined = await outsider.ok(Join(channel=c.channel))
    assert joined.role == "member" and joined.modes.invite_only
    again = await outsider.ok(Join(channel=c.channel))  # already a member: no invitation needed
    assert again.role == "member"
    say = SendMsg(dest_type="channel", dest=c.channel, content="hello")
    assert await code_of(c["member"], say) == "NOT_VOICED"
    assert await code_of(c["member"], Topic(channel=c.channel, topic="x")) == "NOT_OPERATOR"
    await c["operator"].ok(Topic(channel=c.channel, topic="locked"))
    await c["operator"].ok(SetRole(channel=c.channel, user=c.names["member"], role="voiced"))
    await c["member"].ok(say)
    info = await c["member"].ok(ChannelInfoRequest(channel=c.channel))
    roles = {m.user: m.role for m in info.roster}
    assert roles[c.names["owner"]] == "owner" and roles[c.names["operator"]] == "operator"
    assert roles[c.names["member"]] == "voiced" and info.bans is msgspec.UNSET
    assert [
        m.muted_until is not msgspec.UNSET for m in info.roster if m.user == c.names["muted"]
    ] == [True]
    # the invitation was used up: after a PART, the outsider needs a new one
    await outsider.ok(Part(channel=c.channel))
    assert await code_of(outsider, Join(channel=c.channel)) == "INVITE_ONLY"


async def test_an_operator_deletes_anyones_message_a_member_does_not(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    sent = await c["member"].ok(SendMsg(dest_type="channel", dest=c.channel, content="oops"))
    mine = await c["owner"].ok(SendMsg(dest_type="channel", dest=c.channel, content="mine"))
    assert await code_of(c["member"], Delete(msg_id=mine.msg_id)) == "NOT_AUTHOR"
    assert await code_of(c["operator"], Delete(msg_id=sent.msg_id)) == "OK"


async def test_mute_ends_and_unmute(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    say = SendMsg(dest_type="channel", dest=c.channel, content="hello")
    error = await c["muted"].request(say)
    assert error.code == "MUTED" and "muted" in error.message
    assert isinstance(error.until, int) and error.until > time.time()
    asked = time.time()
    muted = await c["operator"].ok(Mute(channel=c.channel, user=c.names["member"], seconds=1))
    # A mute lasts at least its seconds: ``until`` (whole seconds) is rounded up. Rounded
    # down, a 1 s mute asked at x.9 s ended 0.1 s later (seen failing under load).
    assert isinstance(muted.until, int) and muted.until >= asked + 1
    assert await code_of(c["member"], say) == "MUTED"
    await asyncio.sleep(muted.until - time.time() + 0.2)  # it ends once ``until`` is reached
    assert await code_of(c["member"], say) == "OK"
    await c["owner"].ok(Mute(channel=c.channel, user=c.names["muted"], seconds=0))
    assert await code_of(c["muted"], say) == "OK"


async def test_block_refuses_dms(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    me, them = c["member"], c["outsider"]
    await me.ok(Block(user=c.names["outsider"], blocked=True))
    assert (await me.ok(Blocks())).blocks == [c.names["outsider"]]
    dm = SendMsg(dest_type="user", dest=c.names["member"], content="hey")
    assert await code_of(them, dm) == "BLOCKED"
    await me.ok(Block(user=c.names["outsider"], blocked=False))
    assert await code_of(them, dm) == "OK"


async def test_a_disabled_account_is_closed_at_once_and_cannot_log_in(
    node: Served, session
) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    victim = c["member"]
    await c["admin"].ok(AccountRequest(user=c.names["member"], disabled=True))
    await victim.wait_closed()
    again = await session(node, None)
    error = await again.request(_auth(c.names["member"]))
    assert error.code == "ACCOUNT_DISABLED"
    await c["admin"].ok(AccountRequest(user=c.names["member"], disabled=False))
    await session(node, c.names["member"])
    entries = (await c["admin"].ok(Audit(limit=50))).entries
    actions = [(e.action, e.user) for e in entries if e.user == c.names["member"]]
    assert actions[:2] == [("enable", c.names["member"]), ("disable", c.names["member"])]


async def _raw(client: TestClient, request: msgspec.Struct, **changed: object) -> Error:
    """``request`` with fields the typed Struct would refuse, as raw JSON; its ERROR."""
    request_id = client.next_id()
    reply = client.expect_reply(request_id)
    body = {**msgspec.to_builtins(request), **changed, "id": request_id}
    await client.send_plaintext(msgspec.json.encode(body))
    error = await asyncio.wait_for(reply, 10)
    assert isinstance(error, Error)
    return error


def _auth(user: str) -> Auth:
    return auth(user, PASSWORD)


async def test_mute_and_reason_limits_at_their_edge(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    owner, member = c["owner"], c.names["member"]
    longest = Mute(channel=c.channel, user=member, seconds=30 * 24 * 3600, reason="r" * 390)
    assert await code_of(owner, longest) == "OK"
    too_long = await _raw(owner, longest, seconds=30 * 24 * 3600 + 1)
    assert too_long.code == "INVALID" and "seconds" in too_long.message
    wordy = await _raw(owner, longest, reason="r" * 391)
    assert wordy.code == "INVALID" and "reason" in wordy.message
    control = await _raw(owner, longest, reason="bad\nreason")
    assert control.code == "INVALID"
    assert await code_of(owner, Kick(channel=c.channel, user=member)) == "OK"  # still serving


async def test_an_operators_delete_is_audited(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    c = await cast(node, session)
    sent = await c["member"].ok(SendMsg(dest_type="channel", dest=c.channel, content="oops"))
    await c["operator"].ok(Delete(msg_id=sent.msg_id))
    entries = (await c["admin"].ok(Audit(limit=20))).entries
    [entry] = [e for e in entries if e.action == "delete" and e.channel == c.channel]
    assert (entry.by, entry.user, entry.reason) == (
        c.names["operator"],
        c.names["member"],
        f"message {sent.msg_id}",
    )
