"""Assertions about a reload's result, with messages that say what differs and where.

``assert result.tables["Orders"].equals(expected)`` fails with ``False``; these helpers
fail with the table, the row, the field and both values, and with a "did you mean" when a
name is misspelt. They raise plain ``AssertionError`` (pytest shows the message as is)
and hide their own frames from pytest tracebacks, so they also work outside pytest.

Values are compared as a script author reads them: NULL, NaN, NaT and None are all NULL;
``3`` equals ``3.0``; floats are compared to 12 significant digits; a ``date`` equals the
midnight ``datetime`` that a Date() field becomes in pandas.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

import qscript

#: Rows or values listed in one failure message before "... and N more".
SHOW = 10

Row = tuple[Any, ...]


def _names(names: Iterable[str]) -> str:
    return ", ".join(names) or "(none)"


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if not close:
        close = [c for c in choices if c.lower() == name.lower()][:1]
    return f"; did you mean '{close[0]}'?" if close else ""


def _table(result: qscript.Result, name: str) -> pd.DataFrame:
    __tracebackhide__ = True
    if name not in result.tables:
        raise AssertionError(f"no table '{name}' in the result{_did_you_mean(name, result.tables)} "
                    f"(tables: {_names(result.tables)})")
    return result.tables[name]


def _field(frame: pd.DataFrame, table: str, name: str) -> pd.Series:
    __tracebackhide__ = True
    fields = [str(c) for c in frame.columns]
    if name not in fields:
        raise AssertionError(f"table '{table}' has no field '{name}'{_did_you_mean(name, fields)} "
                             f"(fields: {_names(fields)})")
    return frame[name]


def normalise(value: Any) -> Any:
    """One cell as a plain, hashable Python value (see the module docstring)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.12g}")
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, str, bool, datetime, timedelta)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[Row]:
    return [tuple(normalise(v) for v in row) for row in frame[list(columns)].itertuples(index=False, name=None)]


def _expected(expected: pd.DataFrame | Sequence[Mapping[str, Any]]) -> tuple[list[str], list[Row]]:
    if isinstance(expected, pd.DataFrame):
        columns = [str(c) for c in expected.columns]
        return columns, _rows(expected, columns)
    columns: list[str] = []
    for row in expected:
        columns += [str(k) for k in row if str(k) not in columns]
    return columns, [tuple(normalise(row.get(c)) for c in columns) for row in expected]


def _show_row(columns: Sequence[str], row: Row) -> str:
    return "{" + ", ".join(f"{c!r}: {v!r}" for c, v in zip(columns, row, strict=True)) + "}"


def _more(lines: list[str], total: int) -> list[str]:
    return lines[:SHOW] + ([f"  ... and {total - SHOW} more"] if total > SHOW else [])


def assert_table(
    result: qscript.Result,
    name: str,
    expected: pd.DataFrame | Sequence[Mapping[str, Any]],
    check_order: bool = True,
) -> None:
    """Table ``name`` holds exactly ``expected`` (a DataFrame or a list of row dicts; a key
    missing from a dict is NULL). Fields are matched by name, in any order; rows in order
    unless ``check_order=False``, which compares them as a multiset."""
    __tracebackhide__ = True
    frame = _table(result, name)
    columns, want = _expected(expected)
    fields = [str(c) for c in frame.columns]
    if set(columns) != set(fields):
        missing = [c for c in columns if c not in fields]
        extra = [f for f in fields if f not in columns]
        lines = [f"table '{name}' has fields {_names(fields)}; expected {_names(columns)}"]
        lines += [f"  missing: {m}{_did_you_mean(m, extra)}" for m in missing]
        lines += [f"  unexpected: {_names(extra)}"] if extra else []
        raise AssertionError("\n".join(lines))
    got = _rows(frame, columns)
    if check_order:
        _compare_ordered(name, columns, want, got)
    else:
        _compare_unordered(name, columns, want, got)


def _compare_ordered(name: str, columns: Sequence[str], want: list[Row], got: list[Row]) -> None:
    __tracebackhide__ = True
    problems = []
    for index, (w, g) in enumerate(zip(want, got, strict=False)):
        if w != g:
            diffs = [f"{c}: expected {a!r}, got {b!r}" for c, a, b in zip(columns, w, g, strict=True) if a != b]
            problems.append(f"  row {index}: {'; '.join(diffs)}")
    differing = len(problems)
    problems = _more(problems, differing)
    if len(got) > len(want):
        problems.append(f"  unexpected rows from row {len(want)}:")
        problems += _more([f"    {_show_row(columns, r)}" for r in got[len(want):]], len(got) - len(want))
    elif len(want) > len(got):
        problems.append(f"  missing rows from row {len(got)}:")
        problems += _more([f"    {_show_row(columns, r)}" for r in want[len(got):]], len(want) - len(got))
    if problems:
        count = f"{len(got)} rows, expected {len(want)}" if len(got) != len(want) else f"{len(got)} rows"
        raise AssertionError(f"table '{name}' differs from the expected rows ({count}; rows numbered from 0):\n"
                    + "\n".join(problems))


def _compare_unordered(name: str, columns: Sequence[str], want: list[Row], got: list[Row]) -> None:
    __tracebackhide__ = True
    missing = Counter(want) - Counter(got)
    extra = Counter(got) - Counter(want)
    if not missing and not extra:
        return
    lines = [f"table '{name}' differs from the expected rows, order ignored ({len(got)} rows, "
             f"expected {len(want)}):"]
    for title, rows in (("expected but not found", missing), ("found but not expected", extra)):
        if rows:
            listed = [f"    {_show_row(columns, r)}" + (f" x{n}" if n > 1 else "") for r, n in rows.items()]
            lines += [f"  {title}:", *_more(listed, len(listed))]
    raise AssertionError("\n".join(lines))


def assert_rowcount(result: qscript.Result, name: str, n: int) -> None:
    """Table ``name`` has exactly ``n`` rows."""
    __tracebackhide__ = True
    rows = len(_table(result, name))
    if rows != n:
        raise AssertionError(f"table '{name}' has {rows} rows, expected {n}")


def assert_unique(result: qscript.Result, table: str, field: str, *, allow_nulls: bool = False) -> None:
    """Every row of ``table`` has its own value of ``field`` (a key). NULLs fail too unless
    ``allow_nulls``: a key row without a key links to nothing."""
    __tracebackhide__ = True
    values = [normalise(v) for v in _field(_table(result, table), table, field)]
    rows: dict[Any, list[int]] = {}
    for index, value in enumerate(values):
        rows.setdefault(value, []).append(index)
    nulls = rows.pop(None, [])
    repeated = {value: where for value, where in rows.items() if len(where) > 1}
    lines = []
    if repeated:
        listed = [f"    {value!r} in rows {', '.join(map(str, where))}" for value, where in repeated.items()]
        count = "1 value repeats" if len(repeated) == 1 else f"{len(repeated)} values repeat"
        lines += [f"  {count}:", *_more(listed, len(listed))]
    if nulls and not allow_nulls:
        lines.append(f"  {len(nulls)} rows have no value (NULL): rows {', '.join(map(str, nulls[:SHOW]))}"
                     + (" ..." if len(nulls) > SHOW else "") + " (allow_nulls=True accepts them)")
    if lines:
        raise AssertionError(f"field '{field}' of table '{table}' is not unique "
                             f"({len(values)} rows, rows numbered from 0):\n" + "\n".join(lines))


def assert_no_synthetic_keys(result: qscript.Result) -> None:
    """No two tables share two or more fields (Qlik would build a ``$Syn`` table)."""
    __tracebackhide__ = True
    keys = result.model.synthetic_keys
    if keys:
        lines = [f"  {a} + {b} share {', '.join(fields)}" for a, b, fields in keys]
        raise AssertionError(f"the data model has {len(keys)} synthetic key{'s' if len(keys) > 1 else ''}:\n"
                    + "\n".join(lines)
                    + "\n(Qlik links tables through every field of the same name: rename or QUALIFY fields, "
                      "or build one link key)")


def assert_fields(result: qscript.Result, table: str, names: Sequence[str], *, check_order: bool = False) -> None:
    """Table ``table`` has exactly the fields ``names`` (in that order with ``check_order``)."""
    __tracebackhide__ = True
    fields = [str(c) for c in _table(result, table).columns]
    names = [str(n) for n in names]
    if fields == names or (not check_order and sorted(fields) == sorted(names)):
        return
    missing = [n for n in names if n not in fields]
    extra = [f for f in fields if f not in names]
    lines = [f"table '{table}' has fields {_names(fields)}; expected {_names(names)}"]
    lines += [f"  missing: {m}{_did_you_mean(m, extra)}" for m in missing]
    lines += [f"  unexpected: {_names(extra)}"] if extra else []
    if not missing and not extra:
        lines.append("  same fields, different order" if len(fields) == len(names) else "  a field is repeated")
    raise AssertionError("\n".join(lines))
