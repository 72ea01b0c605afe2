"""SET/LET semantics, system variables, expansion at run time and variables from outside."""

from __future__ import annotations

import pytest


def test_set_keeps_raw_text_and_let_evaluates(run_script):
    result = run_script("SET x = 3+4;\nLET y = 3+4;\nz = $(y)+1;\nLET w = $(x) * 2;")
    assert result.variables["x"] == "3+4"
    assert result.variables["y"] == "7"
    assert result.variables["z"] == "8"
    assert result.variables["w"] == "11"  # textual: 3+4 * 2


def test_set_strips_one_quoted_string_and_keeps_other_text(run_script):
    result = run_script(
        "SET a = 'Jan;Feb';\nSET b = 'it''s';\nSET c = 'a' & 'b';\nSET d =   spaced out  ;\nSET e;\nSET f = ;"
    )
    assert result.variables["a"] == "Jan;Feb"
    assert result.variables["b"] == "it's"
    assert result.variables["c"] == "'a' & 'b'"
    assert result.variables["d"] == "spaced out"
    assert result.variables["e"] == ""
    assert result.variables["f"] == ""


def test_let_of_empty_expression_and_null_gives_empty_text(run_script):
    result = run_script("LET a = ;\nLET b = Null();\nLET c = Len('$(b)');")
    assert result.variables["a"] == ""
    assert result.variables["b"] == ""
    assert result.variables["c"] == "0"


def test_undefined_variable_expands_to_empty_text(run_script):
    result = run_script("LET x = 'a$(nothing)b';")
    assert result.variables["x"] == "ab"


def test_let_keeps_full_precision_but_text_is_rounded(run_script):
    result = run_script("LET third = 1/3;\nLET back = third * 3;\nLET viaText = $(third) * 3;")
    assert result.variables["third"] == "0.33333333333333"
    assert result.variables["back"] == "1"
    assert result.variables["viaText"] == "0.99999999999999"


def test_decimal_sep_changes_text_but_not_hash_expansion(run_script):
    result = run_script("SET DecimalSep = ',';\nLET x = 7/2;\nSET t = $(x);\nSET n = $(#x);\nSET u = $(#undefined);")
    assert result.variables["t"] == "3,5"
    assert result.variables["n"] == "3.5"
    assert result.variables["u"] == "0"


def test_system_variables_have_qlik_defaults(run_script):
    v = run_script("").variables
    assert v["DateFormat"] == "M/D/YYYY"
    assert v["TimestampFormat"] == "M/D/YYYY h:mm:ss[.fff] TT"
    assert v["DecimalSep"] == "." and v["ThousandSep"] == ","
    assert v["MoneyFormat"] == "$#,##0.00;-$#,##0.00"
    assert v["MonthNames"].split(";")[0] == "Jan" and v["DayNames"].split(";")[0] == "Mon"
    assert v["ErrorMode"] == "1" and v["ScriptError"] == "" and v["ScriptErrorCount"] == "0"


def test_today_gotcha_stores_formatted_text(run_script):
    result = run_script("LET vD = Today();\nLET asDivision = $(vD);\nLET asText = '$(vD)';\nLET n = Num(Today());")
    assert result.variables["vD"] == "1/31/2024"
    assert float(result.variables["asDivision"]) == pytest.approx(1 / 31 / 2024, rel=1e-12)
    assert result.variables["asText"] == "1/31/2024"
    assert result.variables["n"] == "45322"


def test_variables_from_outside_are_visible(run_script):
    result = run_script("LET y = vIn & '!';\nTRACE $(vIn);", variables={"vIn": "hello"})
    assert result.variables["y"] == "hello!"
    assert result.log == ["hello"]


def test_drop_variables(run_script):
    result = run_script("SET a = 1;\nSET b = 2;\nSET c = 3;\nDROP VARIABLES a, b;\nDrop Variable c;")
    assert "a" not in result.variables and "b" not in result.variables and "c" not in result.variables


def test_variable_names_are_case_sensitive(run_script):
    result = run_script("SET v = lower;\nSET V = upper;\nTRACE $(v) $(V);")
    assert result.log == ["lower upper"]


def test_bracketed_and_expanded_variable_names(run_script):
    result = run_script("SET p = pre;\nLET [$(p)_name] = 'x';\nSET $(p)2 = y;\nTRACE $(pre_name)$(pre2);")
    assert result.log == ["xy"]


def test_set_and_let_accept_when_unless_prefixes(run_script):
    result = run_script("SET a = 1;\nWHEN a = 1 SET b = yes;\nUNLESS a = 1 SET c = no;\nWHEN 0 TRACE hidden;")
    assert result.variables["b"] == "yes"
    assert "c" not in result.variables
    assert result.log == []
