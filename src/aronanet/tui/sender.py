"""``OutboxSender``: what the user types, on disk first, then to the node exactly once.

ArTP/1.1 §14.4 and §14.7: each line goes to the durable ``Outbox`` with a fresh ``cid``
before anything is written to the node, and leaves it only when its ``OK`` arrives
(``duplicate`` or not). The sender drains the outbox in the order typed, one ``MSG`` at a
time, whenever the link is up; a lost link or a timeout leaves the entry where it is, to be
sent again with the same ``cid``, so a line typed offline survives a restart and is posted
once. Textual-free: it reports everything as reducer actions, like ``ChatSession``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from aronanet.client.connection import ArtpClient
from aronanet.client.outbox import Outbox, OutboxEntry, outbox_path
from aronanet.client.state import (
    ACTION_PREFIX,
    STATUS_KEY,
    Action,
    ChatState,
    MessageQueued,
    Noted,
    OutboxRestored,
    PendingMessage,
    Quote,
    SendConfirmed,
    SendFailed,
    SendStarted,
    queued_outgoing,
)
from aronanet.errors import ClientError
from aronanet.tui import voice


class OutboxSender:
    """Queues lines into the outbox and sends them; ``run`` until the session closes."""

    def __init__(
        self,
        dispatch: Callable[[Action], None],
        get_state: Callable[[], ChatState],
        get_client: Callable[[], ArtpClient | None],
        now: Callable[[], int],
    ) -> None:
        self._dispatch = dispatch
        self._state = get_state
        self._client = get_client
        self._now = now
        self._wakeup = asyncio.Event()
        self.outbox = Outbox(None)

    def open(self, directory: Path | None, address: str, user: str) -> None:
        """Load ``user``'s outbox for the node at ``address`` (in memory without a
        directory) and show what it still holds as pending lines."""
        self.outbox = Outbox(outbox_path(directory, address, user) if directory else None)
        pending = tuple(
            PendingMessage(e.dest_type, e.dest, e.content, e.queued_at, e.cid, e.reply_to or "")  # type: ignore[arg-type]
            for e in self.outbox.pending()
        )
        if pending:
            self._dispatch(OutboxRestored(pending))
            self._dispatch(Noted(voice.outbox_restored(len(pending)), self._now(), key=STATUS_KEY))

    def wake(self) -> None:
        """Something may be sendable now (the link is back, a line was queued or retried)."""
        self._wakeup.set()

    def queue(self, key: str, content: str, reply: Quote | None = None) -> bool:
        """What the user typed for buffer ``key`` (a reply to ``reply``): into the outbox (on
        disk), shown pending, sent when the link allows. False when it could not be saved
        (the user is told)."""
        buffer = self._state().buffers[key]
        reply_to = reply.id if reply is not None else None
        try:
            entry = self.outbox.add(
                buffer.kind, buffer.name, content, self._now(), reply_to=reply_to
            )
        except OSError as error:
            text = voice.failure("saving the message to the outbox", error)
            self._dispatch(Noted(text, self._now(), key=key, error=True))
            return False
        self._dispatch(MessageQueued(key, content, entry.queued_at, cid=entry.cid, reply=reply))
        self.wake()
        return True

    async def run(self, closing: Callable[[], bool]) -> None:
        """Send the outbox in the order typed, one at a time, whenever the link is up."""
        while not closing():
            await self._wakeup.wait()
            self._wakeup.clear()
            while (client := self._client()) is not None:
                self._adopt_retried_lines()
                pending = self.outbox.pending()
                if not pending or not await self._send(client, pending[0]):
                    break

    def _adopt_retried_lines(self) -> None:
        """Lines ``/retry`` queued again left the outbox when refused: put them back."""
        for buffer, line in queued_outgoing(self._state()):
            if line.cid and line.cid not in self.outbox:
                content = f"{ACTION_PREFIX}{line.text}" if line.kind == "action" else line.text
                reply_to = line.reply.id if line.reply is not None else None
                self.outbox.add(
                    buffer.kind,
                    buffer.name,
                    content,
                    line.timestamp,
                    cid=line.cid,
                    reply_to=reply_to,
                )

    async def _send(self, client: ArtpClient, entry: OutboxEntry) -> bool:
        """Send one entry; False when the link is gone (it stays in the outbox)."""
        line_id = f"local:{entry.cid}"
        self._dispatch(SendStarted(line_id))
        try:
            ok = await client.send_message(
                entry.dest_type, entry.dest, entry.content, cid=entry.cid, reply_to=entry.reply_to
            )
        except ClientError as error:
            if error.code == "TIMEOUT":
                client.abort()  # the OK may still come: resend with the same cid instead
            if error.code in ("DISCONNECTED", "TIMEOUT"):
                return False  # LinkDown puts the line back in the queue
            self._refuse(entry, line_id, f"{error.code}: {error.message}")
            return True
        except (ValueError, OSError) as error:  # refused locally (e.g. an invalid dest)
            self._refuse(entry, line_id, f"{type(error).__name__}: {error}")
            return True
        # §14.4: a duplicate OK carries the original msg_id and timestamp: the same line.
        self.outbox.done(entry.cid)
        self._dispatch(SendConfirmed(line_id, ok.msg_id or line_id, ok.timestamp or self._now()))
        return True

    def _refuse(self, entry: OutboxEntry, line_id: str, reason: str) -> None:
        """Refused for good: out of the outbox, marked failed (``/retry`` queues it again)."""
        self.outbox.done(entry.cid)
        self._dispatch(SendFailed(line_id, reason))
