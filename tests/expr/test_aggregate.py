"""Aggregation kernels through ``registry.call_aggregate``: exact per-group results.

Groups are built by hand; columns mix numbers, text, duals and NULLs. Several cases are
the examples of the Qlik help pages (marked "help"), the rest pin decisions documented in
``qscript.expr.functions.aggregate`` and ``aggregate_text``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from qscript.expr import registry
from qscript.expr.column import Column
from qscript.expr.evaluate import EvalContext
from qscript.expr.registry import Groups
from qscript.expr.values import Dual

NULL = None


def run(name: str, codes: list[int], *args: list | Column | None, modifier: str | None = None) -> list:
    """Aggregate ``args`` (value lists, Columns or None for ``*``) over groups ``codes``."""
    groups = Groups(np.asarray(codes, dtype=np.int64), max(codes, default=-1) + 1)
    columns = [a if a is None or isinstance(a, Column) else Column.from_values(a) for a in args]
    spec = registry.lookup(name)
    assert spec is not None and spec.kind == registry.AGGREGATE
    result = registry.call_aggregate(spec, columns, groups, EvalContext(length=len(codes)), modifier)
    assert len(result) == groups.count
    return result.values()


def by_key(keys: list[str]) -> list[int]:
    """Group codes by first appearance, as GROUP BY numbers them."""
    seen: dict[str, int] = {}
    return [seen.setdefault(k, len(seen)) for k in keys]


CODES = [0, 0, 1, 1, 1, 2]
MIXED = [1, 2, "x", NULL, 5, NULL]  # group 2 is all NULL


# -- Sum, Avg, Count -------------------------------------------------------------------------
def test_sum_skips_null_and_text_and_gives_zero_without_numbers() -> None:
    assert run("Sum", CODES, MIXED) == [3.0, 5.0, 0.0]
    assert run("sum", CODES, ["1", "2.5", "abc", "", NULL, "-1"]) == [3.5, 0.0, -1.0]


def test_sum_distinct() -> None:
    assert run("Sum", [0, 0, 0, 1, 1], [2, 2, 3, 4, "4"], modifier="DISTINCT") == [5.0, 4.0]
    assert run("Sum", [0, 0, 0, 1, 1], [2, 2, 3, 4, "4"]) == [7.0, 8.0]


def test_sum_of_booleans_is_negative() -> None:
    assert run("Sum", [0, 0, 0], [-1, 0, -1]) == [-2.0]


def test_avg_and_avg_distinct() -> None:
    assert run("Avg", CODES, MIXED) == [1.5, 5.0, NULL]
    assert run("Avg", [0, 0, 0], [1, 1, 4], modifier="DISTINCT") == [2.5]


def test_count_counts_text_but_not_null() -> None:
    assert run("Count", CODES, MIXED) == [2.0, 2.0, 0.0]
    assert run("Count", [0, 0, 0], ["", "a", NULL]) == [2.0]  # '' is a value


def test_count_star_counts_rows() -> None:
    assert run("Count", CODES, None) == [2.0, 3.0, 1.0]


def test_count_distinct_numbers_by_value_text_by_text() -> None:
    values = [1, "01", Dual("one", 1), "a", "a", "A", NULL, 2]
    assert run("Count", [0] * 8, values, modifier="DISTINCT") == [4.0]  # 1, a, A, 2


def test_count_help_example() -> None:
    """help Count: Canutility's empty OrderNumber still counts; DISTINCT over all rows."""
    customers = ["Astrida"] * 3 + ["Betacab"] * 3 + ["Canutility"] * 2 + ["Divadip"] * 2
    orders = ["1", "7", "4", "6", "5", "1", "3", "", "2", "3"]
    assert run("Count", by_key(customers), orders) == [3.0, 3.0, 2.0, 2.0]
    assert run("Count", [0] * 10, orders, modifier="DISTINCT") == [8.0]


# -- the Count family ---------------------------------------------------------------------------
COUNT_CODES = by_key(["Astrida"] * 3 + ["Betacab"] * 3 + ["Canutility"] * 2 + ["Divadip"] * 2)
ORDERS = ["1", "7", "4", "6", "5", "", "", "", "2", "7"]  # help data after inline trimming


def test_numeric_text_missing_counts_help_example() -> None:
    assert run("NumericCount", COUNT_CODES, ORDERS) == [3.0, 2.0, 0.0, 2.0]
    assert run("NumericCount", [0] * 10, ORDERS) == [7.0]
    assert run("NumericCount", [0] * 10, ORDERS, modifier="DISTINCT") == [6.0]
    assert run("TextCount", COUNT_CODES, ORDERS) == [0.0, 1.0, 2.0, 0.0]
    assert run("MissingCount", COUNT_CODES, ORDERS) == [0.0, 1.0, 2.0, 0.0]
    assert run("MissingCount", [0] * 10, ORDERS) == [3.0]
    assert run("MissingCount", [0] * 10, ORDERS, modifier="DISTINCT") == [1.0]


def test_null_count_and_missing_count_include_null() -> None:
    values = [1, NULL, "a", NULL, Dual("x", 3), "a"]
    assert run("NullCount", [0] * 6, values) == [2.0]
    assert run("NullCount", [0] * 6, values, modifier="DISTINCT") == [1.0]
    assert run("MissingCount", [0] * 6, values) == [4.0]
    assert run("MissingCount", [0] * 6, values, modifier="DISTINCT") == [2.0]
    assert run("TextCount", [0] * 6, values, modifier="DISTINCT") == [1.0]
    assert run("NumericCount", [0] * 6, values) == [2.0]


# -- Min and Max --------------------------------------------------------------------------------
MINMAX_CODES = by_key(["Astrida"] * 4 + ["Betacab"] * 3 + ["Canutility"] * 2)
UNIT_SALES = ["10", "18", "9", "2", "4", "5", "", "8", ""]


def test_min_max_help_examples() -> None:
    assert run("Min", MINMAX_CODES, UNIT_SALES) == [2.0, 4.0, 8.0]
    assert run("Max", MINMAX_CODES, UNIT_SALES) == [18.0, 5.0, 8.0]
    rank2 = [2] * 9
    assert run("Min", MINMAX_CODES, UNIT_SALES, rank2) == [9.0, 5.0, NULL]
    assert run("Max", MINMAX_CODES, UNIT_SALES, rank2) == [10.0, 4.0, NULL]


def test_min_max_empty_group_and_text_only() -> None:
    assert run("Min", CODES, MIXED) == [1.0, 5.0, NULL]
    assert run("Max", [0, 0], ["a", "b"]) == [NULL]


def test_max_rank_counts_duplicates_unless_distinct() -> None:
    values, rank = [5, 5, 3, 1], [2, 2, 2, 2]
    assert run("Max", [0] * 4, values, rank) == [5.0]
    assert run("Max", [0] * 4, values, rank, modifier="DISTINCT") == [3.0]
    assert run("Min", [0] * 4, values, [4] * 4) == [5.0]
    assert run("Min", [0] * 4, values, [5] * 4) == [NULL]
    assert run("Min", [0] * 4, values, [0] * 4) == [NULL]


def test_rank_is_read_per_group() -> None:
    assert run("Max", [0, 0, 1, 1], [1, 2, 3, 4], [1, NULL, NULL, 2]) == [2.0, 3.0]
    assert run("Max", [0, 0], [1, 2], [NULL, NULL]) == [NULL]


def test_min_of_dual_is_its_number() -> None:
    assert run("Min", [0, 0], [Dual("b", 2), Dual("a", 3)]) == [2.0]


# -- Median, Stdev --------------------------------------------------------------------------------
OBSERVATION = [35, 40, 12, 15, 21, 14, 46, 10, 28, 48, 16, 30, 32, 48, 31, 22, 12, 39, 19, 25]
COMPARISON = [2, 27, 38, 31, 1, 19, 1, 34, 3, 1, 2, 3, 2, 1, 2, 1, 3, 29, 37, 2]


def test_median_and_stdev_help_examples() -> None:
    codes = [0] * 20 + [1] * 20
    assert run("Median", codes, COMPARISON + OBSERVATION) == [2.5, 26.5]
    assert run("Stdev", codes, COMPARISON + OBSERVATION) == pytest.approx([14.61245, 12.507997], abs=1e-6)


def test_median_stdev_null_cases() -> None:
    assert run("Median", CODES, MIXED) == [1.5, 5.0, NULL]
    assert run("Stdev", CODES, MIXED) == [pytest.approx(0.5**0.5), NULL, NULL]
    assert run("Median", [0, 0, 0], [3, 1, 2]) == [2.0]
    assert run("Stdev", [0, 0, 0], [1, 1, 3], modifier="DISTINCT") == [pytest.approx(2**0.5)]


# -- Only, Mode, FirstValue, LastValue -------------------------------------------------------------
def test_only() -> None:
    assert run("Only", [0, 0, 1, 1, 2, 3], [1, 1, 1, 2, NULL, "a"]) == [1.0, NULL, NULL, "a"]
    assert run("Only", [0, 0, 0], [NULL, Dual("Jan", 1), NULL]) == [Dual("Jan", 1)]


def test_only_help_example_empty_text_is_a_value() -> None:
    codes = by_key(["Astrida"] * 4 + ["Betacab"] * 3 + ["Canutility"] * 2)
    ids = ["1", "1", "1", "1", "2", "2", "", "", ""]
    assert run("Only", codes, ids) == ["1", NULL, ""]


def test_mode_and_ties() -> None:
    assert run("Mode", [0, 0, 0, 0, 1, 1, 2], ["AA", "BB", "AA", NULL, 1, 2, NULL]) == ["AA", NULL, NULL]
    assert run("Mode", [0, 0, 0], [Dual("one", 1), "1", 2]) == [Dual("one", 1)]


def test_first_and_last_value_skip_null() -> None:
    codes = [0, 0, 0, 1, 1, 2]
    values = [NULL, "b", "c", Dual("d", 4), NULL, NULL]
    assert run("FirstValue", codes, values) == ["b", Dual("d", 4), NULL]
    assert run("LastValue", codes, values) == ["c", Dual("d", 4), NULL]


def test_first_last_value_help_example() -> None:
    groups = ["East", "East", "West", "East", "East", "West", "West", "East", "West"]
    teams = ["Gamma", "Gamma", "Zeta", "Alpha", "Delta", "Epsilon", "Eta", "Beta", "Theta"]
    assert run("FirstValue", by_key(groups), teams) == ["Gamma", "Zeta"]
    assert run("LastValue", by_key(groups), teams) == ["Beta", "Theta"]


# -- MinString, MaxString -----------------------------------------------------------------------------
def test_min_max_string() -> None:
    groups = ["East", "East", "West", "East", "East", "West", "West", "East", "West"]
    teams = ["Gamma", "Gamma", "Zeta", "Alpha", "Delta", "Epsilon", "Eta", "Beta", "Theta"]
    assert run("MinString", by_key(groups), teams) == ["Alpha", "Epsilon"]
    assert run("MaxString", by_key(groups), teams) == ["Gamma", "Zeta"]


def test_min_max_string_use_the_text_and_return_the_value() -> None:
    values = [10, 9, Dual("2024-01-05", 45296), NULL]
    assert run("MinString", [0, 0, 0, 0], values) == [10.0]  # '10' < '2024-01-05' < '9'
    assert run("MaxString", [0, 0, 0, 0], values) == [9.0]
    assert run("MaxString", [0, 0, 0, 1], values) == [9.0, NULL]


# -- FirstSortedValue -------------------------------------------------------------------------------------
FSV_CODES = by_key(["Astrida"] * 4 + ["Betacab"] * 3 + ["Canutility"] * 2 + ["Divadip"] * 3)
PRODUCTS = ["AA", "AA", "BB", "CC", "AA", "BB", "DD", "AA", "CC", "AA", "AA", "DD"]
SALES = [10, 18, 9, 2, 4, 5, 25, 8, 19, 16, 16, 10]


def test_first_sorted_value_help_examples() -> None:
    assert run("FirstSortedValue", FSV_CODES, PRODUCTS, SALES) == ["CC", "AA", "AA", "DD"]
    negated = [-s for s in SALES]
    assert run("FirstSortedValue", FSV_CODES, PRODUCTS, negated) == ["AA", "DD", "CC", NULL]
    distinct = run("FirstSortedValue", FSV_CODES, PRODUCTS, negated, modifier="DISTINCT")
    assert distinct == ["AA", "DD", "CC", "AA"]


def test_first_sorted_value_rank_and_ties() -> None:
    codes = [0, 0, 0, 0]
    values = ["a", "b", "c", "d"]
    weights = [3, 1, 2, 2]
    assert run("FirstSortedValue", codes, values, weights, [1] * 4) == ["b"]
    assert run("FirstSortedValue", codes, values, weights, [2] * 4) == [NULL]  # c and d share 2
    assert run("FirstSortedValue", codes, values, weights, [4] * 4) == ["a"]
    assert run("FirstSortedValue", codes, values, weights, [5] * 4) == [NULL]


def test_first_sorted_value_skips_null_and_keeps_duals() -> None:
    codes = [0, 0, 0, 1, 1]
    values = [NULL, Dual("Feb", 2), "x", "y", "z"]
    weights = [0, 1, 2, NULL, "n/a"]
    assert run("FirstSortedValue", codes, values, weights) == [Dual("Feb", 2), NULL]


# -- Concat --------------------------------------------------------------------------------------------------
TEAM_GROUPS = by_key(["East", "East", "West", "East", "East", "West", "West", "East", "West"])
TEAMS = ["Gamma", "Gamma", "Zeta", "Alpha", "Delta", "Epsilon", "Eta", "Beta", "Theta"]
AMOUNTS = [20000, 20000, 19000, 25000, 14000, 17000, 14000, 20000, 23000]


def test_concat_help_examples() -> None:
    assert run("Concat", TEAM_GROUPS, TEAMS) == ["AlphaBetaDeltaGammaGamma", "EpsilonEtaThetaZeta"]
    dashes = ["-"] * 9
    assert run("Concat", TEAM_GROUPS, TEAMS, dashes, modifier="DISTINCT") == [
        "Alpha-Beta-Delta-Gamma",
        "Epsilon-Eta-Theta-Zeta",
    ]
    assert run("Concat", TEAM_GROUPS, TEAMS, dashes, AMOUNTS, modifier="DISTINCT") == [
        "Delta-Beta-Gamma-Alpha",
        "Eta-Epsilon-Zeta-Theta",
    ]


def test_concat_weight_ties_break_by_text_and_null_weights_last() -> None:
    values = ["b", "a", "c", "d", "e"]
    weights = [1, 1, 0, NULL, -5]
    assert run("Concat", [0] * 5, values, [", "] * 5, weights) == ["e, c, a, b, d"]


def test_concat_skips_null_and_uses_number_text() -> None:
    codes = [0, 0, 0, 1, 2]
    values = [2, NULL, "x", NULL, 1.5]
    assert run("Concat", codes, values, [";", ";", ";", ";", NULL]) == ["2;x", NULL, "1.5"]


def test_concat_distinct_keeps_lowest_weight() -> None:
    values = ["a", "b", "a"]
    assert run("Concat", [0, 0, 0], values, [","] * 3, [3, 2, 1], modifier="DISTINCT") == ["a,b"]
    assert run("Concat", [0, 0, 0], values, [","] * 3, [3, 2, 1]) == ["a,b,a"]


# -- whole input and speed -----------------------------------------------------------------------------------
def test_no_rows_is_one_empty_group() -> None:
    groups = Groups.single(0)
    ctx = EvalContext(length=0)
    empty = Column.from_values([])
    expected = {"Sum": 0.0, "Count": 0.0, "Avg": NULL, "Max": NULL, "Only": NULL, "Concat": NULL, "Mode": NULL}
    for name, value in expected.items():
        assert registry.call_aggregate(registry.lookup(name), [empty], groups, ctx, None).values() == [value]


ROWS = 200_000
SPEED_CASES = [
    ("Sum", ["num"]),
    ("Avg", ["num"]),
    ("Min", ["num"]),
    ("Max", ["num", "rank"]),
    ("Median", ["num"]),
    ("Stdev", ["num"]),
    ("Count", ["mixed"]),
    ("Count", [None]),
    ("NumericCount", ["mixed"]),
    ("TextCount", ["mixed"]),
    ("NullCount", ["mixed"]),
    ("MissingCount", ["mixed"]),
    ("Only", ["mixed"]),
    ("Mode", ["mixed"]),
    ("FirstValue", ["mixed"]),
    ("LastValue", ["mixed"]),
    ("MinString", ["text"]),
    ("MaxString", ["mixed"]),
    ("FirstSortedValue", ["text", "num", "rank"]),
    ("Concat", ["text", "delim", "num"]),
]


@pytest.fixture(scope="module")
def big() -> tuple[Groups, dict[str, Column]]:
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 5_000, ROWS)
    _, codes = np.unique(codes, return_inverse=True)
    num = rng.random(ROWS) * 1000
    num[::11] = np.nan
    words = np.array([f"w{k}" for k in range(2_000)], dtype=object)[rng.integers(0, 2_000, ROWS)]
    words[::13] = None
    mixed_text = words.copy()
    mixed_text[::3] = None
    mixed_num = np.where(np.arange(ROWS) % 3 == 0, np.round(num), np.nan)
    columns = {
        "num": Column.from_numbers(num),
        "text": Column.from_texts(words),
        "mixed": Column(mixed_text, mixed_num, ROWS),
        "rank": Column.constant(2.0, ROWS),
        "delim": Column.constant(",", ROWS),
    }
    return Groups(codes.astype(np.int64), int(codes.max()) + 1), columns


@pytest.mark.parametrize("modifier", [None, "DISTINCT"])
@pytest.mark.parametrize(("name", "args"), SPEED_CASES)
def test_aggregations_are_fast(big, name: str, args: list[str | None], modifier: str | None) -> None:
    groups, columns = big
    ctx = EvalContext(length=ROWS)
    arguments = [None if a is None else columns[a] for a in args]
    start = time.perf_counter()
    result = registry.call_aggregate(registry.lookup(name), arguments, groups, ctx, modifier)
    elapsed = time.perf_counter() - start
    assert len(result) == groups.count
    assert elapsed < 1.0, f"{name} took {elapsed:.2f}s"
