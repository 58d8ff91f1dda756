"""ArTP/1.1 ``moderation`` (§14.16-14.19) for the terminal client: commands and events.

``ModerationOps`` (Textual-free, like ``LifecycleOps``) sends the requests and reports what
changed as reducer actions. The node sends the ``MODERATION`` event to everyone concerned
except the session that asked (§14.19), so for our own command the ``OK`` is turned into the
same event here: one path renders "kei was banned by arona: spam" whoever did it.
``command_handlers`` plugs the ``/kick`` ... ``/block`` commands into the command runner.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aronanet.client.connection import ArtpClient
from aronanet.client.moderation import ChannelDetails, channel_details
from aronanet.client.moderation_commands import (
    BlockCommand,
    InviteCommand,
    ModeCommand,
    MuteCommand,
    RemoveCommand,
    RoleCommand,
)
from aronanet.client.moderation_words import describe, describe_modes
from aronanet.client.state import Action, BlocksLoaded, ChatState, ModerationReceived, RosterLoaded
from aronanet.client.state.moderation import modes_of
from aronanet.proto.moderation import ModerationEvent, Modes

if TYPE_CHECKING:
    from aronanet.tui.command_runner import CommandRunner


class ModerationOps:
    """The requests of §14.16-14.19 and the actions their answers become."""

    def __init__(
        self,
        client: Callable[[], ArtpClient],
        dispatch: Callable[[Action], None],
        state: Callable[[], ChatState],
        now: Callable[[], int],
    ) -> None:
        self._client = client
        self._dispatch = dispatch
        self._state = state
        self._now = now
        self._own_ids = (f"own-moderation:{n}" for n in itertools.count(1))

    def received(self, event: ModerationEvent) -> None:
        """A ``MODERATION`` event from the node: its line, and what it changes."""
        self._dispatch(ModerationReceived(event, describe(event, me=self._state().me)))

    async def load_roster(self, channel: str) -> ChannelDetails | None:
        """Roles and modes of ``channel`` (None from a node without moderation)."""
        client = self._client()
        if not client.moderation:
            return None
        details = await channel_details(client, channel)
        roles = tuple((member.user, member.role) for member in details.roster)
        self._dispatch(RosterLoaded(channel, roles, modes_of(details.modes)))
        return details

    async def load_blocks(self) -> None:
        client = self._client()
        if client.moderation:
            self._dispatch(BlocksLoaded(tuple(await client.blocks())))

    def _own(self, action: str, channel: str, **fields: Any) -> None:
        """Our own request succeeded: show it as the event the others got."""
        me = self._state().me or ""
        event = ModerationEvent(
            id=next(self._own_ids),
            action=action,  # type: ignore[arg-type]
            channel=channel,
            by=me,
            timestamp=self._now(),
            **{name: value for name, value in fields.items() if value},
        )
        self.received(event)

    async def remove(self, channel: str, command: RemoveCommand) -> None:
        client = self._client()
        if command.action == "kick":
            await client.kick(channel, command.user, command.reason)
        elif command.action == "ban":
            await client.ban(channel, command.user, command.reason)
        else:
            await client.unban(channel, command.user)
        self._own(command.action, channel, user=command.user, reason=command.reason)

    async def mute(self, channel: str, command: MuteCommand) -> None:
        client = self._client()
        ok = await client.mute(channel, command.user, command.seconds, command.reason)
        until = ok.until if isinstance(ok.until, int) else None
        action = "mute" if command.seconds else "unmute"
        self._own(action, channel, user=command.user, reason=command.reason, until=until)

    async def set_role(self, channel: str, command: RoleCommand) -> None:
        await self._client().set_role(channel, command.user, command.role)
        self._own("role", channel, user=command.user, role=command.role)

    async def invite(self, channel: str, command: InviteCommand) -> None:
        await self._client().invite(channel, command.user)
        self._own("invite", channel, user=command.user)

    async def set_modes(self, channel: str, changes: dict[str, bool]) -> Modes:
        ok = await self._client().set_modes(channel, **changes)
        modes = ok.modes if isinstance(ok.modes, Modes) else Modes()
        self._own("mode", channel, modes=modes)
        return modes

    async def block(self, user: str, blocked: bool) -> tuple[str, ...]:
        client = self._client()
        await client.block(user, blocked)
        users = tuple(await client.blocks())
        self._dispatch(BlocksLoaded(users))
        return users


def command_handlers(runner: CommandRunner) -> dict[type, Callable[[Any], None]]:
    """The runner's table entries for the moderation commands; failures are explained in
    words by ``voice.failure`` (``NOT_OPERATOR``: "only the channel's operators...")."""
    ops = runner.session.moderation

    def in_channel(name: str, work: Callable[[str], Any]) -> None:
        channel = runner.current_channel(name)
        if channel is not None:
            runner.network(name, lambda: work(channel))

    def remove(command: RemoveCommand) -> None:
        in_channel(command.action, lambda channel: ops.remove(channel, command))

    def mute(command: MuteCommand) -> None:
        in_channel("mute" if command.seconds else "unmute", lambda c: ops.mute(c, command))

    def role(command: RoleCommand) -> None:
        in_channel(f"giving {command.user} a role", lambda c: ops.set_role(c, command))

    def invite(command: InviteCommand) -> None:
        in_channel("invite", lambda c: ops.invite(c, command))

    def mode(command: ModeCommand) -> None:
        changes = command.changes
        if changes is not None:
            in_channel("mode", lambda c: ops.set_modes(c, changes))
            return

        async def show(channel: str) -> None:
            details = await ops.load_roster(channel)
            if details is None:
                runner.note("Sensei, this node has no channel modes (no moderation).")
                return
            runner.note(f"{channel} is {describe_modes(details.modes)}.")
            if details.ban_count > len(details.bans):
                runner.note(f"  {details.ban_count} bans; the newest {len(details.bans)}:")
            for ban in details.bans:
                reason = f": {ban.reason}" if ban.reason else ""
                runner.note(f"  banned: {ban.user} by {ban.by}{reason}")

        in_channel("mode", show)

    def block(command: BlockCommand) -> None:
        user = command.user
        if user is None:

            async def show() -> None:
                await ops.load_blocks()
                blocked = sorted(runner.host.state.blocked)
                listed = ", ".join(blocked) if blocked else "nobody"
                runner.note(f"Sensei, you block: {listed}.")

            runner.network("listing blocks", show)
            return

        async def change() -> None:
            await ops.block(user, command.blocked)
            if command.blocked:
                runner.note(f"Blocked {user}, Sensei: I hide their messages and refuse their DMs.")
            else:
                runner.note(f"{user} is no longer blocked, Sensei.")

        runner.network("blocking" if command.blocked else "unblocking", change)

    return {
        RemoveCommand: remove,
        MuteCommand: mute,
        RoleCommand: role,
        InviteCommand: invite,
        ModeCommand: mode,
        BlockCommand: block,
    }
