"""Carrying out what the user typed: one method per command, behind one table.

Every failure becomes a line from Arona carrying the real error code; nothing the user types
can raise out of here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from aronanet.client import commands as cmd
from aronanet.client import sync
from aronanet.client.account_commands import DevicesCommand, LogoutCommand, PasswordCommand
from aronanet.client.command_spec import CommandError
from aronanet.client.lifecycle_commands import (
    DeleteCommand,
    EditCommand,
    ReactCommand,
    ReplyCommand,
    SearchCommand,
)
from aronanet.client.state import (
    STATUS_KEY,
    Action,
    BufferClosed,
    ChannelLeft,
    ChatState,
    Cleared,
    Line,
    LinkStatus,
    Noted,
    QueryOpened,
    Quote,
    RetryRequested,
    TopicChanged,
    buffer_key,
    failed_lines,
    last_own_message,
    latest_attachment,
    newest_message,
    quote_line,
)
from aronanet.errors import ClientError
from aronanet.proto.messages import Attachment
from aronanet.tui import voice
from aronanet.tui.devices import run_devices
from aronanet.tui.images import ImageLoader
from aronanet.tui.moderation import command_handlers
from aronanet.tui.session import ChatSession
from aronanet.tui.uploads import ImageUploads
from aronanet.tui.widgets.chat_input import Compose, ComposeKind
from aronanet.tui.widgets.inline_image import save_copy
from aronanet.tui.widgets.member_list import marked_members


class Host(Protocol):
    """What the runner needs from the app (kept narrow so it is easy to see and test)."""

    state: ChatState
    save_dir: Path

    def open_image(self, path: Path) -> None: ...
    def dispatch(self, action: Action) -> None: ...
    def now(self) -> int: ...
    def toggle_theme(self, variant: str | None) -> None: ...
    async def ask_new_password(self) -> tuple[str, str] | None: ...
    def quit(self) -> None: ...
    def forget_sign_in(self) -> None: ...
    def spawn(self, work: Awaitable[None]) -> None: ...
    def take_selection(self) -> Line | None: ...
    def start_gesture(self, kind: ComposeKind, line: Line) -> None: ...
    def open_search(self, query: str) -> None: ...


def _is_command(line: str) -> bool:
    return line.startswith("/") and not line.startswith("//")


def save_to(source: Path, target: Path, name: str) -> Path:
    """``/save [PATH]``: into ``target`` if it is a directory (or has no suffix), else as
    that file name; never overwriting (``save_copy``). Blocking: run it in a thread."""
    if target.is_dir() or not target.suffix:
        return save_copy(source, target, name)
    return save_copy(source, target.parent, target.name)


class CommandRunner:
    def __init__(
        self, host: Host, session: ChatSession, images: ImageLoader, uploads: ImageUploads
    ) -> None:
        self.host = host
        self.session = session
        self.images = images
        self.uploads = uploads
        self._table: dict[type, Callable[[object], None]] = {
            cmd.Say: self._say,  # type: ignore[dict-item]
            cmd.JoinCommand: self._join,  # type: ignore[dict-item]
            cmd.PartCommand: self._part,  # type: ignore[dict-item]
            cmd.MsgCommand: self._msg,  # type: ignore[dict-item]
            cmd.QueryCommand: self._query,  # type: ignore[dict-item]
            cmd.MeCommand: self._me,  # type: ignore[dict-item]
            cmd.TopicCommand: self._topic,  # type: ignore[dict-item]
            cmd.NamesCommand: self._names,  # type: ignore[dict-item]
            cmd.ListCommand: self._list,  # type: ignore[dict-item]
            cmd.ClearCommand: self._clear,  # type: ignore[dict-item]
            cmd.CloseCommand: self._close,  # type: ignore[dict-item]
            cmd.HelpCommand: self._help,  # type: ignore[dict-item]
            cmd.QuitCommand: lambda _c: host.quit(),
            cmd.ImgCommand: self._img,  # type: ignore[dict-item]
            cmd.RetryCommand: self._retry,  # type: ignore[dict-item]
            cmd.OpenCommand: self._open,  # type: ignore[dict-item]
            cmd.SaveCommand: self._save,  # type: ignore[dict-item]
            cmd.ThemeCommand: lambda c: host.toggle_theme(c.variant),  # type: ignore[attr-defined]
            DevicesCommand: self._devices,  # type: ignore[dict-item]
            PasswordCommand: self._password,  # type: ignore[dict-item]
            cmd.ReconnectCommand: self._reconnect,  # type: ignore[dict-item]
            LogoutCommand: self._logout,  # type: ignore[dict-item]
            ReplyCommand: self._reply,  # type: ignore[dict-item]
            EditCommand: self._edit,  # type: ignore[dict-item]
            DeleteCommand: self._delete,  # type: ignore[dict-item]
            ReactCommand: self._react,  # type: ignore[dict-item]
            SearchCommand: lambda c: host.open_search(c.query),  # type: ignore[attr-defined]
            **command_handlers(self),
        }

    def run(self, line: str, compose: Compose | None = None) -> None:
        """A line from the input; with ``compose`` it replies, edits, reacts or deletes."""
        if compose is not None and not (compose.kind == "reply" and _is_command(line)):
            self._composed(line, compose)
            return
        parsed = cmd.parse(line)
        if parsed is None:
            return
        if isinstance(parsed, CommandError):
            self.note(parsed.message, error=True)
            return
        self._table[type(parsed)](parsed)

    # ---------------------------------------------------------------- helpers

    def note(self, text: str, *, key: str | None = None, error: bool = False) -> None:
        self.host.dispatch(Noted(text, self.host.now(), key=key, error=error))

    def network(self, action: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` in the background; its failure becomes one line with the code."""

        async def guarded() -> None:
            try:
                await work()
            except (ClientError, OSError) as error:
                self.note(voice.failure(action, error), error=True)

        self.host.spawn(guarded())

    def _queue(self, key: str, content: str, reply: Quote | None = None) -> None:
        if self.session.queue(key, content, reply) and self.host.state.link.status is not (
            LinkStatus.ONLINE
        ):
            self.note(voice.offline_queued(), key=key)

    def current_channel(self, command: str) -> str | None:
        buffer = self.host.state.current
        if buffer.kind != "channel":
            self.note(voice.no_channel_here(command), error=True)
            return None
        return buffer.name

    def lifecycle(self, action: str, work: Callable[[], Awaitable[None]]) -> None:
        """``network`` for edits, deletes and reactions: refusals in Arona's words."""

        async def guarded() -> None:
            try:
                await work()
            except (ClientError, OSError) as error:
                self.note(voice.lifecycle_failure(action, error), error=True)

        self.host.spawn(guarded())

    # ------------------------------------------------------------- lifecycle

    def _line(self, line_id: str) -> Line | None:
        return next((x for x in self.host.state.current.lines if x.id == line_id), None)

    def _target(self, action: str, *, own: bool) -> Line | None:
        """The message a command acts on: the selected one, else our last (``own``) or the
        newest; None (and Arona says so) when there is none."""
        buffer = self.host.state.current
        line = self.host.take_selection()
        if line is None:
            me = self.host.state.me
            line = last_own_message(buffer, me) if own else newest_message(buffer)
        if line is None or line.deleted:
            self.note(voice.nothing_to(action), error=True)
            return None
        return line

    def _composed(self, line: str, compose: Compose) -> None:
        target = self._line(compose.msg_id)
        if target is None:
            self.note(voice.jump_missing(), error=True)
            return
        if compose.kind == "reply":
            self._send_reply(target, line)
        elif compose.kind == "edit":
            self._save_edit(target, line)
        elif compose.kind == "react":
            self._toggle(target, line.strip())
        else:
            self.lifecycle("delete", lambda: self._delete_now(target))

    def _send_reply(self, target: Line, text: str) -> None:
        if not text.strip():
            return
        self._queue(self.host.state.active, text, quote_line(target))

    def _save_edit(self, target: Line, text: str) -> None:
        current = f"/me {target.text}" if target.kind == "action" else target.text
        if not text.strip() or text == current:
            self.note(voice.edit_unchanged())
            return
        self.lifecycle("edit", lambda: self.session.lifecycle.edit(target.id, text))

    async def _delete_now(self, target: Line) -> None:
        await self.session.lifecycle.delete(target.id)
        self.note(voice.deleted_message())

    def _toggle(self, target: Line, emoji: str) -> None:
        if not emoji:
            return

        async def toggle() -> None:
            await self.session.lifecycle.toggle_reaction(target, emoji)

        self.lifecycle("react to", toggle)

    def _reply(self, command: ReplyCommand) -> None:
        buffer = self.host.state.current
        if command.back is not None:
            messages = [x for x in buffer.lines if x.is_server_message and not x.deleted]
            if command.back > len(messages):
                self.note(voice.nothing_to("reply to"), error=True)
                return
            self.host.take_selection()
            self._send_reply(messages[-command.back], command.text)
            return
        target = self._target("reply to", own=False)
        if target is not None:
            self._send_reply(target, command.text)

    def _edit(self, command: EditCommand) -> None:
        target = self._target("edit", own=True)
        if target is None:
            return
        me = (self.host.state.me or "").casefold()
        if target.sender.casefold() != me:
            self.note("Sensei, only your own messages can be edited.", error=True)
        elif command.text is None:
            self.host.start_gesture("edit", target)
        else:
            self._save_edit(target, command.text)

    def _delete(self, command: DeleteCommand) -> None:
        target = self._target("delete", own=True)
        if target is None:
            return
        if target.sender.casefold() != (self.host.state.me or "").casefold():
            self.note("Sensei, only your own messages can be deleted.", error=True)
            return
        self.host.start_gesture("delete", target)

    def _react(self, command: ReactCommand) -> None:
        target = self._target("react to", own=False)
        if target is not None:
            self._toggle(target, command.emoji)

    # --------------------------------------------------------------- commands

    def _say(self, command: cmd.Say) -> None:
        if self.host.state.active == STATUS_KEY:
            self.note(
                "Sensei, this is my corner: /join #channel or /query NAME to talk.", error=True
            )
            return
        self._queue(self.host.state.active, command.text)

    def _me(self, command: cmd.MeCommand) -> None:
        self._say(cmd.Say(f"/me {command.text}"))

    def _join(self, command: cmd.JoinCommand) -> None:
        self.network(f"joining {command.channel}", lambda: self.session.join(command.channel))

    def _part(self, command: cmd.PartCommand) -> None:
        channel = command.channel or self.current_channel("part")
        if channel is None:
            return

        async def part() -> None:
            await self.session.require_client().part(channel)
            self.host.dispatch(ChannelLeft(channel))
            self.note(voice.parted(channel), key=STATUS_KEY)

        self.network(f"leaving {channel}", part)

    def _msg(self, command: cmd.MsgCommand) -> None:
        if command.target.startswith("#"):
            if buffer_key(command.target) not in self.host.state.buffers:
                self.note(f"Sensei, /join {command.target} first.", error=True)
                return
            self._queue(buffer_key(command.target), command.text)
            return
        self.host.dispatch(QueryOpened(command.target, activate=False))
        self._queue(buffer_key(command.target), command.text)
        if self.host.state.active != buffer_key(command.target):
            self.note(f"→ {command.target}: {command.text}")

    def _query(self, command: cmd.QueryCommand) -> None:
        self.host.dispatch(QueryOpened(command.user))
        if command.text:
            self._queue(buffer_key(command.user), command.text)

    def _topic(self, command: cmd.TopicCommand) -> None:
        channel = self.current_channel("topic")
        if channel is None:
            return
        if command.topic is None:
            topic = self.host.state.current.topic or "(none yet)"
            self.note(f"The topic of {channel}: {topic}")
            return
        topic = command.topic

        async def set_topic() -> None:
            ok = await self.session.require_client().topic(channel, topic)
            self.host.dispatch(TopicChanged(channel, ok.topic or topic))
            # §3: the node sends the TOPIC event to the others, not to this session
            self.note(voice.topic_set(channel, ok.topic or topic), key=buffer_key(channel))

        self.network("setting the topic", set_topic)

    def _names(self, command: cmd.NamesCommand) -> None:
        channel = command.channel or self.current_channel("names")
        if channel is None:
            return
        buffer = self.host.state.buffers.get(buffer_key(channel))
        if buffer is None:
            self.note(f"Sensei, you are not in {channel}.", error=True)
            return
        names = ", ".join(f"{mark}{name}" for mark, name in marked_members(buffer))
        self.note(f"{channel} ({len(buffer.members)}): {names}")

    def _list(self, command: cmd.ListCommand) -> None:
        async def list_channels() -> None:
            channels = await self.session.require_client().list_channels()
            self.note(f"Sensei, this node has {len(channels)} channel(s):")
            for info in channels:
                self.note(f"  {info.name} ({info.members}) {info.topic}")

        self.network("listing channels", list_channels)

    def _clear(self, command: cmd.ClearCommand) -> None:
        self.host.dispatch(Cleared(self.host.state.active))

    def _close(self, command: cmd.CloseCommand) -> None:
        buffer = self.host.state.current
        if buffer.kind == "channel":
            self._part(cmd.PartCommand(buffer.name))
        else:
            self.host.dispatch(BufferClosed(buffer.key))

    def _reconnect(self, command: cmd.ReconnectCommand) -> None:
        self.note("Reconnecting now, Sensei…", key=STATUS_KEY)
        self.network("reconnecting", self.session.reconnect_now)

    def _help(self, command: cmd.HelpCommand) -> None:
        for line in cmd.help_lines(command.topic):
            self.note(line)
        if command.topic is None:
            self.note(
                f"Keys: {voice.SWITCH_KEYS} switch buffers (numbered in the sidebar), "
                "Tab completes, Up/Down history (Up on an empty line edits your last message), "
                "Alt+Up/Down (or Ctrl+Up/Down) selects a message: r reply, e edit, d delete, "
                "+ react, Enter jumps to what a reply quotes, Esc stops; "
                "PageUp loads older messages, F2 light/dark, Ctrl+P command palette, "
                "Ctrl+Q quit. /help COMMAND explains one."
            )
            self.note("Member list marks: ~ owner, @ operator, + voiced (as on IRC).")

    def _img(self, command: cmd.ImgCommand) -> None:
        buffer = self.host.state.current
        if buffer.kind == "status":
            self.note("Sensei, pick a channel or conversation for the image first.", error=True)
            return
        path = Path(command.path).expanduser()
        if not path.is_file():
            self.note(f"Sensei, I cannot find the file {path}.", error=True)
            return
        self.uploads.start(path, buffer)

    def send_image(self, path: Path) -> None:
        """A pasted image path: the same as ``/img PATH``."""
        self._img(cmd.ImgCommand(str(path)))

    def _retry(self, command: cmd.RetryCommand) -> None:
        buffer = self.host.state.current
        count = len(failed_lines(buffer))
        if not count:
            self.note("Sensei, nothing here is waiting to be sent again.")
            return
        self.host.dispatch(RetryRequested(buffer.key))
        if self.host.state.link.status is not LinkStatus.ONLINE:
            self.note(voice.offline_queued(), key=buffer.key)
        self.session.wake_sender()

    def _devices(self, command: DevicesCommand) -> None:
        async def devices() -> None:
            for line in await run_devices(self.session.require_sync_client(), command):
                self.note(line)

        self.network(f"/devices {command.action}", devices)

    def _logout(self, command: LogoutCommand) -> None:
        """Revoke this device on the node (online only: else it could still sign in), forget
        whom it signed in as, and leave. A node without ``sync`` keeps no device to revoke."""

        async def logout() -> None:
            client = self.session.require_client()
            if client.syncing and client.device is not None:
                await sync.revoke_device(client, client.device)
            self.host.forget_sign_in()
            self.host.quit()

        self.network("signing out", logout)

    def _password(self, command: PasswordCommand) -> None:
        async def change() -> None:
            client = self.session.require_sync_client()
            answer = await self.host.ask_new_password()
            if answer is None:
                return
            await sync.change_password(client, *answer)
            self.note(voice.password_changed())

        self.network("changing the password", change)

    def _latest_image(self) -> Attachment | None:
        attachment = latest_attachment(self.host.state.current)
        if attachment is None:
            self.note("Sensei, there is no image in this buffer yet.", error=True)
        return attachment

    def _open(self, command: cmd.OpenCommand) -> None:
        attachment = self._latest_image()
        if attachment is None:
            return

        async def open_it() -> None:
            path = await self.images.file_for(attachment)
            self.host.open_image(path)
            self.note(f"Opening {attachment.name} in your image viewer, Sensei.")

        self.network(f"opening {attachment.name}", open_it)

    def _save(self, command: cmd.SaveCommand) -> None:
        attachment = self._latest_image()
        if attachment is None:
            return
        target = Path(command.path).expanduser() if command.path else self.host.save_dir

        async def save() -> None:
            path = await self.images.file_for(attachment)
            saved = await asyncio.to_thread(save_to, path, target, attachment.name)
            self.note(f"Saved {attachment.name} as {saved}, Sensei.")

        self.network(f"saving {attachment.name}", save)
