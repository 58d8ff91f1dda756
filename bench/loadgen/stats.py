"""Small statistics for benchmark figures: percentiles over latency samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (``fraction`` in 0..1).

    Nearest rank never interpolates, so a p99 is a latency some delivery really had.
    """
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Delivery latency figures in milliseconds, over ``count`` deliveries."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of_microseconds(cls, samples: Sequence[int]) -> LatencySummary:
        ordered = sorted(samples)
        if not ordered:
            return cls(count=0, p50_ms=math.nan, p99_ms=math.nan, max_ms=math.nan)
        return cls(
            count=len(ordered),
            p50_ms=percentile(ordered, 0.50) / 1000,
            p99_ms=percentile(ordered, 0.99) / 1000,
            max_ms=ordered[-1] / 1000,
        )
