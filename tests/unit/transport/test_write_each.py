"""``write_each``: a fan-out's writes, and which peers it leaves over their backlog."""

from __future__ import annotations

from aronanet.transport.tcp import TcpStream, write_each


class RecordingTransport:
    """What ``write_each`` uses of an asyncio transport, with a chosen backlog."""

    def __init__(self, backlog: int = 0, closing: bool = False) -> None:
        self.written: list[bytes] = []
        self.backlog = backlog
        self.closing = closing

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self.backlog += len(data)

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return self.closing


def _stream(transport: RecordingTransport, limit: int = 100) -> TcpStream:
    stream = TcpStream(lambda _: None, limit)
    stream._transport = transport  # type: ignore[assignment]
    return stream


def test_each_stream_gets_its_own_bytes_and_the_laggards_are_named() -> None:
    keeping_up, at_the_edge, behind = (
        RecordingTransport(),
        RecordingTransport(backlog=97),
        RecordingTransport(backlog=98),
    )
    streams = [_stream(keeping_up), _stream(at_the_edge), _stream(behind)]
    lagging = write_each(streams, [b"aaa", b"bbb", b"ccc"])
    assert (keeping_up.written, at_the_edge.written, behind.written) == (
        [b"aaa"],
        [b"bbb"],
        [b"ccc"],
    )
    assert lagging == [streams[2]]  # 100 bytes is the limit itself; 101 is over it


def test_a_closing_or_unconnected_stream_is_skipped() -> None:
    closing = RecordingTransport(closing=True)
    unconnected = TcpStream(lambda _: None, 100)
    assert write_each([_stream(closing), unconnected], [b"x", b"y"]) == []
    assert closing.written == []
