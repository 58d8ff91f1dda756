"""ArTP/1.1 §14.15 SEARCH against a real node process over real sockets: scope (only what
the user can read now), newest first, paging with ``next``, marks, edits and deletes made
with EDIT/DELETE, the refusals and limits at their edges, the own rate limit, and the
client library's ``search``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client.connection import ArtpClient
from aronanet.client.link import NodeError
from aronanet.client.search import marked_spans, search
from aronanet.config import MAX_PLAINTEXT
from aronanet.proto.codec import encode
from aronanet.proto.lifecycle import Delete, Edit
from aronanet.proto.messages import Join, Ok, Part, Search

from .driver import PASSWORD, TestClient
from .sync_support import Serve, Served, entry_node, fresh_user, say

BURST = 3


@pytest.fixture(scope="module")
def search_node(serve: Serve) -> Iterator[Served]:
    with serve("search") as node:
        yield node


def ids(reply: Ok) -> list[str]:
    assert isinstance(reply.results, list)
    return [hit.id for hit in reply.results]


async def test_only_conversations_readable_now_are_searched(search_node, session) -> None:
    me, other, third = fresh_user("me"), fresh_user("ot"), fresh_user("th")
    joined, left, never = (f"#{fresh_user('c')}" for _ in range(3))
    word = fresh_user("w").replace("-", "")
    mine = await session(search_node, me, register=True)
    theirs = await session(search_node, other, register=True)
    outsider = await session(search_node, third, register=True)
    for channel in (joined, left):
        await mine.ok(Join(channel=channel))
    for channel in (joined, left, never):
        await theirs.ok(Join(channel=channel))
    found = [
        await theirs.ok(say(joined, f"{word} in a joined channel")),
        await theirs.ok(say(me, f"{word} in my DM")),
        await mine.ok(say(third, f"{word} I sent to a DM")),
    ]
    await theirs.ok(say(left, f"{word} in a channel I left"))
    await theirs.ok(say(never, f"{word} in a channel I never joined"))
    await theirs.ok(say(third, f"{word} in a DM between others"))
    await outsider.ok(say(other, f"{word} and another DM between others"))
    await mine.ok(Part(channel=left))
    reply = await mine.ok(Search(query=word.upper()))
    assert ids(reply) == [ok.msg_id for ok in reversed(found)]  # newest first
    assert not isinstance(reply.next, str)
    scoped = await mine.ok(Search(query=word, dest_type="user", dest=other))
    assert ids(scoped) == [found[1].msg_id]
    refused = await mine.error(Search(query=word, dest_type="channel", dest=left))
    assert refused.code == "NOT_IN_CHANNEL"
    nobody = await mine.error(Search(query=word, dest_type="user", dest=fresh_user("no")))
    assert nobody.code == "NO_SUCH_USER"


async def test_pages_follow_next_and_marks_point_at_the_words(search_node, session) -> None:
    me, channel = fresh_user("me"), f"#{fresh_user('c')}"
    client = await session(search_node, me, register=True)
    await client.ok(Join(channel=channel))
    sent = [(await client.ok(say(channel, f"🙂 Crème brûlée number {n}"))).msg_id for n in range(7)]
    walked, before, pages = [], None, 0
    while True:
        request = Search(query="creme BRULEE", dest_type="channel", dest=channel, limit=3)
        if before is not None:
            request = Search(
                query="creme BRULEE", dest_type="channel", dest=channel, limit=3, before=before
            )
        reply = await client.ok(request)
        pages += 1
        walked += ids(reply)
        assert isinstance(reply.results, list)
        for hit in reply.results:
            assert hit.marks == [[2, 5], [8, 6]]
            assert [hit.content[s : s + n] for s, n in hit.marks] == ["Crème", "brûlée"]
        if not isinstance(reply.next, str):
            break
        before = reply.next
    assert walked == sent[::-1]
    assert pages == 3


async def test_edits_are_found_by_their_new_text_and_deletes_never(search_node, session) -> None:
    me, channel = fresh_user("me"), f"#{fresh_user('c')}"
    client = await session(search_node, me, register=True, features=("sync", "lifecycle"))
    await client.ok(Join(channel=channel))
    edited = await client.ok(say(channel, "the original pumpkin words"))
    deleted = await client.ok(say(channel, "pumpkin soon gone"))
    await client.ok(Edit(msg_id=edited.msg_id, content="a new squash text"))
    await client.ok(Delete(msg_id=deleted.msg_id))
    assert ids(await client.ok(Search(query="pumpkin"))) == []
    reply = await client.ok(Search(query="squash"))
    assert ids(reply) == [edited.msg_id]
    assert isinstance(reply.results, list)
    assert reply.results[0].content == "a new squash text"
    assert isinstance(reply.results[0].edited, int)
    assert ids(await client.ok(Search(query="gone"))) == []


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "invalid query: the query is empty"),
        ("x" * 257, "invalid query: the query has 257 characters"),
        ("?! 🙂 *", "invalid query: no word to search for"),
        ("a*", "invalid query: a prefix needs at least 2"),
    ],
)
async def test_bad_queries_are_invalid_with_a_reason(search_node, session, query, reason) -> None:
    client = await session(search_node, fresh_user("me"), register=True)
    error = await client.error(Search(query=query))
    assert (error.code, error.message[: len(reason)]) == ("INVALID", reason)


async def test_limits_at_their_edges(search_node, session) -> None:
    me, channel = fresh_user("me"), f"#{fresh_user('c')}"
    client = await session(search_node, me, register=True)
    await client.ok(Join(channel=channel))
    assert ids(await client.ok(Search(query="x" * 256))) == []
    for limit in (0, 51):
        raw = encode(Search(query="word")).replace(b'"limit":20', b'"limit":%d' % limit)
        await client.send_plaintext(raw)
        error = await client.next_event()
        assert (error.code, error.message) == (
            "INVALID",
            "invalid limit: a SEARCH limit is a whole number from 1 to 50",
        )
    for _ in range(52):
        await client.ok(say(channel, "many many"))
    full = await client.ok(Search(query="many", limit=50))
    assert len(ids(full)) == 50 and isinstance(full.next, str)
    assert full.next == ids(full)[-1]
    default = await client.ok(Search(query="many"))
    assert len(ids(default)) == 20


async def test_results_are_trimmed_to_one_message(search_node, session) -> None:
    me, channel = fresh_user("me"), f"#{fresh_user('c')}"
    client = await session(search_node, me, register=True)
    await client.ok(Join(channel=channel))
    long_text = "big " * 999 + "x"  # 3997 characters, 999 marks each
    for _ in range(12):
        await client.ok(say(channel, long_text))
    reply = await client.ok(Search(query="big", limit=12))
    kept = ids(reply)
    assert 0 < len(kept) < 12
    assert len(encode(reply)) <= MAX_PLAINTEXT
    assert reply.next == kept[-1]
    rest = await client.ok(Search(query="big", limit=12, before=kept[-1]))
    assert len(kept) + len(ids(rest)) <= 12 and set(kept).isdisjoint(ids(rest))


async def test_searches_have_their_own_rate_at_its_edge(serve: Serve, session) -> None:
    limits = {"search_burst": BURST, "searches_per_second": 0.01}
    with serve("rate", rate_limit=True, limits=limits) as node:
        client = await session(node, fresh_user("me"), register=True)
        for _ in range(BURST):
            await client.ok(Search(query="anything"))
        error = await client.error(Search(query="anything"))
        assert error.code == "RATE_LIMITED"
        assert isinstance(error.retry_after_ms, int) and 90_000 <= error.retry_after_ms <= 100_000
        await client.ok(Join(channel=f"#{fresh_user('c')}"))  # MSG's bucket is untouched
        other = await session(node, fresh_user("me"), register=True)
        await other.ok(Search(query="anything"))  # per session


async def test_the_client_library_searches_and_highlights(search_node, session) -> None:
    me, channel = fresh_user("me"), f"#{fresh_user('c')}"
    writer: TestClient = await session(search_node, me, register=True)
    await writer.ok(Join(channel=channel))
    for n in range(3):
        await writer.ok(say(channel, f"Déjà vu #{n}"))
    client = await ArtpClient.connect(
        entry_node(search_node).tcp_address, device_key=X25519PrivateKey.generate()
    )
    try:
        await client.auth(me, PASSWORD)
        page = await search(client, "deja", dest_type="channel", dest=channel, limit=2)
        assert [hit.content for hit in page.results] == ["Déjà vu #2", "Déjà vu #1"]
        assert page.next == page.results[-1].id
        assert marked_spans(page.results[0]) == [("Déjà", True), (" vu #2", False)]
        older = await search(client, "deja", dest_type="channel", dest=channel, before=page.next)
        assert [hit.content for hit in older.results] == ["Déjà vu #0"] and older.next is None
        with pytest.raises(NodeError) as refused:
            await search(client, "***")
        assert refused.value.code == "INVALID"
    finally:
        await client.close()


async def test_a_result_too_large_for_a_reply_is_skipped_not_a_dead_end(
    serve: Serve, session
) -> None:
    """With ``max_content`` near the frame one message can outgrow a reply: ``next`` then
    steps past it, so paging still reaches the older results."""
    with serve("big", limits={"max_content": MAX_PLAINTEXT}) as node:
        me, channel = fresh_user("me"), f"#{fresh_user('c')}"
        client = await session(node, me, register=True)
        await client.ok(Join(channel=channel))
        small = await client.ok(say(channel, "needle small"))
        huge = await client.ok(say(channel, "needle " + "é" * 32_700))
        first = await client.ok(Search(query="needle"))
        assert (ids(first), first.next) == ([], huge.msg_id)
        rest = await client.ok(Search(query="needle", before=huge.msg_id))
        assert ids(rest) == [small.msg_id]
