"""The moderation state a node consults without I/O (§14.16-14.18), true across nodes.

Each channel's modes, roles and mutes are loaded from the store when first needed and kept
until a change drops them: a change made here (``changed``) or, through the change feed
(the Redis broker), one made by another node. After the feed was interrupted everything is
dropped. The invite-only channels are kept as a set, so ``LIST`` hides them from
non-members without asking the store.

A change is in force everywhere by the time its requester hears ``OK``: the node that made
it sends the ``OK`` only once Redis took the change (so it sits in every node's
subscription before the requester can ask another node anything), and a node that heard of
a change answers nothing about that channel from memory until it has reloaded it
(``of`` and ``settled`` wait for the reload). A change may still sit unread in a node's
subscription when a request arrives, so before refusing anything from memory a node
catches up (``caught_up``: one Redis round trip, on refusals only); a request the cached
state allows goes ahead, so a restriction (a mute, a ban) may let through what reaches
another node within that round trip. A load that began before a change arrived is never
kept, so an older state cannot overwrite a newer one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import msgspec

from aronanet.server.channels import ChangeFeed
from aronanet.server.logs import log_event
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.store.moderation_rows import ChannelModeration
from aronanet.server.store.rows import user_key

logger = logging.getLogger(__name__)


class _Changed(msgspec.Struct, frozen=True, array_like=True, tag="moderation"):
    channel: str


#: The ``_Changed`` key of a user's blocks (channel names start with ``#``).
_BLOCKS = "@"
#: Users whose blocks a node remembers at most (the oldest forgotten first).
BLOCKS_MEMORY = 65536

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Changed)


class ModerationState:
    """Each channel's modes, roles and mutes, cached; and who the node admins are."""

    def __init__(
        self, store: ModerationStore, feed: ChangeFeed | None, admins: Iterable[str]
    ) -> None:
        self._store = store
        self._feed = feed
        self._cache: dict[str, ChannelModeration] = {}
        #: Reloads after a change, per channel: readers of that channel wait for them.
        self._reloading: dict[str, asyncio.Task[ChannelModeration]] = {}
        #: Changes heard so far: a load that saw this move under it is not cached.
        self._changes = 0
        #: Invite-only channels (LIST hides them from non-members without I/O).
        self.invite_only: set[str] = set()
        self.configured_admins = frozenset(user_key(name) for name in admins)
        #: §14.19: whom each recent DM recipient blocks (user key -> blocked keys).
        self._blocks: dict[str, frozenset[str]] = {}
        if feed is not None:
            feed.subscribe_changes(self._on_change, self._on_resync)

    async def load(self) -> None:
        """The invite-only channels, at start-up (the rest is loaded when first needed)."""
        self.invite_only = set(await self._store.invite_only_channels())

    def cached(self, channel: str) -> ChannelModeration | None:
        """The channel's state if cached (``of`` without I/O), else None."""
        return self._cache.get(channel)

    async def of(self, channel: str) -> ChannelModeration:
        found = self._cache.get(channel)
        if found is not None:
            return found
        reloading = self._reloading.get(channel)
        if reloading is not None:
            return await asyncio.shield(reloading)
        seen = self._changes
        found = await self._store.channel_moderation(channel)
        if seen == self._changes:  # no change arrived meanwhile: this state is current
            self._cache[channel] = found
            self._note_modes(channel, found)
        return found

    async def settled(self) -> None:
        """Wait until every change heard of is applied (``LIST`` reads ``invite_only``)."""
        if self._reloading:
            await asyncio.gather(
                *(asyncio.shield(task) for task in list(self._reloading.values())),
                return_exceptions=True,
            )

    def _note_modes(self, channel: str, found: ChannelModeration) -> None:
        if found.invite_only:
            self.invite_only.add(channel)
        else:
            self.invite_only.discard(channel)

    async def changed(self, channel: str) -> ChannelModeration:
        """This node changed ``channel``'s moderation: reload it, tell the other nodes, and
        return once they can no longer answer from the state before the change."""
        reload = self._reload(channel)
        if self._feed is not None:
            self._feed.publish_change(_encoder.encode(_Changed(channel)))
            await self._feed.published()
        return await asyncio.shield(reload)

    def _reload(self, channel: str) -> asyncio.Task[ChannelModeration]:
        """Forget ``channel`` and load it again; until then its readers wait."""
        self._changes += 1
        self._cache.pop(channel, None)
        task = asyncio.get_running_loop().create_task(self._reload_one(channel))
        self._reloading[channel] = task
        task.add_done_callback(self._reloaded)
        return task

    async def _reload_one(self, channel: str) -> ChannelModeration:
        found = await self._store.channel_moderation(channel)
        if self._reloading.get(channel) is asyncio.current_task():  # no newer change since
            self._cache[channel] = found
            self._note_modes(channel, found)
        return found

    def _reloaded(self, task: asyncio.Task[ChannelModeration]) -> None:
        for channel, reloading in list(self._reloading.items()):
            if reloading is task:
                del self._reloading[channel]
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The store is down: the next request loads the channel again.
            log_event(
                logger, "moderation_refresh_failed", logging.WARNING, error=type(exc).__name__
            )

    def _on_change(self, change: bytes) -> None:
        try:
            decoded = _decoder.decode(change)
        except msgspec.DecodeError:
            return  # a channel change: ``Channels`` applies it
        if decoded.channel.startswith(_BLOCKS):
            self._changes += 1
            self._blocks.pop(decoded.channel[len(_BLOCKS) :], None)
            return
        self._reload(decoded.channel)

    async def _on_resync(self) -> None:
        self._changes += 1
        self._cache.clear()
        self._blocks.clear()
        await self.load()

    async def blocks(self, blocker: str, sender: str) -> bool:
        """Whether ``blocker`` blocked ``sender`` (user keys): a DM's check, from memory
        after the first DM to ``blocker``."""
        found = self._blocks.get(blocker)
        if found is None:
            seen = self._changes
            found = frozenset(user_key(name) for name in await self._store.blocks(blocker))
            if seen == self._changes:  # no block changed meanwhile: this list is current
                if len(self._blocks) >= BLOCKS_MEMORY:
                    self._blocks.pop(next(iter(self._blocks)))
                self._blocks[blocker] = found
        return sender in found

    async def blocks_changed(self, blocker: str) -> None:
        """``blocker`` (a user key) blocked or unblocked someone, here: forget, tell others,
        and return once they heard."""
        self._changes += 1
        self._blocks.pop(blocker, None)
        if self._feed is not None:
            self._feed.publish_change(_encoder.encode(_Changed(_BLOCKS + blocker)))
            await self._feed.published()

    async def caught_up(self) -> None:
        """Return once every change other nodes made before now is applied here (``of`` and
        ``blocks`` then answer from it): asked before a refusal from memory, since such a
        change may still sit unread in this node's subscription while its requester, told
        ``OK``, is already asking here."""
        if self._feed is not None:
            await self._feed.caught_up()

    async def is_admin(self, user: str) -> bool:
        key = user_key(user)
        return key in self.configured_admins or await self._store.is_admin(key)
