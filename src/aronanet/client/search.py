"""ArTP/1.1 §14.15 ``SEARCH`` for programs and the terminal client.

``search`` sends one request and returns one page; ``page.next`` (when there may be more)
is passed back as ``before`` for the next, older page. Each result is the message as
``HISTORY`` has it now (a ``MsgEvent``) with ``marks``: ``[start, length]`` in code points
of its ``content``, the words the query matched, for highlighting (``marked_spans``).

The node refuses a bad query with ``NodeError`` ``INVALID`` (``invalid query: ...``, the
text to show), and too many searches with ``RATE_LIMITED`` and ``retry_after_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msgspec import UNSET

from aronanet.client.connection import ArtpClient, build_request
from aronanet.proto import messages
from aronanet.proto.messages import SEARCH_LIMIT_DEFAULT, SearchHit

__all__ = ["SearchPage", "marked_spans", "search"]


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results, newest first; ``next`` is the ``before`` of the next page."""

    results: list[SearchHit]
    next: str | None


async def search(
    client: ArtpClient,
    query: str,
    *,
    dest_type: str | None = None,
    dest: str | None = None,
    before: str | None = None,
    limit: int = SEARCH_LIMIT_DEFAULT,
) -> SearchPage:
    """Search every conversation the user can read, or only ``dest_type``/``dest``."""
    fields: dict[str, Any] = {"query": query, "limit": limit}
    if dest_type is not None and dest is not None:
        fields.update(dest_type=dest_type, dest=dest)
    if before is not None:
        fields["before"] = before
    reply = await client.request(build_request(messages.Search, **fields))
    results = [] if reply.results is UNSET else list(reply.results)
    return SearchPage(results, reply.next if isinstance(reply.next, str) else None)


def marked_spans(hit: SearchHit) -> list[tuple[str, bool]]:
    """``hit.content`` cut into ``(text, marked)`` pieces, in order, for highlighting."""
    content, pieces, at = hit.content, [], 0
    for start, length in sorted(hit.marks):
        if start < at or start + length > len(content):
            continue  # overlapping or out of range: never trust a peer's numbers blindly
        if start > at:
            pieces.append((content[at:start], False))
        pieces.append((content[start : start + length], True))
        at = start + length
    if at < len(content):
        pieces.append((content[at:], False))
    return pieces
