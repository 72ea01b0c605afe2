"""Shared helpers for expression tests: contexts, scalar evaluation, comparisons.

Importable from any test because tests/conftest.py puts this folder on sys.path.
"""

from __future__ import annotations

import pytest

from qscript.expr.column import Column
from qscript.expr.evaluate import EvalContext, evaluate, evaluate_scalar
from qscript.expr.formats import FormatSettings
from qscript.expr.values import Dual
from qscript.script.parse import parse_expression

NULL = None
NOW = 45322.5  # 2024-01-31 12:00, the clock every expression test sees


def context(length: int = 1, settings: FormatSettings | None = None, **fields: list) -> EvalContext:
    """A context of ``length`` rows with the given fields (lists of scalar values)."""
    columns = {name: Column.from_values(values) for name, values in fields.items()}
    return EvalContext(length=length, settings=settings or FormatSettings(), fields=columns, now=lambda: NOW)


def scalar(source: str, settings: FormatSettings | None = None, **fields: list):
    """Evaluate on the row path (a one-row context)."""
    return evaluate_scalar(parse_expression(source), context(1, settings, **fields))


def same(actual, expected) -> bool:
    """Equal, with floats compared to 1e-12 and duals by text and number."""
    if isinstance(expected, float) and isinstance(actual, float):
        return actual == pytest.approx(expected, rel=1e-12, abs=1e-12)
    if isinstance(expected, Dual) and isinstance(actual, Dual):
        return actual.text == expected.text and same(actual.num, expected.num)
    return actual == expected


def assert_column_matches_rows(source: str, fields: dict[str, list], settings: FormatSettings | None = None) -> None:
    """The column path over all rows equals the row path on each row."""
    length = len(next(iter(fields.values())))
    column = evaluate(parse_expression(source), context(length, settings, **fields))
    assert len(column) == length
    for i in range(length):
        row = {name: [values[i]] for name, values in fields.items()}
        assert same(column.value(i), scalar(source, settings, **row)), f"row {i}"


def assert_constant_column(source: str, expected, rows: int = 3) -> None:
    """A constant expression over several rows repeats its scalar value."""
    column = evaluate(parse_expression(source), context(rows))
    assert all(same(value, expected) for value in column.values())
