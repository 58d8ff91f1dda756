"""ArTP/1.1 ``moderation`` (§14.16-14.19): channel roles, kicks, bans, mutes, modes,
invitations and blocks (the node admins' ACCOUNT and AUDIT are ``node_admin``).

Who may do what is decided here, once (``Standing``): a node admin outranks everyone;
then a channel's owner, its operators, voiced members, members, and non-members. Each
refusal has its own code (``NOT_OPERATOR``, ``NOT_OWNER``, ``NOT_ADMIN``...). The store
makes each change with its audit entry in one transaction; then the caches (membership in
``Channels``, roles/modes/mutes in ``ModerationState``) follow, on every node through the
change feed, and the ``MODERATION`` event goes to the channel's ``moderation`` sessions
(members and the target). A member removed by KICK or BAN is also a membership change every
client understands: right after the ``MODERATION`` event, everyone (the removed user too)
gets the 1.0 ``PART`` with ``from`` = the removed user, so a client that tracks members
needs nothing new, and one with ``moderation`` can tell why.

The hot path (``MSG``) asks only the cache: ``ModerationState.of`` loads a channel's
state once and keeps it until a change (here or on another node) drops it.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
from msgspec import UNSET, UnsetType

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto import codec
from aronanet.proto.features import MODERATION
from aronanet.proto.messages import Ok, PartEvent
from aronanet.proto.moderation import (
    Ban,
    BanInfo,
    Block,
    Blocks,
    ChannelInfoRequest,
    Invite,
    Kick,
    MemberRole,
    ModerationEvent,
    Modes,
    Mute,
    SetMode,
    SetRole,
    Unban,
)
from aronanet.server.broker.base import Delivery
from aronanet.server.channels import Channel
from aronanet.server.logs import log_event
from aronanet.server.store.moderation_rows import RANK, AuditRecord, ChannelModeration
from aronanet.server.store.rows import user_key

if TYPE_CHECKING:  # the handlers module builds on this one (JOIN, TOPIC)
    from aronanet.server.handlers import HandlerTable, RequestContext

logger = logging.getLogger(__name__)

#: A node admin's rank: above a channel's owner. A non-member's: below a member.
ADMIN_RANK = 4
OUTSIDER_RANK = -1


@dataclass(frozen=True, slots=True)
class Standing:
    """The requester in one channel: its cached state, their rank and role."""

    channel: Channel | None
    name: str
    state: ChannelModeration
    rank: int
    role: str


async def standing(ctx: RequestContext, name: str) -> Standing:
    services, user = ctx.services, ctx.user
    channel = services.channels.get(name)
    if channel is None and services.channels.shared:
        channel = await services.channels.confirm_member_channel(
            name, user
        ) or services.channels.get(name)
    state = await services.moderation.of(name)
    member = channel is not None and channel.has_member(user)
    role = state.role_of(user_key(user)) if member else "none"
    rank = RANK.get(role, OUTSIDER_RANK)
    if await services.moderation.is_admin(user):
        rank = ADMIN_RANK
    return Standing(channel, name, state, rank, role)


def require_channel(found: Standing) -> Channel:
    """The channel must exist (a node admin outranks a channel that is not there)."""
    if found.channel is None:
        raise RequestError(ErrorCode.NOT_IN_CHANNEL, f"there is no channel {found.name}")
    return found.channel


async def operator_standing(ctx: RequestContext, name: str) -> Standing:
    """The requester's standing in ``name``, which must be operator or above
    (``NOT_OPERATOR``). A refusal is made only once every change other nodes made before
    now is applied here: a role given through another node counts at once."""
    found = await standing(ctx, name)
    if found.rank < RANK["operator"]:
        await ctx.services.moderation.caught_up()
        found = await standing(ctx, name)
        if found.rank < RANK["operator"]:
            raise RequestError(
                ErrorCode.NOT_OPERATOR, f"only operators of {found.name} may do that"
            )
    return found


def protect_owner(found: Standing, target: str) -> None:
    """Nobody but a node admin changes or removes a channel's owner."""
    if found.state.role_of(user_key(target)) == "owner" and found.rank < ADMIN_RANK:
        raise RequestError(
            ErrorCode.NOT_OWNER, f"{target} owns {found.name}: nobody may change that"
        )


async def target_user(ctx: RequestContext, name: str) -> str:
    found = await ctx.services.accounts.canonical_name(name)
    if found is None:
        raise RequestError(ErrorCode.NO_SUCH_USER, f"there is no user {name}")
    return found


def require_member(found: Standing, target: str) -> Channel:
    channel = found.channel
    if channel is None or not channel.has_member(target):
        raise RequestError(ErrorCode.NOT_IN_CHANNEL, f"{target} is not a member of {found.name}")
    return channel


def record(ctx: RequestContext, action: str, **fields: str | None) -> AuditRecord:
    return AuditRecord(at=ctx.services.now(), by=ctx.user, action=action, **fields)


def announce(ctx: RequestContext, channel: str, target: str | None, event: ModerationEvent) -> None:
    """The ``MODERATION`` event to the channel's members and the target (their every
    session, the requesting one aside), on every node; ``moderation`` sessions only."""
    found = ctx.services.channels.get(channel)
    keys = list(found.member_keys()) if found is not None else []
    if target is not None:
        keys.append(user_key(target))
    keys.append(user_key(ctx.user))
    ctx.services.router.publish(
        Delivery(
            tuple(dict.fromkeys(keys)), codec.encode(event), ctx.session.id, feature=MODERATION
        )
    )


def event(ctx: RequestContext, action: str, channel: str, **fields: object) -> ModerationEvent:
    services = ctx.services
    return ModerationEvent(
        id=services.ids.next(),
        action=action,  # type: ignore[arg-type]
        channel=channel,
        by=ctx.user,
        timestamp=services.now(),
        **fields,  # type: ignore[arg-type]
    )


def modes_of(state: ChannelModeration) -> Modes:
    return Modes(
        invite_only=state.invite_only, moderated=state.moderated, topic_locked=state.topic_locked
    )


# ---------------------------------------------------------------- JOIN, MSG, TOPIC hooks


async def admit(ctx: RequestContext, name: str) -> None:
    """§14.17 JOIN: ``BANNED`` for a banned user, ``INVITE_ONLY`` without an invitation
    (node admins need none)."""
    services = ctx.services
    admin = await services.moderation.is_admin(ctx.user)
    refusal = await services.store.admission(name, user_key(ctx.user), admin)
    if refusal == "banned":
        raise RequestError(ErrorCode.BANNED, f"you are banned from {name}")
    if refusal == "invite_only":
        raise RequestError(
            ErrorCode.INVITE_ONLY, f"{name} is invite-only: ask a member to invite you"
        )


async def joined(ctx: RequestContext, name: str) -> tuple[str, Modes]:
    """After a JOIN: the user's role (the creator of a new channel owns it) and the modes."""
    services = ctx.services
    role = await services.store.joined(name, user_key(ctx.user))
    state = (
        await services.moderation.changed(name)
        if role == "owner"
        else await services.moderation.of(name)
    )
    return state.role_of(user_key(ctx.user)), modes_of(state)


async def check_may_post(ctx: RequestContext, dest_type: str, dest: str) -> None:
    """§14.18 MSG: ``MUTED`` while muted; in a moderated channel ``NOT_VOICED`` unless
    voiced or above; §14.19 a DM to someone who blocked the sender: ``BLOCKED``.

    A refusal is made only once every change other nodes made before now is applied here
    (``ModerationState.caught_up``): an unmute, a voice or an unblock made through another
    node, whose requester already heard ``OK``, is in force here too."""
    moderation, key = ctx.services.moderation, user_key(ctx.user)
    if dest_type == "user":
        if await moderation.blocks(user_key(dest), key):
            await moderation.caught_up()
            if await moderation.blocks(user_key(dest), key):
                raise RequestError(ErrorCode.BLOCKED, f"{dest} does not accept your messages")
        return
    state = await moderation.of(dest)
    if may_post_freely(ctx, state):
        return
    if state.muted_until(key, ctx.services.now()) is None and await moderation.is_admin(ctx.user):
        return  # a node admin, unvoiced in a moderated channel: no refusal, no round trip
    await moderation.caught_up()
    state = await moderation.of(dest)
    check_not_muted(ctx, state, dest)
    if needs_voice(state, key) and not await moderation.is_admin(ctx.user):
        raise RequestError(
            ErrorCode.NOT_VOICED, f"{dest} is moderated: only voiced members may post"
        )


def may_post_freely(ctx: RequestContext, state: ChannelModeration) -> bool:
    """§14.18 from a channel's moderation ``state``, without I/O (the ``MSG`` hot path asks
    this first when the state is cached): not muted, and voiced if the channel is moderated."""
    key = user_key(ctx.user)
    return state.muted_until(key, ctx.services.now()) is None and not needs_voice(state, key)


def check_not_muted(ctx: RequestContext, state: ChannelModeration, dest: str) -> None:
    """§14.18: ``MUTED`` while muted, with when it ends."""
    now = ctx.services.now()
    until = state.muted_until(user_key(ctx.user), now)
    if until is not None:
        raise RequestError(
            ErrorCode.MUTED,
            f"you are muted in {dest} for {until - now} s more",
            until=until,
        )


def needs_voice(state: ChannelModeration, key: str) -> bool:
    """Moderated, and the user (``key``) is not voiced or above: only a node admin may post."""
    return state.moderated and RANK.get(state.role_of(key), 0) < RANK["voiced"]


async def check_may_set_topic(ctx: RequestContext, name: str) -> None:
    state = await ctx.services.moderation.of(name)
    if state.topic_locked:
        await operator_standing(ctx, name)


async def may_delete_any(ctx: RequestContext, dest_type: str, dest: str) -> bool:
    """§14.18: a channel's operators (and node admins) may delete anyone's message in it."""
    if dest_type != "channel":
        return False
    return (await standing(ctx, dest)).rank >= RANK["operator"]


# ---------------------------------------------------------------- requests


async def handle_channel_info(ctx: RequestContext, request: ChannelInfoRequest) -> Ok:
    """§14.16 CHANNEL_INFO: topic, modes, members with roles; bans for operators. The roster
    is in user-key order; one that does not fit a message goes on from the ``next`` cursor
    (the last key sent), and bans come with the first page only, to leave the rest room."""
    found = await standing(ctx, request.channel)
    channel = found.channel
    hidden = found.state.invite_only and found.rank == OUTSIDER_RANK
    if channel is None or hidden:
        raise RequestError(ErrorCode.NOT_IN_CHANNEL, f"you are not a member of {request.channel}")
    after = _roster_cursor(request.cursor)
    members = sorted(item for item in channel.members.items() if after is None or item[0] > after)
    now = ctx.services.now()
    roster = [
        MemberRole(
            user=name,
            role=found.state.role_of(key),
            muted_until=found.state.muted_until(key, now) or UNSET,
        )
        for key, name in members[:_ROSTER_PAGE_MOST]
    ]
    fields: dict[str, object] = {
        "channel": channel.name,
        "topic": channel.topic,
        "modes": modes_of(found.state),
        "role": found.role if found.role != "none" else UNSET,
        "member_count": len(channel.members),
    }
    if found.rank >= RANK["operator"] and after is None:
        fields.update(await _bans_fitting(ctx, channel.name))
    # The envelope is measured with the longest cursor there can be, so `next` always fits.
    page = ctx.ok_fitting("roster", roster, next=_LONGEST_ROSTER_CURSOR, **fields)
    kept = len(page.roster) if isinstance(page.roster, list) else 0
    if kept < len(members) and kept:
        return msgspec.structs.replace(page, next=members[kept - 1][0])
    return msgspec.structs.replace(page, next=UNSET)


async def _bans_fitting(ctx: RequestContext, channel: str) -> dict[str, object]:
    """``bans`` (oldest first) and ``ban_count``: the newest bans that fit half a message,
    so that the reply is always sent and the roster keeps the other half."""
    from aronanet.server.handlers import fitting_count  # handlers builds on this module

    bans = [
        BanInfo(user=b.user, by=b.by, reason=b.reason, at=b.at)
        for b in await ctx.services.store.bans(channel)
    ]
    kept = fitting_count(reversed(bans), ctx.session.conn.max_plaintext // 2)
    return {"bans": bans[len(bans) - kept :], "ban_count": len(bans)}


#: Members built into a page before it is trimmed to fit: more than one message can hold
#: (each takes at least ~30 bytes), so a big channel's page costs no more than a small one's.
_ROSTER_PAGE_MOST = 4096
#: A roster cursor is the user key of the last member sent (a user name in lower case).
_ROSTER_CURSOR = re.compile(r"\A[a-z0-9_-]{1,32}\Z")
_LONGEST_ROSTER_CURSOR = "x" * 32


def _roster_cursor(cursor: str | UnsetType) -> str | None:
    if isinstance(cursor, UnsetType):
        return None
    if not _ROSTER_CURSOR.match(cursor):
        raise RequestError(ErrorCode.INVALID, f"cursor {cursor[:64]!r} was not given by this node")
    return cursor


async def handle_role(ctx: RequestContext, request: SetRole) -> Ok:
    """§14.16 ROLE: operators grant or take ``operator`` and ``voiced``; nobody but a node
    admin changes the owner."""
    found = await operator_standing(ctx, request.channel)
    if request.role == "owner" and found.rank < ADMIN_RANK:
        raise RequestError(ErrorCode.NOT_ADMIN, "only the node's admins may name an owner")
    target = await target_user(ctx, request.user)
    require_member(found, target)
    protect_owner(found, target)
    await ctx.services.store.set_role(
        request.channel,
        user_key(target),
        request.role,
        record(ctx, f"role:{request.role}", user=target, channel=request.channel),
    )
    await ctx.services.moderation.changed(request.channel)
    announce(
        ctx,
        request.channel,
        target,
        event(ctx, "role", request.channel, user=target, role=request.role),
    )
    return ctx.ok(channel=request.channel, user=target, role=request.role)


async def _remove(ctx: RequestContext, request: Kick | Ban, ban: bool) -> Ok:
    services = ctx.services
    found = await operator_standing(ctx, request.channel)
    require_channel(found)
    target = await target_user(ctx, request.user)
    if not ban:
        require_member(found, target)
    protect_owner(found, target)
    action = "ban" if ban else "kick"
    now = services.now()
    was_member = await services.store.remove_member(
        request.channel,
        user_key(target),
        record(ctx, action, user=target, channel=request.channel, reason=request.reason or None),
        (target, ctx.user, request.reason, now) if ban else None,
    )
    announce(
        ctx,
        request.channel,
        target,
        event(ctx, action, request.channel, user=target, reason=request.reason),
    )
    if was_member:  # the membership change every client understands, after the why
        channel = services.channels.removed(request.channel, target)
        keys = (*(channel.member_keys() if channel else ()), user_key(target))
        part = PartEvent(
            id=services.ids.next(), from_=target, channel=request.channel, timestamp=now
        )
        services.router.deliver(keys, codec.encode(part), None)  # the moderator's too
    await services.moderation.changed(request.channel)
    log_event(logger, "moderated", action=action, channel=request.channel)
    return ctx.ok(channel=request.channel, user=target)


async def handle_kick(ctx: RequestContext, request: Kick) -> Ok:
    """§14.18 KICK: the member is removed (they may JOIN again)."""
    return await _remove(ctx, request, ban=False)


async def handle_ban(ctx: RequestContext, request: Ban) -> Ok:
    """§14.18 BAN: removed now and refused (``BANNED``) until UNBAN."""
    return await _remove(ctx, request, ban=True)


async def handle_unban(ctx: RequestContext, request: Unban) -> Ok:
    await operator_standing(ctx, request.channel)
    target = await target_user(ctx, request.user)
    audit = record(ctx, "unban", user=target, channel=request.channel)
    if not await ctx.services.store.unban(request.channel, user_key(target), audit):
        raise RequestError(ErrorCode.NOT_FOUND, f"{target} is not banned from {request.channel}")
    announce(ctx, request.channel, target, event(ctx, "unban", request.channel, user=target))
    return ctx.ok(channel=request.channel, user=target)


async def handle_mute(ctx: RequestContext, request: Mute) -> Ok:
    """§14.18 MUTE ``seconds`` (0 lifts it): a muted member's MSG is ``MUTED``."""
    services = ctx.services
    found = await operator_standing(ctx, request.channel)
    target = await target_user(ctx, request.user)
    require_member(found, target)
    protect_owner(found, target)
    # Rounded up to the next whole second: ``until`` is in whole seconds and a mute ends
    # once ``now()`` (rounded down) reaches it, so it lasts at least ``seconds``.
    until = math.ceil(services.wall_clock() + request.seconds) if request.seconds else None
    action = "mute" if until else "unmute"
    audit = record(ctx, action, user=target, channel=request.channel, reason=request.reason or None)
    await services.store.mute(request.channel, user_key(target), until, audit)
    await services.moderation.changed(request.channel)
    announce(
        ctx,
        request.channel,
        target,
        event(
            ctx, action, request.channel, user=target, reason=request.reason, until=until or UNSET
        ),
    )
    return ctx.ok(channel=request.channel, user=target, until=until or UNSET)


async def handle_mode(ctx: RequestContext, request: SetMode) -> Ok:
    """§14.17 MODE: only the modes given change."""
    found = await operator_standing(ctx, request.channel)
    require_channel(found)
    given = {
        name: value
        for name in ("invite_only", "moderated", "topic_locked")
        if isinstance(value := getattr(request, name), bool)
    }
    reason = ",".join(f"{name}={'on' if value else 'off'}" for name, value in given.items())
    await ctx.services.store.set_modes(
        request.channel, given, record(ctx, "mode", channel=request.channel, reason=reason or None)
    )
    state = await ctx.services.moderation.changed(request.channel)
    modes = modes_of(state)
    announce(ctx, request.channel, None, event(ctx, "mode", request.channel, modes=modes))
    return ctx.ok(channel=request.channel, modes=modes)


async def handle_invite(ctx: RequestContext, request: Invite) -> Ok:
    """§14.17 INVITE: any member lets an account JOIN once (invite-only channels)."""
    services = ctx.services
    found = await standing(ctx, request.channel)
    if found.rank == OUTSIDER_RANK:
        raise RequestError(ErrorCode.NOT_IN_CHANNEL, f"you are not a member of {request.channel}")
    require_channel(found)
    target = await target_user(ctx, request.user)
    if await services.store.is_banned(request.channel, user_key(target)):
        raise RequestError(ErrorCode.BANNED, f"{target} is banned from {request.channel}")
    audit = record(ctx, "invite", user=target, channel=request.channel)
    await services.store.invite(request.channel, user_key(target), ctx.user, services.now(), audit)
    announce(ctx, request.channel, target, event(ctx, "invite", request.channel, user=target))
    return ctx.ok(channel=request.channel, user=target)


async def handle_block(ctx: RequestContext, request: Block) -> Ok:
    """§14.19 BLOCK: the blocked user's DMs to the blocker are refused (``BLOCKED``)."""
    services = ctx.services
    target = await target_user(ctx, request.user)
    await services.store.set_block(
        user_key(ctx.user), user_key(target), target, request.blocked, services.now()
    )
    await services.moderation.blocks_changed(user_key(ctx.user))
    return ctx.ok(user=target, blocked=request.blocked)


async def handle_blocks(ctx: RequestContext, request: Blocks) -> Ok:
    names = await ctx.services.store.blocks(user_key(ctx.user))
    return ctx.ok_fitting("blocks", names)


def register_moderation_handlers(table: HandlerTable) -> None:
    table.register(ChannelInfoRequest, handle_channel_info, rate_limited=True)
    table.register(SetRole, handle_role, rate_limited=True)
    table.register(Kick, handle_kick, rate_limited=True)
    table.register(Ban, handle_ban, rate_limited=True)
    table.register(Unban, handle_unban, rate_limited=True)
    table.register(Mute, handle_mute, rate_limited=True)
    table.register(SetMode, handle_mode, rate_limited=True)
    table.register(Invite, handle_invite, rate_limited=True)
    table.register(Block, handle_block, rate_limited=True)
    table.register(Blocks, handle_blocks, rate_limited=True)
