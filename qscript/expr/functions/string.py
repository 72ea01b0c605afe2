"""String functions. Kernels take object arrays of ``str`` (NULL rows already set aside).

Hash and JSON functions live in :mod:`qscript.expr.functions.json_hash`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from qscript.expr.column import Column
from qscript.expr.numformat import distinct
from qscript.expr.registry import RAW, qlik_function


def _texts(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _ints(numbers: np.ndarray) -> list[int]:
    return np.trunc(numbers).astype(np.int64).tolist()


@qlik_function("Len", "text")
def length(text: np.ndarray) -> np.ndarray:
    return np.fromiter((len(s) for s in text), dtype=np.float64, count=len(text))


@qlik_function("Left", "text number")
def left(text: np.ndarray, count: np.ndarray) -> np.ndarray:
    return _texts([s[: max(k, 0)] for s, k in zip(text, _ints(count), strict=True)])


@qlik_function("Right", "text number")
def right(text: np.ndarray, count: np.ndarray) -> np.ndarray:
    return _texts([s[-k:] if k > 0 else "" for s, k in zip(text, _ints(count), strict=True)])


@qlik_function("Mid", "text number number?")
def mid(text: np.ndarray, start: np.ndarray, count: np.ndarray | None = None) -> np.ndarray:
    """1-based start; a start below 1 counts from 1."""
    starts = [max(k, 1) - 1 for k in _ints(start)]
    if count is None:
        return _texts([s[b:] for s, b in zip(text, starts, strict=True)])
    counts = _ints(count)
    return _texts([s[b : b + max(c, 0)] for s, b, c in zip(text, starts, counts, strict=True)])


@qlik_function("Upper", "text")
def upper(text: np.ndarray) -> np.ndarray:
    return _texts([s.upper() for s in text])


@qlik_function("Lower", "text")
def lower(text: np.ndarray) -> np.ndarray:
    return _texts([s.lower() for s in text])


@qlik_function("Trim", "text")
def trim(text: np.ndarray) -> np.ndarray:
    """Removes leading and trailing spaces (only spaces, as the help says)."""
    return _texts([s.strip(" ") for s in text])


@qlik_function("Replace", "text text text")
def replace(text: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    return _texts([s.replace(o, w) if o else s for s, o, w in zip(text, old, new, strict=True)])


def subfield_at(text: str, delimiter: str, index: int) -> str | None:
    """The ``index``-th piece (1-based, negative from the right); None when out of range."""
    pieces = text.split(delimiter) if delimiter else [text]
    if index > 0 and index <= len(pieces):
        return pieces[index - 1]
    if index < 0 and -index <= len(pieces):
        return pieces[index]
    return None


@qlik_function("SubField", "any any any?", nulls=RAW, context=True)
def subfield(ctx, text: Column, delimiter: Column, index: Column | None = None) -> np.ndarray:
    """``SubField(s, d, n)``. NULL text gives '' (help example); a missing piece gives NULL.

    The two-argument form yields one row per piece inside a LOAD; as a scalar it gives
    the first piece.
    """
    settings = ctx.settings
    texts, delims = text.texts(settings), delimiter.texts(settings)
    indexes = [1] * ctx.length if index is None else index.numbers(settings).tolist()
    out = []
    for s, d, k in zip(texts, delims, indexes, strict=True):
        if k != k or d is None:
            out.append(None)
        elif s is None:
            out.append("")
        else:
            out.append(subfield_at(s, d, int(k)))
    return _texts(out)


def text_between(text: str, start: str | None, end: str | None, occurrence: int) -> str | None:
    """Text between the n-th ``start`` and the next ``end``; NULL delimiters mean the edges."""
    if occurrence < 1:
        return None
    position = 0
    if start is not None:
        for _ in range(occurrence):
            found = text.find(start, position)
            if found < 0:
                return None
            position = found + len(start)
    if end is None:
        return text[position:]
    stop = text.find(end, position)
    return None if stop < 0 else text[position:stop]


@qlik_function("TextBetween", "any any any number?", nulls=RAW, context=True)
def textbetween(ctx, text: Column, start: Column, end: Column, n: np.ndarray | None = None) -> np.ndarray:
    """NULL when a delimiter is missing or n is too large; '' for adjacent delimiters.

    ``TextBetween(url, '&next=', Null())`` is a common idiom: a NULL delimiter stands for
    the start or the end of the text.
    """
    settings = ctx.settings
    texts, starts, ends = text.texts(settings), start.texts(settings), end.texts(settings)
    counts = [1.0] * ctx.length if n is None else n.tolist()
    out = [
        None if s is None or k != k else text_between(s, a, b, int(k))
        for s, a, b, k in zip(texts, starts, ends, counts, strict=True)
    ]
    return _texts(out)


def index_of(text: str, sub: str, occurrence: int) -> int:
    """1-based position of the n-th occurrence (negative n counts from the end), 0 if absent."""
    if not sub or occurrence == 0:
        return 0
    positions = []
    found = text.find(sub)
    while found >= 0:
        positions.append(found)
        found = text.find(sub, found + 1)
    if abs(occurrence) > len(positions):
        return 0
    return positions[occurrence - 1 if occurrence > 0 else occurrence] + 1


@qlik_function("Index", "text text number?")
def index(text: np.ndarray, sub: np.ndarray, occurrence: np.ndarray | None = None) -> np.ndarray:
    occurrences = [1] * len(text) if occurrence is None else _ints(occurrence)
    return np.array(
        [index_of(s, t, k) for s, t, k in zip(text, sub, occurrences, strict=True)], dtype=np.float64
    )


@qlik_function("Chr", "number")
def chr_(code: np.ndarray) -> np.ndarray:
    return _texts([chr(k) if 0 <= k <= 0x10FFFF else None for k in _ints(code)])


@qlik_function("Ord", "text")
def ord_(text: np.ndarray) -> np.ndarray:
    return np.array([ord(s[0]) if s else np.nan for s in text], dtype=np.float64)


@qlik_function("LTrim", "text")
def ltrim(text: np.ndarray) -> np.ndarray:
    """Removes leading spaces (only spaces, like Trim)."""
    return _texts([s.lstrip(" ") for s in text])


@qlik_function("RTrim", "text")
def rtrim(text: np.ndarray) -> np.ndarray:
    """Removes trailing spaces (only spaces, like Trim)."""
    return _texts([s.rstrip(" ") for s in text])


def each_distinct(text: np.ndarray, fn: Callable[[str], str | None]) -> np.ndarray:
    """``fn`` of every text, computed once per distinct text (columns repeat values)."""
    codes, uniques = distinct(text)
    out = np.empty(len(uniques) + 1, dtype=object)
    out[:-1] = [None if u is None else fn(u) for u in uniques.tolist()]
    return out[codes]


def _per_argument(
    text: np.ndarray, arg: np.ndarray, compile_one: Callable[[str], Any], apply: Callable[[Any, str], str]
) -> np.ndarray:
    """Apply a helper compiled from the second argument, compiling each distinct one once.

    The second argument of PurgeChar/KeepChar is nearly always a constant: then one
    compiled helper runs once per distinct text of the column.
    """
    if len(arg) and np.equal(arg, arg[0]).all():
        compiled = compile_one(arg[0])
        return each_distinct(text, lambda s: apply(compiled, s))
    cache: dict[str, Any] = {}
    out = []
    for s, a in zip(text, arg, strict=True):
        compiled = cache.get(a)
        if compiled is None:
            compiled = cache[a] = compile_one(a)
        out.append(apply(compiled, s))
    return _texts(out)


@qlik_function("PurgeChar", "text text")
def purge_char(text: np.ndarray, chars: np.ndarray) -> np.ndarray:
    """The text without any of the characters in ``chars``."""
    return _per_argument(text, chars, lambda c: {ord(ch): None for ch in c}, lambda table, s: s.translate(table))


@qlik_function("KeepChar", "text text")
def keep_char(text: np.ndarray, chars: np.ndarray) -> np.ndarray:
    """The text with only the characters in ``chars``."""
    return _per_argument(
        text, chars, lambda c: re.compile(f"[^{re.escape(c)}]+" if c else ".+", re.DOTALL), lambda rx, s: rx.sub("", s)
    )


_WORD = re.compile(r"\S+")


def _capital(match: re.Match[str]) -> str:
    word = match.group()
    return word[0].upper() + word[1:].lower()


@qlik_function("Capitalize", "text")
def capitalize(text: np.ndarray) -> np.ndarray:
    """Each blank-separated word's first character upper case, the rest lower case.

    Only whitespace separates words ('mary-jane' gives 'Mary-jane'): Qlik does not
    document its word boundaries, and this changes the fewest characters.
    """
    return each_distinct(text, lambda s: _WORD.sub(_capital, s))


#: Longest text Repeat() builds; a larger result is NULL rather than exhausting memory.
MAX_REPEAT_LENGTH = 10_000_000


@qlik_function("Repeat", "text number?")
def repeat(text: np.ndarray, count: np.ndarray | None = None) -> np.ndarray:
    """The text repeated ``count`` times (default 1, fraction dropped); '' for counts below 1."""
    if count is None:
        return text
    counts = np.floor(count).clip(0, MAX_REPEAT_LENGTH + 1).astype(np.int64).tolist()
    return _texts(
        [s * k if len(s) * k <= MAX_REPEAT_LENGTH else None for s, k in zip(text, counts, strict=True)]
    )
