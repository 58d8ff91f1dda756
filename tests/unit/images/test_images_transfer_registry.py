"""``TransferRegistry``: chunk assembly in a spill file, every refusal, resume and expiry."""

from __future__ import annotations

import base64
import hashlib

import image_samples as samples
import msgspec
import pytest
from image_chunks import SMALL_LIMITS, ManualClock, chunks_of

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto.messages import ImgChunk
from aronanet.server.image_transfers import TransferRegistry

SESSION = "session-1"


def feed(registry: TransferRegistry, chunks: list[ImgChunk], user: str = "sensei") -> None:
    for chunk in chunks:
        registry.append(user, SESSION, chunk)


def refusal(registry: TransferRegistry, chunk: ImgChunk) -> RequestError:
    with pytest.raises(RequestError) as caught:
        registry.append("sensei", SESSION, chunk)
    return caught.value


def spill_files(registry: TransferRegistry) -> list[str]:
    return [path.name for path in registry.blobs.spill_dir.iterdir()]


def test_a_multi_chunk_upload_lands_byte_for_byte_in_its_spill_file(
    registry: TransferRegistry,
) -> None:
    data = samples.png(80, 60)
    chunks = chunks_of(data)
    assert len(chunks) > 3
    feed(registry, chunks)
    transfer = registry.detach("sensei", "t1")
    assert transfer is not None and transfer.complete
    assert transfer.finish().read_bytes() == data


def test_the_registry_reports_the_received_prefix_for_resuming(
    registry: TransferRegistry,
) -> None:
    feed(registry, chunks_of(samples.png(80, 60))[:3])
    assert registry.received("sensei", "t1") == [0, 1, 2]
    assert registry.received("sensei", "unknown") == []
    assert registry.received("someone-else", "t1") == []


def test_a_transfer_continues_from_another_session_of_the_same_user(
    registry: TransferRegistry,
) -> None:
    data = samples.png(80, 60)
    chunks = chunks_of(data)
    feed(registry, chunks[:2])
    for chunk in chunks[2:]:
        registry.append("sensei", "session-2", chunk)
    transfer = registry.detach("sensei", "t1")
    assert transfer is not None
    assert transfer.finish().read_bytes() == data


def test_a_chunk_out_of_order_is_refused_and_the_transfer_discarded(
    registry: TransferRegistry,
) -> None:
    chunks = chunks_of(samples.png(80, 60))
    feed(registry, chunks[:1])
    error = refusal(registry, chunks[2])
    assert error.code is ErrorCode.IMAGE_INVALID
    assert "expected 1" in error.message
    assert registry.get("sensei", "t1") is None
    assert spill_files(registry) == []


def test_a_wrong_sha256_is_refused_when_the_last_chunk_is_in(registry: TransferRegistry) -> None:
    data = samples.png(40, 30)
    feed(registry, chunks_of(data, sha256=hashlib.sha256(b"other").hexdigest()))
    transfer = registry.detach("sensei", "t1")
    assert transfer is not None
    with pytest.raises(RequestError) as caught:
        transfer.finish()
    assert caught.value.code is ErrorCode.IMAGE_INVALID
    assert "SHA-256" in caught.value.message


def test_a_declared_size_above_max_image_is_refused_before_any_data(
    registry: TransferRegistry,
) -> None:
    chunk = chunks_of(b"x" * 10, size=SMALL_LIMITS.max_image + 1)[0]
    chunk = msgspec.structs.replace(chunk, total=SMALL_LIMITS.max_image // 1024 + 1)
    error = refusal(registry, chunk)
    assert error.code is ErrorCode.TOO_LARGE
    assert str(SMALL_LIMITS.max_image) in error.message


def test_more_bytes_than_declared_are_refused(registry: TransferRegistry) -> None:
    data = samples.png(40, 30)
    chunks = chunks_of(data, size=len(data) - 1)
    with pytest.raises(RequestError) as caught:
        feed(registry, chunks)
    assert caught.value.code is ErrorCode.IMAGE_INVALID


def test_a_chunk_larger_than_chunk_size_is_refused(registry: TransferRegistry) -> None:
    data = samples.png(80, 60)
    oversized = base64.b64encode(data[: SMALL_LIMITS.chunk_size + 1]).decode()
    error = refusal(registry, msgspec.structs.replace(chunks_of(data)[0], data=oversized))
    assert error.code is ErrorCode.TOO_LARGE


def test_chunk_data_that_is_not_base64_is_refused(registry: TransferRegistry) -> None:
    chunk = msgspec.structs.replace(chunks_of(samples.png(8, 8))[0], data="not base64!")
    assert refusal(registry, chunk).code is ErrorCode.IMAGE_INVALID


def test_a_chunk_for_a_transfer_never_started_is_refused(registry: TransferRegistry) -> None:
    error = refusal(registry, chunks_of(samples.png(80, 60))[1])
    assert error.code is ErrorCode.IMAGE_INVALID
    assert "no upload" in error.message


def test_a_mime_type_outside_the_allowed_four_is_refused_at_chunk_zero(
    registry: TransferRegistry,
) -> None:
    chunk = chunks_of(samples.png(8, 8), mime="image/bmp")[0]
    assert refusal(registry, chunk).code is ErrorCode.IMAGE_INVALID


def test_chunk_zero_without_metadata_is_invalid(registry: TransferRegistry) -> None:
    chunk = ImgChunk(transfer="t1", index=0, total=1, data="AAAA")
    error = refusal(registry, chunk)
    assert error.code is ErrorCode.INVALID
    assert "sha256" in error.message


def test_a_total_that_cannot_carry_the_size_is_refused(registry: TransferRegistry) -> None:
    chunk = msgspec.structs.replace(chunks_of(samples.png(80, 60))[0], total=1)
    assert refusal(registry, chunk).code is ErrorCode.IMAGE_INVALID


def test_a_session_may_run_only_max_transfers_per_session_at_once(
    registry: TransferRegistry,
) -> None:
    data = samples.png(80, 60)
    for number in range(SMALL_LIMITS.max_transfers_per_session):
        feed(registry, chunks_of(data, transfer=f"t{number}")[:1])
    error = refusal(registry, chunks_of(data, transfer="one-too-many")[0])
    assert error.code is ErrorCode.RATE_LIMITED
    assert error.extra["retry_after_ms"] > 0


def test_pending_bytes_count_every_unfinished_upload_of_the_user(
    registry: TransferRegistry,
) -> None:
    data = samples.png(80, 60)
    feed(registry, chunks_of(data, transfer="a")[:1])
    feed(registry, chunks_of(data, transfer="b")[:1])
    feed(registry, chunks_of(data, transfer="c")[:1], user="hoshino")
    assert registry.pending_bytes("sensei") == 2 * len(data)


def test_chunk_zero_again_restarts_the_transfer(registry: TransferRegistry) -> None:
    data = samples.png(80, 60)
    chunks = chunks_of(data)
    feed(registry, chunks[:3])
    feed(registry, chunks)
    transfer = registry.detach("sensei", "t1")
    assert transfer is not None
    assert transfer.finish().read_bytes() == data
    assert len(spill_files(registry)) == 1


def test_abandoned_transfers_expire_and_their_spill_files_go(
    registry: TransferRegistry, clock: ManualClock
) -> None:
    chunks = chunks_of(samples.png(80, 60))
    feed(registry, chunks[:2])
    feed(registry, chunks_of(samples.png(80, 60), transfer="fresh")[:1])
    clock.advance(SMALL_LIMITS.transfer_timeout - 1)
    registry.append("sensei", SESSION, msgspec.structs.replace(chunks[2]))
    clock.advance(2)
    registry.append("sensei", SESSION, chunks_of(samples.png(80, 60), transfer="fresh")[1])
    clock.advance(SMALL_LIMITS.transfer_timeout - 1)
    assert registry.expire() == 1  # t1 idle for the whole timeout; "fresh" was active
    assert registry.get("sensei", "t1") is None
    assert registry.get("sensei", "fresh") is not None
    assert len(spill_files(registry)) == 1


def test_a_failed_transfer_is_remembered_for_its_later_chunks(
    registry: TransferRegistry,
) -> None:
    chunks = chunks_of(samples.png(80, 60))
    feed(registry, chunks[:1])
    first = refusal(registry, chunks[2])
    again = registry.failure("sensei", "t1")
    assert again is not None and (again.code, again.message) == (first.code, first.message)
    feed(registry, chunks[:1])  # a new chunk 0 starts afresh
    assert registry.failure("sensei", "t1") is None
