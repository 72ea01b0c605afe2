"""Conditional and NULL functions: If, Alt, Coalesce, Pick, IsNull, IsNum, IsText, Match ...

The Range functions (numeric.py) reuse `pick_cells` to return an argument's own value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qscript.expr.column import Column
from qscript.expr.operators import from_mask, truth, wildcard_regex
from qscript.expr.registry import RAW, qlik_function


@qlik_function("If", "any any any?", nulls=RAW, context=True)
def if_(ctx, condition: Column, then: Column, otherwise: Column | None = None) -> Column:
    """``If(c, a [, b])``: a NULL condition takes the else branch; no else gives NULL."""
    otherwise = otherwise if otherwise is not None else Column.nulls(ctx.length)
    return Column.choose(truth(condition, ctx.settings), then, otherwise)


@qlik_function("Alt", "any any*", nulls=RAW, context=True)
def alt(ctx, *candidates: Column) -> Column:
    """The first argument with a valid number, else the last argument as it is."""
    result = candidates[-1]
    for candidate in reversed(candidates[:-1]):
        has_number = ~np.isnan(candidate.numbers(ctx.settings))
        result = Column.choose(has_number, candidate, result)
    return result


@qlik_function("IsNull", "any", nulls=RAW)
def is_null(value: Column) -> Column:
    return from_mask(value.nulls_mask())


@qlik_function("Null", "", nulls=RAW, context=True)
def null(ctx) -> Column:
    return Column.nulls(ctx.length)


@qlik_function("True", "", nulls=RAW, context=True)
def true(ctx) -> Column:
    return Column.constant(-1.0, ctx.length)


@qlik_function("False", "", nulls=RAW, context=True)
def false(ctx) -> Column:
    return Column.constant(0.0, ctx.length)


# -- choosing among arguments ------------------------------------------------------------------
def pick_cells(columns: tuple[Column, ...] | list[Column], index: np.ndarray) -> Column:
    """Row i is ``columns[index[i]]``'s cell, NULL where the index is -1.

    Values keep their text, number and kind (a date picked from a date column stays one).
    """
    length = len(index)
    has_text = any(c.text is not None for c in columns)
    has_num = any(c.num is not None for c in columns)
    text = np.empty(length, dtype=object) if has_text else None
    num = np.full(length, np.nan) if has_num else None
    kinds = set()
    for j, column in enumerate(columns):
        rows = index == j
        if not rows.any():
            continue
        kinds.add(column.kind)
        if text is not None and column.text is not None:
            text[rows] = column.text[rows]
        if num is not None and column.num is not None:
            num[rows] = column.num[rows]
    return Column(text, num, length, kinds.pop() if len(kinds) == 1 else None)


@qlik_function("Coalesce", "any any*", nulls=RAW)
def coalesce(*candidates: Column) -> Column:
    """The first argument that is not NULL ('' is not NULL, so it is returned)."""
    index = np.full(len(candidates[0]), -1)
    for j in range(len(candidates) - 1, -1, -1):
        index[~candidates[j].nulls_mask()] = j
    return pick_cells(candidates, index)


@qlik_function("Pick", "number any any*", nulls=RAW)
def pick(n: np.ndarray, *choices: Column) -> Column:
    """The n-th choice (1-based, fraction dropped); NULL when n is NULL or out of range."""
    with np.errstate(invalid="ignore"):
        k = np.floor(n)
        valid = (k >= 1) & (k <= len(choices))
    index = np.where(valid, np.nan_to_num(k) - 1, -1).astype(np.int64)
    return pick_cells(choices, index)


@qlik_function("EmptyIsNull", "any", nulls=RAW)
def empty_is_null(value: Column) -> Column:
    """NULL for the empty text, any other value unchanged (numbers are never empty)."""
    if value.text is None:
        return value
    empty = np.equal(value.text, "") & np.isnan(value.raw_num())
    return Column.choose(empty, Column.nulls(len(value)), value) if empty.any() else value


@qlik_function("IsNum", "any", nulls=RAW, context=True)
def is_num(ctx, value: Column) -> Column:
    """-1 when the value has a number: numbers, duals and text that reads as a number."""
    return from_mask(~np.isnan(value.numbers(ctx.settings)))


@qlik_function("IsText", "any", nulls=RAW, context=True)
def is_text(ctx, value: Column) -> Column:
    """-1 for text that has no number; 0 for numbers, duals, number-like text and NULL.

    So every non-NULL value is exactly one of IsNum and IsText.
    """
    return from_mask(np.isnan(value.numbers(ctx.settings)) & ~value.nulls_mask())


def _match_index(
    subject: np.ndarray, candidates: list[np.ndarray], equal: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """1-based position of the first candidate equal to the subject, 0 for none."""
    result = np.zeros(len(subject))
    for j in range(len(candidates) - 1, -1, -1):
        hit = equal(subject, candidates[j])
        result[hit] = j + 1
    result[np.equal(subject, None)] = np.nan
    return result


def _exact(subject: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    return np.equal(subject, candidate) & ~np.equal(candidate, None)


def _lower(texts: np.ndarray) -> np.ndarray:
    out = np.empty(len(texts), dtype=object)
    out[:] = [None if t is None else t.lower() for t in texts]
    return out


def _wild(subject: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Rows whose text matches their pattern (``*``, ``?``; case-insensitive)."""
    if len(pattern) and pattern[0] is not None and np.equal(pattern, pattern[0]).all():
        rx = wildcard_regex(pattern[0])
        return np.array([s is not None and rx.fullmatch(s) is not None for s in subject], dtype=bool)
    return np.array(
        [s is not None and p is not None and wildcard_regex(p).fullmatch(s) is not None
         for s, p in zip(subject, pattern, strict=True)],
        dtype=bool,
    )


@qlik_function("Match", "text any any*", nulls=RAW, context=True)
def match(ctx, subject: np.ndarray, *candidates: Column) -> np.ndarray:
    """Position of the first candidate with the same text, case-sensitive; 0 for none.

    Values compare by their text ('1.0' does not match 1); NULL candidates match nothing
    and a NULL subject gives NULL.
    """
    return _match_index(subject, [c.texts(ctx.settings) for c in candidates], _exact)


@qlik_function("MixMatch", "text any any*", nulls=RAW, context=True)
def mix_match(ctx, subject: np.ndarray, *candidates: Column) -> np.ndarray:
    """Match() ignoring case."""
    lowered = [_lower(c.texts(ctx.settings)) for c in candidates]
    return _match_index(_lower(subject), lowered, _exact)


@qlik_function("WildMatch", "text any any*", nulls=RAW, context=True)
def wild_match(ctx, subject: np.ndarray, *candidates: Column) -> np.ndarray:
    """Match() ignoring case, with ``*`` (any run) and ``?`` (one character) in candidates."""
    return _match_index(subject, [c.texts(ctx.settings) for c in candidates], _wild)
