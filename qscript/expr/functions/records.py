"""Inter-record and table functions: RecNo, RowNo, IterNo, Peek, Previous, Exists,
FieldValue, NoOfRows, TableName, Lookup, AutoNumber, Evaluate ...

They read the data model and the row counters through the evaluation context (see
:mod:`qscript.expr.model_view`). Those marked RECORD depend on the order of the rows and
make a LOAD run row by row; the others stay vectorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qscript.errors import GeneralScriptError
from qscript.expr.column import Column
from qscript.expr.registry import RAW, RECORD, qlik_function
from qscript.expr.values import Value, value_key


def _model(ctx):
    if ctx.model is None:
        raise GeneralScriptError("this function needs the data model, which is not available here")
    return ctx.model


def _counter(ctx, array_name: str, row_name: str, default: float | None) -> Column:
    array = getattr(ctx, array_name)
    if array is not None:
        return Column.from_numbers(array.astype(np.float64))
    if ctx.row is not None:
        return Column.constant(float(getattr(ctx.row, row_name)), ctx.length)
    return Column.constant(default, ctx.length)


@qlik_function("RecNo", "", nulls=RAW, context=True)
def recno(ctx) -> Column:
    """Input record number (1-based per source; WHERE-skipped records count)."""
    return _counter(ctx, "recno", "recno", None)


@qlik_function("RowNo", "text?", nulls=RAW, context=True)
def rowno(ctx, _total=None) -> Column:
    """Output row number in the table being built (concatenated rows count)."""
    return _counter(ctx, "rowno", "rowno", None)


@qlik_function("IterNo", "", nulls=RAW, context=True)
def iterno(ctx) -> Column:
    """Pass of the WHILE clause for this record, from 1."""
    return _counter(ctx, "iterno", "iterno", 1.0)


@qlik_function("Previous", "any", kind=RECORD, nulls=RAW)
def previous(_value: Column) -> Column:  # pragma: no cover - compiled specially (evaluate.py)
    raise AssertionError("Previous() is evaluated by the compiler")


def _peek_one(ctx, field: str, row: float | None, table: str | None) -> Value:
    if table is None and ctx.row is not None:
        values = ctx.row.output.get(field)
        if values is None:
            raise GeneralScriptError(f"Peek(): field '{field}' is not loaded by this LOAD")
        index = -1 if row is None else int(row)
        if -len(values) <= index < len(values):
            return values[index]
        return None
    model = _model(ctx)
    table = table if table is not None else model.current_table()
    column = None if table is None else model.table_column(table, field)
    if column is None:
        return None
    index = -1 if row is None else int(row)
    if index < 0:
        index += column.length
    return column.value(index) if 0 <= index < column.length else None


@qlik_function("Peek", "text number? text?", kind=RECORD, nulls=RAW, context=True)
def peek(ctx, field, row=None, table=None) -> Column:
    """Peek(field [, row [, table]]): a value of an already loaded row (row -1 = last).

    Without a table inside a LOAD it reads the rows this LOAD has output so far; in LET
    it reads the last loaded table. NULL out of range and on the first record.
    """
    rows = [None] * len(field) if row is None else row.tolist()
    tables = [None] * len(field) if table is None else list(table)
    values = []
    for f, r, t in zip(field, rows, tables, strict=True):
        if f is None or (r is not None and r != r):
            values.append(None)
        else:
            values.append(_peek_one(ctx, f, r, t))
    return Column.from_values(values)


@qlik_function("Exists", "text any?", kind=RECORD, nulls=RAW, context=True)
def exists(ctx, field, value: Column | None = None) -> np.ndarray:
    """-1 when the value (or the current field's value) is already loaded in the field."""
    model = _model(ctx)
    out = np.zeros(ctx.length)
    for i, name in enumerate(field):
        if name is None:
            continue
        if value is None:
            column = ctx.fields.get(name)
            key = None if column is None else value_key(column.value(i))
        else:
            key = value_key(value.value(i))
        if key is not None and model.exists(name, key):
            out[i] = -1.0
    return out


@qlik_function("FieldValue", "text number", context=True)
def field_value(ctx, field, n) -> Column:
    """The n-th distinct value of a field, in load order (1-based); NULL past the end."""
    model = _model(ctx)
    values = []
    for name, k in zip(field, n.tolist(), strict=True):
        distinct = model.field_values(name) or []
        index = int(k)
        values.append(distinct[index - 1] if 1 <= index <= len(distinct) else None)
    return Column.from_values(values)


@qlik_function("FieldValueCount", "text", context=True)
def field_value_count(ctx, field) -> np.ndarray:
    model = _model(ctx)
    counts = []
    for name in field:
        distinct = model.field_values(name)
        counts.append(np.nan if distinct is None else len(distinct))
    return np.array(counts, dtype=np.float64)


@qlik_function("NoOfRows", "text", context=True)
def no_of_rows(ctx, table) -> np.ndarray:
    """Rows of a table; NULL when there is no such table (scripts use it as a test)."""
    model = _model(ctx)
    return np.array([np.nan if (r := model.table_rows(t)) is None else r for t in table], dtype=np.float64)


@qlik_function("NoOfFields", "text", context=True)
def no_of_fields(ctx, table) -> np.ndarray:
    model = _model(ctx)
    return np.array([np.nan if (f := model.table_fields(t)) is None else len(f) for t in table], dtype=np.float64)


@qlik_function("NoOfTables", "", nulls=RAW, context=True)
def no_of_tables(ctx) -> Column:
    return Column.constant(float(len(_model(ctx).table_names())), ctx.length)


@qlik_function("TableName", "number", context=True)
def table_name(ctx, n) -> np.ndarray:
    """The name of table n, counted from 0 in load order; NULL out of range."""
    names = _model(ctx).table_names()
    out = np.empty(len(n), dtype=object)
    out[:] = [names[int(k)] if 0 <= int(k) < len(names) else None for k in n.tolist()]
    return out


@qlik_function("TableNumber", "text", context=True)
def table_number(ctx, table) -> np.ndarray:
    """The 0-based number of a table; NULL when it does not exist."""
    names = _model(ctx).table_names()
    return np.array([names.index(t) if t in names else np.nan for t in table], dtype=np.float64)


@qlik_function("FieldName", "number text", context=True)
def field_name(ctx, n, table) -> np.ndarray:
    """The name of field n (1-based) of a table; NULL out of range."""
    model = _model(ctx)
    out = np.empty(len(n), dtype=object)
    for i, (k, t) in enumerate(zip(n.tolist(), table, strict=True)):
        fields = model.table_fields(t) or []
        out[i] = fields[int(k) - 1] if 1 <= int(k) <= len(fields) else None
    return out


@qlik_function("FieldNumber", "text text", context=True)
def field_number(ctx, field, table) -> np.ndarray:
    """The 1-based position of a field in a table; 0 when absent."""
    model = _model(ctx)
    out = []
    for f, t in zip(field, table, strict=True):
        fields = model.table_fields(t)
        out.append(np.nan if fields is None else (fields.index(f) + 1 if f in fields else 0))
    return np.array(out, dtype=np.float64)


@qlik_function("Lookup", "text text any text?", nulls=RAW, context=True)
def lookup(ctx, field, match_field, value: Column, table=None) -> Column:
    """The field's value on the first row (load order) where match_field equals value."""
    model = _model(ctx)
    results: list[Value] = []
    for i in range(ctx.length):
        name, match, t = field[i], match_field[i], None if table is None else table[i]
        t = t if t is not None else model.current_table()
        key = value_key(value.value(i))
        target = None if t is None or name is None else model.table_column(t, name)
        matches = None if t is None or match is None else model.table_column(t, match)
        if target is None or matches is None or key is None:
            results.append(None)
            continue
        hits = np.flatnonzero(pd.array(matches.keys(), dtype=object) == key)
        results.append(target.value(int(hits[0])) if len(hits) else None)
    return Column.from_values(results)


def _autonumber(ctx, keys: np.ndarray, counters) -> np.ndarray:
    """Number distinct keys 1, 2, ... in order of first appearance, per counter, per reload."""
    model = _model(ctx)
    out = np.full(len(keys), np.nan)
    counter_names = ["" if c is None else str(c) for c in counters]
    frame = pd.DataFrame({"k": pd.array(keys, dtype=object), "c": counter_names})
    valid = frame["k"].notna().to_numpy()
    if not valid.any():
        return out
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame[valid]))
    numbers = np.array([model.autonumber(k, c) for k, c in uniques], dtype=np.float64)
    out[valid] = numbers[codes]
    return out


@qlik_function("AutoNumber", "any text?", nulls=RAW, context=True)
def auto_number(ctx, value: Column, counter=None) -> np.ndarray:
    counters = [None] * ctx.length if counter is None else counter
    return _autonumber(ctx, value.keys(), counters)


def _joined_texts(ctx, values: tuple[Column, ...]) -> np.ndarray:
    """One key per row from the texts of ``values`` (NULL as empty), joined by a unit separator."""
    texts = [v.texts(ctx.settings) for v in values]
    keys = np.empty(ctx.length, dtype=object)
    keys[:] = ["\x1f".join("" if t is None else t for t in row) for row in zip(*texts, strict=True)]
    return keys


@qlik_function("AutoNumberHash128", "any any*", nulls=RAW, context=True)
def auto_number_hash128(ctx, *values: Column) -> np.ndarray:
    return _autonumber(ctx, _joined_texts(ctx, values), ["#hash128"] * ctx.length)


@qlik_function("AutoNumberHash256", "any any*", nulls=RAW, context=True)
def auto_number_hash256(ctx, *values: Column) -> np.ndarray:
    return _autonumber(ctx, _joined_texts(ctx, values), ["#hash256"] * ctx.length)


@qlik_function("Evaluate", "text", context=True)
def evaluate(ctx, text) -> Column:
    """Evaluate(text): the value of the expression in the text; NULL when it is invalid."""
    if ctx.evaluate_text is None:
        raise GeneralScriptError("Evaluate() is not available here")
    return Column.from_values([ctx.evaluate_text(t) for t in text])
