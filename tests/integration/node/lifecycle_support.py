"""Shared pieces of the ArTP/1.1 ``lifecycle`` tests (§14.9-14.14): a node (in scale mode,
a community) started with the lifecycle flags, a channel of fresh users with their
sessions, and the requests the tests repeat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from aronanet.proto.lifecycle import Changes, Delete, Edit, React, Typing, Unreact
from aronanet.proto.messages import History, Join, MsgEvent, Ok, SendMsg

from .driver import TestClient
from .sync_support import Serve, Served, fresh_user

LIFECYCLE = ("lifecycle", "sync")
#: ``max_reactions`` of the test node: small, so its edge is cheap to reach.
MAX_REACTIONS = 3
#: TYPING budget of the test node: a burst, then (practically) nothing more.
TYPING_BURST = 8

Opener = Callable[..., Awaitable[TestClient]]


def lifecycle_node(serve: Serve, name: str) -> Iterator[Served]:
    """The file's node with ``--max-reactions`` and ``--keep-edit-history``."""
    with serve(
        name,
        flags=("--max-reactions", str(MAX_REACTIONS), "--keep-edit-history"),
        limits={"typing_burst": TYPING_BURST, "typing_per_second": 0.01},
    ) as node:
        yield node


@dataclass
class Room:
    """A fresh channel with its author (two devices), a reader, and a 1.0 bystander."""

    channel: str
    author: str
    reader: str
    bystander_name: str
    mine: TestClient  # the author's first device (lifecycle)
    my_other: TestClient  # the author's second device (lifecycle)
    theirs: TestClient  # the reader (lifecycle)
    old: TestClient  # a 1.0 client: asks for no feature

    async def post(self, content: str, **fields: object) -> str:
        message = SendMsg(dest_type="channel", dest=self.channel, content=content, **fields)  # type: ignore[arg-type]
        reply = await self.mine.ok(message)
        assert isinstance(reply.msg_id, str)
        for client in (self.my_other, self.theirs, self.old):
            await client.next_event_of(MsgEvent)
        return reply.msg_id

    async def history(self, client: TestClient | None = None, **fields: object) -> list[MsgEvent]:
        reply = await (client or self.theirs).ok(
            History(dest_type="channel", dest=self.channel, **fields)  # type: ignore[arg-type]
        )
        assert isinstance(reply.messages, list)
        return reply.messages

    async def find(self, msg_id: str, client: TestClient | None = None) -> MsgEvent:
        [found] = [m for m in await self.history(client, around=msg_id, limit=1)]
        assert found.id == msg_id
        return found

    def changes(self, since: str, limit: int = 50) -> Changes:
        return Changes(dest_type="channel", dest=self.channel, since=since, limit=limit)

    def typing(self, typing: bool = True) -> Typing:
        return Typing(dest_type="channel", dest=self.channel, typing=typing)


async def open_room(node: Served, session: Opener) -> Room:
    channel = f"#{fresh_user('c')}"
    author, reader, bystander = fresh_user("au"), fresh_user("re"), fresh_user("old")
    mine = await session(node, author, register=True, features=LIFECYCLE)
    my_other = await session(node, author, features=LIFECYCLE)
    theirs = await session(node, reader, register=True, features=LIFECYCLE)
    old = await session(node, bystander, register=True, features=())
    for client in (mine, theirs, old):
        await client.ok(Join(channel=channel))
    return Room(channel, author, reader, bystander, mine, my_other, theirs, old)


def edit(msg_id: str, content: str) -> Edit:
    return Edit(msg_id=msg_id, content=content)


def delete(msg_id: str) -> Delete:
    return Delete(msg_id=msg_id)


def react(msg_id: str, emoji: str, *, add: bool = True) -> React | Unreact:
    return React(msg_id=msg_id, emoji=emoji) if add else Unreact(msg_id=msg_id, emoji=emoji)


def rev_of(reply: Ok) -> str:
    assert isinstance(reply.rev, str)
    return reply.rev
