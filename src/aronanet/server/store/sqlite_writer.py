"""The SQLite writer thread: group commit, and WAL checkpoints on a thread of their own.

Group commit (ARCHITECTURE.md "The hot path"): every write is a job queued to the writer
thread. The thread takes all jobs that arrived while its previous commit ran, runs them in
ONE transaction and commits once with ``synchronous=FULL``. Only then is each caller told
(its future resolved, or its ``Settle`` callback run on the loop), so a caller that
acknowledges then acknowledges only what is on disk (§3: an ``OK`` to ``MSG`` survives
SIGKILL). One fsync thus covers a whole burst of messages.

Two things keep a commit short, because every message of its group waits for it:

* the jobs of a group run without a savepoint each (two statements less per job, each a
  GIL hand-off on this thread); only when one fails is the group rolled back and run again
  job by job, each in a savepoint, so the failure stays that caller's alone. Consecutive
  jobs that can run together (``Batchable``: the messages of a burst) run as one call,
  e.g. one ``executemany`` for all their rows;
* WAL checkpoints (copying the log into the database, with fsyncs of their own) run on a
  thread and connection of their own (``Checkpointer``), never inside a group's commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from aronanet.server.logs import log_event
from aronanet.server.metrics import Histogram

T = TypeVar("T")
#: Called on the event loop once a job's group committed (its result) or failed (the error).
Settle = Callable[[Any, BaseException | None], None]
#: A job: what to run, who is told its outcome, and when it was queued (``perf_counter``).
Job = tuple[Callable[[sqlite3.Connection], Any], Settle, float]
Outcome = tuple[Settle, Any, BaseException | None]


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


def connect(path: Path) -> sqlite3.Connection:
    """Open the database with the durability settings the node's promises rest on."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class Checkpointer:
    """A thread with a connection of its own that checkpoints the WAL when nudged.

    ``PASSIVE`` checkpoints never wait for the writer nor block it: they copy what they can
    and leave the rest for the next nudge. The writer's connection has automatic
    checkpoints turned off, so no group commit ever pays for one.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="aronanet-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        conn = connect(self._path)
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the next nudge tries again
                    log_event(logger, "store_checkpoint_failed", logging.WARNING, error=exc)
        finally:
            conn.close()


class GroupCommitWriter:
    """A thread that owns one SQLite connection and commits queued jobs in batches."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        loop: asyncio.AbstractEventLoop,
        latency: Histogram | None = None,
        before_commit: Callable[[sqlite3.Connection], None] | None = None,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        self._conn = conn
        self._loop = loop
        self._before_commit = before_commit
        self._checkpointer = checkpointer
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="aronanet-sqlite", daemon=True)
        self.commits = 0
        #: Enqueue-to-durable time of every job committed (written by this thread only).
        self.latency = latency or Histogram()
        #: Jobs submitted during this loop turn, not yet queued (``hand_over``).
        self._turn: list[tuple[Callable[[sqlite3.Connection], Any], Settle]] = []

    def start(self) -> None:
        if self._checkpointer is not None:
            self._conn.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer.start()
        self._thread.start()

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue ``fn(conn)``; the future resolves after the batch holding it commits."""
        future: asyncio.Future[T] = self._loop.create_future()
        self.submit_then(fn, functools.partial(settle_future, future))
        return future

    def submit_then(self, fn: Callable[[sqlite3.Connection], T], settle: Settle) -> None:
        """Queue ``fn(conn)``; ``settle(result, error)`` runs on the loop once its batch
        committed (``error`` None) or failed. No future: the hot path (``MSG``) answers
        from here without a task and a callback hop per message.

        On the loop's thread only. The jobs of one loop turn are handed to the thread
        together at its end (``hand_over``), in order: a pipelined burst of ``MSG`` wakes
        the thread once and makes one group, instead of waking it with the first message
        and having it take the GIL back and forth with the loop while the rest arrive."""
        turn = self._turn
        turn.append((fn, settle))
        if len(turn) == 1:
            self._loop.call_soon(self.hand_over)

    def hand_over(self) -> None:
        """Queue this loop turn's jobs for the thread (their latency counts from here)."""
        turn, self._turn = self._turn, []
        queued, put = time.perf_counter(), self._jobs.put
        for fn, settle in turn:
            put((fn, settle, queued))

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
                jobs, last = self._next_batch()
                if jobs:
                    self._settle(self._run_batch(jobs))
        finally:
            self._conn.close()

    def _next_batch(self) -> tuple[list[Job], bool]:
        """Block for one job, then take every job already waiting (the group).

        Returns the jobs and whether the stop sentinel was among them.
        """
        first = self._jobs.get()
        if first is None:
            return [], True
        jobs = [first]
        while len(jobs) < MAX_BATCH:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _run_batch(self, jobs: list[Job]) -> list[Outcome]:
        """One transaction for the group: every job at once, or, when one fails, every job
        again in a savepoint of its own (``_run_isolated``)."""
        conn = self._conn
        refused = self._begin(jobs)
        if refused is not None:
            return refused
        try:
            outcomes = _run_all(conn, jobs)
        except Exception:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return self._run_isolated(jobs)
        return self._commit(jobs, outcomes)

    def _run_isolated(self, jobs: list[Job]) -> list[Outcome]:
        conn = self._conn
        refused = self._begin(jobs)
        if refused is not None:
            return refused
        outcomes: list[Outcome] = []
        for fn, settle, _ in jobs:
            conn.execute("SAVEPOINT job")
            try:
                result = fn(conn)
            except Exception as exc:  # one job's failure is that caller's, not the batch's
                conn.execute("ROLLBACK TO job")
                outcomes.append((settle, None, exc))
            else:
                outcomes.append((settle, result, None))
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
            return [(settle, None, exc) for _, settle, _ in jobs]
        return None

    def _commit(self, jobs: list[Job], outcomes: list[Outcome]) -> list[Outcome]:
        conn = self._conn
        try:
            if self._before_commit is not None:
                self._before_commit(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log_event(logger, "store_commit_failed", logging.ERROR, jobs=len(jobs), error=exc)
            conn.execute("ROLLBACK")
            return [(settle, None, exc) for settle, _, _ in outcomes]
        self.commits += 1
        durable, observe = time.perf_counter(), self.latency.observe
        for _, _, queued in jobs:
            observe(durable - queued)
        if self._checkpointer is not None and self.commits % CHECKPOINT_EVERY == 0:
            self._checkpointer.nudge()
        return outcomes

    def _settle(self, outcomes: list[Outcome]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting any more
            self._loop.call_soon_threadsafe(_resolve, outcomes)


def _run_all(conn: sqlite3.Connection, jobs: list[Job]) -> list[Outcome]:
    """Every job's outcome, running each run of ``Batchable`` jobs of one class as one call."""
    outcomes: list[Outcome] = []
    start, count = 0, len(jobs)
    while start < count:
        fn, settle, _ = jobs[start]
        together = getattr(fn, "run_together", None)
        if together is None:
            outcomes.append((settle, fn(conn), None))
            start += 1
            continue
        kind, end = type(fn), start + 1
        while end < count and type(jobs[end][0]) is kind:
            end += 1
        run = jobs[start:end]
        results = together(conn, [job[0] for job in run])
        outcomes.extend([(job[1], result, None) for job, result in zip(run, results, strict=True)])
        start = end
    return outcomes


def _resolve(outcomes: list[Outcome]) -> None:
    for settle, result, error in outcomes:
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
