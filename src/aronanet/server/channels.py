"""Channel membership and topics: the store's record, cached in memory for routing without I/O.

The store is the truth; ``Channels`` is this node's cache of it, used on the hot path (a
channel ``MSG`` checks membership and picks its recipients here, with no database
round-trip). It is loaded at start-up and updated only after the store has committed a
change, so it never shows a membership that a restart would lose. Keys are user keys
(case-folded names, §3); display names are kept too.

One node alone (the default) makes every change itself, so its cache is complete. Several
nodes sharing one store (scale-out) keep their caches true through a ``ChangeFeed`` (the
Redis broker): each committed change is published as a ``ChannelChange`` and applied by
every other node. Changes travel in the SAME ordered stream as the events that announce
them, so a node applies "X joined #c" before it delivers X's JOIN event, and a user who saw
that event sends their next message through a node that already counts X as a member. What
the stream cannot give (a message sent through node B right after its sender joined through
node A) is covered by asking the store when the cache says "not a member", and a node that
lost its feed for a while reloads everything (``load``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import msgspec

from aronanet.server.ratelimit import Clock
from aronanet.server.store.base import Store
from aronanet.server.store.rows import ChannelMembers, ChannelRow, user_key


@dataclass(slots=True)
class Channel:
    name: str
    topic: str
    created: int
    #: user key -> the user's name as registered; change it through ``add``/``remove``
    members: dict[str, str] = field(default_factory=dict)
    _keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    def has_member(self, user: str) -> bool:
        return user_key(user) in self.members

    def member_keys(self) -> tuple[str, ...]:
        """The members' keys, the SAME tuple until the membership changes: every message
        to the channel uses it twice, and the router keys its resolved sessions by it."""
        keys = self._keys
        if keys is None:
            keys = self._keys = tuple(self.members)
        return keys

    def add(self, key: str, name: str) -> None:
        self.members[key] = name
        self._keys = None

    def remove(self, key: str) -> None:
        self.members.pop(key, None)
        self._keys = None

    def member_names(self) -> list[str]:
        return sorted(self.members.values(), key=str.lower)


# ------------------------------------------------------------------ changes between nodes


class MemberJoined(msgspec.Struct, frozen=True, array_like=True, tag="joined"):
    channel: str
    user: str
    created: int


class MemberParted(msgspec.Struct, frozen=True, array_like=True, tag="parted"):
    channel: str
    user: str


class TopicChanged(msgspec.Struct, frozen=True, array_like=True, tag="topic"):
    channel: str
    topic: str


class ChannelDeleted(msgspec.Struct, frozen=True, array_like=True, tag="deleted"):
    channel: str


ChannelChange = MemberJoined | MemberParted | TopicChanged | ChannelDeleted
_change_encoder = msgspec.msgpack.Encoder()
_change_decoder = msgspec.msgpack.Decoder(ChannelChange)


@runtime_checkable
class ChangeFeed(Protocol):
    """How committed channel changes reach the other nodes sharing the store."""

    def publish_change(self, change: bytes) -> None:
        """Send ``change`` to every other node, in order with the deliveries; never awaits."""
        ...

    def subscribe_changes(
        self, on_change: Callable[[bytes], None], on_resync: Callable[[], Awaitable[None]]
    ) -> None:
        """Call ``on_change`` for each change from another node, and ``on_resync`` after
        the feed was interrupted (changes may have been missed)."""
        ...

    async def published(self) -> None:
        """Return once every change published so far has reached the other nodes' feed
        (or could not, or took too long): a requester told ``OK`` then finds the change in
        force on whichever node it asks next."""
        ...

    async def caught_up(self) -> None:
        """Return once every change other nodes published before now has been handled
        here (or took too long): a node asks before refusing a request from its cache."""
        ...


# ------------------------------------------------------------------ the cache


class Channels:
    """Every channel and each user's memberships, kept true against ``store``."""

    def __init__(
        self, store: Store, feed: ChangeFeed | None = None, clock: Clock = time.monotonic
    ) -> None:
        self._store = store
        self._feed = feed
        self._clock = clock
        self._channels: dict[str, Channel] = {}
        self._by_user: dict[str, set[str]] = {}
        #: Channels without members -> since when (this node's clock), for ``expire_empty``.
        self._empty_since: dict[str, float] = {}
        #: Changes received while a reload is running, replayed on top of its snapshot.
        self._held: list[ChannelChange] | None = None
        if feed is not None:
            feed.subscribe_changes(self.apply_encoded, self.load)

    @property
    def shared(self) -> bool:
        """Whether other nodes change the store too (then a cache miss asks the store)."""
        return self._feed is not None

    async def load(self) -> None:
        """(Re)fill from the store: at start-up, and after the feed was interrupted."""
        self._held = []
        try:
            rows = await self._store.load_channels()
            memberships = await self._store.load_memberships()
        except BaseException:
            self._held = None
            raise
        held, self._held = self._held, None
        self._channels, self._by_user = {}, {}
        for row in rows:
            self._channels[row.name] = Channel(row.name, row.topic, row.created)
        for channel, user in memberships:
            self._add(self._channels[channel], user)
        now = self._clock()
        self._empty_since = {
            name: self._empty_since.get(name, now)
            for name, channel in self._channels.items()
            if not channel.members
        }
        for change in held:  # received while loading: the snapshot may predate them
            self._apply(change)

    # ---------------------------------------------------------------- reads

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def cached_member_channel(self, name: str, user: str) -> Channel | None:
        """The channel if the cache counts ``user`` in it: the hot path, no I/O."""
        channel = self._channels.get(name)
        if channel is not None and user_key(user) in channel.members:
            return channel
        return None

    async def confirm_member_channel(self, name: str, user: str) -> Channel | None:
        """After a cache miss on a shared store: ask the store, and refresh the cache."""
        if self._feed is None:
            return None  # one node alone: its cache is the whole truth
        channel = await self._refresh(name)
        return channel if channel is not None and channel.has_member(user) else None

    async def of_user(self, user: str) -> list[str]:
        """The channels ``user`` is a member of, sorted (the ``channels`` of AUTH's OK)."""
        if self._feed is not None:
            return await self._store.channels_of(user)
        return sorted(self._by_user.get(user_key(user), ()))

    def count_of(self, user: str) -> int:
        """How many channels ``user`` is a member of, as this node's cache knows."""
        return len(self._by_user.get(user_key(user), ()))

    def all(self) -> list[Channel]:
        return [self._channels[name] for name in sorted(self._channels)]

    # ---------------------------------------------------------------- changes

    async def join(self, name: str, user: str, now: int) -> tuple[Channel, bool]:
        """§3 JOIN: "Channels are created on first JOIN"; returns (channel, newly added).

        Alone, a member the cache knows costs no write. Shared, the store decides (the user
        may have joined through another node) and the channel is re-read from it, so the
        ``members`` of the reply are everyone's, not this node's view.
        """
        if self._feed is None:
            known = self.cached_member_channel(name, user)
            if known is not None:
                return known, False
        added = await self._store.join_channel(ChannelRow(name, "", now), user)
        change = MemberJoined(name, user, now)
        if self._feed is None:
            return self._joined(change), added
        if added:
            self._publish(change)
        return await self._refresh(name) or self._joined(change), added

    async def part(self, name: str, user: str) -> Channel | None:
        """§3 PART: membership "lasts across sessions until PART", committed first."""
        await self._store.part_channel(name, user)
        change = MemberParted(name, user)
        self._publish(change)
        found = self._apply(change)
        await self._published()  # no node lets the leaver read on once PART is answered
        return found

    def removed(self, name: str, user: str) -> Channel | None:
        """§14.18: a moderator removed ``user`` (KICK, BAN); the store already committed
        it, so only the caches (this node's and, through the feed, the others') change."""
        change = MemberParted(name, user)
        self._publish(change)
        return self._apply(change)

    async def set_topic(self, name: str, topic: str) -> Channel | None:
        """Extension TOPIC: replace the topic, committed first."""
        await self._store.set_topic(name, topic)
        change = TopicChanged(name, topic)
        self._publish(change)
        found = self._apply(change)
        await self._published()
        return found

    async def expire_empty(self, ttl: float) -> list[str]:
        """Delete the channels without members for ``ttl`` seconds, history and all (§9);
        returns their names. The store deletes only a channel still empty, so a JOIN that
        raced this (here or through another node) keeps its channel."""
        deadline = self._clock() - ttl
        gone = []
        for name in [name for name, since in self._empty_since.items() if since <= deadline]:
            if await self._store.delete_empty_channel(name):
                change = ChannelDeleted(name)
                self._publish(change)
                self._apply(change)
                gone.append(name)
            else:
                self._empty_since.pop(name, None)
        return gone

    def apply_encoded(self, change: bytes) -> None:
        """A change committed by another node (from the feed); a garbled one is ignored."""
        try:
            decoded = _change_decoder.decode(change)
        except msgspec.DecodeError:
            return
        if self._held is not None:
            self._held.append(decoded)
        self._apply(decoded)

    def _publish(self, change: ChannelChange) -> None:
        if self._feed is not None:
            self._feed.publish_change(_change_encoder.encode(change))

    async def _published(self) -> None:
        """Wait until the other nodes' feed holds what was published (the requester's
        next step, on any node, then finds the change in force)."""
        if self._feed is not None:
            await self._feed.published()

    def _apply(self, change: ChannelChange) -> Channel | None:
        """Record one committed change; returns its channel (None: one this node never saw)."""
        if isinstance(change, MemberJoined):
            return self._joined(change)
        channel = self._channels.get(change.channel)
        if channel is None:
            return None
        if isinstance(change, MemberParted):
            key = user_key(change.user)
            channel.remove(key)
            self._by_user.get(key, set()).discard(change.channel)
            if not channel.members:
                self._empty_since.setdefault(channel.name, self._clock())
        elif isinstance(change, ChannelDeleted):
            self._forget(channel)
        else:
            channel.topic = change.topic
        return channel

    def _forget(self, channel: Channel) -> None:
        del self._channels[channel.name]
        self._empty_since.pop(channel.name, None)
        for key in channel.members:
            self._by_user.get(key, set()).discard(channel.name)

    def _joined(self, change: MemberJoined) -> Channel:
        channel = self._channels.get(change.channel)
        if channel is None:
            channel = Channel(change.channel, "", change.created)
            self._channels[change.channel] = channel
        self._add(channel, change.user)
        return channel

    async def _refresh(self, name: str) -> Channel | None:
        """Replace the cached entry of ``name`` with the store's (shared mode)."""
        found = await self._store.load_channel(name)
        if found is None:
            return self._channels.get(name)
        return self._replace(found)

    def _replace(self, found: ChannelMembers) -> Channel:
        row = found.channel
        old = self._channels.get(row.name)
        if old is not None:
            for key in old.members:
                self._by_user.get(key, set()).discard(row.name)
        channel = self._channels[row.name] = Channel(row.name, row.topic, row.created)
        for member in found.members:
            self._add(channel, member)
        if not channel.members:
            self._empty_since.setdefault(row.name, self._clock())
        return channel

    def _add(self, channel: Channel, user: str) -> None:
        key = user_key(user)
        channel.add(key, user)
        self._by_user.setdefault(key, set()).add(channel.name)
        self._empty_since.pop(channel.name, None)
