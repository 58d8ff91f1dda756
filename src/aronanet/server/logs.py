"""Structured, quiet logging: one ``event key=value ...`` line per record.

Callers log an event name and plain fields: ``log_event(logger, "session_closed",
peer=..., reason=...)``. Fields are identifiers, counts and reasons; message content,
passwords and keys are never passed here, so they never reach a log.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

_FIELDS = "artp_fields"


class KeyValueFormatter(logging.Formatter):
    """Render ``time level logger event k=v ...``, quoting values that contain spaces."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, _FIELDS, {})
        parts = [
            self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            record.levelname.lower(),
            record.name,
            record.getMessage(),
        ]
        parts.extend(f"{key}={_quote(value)}" for key, value in fields.items())
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quote(value: Any) -> str:
    text = str(value)
    if not text or any(ch.isspace() or ch in '"=' for ch in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event; ``fields`` must never hold content, passwords or keys."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={_FIELDS: fields})


def configure_logging(level: str) -> None:
    """Send the node's records to stderr, one line each, at ``level`` and above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger("aronanet")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
