"""ErrorMode, ScriptError, ScriptErrorCount/List and the positions errors report."""

from __future__ import annotations

import pytest

import qscript
from qscript.errors import ScriptSyntaxError, UnsupportedStatementError


def test_error_mode_0_skips_the_failing_statement_and_next_success_resets(run_script):
    script = """SET ErrorMode = 0;
LET a = 1 +;
LET code = ScriptError;
LET text = '$(ScriptError)';
LET after = ScriptError;
"""
    result = run_script(script)
    v = result.variables
    assert "a" not in v
    assert v["code"] == "Syntax Error"  # LET copies the dual; its text shows
    assert v["text"] == ""  # the LET before it succeeded and reset ScriptError to 0
    assert v["after"] == ""
    assert v["ScriptErrorCount"] == "1"
    assert v["ScriptErrorList"] == "Syntax Error"
    assert result.error_count == 1


def test_script_error_is_a_dual_comparable_to_its_code(run_script):
    script = """SET ErrorMode = 0;
$(Must_Include=missing.qvs);
IF ScriptError = 8 THEN
  TRACE file not found handled;
END IF
LET n = Num(ScriptError);
"""
    result = run_script(script)
    assert result.log[-1] == "file not found handled"
    assert result.variables["n"] == "0"  # the IF line does not reset, the TRACE did


def test_error_count_and_list_accumulate(run_script):
    script = """SET ErrorMode = 0;
LET a = (;
BINARY x.qvw;
$(Must_Include=nope.qvs);
"""
    v = run_script(script).variables
    assert v["ScriptErrorCount"] == "3"
    assert v["ScriptErrorList"].split("\n") == ["Syntax Error", "General Error", "File Not Found"]


def test_error_mode_1_stops_with_position_and_statement(run_script):
    script = "SET a = 1;\n\nLET b = 2 * (3 +;\nTRACE never;"
    with pytest.raises(ScriptSyntaxError) as info:
        run_script(script, file_name="orders.qvs")
    error = info.value
    assert error.code == 2
    assert (error.file, error.line, error.column) == ("orders.qvs", 3, 16)
    assert error.statement == "LET b = 2 * (3 +"
    assert str(error) == "orders.qvs:3:16: ScriptError 2 (Syntax Error): unexpected end of statement"


def test_error_mode_2_also_stops(run_script):
    with pytest.raises(qscript.ScriptError):
        run_script("SET ErrorMode = 2;\nLET x = ;;\nLET y = (;")


def test_syntax_error_inside_expanded_text_points_at_the_dollar(run_script):
    script = "SET v = 1 +;\nLET x = 2 + $(v);"
    with pytest.raises(ScriptSyntaxError) as info:
        run_script(script)
    assert (info.value.line, info.value.column) == (2, 13)
    assert "expanded text" in info.value.message


def test_unsupported_statement_is_named(run_script):
    with pytest.raises(UnsupportedStatementError) as info:
        run_script("SET a = 1;\nBINARY [lib://apps/app.qvw];")
    assert info.value.code == 1
    assert "unsupported statement: BINARY" in str(info.value)
    assert info.value.line == 2


def test_unknown_function_and_wrong_arity(run_script):
    with pytest.raises(ScriptSyntaxError, match="Unknown function: NoSuchFn"):
        run_script("LET x = NoSuchFn(1);")
    with pytest.raises(ScriptSyntaxError, match=r"Left\(\) takes 2 argument\(s\), 1 given"):
        run_script("LET x = Left('abc');")


def test_control_clause_error_under_error_mode_0_counts_as_false(run_script):
    script = """SET ErrorMode = 0;
IF 1 + THEN
  TRACE wrong;
ELSE
  TRACE else taken;
END IF
FOR i = 1 TO Nope(3)
  TRACE never;
NEXT
"""
    result = run_script(script)
    assert result.log[-3:] == [result.log[-3], "else taken", result.log[-1]]
    assert result.variables["ScriptErrorCount"] == "2"


def test_unclosed_if_is_a_syntax_error_at_the_if(run_script):
    with pytest.raises(ScriptSyntaxError) as info:
        run_script("SET a = 1;\nIF a = 1 THEN\n  TRACE x;\n")
    assert info.value.line == 2
    assert "IF without END IF" in info.value.message


def test_error_messages_are_written_to_the_log(run_script):
    result = run_script("SET ErrorMode = 0;\nLET x = (;", file_name="s.qvs")
    assert result.log == ["s.qvs:2:9: ScriptError 2 (Syntax Error): unexpected end of statement"]
