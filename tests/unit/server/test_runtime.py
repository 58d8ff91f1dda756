"""The node's interpreter settings, in a child interpreter (the collector is process-wide)."""

from __future__ import annotations

import subprocess
import sys

from aronanet.server.runtime import GC_YOUNG_THRESHOLD

_PROBE = """
import gc
from aronanet.server.runtime import settle_garbage_collector
before = gc.get_threshold()
settle_garbage_collector()
print(gc.get_freeze_count() > 0, *gc.get_threshold(), *before[1:])
"""


def test_after_the_start_the_heap_is_frozen_and_the_young_collected_less_often() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    frozen, young, middle, old, middle_before, old_before = out
    assert frozen == "True"
    assert int(young) == GC_YOUNG_THRESHOLD > 700  # CPython's default
    assert (middle, old) == (middle_before, old_before)  # the older generations unchanged
