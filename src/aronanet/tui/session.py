"""The chat session's effects: connect, log in, pump events, send, load history, reconnect.

Textual-free on purpose: it reads the state through ``get_state`` and reports everything it
learns as reducer actions through ``dispatch``; the UI only renders. The connector is
injected, so tests point it at a node on 127.0.0.1 with a throwaway config directory.

Reconnect (the issue): on a lost link, retry with exponential backoff; after logging in
again, fetch ``HISTORY after`` the last message id of every buffer until an empty page (a
short page is not the end: the node trims pages to fit a frame), so nothing is missed or
duplicated (the reducer dedups by id), then send what was queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aronanet.client.connection import ArtpClient, TrustCallback
from aronanet.client.state import (
    STATUS_KEY,
    Action,
    Buffer,
    ChannelJoined,
    ChatState,
    EventsReceived,
    HistoryLoaded,
    LinkConnecting,
    LinkDown,
    LinkUp,
    LoggedIn,
    Noted,
    SendConfirmed,
    SendFailed,
    SendStarted,
    last_message_id,
    queued_outgoing,
)
from aronanet.errors import ClientError, KeyChangedError
from aronanet.proto.messages import JoinEvent, MsgEvent, PartEvent, TopicEvent
from aronanet.tui import voice

log = logging.getLogger(__name__)

Connector = Callable[[str, TrustCallback | None], Awaitable[ArtpClient]]
Dispatch = Callable[[Action], None]
#: Live events are delivered to the reducer at most this often: one render per frame.
FRAME_SECONDS = 1 / 30
HISTORY_PAGE = 100
CATCH_UP_PAGE = 200
_LIVE_EVENTS = (MsgEvent, JoinEvent, PartEvent, TopicEvent)


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnect attempts: ``initial * factor**n`` capped, with jitter."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        base = min(self.maximum, self.initial * self.factor**attempt)
        return base * (1 - self.jitter * rng())


@dataclass(frozen=True)
class Login:
    address: str
    user: str
    password: str  # kept in memory to log in again after a reconnect; never logged


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
    ) -> None:
        self._connector = connector
        self._dispatch = dispatch
        self._state = get_state
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._on_key_changed = on_key_changed
        self._client: ArtpClient | None = None
        self._login: Login | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._send_wakeup = asyncio.Event()
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
        """First connection and login; raises for the login screen to show what failed."""
        self._dispatch(LinkConnecting(login.address, 0))
        client = await self._connector(login.address, trust_new)
        try:
            ok = await client.auth(login.user, login.password, register=register)
        except BaseException:
            await client.close()
            raise
        self._login = login
        await self._on_connected(client, ok.user or login.user, list(ok.channels or []))
        self._runner = self._spawn(self._run(client))
        self._spawn(self._sender())
        self._spawn(self.sync_channels())

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
        assert self._login is not None
        reason = "connection closed"
        while not self._closing:
            delay = self._backoff.delay(attempt)
            self._dispatch(LinkDown(reason, delay, self.now()))
            self._dispatch(Noted(voice.link_lost(reason, delay), self.now(), key=STATUS_KEY))
            await self._backoff_wait(delay)
            attempt += 1
            self._dispatch(LinkConnecting(self._login.address, attempt))
            try:
                client = await self._connector(self._login.address, None)
                ok = await client.auth(self._login.user, self._login.password)
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
                continue
            except OSError as error:
                reason = str(error) or type(error).__name__
                continue
            await self._on_connected(client, ok.user or self._login.user, list(ok.channels or []))
            await self.sync_channels()
            await self._catch_up(client)
            self._note_everywhere(voice.back_online())
            self._send_wakeup.set()
            return client
        return None

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

    def require_client(self) -> ArtpClient:
        client = self.client
        if client is None:
            raise ClientError("OFFLINE", "the link to the node is down; retrying")
        return client

    # -------------------------------------------------------------------- send

    def wake_sender(self) -> None:
        self._send_wakeup.set()

    async def _sender(self) -> None:
        """Send queued lines in order, one at a time, whenever the link is up."""
        while not self._closing:
            await self._send_wakeup.wait()
            self._send_wakeup.clear()
            while (client := self.client) is not None:
                queued = queued_outgoing(self._state())
                if not queued:
                    break
                buffer, line = queued[0]
                await self._send_one(client, buffer, line.id, _wire_content(line.kind, line.text))

    async def _send_one(
        self, client: ArtpClient, buffer: Buffer, line_id: str, content: str
    ) -> None:
        self._dispatch(SendStarted(line_id))
        try:
            ok = await client.send_message(buffer.kind, buffer.name, content)
        except ClientError as error:
            if error.code == "DISCONNECTED":
                return  # LinkDown marks in-flight lines failed; the pump reconnects
            self._dispatch(SendFailed(line_id, f"{error.code}: {error.message}"))
            return
        except (ValueError, OSError) as error:  # refused locally (e.g. an invalid dest)
            self._dispatch(SendFailed(line_id, f"{type(error).__name__}: {error}"))
            return
        self._dispatch(SendConfirmed(line_id, ok.msg_id or line_id, ok.timestamp or self.now()))

    async def join(self, channel: str) -> None:
        client = self.require_client()
        ok = await client.join(channel)
        members = tuple(ok.members or ())
        self._dispatch(ChannelJoined(channel, ok.topic or "", members, self.now(), activate=True))
        self._dispatch(Noted(voice.joined(channel, len(members)), self.now(), key=channel))
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


def _wire_content(kind: str, text: str) -> str:
    return f"/me {text}" if kind == "action" else text
