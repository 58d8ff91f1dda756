"""Moving a community from its node's SQLite file to PostgreSQL (``aronanet move-to-postgres``).

A community that outgrows one machine keeps everything: accounts (their Argon2id hashes,
so every password still works), devices, channels, memberships, every message with its id
and change number, DMs, mentions, read markers, reactions, kept edits, moderation (roles,
bans, mutes, invitations, admins, blocks, tokens, the audit log), and the images, which go
from files under ``DATA_DIR/images`` into PostgreSQL's chunk rows.

The two schemas are the same tables by the same migrations, so each table is copied as it
is (``COPY``, one transaction for all of them). What is not copied is rebuilt: the search
index (each message's ``tsvector``, made as its row is copied, so the first search after the
move does not index the whole history), the sequences (set past the highest id and change
number moved), and uploads in progress (lost: their senders start them again). The source
is only read, and the node lock is held meanwhile, so no node runs on the data directory
during the move; the target must hold no community.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from aronanet.errors import AronaError, RequestError
from aronanet.proto.search_query import tsvector
from aronanet.server.datadir import NodeLock
from aronanet.server.image_postgres import PostgresBlobStore
from aronanet.server.store import schema
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.postgres_connections import ReaderPool
from aronanet.server.store.sqlite_reservations import REVISIONS

Progress = Callable[[str], None]

#: Copied first: the tables others refer to (foreign keys on PostgreSQL).
PARENT_TABLES = ("users", "channels")
#: SQLite tables that are not copied: bookkeeping and the FTS5 index, which PostgreSQL
#: rebuilds its own way, the change-number counter (``revisions``: a sequence there) and
#: the reserved numbers (``reservations``: the sequences continue past them).
NOT_COPIED = frozenset(
    {
        "schema_migrations",
        "sqlite_sequence",
        "revisions",
        "reservations",
        "search_pending",
        "search_indexed",
    }
)
NOT_COPIED_PREFIXES = ("messages_fts", "sqlite_")
#: Columns whose PostgreSQL sequence continues after the highest value moved.
IDENTITY_COLUMNS = (("messages", "id"), ("audit_log", "id"))
ROWS_PER_REPORT = 100_000


class MoveError(AronaError):
    """The move cannot start or did not finish (nothing was committed in the target)."""


@dataclass(frozen=True, slots=True)
class MoveSummary:
    rows: dict[str, int]
    images: int


async def move_to_postgres(
    data_dir: Path, database: Path, url: str, progress: Progress = lambda _: None
) -> MoveSummary:
    """Copy the community in ``database`` (the SQLite file of the node of ``data_dir``) and
    its images into the empty PostgreSQL store at ``url``."""
    with _read_only(database) as source, NodeLock(data_dir):
        try:
            _check_versions(source)
            tables = _tables_to_copy(source)
        except sqlite3.Error as exc:
            raise MoveError(
                f"cannot read {database} ({exc}); start its node once and stop it with "
                "Ctrl-C, then move"
            ) from None
        store = PostgresStore(url)
        try:
            await store.open()  # creates (or upgrades) the schema, as a node would
            await store.close()
            async with await psycopg.AsyncConnection.connect(url) as target:
                await _check_empty(target)
                # Images first: each is its own commit and a rerun skips those stored, so
                # a move that stops leaves at most unreferenced images, never half a
                # community. Then every table in one transaction.
                images = await _copy_images(data_dir / "images", url, progress)
                async with target.transaction():
                    await _check_empty(target)
                    rows = {table: await _copy(source, target, table, progress) for table in tables}
                    await _continue_sequences(source, target)
        except (psycopg.Error, sqlite3.Error, RequestError, OSError) as exc:
            raise MoveError(f"the move stopped and no table was moved: {exc}") from None
    return MoveSummary(rows, images)


@contextlib.contextmanager
def _read_only(database: Path) -> Iterator[sqlite3.Connection]:
    if not database.is_file():
        raise MoveError(f"no SQLite database at {database}: is this the node's --data-dir?")
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def _check_versions(source: sqlite3.Connection) -> None:
    """The file must be at this version's schema: the copy is table for table."""
    found = dict(source.execute("SELECT component, version FROM schema_migrations"))
    wanted = schema.current_versions()
    if found != wanted:
        raise MoveError(
            "the database was written by another version of AronaNET "
            f"(schema {found}, this version's {wanted}); start the node once with this "
            "version (it upgrades its database on start), stop it, then move"
        )


def _tables_to_copy(source: sqlite3.Connection) -> list[str]:
    names = [
        name
        for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if name not in NOT_COPIED and not name.startswith(NOT_COPIED_PREFIXES)
    ]
    return [*PARENT_TABLES, *sorted(set(names) - set(PARENT_TABLES))]


async def _check_empty(target: psycopg.AsyncConnection) -> None:
    for table in ("users", "channels", "messages"):
        cursor = await target.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        row = await cursor.fetchone()
        if row is not None and row[0]:
            raise MoveError(
                f"the PostgreSQL store already holds a community ({table} is not empty); "
                "move into a new database or schema"
            )


async def _copy(
    source: sqlite3.Connection, target: psycopg.AsyncConnection, table: str, progress: Progress
) -> int:
    columns = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]
    listed = ", ".join(f'"{column}"' for column in columns)
    # A message's search vector is made here, from its content, as the node makes it.
    content = columns.index("content") if table == "messages" else None
    targets = listed if content is None else f"{listed}, search_vector"
    copied = 0
    async with (
        target.cursor() as cursor,
        cursor.copy(f'COPY "{table}" ({targets}) FROM STDIN') as copy,
    ):
        for row in source.execute(f'SELECT {listed} FROM "{table}"'):
            await copy.write_row(row if content is None else (*row, tsvector(row[content])))
            copied += 1
            if copied % ROWS_PER_REPORT == 0:
                progress(f"{table}: {copied} rows…")
    progress(f"{table}: {copied} rows")
    return copied


async def _continue_sequences(source: sqlite3.Connection, target: psycopg.AsyncConnection) -> None:
    """New ids and change numbers follow the moved ones, as they would have on SQLite: past
    the highest moved, and past SQLite's reservations (numbers that a node stopped
    uncleanly may have shown before a power cut took them back, ``sqlite_reservations``)."""
    reserved = _reservations(source)
    for table, column in IDENTITY_COLUMNS:
        await target.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f"GREATEST(%s, (SELECT COALESCE(MAX({column}), 0) FROM {table})) + 1, false)",
            (reserved.get(table, 0),),
        )
    # The counter SQLite keeps is at least every rev handed out (reactions have revs too).
    row = source.execute("SELECT COALESCE(MAX(rev), 0) FROM revisions").fetchone()
    counted = max(int(row[0]) if row else 0, reserved.get(REVISIONS, 0))
    await target.execute(
        "SELECT setval('message_revs', GREATEST(%s, (SELECT COALESCE(MAX(rev), 0) FROM "
        "messages), (SELECT COALESCE(MAX(rev), 0) FROM reactions)) + 1, false)",
        (counted,),
    )


def _reservations(source: sqlite3.Connection) -> dict[str, int]:
    """SQLite's reserved numbers per counter (none before the ``reservations`` migration)."""
    try:
        return dict(source.execute("SELECT name, upto FROM reservations").fetchall())
    except sqlite3.OperationalError:  # an older database: nothing was reserved
        return {}


async def _copy_images(images: Path, url: str, progress: Progress) -> int:
    """Every image file into chunk rows (one commit each; those already there are skipped)."""
    files = sorted(
        path
        for path in images.glob("??/*")
        if path.is_file() and len(path.name) == 64 and path.parent.name == path.name[:2]
    )
    pool = ReaderPool(url, 1)
    await pool.open()
    try:
        blobs = PostgresBlobStore(pool)
        for number, path in enumerate(files, start=1):
            await blobs.store_copy(path, path.name)
            progress(f"images: {number} of {len(files)}")
    finally:
        await pool.close()
    return len(files)
