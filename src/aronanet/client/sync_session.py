"""``SyncSession``: a signed-in client that keeps itself in sync with its node, for programs.

It owns one user's presence on one node (or one community of nodes behind several
addresses, ``client/community.py``) across any number of connections:

* connect and sign in (device first, the password only if the node does not know the
  device, ArTP/1.1 §14.3), again after every lost link; with several addresses, a failed or
  lost one makes it try the next in turn, and the capped exponential backoff applies only
  after every address failed once (``current_address``, ``failovers``);
* catch up gap-free after each sign-in: ``CONVERSATIONS`` (every page), then for each
  conversation ``HISTORY after`` the newest message held, page by page until an empty page,
  or its latest page first when it was never seen (§14.5, §14.7);
* send through the durable ``Outbox``: each message is on disk with its ``cid`` before it is
  written to the node and leaves the outbox only when its ``OK`` arrives, ``duplicate`` or
  not (§14.4), so a message is posted exactly once whatever drops or crashes in between;
  the outbox is drained in the order typed, one message at a time;
* follow live ``MSG`` and ``READ`` events, and with ``lifecycle`` (§14.9-14.14) the
  ``EDIT``/``DELETE``/``REACTION`` events that change held messages and ``TYPING``; after a
  gap, ``CHANGES`` since the newest rev held brings held messages up to date.

The node sends a sender's own session no ``MSG`` event for its message (§3), and ids are
opaque (never ordered by the client, §5), so after sending the session fetches ``HISTORY
after`` the newest message it held when it sent, which places its own messages where the node
ordered them. Live events are shown in arrival order, which across the nodes of a community
may differ from the node's order; the same ``HISTORY after`` on the next pass (a send,
``settle``) puts them back in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable

from aronanet.client.catch_up import fetch_after, fetch_changes
from aronanet.client.community import AddressRing, community_key
from aronanet.client.connection import ArtpClient
from aronanet.client.conversation_view import (
    ConversationKey,
    ConversationView,
    conversation_key,
    event_key,
    key_of,
    name_of,
)
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.lifecycle import (
    CHANGE_EVENTS,
    ChangeEvent,
    TypingTracker,
    own_delete,
    own_edit,
    own_reaction,
)
from aronanet.client.link import NodeError
from aronanet.client.outbox import Outbox, OutboxEntry, outbox_path
from aronanet.client.paths import ClientPaths
from aronanet.client.search import SearchPage, search
from aronanet.client.sync import conversations, mark_read, sign_in
from aronanet.client.sync_options import SyncOptions
from aronanet.errors import ClientError, KeyChangedError
from aronanet.identity import load_or_create_key
from aronanet.proto import messages
from aronanet.proto.lifecycle import TypingEvent

log = logging.getLogger(__name__)

Connector = Callable[[], Awaitable[ArtpClient]]
#: Errors after which reconnecting cannot help: the person has to act.
FATAL_CODES = frozenset({"AUTH_FAILED", "UNTRUSTED", "USER_EXISTS", "REGISTRATION_CLOSED"})


class SyncSession:
    """One user on one node, kept in sync; ``start()``, then ``send`` at any time."""

    def __init__(
        self,
        options: SyncOptions,
        *,
        connector: Connector | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``connector`` opens a verified connection (default: this config directory's
        device key and known nodes, trusting a new node on first use); ``clock`` stamps
        outbox entries."""
        self.options = options
        self._clock = clock
        self.paths = ClientPaths.at(options.config_dir)
        #: Where the session connects, and where it goes when that fails.
        self.ring = AddressRing(options.address_list(), spread=random.Random())
        community = community_key(self.ring.addresses)
        self.outbox = Outbox(outbox_path(self.paths.config_dir, community, options.user))
        self.views: dict[ConversationKey, ConversationView] = {}
        #: cid -> msg_id of every message this session saw acknowledged.
        self.acknowledged: dict[str, str] = {}
        #: cid -> error code of messages the node refused for good (never posted).
        self.refused: dict[str, str] = {}
        #: Why the session stopped trying, when it did (wrong password, changed node key).
        self.failure: ClientError | KeyChangedError | None = None
        self.client: ArtpClient | None = None
        self.sign_ins = 0
        #: OKs with ``duplicate: true``: resends the node recognised (§14.4).
        self.duplicates = 0
        #: §14.13: who is typing where (``typing.who(conversation_key(...))``).
        self.typing = TypingTracker(time.monotonic)
        self._connector = connector or self._connect
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._resync = False
        self._refetch: dict[ConversationKey, str | None] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # ------------------------------------------------------------------ public

    def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        self._task = asyncio.create_task(self._guarded(), name=f"sync {self.options.user}")

    async def _guarded(self) -> None:
        """``_run``, with a bug reported as ``failure`` (and logged) instead of a task that
        dies unseen while ``settle`` waits."""
        try:
            await self._run()
        except Exception as error:
            log.exception("sync for %s failed", self.options.user)
            self.failure = ClientError("INTERNAL", f"{type(error).__name__}: {error}")
            self._idle.set()

    async def close(self) -> None:
        """Stop for good; what is still in the outbox stays on disk for the next start."""
        self._closing = True
        if self.client is not None:
            await self.client.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def send(
        self, dest_type: str, dest: str, content: str, *, reply_to: str | None = None
    ) -> OutboxEntry:
        """Queue a message (a reply to ``reply_to``, §14.9): on disk when this returns,
        sent when the link allows."""
        entry = self.outbox.add(dest_type, dest, content, int(self._clock()), reply_to=reply_to)
        self._idle.clear()
        self._wakeup.set()
        return entry

    def drop(self) -> None:
        """Drop the current connection abruptly (tests of lost links)."""
        if self.client is not None and not self.client.closed:
            self.client.abort()

    async def settle(self, timeout: float) -> None:
        """Return once online with an empty outbox and a fresh catch-up done.

        Raises ``TimeoutError`` when that did not happen within ``timeout`` seconds, and the
        session's ``failure`` when it gave up.
        """
        async with asyncio.timeout(timeout):
            while True:
                if self.failure is not None:
                    raise self.failure
                self._idle.clear()
                self._resync = True
                self._wakeup.set()
                await self._idle.wait()
                if not self._resync and not self.outbox.pending():
                    return

    def view(self, dest_type: str, dest: str) -> ConversationView:
        """The conversation as held now (an empty one, not kept, if never seen)."""
        held = self.views.get(conversation_key(dest_type, dest))
        return held if held is not None else ConversationView(dest_type, dest)

    def optimistic(self, dest_type: str, dest: str) -> list[OutboxEntry]:
        """Our messages to show as pending after the conversation's stored ones: outbox
        entries whose stored copy (matched by ``cid``, §14.4) has not arrived yet."""
        key = conversation_key(dest_type, dest)
        held = self.views[key].cids() if key in self.views else set()
        return [
            entry
            for entry in self.outbox.pending()
            if conversation_key(entry.dest_type, entry.dest) == key and entry.cid not in held
        ]

    async def mark_read(self, dest_type: str, dest: str) -> None:
        """§14.6: mark the conversation read up to its newest message held."""
        view = self.view(dest_type, dest)
        if self.client is None or view.last_id is None:
            return
        reply = await mark_read(self.client, dest_type, view.dest, view.last_id)
        view.mark_read(reply.read if isinstance(reply.read, str) else view.last_id, self.user)

    def online(self) -> ArtpClient:
        """The signed-in connection, for requests that are not queued (EDIT, DELETE,
        REACT, TYPING: they mean nothing later); ``ClientError("DISCONNECTED")`` if none."""
        if self.client is None or self.client.closed:
            raise ClientError("DISCONNECTED", "not connected to the node")
        return self.client

    async def edit(self, dest_type: str, dest: str, msg_id: str, content: str) -> None:
        """§14.10: edit one's message; the view shows the new text at once (the node sends
        the requesting session no event, only the ``OK``)."""
        reply = await self.online().edit(msg_id, content)
        self._apply_own(dest_type, dest, msg_id, lambda held: own_edit(held, content, reply))

    async def delete(self, dest_type: str, dest: str, msg_id: str) -> None:
        """§14.11: delete one's message; the view holds its tombstone at once."""
        reply = await self.online().delete(msg_id)
        now = int(self._clock())
        self._apply_own(dest_type, dest, msg_id, lambda held: own_delete(held, reply, now))

    async def react(
        self, dest_type: str, dest: str, msg_id: str, emoji: str, *, add: bool = True
    ) -> None:
        """§14.12: add (or take back) one's reaction; the view counts it at once."""
        reply = await self.online().react(msg_id, emoji, add=add)
        me = self.user
        self._apply_own(dest_type, dest, msg_id, lambda held: own_reaction(held, reply, me, add))

    async def search(
        self,
        query: str,
        *,
        dest_type: str | None = None,
        dest: str | None = None,
        before: str | None = None,
        limit: int = messages.SEARCH_LIMIT_DEFAULT,
    ) -> SearchPage:
        """§14.15: one page of results (newest first); ``page.next`` is the next ``before``.
        Raises ``NodeError`` for a refusal (``INVALID`` query, ``RATE_LIMITED``)."""
        return await search(
            self.online(), query, dest_type=dest_type, dest=dest, before=before, limit=limit
        )

    def _apply_own(
        self,
        dest_type: str,
        dest: str,
        msg_id: str,
        event_of: Callable[[messages.MsgEvent], ChangeEvent],
    ) -> None:
        view = self.view(dest_type, dest)
        held = view.messages.get(msg_id)
        if held is not None:
            view.apply(event_of(held), self.options.user)

    @property
    def current_address(self) -> str:
        """The address of the node in use (or the one tried next while offline)."""
        return self.ring.current

    @property
    def failovers(self) -> int:
        """How many times the session signed in at another address than the last time."""
        return self.ring.failovers

    @property
    def user(self) -> str:
        """The signed-in name as the node spells it (the option's until signed in)."""
        return (self.client.user if self.client else None) or self.options.user

    # ------------------------------------------------------------------ connection

    async def _connect(self) -> ArtpClient:
        return await ArtpClient.connect(
            self.ring.target(),
            device_key=load_or_create_key(self.paths.device_key),
            known_nodes=KnownNodes(self.paths.known_nodes),
            timeout=self.options.timeout,
        )

    async def _run(self) -> None:
        while not self._closing:
            try:
                client = await self._sign_in()
            except (KeyChangedError, ClientError, OSError) as error:
                if isinstance(error, KeyChangedError | ClientError) and _is_fatal(error):
                    self.failure = error
                    log.warning("sync for %s stopped: %s", self.options.user, error)
                    self._idle.set()
                    return
                log.info("sync for %s: %s failed: %s", self.user, self.current_address, error)
                if self.ring.failed():  # every address failed in turn: wait before the next
                    await asyncio.sleep(self._delay(self.ring.cycles - 1))
                continue
            if self.ring.succeeded():
                log.info("sync for %s moved to %s", self.user, self.current_address)
            try:
                await self._serve(client)
            except (ClientError, OSError) as error:
                log.info("sync link for %s ended: %s", self.options.user, error)
            finally:
                self.client = None
                await client.close()
            self.ring.lost()

    def _delay(self, attempt: int) -> float:
        base = min(self.options.retry_maximum, self.options.retry_initial * 2.0**attempt)
        return base * (1 - 0.2 * random.random())

    async def _sign_in(self) -> ArtpClient:
        client = await self._connector()
        client.request_timeout = self.options.request_timeout
        try:
            options = self.options
            welcome = await sign_in(
                client,
                options.user,
                options.password,
                register=options.register,
                device_name=options.device_name,
            )
        except BaseException:
            await client.close()
            raise
        self.sign_ins += 1
        if not client.syncing:  # a 1.0 node lists no conversations: its channels at least
            for channel in welcome.channels or ():
                self._view(conversation_key("channel", channel), "channel", channel)
        return client

    async def _serve(self, client: ArtpClient) -> None:
        """Catch up, then send and follow until the link drops."""
        self.client = client
        # Anchors as they are before this link's live events: an event that arrives before
        # the catch-up reaches its conversation must not move the catch-up past a gap.
        for key, view in self.views.items():
            self._refetch.setdefault(key, view.last_id)
        pump = asyncio.create_task(self._pump(client))
        try:
            await self._catch_up(client)
            await self._drain(client)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    # ------------------------------------------------------------------ catch-up

    async def _catch_up(self, client: ArtpClient) -> None:
        """§14.7: every conversation, then ``HISTORY after`` its newest held message."""
        listed: set[ConversationKey] = set()
        if client.syncing:
            for info in await conversations(client):
                key = conversation_key(info.dest_type, info.dest)
                listed.add(key)
                view = self._view(key, info.dest_type, info.dest)
                view.read = info.read if isinstance(info.read, str) else None
                view.unread, view.mentions = info.unread, info.mentions
                if isinstance(info.last_id, str) or view.ids or key in self._refetch:
                    await self._sync_conversation(client, key)
        for key in [*self._refetch, *self.views]:
            if key not in listed and (key in self._refetch or key[0] == "channel"):
                listed.add(key)
                await self._sync_conversation(client, key)

    async def _sync_conversation(self, client: ArtpClient, key: ConversationKey) -> None:
        """Fetch what follows the conversation's anchor until an empty page. The anchor
        is forgotten only once that succeeded: a link lost halfway resumes from it."""
        view = self.views[key]
        # Taken now, so that a live event arriving meanwhile records its own anchor.
        anchor = self._refetch.pop(key, view.last_id)
        try:
            page_size = self.options.page_size
            await fetch_after(
                client, view, anchor, page_size=page_size, backfill=self.options.backfill
            )
            await fetch_changes(client, view, page_size=page_size)
        except NodeError as error:
            # Refused, not lost (a user that does not exist, a channel left): nothing to
            # fetch there, and retrying would only be refused again.
            log.info("no history of a conversation for %s: %s", self.options.user, error.code)
        except BaseException:
            self._refetch[key] = anchor  # the earliest anchor: it covers any later one
            raise

    # ------------------------------------------------------------------ sending

    async def _drain(self, client: ArtpClient) -> None:
        """Send the outbox in order whenever it has entries; then fetch our messages' places.

        Returns only by raising, when the link drops.
        """
        closed = asyncio.ensure_future(client.wait_closed())
        try:
            while True:
                self._wakeup.clear()
                pending = self.outbox.pending()
                if pending:
                    for entry in pending:
                        await self._send_entry(client, entry)
                    continue
                for key in list(self._refetch):
                    await self._sync_conversation(client, key)
                if self._resync:
                    await self._catch_up(client)
                    if self.outbox.pending():
                        continue
                    self._resync = False
                self._idle.set()
                wakeup = asyncio.ensure_future(self._wakeup.wait())
                await asyncio.wait([wakeup, closed], return_when=asyncio.FIRST_COMPLETED)
                wakeup.cancel()
                if client.closed:
                    raise ClientError("DISCONNECTED", "the link dropped")
        finally:
            closed.cancel()

    async def _send_entry(self, client: ArtpClient, entry: OutboxEntry) -> None:
        key = conversation_key(entry.dest_type, entry.dest)
        view = self._view(key, entry.dest_type, entry.dest)
        self._refetch.setdefault(key, view.last_id)  # our message lands after this one
        try:
            reply = await client.send_message_when_allowed(
                entry.dest_type,
                entry.dest,
                entry.content,
                cid=entry.cid,
                reply_to=entry.reply_to,
            )
        except NodeError as error:  # refused, or still RATE_LIMITED after every try
            self._refuse(entry, error.code)
            return
        except ClientError as error:
            if error.code == "TIMEOUT":
                client.abort()  # the OK may still come: resend on a fresh link
            raise
        self.acknowledged[entry.cid] = str(reply.msg_id)
        self.duplicates += reply.duplicate is True
        self.outbox.done(entry.cid)

    def _refuse(self, entry: OutboxEntry, code: str) -> None:
        """The node refused the message for good (not a member, too large...): it will
        never be posted, so it leaves the outbox and is reported in ``refused``."""
        log.warning("message %s to %s refused: %s", entry.cid, entry.dest, code)
        self.refused[entry.cid] = code
        self.outbox.done(entry.cid)

    # ------------------------------------------------------------------ events

    async def _pump(self, client: ArtpClient) -> None:
        me = client.user or self.options.user
        async for event in client.events():
            if isinstance(event, messages.MsgEvent):
                key = key_of(event, me)
                view = self._view(key, event.dest_type, name_of(event, me))
                anchor = view.last_id
                if view.append(event):
                    # Live order is arrival order: in a community, a message published by
                    # another node may overtake one ordered before it. The next pass of the
                    # drain (a send, ``settle``) fetches after this anchor, which puts them
                    # in HISTORY's order.
                    self._refetch.setdefault(key, anchor)
                    if event.from_.casefold() != me.casefold():
                        view.unread += 1
                self.typing.message_sent(key, event.from_)
            elif isinstance(event, messages.ReadEvent):
                self.view(event.dest_type, event.dest).mark_read(event.read, me)
            elif isinstance(event, CHANGE_EVENTS):
                # Message ids are unique on the node: the one view holding it applies it.
                for view in self.views.values():
                    if view.apply(event, me):
                        break
            elif isinstance(event, TypingEvent):
                key = event_key(event.dest_type, event.dest, event.from_, me)
                self.typing.typing(key, event)

    def _view(self, key: ConversationKey, dest_type: str = "", dest: str = "") -> ConversationView:
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = ConversationView(dest_type or key[0], dest or key[1])
            self._refetch.setdefault(key, None)  # new here: its history from the start
        return view


def _is_fatal(error: BaseException) -> bool:
    if isinstance(error, KeyChangedError):
        return True
    return isinstance(error, ClientError) and error.code in FATAL_CODES
