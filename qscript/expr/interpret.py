"""Qlik's automatic interpretation of loaded text (INLINE tables and text files).

Qlik reads every cell of a text source as text and then tries, in order (help "Number
interpretation"):

1. a number written with the script's DecimalSep/ThousandSep ('1,234.5', '007', '-3');
2. a date in DateFormat, 3. a timestamp in TimestampFormat, 4. a time in TimeFormat.

A cell that reads becomes a dual: it keeps its original text ('007' shows 007 and computes
as 7) and gains the number (dates as serial days from 1899-12-30). Anything else stays text.
``None`` stays NULL and ``''`` stays the empty text, never NULL (Qlik only turns text into
NULL through NullInterpret, which the caller handles).

Decisions (documented for users):

* Numbers win over dates: with DateFormat 'YYYYMMDD', '20240105' is the number 20240105.
* A column is tagged as dates/timestamps/times (``Column.kind``) only when every non-NULL,
  non-empty cell was read as that kind, so output shows it as dates; a mixed column has no
  kind, but each cell still keeps its own text and number.
* Qlik's "first text seen for a number is used for the whole field" is a property of the
  data model's symbol tables, not of reading: each cell keeps its own text here.

Everything is vectorised: the number reader runs once over the column and the date readers
only over the cells it left, so a 1,000,000-row file interprets in well under a second per
column.
"""

from __future__ import annotations

import numpy as np

from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings, parse_datetime, parse_datetime_array, parse_number_array
from qscript.expr.numformat import distinct, parse_number, str_mask
from qscript.expr.values import Dual, Value

#: The date/time readers in the order Qlik tries them, with the kind each one tags.
_DATE_KINDS = (("date_format", "date"), ("timestamp_format", "timestamp"), ("time_format", "time"))


def interpret_texts(texts: np.ndarray, settings: FormatSettings) -> Column:
    """Interpret a column of loaded text cells (``str`` or ``None``) as Qlik does.

    Returns a Column whose text array is ``texts`` itself (not copied; anything that is not
    ``str`` is taken as NULL) and whose numbers are set where a cell read as a number, date,
    timestamp or time. Work is done once per distinct text when values repeat.
    """
    arr = np.asarray(texts, dtype=object)
    n = len(arr)
    if n == 0:
        return Column.from_texts(arr)
    is_str = str_mask(arr)
    if not is_str.all():  # NaN or other placeholders from a reader count as NULL
        arr = np.where(is_str, arr, None)
    codes, uniques = distinct(arr)
    num, kind = _interpret_distinct(np.asarray(uniques, dtype=object), settings)
    if num is None:
        return Column(arr, None, n)
    return Column(arr, np.append(num, np.nan)[codes], n, kind)


def _interpret_distinct(arr: np.ndarray, settings: FormatSettings) -> tuple[np.ndarray | None, str | None]:
    """Numbers (None if no cell reads) and common kind of the given cells."""
    n = len(arr)
    is_str = str_mask(arr)
    first = arr.astype("U1")  # each cell's first character ('N' for None, masked out below)
    code = first.view(np.uint32)
    digit_or_blank = ((code >= 48) & (code <= 57)) | np.char.isspace(first)
    num = np.full(n, np.nan)
    idx = np.flatnonzero(is_str & (digit_or_blank | _sign_or_separator(code, settings)))
    if len(idx):
        num[idx] = parse_number_array(arr[idx], None, settings)
    rest = is_str & np.isnan(num)
    rest[rest] = arr[rest] != ""
    candidates = int(np.count_nonzero(is_str & ~np.isnan(num))) + int(np.count_nonzero(rest))
    kind: str | None = None
    for attr, tag in _DATE_KINDS:
        if not rest.any():
            break
        fmt = getattr(settings, attr)
        idx = np.flatnonzero(rest)
        if _starts_with_digit(fmt):
            idx = idx[digit_or_blank[idx]]
        serials = parse_datetime_array(arr[idx], fmt, settings)
        ok = ~np.isnan(serials)
        hits = int(np.count_nonzero(ok))
        if hits:
            num[idx[ok]] = serials[ok]
            rest[idx[ok]] = False
            if hits == candidates:
                kind = tag
    if np.isnan(num).all():
        return None, None
    return num, kind


def _starts_with_digit(fmt: str) -> bool:
    """Whether every text in date/time format ``fmt`` starts with a digit (after blanks).

    True when the format opens with a numeric code (YY/YYYY, M/MM, D/DD, h, m, s), not with
    a literal, an optional part, a month or day name or AM/PM.
    """
    body = fmt.lstrip()
    if not body:
        return False
    first = body[0]
    run = len(body) - len(body.lstrip(first))
    if first in "Yy":
        return run >= 2
    if first == "M":
        return run <= 2
    return first in "DdhHms"


def _sign_or_separator(code: np.ndarray, settings: FormatSettings) -> np.ndarray:
    """Cells opening with '+', '-' or the decimal separator, which may start a number.

    With a digit or a blank these are the only first characters the number reader accepts,
    so all other cells (names, codes, most text) skip it: a cheap filter that matters on
    1,000,000-row columns of unique text, which the reader would take one by one.
    """
    mask = (code == 43) | (code == 45)
    if len(settings.decimal_sep) == 1:
        mask |= code == ord(settings.decimal_sep)
    else:  # an unusual multi-character separator: let the reader decide
        mask |= True
    return mask


def interpret_value(text: str | None, settings: FormatSettings) -> Value:
    """One cell interpreted like `interpret_texts`: NULL, the text, or a dual.

    The kind of a date/time cell is not returned (scalars carry none); use
    `interpret_kind` when it matters.
    """
    value, _ = interpret_kind(text, settings)
    return value


def interpret_kind(text: str | None, settings: FormatSettings) -> tuple[Value, str | None]:
    """`interpret_value` plus the kind the cell was read as ('date', 'timestamp', 'time')."""
    if not isinstance(text, str):
        return None, None
    if text == "":
        return text, None
    number = parse_number(text, None, settings)
    if number is not None:
        return Dual(text, number), None
    for attr, tag in _DATE_KINDS:
        serial = parse_datetime(text, getattr(settings, attr), settings)
        if serial is not None:
            return Dual(text, serial), tag
    return text, None


def strip_blanks(texts: np.ndarray) -> np.ndarray:
    """Remove leading and trailing blanks (ASCII 32 only), as Qlik does unless Verbatim=1.

    Only cells that start or end with a blank are touched, so the common case costs one
    scan of the column.
    """
    arr = np.asarray(texts, dtype=object)
    if len(arr) == 0:
        return arr
    items = arr.tolist()
    padded = [i for i, s in enumerate(items) if type(s) is str and s and (s[0] == " " or s[-1] == " ")]
    if not padded:
        return arr
    out = arr.copy()
    for i in padded:
        out[i] = items[i].strip(" ")
    return out
