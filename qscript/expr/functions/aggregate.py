"""Numeric and counting aggregations: Sum, Avg, Min, Max, Median, Stdev, Count and its kin.

Kernels get views over all input rows plus :class:`Groups` and return one value per group.
Every aggregation skips NULL; numeric ones also skip text that is no number. Work is done
with NumPy/pandas over the whole input (sorts, ``bincount``, ``ufunc.at``), never a Python
loop over rows. Decisions where the help is silent:

* ``Sum`` of a group without numbers is 0 (as Qlik shows ``Sum`` of nothing); ``Avg``,
  ``Min``, ``Max``, ``Median`` and ``Stdev`` give NULL.
* ``Min/Max(e, rank)``: duplicates count as separate ranks (``Max`` of 5, 5, 3 with rank 2
  is 5); with ``DISTINCT`` they do not. A rank below 1, or above the number of values, is
  NULL. The rank is read from the group's first row where it is a number.
* ``Stdev`` is the sample standard deviation (n - 1), NULL below two values.
* A value is "numeric" when it reads as a number (text such as ``'5'`` is interpreted, as
  the registry's number view does). ``DISTINCT`` compares numbers by value and other text
  by its exact characters; ``TextCount`` counts non-NULL values that are no number, and
  ``MissingCount`` those plus NULLs (help: missing values are the non-numeric ones).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qscript.expr.column import Column
from qscript.expr.registry import AGGREGATE, Groups, qlik_function

if TYPE_CHECKING:
    from qscript.expr.evaluate import EvalContext


# -- helpers shared with aggregate_text -------------------------------------------------------
def first_of_pairs(codes: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Mask of the first row of each (group, key) pair, so DISTINCT keeps one row per value."""
    if len(codes) == 0:
        return np.zeros(0, dtype=bool)
    width = int(keys.max()) + 1
    return ~pd.Series(codes.astype(np.int64) * width + keys).duplicated().to_numpy()


def number_keys(numbers: np.ndarray) -> np.ndarray:
    """Integer codes equal exactly when the numbers are (-0.0 and 0.0 are one value)."""
    return pd.factorize(numbers + 0.0)[0].astype(np.int64)


def value_keys(column: Column, ctx: EvalContext) -> tuple[np.ndarray, np.ndarray]:
    """(key, is_number) per row: equal keys are "the same value"; the key is -1 for NULL.

    Numbers match by value, other text by its characters, so ``'01'`` and ``1`` are one
    value, as they are once loaded into one Qlik field. A text-only column is read once
    per distinct text rather than once per row.
    """
    if column.num is None and column.text is not None:
        codes, uniques = pd.factorize(column.text)
        if len(uniques) == 0:
            return np.full(column.length, -1, dtype=np.int64), np.zeros(column.length, dtype=bool)
        uniques = np.asarray(uniques, dtype=object)
        numbers = Column.from_texts(uniques).numbers(ctx.settings)
        unique_keys, unique_is_number = _keys(numbers, uniques, np.zeros(len(uniques), dtype=bool))
        found = codes >= 0
        return np.where(found, unique_keys[codes], -1), found & unique_is_number[codes]
    return _keys(column.numbers(ctx.settings), column.raw_text(), column.nulls_mask())


def _keys(numbers: np.ndarray, texts: np.ndarray, nulls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    is_number = ~np.isnan(numbers)
    keys = np.full(len(numbers), -1, dtype=np.int64)
    keys[is_number] = number_keys(numbers[is_number])
    other = ~is_number & ~nulls
    if other.any():
        keys[other] = pd.factorize(texts[other])[0] + int(keys.max()) + 1
    return keys, is_number


def first_rows(groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Per group, the index of its first row where ``mask`` holds; -1 when there is none."""
    length = len(mask)
    first = np.full(groups.count, length, dtype=np.int64)
    rows = np.flatnonzero(mask)
    np.minimum.at(first, groups.codes[rows], rows)
    first[first == length] = -1
    return first


def last_rows(groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Per group, the index of its last row where ``mask`` holds; -1 when there is none."""
    last = np.full(groups.count, -1, dtype=np.int64)
    rows = np.flatnonzero(mask)
    np.maximum.at(last, groups.codes[rows], rows)
    return last


def pick(column: Column, rows: np.ndarray) -> Column:
    """The column's values at ``rows`` (one per group), NULL where the row is -1."""
    found = rows >= 0
    return column.take(rows[found]).scatter(found, len(rows))


def group_ranks(groups: Groups, rank: np.ndarray | None) -> np.ndarray:
    """The rank argument per group (first numeric row, truncated); 0 (no result) if none."""
    if rank is None:
        return np.ones(groups.count, dtype=np.int64)
    first = first_rows(groups, ~np.isnan(rank))
    out = np.zeros(groups.count, dtype=np.int64)
    found = first >= 0
    out[found] = np.trunc(rank[first[found]]).astype(np.int64)
    return out


def sorted_runs(codes: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by group: where each group's run starts, and its length."""
    starts = np.searchsorted(codes, np.arange(count))
    return starts, np.bincount(codes, minlength=count)


def numbers_in(groups: Groups, x: np.ndarray, distinct: bool) -> tuple[np.ndarray, np.ndarray]:
    """(group code, number) of the rows holding a number; DISTINCT keeps one per value."""
    keep = ~np.isnan(x)
    codes, values = groups.codes[keep], x[keep]
    if distinct and len(values):
        first = first_of_pairs(codes, number_keys(values))
        codes, values = codes[first], values[first]
    return codes, values


def _per_group(groups: Groups, codes: np.ndarray, values: np.ndarray, how: str) -> np.ndarray:
    """A pandas groupby reduction, NaN for groups with no values."""
    if len(values) == 0:
        return np.full(groups.count, np.nan)
    reduced = getattr(pd.Series(values).groupby(codes), how)()
    return reduced.reindex(range(groups.count)).to_numpy(dtype=np.float64)


# -- sums and averages --------------------------------------------------------------------------
@qlik_function("Sum", "number", kind=AGGREGATE)
def sum_(groups: Groups, x: np.ndarray, *, distinct: bool = False) -> np.ndarray:
    """0 for a group without numbers."""
    codes, values = numbers_in(groups, x, distinct)
    return np.bincount(codes, weights=values, minlength=groups.count).astype(np.float64)


@qlik_function("Avg", "number", kind=AGGREGATE)
def avg(groups: Groups, x: np.ndarray, *, distinct: bool = False) -> np.ndarray:
    codes, values = numbers_in(groups, x, distinct)
    total = np.bincount(codes, weights=values, minlength=groups.count)
    count = np.bincount(codes, minlength=groups.count)
    with np.errstate(all="ignore"):
        return np.where(count > 0, total / count, np.nan)


@qlik_function("Median", "number", kind=AGGREGATE)
def median(groups: Groups, x: np.ndarray, *, distinct: bool = False) -> np.ndarray:
    """The middle number, or the mean of the two middle ones."""
    return _per_group(groups, *numbers_in(groups, x, distinct), "median")


@qlik_function("Stdev", "number", kind=AGGREGATE)
def stdev(groups: Groups, x: np.ndarray, *, distinct: bool = False) -> np.ndarray:
    """Sample standard deviation (n - 1), NULL below two numbers."""
    return _per_group(groups, *numbers_in(groups, x, distinct), "std")


# -- Min and Max ----------------------------------------------------------------------------------
def _ranked(groups: Groups, x: np.ndarray, rank: np.ndarray | None, distinct: bool, largest: bool) -> np.ndarray:
    """The rank-th smallest (or largest) number per group; duplicates count unless DISTINCT."""
    codes, values = numbers_in(groups, x, distinct)
    ranks = group_ranks(groups, rank)
    out = np.full(groups.count, np.nan)
    if len(values) == 0:
        return out
    if (ranks == 1).all():
        best = np.full(groups.count, -np.inf if largest else np.inf)
        (np.maximum if largest else np.minimum).at(best, codes, values)
        has = np.bincount(codes, minlength=groups.count) > 0
        out[has] = best[has]
        return out
    order = np.lexsort((-values if largest else values, codes))
    starts, counts = sorted_runs(codes[order], groups.count)
    ok = (ranks >= 1) & (ranks <= counts)
    out[ok] = values[order][starts[ok] + ranks[ok] - 1]
    return out


@qlik_function("Min", "number number?", kind=AGGREGATE)
def min_(groups: Groups, x: np.ndarray, rank: np.ndarray | None = None, *, distinct: bool = False) -> np.ndarray:
    return _ranked(groups, x, rank, distinct, largest=False)


@qlik_function("Max", "number number?", kind=AGGREGATE)
def max_(groups: Groups, x: np.ndarray, rank: np.ndarray | None = None, *, distinct: bool = False) -> np.ndarray:
    return _ranked(groups, x, rank, distinct, largest=True)


# -- counting ---------------------------------------------------------------------------------------
def _count(groups: Groups, mask: np.ndarray, keys: np.ndarray | None, distinct: bool) -> np.ndarray:
    """Rows per group where ``mask`` holds; with DISTINCT, distinct ``keys`` among them."""
    codes = groups.codes[mask]
    if distinct and keys is not None and len(codes):
        codes = codes[first_of_pairs(codes, keys[mask])]
    return np.bincount(codes, minlength=groups.count).astype(np.float64)


@qlik_function("Count", "any", kind=AGGREGATE, context=True)
def count(ctx: EvalContext, groups: Groups, value: Column | None, *, distinct: bool = False) -> np.ndarray:
    """Non-NULL values, text included; ``Count(*)`` (a None view) counts rows."""
    if value is None:
        return np.bincount(groups.codes, minlength=groups.count).astype(np.float64)
    if not distinct:
        return _count(groups, ~value.nulls_mask(), None, distinct)
    keys, _ = value_keys(value, ctx)
    return _count(groups, keys >= 0, keys, distinct)


@qlik_function("NumericCount", "any", kind=AGGREGATE, context=True)
def numeric_count(ctx: EvalContext, groups: Groups, value: Column, *, distinct: bool = False) -> np.ndarray:
    keys, is_number = value_keys(value, ctx)
    return _count(groups, is_number, keys, distinct)


@qlik_function("TextCount", "any", kind=AGGREGATE, context=True)
def text_count(ctx: EvalContext, groups: Groups, value: Column, *, distinct: bool = False) -> np.ndarray:
    """Non-NULL values that are no number."""
    keys, is_number = value_keys(value, ctx)
    return _count(groups, (keys >= 0) & ~is_number, keys, distinct)


@qlik_function("NullCount", "any", kind=AGGREGATE)
def null_count(groups: Groups, value: Column, *, distinct: bool = False) -> np.ndarray:
    """With DISTINCT, all NULLs are one value: 1 if the group has any."""
    nulls = value.nulls_mask()
    return _count(groups, nulls, np.zeros(len(nulls), dtype=np.int64), distinct)


@qlik_function("MissingCount", "any", kind=AGGREGATE, context=True)
def missing_count(ctx: EvalContext, groups: Groups, value: Column, *, distinct: bool = False) -> np.ndarray:
    """Values that are no number: text and NULL (NULL counts as one value under DISTINCT)."""
    keys, is_number = value_keys(value, ctx)
    return _count(groups, ~is_number, keys + 1, distinct)
