"""The node-wide budget of unsent output (``transport.budget``): what it counts, when it
sums, and which connections it sheds at and past its limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aronanet.transport.budget import Backlogged, OutgoingBudget


@dataclass(eq=False)
class Held:
    """A connection holding ``held`` unsent bytes."""

    held: int

    def backlog_bytes(self) -> int:
        return self.held


class Shedder:
    def __init__(self) -> None:
        self.shed: list[tuple[Backlogged, int]] = []

    def __call__(self, connection: Backlogged, held: int) -> None:
        self.shed.append((connection, held))


async def test_at_the_limit_nothing_is_shed_and_one_byte_over_the_largest_is():
    shedder = Shedder()
    budget = OutgoingBudget(1000, shedder)
    small, large = Held(400), Held(600)
    budget.backed_up(small)
    budget.backed_up(large)
    assert shedder.shed == [] and budget.counted == 2  # 1000: at the limit
    small.held = 401
    assert budget.check() == 401
    assert shedder.shed == [(large, 600)]
    assert budget.counted == 1


async def test_the_largest_go_first_until_the_rest_fit():
    shedder = Shedder()
    budget = OutgoingBudget(1000, shedder)
    connections = [Held(held) for held in (100, 700, 300, 500)]
    for connection in connections[:3]:
        budget.backed_up(connection)  # 1100 once the third joins: the 700 goes...
    assert shedder.shed == []  # ...not inside the write that reported it...
    await asyncio.sleep(0)
    assert [held for _, held in shedder.shed] == [700]  # ...but on the loop's next turn
    budget.backed_up(connections[3])  # 100 + 300 + 500: fits
    await asyncio.sleep(0)
    connections[0].held = 900  # 1700: 900 goes (800 left), then it fits
    budget.check()
    assert [held for _, held in shedder.shed] == [700, 900]


async def test_a_growing_backlog_is_found_by_the_periodic_sum():
    shedder = Shedder()
    budget = OutgoingBudget(1000, shedder, interval=0.01)
    growing = Held(100)
    budget.backed_up(growing)
    growing.held = 5000  # no callback: the transport only says when it passes its mark
    for _ in range(100):
        if shedder.shed:
            break
        await asyncio.sleep(0.01)
    assert shedder.shed == [(growing, 5000)]


async def test_a_drained_connection_is_no_longer_counted_and_the_timer_stops():
    shedder = Shedder()
    budget = OutgoingBudget(1000, shedder, interval=0.01)
    connection = Held(900)
    budget.backed_up(connection)
    budget.drained(connection)
    connection.held = 10_000
    await asyncio.sleep(0.05)
    assert shedder.shed == [] and budget.counted == 0
    assert budget._timer is None
