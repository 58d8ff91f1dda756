"""The real PostgreSQL and Redis the scale-out tests run against, and per-run isolation.

Both services must be running (CI starts them; see docs/SCALE-OUT.md). If one is not, the
tests FAIL with the command that starts it: a missing service is a broken test setup, not a
reason to skip the scale-out mode. ``ARONANET_TEST_POSTGRES`` / ``ARONANET_TEST_REDIS``
point the tests elsewhere.

Isolation: every test gets a fresh PostgreSQL schema (dropped after) and a unique Redis
channel prefix, so runs in parallel or against a shared server never see each other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis

POSTGRES_URL = os.environ.get("ARONANET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ARONANET_TEST_REDIS", "redis://127.0.0.1:6379/0")

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the test database, or a clear FAILURE naming the fix."""
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}). The scale-out tests need "
            f"it (trust auth, database `test`); start it with: {START_POSTGRES}",
            pytrace=False,
        )


def redis_client() -> redis.Redis:
    """A client of the test Redis, or a clear FAILURE naming the fix."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({exc}). The scale-out tests need it; "
            f"start it with: {START_REDIS}",
            pytrace=False,
        )
    return client


def schema_url(schema: str) -> str:
    """The test database URL with ``schema`` first on the search path (tables go there)."""
    joiner = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{joiner}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A new, empty schema for one test; yields its URL; dropped with everything in it."""
    schema = f"aronanet_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin_connection() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema_url(schema)
    finally:
        with admin_connection() as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def unique_prefix() -> str:
    """A Redis channel prefix no other test run uses."""
    return f"aronanet-test-{os.getpid()}-{secrets.token_hex(4)}"
