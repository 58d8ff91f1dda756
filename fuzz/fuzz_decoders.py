"""Coverage-guided fuzzing of the code that reads untrusted bytes first: framing and codec.

Run briefly in CI (exit status 0 when nothing is found)::

    python fuzz/fuzz_decoders.py -atheris_runs=20000

or for longer locally, with a corpus directory: ``python fuzz/fuzz_decoders.py corpus/``.
Any exception other than the documented ``FrameError``, or a result that is neither a
message nor a ``Rejection``, is a finding: atheris prints the input and exits non-zero.
"""

from __future__ import annotations

from typing import get_args

import atheris
from campaign import fuzz

with atheris.instrument_imports(include=["aronanet"]):
    from aronanet.errors import ErrorCode, FrameError
    from aronanet.proto import messages
    from aronanet.proto.codec import Rejection, decode_event, decode_request
    from aronanet.proto.framing import FrameDecoder

REQUEST_CLASSES = get_args(messages.Request)
EVENT_CLASSES = get_args(messages.Event)
REJECTION_CODES = (ErrorCode.INVALID, ErrorCode.UNKNOWN_TYPE)


def check_decoded(result: object, classes: tuple[type, ...]) -> None:
    """A decoder's result must be one of its union's messages or a documented Rejection."""
    if isinstance(result, Rejection):
        if result.code not in REJECTION_CODES:
            raise AssertionError(f"undocumented rejection code {result.code}")
        if result.re is not None and not 1 <= len(result.re) <= 64:
            raise AssertionError(f"re of {len(result.re)} chars echoed")
    elif not isinstance(result, classes):
        raise AssertionError(f"decoder returned a {type(result).__name__}")


def feed_in_pieces(data: bytes, split_at: int, max_frame: int) -> list[bytes]:
    """Feed ``data`` to a fresh decoder in two reads; FrameError is a documented outcome."""
    decoder = FrameDecoder(max_frame=max_frame)
    try:
        frames = decoder.feed(data[:split_at])
        frames += decoder.feed(data[split_at:])
    except FrameError:
        return []
    for frame in frames:
        if not 1 <= len(frame) <= max_frame:
            raise AssertionError(f"frame of {len(frame)} bytes returned")
    return frames


def test_one_input(raw: bytes) -> None:
    provider = atheris.FuzzedDataProvider(raw)
    split_at = provider.ConsumeIntInRange(0, 64)
    max_frame = provider.ConsumeIntInRange(1, 300)
    data = provider.ConsumeBytes(provider.remaining_bytes())
    for frame in feed_in_pieces(data, split_at, max_frame):
        check_decoded(decode_request(frame), REQUEST_CLASSES)
    check_decoded(decode_request(data), REQUEST_CLASSES)
    check_decoded(decode_event(data), EVENT_CLASSES)


if __name__ == "__main__":
    fuzz(test_one_input)
