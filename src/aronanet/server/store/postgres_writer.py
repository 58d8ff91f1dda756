"""The PostgreSQL store's writer: ONE task per node that commits queued jobs in batches.

Apart from the store (``postgres``), like ``sqlite_writer``, because the commit discipline
is the one part of the store that every write relies on and that reads on its own:

* Group commit (docs/ARCHITECTURE.md "The hot path"): writes are jobs queued to the writer task,
  which runs every job that arrived while its previous commit ran in ONE transaction and
  resolves the callers' futures only after ``COMMIT`` returns: §3 "OK to a MSG means the
  message is durably stored", on PostgreSQL's own fsync. The jobs run without a savepoint
  each (two round trips less per job under the write lock); only when one fails is the
  group rolled back and run again job by job, each in a savepoint, so one failing job does
  not spoil the others (as ``sqlite_writer`` does).
* Message ids come from an identity column, so they are unique across nodes. Each write
  transaction first takes one transaction-scoped advisory lock (``WRITE_LOCK``), so write
  transactions of all nodes commit one after another and ids become visible in increasing
  order: a client paging with ``HISTORY after: <last id seen>`` can never skip a message
  that committed late with a smaller id. The lock is taken before anything else, so it
  cannot deadlock, and one lock per batch (not per message) keeps the cost small.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus

from aronanet.server.logs import log_event
from aronanet.server.metrics import Histogram
from aronanet.server.store.base import BackendUnavailableError
from aronanet.server.store.postgres_connections import Connection, connect, describe

T = TypeVar("T")
WriteJob = Callable[[Connection], Awaitable[Any]]
#: A job: what to run, who waits for it, and when it was queued (``time.perf_counter``).
Job = tuple[WriteJob, "asyncio.Future[Any]", float]
#: A job's future and its result, or the error it failed with.
Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]

#: The writer's events keep the logger name they had before it left ``store.postgres``, so
#: filters on that name still see them.
logger = logging.getLogger("aronanet.server.store.postgres")

#: Upper bound on jobs per transaction, so one commit never holds replies back for long.
MAX_BATCH = 512
#: First key of the write lock ("ARO" + 1); the second is the schema's hash, so every node
#: of one community (one schema) takes the same lock and two communities kept in two
#: schemas of one database never wait for each other.
WRITE_LOCK = 0x41524F01
RECONNECT_DELAYS = (0.05, 0.2, 1.0, 2.0, 5.0)


class GroupCommitWriter:
    """A task that owns one connection and commits queued jobs in batches."""

    def __init__(self, dsn: str, conn: Connection, latency: Histogram | None = None) -> None:
        self._dsn = dsn
        self._conn = conn
        #: Enqueue-to-commit time of every job committed.
        self.latency = latency or Histogram()
        self._jobs: asyncio.Queue[Job | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def submit(self, fn: Callable[[Connection], Awaitable[T]]) -> asyncio.Future[T]:
        """Queue ``fn(conn)``; the future resolves after the batch holding it commits."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put_nowait((fn, future, time.perf_counter()))
        return future

    async def stop(self) -> None:
        """Finish every queued job, commit, and close the connection."""
        self._jobs.put_nowait(None)
        if self._task is not None:
            await self._task
        await self._conn.close()

    async def _run(self) -> None:
        last = False
        while not last:
            jobs, last = await self._next_batch()
            if jobs:
                await self._run_batch(jobs)

    async def _next_batch(self) -> tuple[list[Job], bool]:
        """Wait for one job, then take every job already waiting (the group)."""
        first = await self._jobs.get()
        if first is None:
            return [], True
        jobs = [first]
        while len(jobs) < MAX_BATCH and not self._jobs.empty():
            job = self._jobs.get_nowait()
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    async def _run_batch(self, jobs: list[Job]) -> None:
        try:
            conn = await self._usable_connection()
            outcomes = await _run_together(conn, jobs)
            if outcomes is None:
                outcomes = await _run_isolated(conn, jobs)
        except (psycopg.Error, BackendUnavailableError) as exc:
            # Nothing of the batch is known to be committed: every caller learns it failed.
            log_event(logger, "store_commit_failed", logging.ERROR, jobs=len(jobs), error=exc)
            outcomes = [(future, None, exc) for _, future, _ in jobs]
        else:
            self.commits += 1
            durable = time.perf_counter()
            for _, _, queued in jobs:
                self.latency.observe(durable - queued)
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def _usable_connection(self) -> Connection:
        """The writer's connection, reconnected if PostgreSQL dropped it."""
        if not (self._conn.closed or self._conn.broken):
            return self._conn
        log_event(logger, "store_reconnecting", logging.WARNING, database=describe(self._dsn))
        for delay in RECONNECT_DELAYS:
            with contextlib.suppress(BackendUnavailableError):
                self._conn = await connect(self._dsn)
                return self._conn
            await asyncio.sleep(delay)
        self._conn = await connect(self._dsn)
        return self._conn


async def _take_write_lock(conn: Connection) -> None:
    await conn.execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (WRITE_LOCK,)
    )


async def _run_together(conn: Connection, jobs: list[Job]) -> list[Outcome] | None:
    """Every job in one transaction with no savepoint each: two round trips less per job
    while the write lock is held, which every node's writer waits for. None when a job
    failed: the transaction was then rolled back, nothing of it committed."""
    try:
        async with conn.transaction():
            await _take_write_lock(conn)
            results = [await fn(conn) for fn, _, _ in jobs]
            check_not_aborted(conn)
    except psycopg.OperationalError:
        raise  # the connection or the whole transaction is gone: fail the batch
    except Exception:  # one job's failure: rerun each job alone (``_run_isolated``)
        return None
    return [(future, result, None) for (_, future, _), result in zip(jobs, results, strict=True)]


async def _run_isolated(conn: Connection, jobs: list[Job]) -> list[Outcome]:
    """Every job again, each in a savepoint of its own, so one failure stays its caller's."""
    async with conn.transaction():
        await _take_write_lock(conn)
        return [await _in_savepoint(conn, fn, future) for fn, future, _ in jobs]


class TransactionAborted(Exception):
    """A job caught its own statement's error and returned: PostgreSQL then ignores every
    later statement of the transaction, and turns its ``COMMIT`` into a silent rollback."""


def check_not_aborted(conn: Connection) -> None:
    """Raise ``TransactionAborted`` if the transaction is in error, so that its caller
    rolls back (the group, or one job's savepoint) instead of committing nothing."""
    if conn.info.transaction_status is TransactionStatus.INERROR:
        raise TransactionAborted("a write job caught a database error and went on")


async def _in_savepoint(conn: Connection, fn: WriteJob, future: asyncio.Future[Any]) -> Outcome:
    """Run one job in a savepoint: its failure is that caller's, not the batch's."""
    try:
        async with conn.transaction():
            result = await fn(conn)
            check_not_aborted(conn)
            return future, result, None
    except psycopg.OperationalError:
        raise  # the connection or the whole transaction is gone: fail the batch
    except Exception as exc:
        return future, None, exc
