"""Hash128/160/256 and the JSON functions JsonGet, JsonSet, IsJson.

Hashes: Qlik's algorithm is undocumented, so values differ from Qlik's (documented for
users). qscript hashes every argument's text (UTF-8, each prefixed by its byte length, so
``('ab','c')`` and ``('a','bc')`` differ) with SHA-256, keeps the first 128/160/256 bits
and writes them in the URL-safe base64 alphabet without padding: 22, 27 and 43
characters, the lengths Qlik's hashes have. Equal inputs give equal hashes across runs
and machines, which is what keys and change detection need.

JSON (Qlik Cloud): paths are RFC 6901 pointers ('/data/0/id', '' for the whole document).
Numbers keep their original text ('1.50' stays '1.50'); output is compact (no blanks).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from qscript.expr.column import Column
from qscript.expr.registry import RAW, qlik_function

# -- hashes ---------------------------------------------------------------------------------


def hash_texts(parts: tuple[str, ...], bits: int) -> str:
    """The printable hash of some texts: SHA-256 truncated to ``bits``, base64url."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return base64.urlsafe_b64encode(digest.digest()[: bits // 8]).rstrip(b"=").decode("ascii")


def _hash_column(texts: tuple[np.ndarray, ...], bits: int) -> np.ndarray:
    out = np.empty(len(texts[0]), dtype=object)
    out[:] = [hash_texts(parts, bits) for parts in zip(*texts, strict=True)]
    return out


@qlik_function("Hash128", "text text*")
def hash128(*texts: np.ndarray) -> np.ndarray:
    """A 22-character hash of the arguments' texts (not Qlik's values, see module doc)."""
    return _hash_column(texts, 128)


@qlik_function("Hash160", "text text*")
def hash160(*texts: np.ndarray) -> np.ndarray:
    """A 27-character hash of the arguments' texts (not Qlik's values, see module doc)."""
    return _hash_column(texts, 160)


@qlik_function("Hash256", "text text*")
def hash256(*texts: np.ndarray) -> np.ndarray:
    """A 43-character hash of the arguments' texts (not Qlik's values, see module doc)."""
    return _hash_column(texts, 256)


# -- JSON -----------------------------------------------------------------------------------


class _Number(str):
    """A JSON number kept as its source text, so re-serialising never changes it."""

    __slots__ = ()


class _InvalidJsonError(Exception):
    """Text that is no JSON, or a path that does not fit the document."""


def _reject_constant(name: str) -> Any:
    raise _InvalidJsonError(name)  # NaN, Infinity: Python accepts them, JSON does not


def parse_json(text: str) -> Any:
    """Parse JSON text; numbers stay `_Number`; raises `_InvalidJsonError` for anything else."""
    try:
        return json.loads(text, parse_float=_Number, parse_int=_Number, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _InvalidJsonError(str(exc)) from exc


def dump_json(value: Any) -> str:
    """Compact JSON text (no blanks, non-ASCII kept as it is)."""
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dump_json(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _tokens(path: str) -> list[str]:
    """RFC 6901: '' is the whole document, else '/'-separated, with ~1 = '/' and ~0 = '~'."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise _InvalidJsonError(path)
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _array_index(token: str, length: int, *, append: bool) -> int:
    """An array index token: digits without leading zeros ('-' appends when setting)."""
    if append and token == "-":
        return length
    if not token.isdigit() or not token.isascii() or (len(token) > 1 and token[0] == "0"):
        raise _InvalidJsonError(token)
    index = int(token)
    if index > length or (index == length and not append):
        raise _InvalidJsonError(token)
    return index


def _child(node: Any, token: str) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise _InvalidJsonError(token)
        return node[token]
    if isinstance(node, list):
        return node[_array_index(token, len(node), append=False)]
    raise _InvalidJsonError(token)


def json_get(text: str, path: str) -> Any:
    """The value at ``path``; raises `_InvalidJsonError` when the text or path does not fit."""
    node = parse_json(text)
    for token in _tokens(path):
        node = _child(node, token)
    return node


def json_set(text: str, path: str, value_text: str) -> str:
    """The document with the value at ``path`` set (objects gain keys, arrays may grow by one)."""
    document, value = parse_json(text), parse_json(value_text)
    tokens = _tokens(path)
    if not tokens:
        return dump_json(value)
    parent = document
    for token in tokens[:-1]:
        parent = _child(parent, token)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        index = _array_index(last, len(parent), append=True)
        if index == len(parent):
            parent.append(value)
        else:
            parent[index] = value
    else:
        raise _InvalidJsonError(last)
    return dump_json(document)


def _json_value(node: Any) -> tuple[str | None, float]:
    """(text, number) of a found value: numbers are duals, strings unquoted, null is NULL."""
    if node is None:
        return None, np.nan
    if isinstance(node, _Number):
        return str(node), float(node)
    if isinstance(node, str):
        return node, np.nan
    return dump_json(node), np.nan


def _memoised(fn: Callable[..., Any], *columns: Iterable) -> list:
    """``fn`` per row, computed once per distinct combination of arguments."""
    memo: dict[tuple, Any] = {}
    out = []
    for key in zip(*columns, strict=True):
        if key not in memo:
            memo[key] = fn(*key)
        out.append(memo[key])
    return out


def _get_cell(text: str, path: str) -> tuple[str | None, float]:
    try:
        return _json_value(json_get(text, path))
    except _InvalidJsonError:
        return None, np.nan


def _set_cell(text: str, path: str, value: str) -> str | None:
    try:
        return json_set(text, path, value)
    except _InvalidJsonError:
        return None


@qlik_function("JsonGet", "text text")
def json_get_(texts: np.ndarray, paths: np.ndarray) -> Column:
    """``JsonGet(json, path)``: the value's JSON text; NULL for invalid JSON or a missing path."""
    cells = _memoised(_get_cell, texts, paths)
    out = np.empty(len(cells), dtype=object)
    out[:] = [c[0] for c in cells]
    numbers = np.fromiter((c[1] for c in cells), dtype=np.float64, count=len(cells))
    return Column.from_duals(out, numbers) if not np.isnan(numbers).all() else Column.from_texts(out)


@qlik_function("JsonSet", "text text text")
def json_set_(texts: np.ndarray, paths: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``JsonSet(json, path, value)``: NULL when the JSON, the path or the value is invalid."""
    result = np.empty(len(texts), dtype=object)
    result[:] = _memoised(_set_cell, texts, paths, values)
    return result


_JSON_TYPES = {
    "value": lambda v: True,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str) and not isinstance(v, _Number),
    "number": lambda v: isinstance(v, _Number),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def is_json(text: str | None, kind: str | None) -> bool:
    """Valid JSON of the given type ('value' = any); unknown types and NULL give False."""
    test = _JSON_TYPES.get(kind.strip().lower()) if kind is not None else None
    if text is None or test is None:
        return False
    try:
        return bool(test(parse_json(text)))
    except _InvalidJsonError:
        return False


@qlik_function("IsJson", "any any?", nulls=RAW, context=True)
def is_json_(ctx, text: Column, kind: Column | None = None) -> np.ndarray:
    """``IsJson(json [, type])``: -1/0. NULL JSON is not JSON (0), like IsNum(NULL)."""
    texts = text.texts(ctx.settings)
    kinds = ["value"] * len(texts) if kind is None else kind.texts(ctx.settings).tolist()
    return np.where(np.array(_memoised(is_json, texts, kinds), dtype=bool), -1.0, 0.0)
