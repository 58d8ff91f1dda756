"""§14.15 SEARCH in scale-out: two node processes on one PostgreSQL. What is sent, edited
and deleted through one node is what a search through the other finds (the ``tsvector``
follows EDIT and DELETE), with the same marks as on SQLite."""

from __future__ import annotations

from node.driver import PASSWORD, TestClient
from node.sync_support import auth, fresh_user, say

from aronanet.proto.lifecycle import Delete, Edit
from aronanet.proto.messages import Join, Search


async def test_a_search_on_one_node_sees_edits_and_deletes_made_on_the_other(cluster) -> None:  # type: ignore[no-untyped-def]
    a, b = cluster
    channel = f"#{fresh_user('x')}"
    author, reader = fresh_user("au"), fresh_user("re")
    writer = await TestClient.connect(a.port, features=("lifecycle",))
    searcher = await TestClient.connect(b.port)
    try:
        for client, user in ((writer, author), (searcher, reader)):
            await client.ok(auth(user, PASSWORD, register=True))
            await client.ok(Join(channel=channel))
        kept = await writer.ok(say(channel, "Zürich fondue, déjà vu"))
        edited = await writer.ok(say(channel, "zurich is old text"))
        gone = await writer.ok(say(channel, "zurich soon deleted"))
        await writer.ok(Edit(msg_id=edited.msg_id, content="Genève now"))
        await writer.ok(Delete(msg_id=gone.msg_id))
        found = await searcher.ok(Search(query="zurich"))
        assert isinstance(found.results, list)
        assert [hit.id for hit in found.results] == [kept.msg_id]
        assert found.results[0].marks == [[0, 6]]
        geneve = await searcher.ok(Search(query="geneve", dest_type="channel", dest=channel))
        assert isinstance(geneve.results, list)
        assert [hit.id for hit in geneve.results] == [edited.msg_id]
        assert (await searcher.ok(Search(query='"deja vu"'))).results[0].marks == [[15, 4], [20, 2]]  # type: ignore[index]
    finally:
        await writer.close()
        await searcher.close()
