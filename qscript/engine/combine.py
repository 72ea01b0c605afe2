"""Putting a loaded frame into the model: CONCATENATE, JOIN, KEEP, CROSSTABLE.

Joins are natural joins on all shared field names, matching by value identity (``'007'``
matches 7); NULL keys never match, unlike pandas' NaN. Row order: the target's rows in
order (each with its matches in load order), then unmatched new rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qscript.engine.frame import Frame
from qscript.engine.model import Table
from qscript.errors import FieldNotFoundError, GeneralScriptError
from qscript.expr.column import Column
from qscript.expr.values import Value


def concatenate(target: Table, frame: Frame) -> Table:
    """Append rows; the field set becomes the union, missing values NULL."""
    return target.appended(frame.names, {name: frame.columns[name] for name in frame.names}, frame.length)


def _key_frame(columns: list[Column]) -> tuple[pd.DataFrame, np.ndarray]:
    keys = pd.DataFrame({f"k{i}": pd.Series(c.keys(), dtype=object) for i, c in enumerate(columns)})
    has_null = keys.isna().any(axis=1).to_numpy() if columns else np.zeros(0, dtype=bool)
    return keys, has_null


def match_rows(left: list[Column], right: list[Column], left_len: int, right_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (left row, right row) whose keys are equal, in left order then right order."""
    if not left:  # no shared field: every row with every row
        return np.repeat(np.arange(left_len), right_len), np.tile(np.arange(right_len), left_len)
    lkeys, lnull = _key_frame(left)
    rkeys, rnull = _key_frame(right)
    lkeys = lkeys[~lnull].assign(_l=np.flatnonzero(~lnull))
    rkeys = rkeys[~rnull].assign(_r=np.flatnonzero(~rnull))
    on = [f"k{i}" for i in range(len(left))]
    merged = lkeys.merge(rkeys, on=on, how="inner", sort=False)
    merged = merged.sort_values(["_l", "_r"], kind="stable")
    return merged["_l"].to_numpy(np.int64), merged["_r"].to_numpy(np.int64)


def join(target: Table, frame: Frame, kind: str) -> Table:
    """``[INNER|OUTER|LEFT|RIGHT] JOIN``: the result replaces the target."""
    shared = [name for name in target.fields if name in frame.columns]
    li, ri = match_rows(
        [target.columns[s] for s in shared], [frame.columns[s] for s in shared], target.length, frame.length
    )
    parts_l, parts_r = [li], [ri]
    if kind in ("OUTER", "LEFT"):
        unmatched = np.setdiff1d(np.arange(target.length), li)
        if len(unmatched):
            # keep target order: merge unmatched left rows into their places
            all_l = np.concatenate([li, unmatched])
            all_r = np.concatenate([ri, np.full(len(unmatched), -1)])
            order = np.lexsort((np.arange(len(all_l)), all_l))
            parts_l, parts_r = [all_l[order]], [all_r[order]]
    if kind in ("OUTER", "RIGHT"):
        unmatched = np.setdiff1d(np.arange(frame.length), ri)
        parts_l.append(np.full(len(unmatched), -1))
        parts_r.append(unmatched)
    lidx, ridx = np.concatenate(parts_l), np.concatenate(parts_r)
    names = list(target.fields) + [name for name in frame.names if name not in target.fields]
    columns = {}
    for name in names:
        if name in shared:
            from_left = target.columns[name].take_nullable(lidx)
            from_right = frame.columns[name].take_nullable(ridx)
            columns[name] = Column.choose(lidx >= 0, from_left, from_right)
        elif name in target.fields:
            columns[name] = target.columns[name].take_nullable(lidx)
        else:
            columns[name] = frame.columns[name].take_nullable(ridx)
    return Table.build(target.name, names, columns, len(lidx))


def keep_masks(target: Table, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Rows of each side that have a match on the other (KEEP is a semi-join filter)."""
    shared = [name for name in target.fields if name in frame.columns]
    li, ri = match_rows(
        [target.columns[s] for s in shared], [frame.columns[s] for s in shared], target.length, frame.length
    )
    left = np.zeros(target.length, dtype=bool)
    right = np.zeros(frame.length, dtype=bool)
    left[li] = True
    right[ri] = True
    return left, right


def crosstable(frame: Frame, attribute: str, data: str, qualifiers: int) -> Frame:
    """CROSSTABLE(attr, data, n): the first n fields stay; every other field becomes rows."""
    if qualifiers < 0 or qualifiers >= len(frame.names):
        raise GeneralScriptError("CROSSTABLE needs at least one field besides its qualifier fields")
    keep, spread = frame.names[:qualifiers], frame.names[qualifiers:]
    rows = frame.length
    repeat = np.repeat(np.arange(rows), len(spread))
    columns: dict[str, Column] = {name: frame.columns[name].take(repeat) for name in keep}
    attr_values: list[Value] = spread * rows
    columns[attribute] = Column.from_values(attr_values)
    stacked = Column.concat([frame.columns[name] for name in spread])
    # stacked is field-major; reorder to row-major
    order = (np.arange(len(spread))[None, :] * rows + np.arange(rows)[:, None]).ravel()
    columns[data] = stacked.take(order)
    return Frame([*keep, attribute, data], columns, rows * len(spread))


def require_fields(table: Table, names: list[str]) -> None:
    for name in names:
        if name not in table.fields:
            raise FieldNotFoundError(f"Field '{name}' not found in table '{table.name}'")
