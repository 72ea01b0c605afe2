"""Qlik values: NULL, text, number and dual (text plus number).

A scalar value is ``None`` (NULL), ``str`` (text), ``float`` (number) or :class:`Dual`.
The empty string is text, not NULL (``IsNull('')`` is 0). Booleans are numbers: true is
-1, false 0, and any non-zero number counts as true. Columns of values live in
:mod:`qscript.expr.column`; this module holds the scalar rules both paths share.
"""

from __future__ import annotations

import math

from qscript.expr.formats import FormatSettings, default_number_text, parse_number

TRUE = -1.0
FALSE = 0.0


class Dual:
    """A value with both a text and a number, such as ``Date#('2024-01-31','YYYY-MM-DD')``.

    It shows its text and computes with its number; equality compares the number.
    """

    __slots__ = ("num", "text")

    def __init__(self, text: str, num: float) -> None:
        self.text = text
        self.num = float(num)

    def __repr__(self) -> str:
        return f"Dual({self.text!r}, {self.num!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dual):
            return self.num == other.num and self.text == other.text
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.text, self.num))


Value = None | str | float | Dual


def as_text(value: Value, settings: FormatSettings) -> str | None:
    """The text a value shows: a number without text gets Qlik's default number text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Dual):
        return value.text
    return default_number_text(float(value), settings.decimal_sep)


def as_number(value: Value, settings: FormatSettings) -> float | None:
    """The number a value computes with; text is interpreted, ``None`` when it is no number."""
    if value is None:
        return None
    if isinstance(value, Dual):
        return value.num
    if isinstance(value, str):
        return parse_number(value, None, settings)
    number = float(value)
    return None if math.isnan(number) else number


def is_true(value: Value, settings: FormatSettings) -> bool:
    """Qlik truth: a non-zero number is true; NULL and non-numeric text are false."""
    number = as_number(value, settings)
    return number is not None and number != 0


def boolean(flag: bool) -> float:
    return TRUE if flag else FALSE


def value_key(value: Value) -> object:
    """Identity of a field value: its number when it has one, else its text.

    Qlik stores one text per number in a field, so ``'007'`` and ``7`` are the same value
    for joins, Exists() and mapping lookups. NULL has no key (``None``).
    """
    if value is None:
        return None
    if isinstance(value, Dual):
        return value.num
    if isinstance(value, str):
        return value
    return float(value)
