"""Parsing expanded statements, control clauses and expressions into AST nodes."""

from __future__ import annotations

import pytest

from qscript.errors import ScriptSyntaxError
from qscript.script import nodes as n
from qscript.script.parse import SyntaxAt, parse_control, parse_expression, parse_statement, syntax_error
from qscript.span import Span


def F(name: str) -> n.FieldRef:  # noqa: N802 - short node builders keep the trees readable
    return n.FieldRef(name)


def L(value: float | str) -> n.Literal:  # noqa: N802
    return n.Literal(value)


def B(op: str, left: n.Expr, right: n.Expr) -> n.BinaryOp:  # noqa: N802
    return n.BinaryOp(op, left, right)


def U(op: str, operand: n.Expr) -> n.UnaryOp:  # noqa: N802
    return n.UnaryOp(op, operand)


def call(name: str, *args: n.Expr | None, modifier: str | None = None) -> n.FunctionCall:
    return n.FunctionCall(name, args, modifier)


def syntax(parse, text: str) -> tuple[str, int]:
    with pytest.raises(SyntaxAt) as info:
        parse(text)
    return info.value.message, info.value.offset


# -- regular statements -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("SET a = 1 + 2", n.Set("a", " 1 + 2")),
        ("set x=1=1", n.Set("x", "1=1")),
        ("Set vQ = 'it''s'; more", n.Set("vQ", " 'it''s'; more")),
        ("SET [my var] = x", n.Set("my var", " x")),
        ("SET v", n.Set("v", None)),
        ("SET v =", n.Set("v", None)),
        ("SET v=", n.Set("v", None)),
        ("LET a = 1", n.Let("a", L(1.0))),
        ("let Date = 1", n.Let("Date", L(1.0))),
        ("LET v = ", n.Let("v", None)),
        ("LET x\n=\n1", n.Let("x", L(1.0))),
        ('LET "q""n" = 2', n.Let('q"n', L(2.0))),
        ("LET ErrorMode = 0", n.Let("ErrorMode", L(0.0))),
        ("a = 1", n.Let("a", L(1.0))),
        ("vNext = vNext + 1", n.Let("vNext", B("+", F("vNext"), L(1.0)))),
        ("[x y] = 'z'", n.Let("x y", L("z"))),
        ("Left = 1", n.Let("Left", L(1.0))),
        ("Store = 'x'", n.Let("Store", L("x"))),
        ("TRACE hello  world ", n.Trace("hello  world")),
        ("trace it's a 'raw' text; x", n.Trace("it's a 'raw' text; x")),
        ("TRACE", n.Trace("")),
        ("Trace x = 1", n.Trace("x = 1")),
        ("SLEEP 1000", n.Sleep(L(1000.0))),
        ("Sleep 2 * vWait", n.Sleep(B("*", L(2.0), F("vWait")))),
        ("DROP VARIABLE a", n.DropVariables(("a",))),
        ("Drop Variables a, [b c] ,\"d\"", n.DropVariables(("a", "b c", "d"))),
        ("LET 변수 = '😀'", n.Let("변수", L("😀"))),
        ("LET Имя = 'привет' & Имя2", n.Let("Имя", B("&", L("привет"), F("Имя2")))),
    ],
)
def test_statements(text, node):
    assert parse_statement(text) == node


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("WHEN a = 1 LET b = 2", n.Conditional(False, B("=", F("a"), L(1.0)), n.Let("b", L(2.0)))),
        ("UNLESS x SET y = 3", n.Conditional(True, F("x"), n.Set("y", " 3"))),
        ("when 1 TRACE hi", n.Conditional(False, L(1.0), n.Trace("hi"))),
        ("UNLESS IsNull(v) v2 = v", n.Conditional(True, call("IsNull", F("v")), n.Let("v2", F("v")))),
        ("WHEN a DROP VARIABLE b", n.Conditional(False, F("a"), n.DropVariables(("b",)))),
        (
            "WHEN a WHEN b LET c = 1",
            n.Conditional(False, F("a"), n.Conditional(False, F("b"), n.Let("c", L(1.0)))),
        ),
    ],
)
def test_when_unless_prefixes(text, node):
    assert parse_statement(text) == node


@pytest.mark.parametrize(
    ("text", "node"),
    [
        # Unsupported statements keep their prefix, so they fail only when the condition holds.
        ("WHEN 1 BINARY x.qvw", n.Conditional(False, L(1.0), n.Unsupported("BINARY"))),
        (
            "UNLESS Left(a, 1) = 'x' LIB CONNECT TO 'x'",
            n.Conditional(True, B("=", call("Left", F("a"), L(1.0)), L("x")), n.LibConnect("x")),
        ),
        (
            "WHEN a = 'DROP' SECTION Access",
            n.Conditional(False, B("=", F("a"), L("DROP")), n.Unsupported("SECTION")),
        ),
        (
            "WHEN x = 1 UNLESS y DROP TABLES A, B",
            n.Conditional(False, B("=", F("x"), L(1.0)), n.Conditional(True, F("y"), n.DropTables(("A", "B")))),
        ),
    ],
)
def test_when_unless_before_unsupported_statements(text, node):
    assert parse_statement(text) == node


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("BINARY [lib://apps/a.qvw]", "BINARY"),
        ("Section Access", "SECTION"),
        ("HIERARCHY(a, b, c) LOAD * RESIDENT T", "HIERARCHY"),
        ("AutoNumber a", "AUTONUMBER"),
    ],
)
def test_unsupported_statements_keep_their_keyword(text, keyword):
    assert parse_statement(text) == n.Unsupported(keyword)


@pytest.mark.parametrize(
    ("text", "node_type"),
    [
        ("LOAD * FROM [lib://x/a.qvd] (qvd)", n.LoadStatement),
        ("load 1 as a autogenerate 1", n.LoadStatement),
        ("STORE T INTO [lib://x/t.qvd] (qvd)", n.Store),
        ("DROP TABLE T", n.DropTables),
        ("Drop Tables A, B", n.DropTables),
        ("Drop Field x From T", n.DropFields),
        ("Concatenate(T) LOAD 1 AUTOGENERATE 1", n.LoadStatement),
        ("NoConcatenate LOAD * RESIDENT T", n.LoadStatement),
        ("LEFT JOIN (T) LOAD * RESIDENT U", n.LoadStatement),
        ("Mapping LOAD a, b RESIDENT T", n.LoadStatement),
        ("Rename Field a To b", n.RenameFields),
        ("Qualify *", n.Qualify),
    ],
)
def test_data_statements_parse_to_their_nodes(text, node_type):
    assert isinstance(parse_statement(text), node_type)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("T: LOAD 1 AS a AUTOGENERATE 1", "T"),
        ("[My Table]:\nLOAD * INLINE [a\n1]", "My Table"),
        ("Orders : LOAD * RESIDENT X", "Orders"),
        ("Left: LOAD 1 AUTOGENERATE 1", "Left"),
        ('"Q ""T""": LOAD 1 AUTOGENERATE 1', 'Q "T"'),
    ],
)
def test_labels_attach_to_their_load(text, label):
    node = parse_statement(text)
    assert isinstance(node, n.LoadStatement)
    assert node.label == label


def test_labelled_rest_select_is_a_load_source():
    node = parse_statement('"Q T": SQL SELECT "id" FROM JSON (wrap on) "root"')
    assert isinstance(node, n.LoadStatement) and node.label == "Q T"
    assert isinstance(node.load.source, n.SqlSelect)
    assert node.load.source.root == n.SelectTable("root", (n.SelectField("id"),))


def test_label_before_something_else_is_a_syntax_error():
    with pytest.raises(SyntaxAt) as info:
        parse_statement("T: SET x = 1")
    assert info.value.message == "a label must be followed by LOAD or SELECT"


def test_parse_results_are_cached_by_text():
    assert parse_statement("LET cached = 1") is parse_statement("LET cached = 1")


# -- control clauses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("IF a = 1 THEN", n.If(B("=", F("a"), L(1.0)))),
        ("if x then", n.If(F("x"))),
        ("IF(a=1) THEN", n.If(B("=", F("a"), L(1.0)))),
        (
            "IF (a=1 AND (b=2 OR c=3)) THEN",
            n.If(B("AND", B("=", F("a"), L(1.0)), B("OR", B("=", F("b"), L(2.0)), B("=", F("c"), L(3.0))))),
        ),
        ("IF If(a, 1, 0) = 1 THEN", n.If(B("=", call("If", F("a"), L(1.0), L(0.0)), L(1.0)))),
        ("IF Not IsNull(x) THEN", n.If(U("NOT", call("IsNull", F("x"))))),
        ("ELSEIF x <> 'a' THEN", n.ElseIf(B("<>", F("x"), L("a")))),
        ("ELSE", n.Else()),
        ("END IF", n.EndIf()),
        ("ENDIF", n.EndIf()),
        ("End  If", n.EndIf()),
        ("FOR i = 1 TO 10", n.ForNext("i", L(1.0), L(10.0), None)),
        ("FOR i = 10 TO 1 STEP -1", n.ForNext("i", L(10.0), L(1.0), U("-", L(1.0)))),
        ("for [i] = 0 to NoOfRows('T') - 1 step 2", n.ForNext(
            "i", L(0.0), B("-", call("NoOfRows", L("T")), L(1.0)), L(2.0))),
        ("FOR EACH x IN 'a', 'b', 3", n.ForEach("x", (L("a"), L("b"), L(3.0)))),
        ("For Each f in FileList('x*'), (1+2)", n.ForEach(
            "f", (call("FileList", L("x*")), B("+", L(1.0), L(2.0))))),
        ("FOR EACH [v 1] IN vList", n.ForEach("v 1", (F("vList"),))),
        ("NEXT", n.Next(None)),
        ("NEXT i", n.Next("i")),
        ("Next [my var]", n.Next("my var")),
        ("DO", n.Do(False, None)),
        ("DO WHILE i < 3", n.Do(False, B("<", F("i"), L(3.0)))),
        ("do until x", n.Do(True, F("x"))),
        ("LOOP", n.Loop(False, None)),
        ("LOOP WHILE Not IsNull(vNext)", n.Loop(False, U("NOT", call("IsNull", F("vNext"))))),
        ("Loop Until i >= 3", n.Loop(True, B(">=", F("i"), L(3.0)))),
        ("EXIT DO", n.Exit("DO", False, None)),
        ("exit for when i = 3", n.Exit("FOR", False, B("=", F("i"), L(3.0)))),
        ("EXIT SUB UNLESS x", n.Exit("SUB", True, F("x"))),
        ("EXIT SCRIPT", n.Exit("SCRIPT", False, None)),
        ("Exit Script When vStop = 1", n.Exit("SCRIPT", False, B("=", F("vStop"), L(1.0)))),
        ("SUB Fetch", n.SubHead("Fetch", ())),
        ("SUB foo()", n.SubHead("foo", ())),
        ("Sub foo (a, b)", n.SubHead("foo", ("a", "b"))),
        ('SUB [my sub]([p 1], "p2")', n.SubHead("my sub", ("p 1", "p2"))),
        ("Sub Lib.Log(msg)", n.SubHead("Lib.Log", ("msg",))),
        ("END SUB", n.EndSub()),
        ("EndSub", n.EndSub()),
        ("CALL Init", n.CallSub("Init", ())),
        ("CALL Init()", n.CallSub("Init", ())),
        ("Call Load(1, 'a')", n.CallSub("Load", (L(1.0), L("a")))),
        ("Call StartTask(, Null(), 'x')", n.CallSub("StartTask", (None, call("Null"), L("x")))),
        ("CALL f(a,)", n.CallSub("f", (F("a"), None))),
        ("CALL f(1, , 3)", n.CallSub("f", (L(1.0), None, L(3.0)))),
        ("CALL [my sub]", n.CallSub("my sub", ())),
        ("SWITCH Lower(vMode)", n.Switch(call("Lower", F("vMode")))),
        ("CASE 1", n.Case((L(1.0),))),
        ("Case 'a', 'b'", n.Case((L("a"), L("b")))),
        ("DEFAULT", n.Default()),
        ("END SWITCH", n.EndSwitch()),
    ],
)
def test_control_clauses(text, node):
    assert parse_control(text) == node


# -- expressions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("a + b * c", B("+", F("a"), B("*", F("b"), F("c")))),
        ("(a + b) * c", B("*", B("+", F("a"), F("b")), F("c"))),
        ("1 - 2 - 3", B("-", B("-", L(1.0), L(2.0)), L(3.0))),
        ("a / b * c", B("*", B("/", F("a"), F("b")), F("c"))),
        ("a OR b AND c", B("OR", F("a"), B("AND", F("b"), F("c")))),
        ("a AND b OR c", B("OR", B("AND", F("a"), F("b")), F("c"))),
        ("a xor b", B("XOR", F("a"), F("b"))),
        ("NOT a AND b", B("AND", U("NOT", F("a")), F("b"))),
        ("NOT a = b", U("NOT", B("=", F("a"), F("b")))),
        ("not not a", U("NOT", U("NOT", F("a")))),
        ("a & b = c", B("=", B("&", F("a"), F("b")), F("c"))),
        ("a & b + c", B("&", F("a"), B("+", F("b"), F("c")))),
        ("a like 'x*' & c", B("LIKE", F("a"), B("&", L("x*"), F("c")))),
        ("a precedes b", B("PRECEDES", F("a"), F("b"))),
        ("a Follows b", B("FOLLOWS", F("a"), F("b"))),
        ("-2 * 3", B("*", U("-", L(2.0)), L(3.0))),
        ("a - -b", B("-", F("a"), U("-", F("b")))),
        ("+a", U("+", F("a"))),
        ("- - 1", U("-", U("-", L(1.0)))),
        ("a <> b", B("<>", F("a"), F("b"))),
        ("a<=b", B("<=", F("a"), F("b"))),
        ("a >= b", B(">=", F("a"), F("b"))),
        ("a < b", B("<", F("a"), F("b"))),
        ("a > b", B(">", F("a"), F("b"))),
        (
            "a OR b AND NOT c = 1 & 2 + 3 * -4",
            B("OR", F("a"), B("AND", F("b"), U("NOT", B("=", F("c"), B(
                "&", L(1.0), B("+", L(2.0), B("*", L(3.0), U("-", L(4.0)))))))))
        ),
    ],
)
def test_operator_precedence(text, node):
    assert parse_expression(text) == node


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("42", L(42.0)),
        ("1.5", L(1.5)),
        (".5", L(0.5)),
        ("1e3", L(1000.0)),
        ("1.5e-3", L(0.0015)),
        ("'it''s'", L("it's")),
        ("''", L("")),
        ("'😀 ok'", L("😀 ok")),
        ("Date + Year + Key", B("+", B("+", F("Date"), F("Year")), F("Key"))),
        ("Next + Step + To + Each + In + Loop", B("+", B("+", B("+", B("+", B("+", F("Next"), F("Step")), F(
            "To")), F("Each")), F("In")), F("Loop"))),
        ("[a b] & \"c\"\"d\"", B("&", F("a b"), F('c"d'))),
        ("`tick`", F("tick")),
        ("%key", F("%key")),
        ("@1", F("@1")),
        ("a.b.c", F("a.b.c")),
        ("Num#(x, '0')", call("Num#", F("x"), L("0"))),
        ("Date#('1/2/2024')", call("Date#", L("1/2/2024"))),
        ("Date(Today())", call("Date", call("Today"))),
        ("Count(*)", call("Count", n.Star())),
        ("Count(DISTINCT x)", call("Count", F("x"), modifier="DISTINCT")),
        ("Count(distinct [x y])", call("Count", F("x y"), modifier="DISTINCT")),
        ("Sum(TOTAL x)", call("Sum", F("x"), modifier="TOTAL")),
        ("f(a,,b)", call("f", F("a"), None, F("b"))),
        ("f(,)", call("f", None, None)),
        ("f()", call("f")),
        ("f( )", call("f")),
        ("Peek('Amount', -1, 'Orders')", call("Peek", L("Amount"), U("-", L(1.0)), L("Orders"))),
        ("If(a > 1, 'a', Null())", call("If", B(">", F("a"), L(1.0)), L("a"), call("Null"))),
    ],
)
def test_atoms_and_calls(text, node):
    assert parse_expression(text) == node


# -- syntax errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("LET x = 1 2", "unexpected '2'", 10),
        ("LET x = 1 AS y", "unexpected 'AS'", 10),
        ("LET x = #", "unexpected '#'", 8),
        ("LET = 1", "unexpected '='", 4),
        ("SET $x = 1", "unexpected '$x'", 4),
        ("foo bar", "unexpected 'bar'", 4),
        ("Drop Variables a b", "unexpected 'b'", 17),
        ("WHEN 1", "unexpected end of statement", 5),
        ("WHEN a b c", "unexpected 'c'", 9),
        ("LET a = 1;", "unexpected ';'", 9),
        # End of statement: the last character, not the start of the last token.
        ("LET x = (1", "unexpected end of statement", 9),
        ("LET x = 1 +  ", "unexpected end of statement", 10),
        ("LET x = f(a, 'bc'", "unexpected end of statement", 16),
        ("[Error: could not find X]", "unexpected end of statement", 24),
        ("SLEEP", "unexpected end of statement", 4),
        ("DROP VARIABLE", "unexpected end of statement", 12),
        ("", "unexpected end of statement", 0),
    ],
)
def test_statement_syntax_errors(text, message, offset):
    assert syntax(parse_statement, text) == (message, offset)


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("IF a = 1", "unexpected end of statement", 7),
        ("IF THEN", "unexpected end of statement", 6),
        ("IF x THEN y", "unexpected 'y'", 10),
        ("IF a THEN THEN", "unexpected 'THEN'", 10),
        ("FOR i 1 TO 2", "unexpected '1'", 6),
        ("FOR i = 1", "unexpected end of statement", 8),
        ("FOR EACH x IN", "unexpected end of statement", 12),
        ("EXIT", "unexpected end of statement", 3),
        ("EXIT LOOP", "unexpected 'LOOP'", 5),
        ("DO FOREVER", "unexpected 'FOREVER'", 3),
        ("LOOP WHILE", "unexpected end of statement", 9),
        ("CALL f(1", "unexpected end of statement", 7),
        ("SUB f(a,)", "unexpected ')'", 8),
        ("SWITCH", "unexpected end of statement", 5),
        ("CASE", "unexpected end of statement", 3),
    ],
)
def test_control_syntax_errors(text, message, offset):
    assert syntax(parse_control, text) == (message, offset)


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("(1", "unexpected end of statement", 1),
        ("1 +", "unexpected end of statement", 2),
        (")", "unexpected ')'", 0),
        ("a b", "unexpected 'b'", 2),
        ("a +* b", "unexpected '*'", 3),
        ("* a", "unexpected '*'", 0),
        ("f(a b)", "unexpected 'b'", 4),
        ("f(1, (2, 3))", "unexpected ','", 7),
        ("-a^2", "unexpected '^'", 2),
        ("$x", "unexpected '$x'", 0),
        ("'abc", "unexpected \"'\"", 0),
        ("a = ~", "unexpected '~'", 4),
    ],
)
def test_expression_syntax_errors(text, message, offset):
    assert syntax(parse_expression, text) == (message, offset)


def test_syntax_error_positions_an_offset_in_the_source():
    text = "LET x =\n  1 2"
    with pytest.raises(SyntaxAt) as info:
        parse_statement(text)
    error = syntax_error(info.value, text, Span("a.qvs", 4, 3, 5, 5), text)
    assert isinstance(error, ScriptSyntaxError)
    assert error.message == "unexpected '2'"
    assert error.span == Span("a.qvs", 5, 5, 5, 5)
    assert error.statement == text


def test_syntax_error_on_the_first_line_adds_the_start_column():
    with pytest.raises(SyntaxAt) as info:
        parse_control("IF a = 1")
    error = syntax_error(info.value, "IF a = 1", Span("a.qvs", 2, 5, 2, 12), "IF a = 1")
    assert (error.line, error.column) == (2, 12)


def test_syntax_error_without_a_span():
    error = syntax_error(SyntaxAt("unexpected 'x'", 3), "abc x", None, "abc x")
    assert (error.span, error.message, error.statement) == (None, "unexpected 'x'", "abc x")
