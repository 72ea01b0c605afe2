"""Golden tests for LOAD and the data model: each compares whole DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import qscript


def frame(**columns) -> pd.DataFrame:
    """Expected frames: ints -> int64, floats with None -> float64, strings -> string."""
    data = {}
    for name, values in columns.items():
        if all(isinstance(v, str) or v is None for v in values) and any(isinstance(v, str) for v in values):
            data[name] = pd.Series(values, dtype="string")
        elif all(isinstance(v, int) for v in values):
            data[name] = pd.Series(values, dtype="int64")
        else:
            data[name] = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    return pd.DataFrame(data)


def check(result, name: str, expected: pd.DataFrame) -> None:
    assert name in result.tables, f"no table {name}; tables: {list(result.tables)}"
    assert_frame_equal(result.tables[name], expected, check_names=True)


def test_auto_concatenation_ignores_the_label_and_drop_fails_with_10(run_script):
    script = """
    A: LOAD * INLINE [x
    1];
    B: LOAD * INLINE [x
    2];
    """
    result = run_script(script)
    assert list(result.tables) == ["A"]
    check(result, "A", frame(x=[1, 2]))
    with pytest.raises(qscript.ScriptError) as info:
        run_script(script + "DROP TABLE B;")
    assert info.value.code == 10
    result = run_script(script + "SET ErrorMode = 0;\nDROP TABLE B;\nLET e = Num(ScriptError);")
    assert result.variables["e"] == "10"
    check(result, "A", frame(x=[1, 2]))


def test_noconcatenate_gives_t_and_t_minus_1(run_script):
    script = """
    T: LOAD * INLINE [x
    1];
    T: NoConcatenate LOAD * INLINE [x
    2];
    T: LOAD * INLINE [y
    3];
    """
    result = run_script(script)
    assert list(result.tables) == ["T", "T-1", "T-2"]
    check(result, "T-1", frame(x=[2]))
    check(result, "T-2", frame(y=[3]))


def test_forced_concatenation_fills_nulls(run_script):
    script = """
    T: LOAD * INLINE [a, b
    1, x];
    Concatenate (T) LOAD * INLINE [a, c
    2, y];
    """
    check(run_script(script), "T", frame(a=[1, 2], b=["x", None], c=[None, "y"]))


def test_join_without_target_uses_last_loaded_table(run_script):
    script = """
    Orders: LOAD * INLINE [OrderId, CustId
    1, 10
    2, 20
    3, 30];
    Customers: LOAD * INLINE [Id, Name
    10, Ann];
    Orders2: NoConcatenate LOAD OrderId, CustId RESIDENT Orders;
    JOIN LOAD * INLINE [CustId, Name
    10, Ann
    20, Bob];
    """
    result = run_script(script)
    check(result, "Orders2", frame(OrderId=[1, 2, 3], CustId=[10, 20, 30], Name=["Ann", "Bob", None]))


def test_left_join_fans_out_on_duplicate_keys(run_script):
    script = """
    T: LOAD * INLINE [k, v
    1, a
    2, b
    3, c];
    LEFT JOIN (T) LOAD * INLINE [k, w
    1, p
    1, q
    2, r
    4, s];
    """
    check(run_script(script), "T", frame(k=[1, 1, 2, 3], v=["a", "a", "b", "c"], w=["p", "q", "r", None]))


def test_inner_and_outer_join(run_script):
    base = """
    T: LOAD * INLINE [k, v
    1, a
    2, b];
    {prefix} JOIN (T) LOAD * INLINE [k, w
    2, x
    3, y];
    """
    check(run_script(base.format(prefix="INNER")), "T", frame(k=[2], v=["b"], w=["x"]))
    check(run_script(base.format(prefix="OUTER")), "T", frame(k=[1, 2, 3], v=["a", "b", None], w=[None, "x", "y"]))
    check(run_script(base.format(prefix="RIGHT")), "T", frame(k=[2, 3], v=["b", None], w=["x", "y"]))


def test_join_keys_match_by_value_and_null_keys_never_match(run_script):
    script = """
    T: LOAD If(k = 'n', Null(), k) as k, v INLINE [k, v
    007, a
    n, b];
    LEFT JOIN (T) LOAD If(k = 'n', Null(), k) as k, w INLINE [k, w
    7, seven
    n, nothing];
    """
    result = run_script(script)
    assert result.tables["T"]["w"].tolist()[0] == "seven"
    assert pd.isna(result.tables["T"]["w"].tolist()[1])


def test_keep_filters_without_merging(run_script):
    script = """
    A: LOAD * INLINE [k, a
    1, x
    2, y];
    B: LEFT KEEP (A) LOAD * INLINE [k, b
    2, p
    3, q];
    C: LOAD * INLINE [j, c
    1, r];
    """
    result = run_script(script)
    check(result, "A", frame(k=[1, 2], a=["x", "y"]))
    check(result, "B", frame(k=[2], b=["p"]))
    script_inner = script.replace("LEFT KEEP", "INNER KEEP").replace("2, p\n    3, q", "2, p\n    3, q\n    1, z")
    result = run_script(script_inner)
    check(result, "A", frame(k=[1, 2], a=["x", "y"]))
    check(result, "B", frame(k=[2, 1], b=["p", "z"]))


def test_preceding_load_uses_a_field_made_below_it(run_script):
    script = """
    T:
    LOAD *, Year(OrderDate) as OrderYear WHERE Amount > 5;
    LOAD Id, Date#(Day, 'YYYY-MM-DD') as OrderDate, Amount * 2 as Amount INLINE [Id, Day, Amount
    1, 2023-12-31, 2
    2, 2024-01-15, 5];
    """
    result = run_script(script)
    expected = pd.DataFrame(
        {
            "Id": pd.Series([2], dtype="int64"),
            "OrderDate": pd.Series([np.datetime64("2024-01-15", "ms")]),
            "Amount": pd.Series([10], dtype="int64"),
            "OrderYear": pd.Series([2024], dtype="int64"),
        }
    )
    check(result, "T", expected)


def test_recno_vs_rowno_with_where_and_concatenation(run_script):
    # help "RecNo": RecNo counts input records per source, RowNo the rows of the table
    script = """
    T: LOAD *, RecNo() as R, RowNo() as N INLINE [x
    a
    b
    c] WHERE x <> 'b';
    Concatenate (T) LOAD *, RecNo() as R, RowNo() as N INLINE [x
    d
    e
    f] WHERE x <> 'd';
    """
    check(run_script(script), "T", frame(x=["a", "c", "e", "f"], R=[1, 3, 2, 3], N=[1, 2, 3, 4]))


def test_peek_first_row_zero_minus_one_and_out_of_range(run_script):
    script = """
    T: LOAD x, Peek('x') as prev, Peek('x', 0) as first, Peek('x', 5) as far,
            RangeSum(Peek('total'), x) as total INLINE [x
    1
    2
    3];
    LET a = Peek('x', 0, 'T');
    LET b = Peek('x', -1, 'T');
    LET c = Peek('x', 9, 'T');
    LET d = Peek('x');
    """
    result = run_script(script)
    check(result, "T", frame(x=[1, 2, 3], prev=[None, 1, 2], first=[None, 1, 1], far=[None, None, None],
                             total=[1, 3, 6]))
    v = result.variables
    assert (v["a"], v["b"], v["c"], v["d"]) == ("1", "3", "", "3")


def test_where_not_exists_dedups_inside_one_load(run_script):
    script = """
    T: LOAD * INLINE [Id, v
    1, a
    2, b
    1, c
    3, d
    2, e] WHERE NOT Exists(Id);
    """
    check(run_script(script), "T", frame(Id=[1, 2, 3], v=["a", "b", "d"]))


def test_exists_sees_values_of_earlier_tables(run_script):
    script = """
    A: LOAD * INLINE [Id
    1
    2];
    B: LOAD Id as Other, Exists(Id, Id) as Seen INLINE [Id
    2
    3];
    """
    check(run_script(script), "B", frame(Other=[2, 3], Seen=[-1, 0]))


def test_apply_map_cases(run_script):
    script = """
    M: MAPPING LOAD * INLINE [k, v
    1, one
    2, two
    2, second];
    T: LOAD k, ApplyMap('M', k) as plain, ApplyMap('M', k, 'xxx') as dflt,
            ApplyMap('M', k, Null()) as nul INLINE [k
    1
    2
    4];
    """
    result = run_script(script)
    check(result, "T", frame(k=[1, 2, 4], plain=["one", "two", "4"], dflt=["one", "two", "xxx"],
                             nul=["one", "two", None]))
    assert "M" not in result.tables


def test_two_argument_subfield_makes_rows(run_script):
    script = """
    T: LOAD Id, SubField(Tags, ';') as Tag INLINE [Id|Tags
    1|a;b;c
    2|d
    3|] (delimiter is '|');
    """
    check(run_script(script), "T", frame(Id=[1, 1, 1, 2, 3], Tag=["a", "b", "c", "d", ""]))


def test_textbetween_missing_and_adjacent(run_script):
    script = """
    T: LOAD s, TextBetween(s, '<', '>') as t INLINE [s
    <a>
    <>
    none
    x<y] ;
    """
    check(run_script(script), "T", frame(s=["<a>", "<>", "none", "x<y"], t=["a", "", None, None]))


def test_null_algebra_in_a_load(run_script):
    script = """
    T: LOAD 'a' & Null() as c, 1 + Null() as s, If(Null(), 1, 2) as i, IsNull(Null()) as n,
            Len('') as l AUTOGENERATE 1;
    W: LOAD 1 as w AUTOGENERATE 1 WHERE Null() = Null();
    """
    result = run_script(script)
    check(result, "T", frame(c=["a"], s=[None], i=[2], n=[-1], l=[0]))
    assert "W" not in result.tables or len(result.tables["W"]) == 0


def test_crosstable(run_script):
    script = """
    CROSSTABLE(Month, Sales) LOAD * INLINE [Region, Jan, Feb
    N, 1, 2
    S, 3, 4];
    """
    result = run_script(script)
    (table,) = result.tables.values()
    assert_frame_equal(table, frame(Region=["N", "N", "S", "S"], Month=["Jan", "Feb", "Jan", "Feb"],
                                    Sales=[1, 2, 3, 4]))


def test_group_by_with_concat_and_firstsortedvalue(run_script):
    script = """
    T: LOAD * INLINE [g, name, w
    a, x, 3
    a, y, 1
    b, z, 5
    a, x, 2];
    G: LOAD g, Concat(name, ',') as names, Concat(DISTINCT name, '-') as dn,
            FirstSortedValue(name, w) as lightest, Sum(w) as total, Count(name) as n
       RESIDENT T GROUP BY g;
    """
    check(run_script(script), "G", frame(g=["a", "b"], names=["x,x,y", "z"], dn=["x-y", "z"],
                                         lightest=["y", "z"], total=[6, 5], n=[3, 1]))


def test_interpretation_round_trips(run_script):
    script = """
    LET d = Date(Date#('2024-01-31', 'YYYY-MM-DD'), 'YYYY-MM-DD');
    LET t = Timestamp(Timestamp#('2024-01-31 13:45:30', 'YYYY-MM-DD hh:mm:ss'), 'YYYY-MM-DD hh:mm:ss');
    LET n = Num(Num#('1,234.50', '#,##0.00'), '#,##0.00');
    LET dn = Num(Date#('2024-01-31', 'YYYY-MM-DD'));
    LET tn = Num(Timestamp#('2024-01-31 12:00:00', 'YYYY-MM-DD hh:mm:ss'));
    """
    v = run_script(script).variables
    assert (v["d"], v["t"], v["n"], v["dn"], v["tn"]) == (
        "2024-01-31", "2024-01-31 13:45:30", "1,234.50", "45322", "45322.5",
    )


def test_load_distinct_and_order_by(run_script):
    script = """
    T: LOAD * INLINE [a, b
    2, x
    1, y
    2, x
    10, z];
    S: NoConcatenate LOAD DISTINCT a, b RESIDENT T ORDER BY a DESC;
    """
    check(run_script(script), "S", frame(a=[10, 2, 1], b=["z", "x", "y"]))


def test_autogenerate_while_calendar(run_script):
    script = """
    LET vStart = Num(MakeDate(2024, 1, 30));
    LET vEnd = Num(MakeDate(2024, 2, 2));
    Cal: LOAD Date($(vStart) + IterNo() - 1, 'YYYY-MM-DD') as D, IterNo() as I
         AUTOGENERATE 1 WHILE $(vStart) + IterNo() - 1 <= $(vEnd);
    """
    result = run_script(script)
    table = result.tables["Cal"]
    assert table["D"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"]
    assert table["I"].tolist() == [1, 2, 3, 4]


def test_field_value_list_in_for_each(run_script):
    script = """
    T: LOAD * INLINE [c
    b
    a
    b];
    FOR EACH v IN FieldValueList('c')
      TRACE $(v);
    NEXT
    """
    assert run_script(script).log[-2:] == ["b", "a"]


def test_failed_statement_leaves_tables_as_they_were(run_script):
    script = """
    SET ErrorMode = 0;
    T: LOAD * INLINE [a
    1];
    Concatenate (T) LOAD a, NoSuchField as b INLINE [a
    2];
    """
    result = run_script(script)
    check(result, "T", frame(a=[1]))
    assert result.variables["ScriptErrorCount"] == "1"
