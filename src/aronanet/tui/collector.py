"""Python's cyclic garbage collector, paced so that its long pauses fall between key presses.

A full collection walks every object the process holds: the modules, classes and functions
of Python and Textual (about 80,000 objects once the chat is up) plus the scrollback. On the
benchmark machine that is a 25-45 ms pause, and CPython starts one whenever enough objects
have survived long enough, which a busy channel makes happen every second or two. Landing
on a frame that echoes a key press, it alone breaks the 50 ms target.

``CollectorPacer`` therefore, while the chat is open:

* freezes the heap once the chat is up (``gc.freeze``): what exists then lives as long as
  the app, and a frozen object is never walked again (reference counting still frees it);
* turns off automatic *full* collections (a generation-2 threshold nobody reaches), keeping
  the cheap young-generation ones as they are;
* runs the full collection itself, from ``tick``, once the user has not pressed a key or
  moved the mouse for ``quiet`` seconds and the last one is ``every`` seconds old.

``stop`` puts everything back (thresholds, frozen objects), so that tests running many apps
in one process leave the collector as they found it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

#: A generation-2 threshold that is never reached: no automatic full collection.
NEVER = 2**31 - 1


class CollectorPacer:
    """Full collections only in the user's pauses; see the module docstring for why."""

    def __init__(
        self, clock: Callable[[], float], *, quiet: float = 1.0, every: float = 30.0
    ) -> None:
        self._clock = clock
        self.quiet = quiet
        self.every = every
        self._saved: tuple[int, int, int] | None = None
        self._last_input = 0.0
        self._last_full = 0.0
        self.full_collections = 0  # run by tick; for tests and the benchmark

    @property
    def running(self) -> bool:
        return self._saved is not None

    def start(self) -> None:
        """Collect the garbage of start-up, freeze what remains, take over full collections."""
        if self._saved is not None:
            return
        gc.collect()  # so that no garbage of the login screens is frozen
        gc.freeze()
        self._saved = gc.get_threshold()
        young, middle, _ = self._saved
        gc.set_threshold(young, middle, NEVER)
        self._last_full = self._last_input = self._clock()

    def user_active(self) -> None:
        """A key press or a mouse event: no full collection for the next ``quiet`` seconds."""
        self._last_input = self._clock()

    def tick(self) -> bool:
        """Run a full collection if the user is quiet and one is due; True when it ran."""
        if self._saved is None:
            return False
        now = self._clock()
        if now - self._last_input < self.quiet or now - self._last_full < self.every:
            return False
        gc.collect()
        self._last_full = now
        self.full_collections += 1
        return True

    def stop(self) -> None:
        """Give the collector back its own thresholds and the frozen objects."""
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        self._saved = None
        gc.unfreeze()
