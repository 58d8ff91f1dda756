"""How an upload is refused for lack of room (ArTP §9 limits), worded once for every node.

The limits on uploads in progress are checked in two places: ``image_transfers`` (this
node's uploads) and, in scale-out mode, ``image_postgres.SharedUploads`` (a user's uploads
on every node, in the transaction that admits one). Both refuse through these functions,
so a client sees the same code, wording and ``retry_after_ms`` whichever node refused.
"""

from __future__ import annotations

import logging

from aronanet.errors import ErrorCode, RequestError
from aronanet.server.logs import ThrottledLog

_storage_failed_log = ThrottledLog(logging.getLogger(__name__), "upload_storage_failed")
#: ``retry_after_ms`` of an upload refused for lack of room: uploads end or expire.
UPLOAD_RETRY_MS = 1000


def refuse_room(wanted: int, limit: int, what: str) -> None:
    """``RATE_LIMITED`` if ``wanted`` of ``what`` in progress would exceed ``limit``."""
    if wanted > limit:
        raise RequestError(
            ErrorCode.RATE_LIMITED,
            f"too many {what} in progress: {wanted} would exceed the limit of {limit}; "
            f"retry in {UPLOAD_RETRY_MS} ms",
            retry_after_ms=UPLOAD_RETRY_MS,
        )


def refuse_quota(used: int, size: int, quota: int) -> None:
    """``TOO_LARGE`` if an upload of ``size`` bytes would take a user who has ``used`` bytes
    (stored and in progress) past ``upload_quota_bytes``."""
    if used + size > quota:
        raise RequestError(
            ErrorCode.TOO_LARGE,
            f"upload quota exceeded: {used} bytes used + {size} > quota of {quota} bytes",
        )


def storage_failed(exc: OSError) -> RequestError:
    """An upload the node cannot store right now (a full disk, no file descriptors left):
    one quiet ``RATE_LIMITED`` for the client, at most one log line a minute."""
    _storage_failed_log(error=type(exc).__name__, errno=exc.errno)
    return RequestError(
        ErrorCode.RATE_LIMITED,
        f"the node cannot store uploads right now; retry in {UPLOAD_RETRY_MS} ms",
        retry_after_ms=UPLOAD_RETRY_MS,
    )
