"""``Link``: one open ArTP connection to a node, with requests matched to their replies.

``ArtpClient`` (``client/connection.py``) is this plus the ArTP requests as methods and the
handshake that opens it; what is here is only the plumbing every request shares, kept apart
so that the protocol's requests read without it. It wraps the sans-I/O ``proto.Connection``
with a ``Transport`` and one reader task:

* requests get a fresh ``id`` ("c1", "c2", ...) and a future keyed by it; ArTP/1.0 §3:
  "every reply to it (``OK``, ``ERROR``, or a stream of ``IMG_CHUNK``) carries ``re`` with
  that id", so the reader resolves exactly the future (or stream) the reply names;
* server events (no ``re``) go to one queue, read with ``events()``;
* a server ``PING`` is answered with ``PONG`` at once (§3: "the client answers ``PONG``
  with ``re``"), so idle sessions stay up without the caller doing anything;
* when the connection ends, every pending request fails with ``ClientError("DISCONNECTED")``
  and ``events()`` ends.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable
from types import TracebackType
from typing import Self, TypeVar

import msgspec
from msgspec import UNSET

from aronanet.client.address import NodeAddress
from aronanet.client.transport import Transport
from aronanet.errors import ClientError, ProtocolError
from aronanet.proto import messages
from aronanet.proto.connection import (
    Connection,
    ConnectionEvent,
    ConnectionFailed,
    MessageReceived,
    MessageRejected,
    State,
)
from aronanet.proto.messages import Event

log = logging.getLogger(__name__)

DEFAULT_REQUEST_TIMEOUT = 30.0

_ReplyT = TypeVar("_ReplyT")


class NodeError(ClientError):
    """An ``ERROR`` reply from the node; ``reply`` keeps its extra fields (``retry_after_ms``
    for ``RATE_LIMITED``, ``transfer`` for image errors)."""

    def __init__(self, reply: messages.Error) -> None:
        super().__init__(reply.code, reply.message)
        self.reply = reply


class Link:
    """The request/reply plumbing of one session; ``ArtpClient`` is the class to use."""

    def __init__(self, address: NodeAddress, transport: Transport, connection: Connection) -> None:
        self.address = address
        #: Seconds ``request`` (and every method built on it) waits for a reply.
        self.request_timeout = DEFAULT_REQUEST_TIMEOUT
        self.closed = False
        self._transport = transport
        self._connection = connection
        self._ids = (f"c{number}" for number in itertools.count(1))
        self._pending: dict[str, asyncio.Future[Event]] = {}
        self._streams: dict[str, asyncio.Queue[Event | None]] = {}
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._write_lock = asyncio.Lock()
        self._closed_event = asyncio.Event()
        self._close_reason: str | None = None  # why the session ended, once it has
        self._reader: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def close(self) -> None:
        """Close the session; pending requests fail with ``DISCONNECTED``. Idempotent."""
        if self._close_reason is None:
            self._close_reason = "the connection was closed by this client"
        await self._transport.close()
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            await asyncio.wait([self._reader])
        self._finish()

    def abort(self) -> None:
        """Drop the connection abruptly (a lost link); the reader then ends the session."""
        if self._close_reason is None:
            self._close_reason = "the connection was dropped by this client"
        self._transport.abort()

    async def wait_closed(self) -> None:
        """Return once the session has ended, for whatever reason."""
        await self._closed_event.wait()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ requests

    async def request(
        self, message: msgspec.Struct, *, timeout: float | None = None
    ) -> messages.Ok:
        """Send a request with a fresh ``id`` and return its ``OK``; ``timeout`` None is
        ``request_timeout``.

        Raises ``ClientError(code, message)`` for an ``ERROR`` reply (``code`` as on the wire),
        ``ClientError("TIMEOUT")`` when no reply came within ``timeout`` seconds (a late reply
        is then dropped), ``ClientError("DISCONNECTED")`` when the connection ends first.
        """
        reply = await self._exchange(message, self.request_timeout if timeout is None else timeout)
        if not isinstance(reply, messages.Ok):
            raise ClientError("UNEXPECTED", f"expected OK, the node answered {_type_of(reply)}")
        return reply

    async def ping(self, *, timeout: float = DEFAULT_REQUEST_TIMEOUT) -> float:
        """Round-trip time to the node in seconds (``PING`` -> ``PONG``)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self._exchange(messages.Ping(), timeout)
        return loop.time() - started

    async def send_nowait(self, message: msgspec.Struct) -> None:
        """Send ``message`` as it is, awaiting no reply (non-final ``IMG_CHUNK`` s, §4).

        A reply to it, if any, has no pending future and is delivered by ``events()``.
        """
        await self._send(message)

    async def stream(
        self, message: msgspec.Struct, *, timeout: float = DEFAULT_REQUEST_TIMEOUT
    ) -> AsyncIterator[Event]:
        """Send a request whose replies are a stream (``IMG_GET``) and yield each reply.

        Stops when the caller stops iterating; an ``ERROR`` reply is raised as ``ClientError``;
        ``timeout`` bounds the wait for each reply, not the whole stream.
        """
        request_id = next(self._ids)
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._streams[request_id] = queue
        try:
            await self._send(msgspec.structs.replace(message, id=request_id))
            while True:
                reply = await self._await_reply(queue.get(), timeout, message)
                if reply is None:
                    raise self._disconnected()
                if isinstance(reply, messages.Error):
                    raise _error_from(reply)
                yield reply
        finally:
            self._streams.pop(request_id, None)

    async def events(self) -> AsyncIterator[Event]:
        """Server events (``MSG``, ``JOIN``, ``PART``, ``TOPIC``, ``ERROR`` without ``re``...)
        in arrival order; ends when the connection closes."""
        while True:
            event = await self._events.get()
            if event is None:
                self._events.put_nowait(None)  # so that every other reader ends as well
                return
            yield event

    # ------------------------------------------------------------------ internals

    async def _exchange(self, message: msgspec.Struct, timeout: float) -> Event:
        """Send ``message`` with a fresh id and return its one reply (``ERROR`` raised)."""
        request_id = next(self._ids)
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._send(msgspec.structs.replace(message, id=request_id))
            reply = await self._await_reply(future, timeout, message)
        finally:
            self._pending.pop(request_id, None)
        if isinstance(reply, messages.Error):
            raise _error_from(reply)
        return reply

    async def _await_reply(
        self, waitable: Awaitable[_ReplyT], timeout: float, request: msgspec.Struct
    ) -> _ReplyT:
        try:
            async with asyncio.timeout(timeout):
                return await waitable
        except TimeoutError:
            raise ClientError(
                "TIMEOUT", f"no reply to {_type_of(request)} within {timeout:g} s"
            ) from None

    async def _send(self, message: msgspec.Struct) -> None:
        if self.closed:
            raise self._disconnected()
        try:
            self._connection.send(message)
        except ProtocolError as exc:
            raise ClientError("DISCONNECTED", f"the connection failed: {exc}") from exc
        await self._flush()

    async def _flush(self) -> None:
        """Write what the connection queued. One writer at a time keeps the frames in nonce
        order on the wire (§2: "a ... reordered ... frame fails to decrypt")."""
        async with self._write_lock:
            try:
                await self._transport.flush(self._connection)
            except OSError as exc:
                self._close_reason = f"the connection to {self.address} was lost ({exc})"
                raise ClientError("DISCONNECTED", self._close_reason) from exc

    async def _read_loop(self) -> None:
        destroyed = False
        try:
            await self._flush()  # PONGs to PINGs that came with the end of the handshake
            while await self._transport.feed(self._connection):
                self._handle(self._connection.events_received())
                if self._connection.state is State.FAILED:
                    break
                await self._flush()  # the PONGs queued by _handle
        except ClientError:
            pass  # _flush recorded why
        except GeneratorExit:
            # The task is being destroyed unfinished (its loop closed with it pending): a
            # coroutine may not await any more, and the loop that would close the socket
            # is gone anyway.
            destroyed = True
            raise
        finally:
            if self._close_reason is None:
                self._close_reason = f"the node {self.address} closed the connection"
            if not destroyed:
                await self._transport.close()
            self._finish()

    def _handle(self, events: list[ConnectionEvent]) -> None:
        for event in events:
            if isinstance(event, MessageReceived):
                self._dispatch(event.message)  # type: ignore[arg-type]
            elif isinstance(event, MessageRejected):
                self._reject(event.rejection.re, event.rejection.code, event.rejection.message)
            elif isinstance(event, ConnectionFailed):
                self._close_reason = f"the connection to {self.address} failed: {event.reason}"

    def _dispatch(self, message: Event) -> None:
        """Route one message: a ``PING`` answered, a reply to its waiter, an event queued."""
        if isinstance(message, messages.PingEvent):
            self._connection.send(messages.Pong(re=message.id))
            return
        re = getattr(message, "re", UNSET)
        if not isinstance(re, str):
            self._events.put_nowait(message)
        elif re in self._streams:
            self._streams[re].put_nowait(message)
        elif (future := self._pending.get(re)) is not None and not future.done():
            future.set_result(message)
        else:
            log.debug("dropping a %s for %s, which no one awaits now", _type_of(message), re)

    def _reject(self, re: str | None, code: str, reason: str) -> None:
        """A node message that could not be read: fail its waiter, if it names one."""
        log.warning("unreadable message from %s: %s %s", self.address, code, reason)
        future = self._pending.get(re) if re is not None else None
        if future is not None and not future.done():
            future.set_exception(ClientError(str(code), f"unreadable reply: {reason}"))

    def _disconnected(self) -> ClientError:
        return ClientError("DISCONNECTED", self._close_reason or "the connection is closed")

    def _finish(self) -> None:
        """The session is over: fail every waiter and end every iterator, exactly once."""
        if self.closed:
            return
        self.closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._disconnected())
        for queue in self._streams.values():
            queue.put_nowait(None)
        self._events.put_nowait(None)
        self._closed_event.set()


def _error_from(reply: messages.Error) -> NodeError:
    return NodeError(reply)


def _type_of(message: object) -> str:
    config = getattr(message, "__struct_config__", None)
    tag = getattr(config, "tag", None)
    return str(tag) if tag else type(message).__name__
