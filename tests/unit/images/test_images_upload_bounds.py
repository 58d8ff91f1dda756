"""What a user can make the node hold for uploads: every bound at its edge (§9)."""

from __future__ import annotations

import os

import image_samples as samples
import msgspec
import pytest
from image_chunks import SMALL_LIMITS, ManualClock, chunks_of

from aronanet.config import Limits
from aronanet.errors import ErrorCode, RequestError
from aronanet.server.image_blobs import LocalBlobStore
from aronanet.server.image_transfers import TransferRegistry

DATA = samples.png(80, 60)


def registry_with(blobs: LocalBlobStore, **limits: int) -> TransferRegistry:
    return TransferRegistry(blobs, msgspec.structs.replace(SMALL_LIMITS, **limits), ManualClock())


def start(registry: TransferRegistry, transfer: str, user: str = "sensei", session: str = "s1"):
    return registry.append(user, session, chunks_of(DATA, transfer=transfer)[0])


def refused(registry: TransferRegistry, transfer: str, **where: str) -> RequestError:
    with pytest.raises(RequestError) as caught:
        start(registry, transfer, **where)
    return caught.value


def test_uploads_per_user_are_limited_across_sessions_at_the_edge(blobs):
    registry = registry_with(blobs, max_uploads_per_user=3, max_transfers_per_session=4)
    for number in range(3):
        start(registry, f"t{number}", session=f"s{number}")  # one per session: 3 sessions
    error = refused(registry, "t3", session="s9")
    assert error.code is ErrorCode.RATE_LIMITED and error.extra["retry_after_ms"] == 1000
    assert "limit of 3" in error.message
    start(registry, "theirs", user="hoshino")  # another user is not held up


def test_uploads_per_node_are_limited_at_the_edge(blobs):
    registry = registry_with(blobs, max_uploads_per_node=2)
    start(registry, "a", user="one")
    start(registry, "b", user="two")
    error = refused(registry, "c", user="three")
    assert error.code is ErrorCode.RATE_LIMITED and "limit of 2" in error.message


def test_declared_bytes_in_progress_are_limited_per_user_and_per_node_at_the_edge(blobs):
    size = len(DATA)
    registry = registry_with(blobs, max_upload_bytes_per_user=2 * size)
    start(registry, "a")
    start(registry, "b")
    error = refused(registry, "c")
    assert error.code is ErrorCode.RATE_LIMITED and f"limit of {2 * size}" in error.message
    registry = registry_with(blobs, max_upload_bytes_per_node=2 * size)
    start(registry, "a", user="one")
    start(registry, "b", user="two")
    assert f"limit of {2 * size}" in refused(registry, "c", user="three").message


def test_an_image_larger_than_the_per_user_room_is_too_large(blobs):
    registry = registry_with(blobs, max_upload_bytes_per_user=len(DATA) - 1)
    error = refused(registry, "a")
    assert error.code is ErrorCode.TOO_LARGE and str(len(DATA) - 1) in error.message


def test_pending_uploads_hold_no_open_files(blobs):
    registry = registry_with(blobs, max_uploads_per_user=50, max_transfers_per_session=50)
    before = len(os.listdir("/proc/self/fd"))
    for number in range(40):
        registry.append("sensei", "s1", chunks_of(DATA, transfer=f"t{number}")[0])
        registry.append("sensei", "s1", chunks_of(DATA, transfer=f"t{number}")[1])
    assert len(os.listdir("/proc/self/fd")) <= before
    assert len(list(blobs.spill_dir.iterdir())) == 40
    registry.close()


def test_chunks_for_unknown_uploads_leave_bounded_memory_per_user_and_per_node(blobs):
    budget_user, budget_node = 16 * 1024, 40 * 1024
    registry = registry_with(
        blobs, upload_memory_per_user=budget_user, upload_memory_per_node=budget_node
    )
    stray = chunks_of(DATA)[1]
    for user in ("one", "two", "three", "four"):
        for number in range(2000):
            chunk = msgspec.structs.replace(stray, transfer=f"x{number}")
            with pytest.raises(RequestError):
                registry.append(user, "s1", chunk)
        assert registry.remembered_bytes <= budget_node
    assert registry.remembered_bytes > budget_node - budget_user  # still remembers recent ones
    assert registry.failure("four", "x1999") is not None  # the newest are kept
    assert registry.failure("one", "x0") is None  # the oldest were forgotten


def test_a_failure_to_store_is_one_quiet_rate_limited_reply(blobs, caplog):
    registry = registry_with(blobs)
    blobs.spill_dir.rmdir()
    blobs.spill_dir.write_bytes(b"not a directory: every new spill file fails")
    errors = [refused(registry, f"t{number}") for number in range(5)]
    assert {error.code for error in errors} == {ErrorCode.RATE_LIMITED}
    assert "retry in 1000 ms" in errors[0].message
    records = [r for r in caplog.records if "upload_storage_failed" in r.getMessage()]
    assert len(records) <= 1 and not any(r.exc_info for r in caplog.records)


def test_the_default_limits_allow_several_full_size_uploads_per_user():
    limits = Limits()
    assert limits.max_upload_bytes_per_user >= 4 * limits.max_image
    assert limits.max_uploads_per_user >= limits.max_transfers_per_session
