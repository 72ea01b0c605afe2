"""Mapping functions: ApplyMap and MapSubString over the model's mapping tables."""

from __future__ import annotations

import re

import numpy as np

from qscript.errors import GeneralScriptError
from qscript.expr.column import Column
from qscript.expr.formats import default_number_text
from qscript.expr.registry import RAW, qlik_function
from qscript.expr.values import Value, as_text


def _mapping(ctx, name: str) -> dict[object, Value]:
    if ctx.model is None:
        raise GeneralScriptError("ApplyMap() needs the data model")
    mapping = ctx.model.mapping(name)
    if mapping is None:
        raise GeneralScriptError(f"Mapping table not found: {name}")
    return mapping


@qlik_function("ApplyMap", "text any any?", nulls=RAW, context=True)
def apply_map(ctx, name, value: Column, default: Column | None = None) -> Column:
    """The mapped value of the key; a missing key gives the default, else the key itself.

    Keys match by value identity (``'007'`` matches 7); NULL never matches.
    """
    names = set(name.tolist())
    if len(names) != 1 or None in names:
        raise GeneralScriptError("ApplyMap() needs one mapping table name")
    mapping = _mapping(ctx, names.pop())
    keys = value.keys()
    found = np.array([k is not None and k in mapping for k in keys], dtype=bool)
    mapped = Column.from_values([mapping[k] if f else None for k, f in zip(keys, found, strict=True)])
    otherwise = default if default is not None else value
    return Column.choose(found, mapped, otherwise)


@qlik_function("MapSubString", "text text", context=True)
def map_substring(ctx, name, text) -> np.ndarray:
    """Replace every key found in the text (longest first, left to right, not recursively)."""
    names = set(name.tolist())
    if len(names) != 1:
        raise GeneralScriptError("MapSubString() needs one mapping table name")
    mapping = _mapping(ctx, names.pop())
    replacements = {}
    for key, mapped in mapping.items():
        key_text = key if isinstance(key, str) else _number_text(key, ctx)
        replacements[key_text] = "" if mapped is None else _value_text(mapped, ctx)
    if not replacements:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(replacements, key=len, reverse=True) if k))
    out = np.empty(len(text), dtype=object)
    out[:] = [pattern.sub(lambda m: replacements[m.group(0)], s) for s in text]
    return out


def _number_text(number: object, ctx) -> str:
    return default_number_text(float(number), ctx.settings.decimal_sep)  # type: ignore[arg-type]


def _value_text(value: Value, ctx) -> str:
    return as_text(value, ctx.settings) or ""
