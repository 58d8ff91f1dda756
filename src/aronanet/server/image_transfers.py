"""Uploads in progress on this node (§4, §10): their headers, spill files, limits and outcomes.

``TransferRegistry`` holds the uploads in progress, keyed by (user, transfer id) rather than
by session, so that an upload interrupted by a dropped connection resumes from another one
(and, in scale-out mode, on another node: ``image_postgres.SharedUploads`` keeps the chunks
and the progress in PostgreSQL, and ``TransferRegistry.resume`` rebuilds a local transfer
from them). Every chunk is appended to its spill file (opened and closed per chunk, so a
pending upload holds no file descriptor) and fed to a running SHA-256: a transfer holds at
most the chunk being written in memory, whatever the image size. Uploads in progress are
limited per session, per user and per node, in number and in declared bytes, and the
outcomes remembered after they end are bounded in bytes per user and per node: nothing a
client sends makes the node remember without bound. In scale-out mode the per-user limits
count every node's uploads: ``SharedUploads`` checks them against the shared rows, and the
registry keeps only the per-session and per-node ones (``per_user_here=False``).

The callers (``image_service``, ``image_uploads``) own the clock ticks, the quota query and
the final commit of the message; this module never touches the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import pybase64
from msgspec import UNSET

from aronanet.config import Limits
from aronanet.errors import ErrorCode, RequestError
from aronanet.proto.messages import (
    CHANNEL_PATTERN,
    NO_CONTROL_PATTERN,
    USER_PATTERN,
    Attachment,
    ImgChunk,
)
from aronanet.proto.wording import rule
from aronanet.server.image_blobs import LocalBlobStore, chunk_count
from aronanet.server.image_refusals import refuse_room, storage_failed
from aronanet.server.image_validation import ALLOWED_MIMES, ImageInfo, invalid, too_large

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadHeader:
    """The metadata of chunk 0 (§4): where the image goes and what it claims to be."""

    dest_type: str
    dest: str
    name: str
    mime: str
    size: int
    sha256: str
    total: int
    content: str

    @classmethod
    def from_chunk(cls, chunk: ImgChunk, limits: Limits) -> UploadHeader:
        """Read and check the metadata of chunk 0; raises ``RequestError``."""
        fields = {
            name: getattr(chunk, name)
            for name in ("dest_type", "dest", "name", "mime", "size", "sha256")
        }
        missing = sorted(name for name, value in fields.items() if not _is_set(value))
        if missing:
            raise RequestError(ErrorCode.INVALID, f"chunk 0 lacks {', '.join(missing)}")
        content = chunk.content if isinstance(chunk.content, str) else ""
        header = cls(total=chunk.total, content=content, **fields)
        header.check(limits)
        return header

    def check(self, limits: Limits) -> None:
        """Refuse what can be refused before any byte is stored."""
        pattern = CHANNEL_PATTERN if self.dest_type == "channel" else USER_PATTERN
        if re.fullmatch(pattern, self.dest) is None:
            raise RequestError(ErrorCode.INVALID, f"invalid dest: {rule(self.dest_type)}")
        if re.fullmatch(NO_CONTROL_PATTERN, self.name) is None:
            raise invalid("the file name holds a control character")
        if self.size > limits.max_image:
            raise too_large(f"image of {self.size} bytes exceeds max_image {limits.max_image}")
        if self.mime not in ALLOWED_MIMES:
            raise invalid(f"type {self.mime!r} is not one of {', '.join(sorted(ALLOWED_MIMES))}")
        if self.size < 1:
            raise invalid("an image cannot be empty")
        fewest = chunk_count(self.size, limits.chunk_size)
        if not fewest <= self.total <= self.size:
            raise invalid(
                f"total {self.total} chunks cannot carry {self.size} bytes "
                f"in non-empty chunks of at most {limits.chunk_size}"
            )
        if len(self.content) > limits.max_content:
            raise too_large(
                f"caption of {len(self.content)} characters exceeds {limits.max_content}"
            )

    def attachment(self, info: ImageInfo) -> Attachment:
        """The §4 attachment, with the type and dimensions the node found, not the claims."""
        return Attachment(
            image=self.sha256,
            name=self.name,
            mime=info.mime,
            size=self.size,
            width=info.width,
            height=info.height,
        )


def _is_set(value: object) -> bool:
    return value is not UNSET and value is not None


@dataclass
class UploadTransfer:
    """One upload in progress: its header, its spill file and how far it got."""

    user: str
    transfer_id: str
    header: UploadHeader
    spill_path: Path
    owner: Hashable
    last_activity: float
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    next_index: int = 0
    received_bytes: int = 0

    @property
    def complete(self) -> bool:
        return self.next_index == self.header.total

    def append(self, chunk: ImgChunk, chunk_size: int) -> bytes:
        """Write one chunk to the spill file and return its bytes; raises ``RequestError``
        on any violation."""
        # §4 "Chunks arrive in order on a connection".
        if chunk.index != self.next_index:
            raise invalid(f"chunk index {chunk.index} out of order: expected {self.next_index}")
        if chunk.total != self.header.total:
            raise invalid(f"chunk total {chunk.total} differs from {self.header.total}")
        data = _decode_chunk_data(chunk, chunk_size)
        if not data:
            raise invalid(f"chunk {chunk.index} is empty")
        if self.received_bytes + len(data) > self.header.size:
            raise invalid(
                f"chunk {chunk.index} brings the upload to "
                f"{self.received_bytes + len(data)} bytes, more than the declared "
                f"size {self.header.size}"
            )
        self.restore(data)
        return data

    def restore(self, data: bytes) -> None:
        """Write the next chunk's checked bytes to the spill file (``append``, or a resumed
        transfer rebuilt from the chunks another node received)."""
        with open(self.spill_path, "ab") as spill:
            spill.write(data)
        self.hasher.update(data)
        self.received_bytes += len(data)
        self.next_index += 1

    def finish(self) -> Path:
        """After the last chunk: check size and SHA-256 (§4) and hand over the spill file."""
        if self.received_bytes != self.header.size:
            raise invalid(f"received {self.received_bytes} bytes, declared size {self.header.size}")
        digest = self.hasher.hexdigest()
        if digest != self.header.sha256:
            raise invalid(f"SHA-256 of the data is {digest}, declared {self.header.sha256}")
        return self.spill_path

    def discard(self) -> None:
        """Drop the partial data (§4: "the partial transfer is discarded")."""
        with contextlib.suppress(OSError):
            self.spill_path.unlink(missing_ok=True)


def _decode_chunk_data(chunk: ImgChunk, chunk_size: int) -> bytes:
    """Decode a chunk's base64 and hold it to ``chunk_size`` raw bytes (§4)."""
    # Base64 of chunk_size bytes is 4/3 as long: refuse an oversized field before decoding.
    if len(chunk.data) > 4 * chunk_count(chunk_size, 3):
        raise too_large(f"chunk {chunk.index} holds more than chunk_size {chunk_size} bytes")
    try:
        # Strict (no whitespace, exact padding) and SIMD: about 6 GiB/s, where msgspec's
        # decoder does 0.5: base64 was the largest per-chunk cost of an upload.
        data = pybase64.b64decode(chunk.data, validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text
        raise invalid(f"chunk {chunk.index} data is not valid base64") from None
    if len(data) > chunk_size:
        raise too_large(
            f"chunk {chunk.index} holds {len(data)} bytes, more than chunk_size {chunk_size}"
        )
    return data


@dataclass(frozen=True)
class CompletedUpload:
    """A finished upload, remembered for a while so a client whose connection dropped
    before the ``OK`` arrived learns the result from ``IMG_STATUS`` instead of re-sending."""

    total: int
    image: str
    msg_id: str
    timestamp: int
    finished_at: float


TransferKey = tuple[str, str]
V = TypeVar("V")
#: Estimated bytes of one remembered outcome beyond its strings (dict slots, tuples, ints).
_RECORD_OVERHEAD = 400


@dataclass(frozen=True)
class FailedUpload:
    """Why an upload failed, as plain values: never the raised exception itself, whose
    traceback would keep the failing request (and its chunk of data) alive with it."""

    code: ErrorCode
    message: str
    extra: tuple[tuple[str, object], ...]

    @classmethod
    def of(cls, error: RequestError) -> FailedUpload:
        return cls(error.code, error.message, tuple(error.extra.items()))

    def error(self) -> RequestError:
        """A fresh ``RequestError`` to raise (each raise gets its own traceback)."""
        return RequestError(self.code, self.message, **dict(self.extra))


class Recollection(Generic[V]):
    """Outcomes remembered by (user, transfer id), bounded in estimated bytes per user and
    per node: past a budget the oldest are forgotten, the user's own first. A forgotten
    outcome reads as an unknown transfer, which §10 allows ("remembered for a while")."""

    def __init__(self, per_user: int, per_node: int) -> None:
        self._per_user = per_user
        self._per_node = per_node
        self._all: OrderedDict[TransferKey, tuple[V, float, int]] = OrderedDict()
        self._by_user: dict[str, OrderedDict[str, None]] = {}
        self._user_bytes: dict[str, int] = {}
        self.bytes = 0

    def get(self, key: TransferKey) -> V | None:
        found = self._all.get(key)
        return found[0] if found is not None else None

    def put(self, key: TransferKey, value: V, at: float, size: int) -> None:
        """Remember ``value`` (about ``size`` bytes of strings), forgetting the oldest."""
        self.pop(key)
        user, transfer_id = key
        cost = _RECORD_OVERHEAD + len(user) + len(transfer_id) + size
        self._all[key] = (value, at, cost)
        self._by_user.setdefault(user, OrderedDict())[transfer_id] = None
        self._user_bytes[user] = self._user_bytes.get(user, 0) + cost
        self.bytes += cost
        while self._user_bytes.get(user, 0) > self._per_user:
            self.pop((user, next(iter(self._by_user[user]))))
        while self.bytes > self._per_node:
            self.pop(next(iter(self._all)))

    def pop(self, key: TransferKey) -> None:
        found = self._all.pop(key, None)
        if found is None:
            return
        user, transfer_id = key
        self.bytes -= found[2]
        self._user_bytes[user] -= found[2]
        mine = self._by_user[user]
        del mine[transfer_id]
        if not mine:
            del self._by_user[user], self._user_bytes[user]

    def forget_before(self, deadline: float) -> None:
        """Forget what was remembered before ``deadline`` (insertion order is time order)."""
        while self._all:
            key = next(iter(self._all))
            if self._all[key][1] >= deadline:
                return
            self.pop(key)

    def clear(self) -> None:
        for key in list(self._all):
            self.pop(key)

    def __len__(self) -> int:
        return len(self._all)


class TransferRegistry:
    """The node's uploads in progress, with their limits and their expiry.

    Keyed by (user, transfer id): a transfer belongs to its user, not to the session that
    started it, so a new session of the same user resumes it. ``owner`` (a session key)
    counts toward ``max_transfers_per_session`` and moves to whichever session sent the
    latest chunk.
    """

    def __init__(
        self,
        blobs: LocalBlobStore,
        limits: Limits,
        clock: Callable[[], float],
        *,
        per_user_here: bool = True,
    ) -> None:
        self.blobs = blobs
        self.limits = limits
        self.clock = clock
        #: False in scale-out mode, where the per-user limits count every node's uploads
        #: (``image_postgres.SharedUploads``) and this node's copies would only miscount.
        self.per_user_here = per_user_here
        self._active: dict[TransferKey, UploadTransfer] = {}
        per_user, per_node = limits.upload_memory_per_user, limits.upload_memory_per_node
        self._completed: Recollection[CompletedUpload] = Recollection(per_user, per_node)
        self._failed: Recollection[FailedUpload] = Recollection(per_user, per_node)

    def __len__(self) -> int:
        return len(self._active)

    @property
    def remembered_bytes(self) -> int:
        """Estimated bytes of the outcomes remembered (bounded by ``upload_memory_*``)."""
        return self._completed.bytes + self._failed.bytes

    def get(self, user: str, transfer_id: str) -> UploadTransfer | None:
        return self._active.get((user, transfer_id))

    def completed(self, user: str, transfer_id: str) -> CompletedUpload | None:
        return self._completed.get((user, transfer_id))

    def failure(self, user: str, transfer_id: str) -> RequestError | None:
        """Why a transfer failed, remembered until it restarts at chunk 0 or expires.

        §3: an upload gets "a reply only to the last chunk, or to the first that fails":
        the chunks still in flight after a refusal are dropped without a reply, and the
        final one (which the client awaits) gets the same error again.
        """
        failed = self._failed.get((user, transfer_id))
        return failed.error() if failed is not None else None

    def pending_bytes(self, user: str) -> int:
        """Bytes the user's unfinished uploads have declared: they count toward the quota,
        so that parallel uploads cannot together overrun it."""
        return sum(t.header.size for (owner, _), t in self._active.items() if owner == user)

    def start(self, user: str, owner: Hashable, chunk: ImgChunk) -> UploadTransfer:
        """Begin a transfer from its chunk 0 (a repeated chunk 0 restarts the transfer)."""
        self.discard(user, chunk.transfer)
        self._completed.pop((user, chunk.transfer))
        self._failed.pop((user, chunk.transfer))
        header = UploadHeader.from_chunk(chunk, self.limits)
        return self.resume(user, owner, chunk.transfer, header)

    def resume(
        self, user: str, owner: Hashable, transfer_id: str, header: UploadHeader
    ) -> UploadTransfer:
        """Register a transfer with an empty spill file: a new one (``start``), or one
        begun on another node, whose chunks the caller then ``restore``s."""
        self._check_room(user, owner, header.size)
        transfer = UploadTransfer(
            user=user,
            transfer_id=transfer_id,
            header=header,
            spill_path=self.blobs.new_spill_file(),
            owner=owner,
            last_activity=self.clock(),
        )
        self._active[(user, transfer_id)] = transfer
        return transfer

    def _check_room(self, user: str, owner: Hashable, size: int) -> None:
        """Refuse an upload past the limits on uploads in progress (§9): ``RATE_LIMITED``
        (room comes back as uploads end or expire), or ``TOO_LARGE`` for an image that
        could never fit the per-user room. Each message states the limit."""
        limits = self.limits
        here = sum(1 for t in self._active.values() if t.owner == owner)
        mine = [t for (u, _), t in self._active.items() if u == user]
        mine_bytes = sum(t.header.size for t in mine)
        node_bytes = sum(t.header.size for t in self._active.values())
        if size > limits.max_upload_bytes_per_user:
            raise too_large(
                f"image of {size} bytes exceeds the limit of {limits.max_upload_bytes_per_user} "
                "bytes of uploads in progress per user"
            )
        refuse_room(here + 1, limits.max_transfers_per_session, "uploads on this session")
        if self.per_user_here:
            refuse_room(len(mine) + 1, limits.max_uploads_per_user, "uploads of one user")
        refuse_room(len(self._active) + 1, limits.max_uploads_per_node, "uploads on the node")
        if self.per_user_here:
            refuse_room(mine_bytes + size, limits.max_upload_bytes_per_user, "bytes of one user")
        refuse_room(node_bytes + size, limits.max_upload_bytes_per_node, "bytes on the node")

    def append(self, user: str, owner: Hashable, chunk: ImgChunk) -> UploadTransfer:
        """``append_chunk`` for callers that do not need the chunk's bytes."""
        return self.append_chunk(user, owner, chunk)[0]

    def append_chunk(
        self, user: str, owner: Hashable, chunk: ImgChunk
    ) -> tuple[UploadTransfer, bytes]:
        """Add a chunk to an active transfer (starting it on index 0) and return the transfer
        and the chunk's decoded bytes; raises ``RequestError``.

        On any violation the transfer is discarded before the error propagates (§4). A
        failure to write (no space, no file descriptor left) is one quiet ``RATE_LIMITED``
        and at most one log line a minute: never a traceback per request.
        """
        try:
            try:
                if chunk.index == 0:
                    transfer = self.start(user, owner, chunk)
                else:
                    transfer = self._require(user, chunk)
                transfer.owner = owner
                transfer.last_activity = self.clock()
                data = transfer.append(chunk, self.limits.chunk_size)
            except OSError as exc:
                raise storage_failed(exc) from None
        except RequestError as error:
            self.fail(user, chunk.transfer, error)
            raise
        return transfer, data

    def fail(self, user: str, transfer_id: str, error: RequestError) -> None:
        """Discard a transfer and remember why (see ``failure``)."""
        self.discard(user, transfer_id)
        record = FailedUpload.of(error)
        self._failed.put((user, transfer_id), record, self.clock(), len(record.message))

    def _require(self, user: str, chunk: ImgChunk) -> UploadTransfer:
        transfer = self._active.get((user, chunk.transfer))
        if transfer is None:
            raise invalid(
                f"no upload {chunk.transfer!r} in progress for chunk {chunk.index} "
                "(chunk 0 never arrived, or the transfer expired or failed)"
            )
        return transfer

    def detach(self, user: str, transfer_id: str) -> UploadTransfer | None:
        """Take a finished transfer out of the registry; the caller now owns its file."""
        return self._active.pop((user, transfer_id), None)

    def discard(self, user: str, transfer_id: str) -> None:
        transfer = self._active.pop((user, transfer_id), None)
        if transfer is not None:
            transfer.discard()

    def remember(self, user: str, transfer_id: str, result: CompletedUpload) -> None:
        size = len(result.image) + len(result.msg_id)
        self._completed.put((user, transfer_id), result, result.finished_at, size)

    def received(self, user: str, transfer_id: str) -> list[int]:
        """The chunk indices the node holds for a transfer: in-order arrival makes them a
        prefix ``0..n-1``; an unknown or expired transfer holds none."""
        transfer = self._active.get((user, transfer_id))
        if transfer is not None:
            return list(range(transfer.next_index))
        done = self._completed.get((user, transfer_id))
        return list(range(done.total)) if done is not None else []

    def expire(self) -> int:
        """Discard transfers idle for ``transfer_timeout``; forget old outcomes.

        Returns how many transfers were discarded. Call it periodically.
        """
        deadline = self.clock() - self.limits.transfer_timeout
        stale = [key for key, t in self._active.items() if t.last_activity < deadline]
        for user, transfer_id in stale:
            self.discard(user, transfer_id)
        self._completed.forget_before(deadline)
        self._failed.forget_before(deadline)
        if stale:
            log.info("discarded %d abandoned image uploads", len(stale))
        return len(stale)

    def close(self) -> None:
        """Discard everything (the node is stopping)."""
        for user, transfer_id in list(self._active):
            self.discard(user, transfer_id)
        self._completed.clear()
        self._failed.clear()
