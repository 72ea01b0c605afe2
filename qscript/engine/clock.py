"""Time for the interpreter: the wall clock, or a fake one so tests never sleep."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Local time, naive (Qlik's Now() in desktop products is local time)."""

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """A clock that only moves when slept; records every sleep."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2024, 1, 31, 12, 0, 0)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)
