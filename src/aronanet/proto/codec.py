"""JSON <-> ArTP messages: the one place where bytes become typed messages.

Decoding never raises. ArTP-1.0 §3: "A frame that is not valid JSON, or not an object, gets
``ERROR INVALID`` and the session stays open", so every bad plaintext becomes a
``Rejection`` value carrying the error code to answer with and, when it can be read, the
request's ``id`` so the reply can carry it as ``re``.

The fast path is one msgspec decode into the tagged union (validation in C). Only when that
fails do we look at the bytes again, generically, to tell ``INVALID`` from ``UNKNOWN_TYPE``
and to recover the ``id``: errors are rare, so they may be slow; messages may not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from aronanet.errors import ErrorCode
from aronanet.proto import messages, wording
from aronanet.proto.messages import Event, Request

#: What a JSON decoder may raise on hostile input besides ``DecodeError``: invalid UTF-8
#: inside a string, and nesting deeper than the interpreter's recursion limit.
_DECODE_FAILURES = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)

_MAX_ID_LENGTH = 64

_encoder = msgspec.json.Encoder()
_request_decoder = msgspec.json.Decoder(Request)
_event_decoder = msgspec.json.Decoder(Event)
_generic_decoder = msgspec.json.Decoder()
_batch_decoder = msgspec.json.Decoder(list[msgspec.Raw])

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Rejection:
    """A plaintext that decrypted fine but is not a valid message.

    ``code`` is what an ``ERROR`` reply must carry, ``message`` the human text for it, and
    ``re`` the offending request's ``id`` when it was a valid id (so the reply correlates).
    """

    code: ErrorCode
    message: str
    re: str | None = None


def encode(message: msgspec.Struct) -> bytes:
    """Encode ``message`` as compact UTF-8 JSON; ``UNSET`` fields are left out."""
    return _encoder.encode(message)


def decode_request(data: bytes) -> Request | Rejection:
    """Decode a client-to-server plaintext (server side). Never raises."""
    return _decode(data, _request_decoder, messages.REQUEST_TYPES)


def decode_event(data: bytes) -> Event | Rejection:
    """Decode a server-to-client plaintext (client side). Never raises."""
    return _decode(data, _event_decoder, messages.EVENT_TYPES)


def decode_event_batch(data: bytes) -> list[Event | Rejection]:
    """Decode an ArTP/1.1 batch (§14.2): a JSON array of server-to-client messages.

    Each element is decoded as a message of its own would be, so one bad element is one
    ``Rejection`` and the rest still arrive. Never raises.
    """
    try:
        elements = _batch_decoder.decode(data)
    except _DECODE_FAILURES:
        return [Rejection(ErrorCode.INVALID, "not a valid JSON array of messages")]
    if not elements:
        return [Rejection(ErrorCode.INVALID, "an empty batch")]
    return [decode_event(bytes(element)) for element in elements]


def _decode(
    data: bytes, decoder: msgspec.json.Decoder[_T], known_types: frozenset[str]
) -> _T | Rejection:
    # §3: "Each transport plaintext is one UTF-8 JSON object". msgspec does not validate
    # bytes inside the unknown fields it skips, so non-ASCII input is checked here once.
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            return Rejection(ErrorCode.INVALID, f"not valid UTF-8 at byte {error.start}")
    try:
        return decoder.decode(data)
    except _DECODE_FAILURES as error:
        return _explain(data, error, known_types)


def _explain(data: bytes, error: Exception, known_types: frozenset[str]) -> Rejection:
    """Work out why ``data`` failed to decode, and the request id if there is one."""
    try:
        value: Any = _generic_decoder.decode(data)
    except _DECODE_FAILURES:
        return _explain_not_json(data)
    if not isinstance(value, dict):
        return Rejection(ErrorCode.INVALID, f"expected a JSON object, not {_json_kind(value)}")
    request_id = _recover_id(value)
    message_type = value.get("type")
    if not isinstance(message_type, str):
        return Rejection(ErrorCode.INVALID, "missing or non-string `type`", request_id)
    if message_type not in known_types:
        # §3 error codes: a well-formed object of a type this peer does not know.
        return Rejection(ErrorCode.UNKNOWN_TYPE, f"unknown type {message_type[:64]!r}", request_id)
    return Rejection(ErrorCode.INVALID, _describe(error), request_id)


def _explain_not_json(data: bytes) -> Rejection:
    """Bytes msgspec cannot parse: tell a lone surrogate escape from broken JSON.

    JSON's grammar allows ``"\\ud800"`` but it is no Unicode text, so msgspec refuses the
    document. Python's own parser still reads it, which is enough to recover the ``id`` and
    answer with ``re`` (the client is then not left waiting for a reply it cannot match).
    """
    try:
        value: Any = json.loads(data)
    except (ValueError, RecursionError):
        return Rejection(ErrorCode.INVALID, "not valid JSON (or nested too deeply)")
    request_id = _recover_id(value) if isinstance(value, dict) else None
    return Rejection(
        ErrorCode.INVALID,
        "a string holds a lone surrogate escape (\\ud800-\\udfff): not valid Unicode text",
        request_id,
    )


def _recover_id(value: dict[str, Any]) -> str | None:
    """The request's ``id`` if it is one the contract allows (a string of 1-64 chars) and
    one that can be sent back (no lone surrogate)."""
    request_id = value.get("id")
    if isinstance(request_id, str) and 1 <= len(request_id) <= _MAX_ID_LENGTH:
        try:
            request_id.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return request_id
    return None


def _describe(error: Exception) -> str:
    """msgspec's validation text, in words for the fields that have a rule (``wording``)."""
    return wording.describe(str(error) or type(error).__name__)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"
