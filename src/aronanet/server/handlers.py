"""Requests to replies: ONE table of handlers, and the one place errors become ``ERROR``.

The dispatcher checks, once for every request: authentication (§3: before ``AUTH`` only
``AUTH``, ``PING`` and ``PONG``), the session's rate limit, then runs the handler. A handler
returns its reply (usually ``ctx.ok(...)``), ``None`` for no reply, or ``Later(awaitable)``
for a reply that must wait without holding up the session's next requests; or
``Later(PendingReply)``, completed by a callback (``MSG``: its group commit's), no task.
Errors, in exactly one place (``error_reply``):

* ``RequestError`` -> one ``ERROR`` with its code, message, extra fields and ``re``;
* any other exception -> logged (type and location only: never content or secrets) and
  answered ``INTERNAL`` with no details (§3: never leak a stack trace).

Other modules add handlers with ``HandlerTable.register``; a module
``aronanet.server.image_handlers`` with ``register_handlers(table)`` is picked up by the node.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from aronanet.config import MAX_PLAINTEXT
from aronanet.errors import ErrorCode, RequestError
from aronanet.proto import codec
from aronanet.proto.codec import Rejection
from aronanet.proto.messages import (
    PRE_AUTH_REQUESTS,
    ChannelInfo,
    Error,
    ImgChunk,
    ImgGet,
    ImgStatus,
    Join,
    JoinEvent,
    ListChannels,
    Ok,
    Part,
    PartEvent,
    Ping,
    Pong,
    PongReply,
    Topic,
    TopicEvent,
)
from aronanet.server import moderation
from aronanet.server.channels import Channel
from aronanet.server.logs import log_event
from aronanet.server.services import Services
from aronanet.server.session import Inbound, Session
from aronanet.server.store.rows import user_key

logger = logging.getLogger(__name__)

Reply = msgspec.Struct | None


@dataclass(slots=True)
class Later:
    """A reply that follows once ``answer`` completes; later requests are handled meanwhile.

    ``answer`` is an awaitable (run as a task), or a ``PendingReply`` that a callback
    completes (no task: ``MSG`` answers from its group commit's callback)."""

    answer: Awaitable[Reply] | PendingReply


Outcome = Reply | Later
Handler = Callable[["RequestContext", Any], Awaitable[Outcome]]


@dataclass(slots=True)
class RequestContext:
    """What a handler gets besides its request: the node's services and the session.
    (``Later`` and this, made per request, are not ``frozen``: see ``NewMessage``.)"""

    services: Services
    session: Session
    request_id: str | UnsetType
    #: The node's loop (``asyncio.get_running_loop`` costs a ``getpid`` system call in
    #: CPython 3.11: its fork check, ~0.2 µs here).
    loop: asyncio.AbstractEventLoop

    @property
    def user(self) -> str:
        """The logged-in user's name (the dispatcher guarantees one outside pre-auth types)."""
        assert self.session.user is not None
        return self.session.user

    def ok(self, **fields: Any) -> Ok:
        """The ``OK`` reply to this request, carrying ``re`` when it had an ``id`` (§3)."""
        return Ok(re=self.request_id, **fields)

    def reply(self, message: msgspec.Struct) -> None:
        """Send one reply now, in order (for streamed replies such as ``IMG_GET``)."""
        self.session.reply(message)

    def broadcast(self, recipients: Iterable[str], event: msgspec.Struct) -> None:
        """Deliver ``event`` to every session of ``recipients`` but the requesting one."""
        self.services.router.deliver(tuple(recipients), codec.encode(event), self.session.id)

    def ok_fitting(self, name: str, items: Sequence[Any], **fields: Any) -> Ok:
        """The ``OK`` with ``fields`` and the longest prefix of ``items`` as list ``name``
        that keeps the reply within one message (§6: every request gets its reply; a
        reply too large to send would be none)."""
        empty = len(codec.encode(self.ok(**fields, **{name: []})))
        kept = fitting_count(items, self.session.conn.max_plaintext - empty)
        return self.ok(**fields, **{name: list(items[:kept])})


class PendingReply:
    """The reply to a request, completed later by a callback with ``ok`` or ``fail``
    (returned as ``Later(pending)``); its place in the session's reply order is kept."""

    __slots__ = ("_ctx", "_request", "future")

    def __init__(self, ctx: RequestContext, request: msgspec.Struct) -> None:
        self.future: asyncio.Future[Reply] = ctx.loop.create_future()
        self._ctx = ctx
        self._request = request

    def ok(self, **fields: Any) -> None:
        """Answer ``OK`` with ``fields``."""
        self.future.set_result(self._ctx.ok(**fields))

    def fail(self, exc: BaseException) -> None:
        """Answer the ``ERROR`` that ``exc`` maps to (``error_reply``)."""
        ctx = self._ctx
        self.future.set_result(error_reply(ctx.services, exc, self._request, ctx.request_id))


def fitting_count(items: Iterable[Any], budget: int) -> int:
    """How many leading ``items`` fit ``budget`` bytes as the elements of a JSON list."""
    used, kept = 0, 0
    for item in items:
        used += len(_json.encode(item)) + 1  # the element and its comma
        if used > budget:
            break
        kept += 1
    return kept


_json = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Entry:
    handler: Handler
    rate_limited: bool


class HandlerTable:
    """Request type -> handler. Built by the node; extended by other modules."""

    def __init__(self) -> None:
        self._entries: dict[type, Entry] = {}

    def register(self, request_type: type, handler: Handler, *, rate_limited: bool = False) -> None:
        """Handle ``request_type`` with ``handler``, replacing any previous one.

        ``rate_limited`` requests spend a token of the session's bucket (§5).
        """
        self._entries[request_type] = Entry(handler, rate_limited)

    def get(self, request_type: type) -> Entry | None:
        return self._entries.get(request_type)

    def types(self) -> frozenset[type]:
        return frozenset(self._entries)


class Dispatcher:
    """Runs each request of a session through the checks, its handler and error mapping."""

    def __init__(self, table: HandlerTable, services: Services) -> None:
        """Built on the loop it serves (the node's ``start``)."""
        self._table = table
        self._services = services
        self._loop = asyncio.get_running_loop()

    async def dispatch(self, session: Session, item: Inbound) -> None:
        if isinstance(item, Rejection):
            # §3: not JSON / not an object / wrong fields -> ERROR, the session stays open.
            self._services.counters.error_sent(item.code)
            session.reply(Error(code=item.code, message=item.message, re=_re(item.re)))
            return
        request_id: str | UnsetType = getattr(item, "id", UNSET)
        try:
            outcome = await self._run(session, item, request_id)
        except Exception as exc:
            session.reply(self._error(exc, item, request_id))
            return
        if isinstance(outcome, Later):
            answer = outcome.answer
            if isinstance(answer, PendingReply):
                session.reply_later(answer.future)
            else:
                session.reply_later(asyncio.ensure_future(self._settle(answer, item, request_id)))
        elif outcome is not None:
            session.reply(outcome)

    async def _run(
        self, session: Session, item: msgspec.Struct, request_id: str | UnsetType
    ) -> Outcome:
        if session.user is None and not isinstance(item, PRE_AUTH_REQUESTS):
            # §3: "Before a successful AUTH, only AUTH and PING are allowed".
            raise RequestError(ErrorCode.NOT_AUTHENTICATED, "log in first with AUTH")
        entry = self._table.get(type(item))
        if entry is None:
            raise RequestError(ErrorCode.UNKNOWN_TYPE, f"this node does not handle {_tag(item)}")
        if entry.rate_limited and session.rate_bucket is not None:
            wait = session.rate_bucket.try_spend()
            shared = self._services.shared_buckets
            if not wait and shared is not None and session.user is not None:
                # Scale-out: the session's budget, and its account's across every node.
                budget = self._services.message_budget
                wait = await shared.take([(budget, user_key(session.user))])
                if wait:  # refused by the account's bucket: the session's token comes back
                    session.rate_bucket.refund()
            if wait:
                # §5: RATE_LIMITED with retry_after_ms; the message is dropped, session stays.
                raise RequestError(
                    ErrorCode.RATE_LIMITED, f"slow down: retry in {wait} ms", retry_after_ms=wait
                )
        ctx = RequestContext(self._services, session, request_id, self._loop)
        return await entry.handler(ctx, item)

    async def _settle(
        self, answer: Awaitable[Reply], item: msgspec.Struct, request_id: str | UnsetType
    ) -> Reply:
        try:
            return await answer
        except Exception as exc:
            return self._error(exc, item, request_id)

    def _error(self, exc: Exception, item: msgspec.Struct, request_id: str | UnsetType) -> Error:
        return error_reply(self._services, exc, item, request_id)


def error_reply(
    services: Services, exc: BaseException, item: msgspec.Struct, request_id: str | UnsetType
) -> Error:
    """The one mapping from an exception to the ``ERROR`` a client sees."""
    code = exc.code if isinstance(exc, RequestError) else ErrorCode.INTERNAL
    services.counters.error_sent(code)
    if isinstance(exc, RequestError):
        extra = {k: v for k, v in exc.extra.items() if k in _ERROR_EXTRA_FIELDS}
        error = Error(code=exc.code, message=exc.message, re=request_id)
        return msgspec.structs.replace(error, **extra) if extra else error
    log_event(
        logger,
        "handler_failed",
        logging.ERROR,
        request=_tag(item),
        error=type(exc).__name__,
        at=_where(exc),
    )
    return Error(code=ErrorCode.INTERNAL, message="internal error", re=request_id)


#: LIST looks at no more channels than could ever fit one reply (the shortest entry,
#: ``{"name":"#a","topic":"","members":0}``, and its comma take 37 bytes), so a page costs
#: the same however many channels exist.
_LIST_PAGE_MAX = MAX_PLAINTEXT // 37 + 1

_ERROR_EXTRA_FIELDS = frozenset(Error.__struct_fields__) - {"code", "message", "re", "version"}


def _re(request_id: str | None) -> str | UnsetType:
    return UNSET if request_id is None else request_id


def _tag(item: msgspec.Struct) -> str:
    return str(type(item).__struct_config__.tag)


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame: enough to find a bug, nothing of the data."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


# ============================================================== channels, keep-alive


async def handle_join(ctx: RequestContext, request: Join) -> Ok:
    """§3 JOIN: "Channels are created on first JOIN. Membership is persistent"."""
    services, user, now = ctx.services, ctx.user, ctx.services.now()
    if services.channels.cached_member_channel(request.channel, user) is None:
        await _check_room_to_join(services, request.channel, user)
        await moderation.admit(ctx, request.channel)  # §14.17: BANNED, INVITE_ONLY
    channel, added = await services.channels.join(request.channel, user, now)
    role, modes = await moderation.joined(ctx, channel.name) if added else (None, None)
    if added:
        event = JoinEvent(id=services.ids.next(), from_=user, channel=channel.name, timestamp=now)
        ctx.broadcast(channel.member_keys(), event)  # §3 JOIN event: "the channel's members"
    elif services.channels.cached_member_channel(channel.name, user) is not None:
        state = await services.moderation.of(channel.name)
        role, modes = state.role_of(user_key(user)), moderation.modes_of(state)
    members = channel.member_names()
    return ctx.ok_fitting(
        "members",
        members,
        channel=channel.name,
        topic=channel.topic,
        member_count=len(members),
        role=role if role is not None else UNSET,
        modes=modes if modes is not None else UNSET,
    )


async def _check_room_to_join(services: Services, name: str, user: str) -> None:
    """§9: at most ``max_channels_per_user`` memberships, and channels created at most at
    the user's creation rate (channels cost every user of ``LIST``, and memory)."""
    limits, channels = services.limits, services.channels
    joined = channels.count_of(user)
    if joined >= limits.max_channels_per_user:
        raise RequestError(
            ErrorCode.TOO_LARGE,
            f"you are in {joined} channels, the limit of {limits.max_channels_per_user}; "
            "leave one first",
        )
    if channels.get(name) is None:
        shared = services.shared_buckets
        if shared is None:
            wait = services.channel_creations.spend(user_key(user))
        else:
            wait = await shared.take([(services.creation_budget, user_key(user))])
        if wait:
            raise RequestError(
                ErrorCode.RATE_LIMITED,
                f"you may create {limits.channel_creation_burst} channels, then one per "
                f"{1 / limits.channel_creations_per_second:g} s; retry in {wait} ms",
                retry_after_ms=wait,
            )


async def handle_part(ctx: RequestContext, request: Part) -> Ok:
    """§3 PART; the event goes to "the remaining members and the leaver's other sessions"."""
    services, user = ctx.services, ctx.user
    channel = await member_channel(services, request.channel, user)
    channel = await services.channels.part(channel.name, user) or channel
    event = PartEvent(
        id=services.ids.next(), from_=user, channel=channel.name, timestamp=services.now()
    )
    ctx.broadcast((*channel.member_keys(), user_key(user)), event)
    return ctx.ok(channel=channel.name)


async def handle_topic(ctx: RequestContext, request: Topic) -> Ok:
    """Extension TOPIC: a member sets the topic; the TOPIC event goes to the members."""
    services, user = ctx.services, ctx.user
    channel = await member_channel(services, request.channel, user)
    await moderation.check_may_set_topic(ctx, channel.name)  # §14.17 topic_locked
    channel = await services.channels.set_topic(channel.name, request.topic) or channel
    event = TopicEvent(
        id=services.ids.next(),
        from_=user,
        channel=channel.name,
        topic=request.topic,
        timestamp=services.now(),
    )
    ctx.broadcast(channel.member_keys(), event)
    return ctx.ok(channel=channel.name, topic=channel.topic)


async def handle_list(ctx: RequestContext, request: ListChannels) -> Ok:
    """Extension LIST: the channels after ``after`` with their topic and member count, as
    many as fit one reply; a client pages on with the last name until an empty list."""
    after = request.after if isinstance(request.after, str) else ""
    await ctx.services.moderation.settled()  # a mode changed on another node is applied
    hidden = ctx.services.moderation.invite_only  # §14.17: seen by their members only
    me = user_key(ctx.user)
    infos = (
        ChannelInfo(name=c.name, topic=c.topic, members=len(c.members))
        for c in ctx.services.channels.all()
        if c.name > after and (c.name not in hidden or me in c.members)
    )
    budget = ctx.session.conn.max_plaintext - len(codec.encode(ctx.ok(channel_list=[])))
    page = list(itertools.islice(infos, _LIST_PAGE_MAX))
    return ctx.ok(channel_list=page[: fitting_count(page, budget)])


async def handle_ping(ctx: RequestContext, request: Ping) -> PongReply:
    """§3 PING: answered ``PONG`` with ``re``, before or after AUTH."""
    return PongReply(re=ctx.request_id)


async def handle_pong(ctx: RequestContext, request: Pong) -> None:
    """The answer to the node's keep-alive PING: nothing to reply."""
    ctx.session.pong_received()


async def images_disabled(ctx: RequestContext, request: msgspec.Struct) -> Reply:
    """Stands in for the image handlers until ``server/image_handlers.py`` replaces it."""
    raise RequestError(ErrorCode.INVALID, "image transfers are not enabled on this node")


async def member_channel(services: Services, name: str, user: str) -> Channel:
    """The channel ``name`` if ``user`` is a member of it, else ``NOT_IN_CHANNEL``.

    The cache answers without I/O; only a miss on a store shared with other nodes asks the
    store (the user may have joined through another node a moment ago).
    """
    channels = services.channels
    channel = channels.cached_member_channel(name, user)
    if channel is None and channels.shared:
        channel = await channels.confirm_member_channel(name, user)
    if channel is None:
        if await services.store.is_banned(name, user_key(user)):  # §14.18
            raise RequestError(ErrorCode.BANNED, f"you are banned from {name}")
        raise RequestError(ErrorCode.NOT_IN_CHANNEL, f"you are not a member of {name}")
    return channel


def register_core_handlers(table: HandlerTable) -> None:
    """Channels, keep-alive, and the image placeholders (``AUTH`` is in ``devices``)."""
    table.register(Join, handle_join, rate_limited=True)
    table.register(Part, handle_part, rate_limited=True)
    table.register(Topic, handle_topic, rate_limited=True)
    table.register(ListChannels, handle_list)
    table.register(Ping, handle_ping)
    table.register(Pong, handle_pong)
    for image_request in (ImgChunk, ImgStatus, ImgGet):
        table.register(image_request, images_disabled)
