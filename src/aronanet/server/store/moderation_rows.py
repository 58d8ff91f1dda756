"""The rows of ArTP/1.1 ``moderation`` (§14.16-14.21): what the store reads and records.

Apart from the SQL because the node's moderation (``server.moderation``,
``moderation_state``), ``aronanet admin`` and the lifecycle handlers build and read these
rows without running a script of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Roles by strength; "member" is a member without a ``channel_roles`` row.
RANK = {"owner": 3, "operator": 2, "voiced": 1, "member": 0}


@dataclass(frozen=True, slots=True)
class ChannelModeration:
    """One channel's moderation state, as the hot path (MSG, TOPIC) consults it."""

    invite_only: bool = False
    moderated: bool = False
    topic_locked: bool = False
    roles: dict[str, str] | None = None  # user key -> owner/operator/voiced
    mutes: dict[str, int] | None = None  # user key -> muted until (Unix seconds)

    def role_of(self, user_key: str) -> str:
        return (self.roles or {}).get(user_key, "member")

    def muted_until(self, user_key: str, now: int) -> int | None:
        until = (self.mutes or {}).get(user_key)
        return until if until is not None and until > now else None


@dataclass(frozen=True, slots=True)
class BanRow:
    user: str
    by: str
    reason: str
    at: int


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: int
    by: str
    action: str
    user: str | None
    channel: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An action to record: who did what to whom, where, why."""

    at: int
    by: str
    action: str
    user: str | None = None
    channel: str | None = None
    reason: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "by": self.by,
            "action": self.action,
            "user": self.user,
            "channel": self.channel,
            "reason": self.reason,
        }
