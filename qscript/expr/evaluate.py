"""Evaluate expression nodes over columns.

An expression compiles once (cached by node) into a closure over an :class:`EvalContext`;
running it on a context of N rows gives a :class:`Column` of N values. Scalar contexts
(LET, IF conditions, ``$(=...)``) are one-row contexts, so both paths run the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from qscript.errors import FieldNotFoundError, ScriptSyntaxError
from qscript.expr import operators, registry
from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings
from qscript.expr.values import Value
from qscript.script import nodes as n

#: Returned by a variable lookup for a name that is no variable.
MISSING = object()


def _no_variables(_name: str) -> object:
    return MISSING


def _epoch_now() -> float:
    raise RuntimeError("no clock configured")


@dataclass(frozen=True)
class EvalContext:
    """What an expression can see: fields (in a LOAD), variables, format settings, a clock.

    ``now`` returns the current local time as a Qlik serial number; the interpreter passes
    an injectable clock so tests are deterministic.
    """

    length: int = 1
    settings: FormatSettings = field(default_factory=FormatSettings)
    fields: Mapping[str, Column] = field(default_factory=dict)
    variable: Callable[[str], object] = _no_variables
    now: Callable[[], float] = _epoch_now
    fields_required: bool = False

    def with_length(self, length: int) -> EvalContext:
        return replace(self, length=length)

    def resolve(self, name: str) -> Column:
        """A name is a field of the current LOAD, else a variable, else NULL/error."""
        column = self.fields.get(name)
        if column is not None:
            return column
        value = self.variable(name)
        if value is not MISSING:
            return Column.constant(value, self.length)  # type: ignore[arg-type]
        if self.fields_required:
            raise FieldNotFoundError(f"Field '{name}' not found")
        return Column.nulls(self.length)


Compiled = Callable[[EvalContext], Column]


@lru_cache(maxsize=8192)
def compile_expr(expr: n.Expr) -> Compiled:
    """Compile a node into a closure; unknown functions and bad arity fail here."""
    if isinstance(expr, n.Literal):
        value = expr.value
        return lambda ctx: Column.constant(value, ctx.length)
    if isinstance(expr, n.FieldRef):
        name = expr.name
        return lambda ctx: ctx.resolve(name)
    if isinstance(expr, n.BinaryOp):
        left, right, op = compile_expr(expr.left), compile_expr(expr.right), expr.op
        return lambda ctx: operators.binary(op, left(ctx), right(ctx), ctx.settings)
    if isinstance(expr, n.UnaryOp):
        operand, op = compile_expr(expr.operand), expr.op
        return lambda ctx: operators.unary(op, operand(ctx), ctx.settings)
    if isinstance(expr, n.FunctionCall):
        return _compile_call(expr)
    if isinstance(expr, n.Star):
        raise ScriptSyntaxError("'*' is only allowed as the argument of Count(*)")
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


def _compile_call(call: n.FunctionCall) -> Compiled:
    spec = registry.lookup(call.name)
    if spec is None:
        raise ScriptSyntaxError(f"Unknown function: {call.name}")
    message = spec.arity_error(len(call.args))
    if message:
        raise ScriptSyntaxError(message)
    if spec.kind != registry.SCALAR:
        raise ScriptSyntaxError(f"{spec.name}() cannot be used here")
    args = [compile_expr(a) if a is not None else _null for a in call.args]

    def run(ctx: EvalContext) -> Column:
        return registry.call(spec, [a(ctx) for a in args], ctx)

    return run


def _null(ctx: EvalContext) -> Column:
    return Column.nulls(ctx.length)


def evaluate(expr: n.Expr, ctx: EvalContext) -> Column:
    return compile_expr(expr)(ctx)


def evaluate_scalar(expr: n.Expr, ctx: EvalContext) -> Value:
    """Evaluate in a one-row context and return the scalar value."""
    if ctx.length != 1:
        ctx = ctx.with_length(1)
    return compile_expr(expr)(ctx).value(0)
