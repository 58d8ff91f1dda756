"""The collector pacer: full collections only while the user is quiet, and a clean hand-back.

The clock is injected (a list the test advances), the collector is CPython's own.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from tui_helpers import snapshot_app

from aronanet.tui.collector import NEVER, CollectorPacer
from aronanet.tui.theme import LIGHT


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pacer() -> Iterator[tuple[CollectorPacer, Clock]]:
    clock = Clock()
    running = CollectorPacer(clock, quiet=1.0, every=30.0)
    running.start()
    yield running, clock
    running.stop()


def full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_pacer_takes_over_full_collections_and_gives_them_back() -> None:
    before = gc.get_threshold()
    pacer = CollectorPacer(Clock())
    pacer.start()
    assert gc.get_threshold() == (before[0], before[1], NEVER)
    assert gc.get_freeze_count() > 0
    pacer.stop()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_no_full_collection_while_the_user_is_typing(
    pacer: tuple[CollectorPacer, Clock],
) -> None:
    running, clock = pacer
    clock.now += 60
    running.user_active()
    clock.now += 0.5
    collections = full_collections()
    assert running.tick() is False
    assert full_collections() == collections


def test_a_due_full_collection_runs_once_the_user_is_quiet(
    pacer: tuple[CollectorPacer, Clock],
) -> None:
    running, clock = pacer
    clock.now += 60
    running.user_active()
    clock.now += 1.5
    collections = full_collections()
    assert running.tick() is True
    assert full_collections() == collections + 1
    assert running.tick() is False  # the next one is 30 s away


def test_no_full_collection_before_one_is_due(pacer: tuple[CollectorPacer, Clock]) -> None:
    running, clock = pacer
    clock.now += 10  # quiet, but the start-up collection is only 10 s old
    assert running.tick() is False


async def test_the_chat_app_paces_the_collector_only_while_it_runs() -> None:
    before = gc.get_threshold()
    app = snapshot_app(LIGHT)
    async with app.run_test(size=(110, 32)) as pilot:
        assert app.collector.running is False  # the login screen is not time-critical
        await app.enter_chat()
        await pilot.pause()
        assert app.collector.running is True
        assert gc.get_threshold()[2] == NEVER
    assert app.collector.running is False
    assert gc.get_threshold() == before
