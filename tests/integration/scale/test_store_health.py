"""What the admin listener reads of a store, on SQLite and on PostgreSQL alike: ``ping``
(``/healthz``), the commits and the enqueue-to-commit latency of every write job."""

from __future__ import annotations

from aronanet.server.store.base import Store
from aronanet.server.store.rows import UserRow


async def test_ping_answers_and_every_write_job_is_timed(store: Store) -> None:
    commits, timed = store.commits, store.commit_latency.count
    await store.ping()
    await store.create_user(UserRow("Timed", "hash", 1))
    assert store.commits >= commits + 1
    assert store.commit_latency.count == timed + 2  # the ping's job and the insert's
    assert store.commit_latency.total > 0
    lines = store.commit_latency.lines("latency")
    assert lines[-1] == f"latency_count {timed + 2}"
    assert lines[-3] == f'latency_bucket{{le="+Inf"}} {timed + 2}'
