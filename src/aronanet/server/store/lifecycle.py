"""The ``lifecycle`` part of the store (§14.9-14.14), once for every backend.

A backend provides two primitives, ``write_script`` (in its next group commit, so the
check and the change are one transaction) and ``read_script``; the methods here choose the
script (``lifecycle_sql``) and the backend runs it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from aronanet.server.store import lifecycle_sql as scripts
from aronanet.server.store.base import Store
from aronanet.server.store.lifecycle_sql import Dialect, Script
from aronanet.server.store.rows import (
    Change,
    ChangesQuery,
    Decorations,
    EditRequest,
    MessageRow,
    ReactionRequest,
)

ScriptFactory = Callable[[Dialect], Script]


class LifecycleStore(Store):
    """A ``Store`` that also edits, deletes and reacts to messages."""

    @abstractmethod
    async def write_script(self, build: ScriptFactory) -> Any:
        """Run ``build(dialect)`` in the writer's next transaction; its return value."""

    @abstractmethod
    async def read_script(self, build: ScriptFactory) -> Any:
        """Run ``build(dialect)`` as a read of everything committed."""

    async def message(self, message_id: int) -> MessageRow | None:
        """One stored message (tombstones included), or None."""
        row: MessageRow | None = await self.read_script(
            lambda dialect: scripts.message_script(dialect, message_id)
        )
        return row

    async def edit_message(self, edit: EditRequest) -> Change:
        """§14.10: replace the text of the author's live message."""
        change: Change = await self.write_script(lambda d: scripts.edit_script(d, edit))
        return change

    async def delete_message(
        self, message_id: int, author: str, at: int, *, any_author: bool = False
    ) -> Change:
        """§14.11: make the author's live message a tombstone (``any_author``: anyone's,
        for a moderator, §14.18)."""
        change: Change = await self.write_script(
            lambda d: scripts.delete_script(d, message_id, author, at, any_author)
        )
        return change

    async def react(self, request: ReactionRequest) -> Change:
        """§14.12: add or remove one user's reaction (idempotent: ``changed`` says)."""
        change: Change = await self.write_script(lambda d: scripts.react_script(d, request))
        return change

    async def changes(self, query: ChangesQuery) -> list[MessageRow]:
        """§14.14: messages of a conversation with ``rev > since``, in rev order."""
        rows: list[MessageRow] = await self.read_script(lambda d: scripts.changes_script(d, query))
        return rows

    async def decorations(self, rows: Sequence[MessageRow]) -> Decorations:
        """Reactions of ``rows`` and the messages their replies quote."""
        if not rows:
            return Decorations()
        found: Decorations = await self.read_script(lambda d: scripts.decorations_script(d, rows))
        return found

    async def kept_edits(self, message_id: int) -> list[tuple[int, str]]:
        """Operators' record (``keep_edit_history``): (replaced at, old text), oldest first."""
        kept: list[tuple[int, str]] = await self.read_script(
            lambda d: scripts.kept_edits_script(d, message_id)
        )
        return kept
