"""Behaviour docs/PROTOCOL.md now specifies, found unspecified by an independent client."""

from __future__ import annotations

import asyncio
import json

from aronanet.errors import ErrorCode
from aronanet.proto.messages import Error, History, MsgEvent, Ok, SendMsg


async def test_a_dm_to_yourself_is_stored_once_and_reaches_your_other_sessions_once(node, connect):
    """§6 MSG: a note to self; the OK to the sender, one event to each other session."""
    sender, other = await connect(node), await connect(node)
    await sender.login("Selfie")
    await other.login("Selfie", register=False)
    sent = await sender.ok(SendMsg(dest_type="user", dest="selfie", content="note to self"))
    event = await other.next_event_of(MsgEvent)
    assert (event.id, event.from_, event.dest) == (sent.msg_id, "Selfie", "Selfie")
    await other.no_event(MsgEvent)
    await sender.no_event(MsgEvent)
    history = await other.ok(History(dest_type="user", dest="SELFIE"))
    assert [m.id for m in history.messages] == [sent.msg_id]


async def test_before_and_after_take_at_most_64_characters(node, connect):
    """§6 HISTORY: the cap on ``before``/``after``, at its edge."""
    client = await connect(node)
    await client.login("edges")
    longest = await client.request(History(dest_type="user", dest="edges", before="9" * 64))
    assert isinstance(longest, Ok) and longest.messages == []
    for field in ("before", "after"):
        request_id = client.next_id()
        reply = client.expect_reply(request_id)
        request = {"type": "HISTORY", "dest_type": "user", "dest": "edges", field: "9" * 65}
        await client.send_plaintext(json.dumps({**request, "id": request_id}).encode())
        error = await asyncio.wait_for(reply, 5)
        assert isinstance(error, Error) and error.code == ErrorCode.INVALID
        assert error.message == f"invalid {field}: {field} is a message id of 1-64 characters"
