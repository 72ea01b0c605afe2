"""Date, time, timestamp, interval and money formatting and interpretation.

``Date(x [, fmt])`` and friends return duals: the text in the format (default: the
script's DateFormat/TimeFormat/TimestampFormat/MoneyFormat variable) and the number.
``Date#(text [, fmt])`` and friends read text into a number and keep the text; text that
does not match gives NULL (docs/values.md). A format that is the same on every row (the
usual case) runs through the vectorised formatter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qscript.expr import formats
from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings
from qscript.expr.registry import qlik_function


def _single_format(fmts: np.ndarray | None, default: str) -> str | None:
    """The one format all rows use, or None when rows differ."""
    if fmts is None or len(fmts) == 0:
        return default
    first = fmts[0]
    return first if (fmts == first).all() else None


def _formatted(
    values: np.ndarray,
    fmts: np.ndarray | None,
    default: str,
    settings: FormatSettings,
    array_fn: Callable[[np.ndarray, str, FormatSettings], np.ndarray] | None,
    scalar_fn: Callable[[float, str, FormatSettings], str],
    kind: str,
) -> Column:
    fmt = _single_format(fmts, default)
    if fmt is not None and array_fn is not None:
        texts = array_fn(values, fmt, settings)
    else:
        per_row = [fmt] * len(values) if fmt is not None else list(fmts)  # type: ignore[arg-type]
        texts = np.empty(len(values), dtype=object)
        texts[:] = [scalar_fn(v, f, settings) for v, f in zip(values.tolist(), per_row, strict=True)]
    return Column.from_duals(texts, values, kind)


def _interpreted(
    texts: np.ndarray,
    fmts: np.ndarray | None,
    default: str,
    settings: FormatSettings,
    array_fn: Callable[[np.ndarray, str, FormatSettings], np.ndarray] | None,
    scalar_fn: Callable[[str, str, FormatSettings], float | None],
    kind: str,
) -> Column:
    fmt = _single_format(fmts, default)
    if fmt is not None and array_fn is not None:
        numbers = np.asarray(array_fn(texts, fmt, settings), dtype=np.float64)
    else:
        per_row = [fmt] * len(texts) if fmt is not None else list(fmts)  # type: ignore[arg-type]
        parsed = [scalar_fn(t, f, settings) for t, f in zip(texts, per_row, strict=True)]
        numbers = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
    kept = texts.copy()
    kept[np.isnan(numbers)] = None
    return Column.from_duals(kept, numbers, kind)


@qlik_function("Date", "number text?", context=True)
def date(ctx, x, fmt=None) -> Column:
    s = ctx.settings
    return _formatted(x, fmt, s.date_format, s, formats.format_datetime_array, formats.format_datetime, "date")


@qlik_function("Time", "number text?", context=True)
def time(ctx, x, fmt=None) -> Column:
    s = ctx.settings
    return _formatted(x, fmt, s.time_format, s, formats.format_datetime_array, formats.format_datetime, "time")


@qlik_function("Timestamp", "number text?", context=True)
def timestamp(ctx, x, fmt=None) -> Column:
    s = ctx.settings
    return _formatted(
        x, fmt, s.timestamp_format, s, formats.format_datetime_array, formats.format_datetime, "timestamp"
    )


@qlik_function("Date#", "text text?", context=True)
def date_interpret(ctx, text, fmt=None) -> Column:
    s = ctx.settings
    return _interpreted(text, fmt, s.date_format, s, formats.parse_datetime_array, formats.parse_datetime, "date")


@qlik_function("Time#", "text text?", context=True)
def time_interpret(ctx, text, fmt=None) -> Column:
    s = ctx.settings
    return _interpreted(text, fmt, s.time_format, s, formats.parse_datetime_array, formats.parse_datetime, "time")


@qlik_function("Timestamp#", "text text?", context=True)
def timestamp_interpret(ctx, text, fmt=None) -> Column:
    s = ctx.settings
    return _interpreted(
        text, fmt, s.timestamp_format, s, formats.parse_datetime_array, formats.parse_datetime, "timestamp"
    )


@qlik_function("Interval", "number text?", context=True)
def interval(ctx, x, fmt=None) -> Column:
    return _formatted(x, fmt, "hh:mm:ss", ctx.settings, None, formats.format_interval, "interval")


@qlik_function("Interval#", "text text?", context=True)
def interval_interpret(ctx, text, fmt=None) -> Column:
    return _interpreted(text, fmt, "hh:mm:ss", ctx.settings, None, formats.parse_interval, "interval")


@qlik_function("Money", "number text?", context=True)
def money(ctx, x, fmt=None) -> Column:
    s = ctx.settings
    return _formatted(x, fmt, s.money_format, s, None, formats.format_money, "money")


@qlik_function("Money#", "text text?", context=True)
def money_interpret(ctx, text, fmt=None) -> Column:
    s = ctx.settings
    return _interpreted(text, fmt, s.money_format, s, None, formats.parse_money, "money")
