"""The TCP framing of ArTP/1.0: a u32 big-endian length prefix, then that many bytes.

ArTP-1.0 §1: "1 <= N <= 65535 ... A peer that reads a length outside that range MUST close
the connection without reading the body and without allocating N bytes." So the decoder
checks the length the moment the 4 header bytes are in and never buffers more than one
frame's worth of a body it has accepted. WebSocket carries one ArTP message per binary
message and does not use this module.
"""

from __future__ import annotations

import struct
from typing import NoReturn

from aronanet.config import MAX_FRAME
from aronanet.errors import FrameError

#: The length prefix: unsigned 32-bit, big-endian (§1).
HEADER = struct.Struct(">I")
HEADER_SIZE = HEADER.size


def check_frame_length(length: int, max_frame: int = MAX_FRAME) -> None:
    """Raise ``FrameError`` unless ``1 <= length <= max_frame`` (§1).

    Shared by the TCP decoder (checking a header) and the WebSocket path (checking a message).
    """
    if length == 0:
        raise FrameError("frame length 0 is below the minimum of 1 byte")
    if length > max_frame:
        raise FrameError(f"frame length {length} exceeds limit of {max_frame} bytes")


def encode_frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length; raise ``FrameError`` unless it is 1..65535 bytes."""
    check_frame_length(len(payload))
    return HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Turns a TCP byte stream, split anywhere, into complete frame bodies.

    Feed it whatever ``recv()`` returned; it returns every frame completed so far. A bad
    length raises ``FrameError`` and the decoder stays failed: the caller must close the
    connection, and any later ``feed`` raises again rather than resynchronising on garbage.
    """

    __slots__ = ("_buffer", "_error", "_max_frame")

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        if not 1 <= max_frame <= MAX_FRAME:
            raise ValueError(f"max_frame must be within 1..{MAX_FRAME}, not {max_frame}")
        self._max_frame = max_frame
        self._buffer = bytearray()
        self._error: FrameError | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Append ``data`` and return the bodies of all frames now complete, in order."""
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        if not buffer and len(data) >= HEADER_SIZE:
            # Fast path, the common case of one read holding exactly one frame: no buffering.
            (length,) = HEADER.unpack_from(data)
            if 0 < length <= self._max_frame and len(data) == HEADER_SIZE + length:
                return [bytes(data[HEADER_SIZE:])]
        buffer += data
        frames: list[bytes] = []
        offset = 0
        available = len(buffer)
        # Walk the buffer with an offset and trim once at the end: many small frames in one
        # read cost one pass, not one memmove per frame.
        while available - offset >= HEADER_SIZE:
            (length,) = HEADER.unpack_from(buffer, offset)
            if not 0 < length <= self._max_frame:
                self._fail(length)
            end = offset + HEADER_SIZE + length
            if end > available:
                break
            frames.append(bytes(buffer[offset + HEADER_SIZE : end]))
            offset = end
        if offset:
            del buffer[:offset]
        return frames

    def _fail(self, length: int) -> NoReturn:
        """§1: close "without reading the body": drop what is buffered and stay failed."""
        try:
            check_frame_length(length, self._max_frame)
        except FrameError as error:
            self._error = error
        self._buffer.clear()
        assert self._error is not None
        raise self._error

    @property
    def buffered(self) -> int:
        """How many bytes of an incomplete frame are held (for tests and diagnostics)."""
        return len(self._buffer)
