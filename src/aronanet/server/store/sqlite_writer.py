"""The SQLite writer thread: group commit, and the log's flush after each commit.

Group commit (docs/ARCHITECTURE.md "The hot path"): every write is a job queued to the writer
thread. The thread takes all jobs that arrived while its previous commit ran, runs them in
ONE transaction and commits once; then the write-ahead log is flushed to disk
(``fdatasync``, ``WalFlush``), once for every group committed since the last flush. Only
after the flush is each caller told (its future resolved, or its ``Settle`` callback run on
the loop), so a caller that acknowledges acknowledges only what is on disk (§3: an ``OK`` to
``MSG`` survives SIGKILL and power loss).

The flush follows the ``COMMIT`` (``synchronous=NORMAL``) instead of being inside it
(``FULL``), so that a job's ``Seen`` callback can run on the loop while the disk works: the
``MSG`` hot path fans a message out then, and answers its sender after the flush. Readers
see the group from its ``COMMIT`` on as well. The flush runs on a thread of its own
(``sqlite_flusher``) while this one commits the next groups, so a slow disk delays
acknowledgements, not deliveries. A power cut during the flush loses groups that may have
been seen, never one that was acknowledged; their ids and change numbers are never handed
out again (``sqlite_reservations``).

Two things keep a commit short, because every message of its group waits for it:

* the jobs of a group run without a savepoint each (two statements less per job, each a
  GIL hand-off on this thread); only when one fails is the group rolled back and run again
  job by job, each in a savepoint, so the failure stays that caller's alone. Consecutive
  jobs that can run together (``Batchable``: the messages of a burst) run as one call,
  e.g. one ``executemany`` for all their rows;
* WAL checkpoints (copying the log into the database, with fsyncs of their own) run on a
  thread and connection of their own (``sqlite_files.Checkpointer``), never inside a
  group's commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import functools
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from aronanet.server.logs import log_event
from aronanet.server.metrics import Histogram
from aronanet.server.store.sqlite_files import Checkpointer, WalFlush
from aronanet.server.store.sqlite_flusher import LogFlusher, take_waiting
from aronanet.server.store.sqlite_reservations import NumberReservations, Raised

T = TypeVar("T")
#: Called on the event loop once a job's group is durable (its result) or failed (the error).
Settle = Callable[[Any, BaseException | None], None]
#: Called on the event loop with a job's result once its group is committed and readers see
#: it, maybe before it is durable; always before its ``Settle``, never if the group failed.
Seen = Callable[[Any], None]
#: A job: what to run, who is told its outcome, when it was queued (``perf_counter``), and
#: who is told when it can be seen.
Job = tuple[Callable[[sqlite3.Connection], Any], Settle, float, Seen | None]
Outcome = tuple[Settle, Seen | None, Any, BaseException | None]


class Commit(enum.Enum):
    """How a group's transaction ended."""

    FAILED = "failed"  # rolled back: every job fails
    DURABLE = "durable"  # committed with the flush inside COMMIT (synchronous=FULL)
    SEEN = "seen"  # committed, readers see it; durable once the WAL is flushed
    UNCOVERED = "uncovered"  # rolled back: it used numbers past the durable reservations


class Batchable(Protocol):
    """A job that runs together with the jobs of its class queued right after it."""

    def __call__(self, conn: sqlite3.Connection) -> Any:
        """Run alone (when a group is rerun job by job after a failure)."""

    def run_together(self, conn: sqlite3.Connection, jobs: list[Any]) -> list[Any]:
        """Run ``jobs`` (this one first, all of this class) at once: their results, in order."""


logger = logging.getLogger(__name__)

#: Upper bound on jobs per transaction, so one commit never holds replies back for long.
MAX_BATCH = 512
#: Commits between two nudges of the checkpointer (SQLite's own default is every 1000
#: WAL pages; a message commit writes a handful).
CHECKPOINT_EVERY = 100


#: Binding ``None`` (a message's usual attachment, cid and reply_to) made the sqlite3 module
#: look for ``__adapt__`` and ``__conform__`` and format an ``AttributeError`` for each, about
#: as much as the rest of the bind; with an adapter registered for ``NoneType`` it is one
#: dict lookup. ``{}.get`` is a C function that returns None for any key: NULL is bound.
sqlite3.register_adapter(type(None), cast(Callable[[None], None], {}.get))


@dataclasses.dataclass(frozen=True, slots=True)
class CommittedGroup:
    """A group committed and shown, waiting for the flush that makes it durable."""

    jobs: list[Job]
    outcomes: list[Outcome]
    #: the reservations its transaction raised, durable with it
    raised: Raised


@dataclasses.dataclass(frozen=True, slots=True)
class FlushAfterCommit:
    """What lets the writer flush after ``COMMIT`` rather than inside it: the log to flush,
    and the reservations that keep early-seen numbers from being handed out twice."""

    wal: WalFlush
    reservations: NumberReservations


class GroupCommitWriter:
    """A thread that owns one SQLite connection and commits queued jobs in batches."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        loop: asyncio.AbstractEventLoop,
        latency: Histogram | None = None,
        before_commit: Callable[[sqlite3.Connection], None] | None = None,
        checkpointer: Checkpointer | None = None,
        flush_after: FlushAfterCommit | None = None,
    ) -> None:
        self._conn = conn
        self._loop = loop
        self._before_commit = before_commit
        self._checkpointer = checkpointer
        #: None: every COMMIT flushes (``FULL``), and nothing is seen before it is durable.
        self._flush_after = flush_after
        self._flusher: LogFlusher[CommittedGroup] | None = (
            None
            if flush_after is None
            else LogFlusher(flush_after.wal, self._groups_flushed, self._flush_failed)
        )
        #: True while an uncovered group runs again with the flush inside its ``COMMIT``.
        self._flush_in_commit = False
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="aronanet-sqlite", daemon=True)
        self.commits = 0
        #: Enqueue-to-durable time of every job committed (written by this thread and the
        #: flusher's, under the lock).
        self.latency = latency or Histogram()
        self._latency_lock = threading.Lock()
        #: Jobs submitted during this loop turn, not yet queued (``hand_over``).
        self._turn: list[tuple[Callable[[sqlite3.Connection], Any], Settle, Seen | None]] = []

    def start(self) -> None:
        if self._checkpointer is not None:
            self._conn.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer.start()
        if self._flush_after is not None:
            self._flush_after.reservations.resume(self._conn)
            self._conn.execute("PRAGMA synchronous=NORMAL")
        if self._flusher is not None:
            self._flusher.start()
        self._thread.start()

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue ``fn(conn)``; the future resolves after the batch holding it commits."""
        future: asyncio.Future[T] = self._loop.create_future()
        self.submit_then(fn, functools.partial(settle_future, future))
        return future

    def submit_then(
        self, fn: Callable[[sqlite3.Connection], T], settle: Settle, seen: Seen | None = None
    ) -> None:
        """Queue ``fn(conn)``; ``settle(result, error)`` runs on the loop once its batch is
        durable (``error`` None) or failed, and ``seen(result)`` before that, as soon as
        readers see it. No future: the hot path (``MSG``) fans out from ``seen`` and
        answers from ``settle`` without a task and a callback hop per message.

        On the loop's thread only. The jobs of one loop turn are handed to the thread
        together at its end (``hand_over``), in order: a pipelined burst of ``MSG`` wakes
        the thread once and makes one group, instead of waking it with the first message
        and having it take the GIL back and forth with the loop while the rest arrive."""
        turn = self._turn
        turn.append((fn, settle, seen))
        if len(turn) == 1:
            self._loop.call_soon(self.hand_over)

    def hand_over(self) -> None:
        """Queue this loop turn's jobs for the thread (their latency counts from here)."""
        turn, self._turn = self._turn, []
        queued, put = time.perf_counter(), self._jobs.put
        for fn, settle, seen in turn:
            put((fn, settle, queued, seen))

    def stop(self) -> None:
        """Finish every queued job, commit, and close the connection (blocking; call
        ``hand_over`` on the loop first)."""
        self._jobs.put(None)
        self._thread.join()
        if self._checkpointer is not None:
            self._checkpointer.stop()

    def _run(self) -> None:
        try:
            last = False
            while not last:
                jobs, last = take_waiting(self._jobs, MAX_BATCH)
                if jobs:
                    self._complete(jobs)
            if self._flusher is not None:
                self._flusher.stop()  # every group shown is now durable, or failed
            if self._flush_after is not None:
                self._release_reservations(self._flush_after)
        finally:
            if self._flusher is not None:
                self._flusher.stop()
            if self._flush_after is not None:
                self._flush_after.wal.close()
            self._conn.close()

    def _release_reservations(self, flush_after: FlushAfterCommit) -> None:
        """At a clean stop: no gap in the numbers at the next start (``release``). A disk
        that fails now costs only that gap: the next start skips the reserved numbers."""
        try:
            flush_after.reservations.release(self._conn)
            flush_after.wal()
        except (sqlite3.Error, OSError) as exc:
            log_event(logger, "store_release_failed", logging.WARNING, error=exc)

    def _complete(self, jobs: list[Job]) -> None:
        """Run a group; tell the loop what can be seen and hand the group to the flusher,
        or settle every job now (committed durable, or failed)."""
        outcomes, commit = self._run_batch(jobs)
        if commit is Commit.SEEN:
            self._post(_show, outcomes)
            assert self._flusher is not None and self._flush_after is not None
            raised = self._flush_after.reservations.take_raised()
            self._flusher.submit(CommittedGroup(jobs, outcomes, raised))
            return
        if commit is Commit.DURABLE:
            if self._flush_after is not None:  # the flush was inside its COMMIT
                reservations = self._flush_after.reservations
                reservations.flushed(reservations.take_raised())
            self._durable(jobs)
        self._post(_resolve, outcomes, False)

    def _groups_flushed(self, groups: list[CommittedGroup]) -> None:
        """On the flusher's thread: ``groups`` are on disk, and so are their reservations;
        their callers are told, in one hop to the loop."""
        assert self._flush_after is not None
        for group in groups:
            self._flush_after.reservations.flushed(group.raised)
            self._durable(group.jobs)
        self._post(_resolve_shown, [group.outcomes for group in groups])

    def _flush_failed(self, groups: list[CommittedGroup], exc: OSError) -> None:
        """On the flusher's thread: nobody may be told these groups are durable."""
        jobs = sum(len(group.jobs) for group in groups)
        log_event(logger, "store_flush_failed", logging.ERROR, jobs=jobs, error=exc)
        failed = [[(s, seen, None, exc) for s, seen, _, _ in group.outcomes] for group in groups]
        self._post(_resolve_shown, failed)

    def _durable(self, jobs: list[Job]) -> None:
        """The group is on disk: record its latency."""
        durable = time.perf_counter()
        with self._latency_lock:
            observe = self.latency.observe
            for _, _, queued, _ in jobs:
                observe(durable - queued)

    def _run_batch(self, jobs: list[Job]) -> tuple[list[Outcome], Commit]:
        """The group's transaction; run again with the flush inside ``COMMIT`` when it used
        numbers past the durable reservations (then it must not be seen before it is
        durable: ``sqlite_reservations``)."""
        outcomes, commit = self._run_group(jobs)
        if commit is not Commit.UNCOVERED:
            return outcomes, commit
        self._conn.execute("PRAGMA synchronous=FULL")
        self._flush_in_commit = True
        try:
            return self._run_group(jobs)
        finally:
            self._flush_in_commit = False
            self._conn.execute("PRAGMA synchronous=NORMAL")

    def _run_group(self, jobs: list[Job]) -> tuple[list[Outcome], Commit]:
        """One transaction for the group: every job at once, or, when one fails, every job
        again in a savepoint of its own (``_run_isolated``)."""
        conn = self._conn
        refused = self._begin(jobs)
        if refused is not None:
            return refused, Commit.FAILED
        try:
            outcomes = _run_all(conn, jobs)
        except Exception:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return self._run_isolated(jobs)
        return self._commit(jobs, outcomes)

    def _run_isolated(self, jobs: list[Job]) -> tuple[list[Outcome], Commit]:
        conn = self._conn
        refused = self._begin(jobs)
        if refused is not None:
            return refused, Commit.FAILED
        outcomes: list[Outcome] = []
        for fn, settle, _, seen in jobs:
            conn.execute("SAVEPOINT job")
            try:
                result = fn(conn)
            except Exception as exc:  # one job's failure is that caller's, not the batch's
                conn.execute("ROLLBACK TO job")
                outcomes.append((settle, seen, None, exc))
            else:
                outcomes.append((settle, seen, result, None))
            conn.execute("RELEASE job")
        return self._commit(jobs, outcomes)

    def _begin(self, jobs: list[Job]) -> list[Outcome] | None:
        """Start the group's transaction; or, if that fails, every job's failed outcome."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            # Another process holds the write lock past busy_timeout: this batch fails, the
            # writer lives on for the next one (a dead writer would hang every caller).
            log_event(logger, "store_begin_failed", logging.ERROR, jobs=len(jobs), error=exc)
            return [(settle, seen, None, exc) for _, settle, _, seen in jobs]
        return None

    def _commit(self, jobs: list[Job], outcomes: list[Outcome]) -> tuple[list[Outcome], Commit]:
        conn = self._conn
        try:
            if self._before_commit is not None:
                self._before_commit(conn)
            commit = self._commit_kind(conn)
            if commit is Commit.UNCOVERED:
                self._roll_back()
                return outcomes, commit
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log_event(logger, "store_commit_failed", logging.ERROR, jobs=len(jobs), error=exc)
            self._roll_back()
            return [(settle, seen, None, exc) for settle, seen, _, _ in outcomes], Commit.FAILED
        self.commits += 1
        if self._checkpointer is not None and self.commits % CHECKPOINT_EVERY == 0:
            self._checkpointer.nudge()
        return outcomes, commit

    def _commit_kind(self, conn: sqlite3.Connection) -> Commit:
        """How this group's ``COMMIT`` makes it durable (and raises running-out reservations)."""
        if self._flush_after is None:
            return Commit.DURABLE
        covered = self._flush_after.reservations.cover(conn)
        if self._flush_in_commit:
            return Commit.DURABLE  # the rerun of an uncovered group
        return Commit.SEEN if covered else Commit.UNCOVERED

    def _roll_back(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        if self._flush_after is not None:
            self._flush_after.reservations.rolled_back()

    def _post(self, callback: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting any more
            self._loop.call_soon_threadsafe(callback, *args)


def _run_all(conn: sqlite3.Connection, jobs: list[Job]) -> list[Outcome]:
    """Every job's outcome, running each run of ``Batchable`` jobs of one class as one call."""
    outcomes: list[Outcome] = []
    start, count = 0, len(jobs)
    while start < count:
        fn, settle, _, seen = jobs[start]
        together = getattr(fn, "run_together", None)
        if together is None:
            outcomes.append((settle, seen, fn(conn), None))
            start += 1
            continue
        kind, end = type(fn), start + 1
        while end < count and type(jobs[end][0]) is kind:
            end += 1
        run = jobs[start:end]
        results = together(conn, [job[0] for job in run])
        outcomes.extend(
            [(job[1], job[3], result, None) for job, result in zip(run, results, strict=True)]
        )
        start = end
    return outcomes


def _show(outcomes: list[Outcome]) -> None:
    """On the loop: each job of a group just committed can be seen (``Seen``)."""
    for _, seen, result, error in outcomes:
        if seen is not None and error is None:
            try:
                seen(result)
            except Exception as exc:  # one caller's bug must not hold the rest of the group
                log_event(logger, "store_seen_failed", logging.ERROR, error=type(exc).__name__)


def _resolve_shown(groups: list[list[Outcome]]) -> None:
    """On the loop: the outcomes of groups already shown, after their flush."""
    for outcomes in groups:
        _resolve(outcomes, True)


def _resolve(outcomes: list[Outcome], shown: bool) -> None:
    """On the loop: each job's outcome (``Settle``), after its ``Seen`` unless ``shown``."""
    if not shown:
        _show(outcomes)
    for settle, _, result, error in outcomes:
        try:
            settle(result, error)
        except Exception as exc:  # one caller's bug must not keep the rest of the group waiting
            log_event(logger, "store_settle_failed", logging.ERROR, error=type(exc).__name__)


def settle_future(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled: nobody is waiting any more
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
