"""Fixtures: the fake GitHub, record host and ngrok agent, each on its own 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import pytest
from fake_services import FakeGitHub, FakeNgrokAgent, FakeRecordHost, FakeService

Service = TypeVar("Service", bound=FakeService)


def serving(service: Service) -> Iterator[Service]:
    """Start ``service`` for one test and stop it after, whatever the test did."""
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serving(FakeGitHub())


@pytest.fixture
def record_host() -> Iterator[FakeRecordHost]:
    yield from serving(FakeRecordHost(token="url-token-s3cret"))


@pytest.fixture
def ngrok_agent() -> Iterator[FakeNgrokAgent]:
    yield from serving(FakeNgrokAgent())
