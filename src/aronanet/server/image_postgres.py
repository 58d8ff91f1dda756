"""Images in scale-out mode: blobs and uploads in progress kept in the shared PostgreSQL.

* ``PostgresBlobStore`` (a ``BlobStore``): an image is rows of ``BLOB_CHUNK`` bytes in
  ``image_blob_chunks``, written one by one from the validated spill file in one
  transaction, and ``image_blobs`` names it only once every row is in (in the same commit),
  so a reader never sees half an image. Reads fetch the few rows a block needs: any node
  serves any image, and no node ever holds a whole image in memory.
* ``SharedUploads``: the progress of every upload in progress (its header, how many chunks
  arrived, its outcome) in ``image_uploads`` and its chunks in ``image_upload_chunks``, so
  an upload cut on one node resumes on another (``IMG_STATUS``, docs/PROTOCOL.md §10). Each
  chunk moves ``next_index`` forward only from the index it expects, so two nodes can never
  both append chunk n. Rows idle for ``transfer_timeout`` are deleted by whichever node
  expires them first (PostgreSQL's clock, so the nodes' clocks do not matter). A new
  upload (chunk 0) is admitted in the transaction that records it, against the user's
  limits counted over these rows, so they hold across nodes: ``max_uploads_per_user``,
  ``max_upload_bytes_per_user`` and ``upload_quota_bytes`` (stored images plus the bytes in
  progress). A per-user advisory lock, held to the commit, makes two nodes admitting
  uploads of one user take turns, so neither admits past a limit on a stale count. The
  same transaction forgets the user's oldest ended uploads beyond
  ``upload_memory_per_user``, so their outcomes are bounded too.

Each node still assembles the upload in its own spill file (the running SHA-256 and Pillow's
validation need the bytes locally); a node resuming another's upload first rebuilds the
file from the shared chunks, one chunk at a time.

PostgreSQL unreachable: an image request gets a quiet ``RATE_LIMITED`` with
``retry_after_ms`` (the client retries or resumes later), and the node logs
``image_store_unavailable`` at most once a minute: no traceback per request.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import psycopg

from aronanet.config import Limits
from aronanet.errors import ErrorCode, RequestError
from aronanet.server.image_blobs import BlobReader
from aronanet.server.image_refusals import UPLOAD_RETRY_MS, refuse_quota, refuse_room
from aronanet.server.image_transfers import UploadHeader
from aronanet.server.logs import ThrottledLog
from aronanet.server.store.base import BackendUnavailableError
from aronanet.server.store.postgres import UPLOADED_BYTES
from aronanet.server.store.postgres_connections import ReaderPool

#: Bytes per stored row: large enough for few rows per image, small enough to stream.
BLOB_CHUNK = 256 * 1024

logger = logging.getLogger(__name__)
_unavailable_log = ThrottledLog(logger, "image_store_unavailable")


@contextlib.contextmanager
def _database() -> Iterator[None]:
    """PostgreSQL failing becomes one quiet ``RATE_LIMITED`` (see the module docstring)."""
    try:
        yield
    except (psycopg.Error, BackendUnavailableError) as exc:
        _unavailable_log(error=type(exc).__name__)
        raise RequestError(
            ErrorCode.RATE_LIMITED,
            f"the node cannot reach its image store right now; retry in {UPLOAD_RETRY_MS} ms",
            retry_after_ms=UPLOAD_RETRY_MS,
        ) from None


class PostgresBlobStore:
    """``BlobStore`` on the shared PostgreSQL (see the module docstring)."""

    def __init__(self, pool: ReaderPool, block: int = BLOB_CHUNK) -> None:
        self._pool = pool
        self._block = block

    async def stored_size(self, sha256: str) -> int | None:
        with _database():
            row = await self._pool.fetchone(
                "SELECT size FROM image_blobs WHERE sha256 = %s", (sha256,)
            )
        return int(row[0]) if row else None

    async def put(self, spill: Path, sha256: str, *, synced: bool = False) -> None:
        """Copy the spill file into chunk rows, one block in memory at a time; PostgreSQL's
        commit makes it durable (``synced`` does not matter here)."""
        await self.store_copy(spill, sha256)
        spill.unlink(missing_ok=True)

    async def store_copy(self, source: Path, sha256: str) -> bool:
        """Copy ``source`` in unless that image is stored already (``source`` stays);
        whether it was copied."""
        if await self.stored_size(sha256) is not None:
            return False
        with _database():
            await self._copy(source, sha256)
        return True

    async def _copy(self, spill: Path, sha256: str) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            size, index = 0, 0
            with open(spill, "rb") as source:
                while block := source.read(self._block):
                    await conn.execute(
                        "INSERT INTO image_blob_chunks (sha256, idx, data) "
                        "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        (sha256, index, block),
                    )
                    size, index = size + len(block), index + 1
            await conn.execute(
                "INSERT INTO image_blobs (sha256, size, chunk_size) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (sha256, size, self._block),
            )

    async def delete(self, sha256: str) -> None:
        """The name and the rows go in one commit."""
        with _database():
            await self._delete(sha256)

    async def _delete(self, sha256: str) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM image_blobs WHERE sha256 = %s", (sha256,))
            await conn.execute("DELETE FROM image_blob_chunks WHERE sha256 = %s", (sha256,))

    async def open_reader(self, sha256: str, offset: int) -> BlobReader:
        with _database():
            row = await self._pool.fetchone(
                "SELECT size, chunk_size FROM image_blobs WHERE sha256 = %s", (sha256,)
            )
        if row is None:
            raise FileNotFoundError(f"no stored image {sha256}")
        return _ChunkReader(self._pool, sha256, offset, int(row[0]), int(row[1]))


class _ChunkReader:
    """Reads a stored image forward from an offset, fetching only the rows it needs."""

    def __init__(self, pool: ReaderPool, sha256: str, offset: int, size: int, block: int) -> None:
        self._pool = pool
        self._sha256 = sha256
        self._offset = offset
        self._size = size
        self._block = block

    async def read(self, count: int) -> bytes:
        end = min(self._offset + count, self._size)
        if end <= self._offset:
            return b""
        first, last = self._offset // self._block, (end - 1) // self._block
        with _database():
            rows = await self._pool.fetchall(
                "SELECT data FROM image_blob_chunks WHERE sha256 = %s AND idx BETWEEN %s AND %s "
                "ORDER BY idx",
                (self._sha256, first, last),
            )
        joined = b"".join(bytes(row[0]) for row in rows)
        start = self._offset - first * self._block
        data = joined[start : start + end - self._offset]
        self._offset += len(data)
        return data

    def close(self) -> None:
        """Nothing is held between reads."""


@dataclass(frozen=True)
class SharedUpload:
    """One upload as PostgreSQL knows it: in progress, done, or failed."""

    header: UploadHeader
    next_index: int
    state: str
    image: str | None
    msg_id: str | None
    timestamp: int | None
    error: RequestError | None


_header_encoder = msgspec.json.Encoder()
_header_decoder = msgspec.json.Decoder(UploadHeader)

#: First key of the per-user advisory lock taken to admit an upload (the two-key space of
#: PostgreSQL's advisory locks, a class apart from the store's ``WRITE_LOCK``).
UPLOADS_LOCK = 0x41524E55
#: A user's uploads in progress on every node, the one being restarted aside: how many, and
#: the bytes their headers declare. Rows idle past ``transfer_timeout`` no longer count.
_IN_PROGRESS = """
    SELECT count(*), COALESCE(SUM((header::jsonb ->> 'size')::bigint), 0) FROM image_uploads
    WHERE user_key = %s AND transfer <> %s AND state = 'active'
      AND updated >= now() - make_interval(secs => %s)
"""


#: A user's ended uploads (outcomes kept for ``IMG_STATUS``) beyond ``upload_memory_per_user``
#: bytes, newest kept first, counted as ``Recollection`` does on one node: the row's strings
#: plus ``_RECORD_OVERHEAD`` (400) each. Without it, uploads that fail at once would pile up
#: rows until they expire.
_FORGET_OLD_OUTCOMES = """
    DELETE FROM image_uploads WHERE user_key = %(user)s AND transfer IN (
      SELECT transfer FROM (
        SELECT transfer, SUM(400 + octet_length(transfer) + octet_length(header)
                             + COALESCE(octet_length(error_text), 0))
               OVER (ORDER BY updated DESC, transfer) AS kept
        FROM image_uploads WHERE user_key = %(user)s AND state <> 'active') AS ended
      WHERE kept > %(budget)s)
"""


class SharedUploads:
    """The uploads in progress of every node (see the module docstring)."""

    def __init__(self, pool: ReaderPool, limits: Limits) -> None:
        self._pool = pool
        self._limits = limits

    async def record_chunk(
        self, user: str, transfer_id: str, header: UploadHeader, index: int, data: bytes
    ) -> None:
        """Store chunk ``index`` (chunk 0 restarts the upload); ``RequestError`` if another
        session already moved the upload past it or it ended meanwhile."""
        with _database():
            await self._record(user, transfer_id, header, index, data)

    async def _record(
        self, user: str, transfer_id: str, header: UploadHeader, index: int, data: bytes
    ) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            if index == 0:
                await self._admit(conn, user, transfer_id, header.size)
                await conn.execute(
                    "DELETE FROM image_uploads WHERE user_key = %s AND transfer = %s",
                    (user, transfer_id),
                )
                await conn.execute(
                    "INSERT INTO image_uploads (user_key, transfer, header, next_index, state) "
                    "VALUES (%s, %s, %s, 1, 'active')",
                    (user, transfer_id, _header_encoder.encode(header).decode()),
                )
            else:
                cursor = await conn.execute(
                    "UPDATE image_uploads SET next_index = next_index + 1, updated = now() "
                    "WHERE user_key = %s AND transfer = %s AND state = 'active' "
                    "AND next_index = %s",
                    (user, transfer_id, index),
                )
                if cursor.rowcount != 1:
                    raise RequestError(
                        ErrorCode.IMAGE_INVALID,
                        f"chunk {index} of upload {transfer_id!r} is no longer expected: the "
                        "upload went on or ended on another connection",
                    )
            await conn.execute(
                "INSERT INTO image_upload_chunks (user_key, transfer, idx, data) "
                "VALUES (%s, %s, %s, %s)",
                (user, transfer_id, index, data),
            )

    async def _admit(
        self, conn: psycopg.AsyncConnection, user: str, transfer_id: str, size: int
    ) -> None:
        """Refuse a new upload past the user's limits, counted over every node's uploads
        (same errors and wording as ``TransferRegistry`` and ``check_quota`` on one node)."""
        await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (UPLOADS_LOCK, user))
        cursor = await conn.execute(
            _IN_PROGRESS, (user, transfer_id, self._limits.transfer_timeout)
        )
        count, pending = await cursor.fetchone() or (0, 0)
        cursor = await conn.execute(UPLOADED_BYTES, (user,))
        stored = (await cursor.fetchone() or (0,))[0]
        limits = self._limits
        refuse_quota(int(stored) + int(pending), size, limits.upload_quota_bytes)
        refuse_room(int(count) + 1, limits.max_uploads_per_user, "uploads of one user")
        refuse_room(int(pending) + size, limits.max_upload_bytes_per_user, "bytes of one user")
        budget = limits.upload_memory_per_user
        await conn.execute(_FORGET_OLD_OUTCOMES, {"user": user, "budget": budget})

    async def load(self, user: str, transfer_id: str) -> SharedUpload | None:
        with _database():
            row = await self._pool.fetchone(
                "SELECT header, next_index, state, image, msg_id, timestamp, error_code, "
                "error_text FROM image_uploads WHERE user_key = %s AND transfer = %s",
                (user, transfer_id),
            )
        if row is None:
            return None
        header, next_index, state, image, msg_id, timestamp, code, text = row
        error = RequestError(ErrorCode(code), text) if code is not None else None
        return SharedUpload(
            _header_decoder.decode(header), next_index, state, image, msg_id, timestamp, error
        )

    async def chunks(self, user: str, transfer_id: str, count: int) -> AsyncIterator[bytes]:
        """Chunks ``0..count-1`` of an upload, fetched one at a time."""
        for index in range(count):
            with _database():
                row = await self._pool.fetchone(
                    "SELECT data FROM image_upload_chunks "
                    "WHERE user_key = %s AND transfer = %s AND idx = %s",
                    (user, transfer_id, index),
                )
            if row is None:
                raise RequestError(
                    ErrorCode.IMAGE_INVALID,
                    f"chunk {index} of upload {transfer_id!r} is gone (the upload expired)",
                )
            yield bytes(row[0])

    async def finished(
        self, user: str, transfer_id: str, image: str, msg_id: str, timestamp: int
    ) -> None:
        """The upload's message is stored: remember the outcome, drop the chunks."""
        await self._end_quietly(
            user,
            transfer_id,
            "state = 'done', image = %s, msg_id = %s, timestamp = %s",
            (image, msg_id, timestamp),
        )

    async def failed(self, user: str, transfer_id: str, error: RequestError) -> None:
        """The upload failed: remember why (for ``IMG_STATUS``), drop the chunks."""
        await self._end_quietly(
            user,
            transfer_id,
            "state = 'failed', error_code = %s, error_text = %s",
            (str(error.code), error.message),
        )

    async def _end_quietly(
        self, user: str, transfer_id: str, assignments: str, values: tuple[object, ...]
    ) -> None:
        """Record an outcome; if PostgreSQL is away the row stays as it was (and expires):
        the request's own answer (the ``OK`` of a stored message) must not depend on it."""
        with contextlib.suppress(RequestError), _database():
            await self._end(user, transfer_id, assignments, values)

    async def _end(
        self, user: str, transfer_id: str, assignments: str, values: tuple[object, ...]
    ) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                f"UPDATE image_uploads SET {assignments}, updated = now() "
                "WHERE user_key = %s AND transfer = %s",
                (*values, user, transfer_id),
            )
            await conn.execute(
                "DELETE FROM image_upload_chunks WHERE user_key = %s AND transfer = %s",
                (user, transfer_id),
            )

    async def expire(self, timeout: float) -> int:
        """Forget uploads (and outcomes) idle for ``timeout`` seconds; how many went."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM image_uploads WHERE updated < now() - make_interval(secs => %s)",
                (timeout,),
            )
            return cursor.rowcount
