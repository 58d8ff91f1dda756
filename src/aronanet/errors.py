"""The exception hierarchy and the ArTP error codes.

Errors come in three tiers (docs/ARCHITECTURE.md "Errors"):

* connection-fatal: framing, handshake, decryption. The connection is closed and nothing
  is sent in clear text. These are ``ProtocolError`` and its subclasses.
* message-level: a frame that decrypts but is not a valid message. The node answers
  ``ERROR INVALID`` (or ``UNKNOWN_TYPE``) and the session stays open. The codec reports
  these as a ``Rejection`` value, not an exception.
* domain: a handler raises ``RequestError(ErrorCode.X, "...")`` and the node turns it into
  exactly one ``ERROR`` reply.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The error codes of ArTP/1.0 §3, spelled as on the wire."""

    INVALID = "INVALID"
    UNKNOWN_TYPE = "UNKNOWN_TYPE"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    AUTH_FAILED = "AUTH_FAILED"
    USER_EXISTS = "USER_EXISTS"
    REGISTRATION_CLOSED = "REGISTRATION_CLOSED"
    NO_SUCH_USER = "NO_SUCH_USER"
    NOT_IN_CHANNEL = "NOT_IN_CHANNEL"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    TOO_LARGE = "TOO_LARGE"
    IMAGE_INVALID = "IMAGE_INVALID"
    INTERNAL = "INTERNAL"
    #: ArTP/1.1 §14.10-14.11: EDIT or DELETE of a message the user did not send.
    NOT_AUTHOR = "NOT_AUTHOR"
    #: ArTP/1.1 §14.16-14.21 (moderation): one code per missing permission or refusal.
    NOT_OPERATOR = "NOT_OPERATOR"
    NOT_OWNER = "NOT_OWNER"
    NOT_ADMIN = "NOT_ADMIN"
    NOT_VOICED = "NOT_VOICED"
    BANNED = "BANNED"
    MUTED = "MUTED"
    INVITE_ONLY = "INVITE_ONLY"
    BLOCKED = "BLOCKED"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"


class AronaError(Exception):
    """Base of every error AronaNET raises on purpose."""


class ProtocolError(AronaError):
    """A connection-fatal violation: the connection must be closed, nothing sent in clear."""


class FrameError(ProtocolError):
    """A length prefix outside 1..max_frame, or a WebSocket frame of the wrong kind."""


class HandshakeError(ProtocolError):
    """The Noise handshake failed: bad message, failed decryption, or a bad payload."""


class DecryptError(ProtocolError):
    """A transport message failed to authenticate (replayed, dropped, reordered or altered)."""


class NonceExhaustedError(ProtocolError):
    """The 64-bit nonce reached its maximum; Noise forbids using it (rekey or reconnect)."""


class RequestError(AronaError):
    """A domain error in a request handler, answered with one ``ERROR`` reply.

    ``extra`` carries additional reply fields the contract attaches to some errors, such as
    ``retry_after_ms`` for ``RATE_LIMITED`` or ``transfer`` for image errors.
    """

    def __init__(self, code: ErrorCode, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class ClientError(AronaError):
    """An error reported to a client library user: an ``ERROR`` reply, or a local failure."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class KeyChangedError(AronaError):
    """A node presented a static key other than the one pinned for its address (TOFU)."""

    def __init__(self, address: str, pinned: str, presented: str) -> None:
        super().__init__(f"the key of {address} changed: pinned {pinned}, presented {presented}")
        self.address = address
        self.pinned = pinned
        self.presented = presented
