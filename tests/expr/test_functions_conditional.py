"""Conditional and NULL functions: exact values, NULL rules, and row path = column path."""

from __future__ import annotations

import pytest
from exprkit import NULL, assert_column_matches_rows, assert_constant_column, scalar
from exprkit import context as _ctx

from qscript.expr.column import Column
from qscript.expr.evaluate import EvalContext, evaluate
from qscript.expr.formats import FormatSettings
from qscript.expr.values import Dual
from qscript.script.parse import parse_expression

CASES = [
    # Coalesce: the first non-NULL; '' is not NULL
    ("Coalesce(Null(), 'x', 'y')", "x"),
    ("Coalesce(Null(), '', 'y')", ""),
    ("Coalesce(Null(), Null())", NULL),
    ("Coalesce(3)", 3.0),
    ("Coalesce(Null(), Date#('2024-01-31', 'YYYY-MM-DD'))", Dual("2024-01-31", 45322.0)),
    ("Coalesce(EmptyIsNull(''), 'alt')", "alt"),
    # Pick
    ("Pick(2, 'a', 'b', 'c')", "b"),
    ("Pick(1, 10, 'b')", 10.0),
    ("Pick(2.7, 'a', 'b', 'c')", "b"),
    ("Pick(0, 'a', 'b')", NULL),
    ("Pick(3, 'a', 'b')", NULL),
    ("Pick(-1, 'a', 'b')", NULL),
    ("Pick(Null(), 'a', 'b')", NULL),
    ("Pick('x', 'a', 'b')", NULL),
    ("Pick('2', 'a', 'b')", "b"),
    ("Pick(1, Null(), 'b')", NULL),
    # EmptyIsNull
    ("EmptyIsNull('')", NULL),
    ("EmptyIsNull(' ')", " "),
    ("EmptyIsNull('a')", "a"),
    ("EmptyIsNull(0)", 0.0),
    ("EmptyIsNull(Null())", NULL),
    ("IsNull(EmptyIsNull(''))", -1.0),
    # IsNum / IsText: every non-NULL value is exactly one of them
    ("IsNum(12)", -1.0),
    ("IsNum('12')", -1.0),
    ("IsNum('1,234.5')", -1.0),
    ("IsNum('abc')", 0.0),
    ("IsNum('')", 0.0),
    ("IsNum(Null())", 0.0),
    ("IsNum(Dual('Jan', 1))", -1.0),
    ("IsNum(Date#('2024-01-31', 'YYYY-MM-DD'))", -1.0),
    ("IsText('abc')", -1.0),
    ("IsText('')", -1.0),
    ("IsText(12)", 0.0),
    ("IsText('12')", 0.0),
    ("IsText(Dual('Jan', 1))", 0.0),
    ("IsText(Null())", 0.0),
    # Match: case-sensitive, by text; NULL candidates never match
    ("Match('b', 'a', 'b', 'b')", 2.0),
    ("Match('B', 'a', 'b')", 0.0),
    ("Match('c', 'a', 'b')", 0.0),
    ("Match(3, 1, 2, 3)", 3.0),
    ("Match(3, '3')", 1.0),
    ("Match('3.0', 3)", 0.0),
    ("Match('', 'a', '')", 2.0),
    ("Match('a', Null(), 'a')", 2.0),
    ("Match(Null(), 'a')", NULL),
    ("Match(Null(), Null())", NULL),
    ("Match(Dual('Jan', 1), 'Jan')", 1.0),
    # MixMatch: case-insensitive
    ("MixMatch('B', 'a', 'b')", 2.0),
    ("MixMatch('straße', 'STRASSE', 'STRAßE')", 2.0),
    ("MixMatch('x', 'a', 'b')", 0.0),
    ("MixMatch(Null(), 'a')", NULL),
    # WildMatch: case-insensitive with * and ?
    ("WildMatch('Hello', 'x*', 'h*o')", 2.0),
    ("WildMatch('Hello', 'h?llo')", 1.0),
    ("WildMatch('Hello', 'h?lo')", 0.0),
    ("WildMatch('a.b', 'a.b', '*')", 1.0),
    ("WildMatch('axb', 'a.b')", 0.0),
    ("WildMatch('', '*')", 1.0),
    ("WildMatch('M', 'S', 'M*', 'XL')", 2.0),
    ("WildMatch('abc', Null(), '*c')", 2.0),
    ("WildMatch(Null(), '*')", NULL),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_scalar_path(source, expected):
    assert scalar(source) == expected


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_constant_column_repeats_scalar(source, expected):
    assert_constant_column(source, expected)


MIXED = ["abc", None, "", Dual("007", 7.0), 7.0, "7", "ABC"]
OTHER = [None, "x", "y", 7.0, Dual("seven", 7.0), None, "abc"]

ROW_CASES = [
    ("Coalesce(a, b, 'last')", {"a": MIXED, "b": OTHER}),
    ("Coalesce(a, b)", {"a": MIXED, "b": OTHER}),
    ("Pick(n, a, b, 'c')", {"n": [1, 2, 3, None, "2", 4, 0], "a": MIXED, "b": OTHER}),
    ("EmptyIsNull(a)", {"a": MIXED}),
    ("IsNum(a)", {"a": MIXED}),
    ("IsText(a)", {"a": MIXED}),
    ("Match(a, 'abc', 7, '')", {"a": MIXED}),
    ("Match(a, b, 'x')", {"a": MIXED, "b": OTHER}),
    ("MixMatch(a, 'ABC', '007')", {"a": MIXED}),
    ("MixMatch(a, b)", {"a": MIXED, "b": OTHER}),
    ("WildMatch(a, 'A*', '?')", {"a": MIXED}),
    ("WildMatch(a, b, '*7')", {"a": MIXED, "b": ["a*", "*", "", "0*", "?", None, "*C"]}),
]


@pytest.mark.parametrize(("source", "fields"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_column_path_matches_row_path(source, fields):
    assert_column_matches_rows(source, fields)


def test_coalesce_and_pick_keep_the_chosen_value_and_its_kind():
    dates = Column.from_duals(
        Column.from_values(["1/1/2024", None]).raw_text(), Column.from_values([45292.0, None]).raw_num(), "date"
    )
    ctx = EvalContext(length=2, settings=FormatSettings(), fields={"d": dates})
    column = evaluate(parse_expression("Coalesce(d, Null())"), ctx)
    assert column.values() == [Dual("1/1/2024", 45292.0), None]
    assert column.kind == "date"
    assert evaluate(parse_expression("Pick(1, d)"), ctx).kind == "date"


def test_match_values():
    rows = {"c": ["Blue", "Black", "blue", None, "Red"]}
    assert [scalar("Match(c, 'Blue', 'Black')", c=[v]) for v in rows["c"]] == [1.0, 2.0, 0.0, None, 0.0]
    ctx = _ctx(5, **rows)
    assert evaluate(parse_expression("Match(c, 'Blue', 'Black')"), ctx).values() == [1.0, 2.0, 0.0, None, 0.0]
