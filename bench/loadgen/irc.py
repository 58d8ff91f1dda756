"""IRC load clients for the reference runs against ngircd (RFC 2812 subset).

A receiver registers (NICK/USER), joins its channels, then counts ``PRIVMSG`` lines. It is
built to be cheap: while not measuring latency it counts with one ``bytes.count`` per read,
so the load generator leaves the CPU to the server. The sender is the same client with a
batched ``send_messages``; IRC has no acknowledgement, so ``acked`` follows ``sent``.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

from loadgen.counters import LatencyLog
from loadgen.payload import latency_microseconds

_PRIVMSG = b" PRIVMSG "
_PING = b"PING "
_CRLF = b"\r\n"


class IrcClient(asyncio.Protocol):
    """One IRC connection: registration, joins, delivery counting, batched sending."""

    def __init__(self, nick: str, channels: list[str], latency: LatencyLog) -> None:
        loop = asyncio.get_running_loop()
        self.nick = nick
        self.channels = channels
        self.delivered = 0
        self.sent = 0
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._latency = latency
        self._transport: asyncio.Transport | None = None
        self._tail = b""
        self._unjoined = set(channels)
        self._ready_seen = False

    @property
    def acked(self) -> int:
        """IRC acknowledges nothing: a message counts as accepted once written."""
        return self.sent

    # ------------------------------------------------------------------ asyncio protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not ``asyncio.Transport`` subclasses, but behave as one.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(f"NICK {self.nick}\r\nUSER {self.nick} 0 * :bench\r\n".encode())

    def connection_lost(self, exc: Exception | None) -> None:
        reason = ConnectionError(f"{self.nick}: connection lost ({exc})")
        if not self.ready.done():
            self.ready.set_exception(reason)
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        buffer = self._tail + data if self._tail else data
        end = buffer.rfind(b"\n") + 1
        complete, self._tail = buffer[:end], buffer[end:]
        if not complete:
            return
        if self._ready_seen and not self._latency.enabled and _PING not in complete:
            # The hot path: nothing but channel messages arrive during a phase.
            self.delivered += complete.count(_PRIVMSG)
            return
        received_ns = time.monotonic_ns()
        for line in complete.split(_CRLF):
            self._line_received(line, received_ns)

    # ------------------------------------------------------------------ lines

    def _line_received(self, line: bytes, received_ns: int) -> None:
        if not line:
            return
        if line.startswith(_PING):
            self._write(b"PONG " + line[5:] + _CRLF)
            return
        at = line.find(_PRIVMSG)
        if at >= 0:
            self.delivered += 1
            if self._latency.enabled:
                start = line.index(b" :", at) + 2
                self._latency.samples.append(latency_microseconds(line[start:], received_ns))
            return
        self._reply_received(line.split(b" ", 3))

    def _reply_received(self, words: list[bytes]) -> None:
        """Registration (001) then end-of-names (366) for each joined channel."""
        if len(words) < 3:
            return
        code = words[1]
        if code == b"001" and self._unjoined:
            self._write(f"JOIN {','.join(sorted(self._unjoined))}\r\n".encode())
        elif code == b"001" or (code == b"366" and self._end_of_names(words)):
            self._ready_seen = True
            if not self.ready.done():
                self.ready.set_result(None)
        elif code.isdigit() and code.startswith((b"4", b"5")) and not self.ready.done():
            text = b" ".join(words).decode(errors="replace")
            self.ready.set_exception(ConnectionError(f"{self.nick}: {text}"))

    def _end_of_names(self, words: list[bytes]) -> bool:
        """Mark the channel of a 366 reply joined; true once every channel is."""
        channel = words[3].split(b" ", 1)[0].decode() if len(words) > 3 else ""
        self._unjoined.discard(channel)
        return not self._unjoined

    # ------------------------------------------------------------------ sending

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def send_messages(self, channel: str, contents: list[str]) -> None:
        """Send ``contents`` to ``channel`` in one write (one syscall for the batch)."""
        prefix = f"PRIVMSG {channel} :"
        self._write("".join(f"{prefix}{content}\r\n" for content in contents).encode())
        self.sent += len(contents)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def connect_irc(
    port: int, nick: str, channels: list[str], latency: LatencyLog, timeout: float
) -> IrcClient:
    """Connect, register and join; returns once every channel's member list has arrived."""
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: IrcClient(nick, channels, latency), "127.0.0.1", port),
        timeout,
    )
    await asyncio.wait_for(client.ready, timeout)
    return client
