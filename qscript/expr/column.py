"""Columns of Qlik values, held as two parallel NumPy arrays.

A column is ``text`` (object array: ``str`` or ``None``) beside ``num`` (float64 array:
a number or NaN). Either array may be absent, meaning "all None" / "all NaN". A cell is

* NULL when its text is ``None`` and its number NaN,
* a number when only the number is set (its text is derived by formatting),
* text when only the text is set (its number is derived by interpretation),
* a dual when both are set.

Qlik has no NaN of its own (division by zero gives NULL), so NaN can stand for "no number".
Pure numeric columns never build a text array and pure text columns never build a number
array until an operation asks for that view; views are cached on the (immutable) column.

``kind`` remembers what the numbers mean when a function made them (``"date"``,
``"time"``, ``"timestamp"``, ``"interval"``, ``"money"``), so output can show a column of
dates as dates. Operations that compute new numbers drop it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from qscript.expr.formats import FormatSettings, format_number_array, parse_number_array
from qscript.expr.values import Dual, Value


class Column:
    """An immutable column of Qlik values. Build with the ``from_*`` constructors."""

    __slots__ = ("_numbers", "_texts", "kind", "length", "num", "text")

    def __init__(
        self, text: np.ndarray | None, num: np.ndarray | None, length: int, kind: str | None = None
    ) -> None:
        self.text = text
        self.num = num
        self.length = length
        self.kind = kind
        self._texts: tuple[FormatSettings, np.ndarray] | None = None
        self._numbers: tuple[FormatSettings, np.ndarray] | None = None

    # -- constructors ----------------------------------------------------------------------
    @classmethod
    def from_numbers(cls, num: np.ndarray) -> Column:
        num = np.asarray(num, dtype=np.float64)
        return cls(None, num, len(num))

    @classmethod
    def from_texts(cls, text: np.ndarray | list) -> Column:
        arr = text if isinstance(text, np.ndarray) and text.dtype == object else _object_array(text)
        return cls(arr, None, len(arr))

    @classmethod
    def from_duals(cls, text: np.ndarray, num: np.ndarray, kind: str | None = None) -> Column:
        return cls(text, np.asarray(num, dtype=np.float64), len(text), kind)

    @classmethod
    def nulls(cls, length: int) -> Column:
        return cls(None, None, length)

    @classmethod
    def constant(cls, value: Value, length: int) -> Column:
        """A column repeating one scalar value."""
        if value is None:
            return cls.nulls(length)
        if isinstance(value, str):
            text = np.empty(length, dtype=object)
            text.fill(value)
            return cls(text, None, length)
        if isinstance(value, Dual):
            text = np.empty(length, dtype=object)
            text.fill(value.text)
            return cls(text, np.full(length, value.num), length)
        return cls(None, np.full(length, float(value)), length)

    @classmethod
    def from_values(cls, values: Iterable[Value]) -> Column:
        """Build from scalar values (``None``/``str``/``float``/``Dual``)."""
        values = list(values)
        n = len(values)
        text = np.empty(n, dtype=object)
        num = np.full(n, np.nan)
        has_text = has_num = False
        for i, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                text[i] = value
                has_text = True
            elif isinstance(value, Dual):
                text[i] = value.text
                num[i] = value.num
                has_text = has_num = True
            else:
                num[i] = float(value)
                has_num = True
        return cls(text if has_text else None, num if has_num else None, n)

    # -- cell access -------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.length

    def value(self, i: int) -> Value:
        """The scalar at row ``i``."""
        text = None if self.text is None else self.text[i]
        num = np.nan if self.num is None else self.num[i]
        if text is None:
            return None if num != num else float(num)
        if num != num:
            return text
        return Dual(text, float(num))

    def values(self) -> list[Value]:
        return [self.value(i) for i in range(self.length)]

    # -- views ------------------------------------------------------------------------------
    def raw_num(self) -> np.ndarray:
        """The stored numbers only (NaN where a cell has no number of its own)."""
        return np.full(self.length, np.nan) if self.num is None else self.num

    def raw_text(self) -> np.ndarray:
        """The stored texts only (None where a cell has no text of its own)."""
        return np.full(self.length, None, dtype=object) if self.text is None else self.text

    def nulls_mask(self) -> np.ndarray:
        """True where the cell is NULL."""
        if self.text is None and self.num is None:
            return np.ones(self.length, dtype=bool)
        if self.text is None:
            return np.isnan(self.num)
        no_text = _none_mask(self.text)
        return no_text if self.num is None else no_text & np.isnan(self.num)

    def texts(self, settings: FormatSettings) -> np.ndarray:
        """Object array of the text each cell shows (None for NULL)."""
        if self.num is None:
            return self.raw_text()
        cached = self._texts
        if cached is not None and cached[0] == settings:
            return cached[1]
        out = self.raw_text().copy() if self.text is not None else np.empty(self.length, dtype=object)
        missing = _none_mask(out) & ~np.isnan(self.num)
        if missing.any():
            out[missing] = format_number_array(self.num[missing], None, settings)
        self._texts = (settings, out)
        return out

    def numbers(self, settings: FormatSettings) -> np.ndarray:
        """Float array of the number each cell computes with (NaN for NULL or non-numbers)."""
        if self.text is None:
            return self.raw_num()
        cached = self._numbers
        if cached is not None and cached[0] == settings:
            return cached[1]
        out = self.raw_num().copy() if self.num is not None else np.full(self.length, np.nan)
        todo = np.isnan(out) & ~_none_mask(self.text)
        if todo.any():
            out[todo] = parse_number_array(self.text[todo], None, settings)
        self._numbers = (settings, out)
        return out

    def keys(self) -> np.ndarray:
        """Object array of value identities: the number when a cell has one, else its text.

        Joins, Exists() and mapping lookups match on these (``'007'`` matches 7); NULL is
        ``None`` and matches nothing.
        """
        if self.text is None:
            out = self.raw_num().astype(object)
            out[np.isnan(self.raw_num())] = None
            return out
        if self.num is None:
            return self.text
        out = self.text.copy()
        has_num = ~np.isnan(self.num)
        out[has_num] = self.num[has_num]
        return out

    # -- reshaping ------------------------------------------------------------------------------
    def take(self, index: np.ndarray) -> Column:
        """Rows by position or boolean mask."""
        text = None if self.text is None else self.text[index]
        num = None if self.num is None else self.num[index]
        length = len(text) if text is not None else len(num) if num is not None else _count(index)
        return Column(text, num, length, self.kind)

    def take_nullable(self, index: np.ndarray) -> Column:
        """Rows by position where -1 gives a NULL row (the unmatched side of a join)."""
        missing = index < 0
        safe = np.where(missing, 0, index)
        if self.length == 0:
            return Column.nulls(len(index))
        text = num = None
        if self.text is not None:
            text = self.text[safe]
            text[missing] = None
        if self.num is not None:
            num = self.num[safe]
            num[missing] = np.nan
        return Column(text, num, len(index), self.kind)

    @staticmethod
    def concat(columns: list[Column]) -> Column:
        """Rows of several columns, one after the other."""
        length = sum(c.length for c in columns)
        text = num = None
        if any(c.text is not None for c in columns):
            text = np.concatenate([c.raw_text() for c in columns]) if columns else np.empty(0, dtype=object)
        if any(c.num is not None for c in columns):
            num = np.concatenate([c.raw_num() for c in columns])
        # NULL fillers (no arrays at all) say nothing about the kind of the others
        kinds = {c.kind for c in columns if c.length and (c.text is not None or c.num is not None)}
        return Column(text, num, length, kinds.pop() if len(kinds) == 1 else None)

    def scatter(self, mask: np.ndarray, length: int) -> Column:
        """Spread this column's rows onto the True rows of ``mask``; other rows are NULL."""
        text = num = None
        if self.text is not None:
            text = np.empty(length, dtype=object)
            text[mask] = self.text
        if self.num is not None:
            num = np.full(length, np.nan)
            num[mask] = self.num
        return Column(text, num, length, self.kind)

    @staticmethod
    def choose(mask: np.ndarray, when_true: Column, when_false: Column) -> Column:
        """Row-wise ``when_true if mask else when_false``."""
        length = len(mask)
        text = num = None
        if when_true.text is not None or when_false.text is not None:
            text = np.where(mask, when_true.raw_text(), when_false.raw_text())
        if when_true.num is not None or when_false.num is not None:
            num = np.where(mask, when_true.raw_num(), when_false.raw_num())
        kind = when_true.kind if when_true.kind == when_false.kind else None
        return Column(text, num, length, kind)

    def __repr__(self) -> str:
        preview = ", ".join(repr(v) for v in self.values()[:5])
        more = ", ..." if self.length > 5 else ""
        return f"Column([{preview}{more}])"


def _object_array(values: Iterable) -> np.ndarray:
    values = list(values)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _none_mask(arr: np.ndarray) -> np.ndarray:
    if len(arr) == 0:
        return np.zeros(0, dtype=bool)
    return np.equal(arr, None)


def _count(index: np.ndarray) -> int:
    index = np.asarray(index)
    return int(index.sum()) if index.dtype == bool else len(index)
