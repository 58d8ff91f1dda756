"""``ArtpClient``: one authenticated-to-be session with a node, for asyncio programs.

ArTP's requests as typed methods (chat §3, lifecycle §14.10-14.14, moderation §14.16-14.20)
over a ``Link`` (``client/link.py``), which matches each request to its replies, queues
events and answers PINGs; ``connect`` opens both.

The node's key is checked against the known-nodes file before the client reveals its own
identity (Noise message 3) whenever no question has to be asked (§2: clients "MUST refuse,
loudly, a changed key").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from msgspec import UNSET

from aronanet import __version__
from aronanet.client.address import NodeAddress, parse_address
from aronanet.client.community import CommunityPins, parse_address_list
from aronanet.client.handshake import TrustCallback, open_session
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.link import Link, NodeError
from aronanet.client.transport import Transport
from aronanet.errors import ClientError
from aronanet.proto import messages
from aronanet.proto import moderation as moderation_messages
from aronanet.proto.connection import Connection
from aronanet.proto.lifecycle import Changes, Delete, Edit, React, Typing, Unreact

__all__ = ["ArtpClient", "NodeAddress", "TrustCallback", "parse_address"]

DEFAULT_CLIENT_NAME = f"aronanet-py/{__version__}"
#: How often ``send_message_when_allowed`` sends one message the node refused with
#: ``RATE_LIMITED`` before it gives up.
RATE_LIMIT_TRIES = 20
#: ArTP/1.1 §14.1: the features this library asks for in handshake message 1; the node
#: enables those it supports (``ArtpClient.features``). ``batch`` (§14.2) needs nothing
#: more here: ``proto.Connection`` unpacks node messages that are arrays, in order.
CLIENT_FEATURES: tuple[str, ...] = ("batch", "lifecycle", "moderation", "sync")

_StructT = TypeVar("_StructT", bound=msgspec.Struct)


class ArtpClient(Link):
    """A live session with one node. Create it with ``await ArtpClient.connect(...)``."""

    def __init__(
        self,
        address: NodeAddress,
        transport: Transport,
        connection: Connection,
        hello: messages.Hello,
        fingerprint: str,
    ) -> None:
        """Wrap an open session; use ``connect``, which does the handshake and the pinning."""
        super().__init__(address, transport, connection)
        self.hello = hello
        self.fingerprint = fingerprint
        self.user: str | None = None
        #: ArTP/1.1 §14.1: what the node enabled on this session (empty for a 1.0 node).
        self.features: frozenset[str] = frozenset(hello.features)
        #: ArTP/1.1 §14.3: this device's id, from the OK of AUTH on a ``sync`` session.
        self.device: str | None = None

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def connect(
        cls,
        address: str,
        *,
        device_key: X25519PrivateKey,
        known_nodes: KnownNodes | None = None,
        trust_new: TrustCallback | None = None,
        client_name: str = DEFAULT_CLIENT_NAME,
        timeout: float = 10.0,
        features: Sequence[str] = CLIENT_FEATURES,
    ) -> ArtpClient:
        """Connect, run the Noise XX handshake and check the node's key; return the session.

        ``address`` may be a community's comma-separated list (``client/community.py``):
        the first is opened, and the node's key is checked and pinned across all of them.
        Raises ``KeyChangedError`` when the node's key differs from the one pinned for this
        address, ``ClientError("UNTRUSTED")`` when ``trust_new`` refuses a new node,
        ``ClientError("CONNECT"|"HANDSHAKE"|"ADDRESS")`` when no session could be set up.
        """
        try:
            addresses = parse_address_list(address)
        except ValueError as exc:
            raise ClientError("ADDRESS", str(exc)) from exc
        node_address = parse_address(addresses[0])
        if known_nodes is not None and len(addresses) > 1:
            known_nodes = CommunityPins(known_nodes.path, addresses)
        session = await open_session(
            node_address,
            device_key=device_key,
            known_nodes=known_nodes,
            trust_new=trust_new,
            client_name=client_name,
            timeout=timeout,
            features=features,
        )
        client = cls(
            node_address, session.transport, session.connection, session.hello, session.fingerprint
        )
        client._handle(session.leftover_events)
        client._reader = asyncio.create_task(
            client._read_loop(), name=f"artp-reader {node_address}"
        )
        return client

    # ------------------------------------------------------------------ requests

    @property
    def syncing(self) -> bool:
        """True when the node enabled ArTP/1.1 ``sync`` on this session."""
        return "sync" in self.features

    async def auth(
        self,
        user: str,
        password: str | None = None,
        *,
        register: bool = False,
        device_name: str | None = None,
        invite: str | None = None,
        reset: str | None = None,
    ) -> messages.Ok:
        """Log in (or, with ``register``, create the account and log in, §3).

        Without ``password`` it is a device sign-in (ArTP/1.1 §14.3): it succeeds only when
        this device's key signed in to ``user`` with the password before. ``invite``
        (§14.21): the invitation an invite-only node needs to register; ``reset``: a reset
        token, ``password`` then being the new password.
        """
        fields: dict[str, Any] = {"user": user, "register": register}
        for name, value in (
            ("password", password),
            ("device_name", device_name),
            ("invite", invite),
            ("reset", reset),
        ):
            if value is not None:
                fields[name] = value
        reply = await self.request(build_request(messages.Auth, **fields))
        self.user = reply.user if isinstance(reply.user, str) else user
        self.device = reply.device if isinstance(reply.device, str) else None
        return reply

    async def join(self, channel: str) -> messages.Ok:
        """Join (or create, §3: "Channels are created on first JOIN") a channel."""
        return await self.request(build_request(messages.Join, channel=channel))

    async def part(self, channel: str) -> messages.Ok:
        """Leave a channel; membership otherwise persists across sessions (§3)."""
        return await self.request(build_request(messages.Part, channel=channel))

    async def topic(self, channel: str, topic: str) -> messages.Ok:
        """Set a channel's topic (extension, see docs/PROTOCOL.md)."""
        return await self.request(build_request(messages.Topic, channel=channel, topic=topic))

    async def list_channels(self) -> list[messages.ChannelInfo]:
        """The node's channels (extension ``LIST``), every page of them: a reply holds what
        fits one message, so ask again after the last name until a page comes back empty."""
        found: list[messages.ChannelInfo] = []
        while True:
            after = {"after": found[-1].name} if found else {}
            reply = await self.request(build_request(messages.ListChannels, **after))
            page = [] if reply.channel_list is UNSET else list(reply.channel_list)
            if not page:
                return found
            found.extend(page)

    async def send_message(
        self,
        dest_type: str,
        dest: str,
        content: str,
        *,
        cid: str | None = None,
        reply_to: str | None = None,
    ) -> messages.Ok:
        """Send to a channel or a user; the ``OK`` carries ``msg_id`` and ``timestamp``.

        §3: the ``OK`` means the message "is durably stored and routed". With ``cid``
        (ArTP/1.1 §14.4) a resend is answered with the original ``OK`` plus ``duplicate``;
        with ``reply_to`` (§14.9) it answers that message of the same conversation.
        """
        fields: dict[str, Any] = {"dest_type": dest_type, "dest": dest, "content": content}
        if cid is not None:
            fields["cid"] = cid
        if reply_to is not None:
            fields["reply_to"] = reply_to
        return await self.request(build_request(messages.SendMsg, **fields))

    async def send_message_when_allowed(
        self,
        dest_type: str,
        dest: str,
        content: str,
        *,
        cid: str | None = None,
        reply_to: str | None = None,
        tries: int = RATE_LIMIT_TRIES,
    ) -> messages.Ok:
        """``send_message``, waiting out ``RATE_LIMITED`` for its ``retry_after_ms`` and
        sending again, ``tries`` times at most (§5: a refused message "is dropped", so only
        a resend posts it). Give a ``cid`` (ArTP/1.1 §14.4) so a resend can never post
        twice. Raises the last ``NodeError``, ``RATE_LIMITED`` included, like ``send_message``.
        """
        for attempt in range(1, tries + 1):
            try:
                return await self.send_message(dest_type, dest, content, cid=cid, reply_to=reply_to)
            except NodeError as error:
                wait_ms = error.reply.retry_after_ms
                if error.code != "RATE_LIMITED" or not isinstance(wait_ms, int) or attempt == tries:
                    raise
                await asyncio.sleep(wait_ms / 1000)
        raise ValueError(f"tries must be at least 1, not {tries}")

    async def history(
        self,
        dest_type: str,
        dest: str,
        *,
        before: str | None = None,
        after: str | None = None,
        around: str | None = None,
        limit: int = 50,
    ) -> list[messages.MsgEvent]:
        """Stored messages of a conversation, oldest first (§3 ``HISTORY``); ``around``
        (§14.9): about half before that message, the rest from it on (jump to a reply)."""
        fields: dict[str, Any] = {"dest_type": dest_type, "dest": dest, "limit": limit}
        for name, value in (("before", before), ("after", after), ("around", around)):
            if value is not None:
                fields[name] = value
        reply = await self.request(build_request(messages.History, **fields))
        return [] if reply.messages is UNSET else list(reply.messages)

    async def history_after(
        self, dest_type: str, dest: str, after: str, *, page_size: int = 200
    ) -> AsyncIterator[messages.MsgEvent]:
        """Every stored message after ``after``, oldest first, page by page.

        The node trims a page to fit one frame, so a page shorter than ``page_size`` is not
        the end: only an empty page is (docs/PROTOCOL.md, HISTORY). Catch-up after a
        reconnect must use this, or it silently skips what a trimmed page left out.
        """
        cursor = after
        while True:
            page = await self.history(dest_type, dest, after=cursor, limit=page_size)
            if not page:
                return
            for message in page:
                yield message
            cursor = page[-1].id

    # ------------------------------------------------------------------ lifecycle (§14.10-14.14)

    @property
    def lifecycle(self) -> bool:
        """True when the node enabled ArTP/1.1 ``lifecycle`` (EDIT/DELETE/REACTION/TYPING
        events reach this session); the requests work on any 1.1 node either way."""
        return "lifecycle" in self.features

    async def edit(self, msg_id: str, content: str) -> messages.Ok:
        """§14.10: replace the text of one's own message; ``OK`` with ``edited``."""
        return await self.request(build_request(Edit, msg_id=msg_id, content=content))

    async def delete(self, msg_id: str) -> messages.Ok:
        """§14.11: delete one's own message (a tombstone stays in HISTORY)."""
        return await self.request(build_request(Delete, msg_id=msg_id))

    async def react(self, msg_id: str, emoji: str, *, add: bool = True) -> messages.Ok:
        """§14.12: add (or with ``add=False`` remove) one's reaction; ``OK`` with ``count``."""
        kind = React if add else Unreact
        return await self.request(build_request(kind, msg_id=msg_id, emoji=emoji))

    async def typing(self, dest_type: str, dest: str, typing: bool = True) -> None:
        """§14.13: tell the conversation one is (or stopped) typing; never stored."""
        await self.request(build_request(Typing, dest_type=dest_type, dest=dest, typing=typing))

    async def changes(
        self, dest_type: str, dest: str, since: str, *, limit: int = 50
    ) -> tuple[list[messages.MsgEvent], str, bool]:
        """§14.14: one page of the messages changed (or new) after rev ``since``, in rev
        order: (messages, the rev to ask from next, whether more follow)."""
        reply = await self.request(
            build_request(Changes, dest_type=dest_type, dest=dest, since=since, limit=limit)
        )
        found = [] if reply.messages is UNSET else list(reply.messages)
        rev = reply.rev if isinstance(reply.rev, str) else since
        return found, rev, reply.next is True

    # ------------------------------------------------------------------ moderation (§14.16-14.20)

    @property
    def moderation(self) -> bool:
        """True when the node enabled ArTP/1.1 ``moderation`` (MODERATION events reach
        this session); the requests work on any node that knows them either way."""
        return "moderation" in self.features

    async def moderate(self, kind: type[msgspec.Struct], **fields: Any) -> messages.Ok:
        """One moderation request (§14.16-14.20), e.g. ``moderate(Ban, channel="#c",
        user="kei", reason="spam")``; refusals raise ``ClientError`` with their code
        (``NOT_OPERATOR``, ``NOT_OWNER``...)."""
        return await self.request(build_request(kind, **fields))

    async def channel_info(self, channel: str, cursor: str | None = None) -> messages.Ok:
        """§14.16: topic, modes, members with roles (``roster``), bans for operators; one
        page of the roster, from ``cursor`` (the ``next`` of the page before)."""
        paging = {} if cursor is None else {"cursor": cursor}
        return await self.moderate(
            moderation_messages.ChannelInfoRequest, channel=channel, **paging
        )

    async def kick(self, channel: str, user: str, reason: str = "") -> messages.Ok:
        return await self.moderate(
            moderation_messages.Kick, channel=channel, user=user, reason=reason
        )

    async def ban(self, channel: str, user: str, reason: str = "") -> messages.Ok:
        return await self.moderate(
            moderation_messages.Ban, channel=channel, user=user, reason=reason
        )

    async def unban(self, channel: str, user: str) -> messages.Ok:
        return await self.moderate(moderation_messages.Unban, channel=channel, user=user)

    async def mute(self, channel: str, user: str, seconds: int, reason: str = "") -> messages.Ok:
        """§14.18: ``seconds`` 0 lifts the mute."""
        return await self.moderate(
            moderation_messages.Mute, channel=channel, user=user, seconds=seconds, reason=reason
        )

    async def set_role(self, channel: str, user: str, role: str) -> messages.Ok:
        return await self.moderate(
            moderation_messages.SetRole, channel=channel, user=user, role=role
        )

    async def set_modes(self, channel: str, **modes: bool) -> messages.Ok:
        """§14.17: ``invite_only``, ``moderated``, ``topic_locked``; only those given change."""
        return await self.moderate(moderation_messages.SetMode, channel=channel, **modes)

    async def invite(self, channel: str, user: str) -> messages.Ok:
        return await self.moderate(moderation_messages.Invite, channel=channel, user=user)

    async def block(self, user: str, blocked: bool = True) -> messages.Ok:
        return await self.moderate(moderation_messages.Block, user=user, blocked=blocked)

    async def blocks(self) -> list[str]:
        reply = await self.moderate(moderation_messages.Blocks)
        return [] if reply.blocks is UNSET else list(reply.blocks)

    async def set_account_disabled(self, user: str, disabled: bool) -> messages.Ok:
        """§14.20 (node admins): disable (sessions closed at once) or enable an account."""
        return await self.moderate(moderation_messages.AccountRequest, user=user, disabled=disabled)

    async def audit(
        self, *, before: str | None = None, limit: int = 50
    ) -> tuple[list[moderation_messages.AuditEntry], str | None]:
        """§14.20 (node admins): one page of the audit log, newest first, and the cursor
        of the next (older) page."""
        fields: dict[str, Any] = {"limit": limit}
        if before is not None:
            fields["before"] = before
        reply = await self.moderate(moderation_messages.Audit, **fields)
        entries = [] if reply.entries is UNSET else list(reply.entries)
        return entries, reply.next if isinstance(reply.next, str) else None


def build_request(cls: type[_StructT], **fields: Any) -> _StructT:
    """Construct a request, turning a local validation failure into ``ClientError INVALID``,
    the same code the node would have answered."""
    try:
        return cls(**fields)
    except (ValueError, TypeError) as exc:
        raise ClientError("INVALID", str(exc)) from exc
