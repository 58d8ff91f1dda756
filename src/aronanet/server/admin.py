"""The admin listener: ``GET /metrics`` (Prometheus) and ``GET /healthz``, plain HTTP.

Separate from the ArTP ports so that it can stay on loopback (or a private network) while
the chat ports face the world: it has no authentication, and what it tells (how busy the
node is) is nobody else's business. Off unless ``[admin] listen`` / ``--admin-listen``.

It is a deliberately small HTTP/1.x server, because it must not become a way in: one
request per connection, GET and HEAD only, nothing but the request head is read (bounded
by ``max_request_bytes``, which must arrive within ``request_timeout``), and at most
``max_connections`` are open at once; everything else gets a short status and the close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aronanet.errors import AronaError
from aronanet.server.logs import log_event
from aronanet.server.metrics import CONTENT_TYPE
from aronanet.server.settings import AdminSettings

logger = logging.getLogger(__name__)

_END_OF_HEAD = b"\r\n\r\n"
#: How long a close waits for the peer's own close (``_linger_and_close``), and how much
#: it reads at a time while it waits; what it reads is dropped, so only time is bounded.
_LINGER_SECONDS = 1.0
_DISCARD_CHUNK = 16384
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


class AdminListenError(AronaError):
    """The admin listener cannot listen where it was told to."""


class AdminServer:
    """``/metrics`` from ``metrics()`` and ``/healthz`` from ``healthy()``, on one port."""

    def __init__(
        self,
        settings: AdminSettings,
        metrics: Callable[[], str],
        healthy: Callable[[], Awaitable[bool]],
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._healthy = healthy
        self._open = 0
        self._server: asyncio.Server | None = None
        self.port: int | None = None

    async def start(self) -> None:
        settings = self._settings
        try:
            self._server = await asyncio.start_server(
                self._handle,
                settings.host,
                settings.port,
                limit=settings.max_request_bytes,
                reuse_address=True,
            )
        except OSError as exc:
            raise AdminListenError(
                f"the admin listener cannot listen on {settings.listen} "
                f"({exc.strerror or exc}); choose another --admin-listen"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]
        if settings.host not in ("127.0.0.1", "::1", "localhost"):
            log_event(
                logger,
                "admin_not_loopback",
                logging.WARNING,
                listen=settings.listen,
                note="no authentication: keep this address off the public network",
            )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        settings = self._settings
        if self._open >= settings.max_connections:
            writer.write(_response(503, "too many admin connections\n"))
            sent = await _send(writer, settings.request_timeout)
        else:
            self._open += 1
            try:
                status, body, content_type, head_only = await self._answer(reader)
                writer.write(_response(status, body, content_type, head_only))
                sent = await _send(writer, settings.request_timeout)
            finally:
                self._open -= 1
        if sent:
            await _linger_and_close(reader, writer, settings.request_timeout)

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, str, str, bool]:
        settings = self._settings
        text = "text/plain; charset=utf-8"
        try:
            head = await asyncio.wait_for(
                reader.readuntil(_END_OF_HEAD), timeout=settings.request_timeout
            )
        except TimeoutError:
            return 408, "request not received in time\n", text, False
        except asyncio.LimitOverrunError:
            return 431, "request head too large\n", text, False
        except (asyncio.IncompleteReadError, ConnectionError):
            return 400, "incomplete request\n", text, False
        if len(head) > settings.max_request_bytes:
            return 431, "request head too large\n", text, False
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            return 400, "not an HTTP/1.x request\n", text, False
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        if method not in (b"GET", b"HEAD"):
            return 405, "only GET and HEAD\n", text, False
        head_only = method == b"HEAD"
        if target == b"/metrics":
            return 200, self._metrics(), CONTENT_TYPE, head_only
        if target == b"/healthz":
            if await self._healthy():
                return 200, "ok\n", text, head_only
            return 503, "store unavailable\n", text, head_only
        return 404, "not found: try /metrics or /healthz\n", text, head_only


def _response(
    status: int,
    body: str,
    content_type: str = "text/plain; charset=utf-8",
    head_only: bool = False,
) -> bytes:
    data = body.encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(data)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n" + ("Allow: GET, HEAD\r\n" if status == 405 else "") + "\r\n"
    ).encode("ascii")
    return head if head_only else head + data


async def _send(writer: asyncio.StreamWriter, timeout: float) -> bool:
    """Send what is written and shut the write side; a peer that does not read it within
    ``timeout`` seconds is cut off (its unsent bytes dropped) instead of holding the
    connection. Whether it was sent."""
    try:
        await asyncio.wait_for(writer.drain(), timeout=timeout)
        if writer.can_write_eof():
            writer.write_eof()
    except (TimeoutError, ConnectionError, OSError):
        writer.transport.abort()
        return False
    return True


async def _linger_and_close(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
) -> None:
    """Close after the answer is sent, lingering first.

    The answer often goes out before the request has been read (a refusal when the port is
    full, a head too large), and closing a socket with unread bytes makes the kernel send a
    reset, which can destroy the answer before the client reads it. So whatever still
    arrives is read and dropped until the peer closes, for at most ``_LINGER_SECONDS``.
    A lingering connection no longer counts against ``max_connections``: it is done.
    """
    with contextlib.suppress(TimeoutError, ConnectionError, OSError):
        await asyncio.wait_for(_discard_until_eof(reader), timeout=min(timeout, _LINGER_SECONDS))
    writer.close()
    with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), timeout=timeout)


async def _discard_until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(_DISCARD_CHUNK):
        pass


async def store_answers(ping: Callable[[], Awaitable[None]], timeout: float) -> bool:
    """Whether ``ping()`` (a trivial store query) completes within ``timeout`` seconds."""
    try:
        await asyncio.wait_for(ping(), timeout=timeout)
    except Exception as exc:  # a timeout, a lost connection, a locked database: not healthy
        log_event(logger, "health_check_failed", logging.WARNING, error=type(exc).__name__)
        return False
    return True
