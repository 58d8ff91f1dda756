"""One line per event, for ``aronanet tail`` and anything else that prints a session.

Message text comes from other people, so it is never written to a terminal raw: control
characters (escape sequences could rewrite the screen or the title) and bidirectional
overrides (which could make one name read as another) are shown escaped, and a newline never
splits an event over two lines. ``--json`` output needs none of this: JSON escapes them.
"""

from __future__ import annotations

import re
import time

import msgspec
from msgspec import UNSET

from aronanet.proto import messages

#: C0/C1 controls, DEL, and the Unicode bidi embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def safe_text(text: str) -> str:
    """``text`` with every character that could act on a terminal shown as an escape."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED_ESCAPES.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def format_time(timestamp: int) -> str:
    """Local wall-clock time of a server timestamp (Unix seconds)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def render_json(event: msgspec.Struct) -> str:
    """The event as one line of JSON, exactly as the wire spells it."""
    return msgspec.json.encode(event).decode()


def render_line(event: msgspec.Struct) -> str:
    """A human-readable line for ``event``; every name and text passes ``safe_text``."""
    match event:
        case messages.MsgEvent():
            return _render_message(event)
        case messages.JoinEvent():
            return _render_channel(event.timestamp, event.channel, f"{event.from_} joined")
        case messages.PartEvent():
            return _render_channel(event.timestamp, event.channel, f"{event.from_} left")
        case messages.TopicEvent():
            action = f"{event.from_} set the topic: {event.topic}"
            return _render_channel(event.timestamp, event.channel, action)
        case messages.ReadEvent():
            # ArTP/1.1 §14.6: another device of this user read up to a message.
            return _render_channel(event.timestamp, event.dest, f"read up to {event.read}")
        case messages.Error():
            return safe_text(f"error {event.code}: {event.message}")
        case _:
            return safe_text(render_json(event))


def _render_channel(timestamp: int, channel: str, action: str) -> str:
    return f"{format_time(timestamp)} {safe_text(channel)} * {safe_text(action)}"


def _render_message(event: messages.MsgEvent) -> str:
    if event.dest_type == "channel":
        where = f"{event.dest} <{event.from_}>"
    else:
        where = f"[{event.from_} -> {event.dest}]"
    parts = [format_time(event.timestamp), safe_text(where)]
    if event.content:
        parts.append(safe_text(event.content))
    if event.attachment is not UNSET:
        parts.append(safe_text(_describe_attachment(event.attachment)))
    return " ".join(parts)


def _describe_attachment(attachment: messages.Attachment) -> str:
    return (
        f"[image {attachment.name} {attachment.width}x{attachment.height} "
        f"{attachment.size} bytes sha256:{attachment.image}]"
    )
