"""Channels in memory: who is in which channel, and the topics, for routing without I/O.

The store is the durable record; this is the node's working copy, loaded at start-up and
updated only after the store has committed a change, so it never shows a membership that a
restart would lose. Keys are user keys (case-folded names, §3); display names are kept too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aronanet.server.store.base import ChannelRow, user_key


@dataclass(slots=True)
class Channel:
    name: str
    topic: str
    created: int
    #: user key -> the user's name as registered
    members: dict[str, str] = field(default_factory=dict)

    def has_member(self, user: str) -> bool:
        return user_key(user) in self.members

    def member_keys(self) -> tuple[str, ...]:
        return tuple(self.members)

    def member_names(self) -> list[str]:
        return sorted(self.members.values(), key=str.lower)


class Channels:
    """Every channel of the node and each user's memberships."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}
        self._by_user: dict[str, set[str]] = {}

    def load(self, channels: list[ChannelRow], memberships: list[tuple[str, str]]) -> None:
        """Fill from the store at start-up."""
        for row in channels:
            self._channels[row.name] = Channel(row.name, row.topic, row.created)
        for channel, user in memberships:
            self._add(self._channels[channel], user)

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def add_member(self, name: str, user: str, now: int) -> Channel:
        """Record a committed JOIN; §3: "Channels are created on first JOIN"."""
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = Channel(name, "", now)
        self._add(channel, user)
        return channel

    def remove_member(self, name: str, user: str) -> Channel | None:
        """Record a committed PART; returns the channel, or None if there is none."""
        channel = self._channels.get(name)
        if channel is not None:
            key = user_key(user)
            channel.members.pop(key, None)
            self._by_user.get(key, set()).discard(name)
        return channel

    def of_user(self, user: str) -> list[str]:
        """The channels ``user`` is a member of, sorted (the ``channels`` of AUTH's OK)."""
        return sorted(self._by_user.get(user_key(user), ()))

    def all(self) -> list[Channel]:
        return [self._channels[name] for name in sorted(self._channels)]

    def _add(self, channel: Channel, user: str) -> None:
        key = user_key(user)
        channel.members[key] = user
        self._by_user.setdefault(key, set()).add(channel.name)
