"""ArTP over WebSocket (§1): port 7778, path /artp, subprotocol artp.1, binary messages.

One binary WebSocket message is one ArTP message; a text message is a protocol violation
and closes the connection with code 1003. Messages larger than ``max_frame`` are refused by
the library before they are buffered. Every other path is a plain HTTP GET of the web
client's static files, so a browser finds the client at ``http://host:7778/``. Who may
open ``/artp`` and which headers every answer carries is ``http_policy``'s to say; a
connection whose first bytes cannot start an HTTP request (an ArTP TCP client on the wrong
port) gets a one-line 400 and is closed at once.

Output never blocks the node: ``send_pending`` moves the connection's messages into this
stream's outbox and a per-connection writer task awaits the socket. An outbox longer than
the allowed backlog, in messages or in bytes, means the peer is not keeping up, and the
node drops it: counting messages alone let 4,096 messages of up to 64 KiB each pile up.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from aronanet.config import WS_PATH, WS_SUBPROTOCOL
from aronanet.proto.connection import Connection
from aronanet.transport import http_policy, static
from aronanet.transport.base import Acceptor, Stream
from aronanet.transport.budget import MARK_BYTES, OutgoingBudget

logger = logging.getLogger(__name__)

#: RFC 6455 §7.4.1: "received a type of data it cannot accept" (§1: text messages).
CLOSE_UNSUPPORTED_DATA = 1003
#: RFC 6455 §7.4.1 1013 "try again later": the per-address connection limit.
CLOSE_TRY_AGAIN_LATER = 1013


class WsStream(Stream):
    """One WebSocket connection, with its outbox and writer task."""

    framed = False

    def __init__(
        self,
        ws: ServerConnection,
        max_backlog_messages: int,
        max_backlog_bytes: int,
        budget: OutgoingBudget | None = None,
    ) -> None:
        self._ws = ws
        self._max_backlog = max_backlog_messages
        self._max_backlog_bytes = max_backlog_bytes
        self._budget = budget
        self._counted = False
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._wakeup = asyncio.Event()
        self._may_read = asyncio.Event()
        self._may_read.set()
        self._closing = False
        address = ws.remote_address
        self.peer_host = str(address[0]) if address else "?"

    def send_pending(self, conn: Connection) -> bool:
        if self._closing:
            return True
        messages = conn.messages_to_send()
        self._outbox_bytes += sum(map(len, messages))
        self._outbox.extend(messages)
        self._wakeup.set()
        if self._outbox_bytes > MARK_BYTES and not self._counted:
            self._count(True)
        return (
            len(self._outbox) <= self._max_backlog and self._outbox_bytes <= self._max_backlog_bytes
        )

    def backlog_fill(self) -> float:
        return max(
            len(self._outbox) / self._max_backlog, self._outbox_bytes / self._max_backlog_bytes
        )

    def backlog_bytes(self) -> int:
        return self._outbox_bytes + self._ws.transport.get_write_buffer_size()

    def _count(self, backed_up: bool) -> None:
        """Tell the node's budget this outbox passed the mark, or is back below it."""
        self._counted = backed_up
        if self._budget is not None:
            if backed_up:
                self._budget.backed_up(self)
            else:
                self._budget.drained(self)

    def pause_reading(self) -> None:
        self._may_read.clear()

    def resume_reading(self) -> None:
        self._may_read.set()

    def close(self) -> None:
        self._closing = True
        self._wakeup.set()

    def abort(self) -> None:
        self._closing = True
        self._outbox.clear()
        self._outbox_bytes = 0
        self._count(False)
        self._ws.transport.abort()

    def forget_backlog(self) -> None:
        """The connection is gone: the budget no longer counts it."""
        if self._counted:
            self._count(False)

    async def write_loop(self) -> None:
        """Await the socket for each queued message; after ``close``, drain then close."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._outbox:
                    message = self._outbox.popleft()
                    self._outbox_bytes -= len(message)
                    if self._counted and self._outbox_bytes <= MARK_BYTES:
                        self._count(False)
                    await self._ws.send(message)
                if self._closing:
                    await self._ws.close()
                    return

    async def read_loop(self, feed: Callable[[bytes], None]) -> None:
        """Feed each binary message to the sink; close with 1003 on a text message (§1)."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self._may_read.wait()
                message = await self._ws.recv()
                if isinstance(message, str):
                    self._closing = True
                    await self._ws.close(CLOSE_UNSUPPORTED_DATA, "ArTP takes binary messages only")
                    return
                feed(message)


class WebSocketEndpoint:
    """The ``/artp`` endpoint plus static files; one instance per listening node."""

    def __init__(
        self,
        accept: Acceptor,
        *,
        max_frame: int,
        max_backlog_messages: int,
        max_backlog_bytes: int,
        origins: Sequence[str] | None,
        web_root: Path | None,
        hosts: Sequence[str] = (),
        community: Sequence[str] = (),
        budget: OutgoingBudget | None = None,
    ) -> None:
        """``origins``: browser origins allowed besides the node's own page (``*``: any);
        ``hosts``: the node's own names, besides loopback names and IP addresses;
        ``community``: the community's WebSocket addresses, served at ``/community.json``
        (their pages are allowed as origins too); ``budget``: the node's unsent output."""
        self._accept = accept
        self._budget = budget
        self._max_frame = max_frame
        self._max_backlog = max_backlog_messages
        self._max_backlog_bytes = max_backlog_bytes
        allowed = (*(origins or ()), *static.community_origins(community))
        self._policy = http_policy.HttpPolicy(origins=allowed, hosts=hosts)
        self._web_root = web_root
        self._community = static.community_file(community)
        self._community_named = bool(community)
        self._connect_to = static.community_sockets(community)

    async def serve(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> Server:
        """Listen on ``host:port`` (0 picks a free port); TLS only when ``tls`` is given."""
        return await serve(
            self._handle,
            host,
            port,
            subprotocols=[Subprotocol(WS_SUBPROTOCOL)],
            process_request=self._process_request,
            process_response=self._process_response,
            create_connection=_HttpOnlyConnection,
            compression=None,  # ciphertext does not compress; and no decompression bombs
            max_size=self._max_frame,
            server_header=None,
            reuse_address=True,
            ssl=tls,
        )

    async def _handle(self, ws: ServerConnection) -> None:
        stream = WsStream(ws, self._max_backlog, self._max_backlog_bytes, self._budget)
        sink = self._accept(stream)
        if sink is None:
            await ws.close(CLOSE_TRY_AGAIN_LATER, "too many connections from your address")
            return
        writer = asyncio.create_task(stream.write_loop())
        try:
            await stream.read_loop(sink.data_received)
        finally:
            sink.connection_lost()
            stream.close()
            stream.forget_backlog()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), timeout=5)
            writer.cancel()

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        refusal = self._policy.refusal(request.method, path, request.headers)
        if refusal is not None:
            return _refused(refusal)
        if path == WS_PATH:
            return None  # the upgrade: websockets checks the rest (400, 426)
        return await self._static(path, request)

    @staticmethod
    def _process_response(ws: ServerConnection, request: Request, response: Response) -> None:
        """Every answer carries the security headers; a page's own are already set."""
        hosts = request.headers.get_all("Host")
        for name, value in http_policy.security_headers(hosts[0] if hosts else None).items():
            if name not in response.headers:
                response.headers[name] = value

    async def _static(self, path: str, request: Request) -> Response:
        """A file of the web client: gzip when the build made one and the browser takes it,
        304 when the browser's copy is current; HEAD gets the same headers without the body."""
        if self._web_root is None and path != static.COMMUNITY_PATH:
            return _plain(404, "Not Found", "this node serves no web client")
        found = await self._find(path)
        if found is None:
            return _plain(404, "Not Found", "not found")
        if found.matches(request.headers.get("If-None-Match")):
            response = _response(304, "Not Modified", b"", found.content_type)
            del response.headers["Content-Length"]
        elif found.gzip is not None and static.accepts_gzip(request.headers.get("Accept-Encoding")):
            response = _response(200, "OK", found.gzip, found.content_type)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = _response(200, "OK", found.body, found.content_type)
        _cache_headers(response, found)
        if found.content_type.startswith("text/html"):  # its CSP allows its inline elements
            hosts = request.headers.get_all("Host")
            response.headers.update(
                http_policy.security_headers(
                    hosts[0] if hosts else None, found.body, self._connect_to
                )
            )
        head = request.method == "HEAD" or response.status_code == 304
        return dataclasses.replace(response, body=b"") if head else response

    async def _find(self, path: str) -> static.StaticFile | None:
        """The file for ``path``. ``/community.json`` always answers (the web client asks on
        every start): the ``community_addresses`` setting, else a file of that name in the
        web directory, else an empty list."""
        if path == static.COMMUNITY_PATH and self._community_named:
            return self._community
        found = None
        if self._web_root is not None:
            found = await asyncio.to_thread(static.load, self._web_root, path)
        return self._community if found is None and path == static.COMMUNITY_PATH else found


class _HttpOnlyConnection(ServerConnection):
    """Answers a connection that cannot be HTTP at once, not after the 10 s opening timeout.

    A TCP ArTP client pointed at this port sends a length prefix (``00 00 ...``) and would
    otherwise wait for an HTTP request line that never ends. It gets a 400 whose text names
    the right way in; the Python client recognises the ``HTTP/`` and says so in one line.
    """

    _sniffed = False

    def data_received(self, data: bytes) -> None:
        if not self._sniffed:
            self._sniffed = True
            if not http_policy.looks_like_http(data):
                self.transport.write(_not_http_answer())
                self.transport.close()
                return
        super().data_received(data)


def _cache_headers(response: Response, found: static.StaticFile) -> None:
    """Hashed files: a year, immutable; the rest: revalidated by ETag. Vary when gzip exists."""
    del response.headers["Cache-Control"]
    response.headers["Cache-Control"] = found.cache_control
    response.headers["ETag"] = found.etag
    if found.gzip is not None:
        response.headers["Vary"] = "Accept-Encoding"


def _refused(refusal: http_policy.Refusal) -> Response:
    response = _plain(refusal.status, refusal.reason, refusal.text)
    if refusal.allow is not None:
        response.headers["Allow"] = refusal.allow
    return response


def _plain(status: int, reason: str, text: str) -> Response:
    return _response(status, reason, text.encode() + b"\n", "text/plain; charset=utf-8")


def _response(status: int, reason: str, body: bytes, content_type: str) -> Response:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Cache-Control"] = "no-cache"
    headers["Connection"] = "close"
    return Response(status, reason, headers, body)


@functools.cache
def _not_http_answer() -> bytes:
    """What a connection that does not speak HTTP gets before it is closed."""
    text = "this is a node's WebSocket port (ws://HOST:PORT/artp), not its TCP port"
    response = _plain(400, "Bad Request", text)
    response.headers.update(http_policy.security_headers(None))
    return response.serialize()


def tls_context(cert: Path, key: Path | None) -> ssl.SSLContext:
    """A server TLS context from PEM files; a file that cannot be used is an ``OSError``
    naming it (the node refuses to start rather than serve the page in clear)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        shown = f"{cert}" if key is None else f"{cert} and {key}"
        raise OSError(f"cannot use the TLS certificate {shown}: {exc}") from None
    return context
