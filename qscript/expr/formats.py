"""Qlik format codes: numbers, dates, times, timestamps and intervals, to text and back.

Pure functions over plain values (standard library, numpy and pandas only), each with a
vectorised twin for whole columns. Compiled formats are cached per (format, settings).

Serial numbers: day 0 is 1899-12-30 and the time of day is the fraction (0.5 = noon).
Formatting first rounds a serial to the nearest millisecond, then shows each field
truncated (so 10/24 prints 10:00:00, never 09:59:59).

Date/time codes: YYYY, YY, M, MM, MMM, MMMM, D, DD, WWW, WWWW, h, hh, m, mm, s, ss,
f..fffffffff (up to 9) and TT; anything else is literal text ('-', 'T', a lone 'Y').
Y, D, W, h and T also count in lower/upper case (yyyy, dd, HH, tt); 'M' is always the month
and 'm' the minute; s and f are lower case only. '[...]' marks an optional part:
formatting leaves it out when all its fields would show only zeros ('[.fff]' at a whole
second) and prints its content otherwise; parsing may skip it.

Parsing decisions (documented for users):

* Single-letter fields take 1 or 2 digits; double-letter fields take 1 or 2 digits when a
  literal follows and exactly 2 when another numeric field follows ('YYYYMMDD').
* Month names (short or long, either code) and AM/PM match case-insensitively; day names
  are accepted and ignored; a blank in the format matches any run of blanks.
* YY: 00-29 are 2000-2029, 30-99 are 1930-1999 (the Windows default window).
* Missing parts: a format without date fields gives a time on day 0; otherwise a missing
  year is 1899, a missing month or day is 1.
* With TT the hour must be 0-12; without, 0-23. Invalid dates (2023-02-30) give None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import chain, compress
from operator import itemgetter

import numpy as np

from qscript.expr.numformat import default_number_text as default_number_text
from qscript.expr.numformat import distinct, literal_regex, str_mask, tokenize_format
from qscript.expr.numformat import format_interval as format_interval
from qscript.expr.numformat import format_money as format_money
from qscript.expr.numformat import format_number as format_number
from qscript.expr.numformat import format_number_array as format_number_array
from qscript.expr.numformat import parse_interval as parse_interval
from qscript.expr.numformat import parse_money as parse_money
from qscript.expr.numformat import parse_number as parse_number
from qscript.expr.numformat import parse_number_array as parse_number_array

EPOCH = datetime(1899, 12, 30)
_EPOCH_ORD = EPOCH.toordinal()
_MS_DAY = 86_400_000
_MIN_DAY, _MAX_DAY = 1 - _EPOCH_ORD, date(9999, 12, 31).toordinal() - _EPOCH_ORD
_DIM_LIST = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DIM = np.array(_DIM_LIST)


def _names(text: str) -> tuple[str, ...]:
    """A ';'-separated list, as Qlik's MonthNames, DayNames, ... variables hold it."""
    return tuple(n.strip() for n in text.split(";"))


_VARIABLES = _names(
    "DecimalSep;ThousandSep;MoneyDecimalSep;MoneyThousandSep;MoneyFormat;TimeFormat;DateFormat;"
    "TimestampFormat;MonthNames;LongMonthNames;DayNames;LongDayNames"
)


@dataclass(frozen=True)
class FormatSettings:
    """The format variables of a script (Qlik's US defaults); hashable for caching."""

    decimal_sep: str = "."
    thousand_sep: str = ","
    money_decimal_sep: str = "."
    money_thousand_sep: str = ","
    money_format: str = "$#,##0.00;-$#,##0.00"
    time_format: str = "h:mm:ss TT"
    date_format: str = "M/D/YYYY"
    timestamp_format: str = "M/D/YYYY h:mm:ss[.fff] TT"
    month_names: tuple[str, ...] = _names("Jan;Feb;Mar;Apr;May;Jun;Jul;Aug;Sep;Oct;Nov;Dec")
    long_month_names: tuple[str, ...] = _names(
        "January;February;March;April;May;June;July;August;September;October;November;December"
    )
    day_names: tuple[str, ...] = _names("Mon;Tue;Wed;Thu;Fri;Sat;Sun")  # Monday first, as in Qlik
    long_day_names: tuple[str, ...] = _names("Monday;Tuesday;Wednesday;Thursday;Friday;Saturday;Sunday")
    # Calendar variables (numbers as text in the script): US defaults, as Qlik's US template.
    first_week_day: int = 6  # FirstWeekDay: 0 = Monday ... 6 = Sunday
    broken_weeks: int = 1  # BrokenWeeks: non-zero = week 1 starts on January 1
    reference_day: int = 0  # ReferenceDay: day of January in week 1; outside 1-7 means 4
    first_month_of_year: int = 1  # FirstMonthOfYear: 1-12

    @classmethod
    def from_variables(cls, get: Callable[[str], str | None]) -> FormatSettings:
        """Read the script's format variables; a missing or empty one keeps the default.

        Name lists are ';'-separated; a list with the wrong count (not 12 or 7) is ignored.
        Calendar variables are whole numbers; an unreadable or out-of-range one is ignored.
        """
        base, values = cls(), {}
        for var in _VARIABLES:
            field, value = re.sub(r"(?<!^)([A-Z])", r"_\1", var).lower(), get(var)
            if not value:
                continue
            if var.endswith("Names"):
                names = _names(value)
                if len(names) == len(getattr(base, field)):
                    values[field] = names
            else:
                values[field] = value
        for var, field, low, high in cls._CALENDAR_VARIABLES:
            number = cls._integer(get(var))
            if number is not None and low <= number <= high:
                values[field] = number
        return cls(**values)

    # (variable, field, lowest, highest accepted value)
    _CALENDAR_VARIABLES = (  # not annotated, so no dataclass field
        ("FirstWeekDay", "first_week_day", 0, 6),
        ("BrokenWeeks", "broken_weeks", -(2**31), 2**31),
        ("ReferenceDay", "reference_day", -(2**31), 2**31),
        ("FirstMonthOfYear", "first_month_of_year", 1, 12),
    )

    @staticmethod
    def _integer(text: str | None) -> int | None:
        """A whole number written as text ('6', ' -1 ', '4.0'); None when it is none."""
        try:
            number = float(text) if text else math.nan
        except ValueError:
            return None
        return int(number) if number.is_integer() else None


# -- serial numbers -------------------------------------------------------------------------
def serial_from_datetime(dt: datetime) -> float:
    """Serial number of a datetime (its wall-clock time; any time zone is ignored)."""
    return (dt.replace(tzinfo=None) - EPOCH) / timedelta(days=1)


def datetime_from_serial(serial: float) -> datetime:
    """Datetime of a serial number, rounded to the nearest millisecond."""
    return EPOCH + timedelta(milliseconds=round(float(serial) * _MS_DAY))


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Serial day of proleptic Gregorian dates, vectorised (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468 + 25569


def _civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of serial days, vectorised inverse of `_days_from_civil`."""
    z = days - 25569 + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (m <= 2), m, d


# -- date formats ---------------------------------------------------------------------------
_NUMERIC = frozenset({"YYYY", "YY", "M", "MM", "D", "DD", "h", "hh", "m", "mm", "s", "ss", "f"})
_KIND = {c: "Y4" if c == "YYYY" else "Y2" if c == "YY" else c[0] for c in _NUMERIC}
_FIELD_CODES = _NUMERIC | {"MMM", "MMMM", "WWW", "WWWW", "TT"}
_FIXED_OK = frozenset({"YYYY", "YY", "MM", "DD", "hh", "mm", "ss", "f", "lit"})
_WIDTH = {"Y4": 4, "Y2": 2}


def _date_code(c: str, run: int) -> str | None:
    """The code a run of one letter stands for, None when it is literal text."""
    if c in "Yy":
        return "YYYY" if run >= 3 else "YY" if run == 2 else None
    if c == "M":
        return ("M", "MM", "MMM", "MMMM")[min(run, 4) - 1]
    if c in "Ww":
        return None if run < 3 else "WWW" if run == 3 else "WWWW"
    if c in "Tt":
        return "TT" if run == 2 else None
    if c == "f":
        return "f"
    short = {"D": "D", "d": "D", "h": "h", "H": "h", "m": "m", "s": "s"}[c]
    return short if run == 1 else short * 2


def _alternatives(names: dict[str, int]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


@dataclass(frozen=True)
class _DateFormat:
    tokens: tuple[tuple, ...]
    twelve: bool
    has_date: bool
    pattern: re.Pattern[str]
    lines: re.Pattern[str]  # `pattern` for many texts at once, one per line
    kinds: tuple[str, ...]
    months: dict[str, int]
    fixed: tuple | None  # (width, ((kind, start, ndigits), ...), ((pos, codepoint), ...))


def _fixed_plan(tokens: list[tuple]) -> tuple | None:
    """A fixed-width layout ('YYYY-MM-DD hh:mm:ss') that numpy can read column by column."""
    if any(t[0] not in _FIXED_OK for t in tokens):
        return None
    pos, fields, lits = 0, [], []
    for i, (code, arg) in enumerate(tokens):
        if code == "lit":
            if any(ch.isdigit() for ch in arg):
                return None
            lits.extend((pos + k, ord(ch)) for k, ch in enumerate(arg))
            pos += len(arg)
            continue
        if code == "f" and i + 1 < len(tokens) and tokens[i + 1][0] != "lit":
            return None
        kind = _KIND[code]
        n = arg if code == "f" else _WIDTH.get(kind, 2)
        fields.append((kind, pos, n))
        pos += n
    return (pos, tuple(fields), tuple(lits))


@lru_cache(maxsize=256)
def _date_format(fmt: str, settings: FormatSettings) -> _DateFormat:
    """Compile a date/time format: tokens for output, a regex for input, a fixed plan."""
    tokens = tokenize_format(fmt, "YyMDdWwhHmsfTt", _date_code)
    months = {n.lower(): i % 12 + 1 for i, n in enumerate(settings.month_names + settings.long_month_names)}
    days = {n.lower(): 0 for n in settings.day_names + settings.long_day_names}
    parts, kinds = [], []
    for i, (code, arg) in enumerate(tokens):
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        if code == "lit":
            parts.append((arg,))
        elif code == "[":
            parts.append("(?:")
        elif code == "]":
            parts.append(")?")
        elif code in ("MMM", "MMMM"):
            parts.append(f"({_alternatives(months)})")
            kinds.append("N")
        elif code in ("WWW", "WWWW"):
            parts.append(f"(?:{_alternatives(days)})")
        elif code == "TT":
            parts.append("([AP]M)")
            kinds.append("T")
        else:
            kind = _KIND[code]
            if kind in _WIDTH:
                rx = f"[0-9]{{{_WIDTH[kind]}}}"
            elif kind == "f":
                rx = "[0-9]{1,9}"
            else:
                rx = "[0-9]{2}" if len(code) == 2 and nxt in _NUMERIC else "[0-9]{1,2}"
            parts.append(f"({rx})")
            kinds.append(kind)

    def body(ws: str) -> str:
        return "".join(literal_regex(p[0], ws) if isinstance(p, tuple) else p for p in parts)

    pattern = re.compile(r"\s*" + body(r"\s") + r"\s*", re.IGNORECASE)
    blank = r"[^\S\n]"  # one text per line in `_parse_regex`: blanks must not cross lines
    lines = re.compile(rf"^(?:(\x01){blank}*{body(blank)}{blank}*|\x01[^\n]*)$", re.I | re.M)
    codes = {t[0] for t in tokens}
    has_date = bool(codes & {"YYYY", "YY", "M", "MM", "MMM", "MMMM", "D", "DD"})
    fixed = _fixed_plan(tokens)
    return _DateFormat(tuple(tokens), "TT" in codes, has_date, pattern, lines, tuple(kinds), months, fixed)


_T1 = np.array([str(i) for i in range(100)])
_T2 = np.array([f"{i:02d}" for i in range(100)])
_T3 = np.array([f"{i:03d}" for i in range(1000)])
_POW10 = np.array([float(10**k) for k in range(10)])


def _fraction_digits(ms: int, n: int) -> str:
    digits = f"{ms:03d}"
    return digits[:n] if n <= 3 else digits + "0" * (n - 3)


def format_datetime(serial: float, fmt: str, settings: FormatSettings) -> str:
    """Date()/Time()/Timestamp(): a serial number as text in a date/time format.

    Non-finite values and serials outside years 1-9999 get the default number text.
    """
    x = math.nan if serial is None else float(serial)
    if not math.isfinite(x):
        return default_number_text(x, settings.decimal_sep)
    days, tod = divmod(round(x * _MS_DAY), _MS_DAY)
    if not _MIN_DAY <= days <= _MAX_DAY:
        return default_number_text(x, settings.decimal_sep)
    df, s = _date_format(fmt, settings), settings
    dt = date.fromordinal(days + _EPOCH_ORD)
    y, mo, d, hour = dt.year, dt.month, dt.day, tod // 3_600_000
    mi, sec, h = tod // 60_000 % 60, tod // 1000 % 60, (hour % 12 or 12) if df.twelve else hour
    nums = {"M": mo, "D": d, "h": h, "m": mi, "s": sec}
    out: list[str] = []
    start, fields, shown = -1, False, False  # optional part: start, has fields, shows one
    for code, arg in df.tokens:
        if code == "[":
            start, fields, shown = len(out), False, False
        elif code == "]":
            if start >= 0 and fields and not shown:
                del out[start:]
            start = -1
        elif code == "lit":
            out.append(arg)
        elif code == "YYYY":
            out.append(f"{y:04d}")
        elif code == "YY":
            out.append(f"{y % 100:02d}")
        elif code == "f":
            out.append(_fraction_digits(tod % 1000, arg))
        elif code in _NUMERIC:
            out.append(str(nums[code[0]]) if len(code) == 1 else f"{nums[code[0]]:02d}")
        elif code == "TT":
            out.append("AM" if hour < 12 else "PM")
        elif code[0] == "M":
            out.append((s.month_names if code == "MMM" else s.long_month_names)[mo - 1])
        elif code[0] == "W":
            out.append((s.day_names if code == "WWW" else s.long_day_names)[dt.weekday()])
        if start >= 0 and code in _FIELD_CODES:
            fields, shown = True, shown or out[-1].strip("0") != ""
    return "".join(out)


def _vec_piece(code: str, arg, c: dict, twelve: bool, s: FormatSettings):
    """Vectorised text of one token: a 'U' array, or a plain string for literals."""
    if code == "lit":
        return arg
    if code in ("[", "]"):
        return ""
    if code in ("h", "hh"):
        h = np.where(c["H"] % 12 == 0, 12, c["H"] % 12) if twelve else c["H"]
        return (_T1 if code == "h" else _T2)[h]
    if code == "f":
        digits = _T3[c["ms"]]
        return digits.astype(f"U{arg}") if arg <= 3 else np.char.add(digits, "0" * (arg - 3))
    if code in ("MMM", "MMMM", "WWW", "WWWW"):
        names = {"MMM": s.month_names, "MMMM": s.long_month_names, "WWW": s.day_names, "WWWW": s.long_day_names}[code]
        return np.asarray(names)[c["wd"] if code[0] == "W" else c["M"] - 1]
    if code == "TT":
        return np.where(c["H"] < 12, "AM", "PM")
    if code == "YYYY":
        lo, hi = int(c["Y"].min()), int(c["Y"].max())
        return np.array([f"{v:04d}" for v in range(lo, hi + 1)])[c["Y"] - lo]
    if code == "YY":
        return _T2[c["Y"] % 100]
    return (_T2 if len(code) == 2 else _T1)[c[code[0]]]


def format_datetime_array(serials: np.ndarray, fmt: str, settings: FormatSettings) -> np.ndarray:
    """Vectorised `format_datetime`: object array of texts, NaN -> None.

    Works on distinct values; each token becomes one numpy string operation.
    """
    codes, x = distinct(np.asarray(serials, dtype=np.float64))
    out = np.empty(len(x) + 1, dtype=object)
    ms = np.rint(x * _MS_DAY)
    dayf = np.floor(ms / _MS_DAY)
    ok = np.isfinite(x) & (dayf >= _MIN_DAY) & (dayf <= _MAX_DAY)
    idx = np.flatnonzero(ok)
    if len(idx):
        days, tod = np.divmod(ms[idx].astype(np.int64), _MS_DAY)
        y, mo, d = _civil_from_days(days)
        comps = {
            "Y": y,
            "M": mo,
            "D": d,
            "wd": (days + 5) % 7,
            "H": tod // 3_600_000,
            "m": tod // 60_000 % 60,
            "s": tod // 1000 % 60,
            "ms": tod % 1000,
        }
        df = _date_format(fmt, settings)
        text = np.full(len(idx), "", dtype="U1")
        before, shown = None, None  # text before the optional part; which rows show it
        for code, arg in df.tokens:
            piece = _vec_piece(code, arg, comps, df.twelve, settings)
            if code == "[":
                before, shown = text, None
            elif code == "]" and before is not None:
                text = text if shown is None else np.where(shown, text, before)
                before = None
            elif before is not None and code in _FIELD_CODES:
                nonzero = np.char.str_len(np.char.strip(piece, "0")) > 0
                shown = nonzero if shown is None else shown | nonzero
            text = np.char.add(text, piece)
        out[idx] = text.astype(object)
    for i in np.flatnonzero(~ok & ~np.isnan(x)).tolist():
        out[i] = format_datetime(float(x[i]), fmt, settings)
    return out[codes]


def _scalar_parse(text: object, df: _DateFormat) -> float | None:
    """Match and validate one text; see the module docstring for the rules."""
    if not isinstance(text, str):
        if not isinstance(text, (int, float)) or isinstance(text, bool):
            return None
        text = default_number_text(text)
    m = df.pattern.fullmatch(text)
    if m is None:
        return None
    y, mo, d, pm, hour, mi, sec, frac = 1899, 1, 1, None, 0, 0, 0, 0.0
    for kind, val in zip(df.kinds, m.groups(), strict=True):
        if val is None:
            continue
        if kind == "Y4":
            y = int(val)
        elif kind == "Y2":
            y = int(val) + (2000 if int(val) < 30 else 1900)
        elif kind == "M":
            mo = int(val)
        elif kind == "N":
            mo = df.months.get(val.lower(), 0)
        elif kind == "D":
            d = int(val)
        elif kind == "h":
            hour = int(val)
        elif kind == "m":
            mi = int(val)
        elif kind == "s":
            sec = int(val)
        elif kind == "f":
            frac = int(val) / 10 ** len(val)
        else:
            pm = val.upper() == "PM"
    if pm is not None:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if pm else 0)
    if hour > 23 or mi > 59 or sec > 59:
        return None
    day = 0
    if df.has_date:
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        if not (1 <= y <= 9999 and 1 <= mo <= 12 and 1 <= d <= _DIM_LIST[mo] + (mo == 2 and leap)):
            return None
        day = date(y, mo, d).toordinal() - _EPOCH_ORD
    return day + ((hour * 3600 + mi * 60 + sec) + frac) / 86400.0


def parse_datetime(text: str | None, fmt: str, settings: FormatSettings) -> float | None:
    """Date#()/Time#()/Timestamp#(): the serial number a text stands for, None if unreadable."""
    return _scalar_parse(text, _date_format(fmt, settings))


def _compose(df: _DateFormat, vals: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised validation and serial arithmetic of `_scalar_parse`: (serials, valid)."""
    zero = np.zeros(n, dtype=np.int64)
    hour, mi, sec = vals.get("h", zero), vals.get("m", zero), vals.get("s", zero)
    good = np.ones(n, dtype=bool)
    if "pm" in vals:
        has = vals["pm"] >= 0
        good &= ~has | (hour <= 12)
        hour = np.where(has, hour % 12 + 12 * (vals["pm"] == 1), hour)
    good &= (hour <= 23) & (mi <= 59) & (sec <= 59)
    days = zero
    if df.has_date:
        y, mo, d = vals.get("Y", zero + 1899), vals.get("M", zero + 1), vals.get("D", zero + 1)
        good &= (y >= 1) & (y <= 9999) & (mo >= 1) & (mo <= 12) & (d >= 1)
        mo = np.clip(mo, 1, 12)
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        good &= d <= _DIM[mo] + ((mo == 2) & leap)
        days = _days_from_civil(y, mo, d)
    frac = vals.get("f", 0.0)
    return days + ((hour * 3600 + mi * 60 + sec) + frac) / 86400.0, good


def _put(vals: dict, key: str, value: np.ndarray, present: np.ndarray | None = None) -> None:
    """Set a field where a group matched (later groups win, as in the scalar loop)."""
    if present is None or key not in vals:
        vals[key] = value if present is None else np.where(present, value, _DEFAULTS[key])
    else:
        vals[key] = np.where(present, value, vals[key])


_PM = frozenset({"PM", "Pm", "pM", "pm"})
_DEFAULTS = {"Y": 1899, "M": 1, "D": 1, "h": 0, "m": 0, "s": 0, "f": 0.0, "pm": -1}


def _parse_fixed(strs: list[str], df: _DateFormat) -> tuple[np.ndarray, np.ndarray]:
    """Read same-width texts of a fixed layout column by column: (serials, valid)."""
    width, fields, lits = df.fixed
    mat = np.array(strs, dtype=f"U{width}").view(np.uint32).reshape(len(strs), width)
    good = np.ones(len(strs), dtype=bool)
    for pos, cp in lits:
        good &= mat[:, pos] == cp
    vals: dict[str, np.ndarray] = {}
    for kind, start, n in fields:
        block = mat[:, start : start + n].astype(np.int64) - 48
        good &= ((block >= 0) & (block <= 9)).all(axis=1)
        v = block @ (10 ** np.arange(n - 1, -1, -1, dtype=np.int64))
        _put(vals, *_field_value(kind, v, n))
    serials, valid = _compose(df, vals, len(strs))
    return serials, good & valid


def _field_value(kind: str, v: np.ndarray, n) -> tuple[str, np.ndarray]:
    if kind == "Y4":
        return "Y", v
    if kind == "Y2":
        return "Y", v + np.where(v < 30, 2000, 1900)
    if kind == "f":
        return "f", v / _POW10[n]
    return kind, v


def _cell_numbers(rows: list[tuple], width: int) -> tuple[np.ndarray, np.ndarray]:
    """(value, byte length) of every cell of the matched rows, as (rows, width) arrays.

    All cells are joined into one byte string and summed digit by digit with numpy, which is
    several times faster than converting them one by one. Only digit cells are meaningful.
    """
    data = np.frombuffer("\x00".join(chain.from_iterable(rows)).encode(), dtype=np.uint8)
    cells = len(rows) * width
    sep = data == 0
    cell = np.cumsum(sep)
    ends = np.append(np.flatnonzero(sep), len(data))
    power = ends[cell] - np.arange(len(data)) - 1
    keep = ~sep & (power < 10)
    digits = (data[keep].astype(np.float64) - 48) * _POW10[power[keep]]
    value = np.bincount(cell[keep], weights=digits, minlength=cells)
    length = np.bincount(cell[~sep], minlength=cells)
    return value.astype(np.int64).reshape(-1, width), length.reshape(-1, width)


def _parse_regex(strs: list[str], df: _DateFormat) -> tuple[np.ndarray, np.ndarray]:
    """Regex-match all texts in one findall over their lines, then validate them at once."""
    n, width = len(strs), len(df.kinds) + 1
    joined = "\n".join(strs)
    if width > 1 and "\x01" not in joined and "\x00" not in joined and joined.count("\n") == n - 1:
        rows = df.lines.findall("\x01" + joined.replace("\n", "\n\x01"))
    else:  # texts with line breaks: match one by one
        rows = [("\x01", *m.groups("")) if m else ("",) * width for m in map(df.pattern.fullmatch, strs)]
    hit = np.fromiter(map(bool, map(itemgetter(0), rows)), dtype=bool, count=n)
    rows = list(compress(rows, hit))
    serials, good = np.full(n, np.nan), np.zeros(n, dtype=bool)
    if not rows:
        return serials, good
    value, length = _cell_numbers(rows, width)
    vals: dict[str, np.ndarray] = {}
    for j, kind in enumerate(df.kinds, start=1):
        if kind in ("N", "T"):
            col = list(map(itemgetter(j), rows))
            if kind == "N":
                v = np.array([df.months.get(c.lower(), 0) for c in col])
            else:
                v = np.array([c in _PM for c in col], dtype=np.int64)
            _put(vals, "M" if kind == "N" else "pm", v, length[:, j] > 0)
        else:
            _put(vals, *_field_value(kind, value[:, j], length[:, j]), length[:, j] > 0)
    serials[hit], good[hit] = _compose(df, vals, len(rows))
    return serials, good


def parse_datetime_array(texts: np.ndarray, fmt: str, settings: FormatSettings) -> np.ndarray:
    """Vectorised `parse_datetime`: float64 serials, NaN where unreadable or None.

    Works on distinct texts: fixed-width layouts ('YYYY-MM-DD') are read by numpy column
    slicing; the rest by the scalar path's regex with vectorised validation.
    """
    arr = np.asarray(texts, dtype=object)
    df = _date_format(fmt, settings)
    codes, uniques = distinct(arr)
    uniques = np.asarray(uniques, dtype=object)
    values = np.full(len(uniques) + 1, np.nan)
    is_str = str_mask(uniques)
    todo = is_str.copy()
    if df.fixed is not None and todo.any():
        sel = np.flatnonzero(is_str)
        lens = np.fromiter(map(len, uniques[sel].tolist()), dtype=np.int64, count=len(sel))
        sel = sel[lens == df.fixed[0]]
        if len(sel):
            serials, good = _parse_fixed(uniques[sel].tolist(), df)
            values[sel[good]] = serials[good]
            todo[sel[good]] = False
    todo_idx = np.flatnonzero(todo)
    for lo in range(0, len(todo_idx), 100_000):
        sel = todo_idx[lo : lo + 100_000]
        serials, good = _parse_regex(uniques[sel].tolist(), df)
        values[sel[good]] = serials[good]
    for i in np.flatnonzero(~is_str).tolist():
        v = _scalar_parse(uniques[i], df)
        values[i] = np.nan if v is None else v
    return values[codes]
