"""Numeric functions: Floor, Ceil, Round, Div, Mod, Fabs.

Rounding works on the quotient ``(x - offset) / step`` after removing float noise at
1e-9 relative precision, so ``Floor(0.3, 0.1)`` is 0.3 as a user expects, not 0.2.
"""

from __future__ import annotations

import numpy as np

from qscript.expr.registry import qlik_function


def _quotient(x: np.ndarray, step: np.ndarray | None, offset: np.ndarray | None) -> tuple:
    step = np.ones_like(x) if step is None else step
    offset = np.zeros_like(x) if offset is None else offset
    with np.errstate(all="ignore"):
        q = (x - offset) / step
    q = np.where(np.isfinite(q), np.round(q, 9), np.nan)
    return q, step, offset


def _rebuild(q: np.ndarray, step: np.ndarray, offset: np.ndarray) -> np.ndarray:
    out = q * step + offset
    out[step == 0] = np.nan
    return out


@qlik_function("Floor", "number number? number?")
def floor(x, step=None, offset=None):
    q, step, offset = _quotient(x, step, offset)
    return _rebuild(np.floor(q), step, offset)


@qlik_function("Ceil", "number number? number?")
def ceil(x, step=None, offset=None):
    q, step, offset = _quotient(x, step, offset)
    return _rebuild(np.ceil(q), step, offset)


@qlik_function("Round", "number number? number?")
def round_(x, step=None, offset=None):
    """Rounds half up (``Round(2.5) = 3``, ``Round(-2.5) = -2``), never to even."""
    q, step, offset = _quotient(x, step, offset)
    return _rebuild(np.floor(q + 0.5), step, offset)


@qlik_function("Div", "number number")
def div(a, b):
    """Integer part of a/b; NULL when b is 0."""
    with np.errstate(all="ignore"):
        out = np.trunc(a / b)
    out[b == 0] = np.nan
    return out


@qlik_function("Mod", "number number")
def mod(a, b):
    """Non-negative remainder of integers (``Mod(-4, 3) = 2``); NULL for non-integers or b <= 0."""
    valid = (a == np.trunc(a)) & (b == np.trunc(b)) & (b > 0)
    out = np.full(len(a), np.nan)
    out[valid] = np.mod(a[valid], b[valid])
    return out


@qlik_function("Fabs", "number")
def fabs(x):
    return np.abs(x)
