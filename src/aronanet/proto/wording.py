"""Validation failures in words: the one place a field's rule is written for people.

msgspec explains a failed constraint in its own terms (``Expected `str` matching regex
'\\A#[a-z0-9_-]{1,32}\\Z' - at `$.channel```), which is exact but no help to someone who typed
``/join #Ops``. ``describe`` turns such a text into ``invalid channel: channel names are #
followed by 1-32 lowercase letters, digits, _ or -``, using ``FIELD_RULES``, the table every
other module quotes (``rule``) when it words a rule itself. Texts never repeat the value that
failed: it may be a password.
"""

from __future__ import annotations

import re
from typing import Final

_CHANNEL_RULE: Final = "channel names are # followed by 1-32 lowercase letters, digits, _ or -"
_USER_RULE: Final = "user names are 1-32 letters, digits, _ or -"
_ID_RULE: Final = "1-64 characters"

#: Field name (the last segment of msgspec's ``$.path``) -> the rule, in words.
FIELD_RULES: Final[dict[str, str]] = {
    "user": _USER_RULE,
    "password": "passwords are 8-1024 characters",
    "register": "register is true or false",
    "channel": _CHANNEL_RULE,
    "dest_type": 'dest_type is "channel" or "user"',
    "dest": f"a channel dest: {_CHANNEL_RULE}; a user dest: {_USER_RULE}",
    "content": "content is text of at least 1 character",
    "topic": "topics are at most 390 characters",
    "limit": "limit is a whole number from 1 to 200",
    "search_limit": "a SEARCH limit is a whole number from 1 to 50",
    "query": "a query is text of 1-256 characters with at least one word",
    "before": f"before is a message id of {_ID_RULE}",
    "after": f"after is a message id of {_ID_RULE}",
    "id": f"a request id is a string of {_ID_RULE}",
    "re": "re is a string",
    "transfer": f"a transfer id is {_ID_RULE}, without control characters",
    "index": "index is a whole number from 0",
    "total": "total is a whole number from 1",
    "start": "start is a whole number from 0",
    "size": "size is a whole number from 0",
    "data": "data is a base64 string",
    "name": "a file name is 1-255 characters; a device name 1-64, without control characters",
    "mime": "mime is a string such as image/png",
    "sha256": "sha256 is 64 lowercase hex digits",
    "image": "image is a SHA-256 of 64 lowercase hex digits",
    "version": 'version is "1.0"',
    # ArTP/1.1 (§14)
    "cid": "a cid is 1-64 letters, digits, _ or -",
    "device_name": "a device name is 1-64 characters, without control characters",
    "device": "a device id is 1-128 characters, without control characters",
    "old": "old is the current password",
    "new": "passwords are 8-1024 characters",
    "cursor": "a cursor is the `next` of an earlier CONVERSATIONS reply",
    "up_to": f"up_to is a message id of {_ID_RULE}",
    "type": "type is a string",
    # ArTP/1.1 lifecycle (§14.9-14.14)
    "msg_id": f"msg_id is a message id of {_ID_RULE}",
    "reply_to": f"reply_to is a message id of {_ID_RULE}",
    "around": f"around is a message id of {_ID_RULE}",
    "emoji": "emoji is one emoji",
    "typing": "typing is true or false",
    "since": "since is a rev: the decimal `rev` of an earlier reply",
    # ArTP/1.1 moderation (§14.16-14.21)
    "role": 'role is "operator", "voiced" or "member"',
    "reason": "a reason is at most 390 characters, without control characters",
    "seconds": "seconds is a whole number from 0 to 2592000 (30 days)",
    "invite_only": "invite_only is true or false",
    "moderated": "moderated is true or false",
    "topic_locked": "topic_locked is true or false",
    "blocked": "blocked is true or false",
    "disabled": "disabled is true or false",
    "invite": "an invitation is the 16-128 letter token the node's admin gave you",
    "reset": "a reset token is the 16-128 letter token the node's admin gave you",
}

_AT_FIELD = re.compile(r" - at `\$(?:\.(?P<path>[^`]*))?`\Z")
_MISSING = re.compile(r"\AObject missing required field `(?P<field>[^`]+)`")
_INDEX = re.compile(r"\[\d+\]")
#: msgspec's texts are short; anything longer is cut so a reply stays small.
MAX_TEXT = 200


def rule(field: str) -> str:
    """The rule for ``field`` in words (``KeyError`` for a field without one: a bug)."""
    return FIELD_RULES[field]


def describe(error_text: str) -> str:
    """msgspec's validation text in words when its field has a rule, else the text itself."""
    missing = _MISSING.match(error_text)
    if missing is not None:
        field = missing.group("field")
        return _worded("missing", field) or error_text[:MAX_TEXT]
    at = _AT_FIELD.search(error_text)
    if at is not None and at.group("path"):
        field = _INDEX.sub("", at.group("path")).rsplit(".", 1)[-1]
        return _worded("invalid", field) or error_text[:MAX_TEXT]
    return error_text[:MAX_TEXT]


def _worded(problem: str, field: str) -> str | None:
    found = FIELD_RULES.get(field)
    return None if found is None else f"{problem} {field}: {found}"
