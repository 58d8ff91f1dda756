"""The ArTP/1.1 mention rule (§14.5), one pure function mirrored by every client library.

A message mentions user ``name`` when its content contains ``@name`` not followed by a name
character (``[A-Za-z0-9_-]``), or starts with ``name:`` or ``name,``; names compare
case-insensitively, in ASCII only (user names are ASCII, and an ASCII-only rule is the same
in every language: Python's Unicode case folding would match the Kelvin sign to ``k``).

``mentioned_names`` gives every name one content mentions, so the node finds the mentioned
members of a channel with one scan of the content instead of one per member.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: A maximal run of name characters after ``@``: ``@name`` not followed by a name character
#: is exactly a run equal to the name.
_AT_NAME = re.compile(r"@([A-Za-z0-9_-]+)")
#: ``name:`` / ``name,`` at the very start of the content.
_ADDRESSED = re.compile(r"([A-Za-z0-9_-]+)[:,]")
#: User names are 1 to 32 characters (§3); a longer run names nobody.
_MAX_NAME = 32


def mentions(content: str, name: str) -> bool:
    """Whether ``content`` mentions the user ``name`` (the rule in the module docstring)."""
    return _pattern(name).search(content) is not None


@lru_cache(maxsize=4096)
def _pattern(name: str) -> re.Pattern[str]:
    escaped = re.escape(name)
    return re.compile(rf"\A{escaped}[:,]|@{escaped}(?![A-Za-z0-9_-])", re.ASCII | re.IGNORECASE)


def mentioned_names(content: str) -> frozenset[str]:
    """Every user name ``content`` mentions, lower-cased (ASCII): the keys to look up."""
    # Most messages mention nobody: one C-level search for "@" spares them the regex.
    names = (
        {run.lower() for run in _AT_NAME.findall(content) if len(run) <= _MAX_NAME}
        if "@" in content
        else set()
    )
    addressed = _ADDRESSED.match(content)
    if addressed is not None and len(addressed.group(1)) <= _MAX_NAME:
        names.add(addressed.group(1).lower())
    return frozenset(names)
