"""ArTP/1.1 ``lifecycle`` (§14.9-14.13) for the terminal client: the requests and the events.

``LifecycleOps`` sends ``EDIT``, ``DELETE``, ``REACT``/``UNREACT``, ``TYPING`` and
``HISTORY around`` and reports each ``OK`` as a reducer action: the requesting session gets
no event for its own change (§14.10-14.12), so the ``OK`` is what updates this screen.
``lifecycle_action`` turns the events other sessions cause into the same actions.
Textual-free, like ``ChatSession``; every failure is raised as the node's ``ClientError``
for the command runner to say in Arona's words.

The requests themselves are ``ArtpClient``'s (``edit``, ``delete``, ``react``, ``typing``,
``history(around=)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aronanet.client.connection import ArtpClient
from aronanet.client.state import (
    Action,
    Buffer,
    ChatState,
    HistoryLoaded,
    Line,
    MessageDeleted,
    MessageEdited,
    ReactionChanged,
    TypingChanged,
)
from aronanet.errors import ClientError
from aronanet.proto.features import LIFECYCLE
from aronanet.proto.lifecycle import DeleteEvent, EditEvent, ReactionEvent, TypingEvent

LIFECYCLE_EVENTS = (EditEvent, DeleteEvent, ReactionEvent, TypingEvent)
#: §14.13: send ``typing: true`` at most this often while the line keeps changing.
TYPING_EVERY_SECONDS = 3.0
#: §14.13: the node relays ``typing: false`` only within this long of a relayed true.
TYPING_FALSE_WITHIN_SECONDS = 6.0
#: A jump shows this many messages around the target.
AROUND_PAGE = 50


def lifecycle_action(
    event: EditEvent | DeleteEvent | ReactionEvent | TypingEvent, now: float
) -> Action:
    """The reducer action of a lifecycle event; ``now`` (Unix seconds) dates a typing."""
    if isinstance(event, EditEvent):
        return MessageEdited(event.msg_id, event.content, event.edited)
    if isinstance(event, DeleteEvent):
        return MessageDeleted(event.msg_id, event.timestamp)
    if isinstance(event, ReactionEvent):
        return ReactionChanged(event.msg_id, event.emoji, event.from_, event.added, event.count)
    return TypingChanged(
        event.dest_type,
        event.dest,
        event.from_,
        event.typing,
        now + event.expires_ms / 1000,
        now,
    )


def require_lifecycle(client: ArtpClient) -> ArtpClient:
    """The client, if its node speaks ``lifecycle``; a 1.0 node would refuse the type."""
    if LIFECYCLE not in client.features:
        raise ClientError("UNSUPPORTED", "this node does not offer edits and reactions")
    return client


def reacted(line: Line, emoji: str, me: str) -> bool:
    """True when ``me`` gave ``emoji`` to ``line`` (the same command takes it back)."""
    folded = me.casefold()
    return any(
        r.emoji == emoji and any(u.casefold() == folded for u in r.users) for r in line.reactions
    )


class LifecycleOps:
    """The lifecycle requests of the session: each reports its ``OK`` as an action."""

    def __init__(
        self,
        get_client: Callable[[], ArtpClient],
        dispatch: Callable[[Action], None],
        get_state: Callable[[], ChatState],
    ) -> None:
        self._client = get_client
        self._dispatch = dispatch
        self._state = get_state

    def _lifecycle_client(self) -> ArtpClient:
        return require_lifecycle(self._client())

    async def edit(self, msg_id: str, content: str) -> None:
        ok = await self._lifecycle_client().edit(msg_id, content)
        edited = ok.edited if isinstance(ok.edited, int) else int(time.time())
        self._dispatch(MessageEdited(msg_id, content, edited))

    async def delete(self, msg_id: str) -> None:
        await self._lifecycle_client().delete(msg_id)
        self._dispatch(MessageDeleted(msg_id, int(time.time())))

    async def toggle_reaction(self, line: Line, emoji: str) -> bool:
        """Add ``emoji`` to ``line``, or take it back if the user gave it; True if added."""
        me = self._state().me or ""
        remove = reacted(line, emoji, me)
        ok = await self._lifecycle_client().react(line.id, emoji, add=not remove)
        count = ok.count if isinstance(ok.count, int) else 0
        self._dispatch(ReactionChanged(line.id, emoji, me, not remove, count))
        return not remove

    async def typing(self, buffer: Buffer, typing: bool) -> None:
        await self._lifecycle_client().typing(buffer.kind, buffer.name, typing)

    async def load_around(self, buffer: Buffer, msg_id: str) -> None:
        """§14.9 ``HISTORY around``: the messages around ``msg_id`` into ``buffer``."""
        page = tuple(
            await self._client().history(buffer.kind, buffer.name, around=msg_id, limit=AROUND_PAGE)
        )
        self._dispatch(HistoryLoaded(buffer.key, page, around=msg_id))


class TypingNotifier:
    """§14.13 from the typing side: ``typing: true`` at most every 3 s while the line is
    non-empty and changing, ``typing: false`` when it is cleared or sent (only after a true
    the node may still be showing). ``send`` does the request (errors are its business)."""

    def __init__(
        self,
        send: Callable[[str, bool], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._clock = clock
        self._last_true: dict[str, float] = {}

    def changed(self, key: str, text: str) -> None:
        """The input line of buffer ``key`` now holds ``text``."""
        if not text or (text.startswith("/") and not text.startswith("//")):
            self.stopped(key)  # a command is not a message being typed
            return
        now = self._clock()
        last = self._last_true.get(key)
        if last is None or now - last >= TYPING_EVERY_SECONDS:
            self._last_true[key] = now
            self._send(key, True)

    def stopped(self, key: str) -> None:
        """The line was sent, cleared or left: say so if a true may still show."""
        last = self._last_true.pop(key, None)
        if last is not None and self._clock() - last < TYPING_FALSE_WITHIN_SECONDS:
            self._send(key, False)
