"""§14.15 through ``SyncSession.search`` (what the terminal client calls) against a real
node: results newest first with marks, paging with ``next``, a refusal as ``NodeError``."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_support import NodeProcess, unique_name
from test_sync_session import SETTLE, peer, session_for

from aronanet.client.link import NodeError
from aronanet.client.search import marked_spans


async def test_a_sync_session_searches_its_conversations(node: NodeProcess, tmp_path: Path) -> None:
    me, friend = unique_name("me"), unique_name("fr")
    channel = f"#{unique_name('c')}"
    other = await peer(node, friend)
    await other.join(channel)
    session = session_for(node, me, tmp_path / "device")
    try:
        await session.settle(SETTLE)
        await session.online().join(channel)
        sent = [await other.send_message("channel", channel, f"Ünïcode tëst {n}") for n in range(3)]
        await other.send_message("user", me, "a unicode test in a DM")
        page = await session.search("unicode", dest_type="channel", dest=channel, limit=2)
        assert [hit.id for hit in page.results] == [sent[2].msg_id, sent[1].msg_id]
        assert marked_spans(page.results[0])[0] == ("Ünïcode", True)
        rest = await session.search("unicode", dest_type="channel", dest=channel, before=page.next)
        assert [hit.id for hit in rest.results] == [sent[0].msg_id] and rest.next is None
        everywhere = await session.search('"unicode test"')
        assert [hit.dest_type for hit in everywhere.results] == [
            "user",
            "channel",
            "channel",
            "channel",
        ]
        with pytest.raises(NodeError) as refused:
            await session.search("")
        assert refused.value.code == "INVALID"
    finally:
        await session.close()
        await other.close()
