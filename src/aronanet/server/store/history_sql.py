"""§3 HISTORY as SQL, written once for SQLite and PostgreSQL (and §14.9's ``around``).

The two backends differ only in their parameter marker, so the statements are built here
from it and both stores page through a conversation the same way, in the same order.
"""

from __future__ import annotations

from aronanet.server.store.rows import MESSAGE_COLUMNS, HistoryQuery, MessageRow


def history_statement(query: HistoryQuery, mark: str) -> tuple[str, tuple[str | int, ...], bool]:
    """§3 HISTORY as SQL for a backend whose parameter marker is ``mark`` (``?``, ``%s``).

    Returns the statement, its arguments, and whether the rows come newest first (the
    caller then reverses them): "always oldest first", but the ``limit`` rows next to the
    anchor, or the latest ``limit`` without one.
    """
    base = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation = {mark}"
    if query.around is not None:  # the newer half; ``around_statement`` gives the older
        sql = f"{base} AND id >= {mark} ORDER BY id ASC LIMIT {mark}"
        return sql, (query.conversation, query.around, query.limit), False
    if query.after is not None:
        sql = f"{base} AND id > {mark} ORDER BY id ASC LIMIT {mark}"
        return sql, (query.conversation, query.after, query.limit), False
    if query.before is not None:
        sql = f"{base} AND id < {mark} ORDER BY id DESC LIMIT {mark}"
        return sql, (query.conversation, query.before, query.limit), True
    sql = f"{base} ORDER BY id DESC LIMIT {mark}"
    return sql, (query.conversation, query.limit), True


def around_statement(query: HistoryQuery, mark: str) -> tuple[str, tuple[str | int, ...]]:
    """§14.9 HISTORY ``around``: the older side (newest first); the newer side (the anchor
    and after) is ``history_statement``'s. ``centre`` picks from both."""
    assert query.around is not None
    sql = (
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation = {mark} "
        f"AND id < {mark} ORDER BY id DESC LIMIT {mark}"
    )
    return sql, (query.conversation, query.around, query.limit)


def centre(older: list[MessageRow], newer: list[MessageRow], limit: int) -> list[MessageRow]:
    """At most ``limit`` rows around an anchor, oldest first: ``limit // 2`` of the
    ``older`` (newest first) and the rest of the ``newer`` (oldest first, from the anchor),
    a short side's share going to the other."""
    want_older = limit // 2
    want_newer = limit - want_older
    if len(newer) < want_newer:
        want_older += want_newer - len(newer)
    if len(older) < want_older:
        want_newer += want_older - len(older)
    return older[:want_older][::-1] + newer[:want_newer]
