"""Testing load scripts with pytest: fixtures, cassettes of recorded API answers, assertions.

The fixtures (``qscript_api``, ``qscript_run``) come from :mod:`qscript.testing.plugin`,
which pytest loads through the ``pytest11`` entry point; docs/testing.md shows a complete
test. This module is the part a test imports::

    from qscript.testing import assert_table, assert_rowcount, assert_unique

Nothing in qscript imports this package: it sits on top of the public API.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from qscript.testing.assertions import (
    assert_fields,
    assert_no_synthetic_keys,
    assert_rowcount,
    assert_table,
    assert_unique,
)
from qscript.testing.cassette import Cassette, CassetteError


class FakeClock:
    """A clock for ``qscript.run(clock=...)`` that only moves when the script sleeps.

    ``SLEEP``, retry back-offs and ``Retry-After`` waits return at once and are recorded
    in :attr:`sleeps`; ``Now()`` is :attr:`current` (2024-01-31 12:00:00 unless given).
    ``monotonic()`` (seconds slept so far) times statements, so reload-log lines such as
    ``T << root 5 Lines fetched (line 3, 7.00 s)`` are exact in assertions.
    It is the one fake clock (qscript's own suite uses it too) and lives here because
    qscript.testing builds on the public API only: ``clock=`` takes any object with
    ``now()`` and ``sleep(seconds)``, and optionally ``monotonic()``.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2024, 1, 31, 12, 0, 0)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return sum(self.sleeps)


__all__ = [
    "Cassette",
    "CassetteError",
    "FakeClock",
    "assert_fields",
    "assert_no_synthetic_keys",
    "assert_rowcount",
    "assert_table",
    "assert_unique",
]
