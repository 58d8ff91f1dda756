"""``AronaApp``: the terminal client. It owns the state, wires screens to the session.

State lives in the pure reducer (``aronanet.client.state``); the app applies actions and
re-renders the visible screen at most once per refresh, however many actions arrived (a busy
channel's batch costs one render). The connector, clock, time zone and backoff are injected,
so tests drive the real app against a real node with a fixed clock.

Images: ``ImageLoader`` fills the log's ``InlineImage`` widgets as they come into view,
``ImageUploads`` runs ``/img``; the viewer launcher and the save directory are injected too.

Signing in, from the first screen to the chat, is ``SignIn``'s (``sign_in``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.widgets import Input

from aronanet.client.commands import command_names
from aronanet.client.invite_link import InviteLink, pinned_by_link
from aronanet.client.search import SearchPage, search
from aronanet.client.state import (
    Action,
    Activated,
    ChatState,
    HistoryFailed,
    Line,
    Noted,
    OlderRequested,
    QueryOpened,
    first_message_id,
    neighbour,
    reduce,
    sidebar_order,
    unread_marker_behind,
)
from aronanet.errors import ClientError
from aronanet.proto.features import LIFECYCLE
from aronanet.tui import voice
from aronanet.tui.collector import CollectorPacer
from aronanet.tui.command_runner import CommandRunner, save_to
from aronanet.tui.images import ImageLoader, default_save_dir, image_cache_dir
from aronanet.tui.keys import read_escape_digit_as_alt
from aronanet.tui.lifecycle import TypingNotifier
from aronanet.tui.link import Backoff
from aronanet.tui.screens.chat import ChatScreen
from aronanet.tui.screens.login import (
    CredentialsSubmitted,
)
from aronanet.tui.screens.password import PasswordScreen
from aronanet.tui.screens.search import Found, SearchScreen
from aronanet.tui.session import ChatSession, Connector
from aronanet.tui.settings import ChatSettings, save_settings
from aronanet.tui.sign_in import SignIn
from aronanet.tui.theme import ARONA_LIGHT, DARK, LIGHT, THEMES, other_variant
from aronanet.tui.uploads import FAILED_LINGER, ImageUploads
from aronanet.tui.widgets.chat_input import ChatInput, ComposeKind
from aronanet.tui.widgets.inline_image import ImageUpload, InlineImage, Renderer, open_in_viewer
from aronanet.tui.widgets.line_formatter import TimeZone
from aronanet.tui.widgets.message_log import MessageLog

log = logging.getLogger(__name__)

#: How often the app asks the collector pacer whether a full collection is due.
COLLECTOR_TICK_SECONDS = 0.5


class AronaApp(App[int]):
    CSS_PATH = "aronanet.tcss"
    TITLE = "AronaNET"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        connector: Connector,
        *,
        settings: ChatSettings | None = None,
        config_dir: Path | None = None,
        forget_key: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        tz: TimeZone = None,
        backoff: Backoff | None = None,
        theme_name: str | None = None,
        cache_dir: Path | None = None,
        save_dir: Path | None = None,
        renderer: Renderer = "auto",
        viewer: Callable[[Path], None] = open_in_viewer,
        failed_upload_linger: float = FAILED_LINGER,
        sign_in_by_device: bool = True,
        invite: InviteLink | None = None,
        reset_token: str = "",
    ) -> None:
        """``sign_in_by_device``: on start, sign in as the user this device last signed in
        as at the address (``settings.devices``) without the login screen; False (``--login``,
        ``--user``) always shows it. ``invite`` (an ``aronanet://`` link, §14.21) opens the
        registration form for its node, whose key the link pins (no trust question).
        ``reset_token`` (``--reset-token``, §14.21) opens the password reset form with it."""
        super().__init__()
        read_escape_digit_as_alt()
        self.settings = settings or ChatSettings()
        self.state = ChatState()
        self._config_dir = config_dir
        self._clock = clock
        self._tz = tz
        self._initial_theme = theme_name or self.settings.theme or LIGHT
        self.sign_in = SignIn(
            self,
            forget_key=forget_key,
            sign_in_by_device=sign_in_by_device,
            invite=invite,
            reset_token=reset_token,
        )
        if invite is not None:
            connector = pinned_by_link(connector, invite)
        self._render_scheduled = False
        self._reads_in_flight: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.session = ChatSession(
            connector,
            self.dispatch,
            lambda: self.state,
            clock,
            backoff=backoff,
            on_key_changed=self.sign_in.key_changed_later,
            outbox_dir=config_dir,
        )
        self.save_dir = save_dir or default_save_dir()
        self._renderer = renderer
        self._viewer = viewer
        self.images = ImageLoader(
            cache_dir or image_cache_dir(config_dir), lambda: self.session.client
        )
        self.uploads = ImageUploads(
            self,
            self.session,
            on_uploaded=self.images.adopt,
            failed_linger=failed_upload_linger,
        )
        self.runner = CommandRunner(self, self.session, self.images, self.uploads)
        self.collector = CollectorPacer(time.monotonic)
        self.typing = TypingNotifier(self._send_typing)

    # ---------------------------------------------------------------- state

    def dispatch(self, action: Action) -> None:
        """Apply ``action``; the screen re-renders once after the current burst."""
        self.state = reduce(self.state, action)
        if not self._render_scheduled:
            self._render_scheduled = True
            self.call_later(self._render_state)

    def _render_state(self) -> None:
        self._render_scheduled = False
        screen = self._chat_screen()
        if screen is not None:
            screen.show(self.state)
            if screen.showing_newest():
                self._mark_read(self.state.active)

    def _mark_read(self, key: str) -> None:
        """ArTP/1.1 §14.6: a buffer on screen at its newest message is read; tell the node
        (once per marker: the reply's ``READ`` moves ``buffer.read`` and stops the next)."""
        buffer = self.state.buffers.get(key)
        client = self.session.client
        if buffer is None or client is None or not client.syncing:
            return
        up_to = unread_marker_behind(buffer)
        if up_to is None or self._reads_in_flight.get(key) == up_to:
            return
        self._reads_in_flight[key] = up_to

        async def send() -> None:
            try:
                await self.session.mark_read(key)
            except ClientError as error:
                log.info("READ for a buffer failed: %s", error.code)
            finally:
                if self._reads_in_flight.get(key) == up_to:
                    del self._reads_in_flight[key]

        self.spawn(send())

    def on_message_log_reached_newest(self, message: MessageLog.ReachedNewest) -> None:
        if message.key == self.state.active:
            self._mark_read(message.key)

    def _chat_screen(self) -> ChatScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, ChatScreen)), None)

    def now(self) -> int:
        return int(self._clock())

    def spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def quit(self) -> None:
        self.exit(0)

    # --------------------------------------------------------------- theme

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The Arona variables the stylesheet uses, for any theme (the palette's own too)."""
        return {**super().get_theme_variable_defaults(), **ARONA_LIGHT.variables}

    def on_mount(self) -> None:
        for theme in THEMES.values():
            self.register_theme(theme)
        self.theme = self._initial_theme if self._initial_theme in THEMES else LIGHT
        self.sign_in.show_first_screen()

    def toggle_theme(self, variant: str | None = None) -> None:
        target = {"light": LIGHT, "dark": DARK}.get(variant or "", other_variant(self.theme))
        self.theme = target
        self.remember(theme=target)

    def action_toggle_theme(self) -> None:
        self.toggle_theme()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Arona: light theme", "Sky blue on white", lambda: self.toggle_theme("light")
        )
        yield SystemCommand(
            "Arona: dark theme", "Sky blue on night", lambda: self.toggle_theme("dark")
        )

    # --------------------------------------------------------------- login

    async def on_credentials_submitted(self, message: CredentialsSubmitted) -> None:
        self.spawn(self.sign_in.log_in(message.credentials))

    def forget_sign_in(self) -> None:
        """``/logout``: the next start shows the login screen for this node."""
        self.sign_in.forget_device_user(self.settings.address)

    async def ask_new_password(self) -> tuple[str, str] | None:
        """``/password``: the old and new password from a masked form, or None."""
        answer: asyncio.Future[tuple[str, str] | None] = asyncio.get_running_loop().create_future()
        self.push_screen(PasswordScreen(), callback=answer.set_result)
        return await answer

    async def enter_chat(self, *, first_time: bool = False) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        await self.push_screen(
            ChatScreen(self._vocabulary, tz=self._tz, renderer=self._renderer, clock=self._clock)
        )
        if not self.collector.running:
            self.collector.start()
            self.set_interval(COLLECTOR_TICK_SECONDS, self.collector.tick)
        welcome = voice.logged_in(self.state.me or "", first_time=first_time)
        self.dispatch(Noted(welcome, self.now()))

    def remember(self, **changes: str | dict[str, str]) -> None:
        """Keep ``changes`` in the settings file, so the next start begins from them."""
        if self._config_dir is None:
            return
        current = self.settings.__dict__ | changes
        self.settings = ChatSettings(**current)
        save_settings(self._config_dir, self.settings)

    # ---------------------------------------------------------------- chat

    def on_chat_input_entered(self, message: ChatInput.Entered) -> None:
        """A line from the input: it comes up the same path as the buffer switches typed
        around it, so it reaches this handler in typing order (and runs in the buffer
        active then). A typed line also clears the panels of finished uploads."""
        self.uploads.dismiss_finished()
        self.typing.stopped(self.state.active)
        self.runner.run(message.line, message.compose)

    # ------------------------------------------------------------ lifecycle

    def on_input_changed(self, message: Input.Changed) -> None:
        """§14.13: the input line changed: maybe tell the others we are typing."""
        chat_input = message.input
        if not isinstance(chat_input, ChatInput):
            return
        composing = chat_input.composing
        if composing is None or composing.kind == "reply":  # a new message, not an edit
            self.typing.changed(self.state.active, message.value)

    def _send_typing(self, key: str, typing: bool) -> None:
        buffer = self.state.buffers.get(key)
        client = self.session.client
        if buffer is None or buffer.kind == "status" or client is None:
            return
        if LIFECYCLE not in client.features:
            return

        async def send() -> None:
            try:
                await self.session.lifecycle.typing(buffer, typing)
            except ClientError as error:  # never worth a line in the log
                log.info("TYPING failed: %s", error.code)

        self.spawn(send())

    def on_chat_input_refused(self, message: ChatInput.Refused) -> None:
        self.runner.note(message.text, error=True)

    def on_chat_input_jump_to_quote(self, message: ChatInput.JumpToQuote) -> None:
        self.jump_to(self.state.active, message.msg_id)

    def jump_to(self, key: str, msg_id: str) -> None:
        """Show message ``msg_id`` of buffer ``key`` selected, loading the messages around
        it first (§14.9 ``HISTORY around``) when they are not held."""
        buffer = self.state.buffers.get(key)
        if buffer is None:
            return
        self.dispatch(Activated(key))

        async def jump() -> None:
            if msg_id not in buffer.ids:
                await self.session.lifecycle.load_around(buffer, msg_id)
            if msg_id not in self.state.buffers[key].ids:
                self.runner.note(voice.jump_missing(), error=True)
                return
            await self._select_after_render(msg_id)

        self.runner.lifecycle("jump to", jump)

    async def _select_after_render(self, msg_id: str) -> None:
        """Select ``msg_id`` once the log shows the state holding it."""
        self._render_state()
        screen = self._chat_screen()
        if screen is not None:
            await asyncio.sleep(0)
            screen.select(msg_id)

    def take_selection(self) -> Line | None:
        """The selected message (the selection ends: the command acts on it)."""
        screen = self._chat_screen()
        if screen is None:
            return None
        chosen = screen.query_one(MessageLog).selected_line
        screen.select(None)
        return chosen

    def start_gesture(self, kind: ComposeKind, line: Line) -> None:
        """``/edit``, ``/delete``: the input line edits, or asks to confirm."""
        screen = self._chat_screen()
        if screen is not None:
            chat_input = screen.query_one(ChatInput)
            if kind == "edit":
                chat_input.start_edit(line)
            else:
                chat_input.ask_delete(line)

    def open_search(self, query: str) -> None:
        """``/search``: the results in a screen of their own; Enter on one jumps there."""

        def search_page(before: str | None) -> Awaitable[SearchPage]:
            return search(self.session.require_client(), query, before=before)

        screen = SearchScreen(query, search_page, self.state.me or "", tz=self._tz)
        self.push_screen(screen, callback=self._show_found)

    def _show_found(self, found: Found | None) -> None:
        if found is None:
            return
        if found.kind == "user":
            self.dispatch(QueryOpened(found.name, activate=False))
        if found.key not in self.state.buffers:
            self.runner.note(f"Sensei, /join {found.name} first to see it there.", error=True)
            return
        self.jump_to(found.key, found.msg_id)

    def on_chat_screen_line_entered(self, message: ChatScreen.LineEntered) -> None:
        self.runner.run(message.line)

    def on_chat_screen_switch_to(self, message: ChatScreen.SwitchTo) -> None:
        self.activate(message.key)

    def activate(self, key: str) -> None:
        """Show buffer ``key``; the one left stops showing us typing (§14.13)."""
        if key != self.state.active:
            self.typing.stopped(self.state.active)
            screen = self._chat_screen()
            if screen is not None and screen.is_mounted:
                screen.query_one(ChatInput).drop_gesture()
        self.dispatch(Activated(key))

    def on_chat_input_jump(self, message: ChatInput.Jump) -> None:
        buffers = sidebar_order(self.state)
        if 1 <= message.number <= len(buffers):
            self.activate(buffers[message.number - 1].key)

    def on_chat_input_cycle(self, message: ChatInput.Cycle) -> None:
        self.activate(neighbour(self.state, message.step))

    def on_chat_input_lines_pasted(self, message: ChatInput.LinesPasted) -> None:
        self.runner.note(voice.lines_pasted(message.count))

    def on_message_log_need_older(self, message: MessageLog.NeedOlder) -> None:
        buffer = self.state.buffers.get(message.key)
        anchor = first_message_id(buffer) if buffer else None
        if buffer is None or anchor is None or buffer.older != "idle":
            return
        self.dispatch(OlderRequested(buffer.key))

        async def load() -> None:
            try:
                await self.session.load_older(buffer, anchor)
            except ClientError as error:
                self.dispatch(HistoryFailed(buffer.key))
                self.runner.note(voice.failure("loading older messages", error), error=True)

        self.spawn(load())

    # -------------------------------------------------------------- images

    def on_message_log_image_shown(self, message: MessageLog.ImageShown) -> None:
        self.spawn(self.images.show(message.widget))

    def on_inline_image_open_requested(self, message: InlineImage.OpenRequested) -> None:
        self.open_image(message.path)
        self.runner.note(f"Opening {message.attachment.name} in your image viewer, Sensei.")

    def on_inline_image_save_requested(self, message: InlineImage.SaveRequested) -> None:
        self.runner.network(
            f"saving {message.attachment.name}",
            lambda: self._save(message.path, message.attachment.name),
        )

    async def _save(self, path: Path, name: str) -> None:
        saved = await asyncio.to_thread(save_to, path, self.save_dir, name)
        self.runner.note(f"Saved {name} as {saved}, Sensei.")

    def open_image(self, path: Path) -> None:
        """Show ``path`` in the system viewer (injected, so tests record instead)."""
        self._viewer(path)

    def on_chat_input_image_pasted(self, message: ChatInput.ImagePasted) -> None:
        self.runner.send_image(message.path)

    def on_chat_screen_cancel_upload(self, message: ChatScreen.CancelUpload) -> None:
        self.uploads.cancel_latest()

    def show_upload(self, widget: ImageUpload) -> None:
        screen = self._chat_screen()
        if screen is not None:
            screen.show_upload(widget)

    def _vocabulary(self) -> tuple[list[str], list[str], list[str]]:
        buffers = self.state.buffers.values()
        nicks = {*self.state.current.members}
        nicks.update(b.name for b in buffers if b.kind == "user")
        channels = [b.name for b in buffers if b.kind == "channel"]
        return sorted(nicks), channels, command_names()

    async def action_quit(self) -> None:
        await self.session.close()
        self.exit(0)

    async def on_event(self, event: events.Event) -> None:
        """Every key press and mouse event passes here first: the collector waits for quiet."""
        if isinstance(event, events.InputEvent):
            self.collector.user_active()
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.collector.stop()
        await self.session.close()
