"""The PostgreSQL writer's group commit: jobs run together without a savepoint each, and
only a failure reruns the group job by job, so one failing job stays its caller's alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from aronanet.server.store.postgres_connections import Connection, connect
from aronanet.server.store.postgres_writer import GroupCommitWriter, TransactionAborted


@pytest.fixture
async def writer(postgres_url: str) -> AsyncIterator[GroupCommitWriter]:
    setup = await connect(postgres_url)
    await setup.execute("CREATE TABLE notes (body TEXT PRIMARY KEY)")
    await setup.close()
    started = GroupCommitWriter(postgres_url, await connect(postgres_url))
    started.start()
    yield started
    await started.stop()


def insert(body: str):  # type: ignore[no-untyped-def]
    async def job(conn: Connection) -> str:
        await conn.execute("INSERT INTO notes (body) VALUES (%s)", (body,))
        return body

    return job


async def swallow_a_duplicate(conn: Connection) -> str:
    """A job that catches its own statement's error: the transaction is left aborted."""
    try:
        await conn.execute("INSERT INTO notes (body) VALUES ('first')")
    except psycopg.errors.UniqueViolation:
        return "swallowed"
    return "inserted"


async def stored(writer: GroupCommitWriter) -> list[str]:
    rows = await writer.submit(
        lambda conn: _fetch_all(conn, "SELECT body FROM notes ORDER BY body")
    )
    return [body for (body,) in rows]


async def _fetch_all(conn: Connection, query: str) -> list[tuple[str]]:
    cursor = await conn.execute(query)
    return await cursor.fetchall()


async def test_a_group_commits_once_without_a_savepoint_per_job(writer: GroupCommitWriter) -> None:
    before = writer.commits
    bodies = await asyncio.gather(*(writer.submit(insert(f"n{n:03d}")) for n in range(50)))
    assert bodies == [f"n{n:03d}" for n in range(50)]
    assert writer.commits - before < 50  # grouped
    assert await stored(writer) == bodies


async def test_a_failing_job_is_its_callers_alone_and_the_rest_commit(
    writer: GroupCommitWriter,
) -> None:
    await writer.submit(insert("first"))
    results = await asyncio.gather(
        writer.submit(insert("a")),
        writer.submit(insert("first")),  # a duplicate: fails
        writer.submit(insert("b")),
        return_exceptions=True,
    )
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], psycopg.errors.UniqueViolation)
    assert await stored(writer) == ["a", "b", "first"]


async def test_a_job_that_swallows_its_error_does_not_lose_its_group(
    writer: GroupCommitWriter,
) -> None:
    """Without the check, COMMIT of the aborted transaction rolls back in silence and every
    caller of the group is told its write is stored."""
    await writer.submit(insert("first"))
    results = await asyncio.gather(
        writer.submit(insert("c")),
        writer.submit(swallow_a_duplicate),
        writer.submit(insert("d")),
        return_exceptions=True,
    )
    assert results[0] == "c" and results[2] == "d"
    assert isinstance(results[1], TransactionAborted)
    assert await stored(writer) == ["c", "d", "first"]
