"""Evaluate expression nodes over columns.

An expression compiles once (cached by node) into a closure over an :class:`EvalContext`;
running it on a context of N rows gives a :class:`Column` of N values. Scalar contexts
(LET, IF conditions, ``$(=...)``) are one-row contexts, so both paths run the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from qscript.errors import FieldNotFoundError, ScriptSyntaxError
from qscript.expr import operators, registry
from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings
from qscript.expr.model_view import ModelView, RowState
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
    model: ModelView | None = None
    #: row counters of a LOAD: RecNo/RowNo/IterNo per row (column path) ...
    recno: np.ndarray | None = None
    rowno: np.ndarray | None = None
    iterno: np.ndarray | None = None
    #: ... or the state of the one row being loaded (row path)
    row: RowState | None = None
    #: GROUP BY: the groups, and the context of the ungrouped input rows
    groups: registry.Groups | None = None
    source: EvalContext | None = None
    #: evaluates script text (Evaluate()); set by the interpreter
    evaluate_text: Callable[[str], Value] | None = None

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

#: Arguments that name a field and may be written bare (``Exists(Id)``).
FIELD_NAME_ARGS: dict[str, tuple[int, ...]] = {"Exists": (0,)}


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
    if spec.kind == registry.AGGREGATE:
        return _compile_aggregate(spec, call)
    if spec.name == "Previous":
        return _compile_previous(call)
    if any(isinstance(a, n.Star) for a in call.args):
        raise ScriptSyntaxError(f"'*' is not an argument of {spec.name}()")
    arg_nodes = list(call.args)
    for index in FIELD_NAME_ARGS.get(spec.name, ()):
        if index < len(arg_nodes) and isinstance(arg_nodes[index], n.FieldRef):
            arg_nodes[index] = n.Literal(arg_nodes[index].name)  # Exists(Id): a name, not a value
    args = [compile_expr(a) if a is not None else _null for a in arg_nodes]

    def run(ctx: EvalContext) -> Column:
        return registry.call(spec, [a(ctx) for a in args], ctx)

    return run


def _compile_aggregate(spec: registry.FunctionSpec, call: n.FunctionCall) -> Compiled:
    """Aggregations read the ungrouped input rows and give one value per group."""
    args = [None if isinstance(a, n.Star) else compile_expr(a) if a is not None else _null for a in call.args]
    if any(isinstance(a, n.Star) for a in call.args) and spec.name != "Count":
        raise ScriptSyntaxError(f"'*' is not an argument of {spec.name}()")

    def run(ctx: EvalContext) -> Column:
        if ctx.groups is None or ctx.source is None:
            raise ScriptSyntaxError(f"aggregation function {spec.name}() outside a LOAD")
        source = ctx.source
        columns = [None if a is None else a(source) for a in args]
        return registry.call_aggregate(spec, columns, ctx.groups, source, call.modifier)

    return run


def _compile_previous(call: n.FunctionCall) -> Compiled:
    """Previous(expr): expr on the previous input row (WHERE-skipped rows count), NULL first."""
    arg = compile_expr(call.args[0]) if call.args[0] is not None else _null

    def run(ctx: EvalContext) -> Column:
        previous = ctx.row.previous if ctx.row is not None else None
        if not isinstance(previous, EvalContext):
            return Column.nulls(ctx.length)
        return arg(previous)

    return run


def _uses_kind(expr: n.Expr | None, kind: str) -> bool:
    """Whether an expression calls a function of ``kind`` anywhere inside it."""
    if isinstance(expr, n.FunctionCall):
        spec = registry.lookup(expr.name)
        if spec is not None and spec.kind == kind:
            return True
        return any(_uses_kind(a, kind) for a in expr.args if isinstance(a, n.Expr))
    if isinstance(expr, n.BinaryOp):
        return _uses_kind(expr.left, kind) or _uses_kind(expr.right, kind)
    if isinstance(expr, n.UnaryOp):
        return _uses_kind(expr.operand, kind)
    return False


def uses_row_path(expr: n.Expr | None) -> bool:
    """Whether an expression needs the row-by-row path (order-dependent functions)."""
    return _uses_kind(expr, registry.RECORD)


def uses_aggregation(expr: n.Expr | None) -> bool:
    return _uses_kind(expr, registry.AGGREGATE)


def _null(ctx: EvalContext) -> Column:
    return Column.nulls(ctx.length)


def evaluate(expr: n.Expr, ctx: EvalContext) -> Column:
    return compile_expr(expr)(ctx)


def evaluate_scalar(expr: n.Expr, ctx: EvalContext) -> Value:
    """Evaluate in a one-row context and return the scalar value."""
    if ctx.length != 1:
        ctx = ctx.with_length(1)
    return compile_expr(expr)(ctx).value(0)
