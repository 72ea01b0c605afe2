"""QVD files through pyqvd (MIT), and the display text of typed numbers.

QVD is Qlik's own format: per field a table of distinct values ("symbols": integers,
doubles, texts and duals) and a bit-packed index per row. pyqvd reads and writes it with
its value classes, which map one to one onto Qlik values:

    StringValue                -> text        IntegerValue / DoubleValue -> number
    DualIntegerValue / Double  -> dual        DateValue, TimestampValue, TimeValue,
    None                       -> NULL        IntervalValue, MoneyValue  -> dual + kind

Decisions (documented for users):

* A field's kind (date, timestamp, time, interval, money) is stored as the QVD number
  format type when every value of the field has it, and read back the same way; each
  value keeps its own text (pyqvd's formatters are bypassed so texts are never rewritten).
* Like Qlik's symbol tables, one number has one symbol per field: when '007' and '7' (both
  7) occur in the same field, the first text seen is stored for both.
* Integers outside the 32-bit range are stored as doubles (QVD integers are 32-bit).
* pyqvd works row by row in Python: about a second per 200,000 rows of three fields.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qscript.errors import GeneralScriptError, WrongFormatError
from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings, format_datetime_array, format_interval, format_money

_INT32 = 2**31
_KIND_FORMAT = {"date": "date_format", "timestamp": "timestamp_format", "time": "time_format"}


# -- display text of typed numbers ----------------------------------------------------------
def kind_texts(num: np.ndarray, kind: str | None, settings: FormatSettings) -> np.ndarray | None:
    """How Qlik shows numbers of a kind (dates in DateFormat, money in MoneyFormat, ...).

    None for numbers without a kind, which show their default number text.
    """
    if kind in _KIND_FORMAT:
        return format_datetime_array(num, getattr(settings, _KIND_FORMAT[kind]), settings)
    if kind not in ("interval", "money"):
        return None
    codes, uniques = pd.factorize(num, use_na_sentinel=True)
    fmt = format_interval if kind == "interval" else format_money
    shown = np.array([fmt(float(x), None, settings) for x in uniques.tolist()] + [None], dtype=object)
    return shown[codes]


def display_texts(column: Column, settings: FormatSettings) -> np.ndarray:
    """The text each cell shows (None for NULL), with typed numbers formatted by kind.

    A date column read from Parquet has numbers only; written out it must show dates, not
    serial numbers.
    """
    texts = column.texts(settings)
    if column.num is None or column.kind is None:
        return texts
    bare = np.equal(column.raw_text(), None) & ~np.isnan(column.num)
    if not bare.any():
        return texts
    shown = kind_texts(column.num[bare], column.kind, settings)
    if shown is None:
        return texts
    out = texts.copy()
    out[bare] = shown
    return out


# -- reading ---------------------------------------------------------------------------------
def _pyqvd() -> Any:
    try:
        import pyqvd
    except ImportError as exc:  # a declared dependency, but say clearly what is missing
        raise GeneralScriptError("QVD files need the 'pyqvd' package (pip install pyqvd)") from exc
    return pyqvd


def read_qvd(path: Path) -> tuple[list[str], dict[str, Column]]:
    """Field names and columns of a QVD file; an unreadable file raises WrongFormatError."""
    pyqvd = _pyqvd()
    try:
        table = pyqvd.QvdTable.from_qvd(str(path))
    except Exception as exc:  # pyqvd raises whatever its parser hits on a broken file
        raise WrongFormatError(f"'{path}' is not a readable QVD file: {exc}") from exc
    names = list(table.columns)
    rows = table.get(slice(None))  # the row lists themselves, without pyqvd's deep copy
    cells = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return names, {name: _column_from_symbols(values, pyqvd) for name, values in zip(names, cells, strict=True)}


def _roles(pyqvd: Any) -> dict[type, str | None]:
    """What each pyqvd value class is: 'text', 'number', or a dual with its kind (None: plain)."""
    return {
        pyqvd.StringValue: "text",
        pyqvd.IntegerValue: "number",
        pyqvd.DoubleValue: "number",
        pyqvd.DualIntegerValue: None,
        pyqvd.DualDoubleValue: None,
        pyqvd.DateValue: "date",
        pyqvd.TimestampValue: "timestamp",
        pyqvd.TimeValue: "time",
        pyqvd.IntervalValue: "interval",
        pyqvd.MoneyValue: "money",
    }


def _column_from_symbols(values: tuple, pyqvd: Any) -> Column:
    """One field's cells (pyqvd values, shared per symbol) as a Column.

    Cells of one symbol are the same object, so the work is done once per distinct object,
    dispatching on the exact class (isinstance on pyqvd's abstract classes is slow).
    """
    n = len(values)
    if n == 0:
        return Column.from_texts(np.empty(0, dtype=object))
    codes, _ = pd.factorize(np.fromiter(map(id, values), dtype=np.uint64, count=n))
    symbols = [values[i] for i in np.unique(codes, return_index=True)[1].tolist()]
    roles = _roles(pyqvd)
    text = np.empty(len(symbols), dtype=object)
    num = np.full(len(symbols), np.nan)
    kinds: set[str | None] = set()
    for j, symbol in enumerate(symbols):
        if symbol is None:
            continue
        role = roles.get(type(symbol), "text" if isinstance(symbol, pyqvd.StringValue) else None)
        if role == "text":
            text[j] = symbol.display_value
            kinds.add(None)
            continue
        num[j] = symbol.calculation_value
        if role != "number":
            text[j] = symbol.display_value
        kinds.add(None if role == "number" else role)
    kind = kinds.pop() if len(kinds) == 1 else None
    has_text = bool(np.not_equal(text, None).any())
    has_num = not bool(np.isnan(num).all())
    return Column(text[codes] if has_text else None, num[codes] if has_num else None, n, kind)


# -- writing ---------------------------------------------------------------------------------
class _KeepText:
    """Stands in for pyqvd's value formatters: keeps each value's own text.

    pyqvd re-renders dates, times and money with its own formatters, which know only part
    of Qlik's format codes; the writer only calls `format` and `get_qvd_format_string`
    (and reads the separators for money).
    """

    def __init__(self, fmt: str, settings: FormatSettings) -> None:
        self._fmt = fmt
        self.decimal_separator = settings.money_decimal_sep
        self.thousand_separator = settings.money_thousand_sep

    def format(self, value: Any) -> str:
        return value.display_value

    def get_qvd_format_string(self) -> str:
        return self._fmt


def write_qvd(path: Path, names: list[str], columns: dict[str, Column], settings: FormatSettings) -> None:
    """Store a table as a QVD file named after the file's stem."""
    pyqvd = _pyqvd()
    from pyqvd.io.writer import QvdFileWriterOptions

    options = QvdFileWriterOptions(
        table_name=path.stem,
        time_formatter=_KeepText(settings.time_format, settings),
        date_formatter=_KeepText(settings.date_format, settings),
        timestamp_formatter=_KeepText(settings.timestamp_format, settings),
        interval_formatter=_KeepText("hh:mm:ss", settings),
        money_formatter=_KeepText(settings.money_format, settings),
    )
    length = len(columns[names[0]]) if names else 0
    cells = [_symbols(columns[name], settings, pyqvd) for name in names]
    rows = [list(row) for row in zip(*cells, strict=True)] if length else [[None] * len(names)]
    stream = io.BytesIO()
    pyqvd.QvdTable(rows, list(names)).to_stream(stream, options)
    data = stream.getvalue()
    path.write_bytes(data if length else _without_records(data))


def _without_records(data: bytes) -> bytes:
    """A QVD of one all-NULL row turned into one of no rows.

    pyqvd cannot write an empty table; with only NULLs there are no symbols, so dropping the
    row means zeroing the table's record count and index length and cutting the index.
    """
    end = data.index(b"\r\n\0") + 3
    head = data[:end]
    cut = head.rindex(b"</Fields>")
    tail = re.sub(rb"<NoOfRecords>\d+</NoOfRecords>", b"<NoOfRecords>0</NoOfRecords>", head[cut:])
    tail = re.sub(rb"<Length>\d+</Length>", b"<Length>0</Length>", tail, count=1)
    return head[:cut] + tail


def _symbols(column: Column, settings: FormatSettings, pyqvd: Any) -> np.ndarray:
    """One pyqvd value per cell (None for NULL), built once per distinct (text, number)."""
    text = column.raw_text()
    num = column.raw_num()
    if column.kind is not None and column.num is not None:
        text = display_texts(column, settings)
    tcodes, _ = pd.factorize(text, use_na_sentinel=True)
    ncodes, _ = pd.factorize(num, use_na_sentinel=True)
    pairs = (tcodes.astype(np.int64) + 1) * (int(ncodes.max(initial=-1)) + 2) + ncodes + 1
    codes, uniques = pd.factorize(pairs)
    first = np.unique(codes, return_index=True)[1]
    made = np.empty(len(uniques), dtype=object)
    for j, i in enumerate(first.tolist()):
        made[j] = _symbol(text[i], float(num[i]), column.kind, pyqvd)
    return made[codes]


def _symbol(text: str | None, x: float, kind: str | None, pyqvd: Any) -> Any:
    """The pyqvd value for one cell."""
    if x != x:  # no number: text or NULL
        return None if text is None else pyqvd.StringValue(text)
    whole = x.is_integer() and -_INT32 <= x < _INT32
    if text is None:
        return pyqvd.IntegerValue(int(x)) if whole else pyqvd.DoubleValue(x)
    if kind == "date" and whole:
        return pyqvd.DateValue(int(x), text)
    typed = {
        "timestamp": pyqvd.TimestampValue,
        "time": pyqvd.TimeValue,
        "interval": pyqvd.IntervalValue,
        "money": pyqvd.MoneyValue,
    }.get(kind or "")
    if typed is not None:
        return typed(x, text)
    return pyqvd.DualIntegerValue(int(x), text) if whole else pyqvd.DualDoubleValue(x, text)
