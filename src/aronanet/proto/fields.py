"""The field types every ArTP message is made of: names, ids, content, and the base Struct.

Shared by ``messages`` (ArTP/1.0 and the sync part of 1.1) and ``lifecycle`` (§14.9-14.14),
so that both describe a field the same way and decode it with the same rule.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from aronanet.config import HISTORY_LIMIT_MAX
from aronanet.proto.wording import rule

VERSION: Final = "1.0"

#: Patterns are anchored with ``\A`` and ``\Z``, never ``^``/``$``: msgspec (like ``re.search``)
#: lets ``$`` match before a trailing newline, which made ``"name\n"`` a second valid name.
USER_PATTERN = r"\A[A-Za-z0-9_-]{1,32}\Z"
CHANNEL_PATTERN = r"\A#[a-z0-9_-]{1,32}\Z"
SHA256_PATTERN = r"\A[0-9a-f]{64}\Z"
#: Identifiers a node stores, logs or shows (transfer ids, message ids; file names are checked
#: by the image layer) hold no control character (C0, DEL, C1). Request ids are only echoed
#: back as ``re``, so they stay any 1-64 characters, as the contract has them.
NO_CONTROL_PATTERN = r"\A[^\x00-\x1f\x7f-\x9f]*\Z"

UserName = Annotated[str, Meta(pattern=USER_PATTERN)]
ChannelName = Annotated[str, Meta(pattern=CHANNEL_PATTERN)]
RequestId = Annotated[str, Meta(min_length=1, max_length=64)]
TransferId = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_CONTROL_PATTERN)]
Password = Annotated[str, Meta(min_length=8, max_length=1024)]
#: The contract caps content at 4000 code points; a node may configure a lower cap, which
#: the node enforces (``TOO_LARGE``). Here only the hard bounds of the wire are checked.
Content = Annotated[str, Meta(min_length=1)]
MessageId = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_CONTROL_PATTERN)]
Sha256Hex = Annotated[str, Meta(pattern=SHA256_PATTERN)]
HistoryLimit = Annotated[int, Meta(ge=1, le=HISTORY_LIMIT_MAX)]
ChunkIndex = Annotated[int, Meta(ge=0)]
ChunkTotal = Annotated[int, Meta(ge=1)]
NonNegative = Annotated[int, Meta(ge=0)]
#: An upload's metadata (``dest``, ``name``) is checked by the node's image layer, so that a
#: refusal names its ``transfer`` and fails the upload (§10), rather than here.
FileName = Annotated[str, Meta(min_length=1, max_length=255)]
DestType = Literal["channel", "user"]
Version = Literal["1.0"]

#: §14.4: a client-chosen message id, unique per user.
ClientId = Annotated[str, Meta(pattern=r"\A[A-Za-z0-9_-]{1,64}\Z")]
#: §14.3: 1-64 characters, none of them a control character (C0, DEL, C1).
DeviceName = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_CONTROL_PATTERN)]
#: §14.3: a device id is its key's fingerprint (§11), ``SHA256:`` and base64.
DeviceId = Annotated[str, Meta(min_length=1, max_length=128, pattern=NO_CONTROL_PATTERN)]
#: §14.3 PASSWORD ``old``: any non-empty text; a wrong one is ``AUTH_FAILED``, not ``INVALID``.
OldPassword = Annotated[str, Meta(min_length=1, max_length=1024)]
Cursor = Annotated[str, Meta(min_length=1, max_length=128, pattern=NO_CONTROL_PATTERN)]


class Base(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    version: Version = VERSION


_DEST_PATTERNS = {"channel": re.compile(CHANNEL_PATTERN), "user": re.compile(USER_PATTERN)}


def check_dest(dest_type: str, dest: str) -> None:
    """§3: ``dest`` is a channel name for ``channel`` and a user name for ``user``.
    Runs for every ``MSG``: the patterns are compiled once, not looked up in ``re``'s cache."""
    pattern = _DEST_PATTERNS["channel" if dest_type == "channel" else "user"]
    if pattern.fullmatch(dest) is None:
        raise ValueError(f"invalid dest: {rule(dest_type)}")
