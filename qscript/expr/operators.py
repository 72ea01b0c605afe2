"""Qlik's operators over columns, with its NULL rules (help "Propagation of NULL values").

* ``+ - * /``: NULL (or text that is no number) on either side gives NULL; ``x/0`` is NULL.
* ``&``: NULL counts as empty text, so ``'a' & NULL`` is ``'a'``; both NULL gives NULL.
* relational: numeric when both sides read as numbers, else text (case-sensitive, by code
  point); ``NULL op NULL`` is NULL, ``A <> NULL`` is true, the others with one NULL false.
* ``LIKE``: ``*`` and ``?`` wildcards, case-insensitive.
* ``AND OR XOR NOT``: a non-zero number is true; NULL and non-numeric text are false.
  Results are -1 (true) and 0 (false).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings

_ARITHMETIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
}
_COMPARE = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "PRECEDES": operator.lt,
    "FOLLOWS": operator.gt,
}


def truth(column: Column, settings: FormatSettings) -> np.ndarray:
    """Boolean mask of the rows Qlik treats as true."""
    with np.errstate(invalid="ignore"):
        numbers = column.numbers(settings)
        return ~np.isnan(numbers) & (numbers != 0)


def from_mask(mask: np.ndarray) -> Column:
    """-1/0 column from a boolean mask."""
    return Column.from_numbers(np.where(mask, -1.0, 0.0))


def binary(op: str, left: Column, right: Column, settings: FormatSettings) -> Column:
    """Apply binary operator ``op`` (upper-case, as the parser gives it)."""
    if op in _ARITHMETIC:
        with np.errstate(all="ignore"):
            return Column.from_numbers(_ARITHMETIC[op](left.numbers(settings), right.numbers(settings)))
    if op == "/":
        return _divide(left, right, settings)
    if op == "&":
        return concatenate(left, right, settings)
    if op in _COMPARE:
        return _compare(op, left, right, settings)
    if op == "LIKE":
        return _like(left, right, settings)
    a, b = truth(left, settings), truth(right, settings)
    if op == "AND":
        return from_mask(a & b)
    if op == "OR":
        return from_mask(a | b)
    if op == "XOR":
        return from_mask(a ^ b)
    raise ValueError(f"unknown operator {op}")


def unary(op: str, operand: Column, settings: FormatSettings) -> Column:
    if op == "-":
        return Column.from_numbers(-operand.numbers(settings))
    if op == "+":
        return Column.from_numbers(operand.numbers(settings))
    if op == "NOT":
        return from_mask(~truth(operand, settings))
    raise ValueError(f"unknown operator {op}")


def _divide(left: Column, right: Column, settings: FormatSettings) -> Column:
    a, b = left.numbers(settings), right.numbers(settings)
    with np.errstate(all="ignore"):
        out = np.divide(a, b)
    out[b == 0] = np.nan
    return Column.from_numbers(out)


def concatenate(left: Column, right: Column, settings: FormatSettings) -> Column:
    a, b = left.texts(settings), right.texts(settings)
    a_null, b_null = np.equal(a, None), np.equal(b, None)
    out = np.where(a_null, "", a) + np.where(b_null, "", b)
    both = a_null & b_null
    if both.any():
        out[both] = None
    return Column.from_texts(out.astype(object, copy=False))


def _compare(op: str, left: Column, right: Column, settings: FormatSettings) -> Column:
    fn = _COMPARE[op]
    result = np.zeros(len(left), dtype=np.float64)
    a_null, b_null = left.nulls_mask(), right.nulls_mask()
    if op in ("PRECEDES", "FOLLOWS"):
        numeric = np.zeros(len(left), dtype=bool)
    else:
        a_num, b_num = left.numbers(settings), right.numbers(settings)
        numeric = ~np.isnan(a_num) & ~np.isnan(b_num)
        if numeric.any():
            result[numeric] = np.where(fn(a_num[numeric], b_num[numeric]), -1.0, 0.0)
    textual = ~numeric & ~a_null & ~b_null
    if textual.any():
        a_text, b_text = left.texts(settings)[textual], right.texts(settings)[textual]
        result[textual] = [-1.0 if fn(x, y) else 0.0 for x, y in zip(a_text, b_text, strict=True)]
    one_null = a_null ^ b_null
    if one_null.any():
        result[one_null] = -1.0 if op == "<>" else 0.0
    result[a_null & b_null] = np.nan
    return Column.from_numbers(result)


@lru_cache(maxsize=512)
def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """Qlik wildcard pattern (``*`` any run, ``?`` one character) as a case-insensitive regex."""
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _like(left: Column, right: Column, settings: FormatSettings) -> Column:
    texts, patterns = left.texts(settings), right.texts(settings)
    out = np.zeros(len(left))
    for i, (text, pattern) in enumerate(zip(texts, patterns, strict=True)):
        if text is not None and pattern is not None and wildcard_regex(pattern).fullmatch(text):
            out[i] = -1.0
    return Column.from_numbers(out)
