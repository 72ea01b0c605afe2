"""Operators and the first function set, through both the row path and the column path.

Each case runs as a scalar (one-row context, as LET and IF use it) and inside a column of
several rows; both must give the same value.
"""

from __future__ import annotations

import numpy as np
import pytest

from qscript.expr.column import Column
from qscript.expr.evaluate import EvalContext, evaluate, evaluate_scalar
from qscript.expr.formats import FormatSettings
from qscript.expr.values import Dual
from qscript.script.parse import parse_expression

NULL = None

CASES = [
    # NULL algebra (help "Propagation of NULL values in expressions")
    ("'a' & Null()", "a"),
    ("Null() & 'b'", "b"),
    ("Null() & Null()", NULL),
    ("1 + Null()", NULL),
    ("0 * Null()", NULL),
    ("Null() / 2", NULL),
    ("4 / 0", NULL),
    ("Null() = Null()", NULL),
    ("1 = Null()", 0.0),
    ("1 <> Null()", -1.0),
    ("1 < Null()", 0.0),
    ("If(Null(), 1, 2)", 2.0),
    ("If(1, Null(), 2)", NULL),
    ("If(0, 1)", NULL),
    ("IsNull(Null())", -1.0),
    ("IsNull('')", 0.0),
    ("Len('')", 0.0),
    # arithmetic, text and comparison
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("-2 * -3", 6.0),
    ("7 / 2", 3.5),
    ("'3' + 4", 7.0),
    ("'abc' + 1", NULL),
    ("1 & 2", "12"),
    ("1 + 1 & 'x'", "2x"),
    ("2 = 2", -1.0),
    ("'007' = 7", -1.0),
    ("'abc' = 'abc'", -1.0),
    ("'abc' = 'ABC'", 0.0),
    ("'abc' < 'abd'", -1.0),
    ("'10' < '9'", 0.0),
    ("' 11' precedes ' 2'", -1.0),
    ("' 11' < ' 2'", 0.0),
    ("'Hello' like 'h*l?o'", -1.0),
    ("'Hello' like 'x*'", 0.0),
    ("1 and 0", 0.0),
    ("1 or 0", -1.0),
    ("1 xor 1", 0.0),
    ("not 0", -1.0),
    ("not 1 = 1", 0.0),
    ("'text' and 1", 0.0),
    ("True() + False()", -1.0),
    # string functions
    ("Len('héllo')", 5.0),
    ("Left('abcdef', 2)", "ab"),
    ("Right('abcdef', 2)", "ef"),
    ("Mid('abcdef', 2, 3)", "bcd"),
    ("Mid('abcdef', 4)", "def"),
    ("Upper('abc') & Lower('DEF')", "ABCdef"),
    ("Trim('  a b  ')", "a b"),
    ("Replace('a-b-c', '-', '+')", "a+b+c"),
    ("SubField('a;b;c', ';', 2)", "b"),
    ("SubField('a;b;c', ';', -1)", "c"),
    ("SubField('a;b;c', ';', 4)", NULL),
    ("SubField(Null(), ';', 1)", ""),
    ("SubField('a;b', ';')", "a"),
    ("TextBetween('<a><b>', '<', '>')", "a"),
    ("TextBetween('<a><b>', '<', '>', 2)", "b"),
    ("TextBetween('<a><b>', '<', '>', 3)", NULL),
    ("TextBetween('x()y', '(', ')')", ""),
    ("TextBetween('abc', '[', ']')", NULL),
    ("TextBetween('u?x=1&next=abc', '&next=', Null())", "abc"),
    ("Index('abcabc', 'b')", 2.0),
    ("Index('abcabc', 'b', 2)", 5.0),
    ("Index('abcabc', 'b', -1)", 5.0),
    ("Index('abc', 'z')", 0.0),
    ("Chr(65) & Chr(66)", "AB"),
    ("Chr(Null())", NULL),
    ("Ord('A')", 65.0),
    # numbers
    ("Floor(3.88, 5)", 0.0),
    ("Floor(2.7)", 2.0),
    ("Floor(0.3, 0.1)", 0.3),
    ("Ceil(1.1, 1, 0.5)", 1.5),
    ("Ceil(2.1)", 3.0),
    ("Round(2.5)", 3.0),
    ("Round(-2.5)", -2.0),
    ("Round(2, 4)", 4.0),
    ("Round(3.14159, 0.01)", 3.14),
    ("Div(7, 2)", 3.0),
    ("Div(-7, 2)", -3.0),
    ("Div(1, 0)", NULL),
    ("Mod(7, 2)", 1.0),
    ("Mod(-4, 3)", 2.0),
    ("Mod(7.5, 2)", NULL),
    ("Fabs(-2.5)", 2.5),
    ("Alt(Null(), 'x', 3, 4)", 3.0),
    ("Alt('a', 'b')", "b"),
    # formatting and interpretation
    ("Num(1234.5, '#,##0.00')", Dual("1,234.50", 1234.5)),
    ("Num(0.256, '0.0%')", Dual("25.6%", 0.256)),
    ("Num#('1,234.5')", Dual("1,234.5", 1234.5)),
    ("Num#('007') + 1", 8.0),
    ("Num#('abc')", NULL),
    ("Text(12) & ''", "12"),
    ("IsNull(Text(Null()))", -1.0),
]


def _context(length: int) -> EvalContext:
    return EvalContext(length=length, settings=FormatSettings(), now=lambda: 45322.5)


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_scalar_path(source, expected):
    value = evaluate_scalar(parse_expression(source), _context(1))
    if isinstance(expected, float) and isinstance(value, float):
        assert value == pytest.approx(expected)
    else:
        assert value == expected


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_column_path_matches_scalar_path(source, expected):
    column = evaluate(parse_expression(source), _context(4))
    scalar = evaluate_scalar(parse_expression(source), _context(1))
    assert len(column) == 4
    for value in column.values():
        if isinstance(scalar, float):
            assert value == pytest.approx(scalar)
        else:
            assert value == scalar


def test_columns_mix_null_rows_with_values():
    fields = {
        "s": Column.from_values(["abc", None, "", "xyz"]),
        "n": Column.from_values([1.0, 2.0, None, 4.0]),
    }
    ctx = EvalContext(length=4, settings=FormatSettings(), fields=fields)
    assert evaluate(parse_expression("Left(s, n)"), ctx).values() == ["a", None, None, "xyz"]
    assert evaluate(parse_expression("s & n"), ctx).values() == ["abc1", "2", "", "xyz4"]
    assert evaluate(parse_expression("If(IsNull(s), 'none', Upper(s))"), ctx).values() == [
        "ABC", "none", "", "XYZ",
    ]
    assert evaluate(parse_expression("n * 2 + 1"), ctx).values() == [3.0, 5.0, None, 9.0]


def test_numbers_show_qlik_text():
    ctx = _context(1)
    assert evaluate_scalar(parse_expression("Text(1/3)"), ctx) == "0.33333333333333"
    assert evaluate_scalar(parse_expression("Text(0.1 + 0.2)"), ctx) == "0.3"
    assert evaluate_scalar(parse_expression("Text(3.0)"), ctx) == "3"


def test_decimal_comma_settings_change_number_text():
    settings = FormatSettings(decimal_sep=",", thousand_sep=".")
    ctx = EvalContext(length=1, settings=settings)
    assert evaluate_scalar(parse_expression("Text(7/2)"), ctx) == "3,5"
    assert evaluate_scalar(parse_expression("'3,5' + 1"), ctx) == pytest.approx(4.5)


def test_today_and_now_use_the_context_clock():
    ctx = _context(1)
    assert evaluate_scalar(parse_expression("Today()"), ctx) == Dual("1/31/2024", 45322.0)
    assert evaluate_scalar(parse_expression("Num(Now())"), ctx).num == 45322.5


def test_column_views_are_consistent():
    column = Column.from_values([Dual("007", 7.0), "x", 2.5, None])
    settings = FormatSettings()
    assert column.texts(settings).tolist() == ["007", "x", "2.5", None]
    np.testing.assert_array_equal(column.numbers(settings), [7.0, np.nan, 2.5, np.nan])
    assert column.nulls_mask().tolist() == [False, False, False, True]
