"""One LOAD stage: fields, WHERE, WHILE, GROUP BY, ORDER BY, DISTINCT over a Frame.

Expressions run column-wise (vectorised) unless they use order-dependent functions
(Peek, Previous, Exists), which need the row path: one row at a time, in order, each row
seeing the rows output before it. RecNo, RowNo and IterNo are arrays on the column path.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qscript.engine.frame import Frame
from qscript.engine.model import ModelViewImpl
from qscript.errors import FieldNotFoundError, GeneralScriptError, SemanticError
from qscript.expr.column import Column
from qscript.expr.evaluate import EvalContext, compile_expr, uses_aggregation, uses_row_path
from qscript.expr.model_view import RowState
from qscript.expr.operators import truth
from qscript.expr.registry import Groups
from qscript.expr.values import value_key
from qscript.script import nodes as n

if TYPE_CHECKING:
    from qscript.engine.interpreter import Interpreter

#: A WHILE clause that keeps generating rows past this count is taken as runaway.
MAX_WHILE_ROWS = 50_000_000


def sort_keys(column: Column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort order of Qlik values: numbers (ascending) before text, NULL last."""
    numbers = column.raw_num()
    texts = column.raw_text()
    kind = np.where(~np.isnan(numbers), 0, np.where(pd.isna(texts), 2, 1))
    return kind, np.nan_to_num(numbers), texts


def order_rows(frame: Frame, order_by: tuple[tuple[str, bool], ...]) -> Frame:
    """ORDER BY: a stable sort on the listed fields."""
    data = {}
    for i, (name, _desc) in enumerate(order_by):
        column = frame.columns.get(name)
        if column is None:
            raise FieldNotFoundError(f"Field '{name}' not found (ORDER BY)")
        kind, numbers, texts = sort_keys(column)
        data[f"k{i}"], data[f"n{i}"] = kind, numbers
        data[f"t{i}"] = pd.Series(texts, dtype=object).fillna("")
    frame_keys = pd.DataFrame(data)
    by, ascending = [], []
    for i, (_name, desc) in enumerate(order_by):
        by += [f"k{i}", f"n{i}", f"t{i}"]
        ascending += [True, not desc, not desc]
    order = frame_keys.sort_values(by, ascending=ascending, kind="stable").index.to_numpy()
    return frame.take(order)


def is_hidden(name: str) -> bool:
    """Working columns of a stage (exploded SubField pieces) never reach the output."""
    return name.startswith("\x00")


class Stage:
    """Runs one LOAD (one level of a preceding-load chain) over an input frame."""

    #: Run every LOAD on the row path; tests set it to prove both paths agree.
    force_row_path = False

    def __init__(self, it: Interpreter, load: n.Load, view: ModelViewImpl, rowno_offset: int = 0) -> None:
        self.it = it
        self.load = load
        self.view = view
        self.rowno_offset = rowno_offset

    def base_context(self, frame: Frame) -> EvalContext:
        return replace(
            self.it.context(),
            length=frame.length,
            fields=frame.columns,
            fields_required=True,
            model=self.view,
        )

    def output_names(self, input_names: list[str]) -> list[str]:
        names: list[str] = []
        visible = [name for name in input_names if not is_hidden(name)]
        for item in self.load.fields:
            names.extend(visible if item.expr is None else [item.name])
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise SemanticError(f"Field names must be unique within table: {', '.join(duplicates)}")
        return names

    # -- the stage ---------------------------------------------------------------------------------
    def run(self, frame: Frame) -> Frame:
        load = self.load
        if load.order_by:
            frame = order_rows(frame, load.order_by)
        recno = np.arange(1, frame.length + 1, dtype=np.float64)
        iterno = None
        if load.while_ is not None:
            frame, recno, iterno = self._expand_while(frame, recno)
        fields = [f for f in load.fields]
        frame, fields = explode_subfields(self, frame, fields)
        self.fields = fields
        row_path = self.force_row_path or uses_row_path(load.where) or any(uses_row_path(f.expr) for f in fields)
        aggregated = bool(load.group_by) or any(uses_aggregation(f.expr) for f in fields)
        if row_path and not aggregated:
            return self._run_rows(frame, recno, iterno)
        return self._run_columns(frame, recno, iterno, aggregated)

    def _expand_while(self, frame: Frame, recno: np.ndarray) -> tuple[Frame, np.ndarray, np.ndarray]:
        """WHILE: each record is read again while the condition holds (IterNo 1, 2, ...)."""
        condition = compile_expr(self.load.while_)
        active = np.arange(frame.length)
        rows, iters = [], []
        k = 1
        total = 0
        while len(active):
            sub = frame.take(active)
            ctx = replace(self.base_context(sub), recno=recno[active], iterno=np.full(len(active), float(k)))
            holds = truth(condition(ctx), ctx.settings)
            active = active[holds]
            rows.append(active)
            iters.append(np.full(len(active), float(k)))
            total += len(active)
            if total > MAX_WHILE_ROWS:
                raise GeneralScriptError(f"WHILE clause generated more than {MAX_WHILE_ROWS} rows")
            k += 1
        row_index = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        iter_index = np.concatenate(iters) if iters else np.empty(0)
        order = np.lexsort((iter_index, row_index))
        row_index, iter_index = row_index[order], iter_index[order]
        return frame.take(row_index), recno[row_index], iter_index

    def _run_columns(self, frame: Frame, recno: np.ndarray, iterno: np.ndarray | None, aggregated: bool) -> Frame:
        ctx = replace(self.base_context(frame), recno=recno, iterno=iterno)
        if self.load.where is not None:
            keep = truth(compile_expr(self.load.where)(ctx), ctx.settings)
            frame = frame.take(keep)
            recno = recno[keep]
            iterno = None if iterno is None else iterno[keep]
            ctx = replace(self.base_context(frame), recno=recno, iterno=iterno)
        if aggregated:
            ctx = self._group_context(frame, ctx)
        else:
            rowno = np.arange(1, frame.length + 1, dtype=np.float64) + self.rowno_offset
            ctx = replace(ctx, rowno=rowno)
        names: list[str] = []
        columns: dict[str, Column] = {}
        for item in self.fields:
            if item.expr is None:
                if aggregated:
                    raise SemanticError("LOAD * cannot be combined with GROUP BY")
                for name in frame.names:
                    if not is_hidden(name):
                        names.append(name)
                        columns[name] = frame.columns[name]
                continue
            names.append(item.name)
            columns[item.name] = compile_expr(item.expr)(ctx)
        self.output_names(frame.names)
        return Frame(names, columns, ctx.length)

    def _group_context(self, frame: Frame, ctx: EvalContext) -> EvalContext:
        """GROUP BY: groups in order of first appearance; fields read the group's first row."""
        if self.load.group_by:
            keys = {}
            for name in self.load.group_by:
                column = frame.columns.get(name)
                if column is None:
                    raise FieldNotFoundError(f"Field '{name}' not found (GROUP BY)")
                keys[name] = pd.Series(column.keys(), dtype=object).fillna("\x00NULL")
            if frame.length:
                codes, uniques = pd.factorize(pd.MultiIndex.from_frame(pd.DataFrame(keys)))
                count = len(uniques)
            else:
                codes, count = np.empty(0, dtype=np.int64), 0
            groups = Groups(np.asarray(codes, dtype=np.int64), count)
            first = np.full(count, -1, dtype=np.int64)
            first[codes[::-1]] = np.arange(len(codes))[::-1]
        else:
            groups = Groups.single(frame.length)
            first = np.zeros(1, dtype=np.int64)
        group_fields = {
            name: frame.columns[name].take_nullable(first if frame.length else np.full(groups.count, -1))
            for name in (self.load.group_by or ())
        }
        return replace(
            ctx,
            length=groups.count,
            fields=group_fields,
            groups=groups,
            source=ctx,
            rowno=np.arange(1, groups.count + 1, dtype=np.float64) + self.rowno_offset,
            recno=None,
            iterno=None,
        )

    def _run_rows(self, frame: Frame, recno: np.ndarray, iterno: np.ndarray | None) -> Frame:
        """The row path: rows one at a time, each seeing the output rows before it."""
        names = self.output_names(frame.names)
        compiled = [None if f.expr is None else compile_expr(f.expr) for f in self.fields]
        where = None if self.load.where is None else compile_expr(self.load.where)
        state = RowState(output={name: [] for name in names})
        base = self.base_context(frame)
        settings = base.settings
        self.view.loading = {name: set() for name in names}
        seen_kinds: dict[str, set[str | None]] = {name: set() for name in names}
        previous = None
        for i in range(frame.length):
            row_fields = {name: frame.columns[name].take(np.array([i])) for name in frame.names}
            ctx = replace(base, length=1, fields=row_fields, row=state)
            state.recno = int(recno[i])
            state.iterno = 1 if iterno is None else int(iterno[i])
            state.rowno = self.rowno_offset + len(state.output[names[0]]) + 1 if names else 1
            state.previous = previous
            if where is not None and not truth(where(ctx), settings)[0]:
                previous = ctx
                continue
            values = []
            kinds = []
            for fn in compiled:
                if fn is None:
                    for name in frame.names:
                        if not is_hidden(name):
                            values.append(frame.columns[name].value(i))
                            kinds.append(frame.columns[name].kind)
                else:
                    result = fn(ctx)
                    values.append(result.value(0))
                    kinds.append(result.kind)
            for name, value, kind in zip(names, values, kinds, strict=True):
                state.output[name].append(value)
                if value is not None:
                    seen_kinds[name].add(kind)
                key = value_key(value)
                if key is not None:
                    self.view.loading[name].add(key)
            previous = ctx
        self.view.loading = {}
        length = len(state.output[names[0]]) if names else 0
        columns = {}
        for name in names:
            column = Column.from_values(state.output[name])
            kinds = seen_kinds[name]
            column.kind = kinds.pop() if len(kinds) == 1 else None  # dates stay dates
            columns[name] = column
        return Frame(names, columns, length)


def explode_subfields(stage: Stage, frame: Frame, fields: list[n.LoadField]) -> tuple[Frame, list[n.LoadField]]:
    """Two-argument SubField() in a LOAD yields one row per piece (several: a product)."""
    out_fields = []
    for index, item in enumerate(fields):
        call = item.expr
        if not (isinstance(call, n.FunctionCall) and call.name.lower() == "subfield" and len(call.args) == 2):
            out_fields.append(item)
            continue
        ctx = stage.base_context(frame)
        texts = compile_expr(call.args[0])(ctx).texts(ctx.settings)
        delims = compile_expr(call.args[1])(ctx).texts(ctx.settings)
        pieces = [
            [None] if s is None or d is None else (s.split(d) if d else [s])
            for s, d in zip(texts, delims, strict=True)
        ]
        counts = np.array([len(p) for p in pieces], dtype=np.int64)
        repeat = np.repeat(np.arange(frame.length), counts)
        frame = frame.take(repeat)
        synthetic = f"\x00subfield{index}"
        flat = [piece for row in pieces for piece in row]
        frame.columns[synthetic] = Column.from_values(flat)
        frame.names.append(synthetic)
        out_fields.append(n.LoadField(n.FieldRef(synthetic), item.name))
    return frame, out_fields


def distinct_rows(frame: Frame) -> Frame:
    """DISTINCT: the first of each set of identical rows (by value identity and text)."""
    if not frame.names or frame.length == 0:
        return frame
    keys = pd.DataFrame({name: pd.Series(frame.columns[name].keys(), dtype=object) for name in frame.names})
    keep = ~keys.duplicated().to_numpy()
    return frame.take(keep)
