"""Search (ArTP/1.1 §14.15): ``SEARCH`` over the conversations a user can read now.

The query is parsed by ``proto.search_query`` (one definition of words, phrases and
prefixes for both stores), the store finds the matching messages newest first, and each
result is the message as ``HISTORY`` has it now plus the ``marks`` of the words that
matched, computed here from the same parsed query, so they are the same on every store.

A search costs a token of the session's own search bucket (``search_burst``,
``searches_per_second``), not one of the ``MSG`` bucket: searching never slows sending. In
scale-out mode it also costs one of the account's bucket in Redis, so a user searching
through several sessions or nodes gets one budget, not one per session.
"""

from __future__ import annotations

import msgspec

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto import codec
from aronanet.proto.messages import MsgEvent, Ok, Search, SearchHit
from aronanet.proto.search_query import QueryError, SearchQuery, marks, parse_query
from aronanet.server.handlers import HandlerTable, RequestContext, fitting_count
from aronanet.server.messaging import decorated_events, message_id, resolve_destination
from aronanet.server.ratelimit import spend_session_and_account
from aronanet.server.store.rows import MessageSearch, user_key

#: No cursor is longer than a message id (at most 19 digits; 20 for safety).
_LONGEST_NEXT = "9" * 20


async def handle_search(ctx: RequestContext, request: Search) -> Ok:
    """§14.15 SEARCH ``{query, dest_type?, dest?, before?, limit?}`` -> ``results``, ``next``."""
    services = ctx.services
    if services.limits.rate_limit_enabled:
        wait = await spend_session_and_account(
            services.searches,
            ctx.session.id,
            services.shared_buckets,
            services.search_budget,
            user_key(ctx.user),
        )
        if wait:
            raise RequestError(
                ErrorCode.RATE_LIMITED,
                f"at most {services.limits.search_burst} searches at once, then one per "
                f"{1 / services.limits.searches_per_second:g} s; retry in {wait} ms",
                retry_after_ms=wait,
            )
    query = _parsed(request.query)
    conversation = None
    if isinstance(request.dest_type, str) and isinstance(request.dest, str):
        destination = await resolve_destination(ctx, request.dest_type, request.dest)
        conversation = destination.conversation
    rows = await services.store.search(
        MessageSearch(
            user=ctx.user,
            query=query,
            limit=request.limit + 1,  # one more tells whether there is a next page
            conversation=conversation,
            before=message_id(request.before, "before"),
        )
    )
    events = await decorated_events(ctx, rows[: request.limit])
    hits = [_hit(event, query) for event in events]
    envelope = len(codec.encode(ctx.ok(results=[], next=_LONGEST_NEXT)))
    kept = fitting_count(hits, ctx.session.conn.max_plaintext - envelope)
    more = kept < len(rows)
    # A result too large for a message alone (max_content near the frame) is skipped.
    last = hits[kept - 1] if kept else (hits[0] if hits else None)
    return ctx.ok(results=hits[:kept], next=last.id if more and last else msgspec.UNSET)


def _parsed(text: str) -> SearchQuery:
    try:
        return parse_query(text)
    except QueryError as error:
        raise RequestError(ErrorCode.INVALID, f"invalid query: {error}") from None


def _hit(event: MsgEvent, query: SearchQuery) -> SearchHit:
    """The result for one message: its ``MSG`` object as HISTORY has it, with ``marks``."""
    return SearchHit(**msgspec.structs.asdict(event), marks=marks(query, event.content))


def register_search_handlers(table: HandlerTable) -> None:
    table.register(Search, handle_search)
