"""Fixtures of the scale-out tests: a fresh PostgreSQL schema and Redis prefix per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .services import fresh_schema, redis_client, unique_prefix


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh schema in the real PostgreSQL, dropped after the test."""
    with fresh_schema() as url:
        yield url


@pytest.fixture
def redis_prefix() -> str:
    """A Redis channel prefix unique to this test (after checking Redis is there)."""
    redis_client().close()
    return unique_prefix()
