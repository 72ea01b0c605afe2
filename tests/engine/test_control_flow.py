"""Control flow as Qlik runs it: IF, FOR, FOR EACH, DO/LOOP, SUB/CALL, SWITCH, EXIT, SLEEP."""

from __future__ import annotations

import pytest

import qscript


def test_if_elseif_else_and_endif_spellings(run_script):
    script = """
    FOR EACH v IN 1, 2, 3
      IF v = 1 THEN
        TRACE one;
      ELSEIF v = 2 THEN
        TRACE two;
      ELSE
        TRACE other $(v);
      ENDIF
    NEXT
    IF 1 = 1 THEN TRACE inline; End If
    if 0 then; trace never; end if;
    """
    assert run_script(script).log == ["one", "two", "other 3", "inline"]


def test_if_with_nested_parentheses_and_null_condition(run_script):
    script = """
    IF (Len('ab') = 2 and (1 < 2 or 0)) THEN
      TRACE yes;
    END IF
    IF Null() THEN
      TRACE null-is-true;
    ELSE
      TRACE null-is-false;
    END IF
    """
    assert run_script(script).log == ["yes", "null-is-false"]


def test_for_bounds_are_evaluated_once(run_script):
    script = """
    LET n = 3;
    FOR i = 1 TO n
      LET n = n + 10;
      TRACE $(i);
    NEXT i
    """
    result = run_script(script)
    assert result.log == ["1", "2", "3"]
    assert result.variables["n"] == "33"


def test_for_with_negative_and_fractional_step(run_script):
    script = """
    FOR i = 3 TO 1 STEP -1
      TRACE $(i);
    NEXT
    FOR k = 0 TO 1 STEP 0.25
      TRACE k$(k);
    NEXT k
    """
    assert run_script(script).log == ["3", "2", "1", "k0", "k0.25", "k0.5", "k0.75", "k1"]


def test_assigning_the_counter_does_not_move_the_loop(run_script):
    script = "FOR i = 1 TO 3\n LET i = 100;\n SET seen = $(seen)x;\nNEXT"
    assert run_script(script, variables={"seen": ""}).variables["seen"] == "xxx"


def test_for_each_over_constants_expressions_and_expanded_lists(run_script):
    script = """
    SET vPages = '1','2','3';
    FOR EACH p IN $(vPages)
      TRACE page $(p);
    NEXT p
    FOR EACH x IN 'a', (1+1), Upper('c')
      TRACE $(x);
    NEXT
    """
    assert run_script(script).log == ["page 1", "page 2", "page 3", "a", "2", "C"]


def test_for_each_filelist(run_script, tmp_path):
    for name in ("b.csv", "a.csv", "c.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    script = """
    FOR EACH f IN FileList('*.csv')
      TRACE $(=SubField('$(f)', '/', -1));
    NEXT
    FOR EACH d IN DirList('*')
      TRACE dir $(=SubField('$(d)', '/', -1));
    NEXT
    """
    assert run_script(script).log == ["a.csv", "b.csv", "dir sub"]


def test_do_loop_until_at_the_bottom(run_script):
    script = """
    LET page = 0;
    DO
      LET page = page + 1;
      TRACE fetch $(page);
    LOOP UNTIL page >= 3
    """
    result = run_script(script)
    assert result.log == ["fetch 1", "fetch 2", "fetch 3"]


def test_do_while_at_the_top_may_run_zero_times(run_script):
    script = """
    LET i = 5;
    DO WHILE i < 3
      TRACE never;
    LOOP
    DO WHILE i < 7
      LET i = i + 1;
    LOOP
    TRACE $(i);
    """
    assert run_script(script).log == ["7"]


def test_exit_do_and_exit_for_with_when_and_unless(run_script):
    script = """
    LET i = 0;
    DO
      LET i = i + 1;
      EXIT DO WHEN i = 3
      TRACE d$(i);
    LOOP
    FOR j = 1 TO 10
      EXIT FOR UNLESS j < 3
      TRACE f$(j);
    NEXT
    """
    assert run_script(script).log == ["d1", "d2", "f1", "f2"]


def test_sub_copy_back_of_variable_arguments(run_script):
    # Qlik's ParTrans example: A comes back changed, the expression argument does not,
    # and the formal C is local (the global C keeps its value).
    script = """
    SUB ParTrans(A, B, C)
      A = A + 1;
      B = B + 1;
      C = C + 1;
    END SUB
    A = 1;
    X = 1;
    C = 1;
    CALL ParTrans(A, (X + 1) * 2)
    """
    v = run_script(script).variables
    assert (v["A"], v["X"], v["C"]) == ("2", "1", "1")
    assert "B" not in v


def test_call_with_omitted_arguments_gives_null_formals(run_script):
    script = """
    Sub Show(a, b, c)
      TRACE [$(a)] [$(b)] [$(c)] $(=IsNull(a)) $(=IsNull(b));
    End Sub
    Call Show(, Null(), 'x')
    Call Show
    """
    assert run_script(script).log == ["[] [] [x] -1 -1", "[] [] [] -1 -1"]


def test_sub_must_be_defined_before_call(run_script):
    with pytest.raises(qscript.ScriptError) as info:
        run_script("CALL Later;\nSUB Later\n TRACE x;\nEND SUB")
    assert "Sub not found: Later" in str(info.value)
    assert info.value.line == 1


def test_exit_sub_and_recursion(run_script):
    script = """
    SUB Countdown(n)
      EXIT SUB WHEN n <= 0
      TRACE $(n);
      CALL Countdown(n - 1)
    END SUB
    CALL Countdown(3)
    """
    assert run_script(script).log == ["3", "2", "1"]


def test_exit_script_inside_a_sub_ends_the_reload_normally(run_script):
    script = """
    SUB Stop
      TRACE stopping;
      EXIT SCRIPT;
      TRACE not here;
    END SUB
    CALL Stop
    TRACE not reached;
    """
    result = run_script(script)
    assert result.log == ["stopping"]
    assert result.error_count == 0


def test_nested_if_inside_for_each_inside_sub(run_script):
    script = """
    SUB Classify(list)
      FOR EACH n IN $(list)
        IF n > 2 THEN
          IF Mod(n, 2) = 0 THEN
            TRACE $(n) big even;
          ELSE
            TRACE $(n) big odd;
          END IF
        ELSE
          TRACE $(n) small;
        END IF
      NEXT n
    END SUB
    SET vList = 1, 3, 4;
    CALL Classify('$(vList)')
    """
    assert run_script(script).log == ["1 small", "3 big odd", "4 big even"]


def test_switch_case_default(run_script):
    script = """
    FOR EACH v IN 'a', 'b', 'z'
      SWITCH v
      CASE 'a'
        TRACE is a;
      CASE 'b', 'c'
        TRACE b or c;
      DEFAULT
        TRACE other;
      END SWITCH
    NEXT
    """
    assert run_script(script).log == ["is a", "b or c", "other"]


def test_sleep_uses_the_injected_clock(run_script, clock):
    result = run_script("SLEEP 2000;\nSLEEP 500 * 2;\nLET t = Now();")
    assert clock.sleeps == [2.0, 1.0]
    assert result.variables["t"] == "1/31/2024 1:45:33 PM"


def test_sleep_is_capped_at_one_hour(run_script, clock):
    run_script("SLEEP 99999999;")
    assert clock.sleeps == [3600.0]


def test_control_lines_are_expanded_each_time(run_script):
    script = """
    SET vOp = <;
    LET i = 0;
    DO WHILE i $(vOp) 3
      LET i = i + 1;
      WHEN i = 2 SET vOp = <=;
    LOOP
    TRACE $(i);
    """
    assert run_script(script).log == ["4"]


def test_expansion_can_inject_syntax(run_script):
    script = """
    SET vPrefix = WHEN 1 = 1;
    SET vCond = 2 > 1;
    $(vPrefix) TRACE injected;
    IF $(vCond) THEN
      TRACE condition from a variable;
    END IF
    SET vStatement = LET z = 5 * 5;
    $(vStatement);
    SET vTwo = SET p = 1%3B SET q = 2;
    """
    result = run_script(script)
    assert result.log == ["injected", "condition from a variable"]
    assert result.variables["z"] == "25"


def test_expansion_holding_several_statements_runs_them_all(run_script):
    script = (
        "LET vScript = 'SET a = 1;' & Chr(10) & 'IF a = 1 THEN' & Chr(10) & 'TRACE ran;' & Chr(10) & 'END IF';\n"
        "$(vScript);"
    )
    result = run_script(script)
    assert result.log == ["ran"]
    assert result.variables["a"] == "1"


def test_parameterised_variable_with_dollar_zero(run_script):
    script = """
    SET vAdd = ($1 + $2);
    SET vCount = $0 args: $1;
    LET s = $(vAdd(2,3)) * 10;
    TRACE $(vCount(a,b,c));
    SET vPartial = $1 and $3;
    TRACE $(vPartial(x));
    """
    result = run_script(script)
    assert result.variables["s"] == "50"
    assert result.log == ["3 args: a", "x and $3"]


def test_nested_expansion_innermost_first(run_script):
    script = "SET i = 2;\nSET v2 = second;\nSET ref = v2;\nTRACE $(v$(i)) $($(ref)) $(=1+2);"
    assert run_script(script).log == ["second second 3"]


def test_include_and_must_include(run_script, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "common.qvs").write_text(
        "SUB Hello(who)\n  TRACE hello $(who);\nEND SUB\nSET fromInclude = 1;\n"
    )
    script = """
    $(Include=lib://lib/common.qvs);
    $(Include=missing.qvs);
    CALL Hello('world')
    SET vFile = common.qvs;
    $(Must_Include=[lib://lib/$(vFile)]);
    """
    result = run_script(script)
    assert result.log == ["hello world"]
    assert result.variables["fromInclude"] == "1"


def test_must_include_of_missing_file_is_error_8(run_script):
    with pytest.raises(qscript.ScriptError) as info:
        run_script("SET a = 1;\n$(Must_Include=nowhere.qvs);")
    assert info.value.code == 8
    assert (info.value.line, info.value.column) == (2, 1)
