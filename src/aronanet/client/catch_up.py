"""Bringing one held conversation up to date from an anchor, gap-free (ArTP/1.1 §14.5-14.14).

``SyncSession`` decides which conversations to fetch and when (after each sign-in, after a
send, after live events); how one conversation is paged is here, as functions over a client
and a ``ConversationView``, so that the paging rules read apart from the session's state:
``HISTORY after`` the newest message held until an empty page, then ``CHANGES`` since the
newest rev held (§14.14) for what was edited, deleted or reacted to meanwhile.
"""

from __future__ import annotations

from aronanet.client.connection import ArtpClient
from aronanet.client.conversation_view import ConversationView
from aronanet.proto import messages


async def fetch_after(
    client: ArtpClient,
    view: ConversationView,
    anchor: str | None,
    *,
    page_size: int,
    backfill: bool = False,
) -> None:
    """``HISTORY after`` ``anchor`` until an empty page (a short page is not the end: the
    node trims pages to fit a frame); with no anchor the latest page first, and with
    ``backfill`` every page before it as well (§14.5, §14.7)."""
    if anchor is None:
        page = await _history(client, view, page_size)
        view.merge_after(None, page)
        if backfill:
            # Paged by the node's own pages, not by the view's first id: a view that
            # held live events in arrival order may start with one that is not its
            # oldest, and paging before it would return held messages forever.
            while page:
                page = await _history(client, view, page_size, before=page[0].id)
                view.merge_before(page)
        anchor = view.last_id
    while anchor is not None:
        page = await _history(client, view, page_size, after=anchor)
        if not page:
            return
        view.merge_after(anchor, page)
        anchor = page[-1].id


async def fetch_changes(client: ArtpClient, view: ConversationView, *, page_size: int) -> None:
    """§14.14: what changed in held messages (edits, deletes, reactions) while away."""
    since = view.rev
    if since is None or "lifecycle" not in client.features:
        return
    more = True
    while more:
        page, since, more = await client.changes(view.dest_type, view.dest, since, limit=page_size)
        view.merge_changes(page)


async def _history(
    client: ArtpClient,
    view: ConversationView,
    page_size: int,
    *,
    before: str | None = None,
    after: str | None = None,
) -> list[messages.MsgEvent]:
    return await client.history(
        view.dest_type, view.dest, before=before, after=after, limit=page_size
    )
