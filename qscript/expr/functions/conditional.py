"""Conditional and NULL functions: If, Alt, IsNull, Null, True, False."""

from __future__ import annotations

import numpy as np

from qscript.expr.column import Column
from qscript.expr.operators import from_mask, truth
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
