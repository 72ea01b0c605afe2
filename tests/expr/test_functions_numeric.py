"""Numeric and Range functions: exact values, NULL rules, and row path = column path."""

from __future__ import annotations

import math

import pytest
from exprkit import NULL, assert_column_matches_rows, assert_constant_column, same, scalar
from exprkit import context as _ctx

from qscript.expr.evaluate import evaluate
from qscript.expr.values import Dual
from qscript.script.parse import parse_expression

CASES = [
    # Fmod: sign of a, reals, NULL for b = 0 (help examples)
    ("Fmod(7, 2)", 1.0),
    ("Fmod(7.5, 2)", 1.5),
    ("Fmod(9, 0)", NULL),
    ("Fmod(-4, 3)", -1.0),
    ("Fmod(4, -3)", 1.0),
    ("Fmod(-4, -3)", -1.0),
    ("Fmod(Null(), 3)", NULL),
    ("Fmod('x', 3)", NULL),
    # Frac: Frac(x) + Floor(x) = x
    ("Frac(11.43)", 0.43),
    ("Frac(-1.4)", 0.6),
    ("Frac(3)", 0.0),
    ("Frac(Null())", NULL),
    # Sign
    ("Sign(66)", 1.0),
    ("Sign(0)", 0.0),
    ("Sign(-234)", -1.0),
    ("Sign('-2')", -1.0),
    ("Sign('x')", NULL),
    ("Sign(Null())", NULL),
    # Sqrt, Exp, Log, Log10, Pow: NULL outside the domain
    ("Sqrt(16)", 4.0),
    ("Sqrt(-1)", NULL),
    ("Exp(0)", 1.0),
    ("Exp(1)", math.e),
    ("Exp(1000)", NULL),
    ("Log(Exp(2))", 2.0),
    ("Log(0)", NULL),
    ("Log(-1)", NULL),
    ("Log10(1000)", 3.0),
    ("Log10(0)", NULL),
    ("Pow(2, 10)", 1024.0),
    ("Pow(4, 0.5)", 2.0),
    ("Pow(2, -1)", 0.5),
    ("Pow(0, -1)", NULL),
    ("Pow(-8, 1/3)", NULL),
    ("Pow(Null(), 2)", NULL),
    ("Sqrt(Null()) + Exp(Null()) + Log(Null()) + Log10(Null())", NULL),
    # RangeSum: non-numeric counts as 0 (help examples)
    ("RangeSum(1, 2, 4)", 7.0),
    ("RangeSum(5, 'abc')", 5.0),
    ("RangeSum(Null())", 0.0),
    ("RangeSum('3', Dual('x', 2))", 5.0),
    # RangeAvg
    ("RangeAvg(1, 2, 4)", 7 / 3),
    ("RangeAvg(1, 'xyz')", 1.0),
    ("RangeAvg(Null(), 'abc')", NULL),
    # RangeCount: text and numbers, not NULL
    ("RangeCount(1, 2, 4)", 3.0),
    ("RangeCount(2, 'xyz')", 2.0),
    ("RangeCount(Null())", 0.0),
    ("RangeCount(2, 'xyz', Null())", 2.0),
    ("RangeCount('')", 1.0),
    # RangeMin / RangeMax
    ("RangeMin(1, 2, 4)", 1.0),
    ("RangeMin(1, 'xyz', -3)", -3.0),
    ("RangeMin(Null(), 'abc')", NULL),
    ("RangeMax(1, 2, 4)", 4.0),
    ("RangeMax(1, 'xyz', '9')", 9.0),
    ("RangeMax(Null(), 'abc')", NULL),
    # RangeMode: the most frequent value; NULL on ties
    ("RangeMode(1, 2, 9, 2, 4)", 2.0),
    ("RangeMode('a', 4, 'a', 4)", NULL),
    ("RangeMode('a', 4, 'a')", "a"),
    ("RangeMode(Null())", NULL),
    ("RangeMode(7)", 7.0),
    ("RangeMode(Dual('seven', 7), 7, 3)", Dual("seven", 7.0)),
    ("RangeMode(1, 2)", NULL),
    # RangeOnly
    ("RangeOnly(1, 'xyz')", NULL),
    ("RangeOnly(Null(), 'abc')", "abc"),
    ("RangeOnly(10, 10, 10)", 10.0),
    ("RangeOnly(Null(), Null())", NULL),
    ("RangeOnly('a', 'A')", NULL),
    # counts
    ("RangeNullCount(1, 2, 4)", 0.0),
    ("RangeNullCount(5, 'abc')", 0.0),
    ("RangeNullCount(Null(), Null())", 2.0),
    ("RangeNumericCount(1, 2, 4)", 3.0),
    ("RangeNumericCount(5, 'abc')", 1.0),
    ("RangeNumericCount(Null())", 0.0),
    ("RangeNumericCount('12', Dual('Jan', 1))", 2.0),
    ("RangeTextCount(1, 2, 4)", 0.0),
    ("RangeTextCount(5, 'abc')", 1.0),
    ("RangeTextCount(Null())", 0.0),
    ("RangeTextCount('12', Dual('Jan', 1), 'x')", 1.0),
    ("RangeMissingCount(1, 2, 4)", 0.0),
    ("RangeMissingCount(5, 'abc')", 1.0),
    ("RangeMissingCount(Null())", 1.0),
    # RangeStdev: sample standard deviation
    ("RangeStdev(1, 2, 4)", 1.5275252316519465),
    ("RangeStdev(2, 2, 'x')", 0.0),
    ("RangeStdev(5)", NULL),
    ("RangeStdev(Null(), 'abc')", NULL),
    # RangeFractile (help examples)
    ("RangeFractile(0.24, 1, 2, 4, 6)", 1.72),
    ("RangeFractile(0.5, 1, 2, 3, 4, 6)", 3.0),
    ("RangeFractile(0.5, 1, 2, 5, 6)", 3.5),
    ("RangeFractile(0, 3, 'x', 1)", 1.0),
    ("RangeFractile(1, 3, Null(), 1)", 3.0),
    ("RangeFractile(0.5, 7)", 7.0),
    ("RangeFractile(1.5, 1, 2)", NULL),
    ("RangeFractile(Null(), 1, 2)", NULL),
    ("RangeFractile(0.5, 'a')", NULL),
    # RangeMinString / RangeMaxString: text order
    ("RangeMinString(1, 2, 4)", 1.0),
    ("RangeMinString('xyz', 'abc')", "abc"),
    ("RangeMinString(5, 'abc')", 5.0),
    ("RangeMinString(Null(), Null())", NULL),
    ("RangeMaxString(5, 'abc')", "abc"),
    ("RangeMaxString('10', '9')", "9"),
    ("RangeMaxString(Null(), 'a')", "a"),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_scalar_path(source, expected):
    assert same(scalar(source), expected)


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_constant_column_repeats_scalar(source, expected):
    assert_constant_column(source, expected)


A = [4.0, None, "abc", Dual("007", 7.0), -2.5, "3", 0.0, 9.0]
B = [3.0, 2.0, None, "x", 2.0, Dual("two", 2.0), 0.0, "abc"]
C = [None, 1.0, 5.0, 7.0, -2.5, "3", "z", 9.0]

ROW_CASES = [
    ("Fmod(a, b)", {"a": A, "b": B}),
    ("Frac(a)", {"a": A}),
    ("Sign(a)", {"a": A}),
    ("Sqrt(a)", {"a": A}),
    ("Exp(a)", {"a": A}),
    ("Log(a)", {"a": A}),
    ("Log10(a)", {"a": A}),
    ("Pow(a, b)", {"a": A, "b": B}),
    ("RangeSum(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeAvg(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeCount(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeMin(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeMax(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeMode(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeMode(a, c, 'z')", {"a": A, "c": C}),
    ("RangeOnly(a, c)", {"a": A, "c": C}),
    ("RangeOnly(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeNullCount(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeNumericCount(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeTextCount(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeMissingCount(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeStdev(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeFractile(0.3, a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeFractile(f, a, c)", {"f": [0, 1, 0.5, None, 2, "0.9", 0.25, -1], "a": A, "c": C}),
    ("RangeMinString(a, b, c)", {"a": A, "b": B, "c": C}),
    ("RangeMaxString(a, b, c)", {"a": A, "b": B, "c": C}),
]


@pytest.mark.parametrize(("source", "fields"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_column_path_matches_row_path(source, fields):
    assert_column_matches_rows(source, fields)


def test_range_functions_over_columns():
    ctx = _ctx(4, a=[1.0, None, "x", 4.0], b=[2.0, None, 3.0, "y"])
    assert evaluate(parse_expression("RangeSum(a, b)"), ctx).values() == [3.0, 0.0, 3.0, 4.0]
    assert evaluate(parse_expression("RangeAvg(a, b)"), ctx).values() == [1.5, None, 3.0, 4.0]
    assert evaluate(parse_expression("RangeCount(a, b)"), ctx).values() == [2.0, 0.0, 2.0, 2.0]
    assert evaluate(parse_expression("RangeMax(a, b)"), ctx).values() == [2.0, None, 3.0, 4.0]


def test_rand_gives_a_new_number_per_row():
    values = evaluate(parse_expression("Rand()"), _ctx(1000)).values()
    assert all(isinstance(v, float) and 0 <= v < 1 for v in values)
    assert len(set(values)) > 990
    assert 0 <= scalar("Rand()") < 1
