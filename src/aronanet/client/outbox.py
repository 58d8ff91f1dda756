"""The durable outbox: messages typed but not yet confirmed, on disk, in the order typed.

ArTP/1.1 §14.4 makes a resend safe: a ``MSG`` whose ``cid`` the node already stored is
answered with the original ``OK`` (``duplicate: true``) and posted nowhere. So the client
writes each message here, with its ``cid``, BEFORE sending it, and forgets it only when its
``OK`` arrives. Whatever happens in between (the link drops, the node is killed, this process
is killed) the entry is still here on the next start and is sent again with the same ``cid``:
the message is posted exactly once.

The file is JSON lines, one per node and user, mode 0600 (it holds message text), and every
change is an appended, fsync'd line: ``{"op": "add", ...entry}`` or ``{"op": "done", "cid"}``.
A crash can only tear the last line, which is skipped on load (that append was never
acknowledged to anyone). When the file holds more finished than pending entries it is
rewritten with the pending ones (write aside, fsync, rename, fsync the directory).

One process owns a given outbox at a time; two clients of the same user on one machine use
two config directories (the device key lives there too).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aronanet.filemodes import fsync_directory

log = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700
#: Rewrite the file once it holds this many finished entries and they outnumber the pending.
COMPACT_AFTER = 64
#: §14.4: "1-64 chars ``[A-Za-z0-9_-]``"; ours are 128 random bits, 22 chars of base64url.
CID_BYTES = 16
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def new_cid(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A fresh client message id: 128 random bits as unpadded base64url (22 chars)."""
    return base64.urlsafe_b64encode(random_bytes(CID_BYTES)).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One message waiting for its ``OK``; ``cid`` is what makes resending it safe."""

    cid: str
    dest_type: str
    dest: str
    content: str
    queued_at: int
    #: ArTP/1.1 §14.9: the message this one replies to, if any.
    reply_to: str | None = None


def outbox_path(config_dir: Path, address: str, user: str) -> Path:
    """The outbox file of ``user`` on the node at ``address``, inside ``config_dir``.

    Readable for a person listing the directory, and unique thanks to a short hash of the
    exact (address, case-folded user) pair: §3 user names are unique ignoring case.
    """
    key = f"{address}\n{user.casefold()}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    readable = _UNSAFE.sub("_", f"{user.casefold()}@{address}")[:80]
    return config_dir / "outbox" / f"{readable}-{digest}.jsonl"


class Outbox:
    """The pending messages of one user on one node, kept in ``path``.

    Load it once per process; ``pending`` is then served from memory and every ``add`` and
    ``done`` is written through before it returns.
    """

    def __init__(self, path: Path | None, *, compact_after: int = COMPACT_AFTER) -> None:
        """``path`` None keeps the outbox in memory only (a client without a config dir)."""
        self.path = Path(path) if path is not None else None
        self._compact_after = compact_after
        self._pending: dict[str, OutboxEntry] = {}
        self._finished = 0
        self._load()

    # ------------------------------------------------------------------ reading

    def pending(self) -> list[OutboxEntry]:
        """Every message not yet confirmed, in the order it was added."""
        return list(self._pending.values())

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, cid: object) -> bool:
        return cid in self._pending

    # ------------------------------------------------------------------ writing

    def add(
        self,
        dest_type: str,
        dest: str,
        content: str,
        queued_at: int,
        *,
        cid: str | None = None,
        reply_to: str | None = None,
    ) -> OutboxEntry:
        """Record a message about to be sent; durable when this returns."""
        entry = OutboxEntry(cid or new_cid(), dest_type, dest, content, queued_at, reply_to)
        if entry.cid in self._pending:
            return self._pending[entry.cid]
        self._append({"op": "add", **asdict(entry)})
        self._pending[entry.cid] = entry
        return entry

    def done(self, cid: str) -> None:
        """Forget ``cid``: its ``OK`` arrived (``duplicate`` or not). Unknown ids are ignored."""
        if self._pending.pop(cid, None) is None:
            return
        self._append({"op": "done", "cid": cid})
        self._finished += 1
        if self._finished >= self._compact_after and self._finished > len(self._pending):
            self.compact()

    def compact(self) -> None:
        """Rewrite the file with only the pending entries (or remove it when there are none)."""
        if self.path is None:
            return
        if not self._pending:
            self.path.unlink(missing_ok=True)
        else:
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            lines = "".join(_line({"op": "add", **asdict(e)}) for e in self._pending.values())
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        with contextlib.suppress(FileNotFoundError):
            fsync_directory(self.path.parent)
        self._finished = 0

    # ------------------------------------------------------------------ internals

    def _append(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        created = not self.path.exists()
        if created:
            self.path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write(_line(record))
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            fsync_directory(self.path.parent)

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        lines = text.split("\n")
        for number, raw in enumerate(lines, 1):
            if raw.strip():
                self._apply(raw, number, is_last=number >= len(lines) - 1)
        if not text.endswith("\n") and text:
            self.compact()  # drop the torn tail so the next append starts on a fresh line

    def _apply(self, raw: str, number: int, *, is_last: bool) -> None:
        try:
            record = json.loads(raw)
            if record["op"] == "done":
                if self._pending.pop(str(record["cid"]), None) is not None:
                    self._finished += 1
                return
            entry = OutboxEntry(
                cid=str(record["cid"]),
                dest_type=str(record["dest_type"]),
                dest=str(record["dest"]),
                content=str(record["content"]),
                queued_at=int(record["queued_at"]),
                reply_to=_optional_text(record.get("reply_to")),
            )
        except (ValueError, KeyError, TypeError):
            # A torn last line is a write a crash interrupted; anything else is damage.
            if not is_last:
                log.warning("outbox %s: skipping unreadable line %d", self.path, number)
            return
        self._pending.setdefault(entry.cid, entry)


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
