"""Aggregations that return a value of the group (text, number or dual) and Concat.

Only, Mode, FirstValue, LastValue, MinString, MaxString and FirstSortedValue hand back the
chosen input value as it is (a date stays a dual); NULLs are skipped throughout. Decisions
where the help is silent or unverified:

* "The same value" means the same number, or for text that is no number the same text
  (see :func:`value_keys`); ``Only`` and ``Mode`` return the value's first occurrence.
* Texts compare by code point, as the relational operators do (Qlik uses the collation
  locale; unverified). MinString/MaxString compare the text each value shows, numbers
  included, and return that value.
* ``FirstSortedValue`` skips rows whose value or weight is NULL (or whose weight is no
  number). Rank n is the n-th row in weight order; NULL when another row shares its weight,
  even with the same value (help example: two AA at 16 give NULL unless DISTINCT).
* ``Concat`` sorts by sort weight then text, or by text alone without a weight (so a
  constant weight also sorts by text; the help's "0 means unsorted" is not followed).
  Rows with a NULL weight come last. DISTINCT keeps a text once, at its lowest weight. The
  delimiter is the group's first non-NULL one. A group with no text gives NULL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qscript.expr.column import Column
from qscript.expr.functions.aggregate import (
    first_of_pairs,
    first_rows,
    group_ranks,
    last_rows,
    number_keys,
    pick,
    sorted_runs,
    value_keys,
)
from qscript.expr.registry import AGGREGATE, Groups, qlik_function

if TYPE_CHECKING:
    from qscript.expr.evaluate import EvalContext


@qlik_function("Only", "any", kind=AGGREGATE, context=True)
def only(ctx: EvalContext, groups: Groups, value: Column, *, distinct: bool = False) -> Column:
    """The group's one distinct value; NULL when it has several or none."""
    keys, _ = value_keys(value, ctx)
    rows = np.flatnonzero(keys >= 0)
    low = np.full(groups.count, np.iinfo(np.int64).max)
    high = np.full(groups.count, -1, dtype=np.int64)
    np.minimum.at(low, groups.codes[rows], keys[rows])
    np.maximum.at(high, groups.codes[rows], keys[rows])
    first = first_rows(groups, keys >= 0)
    return pick(value, np.where(low == high, first, -1))


@qlik_function("Mode", "any", kind=AGGREGATE, context=True)
def mode(ctx: EvalContext, groups: Groups, value: Column, *, distinct: bool = False) -> Column:
    """The most frequent value; NULL when several share the highest count."""
    keys, _ = value_keys(value, ctx)
    rows = np.flatnonzero(keys >= 0)
    out = np.full(groups.count, -1, dtype=np.int64)
    if len(rows) == 0:
        return pick(value, out)
    width = int(keys.max()) + 1
    pairs, first, counts = np.unique(groups.codes[rows] * width + keys[rows], return_index=True, return_counts=True)
    owner = pairs // width
    best = np.zeros(groups.count, dtype=np.int64)
    np.maximum.at(best, owner, counts)
    top = counts == best[owner]
    alone = np.bincount(owner[top], minlength=groups.count) == 1
    chosen = top & alone[owner]
    out[owner[chosen]] = rows[first[chosen]]
    return pick(value, out)


@qlik_function("FirstValue", "any", kind=AGGREGATE)
def first_value(groups: Groups, value: Column, *, distinct: bool = False) -> Column:
    """The first non-NULL value in load order."""
    return pick(value, first_rows(groups, ~value.nulls_mask()))


@qlik_function("LastValue", "any", kind=AGGREGATE)
def last_value(groups: Groups, value: Column, *, distinct: bool = False) -> Column:
    """The last non-NULL value in load order."""
    return pick(value, last_rows(groups, ~value.nulls_mask()))


def _extreme_text(ctx: EvalContext, groups: Groups, value: Column, largest: bool) -> Column:
    """The value whose text sorts first (or last) in each group; its first occurrence."""
    order, _ = pd.factorize(value.texts(ctx.settings), sort=True)
    order = order.astype(np.int64)
    valid = order >= 0
    rows = np.flatnonzero(valid)
    best = np.full(groups.count, -1 if largest else np.iinfo(np.int64).max, dtype=np.int64)
    (np.maximum if largest else np.minimum).at(best, groups.codes[rows], order[rows])
    hit = valid & (order == best[groups.codes])
    return pick(value, first_rows(groups, hit))


@qlik_function("MinString", "any", kind=AGGREGATE, context=True)
def min_string(ctx: EvalContext, groups: Groups, value: Column, *, distinct: bool = False) -> Column:
    return _extreme_text(ctx, groups, value, largest=False)


@qlik_function("MaxString", "any", kind=AGGREGATE, context=True)
def max_string(ctx: EvalContext, groups: Groups, value: Column, *, distinct: bool = False) -> Column:
    return _extreme_text(ctx, groups, value, largest=True)


@qlik_function("FirstSortedValue", "any number number?", kind=AGGREGATE, context=True)
def first_sorted_value(
    ctx: EvalContext,
    groups: Groups,
    value: Column,
    weight: np.ndarray,
    rank: np.ndarray | None = None,
    *,
    distinct: bool = False,
) -> Column:
    """The value with the rank-th smallest weight (negate the weight for the largest)."""
    keys, _ = value_keys(value, ctx)
    rows = np.flatnonzero((keys >= 0) & ~np.isnan(weight))
    if distinct and len(rows):
        pair = pd.factorize(keys[rows] * (len(value) + 1) + number_keys(weight[rows]))[0]
        rows = rows[first_of_pairs(groups.codes[rows], pair.astype(np.int64))]
    ranks = group_ranks(groups, rank)
    out = np.full(groups.count, -1, dtype=np.int64)
    if len(rows) == 0:
        return pick(value, out)
    rows = rows[np.lexsort((weight[rows], groups.codes[rows]))]
    weights = weight[rows]
    starts, counts = sorted_runs(groups.codes[rows], groups.count)
    ok = (ranks >= 1) & (ranks <= counts)
    at = starts[ok] + ranks[ok] - 1
    tied_before = (ranks[ok] > 1) & (weights[np.maximum(at - 1, 0)] == weights[at])
    tied_after = (ranks[ok] < counts[ok]) & (weights[np.minimum(at + 1, len(rows) - 1)] == weights[at])
    out[np.flatnonzero(ok)] = np.where(tied_before | tied_after, -1, rows[at])
    return pick(value, out)


@qlik_function("Concat", "text text? number?", kind=AGGREGATE)
def concat(
    groups: Groups,
    text: np.ndarray,
    delimiter: np.ndarray | None = None,
    weight: np.ndarray | None = None,
    *,
    distinct: bool = False,
) -> np.ndarray:
    """Joins the group's texts with the delimiter, sorted by weight then text, or by text."""
    out = np.full(groups.count, None, dtype=object)
    rows = np.flatnonzero(~np.equal(text, None))
    if len(rows) == 0:
        return out
    by_text, _ = pd.factorize(text[rows], sort=True)
    by_text = by_text.astype(np.int64)
    codes = groups.codes[rows]
    sort_keys = (by_text, codes) if weight is None else (by_text, weight[rows], codes)
    order = np.lexsort(sort_keys)
    rows, codes, by_text = rows[order], codes[order], by_text[order]
    if distinct:
        keep = first_of_pairs(codes, by_text)
        rows, codes = rows[keep], codes[keep]
    starts, counts = sorted_runs(codes, groups.count)
    pieces = text[rows].tolist()
    delimiters = _group_delimiters(groups, delimiter)
    for group in np.flatnonzero(counts).tolist():
        start = int(starts[group])
        out[group] = delimiters[group].join(pieces[start : start + int(counts[group])])
    return out


def _group_delimiters(groups: Groups, delimiter: np.ndarray | None) -> list[str]:
    """Each group's first non-NULL delimiter, '' when it has none."""
    if delimiter is None:
        return [""] * groups.count
    first = first_rows(groups, ~np.equal(delimiter, None))
    return [delimiter[row] if row >= 0 else "" for row in first.tolist()]
