"""LOAD statements end to end: preceding-load chains, labels, prefixes, naming.

A LOAD without a source is a preceding load: it waits for the next LOAD (or SELECT),
whose rows flow up through it. The label and prefixes of the top statement decide where
the rows go: a mapping table, a join or keep against a target, a concatenation, an
automatic concatenation onto a table with the same field set, or a new table named
after the label (``T``, ``T-1`` on a collision).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qscript.engine import combine
from qscript.engine.frame import Frame
from qscript.engine.load import Stage, distinct_rows
from qscript.engine.model import ModelViewImpl, Table
from qscript.engine.sources import read_source
from qscript.errors import GeneralScriptError, SemanticError, TableNotFoundError
from qscript.expr.values import as_number
from qscript.script import nodes as n

if TYPE_CHECKING:
    from qscript.engine.interpreter import Interpreter


def run_load_statement(it: Interpreter, stmt: n.LoadStatement) -> None:
    """Execute a LOAD, or hold it as a preceding load for the next statement."""
    if stmt.load.source is None:
        it.pending_loads.append(stmt)
        return
    chain = [*it.pending_loads, stmt]
    it.pending_loads = []
    top = chain[0]
    label = top.label or stmt.label
    prefixes = top.prefixes or stmt.prefixes
    frame, default_name = read_source(it, stmt.load.source)
    frame = _apply_first(it, prefixes, frame)
    view = ModelViewImpl(it.model)
    rows_before = _rows_before_target(it, prefixes, chain, frame)
    for index, level in enumerate(reversed(chain)):
        is_top = index == len(chain) - 1
        frame = Stage(it, level.load, view, rows_before if is_top else 0).run(frame)
    if top.load.distinct:
        frame = distinct_rows(frame)
    put_frame(it, frame, label, prefixes, default_name)


def _apply_first(it: Interpreter, prefixes: tuple[n.Prefix, ...], frame: Frame) -> Frame:
    for prefix in prefixes:
        if isinstance(prefix, n.First):
            count = as_number(it.evaluate(prefix.count), it.vars.settings())
            if count is None or count < 0:
                raise GeneralScriptError("FIRST needs a non-negative number of records")
            frame = frame.head(int(count))
    return frame


def _rows_before_target(it: Interpreter, prefixes: tuple, chain: list[n.LoadStatement], frame: Frame) -> int:
    """Rows already in the table these rows will join, so RowNo() keeps counting."""
    for prefix in prefixes:
        if isinstance(prefix, n.Concatenate):
            target = it.model.tables.get(prefix.table or it.model.last or "")
            return 0 if target is None else target.length
        if isinstance(prefix, (n.NoConcatenate, n.Join, n.Keep, n.MappingPrefix, n.Crosstable)):
            return 0
    names = list(frame.names)
    for level in reversed(chain):
        try:
            names = Stage(it, level.load, ModelViewImpl(it.model)).output_names(names)
        except SemanticError:
            return 0
    same = it.model.same_fields(tuple(names))
    return 0 if same is None else it.model.tables[same].length


def _prefix(prefixes: tuple[n.Prefix, ...], kind: type) -> n.Prefix | None:
    return next((p for p in prefixes if isinstance(p, kind)), None)


def _qualified(it: Interpreter, frame: Frame, table_name: str) -> Frame:
    if not it.model.qualify:
        return frame
    renames = {name: f"{table_name}.{name}" for name in frame.names if it.model.is_qualified(name)}
    if not renames:
        return frame
    names = [renames.get(name, name) for name in frame.names]
    columns = {renames.get(name, name): column for name, column in frame.columns.items()}
    return Frame(names, columns, frame.length)


def _target(it: Interpreter, name: str | None, what: str) -> Table:
    target = name or it.model.last
    if target is None or target not in it.model.tables:
        raise TableNotFoundError(f"{what}: table '{target or '(no table loaded yet)'}' not found")
    return it.model.tables[target]


def put_frame(
    it: Interpreter, frame: Frame, label: str | None, prefixes: tuple[n.Prefix, ...], default_name: str
) -> None:
    """Put the rows of a finished LOAD into the model, as its prefixes say."""
    model = it.model
    crosstable = _prefix(prefixes, n.Crosstable)
    if crosstable is not None:
        count = 1 if crosstable.qualifiers is None else as_number(
            it.evaluate(crosstable.qualifiers), it.vars.settings()
        )
        frame = combine.crosstable(frame, crosstable.attribute, crosstable.data, int(count or 0))
    if _prefix(prefixes, n.Generic) is not None:
        raise GeneralScriptError("unsupported statement: GENERIC LOAD (qscript does not run it yet)")
    name = label or default_name
    if _prefix(prefixes, n.MappingPrefix) is not None:
        _put_mapping(it, frame, name, default_name)
        return
    frame = _qualified(it, frame, name)
    join = _prefix(prefixes, n.Join)
    if join is not None:
        target = _target(it, join.table, "JOIN")
        model.put(combine.join(target, frame, join.kind), contributed=frame.columns)
        it.log_table(target.name, default_name, frame.length)
        return
    keep = _prefix(prefixes, n.Keep)
    if keep is not None:
        _put_keep(it, frame, keep, name, default_name)
        return
    concat = _prefix(prefixes, n.Concatenate)
    if concat is not None:
        target = _target(it, concat.table, "CONCATENATE")
        model.put(combine.concatenate(target, frame), contributed=frame.columns)
        it.log_table(target.name, default_name, frame.length)
        return
    if _prefix(prefixes, n.NoConcatenate) is None:
        same = model.same_fields(tuple(frame.names))
        if same is not None:  # automatic concatenation: the label is ignored
            model.put(combine.concatenate(model.tables[same], frame), contributed=frame.columns)
            it.log_table(same, default_name, frame.length)
            return
    table = Table.build(model.unique_name(name), frame.names, frame.columns, frame.length)
    model.put(table)
    it.log_table(table.name, default_name, table.length)


def _put_mapping(it: Interpreter, frame: Frame, name: str, source: str) -> None:
    if len(frame.names) < 2:
        raise SemanticError(f"Mapping table '{name}' needs two fields, it has {len(frame.names)}")
    table = Table.build(name, frame.names[:2], frame.columns, frame.length)
    existing = it.model.mappings.get(name)
    if existing is not None:  # consecutive mapping loads of one name concatenate
        renamed = Frame(list(existing.fields), dict(zip(existing.fields, table.columns.values(), strict=True)),
                        table.length)
        table = combine.concatenate(existing, renamed)
    it.model.mappings[name] = table
    it.log_table(name, source, frame.length)


def _put_keep(it: Interpreter, frame: Frame, keep: n.Keep, name: str, source: str) -> None:
    target = _target(it, keep.table, "KEEP")
    left, right = combine.keep_masks(target, frame)
    model = it.model
    if keep.kind in ("INNER", "RIGHT"):
        index = np.flatnonzero(left)
        columns = {f: c.take(index) for f, c in target.columns.items()}
        kept = Table.build(target.name, target.fields, columns, len(index))
        model.tables[target.name] = kept
    if keep.kind in ("INNER", "LEFT"):
        frame = frame.take(right)
    table = Table.build(model.unique_name(name), frame.names, frame.columns, frame.length)
    model.put(table)
    it.log_table(table.name, source, table.length)
