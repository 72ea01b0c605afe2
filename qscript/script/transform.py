"""Lark tree -> AST nodes. One method per grammar rule; the transformer keeps no state."""

from __future__ import annotations

from lark import Token, Transformer, v_args

from qscript.script import nodes as n


def unquote_name(token: str) -> str:
    """``[a b]`` -> ``a b``; ``"a""b"`` -> ``a"b``; backticks stripped; bare names as is."""
    if token[:1] == "[" and token[-1:] == "]":
        return token[1:-1]
    if token[:1] == '"' and token[-1:] == '"':
        return token[1:-1].replace('""', '"')
    if token[:1] == "`" and token[-1:] == "`":
        return token[1:-1]
    return str(token)


def unquote_string(token: str) -> str:
    """``'it''s'`` -> ``it's``."""
    return token[1:-1].replace("''", "'")


def _is_until(token: Token) -> bool:
    return token.type == "UNTIL"


def _is_unless(token: Token) -> bool:
    return token.type == "UNLESS"


@v_args(inline=True)
class ToNodes(Transformer):
    """Builds :mod:`qscript.script.nodes` objects bottom-up."""

    # -- names and atoms -----------------------------------------------------------------
    def var_name(self, token: Token) -> str:
        return unquote_name(token)

    def number(self, token: Token) -> n.Literal:
        return n.Literal(float(token))

    def string(self, token: Token) -> n.Literal:
        return n.Literal(unquote_string(token))

    def field_ref(self, name: str) -> n.FieldRef:
        return n.FieldRef(name)

    def star(self, _token: Token) -> n.Star:
        return n.Star()

    def omitted(self) -> None:
        return None

    def func_args(self, *args: n.Expr | None) -> tuple[n.Expr | None, ...]:
        return args

    def function_call(self, name: Token, modifier: Token | None, args: tuple | None) -> n.FunctionCall:
        return n.FunctionCall(str(name), args or (), modifier.upper() if modifier else None)

    def binary(self, left: n.Expr, op: Token, right: n.Expr) -> n.BinaryOp:
        return n.BinaryOp(str(op).upper(), left, right)

    def unary(self, op: Token, operand: n.Expr) -> n.UnaryOp:
        return n.UnaryOp(str(op).upper(), operand)

    def expression(self, expr: n.Expr) -> n.Expr:
        return expr

    # -- regular statements -----------------------------------------------------------------
    def statement(self, stmt: n.Statement) -> n.Statement:
        return stmt

    def set_stmt(self, _kw: Token, name: str, text: Token | None = None) -> n.Set:
        return n.Set(name, None if text is None else str(text))

    def let_stmt(self, _kw: Token, name: str, expr: n.Expr | None) -> n.Let:
        return n.Let(name, expr)

    def assign_stmt(self, name: str, expr: n.Expr | None) -> n.Let:
        return n.Let(name, expr)

    def trace_stmt(self, _kw: Token, text: Token | None) -> n.Trace:
        return n.Trace("" if text is None else str(text).strip())

    def sleep_stmt(self, _kw: Token, expr: n.Expr) -> n.Sleep:
        return n.Sleep(expr)

    def drop_variables(self, _drop: Token, _kw: Token, *names: str) -> n.DropVariables:
        return n.DropVariables(tuple(names))

    def conditional(self, kw: Token, cond: n.Expr, stmt: n.Statement) -> n.Conditional:
        return n.Conditional(_is_unless(kw), cond, stmt)

    # -- control clauses --------------------------------------------------------------------
    def control(self, clause: n.Control) -> n.Control:
        return clause

    def if_clause(self, _kw: Token, cond: n.Expr, _then: Token) -> n.If:
        return n.If(cond)

    def elseif_clause(self, _kw: Token, cond: n.Expr, _then: Token) -> n.ElseIf:
        return n.ElseIf(cond)

    def else_clause(self, _kw: Token) -> n.Else:
        return n.Else()

    def endif_clause(self, _kw: Token) -> n.EndIf:
        return n.EndIf()

    def for_next(self, _for, var, start, _to, end, _step=None, step=None) -> n.ForNext:
        return n.ForNext(var, start, end, step)

    def for_each(self, _for, _each, var, _in, *items: n.Expr) -> n.ForEach:
        return n.ForEach(var, tuple(items))

    def next_clause(self, _kw: Token, var: str | None) -> n.Next:
        return n.Next(var)

    def loop_condition(self, kw: Token, cond: n.Expr) -> tuple[bool, n.Expr]:
        return _is_until(kw), cond

    def do_clause(self, _kw: Token, cond: tuple[bool, n.Expr] | None) -> n.Do:
        return n.Do(*(cond or (False, None)))

    def loop_clause(self, _kw: Token, cond: tuple[bool, n.Expr] | None) -> n.Loop:
        return n.Loop(*(cond or (False, None)))

    def exit_condition(self, kw: Token, cond: n.Expr) -> tuple[bool, n.Expr]:
        return _is_unless(kw), cond

    def exit_clause(self, _kw: Token, target: Token, cond: tuple | None) -> n.Exit:
        unless, expr = cond or (False, None)
        return n.Exit(str(target).upper(), unless, expr)

    def sub_head(self, _kw: Token, name: str, *params: str | None) -> n.SubHead:
        return n.SubHead(name, tuple(p for p in params if p is not None))

    def end_sub(self, _kw: Token) -> n.EndSub:
        return n.EndSub()

    def call_args(self, *args: n.Expr | None) -> tuple[n.Expr | None, ...]:
        return args

    def call_sub(self, _kw: Token, name: str, args: tuple | None) -> n.CallSub:
        args = args or ()
        if args == (None,):  # CALL x() has no arguments, not one omitted argument
            args = ()
        return n.CallSub(name, args)

    def switch_clause(self, _kw: Token, expr: n.Expr) -> n.Switch:
        return n.Switch(expr)

    def case_clause(self, _kw: Token, *values: n.Expr) -> n.Case:
        return n.Case(tuple(values))

    def default_clause(self, _kw: Token) -> n.Default:
        return n.Default()

    def end_switch(self, _kw: Token) -> n.EndSwitch:
        return n.EndSwitch()
