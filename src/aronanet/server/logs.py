"""Structured, quiet logging: one ``event key=value ...`` line per record.

Callers log an event name and plain fields: ``log_event(logger, "session_closed",
peer=..., reason=...)``. Fields are identifiers, counts and reasons; message content,
passwords and keys are never passed here, so they never reach a log.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
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


class ThrottledLog:
    """One event logged at most once per ``period`` seconds, with how many were skipped.

    For failures a client can cause over and over (a full disk, no file descriptors left):
    the operator learns of them without the node writing a line, or a traceback, per
    request.
    """

    def __init__(
        self,
        logger: logging.Logger,
        event: str,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._event = event
        self._period = period
        self._clock = clock
        self._last: float | None = None
        self._skipped = 0

    def __call__(self, level: int = logging.WARNING, **fields: Any) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._period:
            self._skipped += 1
            return
        log_event(self._logger, self._event, level, skipped=self._skipped, **fields)
        self._last, self._skipped = now, 0
