"""The u32 length-prefix framing of ArTP-1.0 §1, fed literal bytes."""

from __future__ import annotations

import pytest

from aronanet.errors import FrameError
from aronanet.proto.framing import FrameDecoder, encode_frame


def test_encode_frame_prefixes_the_big_endian_length() -> None:
    assert encode_frame(b"hi") == b"\x00\x00\x00\x02hi"


def test_encode_frame_accepts_the_largest_frame() -> None:
    assert encode_frame(b"x" * 65535)[:4] == b"\x00\x00\xff\xff"


@pytest.mark.parametrize("size", [0, 65536])
def test_encode_frame_refuses_lengths_outside_the_contract(size: int) -> None:
    with pytest.raises(FrameError):
        encode_frame(b"x" * size)


def test_decoder_returns_one_whole_frame() -> None:
    assert FrameDecoder().feed(b"\x00\x00\x00\x03abc") == [b"abc"]


def test_decoder_reassembles_a_frame_fed_one_byte_at_a_time() -> None:
    decoder = FrameDecoder()
    stream = b"\x00\x00\x00\x05hello\x00\x00\x00\x01!"
    frames: list[bytes] = []
    for byte in stream:
        frames.extend(decoder.feed(bytes([byte])))
    assert frames == [b"hello", b"!"]
    assert decoder.buffered == 0


def test_decoder_returns_many_frames_from_one_read() -> None:
    stream = b"".join(encode_frame(bytes([n]) * (n + 1)) for n in range(50))
    assert FrameDecoder().feed(stream) == [bytes([n]) * (n + 1) for n in range(50)]


def test_decoder_keeps_a_partial_frame_after_complete_ones() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x00\x00\x00\x01a\x00\x00\x00\x04bc") == [b"a"]
    assert decoder.buffered == 6
    assert decoder.feed(b"de") == [b"bcde"]


def test_decoder_waits_for_the_whole_header() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x00\x00\x00") == []
    assert decoder.feed(b"\x02ok") == [b"ok"]


def test_decoder_rejects_length_zero_from_the_header_alone() -> None:
    with pytest.raises(FrameError, match="frame length 0"):
        FrameDecoder().feed(b"\x00\x00\x00\x00")


def test_decoder_rejects_length_65536_from_the_header_alone() -> None:
    with pytest.raises(FrameError, match="frame length 65536 exceeds limit of 65535 bytes"):
        FrameDecoder().feed(b"\x00\x01\x00\x00")


def test_decoder_rejects_a_huge_length_without_buffering_its_body() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FrameError, match="4294967295"):
        decoder.feed(b"\xff\xff\xff\xff" + b"x" * 100)
    assert decoder.buffered == 0


def test_decoder_rejects_a_bad_header_after_a_split() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x00\x00\x00\x01a\x00\x01") == [b"a"]
    with pytest.raises(FrameError):
        decoder.feed(b"\x00\x00")


def test_decoder_honours_a_lower_max_frame() -> None:
    decoder = FrameDecoder(max_frame=10)
    assert decoder.feed(encode_frame(b"x" * 10)) == [b"x" * 10]
    with pytest.raises(FrameError, match="frame length 11 exceeds limit of 10 bytes"):
        decoder.feed(b"\x00\x00\x00\x0b")


def test_decoder_stays_failed_after_a_bad_length() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FrameError):
        decoder.feed(b"\x00\x00\x00\x00")
    with pytest.raises(FrameError):
        decoder.feed(b"\x00\x00\x00\x01a")


@pytest.mark.parametrize("max_frame", [0, 65536])
def test_decoder_refuses_a_max_frame_beyond_the_contract(max_frame: int) -> None:
    with pytest.raises(ValueError, match="max_frame"):
        FrameDecoder(max_frame=max_frame)
