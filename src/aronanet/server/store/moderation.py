"""The ``moderation`` part of the store (§14.16-14.21), once for every backend.

Like ``LifecycleStore``: the backend provides ``write_script`` / ``read_script``; the
methods here choose the script (``moderation_sql``, ``node_moderation_sql``), so SQLite and
PostgreSQL cannot drift. Every change that moderates records its audit entry in the same
transaction.
"""

from __future__ import annotations

from typing import Any

from aronanet.server.store import moderation_sql as scripts
from aronanet.server.store import node_moderation_sql as node_sql
from aronanet.server.store.lifecycle import LifecycleStore
from aronanet.server.store.moderation_rows import AuditRecord, AuditRow, BanRow, ChannelModeration


class ModerationStore(LifecycleStore):
    """A ``Store`` that also keeps roles, bans, mutes, modes, admins, blocks and tokens."""

    async def _change(self, build: Any) -> Any:
        return await self.write_script(build)

    # ------------------------------------------------------------ channels

    async def channel_moderation(self, channel: str) -> ChannelModeration:
        found: ChannelModeration = await self.read_script(
            lambda d: scripts.channel_moderation_script(d, channel)
        )
        return found

    async def invite_only_channels(self) -> list[str]:
        names: list[str] = await self.read_script(scripts.invite_only_channels_script)
        return names

    async def admission(self, channel: str, user_key: str, admin: bool) -> str | None:
        """None if the user may JOIN, else why not: ``banned`` or ``invite_only``."""
        refusal: str | None = await self.read_script(
            lambda d: scripts.admission_script(d, channel, user_key, admin)
        )
        return refusal

    async def joined(self, channel: str, user_key: str) -> str:
        """After a JOIN: spend the invitation, make a new channel's creator its owner."""
        role: str = await self._change(lambda d: scripts.joined_script(d, channel, user_key))
        return role

    async def set_role(self, channel: str, user_key: str, role: str, record: AuditRecord) -> None:
        await self._change(lambda d: scripts.set_role_script(d, channel, user_key, role, record))

    async def remove_member(
        self,
        channel: str,
        user_key: str,
        record: AuditRecord,
        ban: tuple[str, str, str, int] | None = None,
    ) -> bool:
        """KICK (or, with ``ban``, BAN): whether the user was a member."""
        was: bool = await self._change(
            lambda d: scripts.remove_member_script(d, channel, user_key, ban, record)
        )
        return was

    async def unban(self, channel: str, user_key: str, record: AuditRecord) -> bool:
        was: bool = await self._change(lambda d: scripts.unban_script(d, channel, user_key, record))
        return was

    async def mute(
        self, channel: str, user_key: str, until: int | None, record: AuditRecord
    ) -> None:
        await self._change(lambda d: scripts.mute_script(d, channel, user_key, until, record))

    async def set_modes(self, channel: str, modes: dict[str, bool], record: AuditRecord) -> None:
        await self._change(lambda d: scripts.mode_script(d, channel, modes, record))

    async def invite(
        self, channel: str, user_key: str, by: str, at: int, record: AuditRecord
    ) -> None:
        await self._change(lambda d: scripts.invite_script(d, channel, user_key, by, at, record))

    async def is_banned(self, channel: str, user_key: str) -> bool:
        banned: bool = await self.read_script(
            lambda d: scripts.is_banned_script(d, channel, user_key)
        )
        return banned

    async def bans(self, channel: str) -> list[BanRow]:
        rows: list[BanRow] = await self.read_script(lambda d: scripts.bans_script(d, channel))
        return rows

    # ------------------------------------------------------------ node

    async def is_admin(self, user_key: str) -> bool:
        admin: bool = await self.read_script(lambda d: node_sql.is_admin_script(d, user_key))
        return admin

    async def set_admin(self, user_key: str, name: str, admin: bool, record: AuditRecord) -> None:
        await self._change(lambda d: node_sql.set_admin_script(d, user_key, name, admin, record))

    async def set_disabled(self, user_key: str, at: int | None, record: AuditRecord) -> bool:
        exists: bool = await self._change(
            lambda d: node_sql.set_disabled_script(d, user_key, at, record)
        )
        return exists

    async def is_disabled(self, user_key: str) -> bool:
        disabled: bool = await self.read_script(lambda d: node_sql.is_disabled_script(d, user_key))
        return disabled

    async def set_block(
        self, user_key: str, blocked_key: str, name: str, blocked: bool, at: int
    ) -> None:
        await self._change(
            lambda d: node_sql.set_block_script(d, user_key, blocked_key, name, blocked, at)
        )

    async def blocks(self, user_key: str) -> list[str]:
        names: list[str] = await self.read_script(lambda d: node_sql.blocks_script(d, user_key))
        return names

    async def audit(self, before: int | None, limit: int) -> list[AuditRow]:
        rows: list[AuditRow] = await self.read_script(
            lambda d: node_sql.audit_script(d, before, limit)
        )
        return rows

    async def audit_after(self, after: int) -> list[AuditRow]:
        """Entries newer than ``after``, oldest first (the node's control feed)."""
        rows: list[AuditRow] = await self.read_script(
            lambda d: node_sql.audit_after_script(d, after)
        )
        return rows

    async def latest_audit(self) -> int:
        latest: int = await self.read_script(node_sql.latest_audit_script)
        return latest

    async def record(self, record: AuditRecord) -> None:
        await self._change(lambda d: node_sql.record_script(d, record))

    # ------------------------------------------------------------ tokens

    async def add_token(
        self,
        token_hash: str,
        kind: str,
        user_key: str | None,
        uses: int,
        expires: int | None,
        record: AuditRecord,
    ) -> None:
        await self._change(
            lambda d: node_sql.add_token_script(
                d, token_hash, kind, user_key, uses, expires, record
            )
        )

    async def use_token(self, token_hash: str, kind: str, now: int) -> str | None:
        """Spend one use of a live token: its user key ("" for an invitation), or None."""
        found: str | None = await self._change(
            lambda d: node_sql.use_token_script(d, token_hash, kind, now)
        )
        return found

    async def refund_token(self, token_hash: str) -> None:
        await self._change(lambda d: node_sql.refund_token_script(d, token_hash))
