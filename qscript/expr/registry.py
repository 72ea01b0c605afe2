"""The function registry: one definition per Qlik function serves both evaluation paths.

A kernel is written once against NumPy arrays (a whole column); the row path calls the
same kernel with one-row columns. The registry, not the kernel, checks arity, converts
arguments to the view each parameter wants (text, number or the raw column), broadcasts
constants and applies the NULL policy:

* ``PROPAGATE``: any NULL argument (for number parameters also text that is no number)
  makes that row NULL; the kernel never sees those rows.
* ``RAW``: the kernel gets every row, NULLs included (``If``, ``IsNull``, ``Alt`` ...).

Names are registered in Qlik's spelling and looked up ignoring case, as Qlik does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qscript.expr.column import Column

if TYPE_CHECKING:
    from qscript.expr.evaluate import EvalContext

PROPAGATE = "propagate"
RAW = "raw"

SCALAR = "scalar"
AGGREGATE = "aggregate"
RECORD = "record"  # order-dependent: Peek, Previous, RowNo ... (row path)

_VIEW_KINDS = ("text", "number", "any")


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: the view it wants, and whether it may be left out or repeated."""

    kind: str
    optional: bool = False
    variadic: bool = False


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    params: tuple[Param, ...]
    kernel: Callable[..., Any]
    nulls: str = PROPAGATE
    kind: str = SCALAR
    context: bool = False

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional and not p.variadic)

    @property
    def max_args(self) -> int | None:
        return None if any(p.variadic for p in self.params) else len(self.params)

    def arity_error(self, count: int) -> str | None:
        """A message when ``count`` arguments do not fit, else ``None``."""
        low, high = self.min_args, self.max_args
        if count >= low and (high is None or count <= high):
            return None
        if high is None:
            expected = f"at least {low}"
        elif low == high:
            expected = str(low)
        else:
            expected = f"{low} to {high}"
        return f"{self.name}() takes {expected} argument(s), {count} given"

    def param_for(self, index: int) -> Param:
        if index < len(self.params):
            return self.params[index]
        return self.params[-1]  # the variadic tail


@dataclass(frozen=True)
class Groups:
    """How the input rows of a GROUP BY fall into groups.

    ``codes[i]`` is the group (0 .. count-1) of input row i, groups numbered in order of
    first appearance; a LOAD that aggregates without GROUP BY is one group of all rows.
    """

    codes: np.ndarray
    count: int

    @classmethod
    def single(cls, rows: int) -> Groups:
        return cls(np.zeros(rows, dtype=np.int64), 1)


REGISTRY: dict[str, FunctionSpec] = {}


def parse_params(signature: str) -> tuple[Param, ...]:
    """``"text number? any*"`` -> parameters (``?`` optional, ``*`` repeated)."""
    params = []
    for word in signature.split():
        kind = word.rstrip("?*")
        if kind not in _VIEW_KINDS:
            raise ValueError(f"unknown parameter kind {word!r}")
        params.append(Param(kind, word.endswith("?"), word.endswith("*")))
    return tuple(params)


def qlik_function(
    name: str,
    signature: str = "",
    *,
    nulls: str = PROPAGATE,
    kind: str = SCALAR,
    context: bool = False,
    aliases: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a kernel under Qlik's name (and aliases)."""

    def register(kernel: Callable[..., Any]) -> Callable[..., Any]:
        spec = FunctionSpec(name, parse_params(signature), kernel, nulls, kind, context)
        for key in (name, *aliases):
            if key.lower() in REGISTRY:
                raise ValueError(f"function {key} registered twice")
            REGISTRY[key.lower()] = spec
        return kernel

    return register


def lookup(name: str) -> FunctionSpec | None:
    _load_library()
    return REGISTRY.get(name.lower())


def _load_library() -> None:
    """Import the function modules once so their decorators fill the registry."""
    if not REGISTRY:
        import qscript.expr.functions  # noqa: F401


def _view(param: Param, column: Column, ctx: EvalContext) -> tuple[Any, np.ndarray]:
    """The argument as its parameter wants it, and the mask of rows that count as NULL."""
    if param.kind == "text":
        texts = column.texts(ctx.settings)
        return texts, np.equal(texts, None)
    if param.kind == "number":
        numbers = column.numbers(ctx.settings)
        return numbers, np.isnan(numbers)
    return column, column.nulls_mask()


def as_column(result: Any, length: int) -> Column:
    """Kernel results may be a Column, a float array (numbers) or an object array (text)."""
    if isinstance(result, Column):
        return result
    array = np.asarray(result)
    if array.dtype == object:
        return Column.from_texts(array)
    if array.dtype.kind in "fiub":
        return Column.from_numbers(array.astype(np.float64, copy=False))
    return Column.from_texts(array.astype(object))


def call_aggregate(
    spec: FunctionSpec,
    args: list[Column | None],
    groups: Groups,
    ctx: EvalContext,
    modifier: str | None,
) -> Column:
    """Run an aggregation: one result per group.

    The kernel is called as ``kernel(groups, *views, distinct=bool)`` with one view per
    argument over all input rows (a ``None`` view stands for ``*``, as in ``Count(*)``).
    NULL rows are not removed: skipping them is part of each aggregation's definition.
    """
    views = [None if column is None else _view(spec.param_for(i), column, ctx)[0] for i, column in enumerate(args)]
    prefix = (ctx,) if spec.context else ()
    result = spec.kernel(*prefix, groups, *views, distinct=modifier == "DISTINCT")
    return as_column(result, groups.count)


def call(spec: FunctionSpec, args: list[Column], ctx: EvalContext) -> Column:
    """Run a scalar function over whole columns."""
    length = ctx.length
    views = []
    null = np.zeros(length, dtype=bool)
    for index, column in enumerate(args):
        view, mask = _view(spec.param_for(index), column, ctx)
        views.append(view)
        null |= mask
    prefix = (ctx,) if spec.context else ()
    if spec.nulls == RAW or not null.any():
        return as_column(spec.kernel(*prefix, *views), length)
    keep = ~null
    if not keep.any():
        return Column.nulls(length)
    kept = [v.take(keep) if isinstance(v, Column) else v[keep] for v in views]
    sub_ctx = ctx.with_length(int(keep.sum())) if spec.context else None
    prefix = (sub_ctx,) if spec.context else ()
    return as_column(spec.kernel(*prefix, *kept), len(kept[0]) if kept else 0).scatter(keep, length)
