"""Numeric functions: Floor, Ceil, Round, Div, Mod, Fmod, Frac, Sqrt, Log ... and the Range family.

Rounding works on the quotient ``(x - offset) / step`` after removing float noise at
1e-9 relative precision, so ``Floor(0.3, 0.1)`` is 0.3 as a user expects, not 0.2.
"""

from __future__ import annotations

import numpy as np

from qscript.expr.column import Column
from qscript.expr.functions.conditional import pick_cells
from qscript.expr.registry import RAW, qlik_function


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


def _finite(values: np.ndarray) -> np.ndarray:
    """Qlik has no infinities or NaN: out-of-range results are NULL."""
    return np.where(np.isfinite(values), values, np.nan)


@qlik_function("Fmod", "number number")
def fmod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Remainder with the sign of a (``Fmod(-4, 3) = -1``); reals allowed; NULL when b is 0."""
    with np.errstate(all="ignore"):
        return _finite(np.fmod(a, b))


@qlik_function("Frac", "number")
def frac(x: np.ndarray) -> np.ndarray:
    """Fraction defined so that Frac(x) + Floor(x) = x: ``Frac(-1.4) = 0.6``."""
    return x - np.floor(x)


@qlik_function("Sign", "number")
def sign(x: np.ndarray) -> np.ndarray:
    return np.sign(x)


@qlik_function("Sqrt", "number")
def sqrt(x: np.ndarray) -> np.ndarray:
    """NULL for negative x (outside the function's domain)."""
    with np.errstate(all="ignore"):
        return _finite(np.sqrt(x))


@qlik_function("Exp", "number")
def exp(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return _finite(np.exp(x))


@qlik_function("Log", "number")
def log(x: np.ndarray) -> np.ndarray:
    """Natural logarithm; NULL for x <= 0."""
    with np.errstate(all="ignore"):
        return _finite(np.log(x))


@qlik_function("Log10", "number")
def log10(x: np.ndarray) -> np.ndarray:
    """NULL for x <= 0."""
    with np.errstate(all="ignore"):
        return _finite(np.log10(x))


@qlik_function("Pow", "number number")
def pow_(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x to the power y; NULL where undefined (``Pow(-8, 1/3)``, ``Pow(0, -1)``)."""
    with np.errstate(all="ignore"):
        return _finite(np.power(x, y))


@qlik_function("Rand", "", context=True)
def rand(ctx) -> np.ndarray:
    """A uniform random number in [0, 1), a new one for every row."""
    return _RNG.random(ctx.length)


_RNG = np.random.default_rng()


# -- Range functions -----------------------------------------------------------------------------
# Each works per row across its arguments (RAW: NULLs arrive). A value is numeric when it
# has a number (numbers, duals, text that reads as a number); NULL and other text are not.
def _numbers(ctx, columns: tuple[Column, ...]) -> np.ndarray:
    """The arguments' numbers as a (rows, arguments) matrix, NaN where a cell has none."""
    return np.column_stack([c.numbers(ctx.settings) for c in columns])


def _counts(mask: np.ndarray) -> np.ndarray:
    return mask.sum(axis=1).astype(np.float64)


@qlik_function("RangeSum", "any any*", nulls=RAW, context=True)
def range_sum(ctx, *columns: Column) -> np.ndarray:
    """Sum of the numeric values; non-numeric values count as 0, so never NULL."""
    return np.nansum(_numbers(ctx, columns), axis=1)


@qlik_function("RangeAvg", "any any*", nulls=RAW, context=True)
def range_avg(ctx, *columns: Column) -> np.ndarray:
    """Average of the numeric values; NULL when there is none."""
    numbers = _numbers(ctx, columns)
    count = _counts(~np.isnan(numbers))
    with np.errstate(all="ignore"):
        return np.where(count > 0, np.nansum(numbers, axis=1) / count, np.nan)


@qlik_function("RangeCount", "any any*", nulls=RAW)
def range_count(*columns: Column) -> np.ndarray:
    """Number of values that are not NULL, text and numbers alike (Qlik's definition)."""
    return _counts(~np.column_stack([c.nulls_mask() for c in columns]))


@qlik_function("RangeNumericCount", "any any*", nulls=RAW, context=True)
def range_numeric_count(ctx, *columns: Column) -> np.ndarray:
    return _counts(~np.isnan(_numbers(ctx, columns)))


@qlik_function("RangeTextCount", "any any*", nulls=RAW, context=True)
def range_text_count(ctx, *columns: Column) -> np.ndarray:
    """Number of values that are text without a number (NULLs and duals do not count)."""
    nulls = np.column_stack([c.nulls_mask() for c in columns])
    return _counts(np.isnan(_numbers(ctx, columns)) & ~nulls)


@qlik_function("RangeNullCount", "any any*", nulls=RAW)
def range_null_count(*columns: Column) -> np.ndarray:
    return _counts(np.column_stack([c.nulls_mask() for c in columns]))


@qlik_function("RangeMissingCount", "any any*", nulls=RAW, context=True)
def range_missing_count(ctx, *columns: Column) -> np.ndarray:
    """Number of values that are not numeric, NULLs included."""
    return _counts(np.isnan(_numbers(ctx, columns)))


@qlik_function("RangeMin", "any any*", nulls=RAW, context=True)
def range_min(ctx, *columns: Column) -> np.ndarray:
    """Lowest numeric value; NULL when there is none."""
    return np.fmin.reduce(_numbers(ctx, columns), axis=1)


@qlik_function("RangeMax", "any any*", nulls=RAW, context=True)
def range_max(ctx, *columns: Column) -> np.ndarray:
    """Highest numeric value; NULL when there is none."""
    return np.fmax.reduce(_numbers(ctx, columns), axis=1)


@qlik_function("RangeStdev", "any any*", nulls=RAW, context=True)
def range_stdev(ctx, *columns: Column) -> np.ndarray:
    """Sample standard deviation (n - 1) of the numeric values; NULL for fewer than two."""
    numbers = _numbers(ctx, columns)
    count = _counts(~np.isnan(numbers))
    with np.errstate(all="ignore"):
        mean = np.nansum(numbers, axis=1) / count
        squares = np.nansum((numbers - mean[:, None]) ** 2, axis=1)
        return np.where(count > 1, np.sqrt(squares / (count - 1)), np.nan)


@qlik_function("RangeFractile", "number any any*", nulls=RAW, context=True)
def range_fractile(ctx, fractile: np.ndarray, *columns: Column) -> np.ndarray:
    """The fractile (0-1) of the numeric values, interpolating linearly between ranks.

    ``RangeFractile(0.24, 1, 2, 4, 6) = 1.72``. NULL for no numeric value or a fractile
    outside 0-1.
    """
    ordered = np.sort(_numbers(ctx, columns), axis=1)  # NaN sorts last
    count = (~np.isnan(ordered)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        valid = (count > 0) & (fractile >= 0) & (fractile <= 1)
    position = np.where(valid, fractile, 0) * np.maximum(count - 1, 0)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    a = np.take_along_axis(ordered, low[:, None], axis=1)[:, 0]
    b = np.take_along_axis(ordered, high[:, None], axis=1)[:, 0]
    return np.where(valid, a + (b - a) * (position - low), np.nan)


def _keys(ctx, columns: tuple[Column, ...]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per argument: value identities (the number if any, else the text) and validity.

    When every value has a number the identities are the float numbers (fast compares).
    """
    numbers = [c.numbers(ctx.settings) for c in columns]
    valid = [~c.nulls_mask() for c in columns]
    if not any((np.isnan(n) & v).any() for n, v in zip(numbers, valid, strict=True)):
        return numbers, valid
    keys = []
    for column, number in zip(columns, numbers, strict=True):
        key = column.texts(ctx.settings).copy()
        has_number = ~np.isnan(number)
        key[has_number] = number[has_number]
        keys.append(key)
    return keys, valid


def _equal_counts(ctx, columns: tuple[Column, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, args) counts of how many arguments equal each argument (0 for NULL cells)."""
    keys, valid = _keys(ctx, columns)
    counts = np.zeros((len(columns[0]), len(columns)))
    for i in range(len(columns)):
        for j in range(len(columns)):
            counts[:, i] += valid[i] & valid[j] & np.equal(keys[i], keys[j])
    return counts, np.column_stack(valid)


@qlik_function("RangeMode", "any any*", nulls=RAW, context=True)
def range_mode(ctx, *columns: Column) -> Column:
    """The most frequent value (as given: text, number or dual); NULL on a tie or no value."""
    counts, _ = _equal_counts(ctx, columns)
    top = counts.max(axis=1)
    unique = (counts == top[:, None]).sum(axis=1) == top  # cells at the top are one value
    index = np.where((top > 0) & unique, counts.argmax(axis=1), -1)
    return pick_cells(columns, index)


@qlik_function("RangeOnly", "any any*", nulls=RAW, context=True)
def range_only(ctx, *columns: Column) -> Column:
    """The value when all non-NULL arguments are one value, else NULL."""
    counts, valid = _equal_counts(ctx, columns)
    present = valid.sum(axis=1)
    index = np.where((present > 0) & (counts.max(axis=1) == present), valid.argmax(axis=1), -1)
    return pick_cells(columns, index)


def _string_extreme(ctx, columns: tuple[Column, ...], last: bool) -> Column:
    """The argument first/last in text order (code points), skipping NULLs."""
    length = len(columns[0])
    best = np.empty(length, dtype=object)
    index = np.full(length, -1)
    for j, column in enumerate(columns):
        texts = column.texts(ctx.settings)
        present = ~np.equal(texts, None)
        empty = present & (index < 0)
        both = np.flatnonzero(present & (index >= 0))
        better = np.greater(texts[both], best[both]) if last else np.less(texts[both], best[both])
        take = empty.copy()
        take[both[better.astype(bool)]] = True
        best[take] = texts[take]
        index[take] = j
    return pick_cells(columns, index)


@qlik_function("RangeMinString", "any any*", nulls=RAW, context=True)
def range_min_string(ctx, *columns: Column) -> Column:
    return _string_extreme(ctx, columns, last=False)


@qlik_function("RangeMaxString", "any any*", nulls=RAW, context=True)
def range_max_string(ctx, *columns: Column) -> Column:
    return _string_extreme(ctx, columns, last=True)
