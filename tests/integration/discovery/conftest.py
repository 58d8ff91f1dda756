"""Fixtures: the fake GitHub, record host and ngrok agent, each on its own 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_services import FakeGitHub, FakeNgrokAgent, FakeRecordHost


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    service = FakeGitHub()
    service.start()
    yield service
    service.stop()


@pytest.fixture
def record_host() -> Iterator[FakeRecordHost]:
    service = FakeRecordHost(token="url-token-s3cret")
    service.start()
    yield service
    service.stop()


@pytest.fixture
def ngrok_agent() -> Iterator[FakeNgrokAgent]:
    service = FakeNgrokAgent()
    service.start()
    yield service
    service.stop()
