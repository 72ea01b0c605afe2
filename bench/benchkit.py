"""Timing helpers the benchmarks share: best-of-N wall time, and peak memory traced apart."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs and the last result (no tracing: it slows Python)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated (Python and NumPy) during one more run, traced."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak
