"""``aronanet serve`` with a clock on each stage of a ``MSG``: where one message's time goes.

Run instead of ``python -m aronanet.cli`` (same arguments) by ``bench_fanout_stages.py``. It
wraps a few functions of the node's hot path (nothing in the node changes) and notes, with
the system-wide monotonic clock, when a message

* ``sent``: left the sender (the send time ``loadgen.payload`` put in its content);
* ``received``: reached ``Session.data_received`` (the last read before it was queued);
* ``decoded``: left it (decrypted, decoded, queued for the session's worker task);
* ``queued``: was handed to the store (``append_message_then``);
* ``writer``: was picked up by the writer thread (``_run_batch``);
* ``commit``: had its rows written and its ``COMMIT`` began;
* ``committed``: was committed (readers see it; the log's flush follows);
* ``seen``: was back on the event loop to be routed (``_route``);
* ``flush``: had its fan-out flush begin (``Router._flush_dirty``);
* ``flushed``: had been written to every recipient's socket,

then when the flush of the log (``WalFlush``, on its own thread beside the fan-out) returned
(``durable``, 0 when that came after ``flushed``), and how much CPU the loop thread spent in
the fan-out flush (less than its wall time when the thread was preempted). One set of marks
is kept at a time, so the figures mean something only when messages do not overlap: the
fixed-rate phase. At exit, one line per message (the marks in that order, then
``durable``, then the flush CPU, all in ns) goes to ``$ARONANET_STAGES_OUT``.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aronanet import cli
from aronanet.server import messaging
from aronanet.server.router import Router
from aronanet.server.session import Session
from aronanet.server.store.sqlite import SqliteStore
from aronanet.server.store.sqlite_files import WalFlush
from aronanet.server.store.sqlite_writer import GroupCommitWriter

#: The marks of one message, in the order they are made.
STAGES = (
    "sent",
    "received",
    "decoded",
    "queued",
    "writer",
    "commit",
    "committed",
    "seen",
    "flush",
    "flushed",
)
OUT_VARIABLE = "ARONANET_STAGES_OUT"

_now = time.monotonic_ns
_marks: dict[str, int] = {}
_rows: list[tuple[int, ...]] = []


def _around(
    owner: Any,
    name: str,
    before: Callable[[], None] | None = None,
    after: Callable[[], None] | None = None,
) -> None:
    """Replace ``owner.name`` with a wrapper calling ``before`` and ``after`` around it."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before()
        try:
            return original(*args, **kwargs)
        finally:
            if after is not None:
                after()

    setattr(owner, name, wrapper)


def _calling(owner: Any, name: str, before: Callable[..., None]) -> None:
    """Replace the method ``owner.name`` with one calling ``before`` with its arguments."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before(*args, **kwargs)
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def _mark(stage: str) -> Callable[[], None]:
    def mark() -> None:
        _marks[stage] = _now()

    return mark


def _received() -> None:
    if "queued" not in _marks:  # the last read before the message was queued is its own
        _marks["received"] = _now()


def _queued(store: Any, message: Any, *args: Any, **kwargs: Any) -> None:
    """The ``queued`` mark, and ``sent`` from the content (``b <sequence> <send ns> ...``)."""
    _marks["queued"] = _now()
    fields = message.content.split(" ", 3)
    if len(fields) > 2 and fields[0] == "b" and fields[2].isdigit():
        _marks["sent"] = int(fields[2])


def _decoded() -> None:
    if "queued" not in _marks:
        _marks["decoded"] = _now()


def _flush_begins() -> None:
    if "seen" in _marks and "flush" not in _marks:
        _marks["flush_cpu"] = time.thread_time_ns()
        _marks["flush"] = _now()


def _flush_ends() -> None:
    if "flush" not in _marks:
        return
    _marks["flushed"] = _now()
    if all(stage in _marks for stage in STAGES):
        cpu = time.thread_time_ns() - _marks["flush_cpu"]
        durable = _marks.get("durable", 0)
        if durable < _marks["committed"]:  # still flushing, or an earlier message's mark
            durable = 0
        _rows.append((*(_marks[stage] for stage in STAGES), durable, cpu))
    _marks.clear()


def _write_rows(path: Path) -> None:
    path.write_text("".join(" ".join(map(str, row)) + "\n" for row in _rows))


def install(out: Path) -> None:
    """Wrap the node's hot path with the marks, and write the rows to ``out`` at exit."""
    _around(Session, "data_received", before=_received, after=_decoded)
    _calling(SqliteStore, "append_message_then", _queued)
    _around(GroupCommitWriter, "_run_batch", before=_mark("writer"))
    _around(GroupCommitWriter, "_commit", before=_mark("commit"), after=_mark("committed"))
    _around(WalFlush, "__call__", after=_mark("durable"))
    # handle_msg looks _route up in its module at each call: the wrapper is found.
    _around(messaging, "_route", before=_mark("seen"))
    _around(Router, "_flush_dirty", before=_flush_begins, after=_flush_ends)
    atexit.register(_write_rows, out)


if __name__ == "__main__":
    install(Path(os.environ[OUT_VARIABLE]))
    sys.exit(cli.main())
