"""The chat session's effects: connect, log in, pump events, send, load history, reconnect.

Textual-free on purpose: it reads the state through ``get_state`` and reports everything it
learns as reducer actions through ``dispatch``; the UI only renders. The connector is
injected, so tests point it at a node on 127.0.0.1 with a throwaway config directory.

Reconnect (the issue): on a lost link, retry with exponential backoff; with several
addresses of one community (``a,b,c``, ``client/community.py``), try the next address at once
and back off only after every address failed in turn, and say which node the chat moved to.
After logging in again, fetch ``HISTORY after`` the last message id of every buffer until an
empty page (a short page is not the end: the node trims pages to fit a frame), so nothing is
missed or duplicated (the reducer dedups by id), then send what was queued.

ArTP/1.1 ``sync`` (§14.3-14.7): sign-in tries this device first and uses the password only
when the node does not know the device; every conversation of ``CONVERSATIONS`` gets a
buffer, with the node's unread and mention counts; what the user types goes to the durable
``Outbox`` first (with its ``cid``) and leaves it only on its ``OK``, so a line typed offline
survives a restart, shows as pending meanwhile, and is posted exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path

from aronanet.client import sync
from aronanet.client.community import AddressRing, community_key, parse_address_list
from aronanet.client.connection import ArtpClient, TrustCallback
from aronanet.client.state import (
    STATUS_KEY,
    Action,
    Buffer,
    ChannelJoined,
    ChatState,
    ConversationsListed,
    EventsReceived,
    HistoryLoaded,
    LinkConnecting,
    LinkDown,
    LinkUp,
    LoggedIn,
    MessagesChanged,
    Noted,
    Quote,
    ReadMarked,
    last_message_id,
    unread_marker_behind,
)
from aronanet.errors import ClientError, KeyChangedError
from aronanet.proto.features import LIFECYCLE
from aronanet.proto.messages import (
    ConversationInfo,
    JoinEvent,
    MsgEvent,
    PartEvent,
    ReadEvent,
    TopicEvent,
)
from aronanet.proto.messages import Ok as MsgOk
from aronanet.proto.moderation import ModerationEvent
from aronanet.tui import voice
from aronanet.tui.lifecycle import LIFECYCLE_EVENTS, LifecycleOps, lifecycle_action
from aronanet.tui.link import Backoff, Login, is_final
from aronanet.tui.moderation import ModerationOps
from aronanet.tui.sender import OutboxSender

log = logging.getLogger(__name__)

Connector = Callable[[str, TrustCallback | None], Awaitable[ArtpClient]]
Dispatch = Callable[[Action], None]
#: Live events are delivered to the reducer at most this often: one render per frame.
FRAME_SECONDS = 1 / 30
HISTORY_PAGE = 100
CATCH_UP_PAGE = 200
_LIVE_EVENTS = (MsgEvent, JoinEvent, PartEvent, TopicEvent)


class ChatSession:
    def __init__(
        self,
        connector: Connector,
        dispatch: Dispatch,
        get_state: Callable[[], ChatState],
        clock: Callable[[], float],
        *,
        backoff: Backoff | None = None,
        on_key_changed: Callable[[KeyChangedError], None] | None = None,
        outbox_dir: Path | None = None,
    ) -> None:
        """``outbox_dir``: the config directory the outbox file lives in (None: memory)."""
        self._connector = connector
        self._outbox_dir = outbox_dir
        self.sender = OutboxSender(dispatch, get_state, lambda: self.client, self.now)
        self.lifecycle = LifecycleOps(self.require_client, dispatch, get_state)
        self.moderation = ModerationOps(self.require_client, dispatch, get_state, self.now)
        self._dispatch = dispatch
        self._state = get_state
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._on_key_changed = on_key_changed
        self._client: ArtpClient | None = None
        self._login: Login | None = None
        #: The community's addresses and which one is in use (one address: a ring of one).
        self.ring = AddressRing(("",))
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending_events: list[MsgEvent | JoinEvent | PartEvent | TopicEvent] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._closing = False
        self._online = asyncio.Event()
        self._retry_now = asyncio.Event()  # /reconnect: cut the backoff wait short
        self._runner: asyncio.Task[None] | None = None  # _run: pump, then reconnect

    @property
    def client(self) -> ArtpClient | None:
        """The live client, or None while the link is down."""
        return self._client if self._client is not None and not self._client.closed else None

    def now(self) -> int:
        return int(self._clock())

    async def wait_online(self) -> ArtpClient:
        """The live client, once the link is up (at once when it is): uploads interrupted by
        a dropped link wait here, then resume with the same transfer id."""
        while (client := self.client) is None:
            if self._closing:
                raise ClientError("CLOSED", "the chat is closing")
            if self._online.is_set():
                await asyncio.sleep(FRAME_SECONDS)  # the pump has not seen the drop yet
            else:
                await self._online.wait()
        return client

    # --------------------------------------------------------------- lifecycle

    async def start(self, login: Login, *, register: bool, trust_new: TrustCallback | None) -> None:
        """First connection and login; raises for the login screen to show what failed.
        With several addresses each is tried in turn before the last failure is raised."""
        try:
            self.ring = AddressRing(parse_address_list(login.address), spread=random.Random())
        except ValueError as error:
            raise ClientError("ADDRESS", str(error)) from error
        while True:
            self._dispatch(LinkConnecting(self.ring.current, 0))
            try:
                client = await self._connector(self.ring.target(), trust_new)
                break
            except (ClientError, OSError) as error:
                if is_final(error) or self.ring.failed():
                    raise
        try:
            ok = await sync.sign_in(
                client,
                login.user,
                login.password_source(),
                register=register,
                invite=login.invite or None,
                reset=login.reset or None,
            )
        except BaseException:
            await client.close()
            raise
        self.ring.succeeded()
        # ArTP/1.1 §14.3: once the device is recorded, reconnects sign in with it alone and
        # the password leaves memory. A device revoked elsewhere then stays signed out
        # instead of being recorded again by a remembered password.
        # A reset token is spent: reconnects log in with the new password (or the device).
        login = dataclasses.replace(login, reset="")
        self._login = dataclasses.replace(login, password="") if client.syncing else login
        user = ok.user or login.user
        await self._on_connected(client, user, list(ok.channels or []))
        self.sender.open(self._outbox_dir, community_key(self.ring.addresses), user)
        self._runner = self._spawn(self._run(client))
        self._spawn(self.sender.run(lambda: self._closing))
        self._spawn(self._synchronise(client, catch_up=False))

    async def _synchronise(self, client: ArtpClient, *, catch_up: bool) -> None:
        """After a sign-in: every conversation (§14.5), channel details and latest pages,
        catch-up, then the node's unread counts, and the queued lines go out. Blocks come
        first: a blocked user's channel messages are hidden as the pages land (§14.19)."""
        try:
            await self.moderation.load_blocks()
        except ClientError as error:
            self._dispatch(Noted(voice.failure("loading blocks", error), self.now(), error=True))
        listed = await self._list_conversations(client)
        await self.sync_channels()
        if catch_up:
            await self._catch_up(client)
        if listed:
            self._dispatch(ConversationsListed(listed, counts=True))
        self.sender.wake()

    async def _list_conversations(self, client: ArtpClient) -> tuple[ConversationInfo, ...]:
        if not client.syncing:
            return ()
        try:
            listed = tuple(await sync.conversations(client))
        except ClientError as error:
            self._dispatch(
                Noted(voice.failure("listing conversations", error), self.now(), error=True)
            )
            return ()
        self._dispatch(ConversationsListed(listed))
        return listed

    async def close(self) -> None:
        self._closing = True
        self._online.set()  # wake every ``wait_online`` so that it sees the closing
        if self._client is not None:
            await self._client.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _spawn(self, coroutine: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def reconnect_now(self) -> None:
        """``/reconnect``: drop the link if it is up and connect again at once, without
        waiting out the backoff; after the session gave up (a changed key, a refused
        login), start trying again."""
        if self._login is None or self._closing:
            return
        self._retry_now.set()
        if self._client is not None and not self._client.closed:
            await self._client.close()  # the pump ends and ``_run`` reconnects
        elif self._runner is None or self._runner.done():
            self._runner = self._spawn(self._run(None))

    async def _on_connected(self, client: ArtpClient, user: str, channels: list[str]) -> None:
        self._client = client
        self._online.set()
        self._dispatch(LinkUp(client.hello.node, client.fingerprint))
        self._dispatch(LoggedIn(user, tuple(channels), self.now()))
        self._dispatch(
            Noted(
                voice.connected(client.hello.node, str(client.address)), self.now(), key=STATUS_KEY
            )
        )

    async def _run(self, client: ArtpClient | None) -> None:
        """Pump events until the link drops, then reconnect; forever until ``close``.
        (``None``: start by reconnecting.)"""
        attempt = 0
        while not self._closing:
            if client is not None:
                await self._pump(client)
            if self._closing:
                return
            self._client = None
            self._online.clear()
            self._note_everywhere(voice.disconnected())
            reconnected = await self._reconnect(attempt)
            if reconnected is None:
                return
            client, attempt = reconnected, 0

    async def _reconnect(self, attempt: int) -> ArtpClient | None:
        """Connect again: the next address of the community at once, then each in turn;
        the backoff delay only once every address failed (before each try with one)."""
        assert self._login is not None
        reason = "connection closed"
        self.ring.lost()
        wait = len(self.ring.addresses) == 1
        while not self._closing:
            if wait:
                delay = self._backoff.delay(attempt)
                self._dispatch(LinkDown(reason, delay, self.now()))
                self._dispatch(Noted(voice.link_lost(reason, delay), self.now(), key=STATUS_KEY))
                await self._backoff_wait(delay)
                attempt += 1
            self._dispatch(LinkConnecting(self.ring.current, attempt))
            wait = True  # unless this try fails with another address left to try
            try:
                client = await self._connector(self.ring.target(), None)
                ok = await self._sign_in_again(client)
            except KeyChangedError as error:
                self._give_up(f"the node's key changed ({error.presented})")
                if self._on_key_changed is not None:
                    self._on_key_changed(error)
                return None
            except ClientError as error:
                if error.code in ("AUTH_FAILED", "UNTRUSTED"):
                    self._give_up(f"{error.code}: {error.message}")
                    return None
                reason = f"{error.code}: {error.message}"
                wait = self.ring.failed()
                continue
            except OSError as error:
                reason = str(error) or type(error).__name__
                wait = self.ring.failed()
                continue
            moved = self.ring.succeeded()
            await self._on_connected(client, ok.user or self._login.user, list(ok.channels or []))
            await self._synchronise(client, catch_up=True)
            self._note_everywhere(voice.moved(self.ring.current) if moved else voice.back_online())
            return client
        return None

    async def _sign_in_again(self, client: ArtpClient) -> MsgOk:
        assert self._login is not None
        try:
            return await sync.sign_in(client, self._login.user, self._login.password_source())
        except BaseException:
            await client.close()
            raise

    async def _backoff_wait(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if ``/reconnect`` asks for it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._retry_now.wait(), delay)
        self._retry_now.clear()

    def _note_everywhere(self, text: str) -> None:
        """A line in every conversation: a reader of any buffer sees where the gap is."""
        for buffer in list(self._state().buffers.values()):
            if buffer.kind != "status":
                self._dispatch(Noted(text, self.now(), key=buffer.key))

    def _give_up(self, reason: str) -> None:
        self._dispatch(LinkDown(reason, None, self.now()))
        self._dispatch(
            Noted(
                f"Sensei, I stopped reconnecting — {reason}", self.now(), key=STATUS_KEY, error=True
            )
        )

    async def _pump(self, client: ArtpClient) -> None:
        try:
            async for event in client.events():
                if isinstance(event, _LIVE_EVENTS):
                    self._queue_event(event)
                elif isinstance(event, LIFECYCLE_EVENTS):
                    # §14.10-14.13: after the messages they may change, which land first.
                    self._flush_events()
                    self._dispatch(lifecycle_action(event, self._clock()))
                elif isinstance(event, ModerationEvent):
                    # §14.19: after the messages and joins before it, like lifecycle events.
                    self._flush_events()
                    self.moderation.received(event)
                elif isinstance(event, ReadEvent):
                    # §14.6: another device read this; events before it land first.
                    self._flush_events()
                    self._dispatch(ReadMarked(event.dest_type, event.dest, event.read))
        except ClientError as error:
            log.info("event stream ended: %s", error.code)
        self._flush_events()

    def _queue_event(self, event: MsgEvent | JoinEvent | PartEvent | TopicEvent) -> None:
        self._pending_events.append(event)
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(FRAME_SECONDS, self._flush_events)

    def _flush_events(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._pending_events:
            batch, self._pending_events = tuple(self._pending_events), []
            self._dispatch(EventsReceived(batch))

    # ----------------------------------------------------------------- history

    async def _catch_up(self, client: ArtpClient) -> None:
        """HISTORY after the last id seen, page by page, for every buffer we hold."""
        missed = 0
        for buffer in list(self._state().buffers.values()):
            if buffer.kind == "status":
                continue
            anchor = last_message_id(buffer)
            try:
                missed += await self._catch_up_buffer(client, buffer, anchor)
                await self._catch_up_changes(client, buffer)
            except ClientError as error:
                self._dispatch(
                    Noted(
                        voice.failure(f"catching up {buffer.name}", error),
                        self.now(),
                        key=buffer.key,
                        error=True,
                    )
                )
        self._dispatch(Noted(voice.reconnected(missed), self.now(), key=STATUS_KEY))

    async def _catch_up_buffer(self, client: ArtpClient, buffer: Buffer, anchor: str | None) -> int:
        """Every message after ``anchor``, dispatched ``CATCH_UP_PAGE`` at a time.

        PROTOCOL.md, HISTORY: "Catching up after a reconnect is ``after: <last message id
        seen>``, repeated until empty" -- the node trims pages to fit a frame, so a short page
        is not the end; ``history_after`` pages on until an empty one.
        """
        if anchor is None:
            return 0  # sync_channels loaded its latest page
        total = 0
        batch: list[MsgEvent] = []
        pages = client.history_after(buffer.kind, buffer.name, anchor, page_size=CATCH_UP_PAGE)
        async for message in pages:
            batch.append(message)
            if len(batch) >= CATCH_UP_PAGE:
                self._dispatch(HistoryLoaded(buffer.key, tuple(batch), after=anchor))
                total, anchor, batch = total + len(batch), batch[-1].id, []
        if batch:
            self._dispatch(HistoryLoaded(buffer.key, tuple(batch), after=anchor))
        return total + len(batch)

    async def _catch_up_changes(self, client: ArtpClient, buffer: Buffer) -> None:
        """§14.14: what was edited, deleted or reacted to while the link was down, page by
        page of ``CHANGES`` after the newest rev this buffer has seen (none seen: nothing
        held can be stale, since every page loaded brought its current state)."""
        since = buffer.rev
        if since is None or LIFECYCLE not in client.features:
            return
        more = True
        while more:
            changed, since, more = await client.changes(
                buffer.kind, buffer.name, since, limit=CATCH_UP_PAGE
            )
            if changed:
                self._dispatch(MessagesChanged(tuple(changed)))

    async def fetch_new(self, key: str) -> None:
        """HISTORY after our newest message: shows what this session sent without an echo
        (§3: the sender's own session gets no ``MSG``), such as an uploaded image."""
        buffer = self._state().buffers.get(key)
        if buffer is None:
            return
        anchor = last_message_id(buffer)
        if anchor is None:
            await self.load_latest(buffer)
        else:
            await self._catch_up_buffer(self.require_client(), buffer, anchor)

    async def load_latest(self, buffer: Buffer) -> None:
        client = self.require_client()
        page = await client.history(buffer.kind, buffer.name, limit=HISTORY_PAGE)
        self._dispatch(HistoryLoaded(buffer.key, tuple(page)))

    async def load_older(self, buffer: Buffer, before: str) -> None:
        client = self.require_client()
        page = await client.history(buffer.kind, buffer.name, before=before, limit=HISTORY_PAGE)
        self._dispatch(HistoryLoaded(buffer.key, tuple(page), before=before))

    def require_sync_client(self) -> ArtpClient:
        """The live client, if its node speaks ArTP/1.1 ``sync`` (devices, passwords)."""
        client = self.require_client()
        if not client.syncing:
            raise ClientError("UNSUPPORTED", "this node does not offer devices (ArTP/1.0)")
        return client

    def require_client(self) -> ArtpClient:
        client = self.client
        if client is None:
            raise ClientError("OFFLINE", "the link to the node is down; retrying")
        return client

    # -------------------------------------------------------------------- send

    def wake_sender(self) -> None:
        self.sender.wake()

    def queue(self, key: str, content: str, reply: Quote | None = None) -> bool:
        """A typed line for ``key`` (a reply to ``reply``): see ``OutboxSender.queue``."""
        return self.sender.queue(key, content, reply)

    async def mark_read(self, key: str) -> None:
        """§14.6: the buffer is on screen at its newest message: move the marker there."""
        buffer = self._state().buffers.get(key)
        client = self.client
        up_to = unread_marker_behind(buffer) if buffer is not None else None
        if buffer is None or up_to is None or client is None or not client.syncing:
            return
        ok = await sync.mark_read(client, buffer.kind, buffer.name, up_to)
        self._dispatch(ReadMarked(buffer.kind, buffer.name, ok.read or up_to))

    async def join(self, channel: str) -> None:
        client = self.require_client()
        ok = await client.join(channel)
        members = tuple(ok.members or ())
        self._dispatch(ChannelJoined(channel, ok.topic or "", members, self.now(), activate=True))
        self._dispatch(Noted(voice.joined(channel, len(members)), self.now(), key=channel))
        await self.moderation.load_roster(channel)
        buffer = self._state().buffers.get(channel)
        if buffer is not None:
            await self.load_latest(buffer)

    async def sync_channels(self) -> None:
        """Topic and members of every channel we are in, and the latest page of empty ones."""
        for buffer in list(self._state().buffers.values()):
            try:
                if buffer.kind == "channel":
                    await self.refresh_channel(buffer.name)
                if buffer.kind != "status" and last_message_id(buffer) is None:
                    await self.load_latest(buffer)
            except ClientError as error:
                self._dispatch(
                    Noted(
                        voice.failure(f"loading {buffer.name}", error),
                        self.now(),
                        key=buffer.key,
                        error=True,
                    )
                )

    async def refresh_channel(self, channel: str) -> None:
        """Members and topic of a channel we are already in (after login): JOIN again."""
        client = self.require_client()
        ok = await client.join(channel)
        self._dispatch(ChannelJoined(channel, ok.topic or "", tuple(ok.members or ()), self.now()))
        await self.moderation.load_roster(channel)
