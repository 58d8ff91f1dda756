"""Connections to PostgreSQL for the scale-out store: opening one, and a pool for reads.

Apart from the store (``postgres``) because more than the store uses them: its writer
(``postgres_writer``) reconnects through ``connect``, the shared images
(``image_postgres``) and ``aronanet store move`` read through a ``ReaderPool`` of their own.
Reads (history, logins, image checks) use a small pool of autocommit connections, so they
never wait behind a batch of writes; they see everything already acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import psycopg

from aronanet.server.store.base import BackendUnavailableError

Connection = psycopg.AsyncConnection[Any]


def describe(dsn: str) -> str:
    """``host:port/dbname`` of a connection string, for messages (never the password)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "PostgreSQL (unparsable URL)"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


async def connect(dsn: str) -> Connection:
    """One autocommit connection; ``BackendUnavailableError`` naming where, if it fails."""
    try:
        return await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendUnavailableError(
            f"cannot connect to PostgreSQL at {describe(dsn)}: {reason}"
        ) from None


class ReaderPool:
    """A few autocommit connections for reads, handed out one caller at a time."""

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._size = size
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()
        self._all: list[Connection] = []

    async def open(self) -> None:
        for _ in range(self._size):
            conn = await connect(self._dsn)
            self._all.append(conn)
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        conn = await self._idle.get()
        try:
            if conn.closed or conn.broken:
                # Replaced only once a new one is there: a failed reconnect puts the dead
                # connection back, for the next caller to try again.
                fresh = await connect(self._dsn)
                self._all.remove(conn)
                self._all.append(fresh)
                conn = fresh
            yield conn
        finally:
            self._idle.put_nowait(conn)

    async def fetchall(self, sql: str, args: Any = ()) -> list[tuple[Any, ...]]:
        async with self.connection() as conn:
            cursor = await conn.execute(sql, args)
            return await cursor.fetchall()

    async def fetchone(self, sql: str, args: Any = ()) -> tuple[Any, ...] | None:
        async with self.connection() as conn:
            cursor = await conn.execute(sql, args)
            return await cursor.fetchone()
