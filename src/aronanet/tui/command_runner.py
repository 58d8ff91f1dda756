"""Carrying out what the user typed: one method per command, behind one table.

Every failure becomes a line from Arona carrying the real error code; nothing the user types
can raise out of here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from aronanet.client import commands as cmd
from aronanet.client.state import (
    STATUS_KEY,
    Action,
    BufferClosed,
    ChannelLeft,
    ChatState,
    Cleared,
    LinkStatus,
    MessageQueued,
    Noted,
    QueryOpened,
    TopicChanged,
    buffer_key,
)
from aronanet.errors import ClientError
from aronanet.tui import voice
from aronanet.tui.session import ChatSession


class Host(Protocol):
    """What the runner needs from the app (kept narrow so it is easy to see and test)."""

    state: ChatState

    def dispatch(self, action: Action) -> None: ...
    def now(self) -> int: ...
    def toggle_theme(self, variant: str | None) -> None: ...
    def quit(self) -> None: ...
    def spawn(self, work: Awaitable[None]) -> None: ...


class CommandRunner:
    def __init__(self, host: Host, session: ChatSession) -> None:
        self.host = host
        self.session = session
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
            cmd.ThemeCommand: lambda c: host.toggle_theme(c.variant),  # type: ignore[attr-defined]
        }

    def run(self, line: str) -> None:
        parsed = cmd.parse(line)
        if parsed is None:
            return
        if isinstance(parsed, cmd.CommandError):
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
            except ClientError as error:
                self.note(voice.failure(action, error), error=True)

        self.host.spawn(guarded())

    def _queue(self, key: str, content: str) -> None:
        self.host.dispatch(MessageQueued(key, content, self.host.now()))
        if self.host.state.link.status is not LinkStatus.ONLINE:
            self.note(voice.offline_queued(), key=key)
        self.session.wake_sender()

    def _current_channel(self, command: str) -> str | None:
        buffer = self.host.state.current
        if buffer.kind != "channel":
            self.note(voice.no_channel_here(command), error=True)
            return None
        return buffer.name

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
        channel = command.channel or self._current_channel("part")
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
        self.host.dispatch(QueryOpened(command.target))
        self._queue(buffer_key(command.target), command.text)

    def _query(self, command: cmd.QueryCommand) -> None:
        self.host.dispatch(QueryOpened(command.user))
        if command.text:
            self._queue(buffer_key(command.user), command.text)

    def _topic(self, command: cmd.TopicCommand) -> None:
        channel = self._current_channel("topic")
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

        self.network("setting the topic", set_topic)

    def _names(self, command: cmd.NamesCommand) -> None:
        channel = command.channel or self._current_channel("names")
        if channel is None:
            return
        buffer = self.host.state.buffers.get(buffer_key(channel))
        if buffer is None:
            self.note(f"Sensei, you are not in {channel}.", error=True)
            return
        self.note(f"{channel} ({len(buffer.members)}): {', '.join(buffer.members)}")

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

    def _help(self, command: cmd.HelpCommand) -> None:
        for line in cmd.help_lines(command.topic):
            self.note(line)
        if command.topic is None:
            self.note(
                "Keys: Ctrl+N/Ctrl+B next/previous buffer, Alt+1..9 jump, Tab completes, "
                "Up/Down history, PageUp loads older messages, F2 light/dark, "
                "Ctrl+P command palette, Ctrl+Q quit."
            )

    def _img(self, command: cmd.ImgCommand) -> None:
        buffer = self.host.state.current
        if buffer.kind == "status":
            self.note("Sensei, pick a channel or conversation for the image first.", error=True)
            return
        if importlib.util.find_spec("aronanet.client.transfers") is None:
            self.note("Sensei, this build cannot send images yet.", error=True)
            return
        path = Path(command.path).expanduser()
        if not path.is_file():
            self.note(f"Sensei, I cannot find the file {path}.", error=True)
            return

        async def upload() -> None:
            from aronanet.client.transfers import upload_image

            client = self.session.require_client()
            self.note(f"Sending {path.name}…", key=buffer.key)
            await upload_image(client, path, buffer.kind, buffer.name)
            await self.session.fetch_new(buffer.key)

        self.network(f"sending {path.name}", upload)
