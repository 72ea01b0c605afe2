"""The block builder: control lines nested into IF/FOR/DO/SUB/SWITCH blocks."""

from __future__ import annotations

import pytest

from qscript.errors import ScriptSyntaxError
from qscript.script.blocks import Block, DoBlock, ForBlock, IfBlock, SubBlock, SwitchBlock, build
from qscript.script.splitter import RawStatement, split
from qscript.span import Span


def shape(blocks: list[Block] | None) -> list | None:
    """A block tree as nested tuples of statement texts, easy to compare exactly."""
    if blocks is None:
        return None
    out: list = []
    for block in blocks:
        if isinstance(block, RawStatement):
            out.append(block.text)
        elif isinstance(block, IfBlock):
            branches = [(clause.text, shape(body)) for clause, body in block.branches]
            out.append(("IF", branches, shape(block.otherwise), block.end.text))
        elif isinstance(block, ForBlock):
            out.append(("FOR", block.head.text, shape(block.body), block.end.text))
        elif isinstance(block, DoBlock):
            out.append(("DO", block.head.text, shape(block.body), block.end.text))
        elif isinstance(block, SubBlock):
            out.append(("SUB", block.head.text, shape(block.body)))
        elif isinstance(block, SwitchBlock):
            cases = [(case.text, shape(body)) for case, body in block.cases]
            out.append(("SWITCH", block.head.text, cases, shape(block.default)))
    return out


def tree(script: str) -> list:
    return shape(build(split(script)))


def build_error(script: str) -> ScriptSyntaxError:
    with pytest.raises(ScriptSyntaxError) as info:
        build(split(script, "app.qvs"))
    return info.value


# -- nesting -----------------------------------------------------------------------------


def test_flat_statements_stay_in_order():
    assert tree("SET a = 1;\nLET b = 2;\nTRACE x;") == ["SET a = 1", "LET b = 2", "TRACE x"]


def test_if_inside_for_each_inside_sub():
    script = (
        "SUB Fetch(vList)\n"
        "  TRACE start;\n"
        "  FOR EACH p IN $(vList)\n"
        "    IF p = 1 THEN\n"
        "      TRACE one;\n"
        "    END IF\n"
        "    LET n = n + 1;\n"
        "  NEXT p\n"
        "END SUB\n"
        "CALL Fetch('1,2')\n"
    )
    assert tree(script) == [
        (
            "SUB",
            "SUB Fetch(vList)",
            [
                "TRACE start",
                (
                    "FOR",
                    "FOR EACH p IN $(vList)",
                    [("IF", [("IF p = 1 THEN", ["TRACE one"])], None, "END IF"), "LET n = n + 1"],
                    "NEXT p",
                ),
            ],
        ),
        "CALL Fetch('1,2')",
    ]


def test_if_elseif_else_branches():
    script = (
        "IF a = 1 THEN\n  TRACE one;\n"
        "ELSEIF a = 2 THEN\n  TRACE two;\n  TRACE deux;\n"
        "ELSEIF a = 3 THEN\n"
        "ELSE\n  TRACE other;\n"
        "ENDIF"
    )
    assert tree(script) == [
        (
            "IF",
            [
                ("IF a = 1 THEN", ["TRACE one"]),
                ("ELSEIF a = 2 THEN", ["TRACE two", "TRACE deux"]),
                ("ELSEIF a = 3 THEN", []),
            ],
            ["TRACE other"],
            "ENDIF",
        )
    ]


def test_if_without_else_has_no_otherwise_and_empty_else_is_empty():
    assert tree("IF a THEN\nEND IF") == [("IF", [("IF a THEN", [])], None, "END IF")]
    assert tree("IF a THEN\nELSE\nEnd If") == [("IF", [("IF a THEN", [])], [], "End If")]


def test_if_block_keeps_raw_statements_with_spans():
    [block] = build(split("IF a THEN\n  TRACE x;\nEND IF", "f.qvs"))
    assert isinstance(block, IfBlock)
    [(clause, body)] = block.branches
    assert clause == RawStatement("IF a THEN", Span("f.qvs", 1, 1, 1, 9), "if")
    assert body == [RawStatement("TRACE x", Span("f.qvs", 2, 3, 2, 9), None)]
    assert block.end == RawStatement("END IF", Span("f.qvs", 3, 1, 3, 6), "endif")


def test_nested_ifs():
    script = "IF a THEN\n IF b THEN\n  TRACE ab;\n ELSE\n  TRACE a;\n END IF\nELSE\n TRACE none;\nEND IF"
    inner = ("IF", [("IF b THEN", ["TRACE ab"])], ["TRACE a"], "END IF")
    assert tree(script) == [("IF", [("IF a THEN", [inner])], ["TRACE none"], "END IF")]


def test_one_line_if():
    assert tree("IF a=1 THEN; DROP TABLE T; END IF;") == [("IF", [("IF a=1 THEN", ["DROP TABLE T"])], None, "END IF")]


def test_for_next_with_step():
    assert tree("FOR i = 10 TO 1 STEP -1\n  TRACE $(i);\nNEXT i") == [
        ("FOR", "FOR i = 10 TO 1 STEP -1", ["TRACE $(i)"], "NEXT i")
    ]


def test_do_loop_forms():
    script = "DO WHILE i < 3\n  LET i = i + 1;\nLOOP\nDO\n  LET j = j + 1;\nLOOP UNTIL j >= 3\nTRACE after;"
    assert tree(script) == [
        ("DO", "DO WHILE i < 3", ["LET i = i + 1"], "LOOP"),
        ("DO", "DO", ["LET j = j + 1"], "LOOP UNTIL j >= 3"),
        "TRACE after",
    ]


def test_exit_and_call_are_plain_entries():
    script = "DO\n  EXIT DO WHEN i > 2\n  CALL Step\nLOOP\nEXIT SCRIPT"
    assert tree(script) == [("DO", "DO", ["EXIT DO WHEN i > 2", "CALL Step"], "LOOP"), "EXIT SCRIPT"]
    [do, exit_script] = build(split(script))
    assert [raw.control for raw in do.body] == ["exit", "call"]
    assert exit_script.control == "exit"


def test_switch_case_default():
    script = (
        "SWITCH vMode\n"
        "CASE 'a', 'b'\n  TRACE ab;\n  TRACE again;\n"
        "CASE 'c'\n"
        "DEFAULT\n  TRACE other;\n"
        "END SWITCH"
    )
    assert tree(script) == [
        (
            "SWITCH",
            "SWITCH vMode",
            [("CASE 'a', 'b'", ["TRACE ab", "TRACE again"]), ("CASE 'c'", [])],
            ["TRACE other"],
        )
    ]


def test_switch_without_default_and_without_cases():
    assert tree("SWITCH x\nCASE 1\n TRACE one;\nEND SWITCH") == [
        ("SWITCH", "SWITCH x", [("CASE 1", ["TRACE one"])], None)
    ]
    assert tree("SWITCH x\nEND SWITCH") == [("SWITCH", "SWITCH x", [], None)]


def test_switch_inside_do_inside_if():
    script = "IF a THEN\nDO\nSWITCH x\nCASE 1\nEXIT DO\nEND SWITCH\nLOOP\nEND IF"
    switch = ("SWITCH", "SWITCH x", [("CASE 1", ["EXIT DO"])], None)
    assert tree(script) == [("IF", [("IF a THEN", [("DO", "DO", [switch], "LOOP")])], None, "END IF")]


def test_sub_block_has_head_and_body():
    [sub] = build(split("Sub Log(msg)\n  TRACE $(msg);\nEndSub"))
    assert isinstance(sub, SubBlock)
    assert sub.head.text == "Sub Log(msg)"
    assert sub.head.control == "sub"
    assert shape(sub.body) == ["TRACE $(msg)"]


def test_if_opened_in_one_tab_and_closed_in_another():
    script = "///$tab Main\nIF vFull = 1 THEN\n  TRACE full;\n///$tab Second\n  TRACE still inside;\nEND IF\nTRACE out;"
    assert tree(script) == [
        ("IF", [("IF vFull = 1 THEN", ["TRACE full", "TRACE still inside"])], None, "END IF"),
        "TRACE out",
    ]


def test_empty_script():
    assert build([]) == []


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "message", "line", "statement"),
    [
        ("SET a = 1;\nIF a = 1 THEN\n  TRACE x;\n", "IF without END IF", 2, "IF a = 1 THEN"),
        ("IF(a=1) THEN\n", "IF without END IF", 1, "IF(a=1) THEN"),
        ("FOR i = 1 TO 3\n TRACE $(i);", "FOR without NEXT", 1, "FOR i = 1 TO 3"),
        ("\nDO WHILE x\n", "DO without LOOP", 2, "DO WHILE x"),
        ("SUB a\n", "SUB without END SUB", 1, "SUB a"),
        ("SWITCH x\nCASE 1\n", "SWITCH without END SWITCH", 1, "SWITCH x"),
        ("IF a THEN\n FOR i = 1 TO 2\n NEXT\n", "IF without END IF", 1, "IF a THEN"),
        ("FOR i = 1 TO 2\n IF a THEN\n END IF\n", "FOR without NEXT", 1, "FOR i = 1 TO 2"),
    ],
)
def test_unclosed_block_points_at_its_opening_line(script, message, line, statement):
    error = build_error(script)
    assert error.message == message
    assert (error.file, error.line, error.column) == ("app.qvs", line, 1)
    assert error.statement == statement
    assert error.code == 2


@pytest.mark.parametrize(
    ("script", "message", "line"),
    [
        ("SET a = 1;\nEND IF", "END IF without IF", 2),
        ("ENDIF", "END IF without IF", 1),
        ("NEXT i", "NEXT without FOR", 1),
        ("LOOP WHILE x", "LOOP without DO", 1),
        ("END SUB", "END SUB without SUB", 1),
        ("ENDSWITCH", "END SWITCH without SWITCH", 1),
        ("ELSE", "ELSE without IF", 1),
        ("ELSEIF a THEN", "ELSEIF without IF", 1),
        ("CASE 1", "CASE without SWITCH", 1),
        ("DEFAULT", "DEFAULT without SWITCH", 1),
        ("IF a THEN\nEND IF\nEND IF", "END IF without IF", 3),
    ],
)
def test_stray_clause_or_closer(script, message, line):
    error = build_error(script)
    assert error.message == message
    assert (error.line, error.column) == (line, 1)


@pytest.mark.parametrize(
    ("script", "message", "line"),
    [
        ("FOR i = 1 TO 3\nIF a THEN\nNEXT i", "NEXT without FOR (IF at line 2 is still open)", 3),
        ("IF a THEN\nDO\nEND IF", "END IF without IF (DO at line 2 is still open)", 3),
        ("SWITCH x\nCASE 1\nEND IF", "END IF without IF (SWITCH at line 1 is still open)", 3),
        ("FOR i = 1 TO 3\nELSE", "ELSE without IF (FOR at line 1 is still open)", 2),
        ("IF a THEN\nCASE 1", "CASE without SWITCH (IF at line 1 is still open)", 2),
    ],
)
def test_mismatched_closer_names_the_open_block(script, message, line):
    error = build_error(script)
    assert error.message == message
    assert error.line == line


@pytest.mark.parametrize(
    ("script", "message", "line", "statement"),
    [
        ("IF a THEN\nELSE\nELSE\nEND IF", "ELSE after ELSE", 3, "ELSE"),
        ("IF a THEN\nELSE\nELSEIF b THEN\nEND IF", "ELSEIF after ELSE", 3, "ELSEIF b THEN"),
        ("SWITCH x\nDEFAULT\nCASE 2\nEND SWITCH", "CASE after DEFAULT", 3, "CASE 2"),
        ("SWITCH x\nDEFAULT\nDEFAULT\nEND SWITCH", "DEFAULT after DEFAULT", 3, "DEFAULT"),
    ],
)
def test_clause_after_else_or_default(script, message, line, statement):
    error = build_error(script)
    assert (error.message, error.line, error.statement) == (message, line, statement)


@pytest.mark.parametrize(
    ("script", "line", "statement"),
    [
        ("SWITCH x\nTRACE early;\nCASE 1\nEND SWITCH", 2, "TRACE early"),
        ("SWITCH x\nCALL Early\nCASE 1\nEND SWITCH", 2, "CALL Early"),
        # An opener used to be swallowed silently into the SWITCH's unused body.
        ("SWITCH x\nIF a THEN\nEND IF\nCASE 1\nEND SWITCH", 2, "IF a THEN"),
        ("SWITCH x\n\nFOR i = 1 TO 2\nNEXT\nCASE 1\nEND SWITCH", 3, "FOR i = 1 TO 2"),
    ],
)
def test_statement_between_switch_and_first_case(script, line, statement):
    error = build_error(script)
    assert error.message == "statement before the first CASE of SWITCH"
    assert (error.line, error.column, error.statement) == (line, 1, statement)
