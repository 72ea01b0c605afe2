"""Time for the interpreter: the wall clock, or any object with the same methods.

Tests pass ``qscript.testing.FakeClock``, which only moves when slept, so nothing waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Local time, naive (Qlik's Now() in desktop products is local time)."""

    def sleep(self, seconds: float) -> None: ...

    # Optional: ``monotonic() -> float`` (seconds) times statements for the reload log; a
    # clock without it is timed with ``time.perf_counter`` (see ``timer_of``).


class SystemClock:
    def now(self) -> datetime:
        return datetime.now()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def monotonic(self) -> float:
        return time.perf_counter()


def timer_of(clock: Clock) -> Callable[[], float]:
    """The clock's ``monotonic`` if it has one, else the real ``time.perf_counter``.

    ``clock=`` is public and promises only ``now()`` and ``sleep()``; timing must not make
    older clocks fail.
    """
    timer = getattr(clock, "monotonic", None)
    return timer if callable(timer) else time.perf_counter
