"""Formatting and interpretation: Num, Num#, Text, Dual.

Formatting functions return duals (the formatted text plus the number), interpretation
functions read text into a number and keep the original text. An interpretation that
fails gives NULL (documented in docs/values.md: Qlik's own result here is unverified).
"""

from __future__ import annotations

import numpy as np

from qscript.expr.column import Column
from qscript.expr.formats import format_number, parse_number
from qscript.expr.registry import qlik_function


def _column_of(texts: list, numbers: list) -> Column:
    text = np.empty(len(texts), dtype=object)
    text[:] = texts
    num = np.array(numbers, dtype=np.float64)
    text[np.isnan(num)] = None
    return Column.from_duals(text, num)


def _optional(values: np.ndarray | None, length: int) -> list:
    return [None] * length if values is None else list(values)


@qlik_function("Num", "number text? text? text?", context=True)
def num(ctx, x, fmt=None, dec=None, thou=None) -> Column:
    length = len(x)
    fmts, decs, thous = (_optional(a, length) for a in (fmt, dec, thou))
    settings = ctx.settings
    texts = [
        format_number(v, f, settings, d, t)
        for v, f, d, t in zip(x.tolist(), fmts, decs, thous, strict=True)
    ]
    return _column_of(texts, x.tolist())


@qlik_function("Num#", "text text? text? text?", context=True)
def num_interpret(ctx, text, fmt=None, dec=None, thou=None) -> Column:
    length = len(text)
    fmts, decs, thous = (_optional(a, length) for a in (fmt, dec, thou))
    settings = ctx.settings
    numbers = [
        parse_number(s, f, settings, d, t)
        for s, f, d, t in zip(text, fmts, decs, thous, strict=True)
    ]
    return _column_of(list(text), [np.nan if v is None else v for v in numbers])


@qlik_function("Text", "text")
def text_(text: np.ndarray) -> np.ndarray:
    """The text of a value, dropping its number."""
    return text


@qlik_function("Dual", "text number")
def dual(text: np.ndarray, number: np.ndarray) -> Column:
    return Column.from_duals(text, number)
