"""Date and time functions: Now, Today, MakeDate, MakeTime, Year ... Second, Week, WeekDay,
AddMonths, AddYears. Period starts and ends, names and time zones are in calendar.py.

The clock is the evaluation context's ``now`` (local time as a serial number), injected by
the interpreter, so one reload sees one consistent, testable time source.

Inputs are serial numbers (day 0 = 1899-12-30, time as the fraction). Text is read as a
number first, then as a date in the script's DateFormat, TimestampFormat or TimeFormat,
then as ISO 8601 ('2024-01-31', '2024-01-31 13:45:00', '2024-01-31T13:45:00.5', '13:45').
Anything else, and serials outside years 1-9999, give NULL. Dates that come out are duals
with the script's DateFormat (or TimestampFormat/TimeFormat) text and are tagged with their
kind, so they reach pandas as datetimes. Whole-number arguments (months, counts, week days)
drop any fraction (rounding down).
"""

from __future__ import annotations

import math

import numpy as np

from qscript.expr.column import Column
from qscript.expr.formats import (
    _DIM,
    EPOCH,
    FormatSettings,
    _civil_from_days,
    _days_from_civil,
    format_datetime,
    format_datetime_array,
    parse_datetime_array,
)
from qscript.expr.numformat import distinct
from qscript.expr.registry import qlik_function
from qscript.expr.values import Dual

MS_DAY = 86_400_000
FIRST_DAY = 1 - EPOCH.toordinal()  # 0001-01-01
LAST_DAY = 2_958_465  # 9999-12-31
_ISO_FORMATS = (
    "YYYY-MM-DD",
    "YYYY-MM-DD hh:mm:ss[.fff]",
    "YYYY-MM-DDThh:mm:ss[.fff]",
    "YYYY-MM-DD hh:mm",
    "YYYY-MM-DDThh:mm",
    "hh:mm:ss[.fff]",
    "hh:mm",
)


# -- shared helpers (calendar.py uses them too) -----------------------------------------------
def serials(column: Column, settings: FormatSettings) -> np.ndarray:
    """The serial number of every cell (see the module doc); NaN where there is none."""
    numbers = column.numbers(settings)
    todo = np.isnan(numbers) & ~np.equal(column.raw_text(), None)
    if todo.any():
        numbers = numbers.copy()
        codes, texts = distinct(column.raw_text()[todo])  # each distinct text is read once
        values = np.full(len(texts) + 1, np.nan)
        formats = (settings.date_format, settings.timestamp_format, settings.time_format, *_ISO_FORMATS)
        for fmt in dict.fromkeys(formats):
            left = np.flatnonzero(np.isnan(values[:-1]))
            if not len(left):
                break
            values[left] = parse_datetime_array(np.asarray(texts, dtype=object)[left], fmt, settings)
        numbers[todo] = values[codes]
    with np.errstate(invalid="ignore"):
        inside = (numbers >= FIRST_DAY) & (numbers < LAST_DAY + 1)
    return np.where(inside, numbers, np.nan)


def split(serial: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(day number, millisecond of the day, valid) of serials, rounded to the millisecond."""
    valid = ~np.isnan(serial)
    ms = np.rint(np.where(valid, serial, 0.0) * MS_DAY).astype(np.int64)
    days, tod = np.divmod(ms, MS_DAY)
    return days, tod, valid


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of day numbers."""
    return _civil_from_days(days)


def day_number(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Day number of (year, month, day); the month may be any integer (13 = next January)."""
    total = year * 12 + (month - 1)
    return _days_from_civil(total // 12, total % 12 + 1, day)


def days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return _DIM[month] + ((month == 2) & leap)


def whole(values: np.ndarray | None, default: float, length: int) -> np.ndarray:
    """An optional whole-number argument: the fraction dropped, or the default everywhere."""
    if values is None:
        return np.full(length, int(default), dtype=np.int64)
    return np.floor(np.clip(values, -1e12, 1e12)).astype(np.int64)


def numbers_where(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return np.where(valid, values, np.nan).astype(np.float64)


def dated(serial: np.ndarray, fmt: str, kind: str, settings: FormatSettings) -> Column:
    """Duals of serials formatted with ``fmt``, NULL where the serial is NaN or out of range."""
    with np.errstate(invalid="ignore"):
        inside = (serial >= FIRST_DAY) & (serial < LAST_DAY + 1)
    serial = np.where(inside, serial, np.nan)
    return Column.from_duals(format_datetime_array(serial, fmt, settings), serial, kind)


def names(values: np.ndarray, valid: np.ndarray, labels: tuple[str, ...], index: np.ndarray) -> Column:
    """Duals of a name (``labels[index]``) and a number, NULL where not valid."""
    text = np.empty(len(values), dtype=object)
    text[valid] = np.asarray(labels, dtype=object)[index[valid]]
    return Column.from_duals(text, numbers_where(values, valid))


# -- clock ------------------------------------------------------------------------------------
@qlik_function("Now", "number?", context=True)
def now(ctx, _mode=None) -> Column:
    """The time of the call, formatted with TimestampFormat (modes 0/1/2 all give it)."""
    serial = ctx.now()
    text = format_datetime(serial, ctx.settings.timestamp_format, ctx.settings)
    return Column.constant(Dual(text, serial), ctx.length)


@qlik_function("Today", "number?", context=True)
def today(ctx, _mode=None) -> Column:
    serial = float(math.floor(ctx.now()))
    text = format_datetime(serial, ctx.settings.date_format, ctx.settings)
    return Column.constant(Dual(text, serial), ctx.length)


# -- construction -----------------------------------------------------------------------------
@qlik_function("MakeDate", "number number? number?", context=True)
def make_date(ctx, year: np.ndarray, month: np.ndarray | None = None, day: np.ndarray | None = None) -> Column:
    """``MakeDate(Y [, M [, D]])``, missing parts 1; NULL for a month or day that does not exist."""
    n = len(year)
    y, m, d = whole(year, 1, n), whole(month, 1, n), whole(day, 1, n)
    valid = (y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1)
    valid &= d <= days_in_month(y, np.clip(m, 1, 12))
    serial = numbers_where(day_number(np.where(valid, y, 2000), np.where(valid, m, 1), np.where(valid, d, 1)), valid)
    return dated(serial, ctx.settings.date_format, "date", ctx.settings)


@qlik_function("MakeTime", "number number? number?", context=True)
def make_time(ctx, hour: np.ndarray, minute: np.ndarray | None = None, second: np.ndarray | None = None) -> Column:
    """``MakeTime(h [, m [, s]])``: hours 0-23 and minutes 0-59 (whole), seconds 0 to < 60.

    Parts out of range give NULL rather than spilling into another day.
    """
    n = len(hour)
    h, m = whole(hour, 0, n), whole(minute, 0, n)
    s = np.zeros(n) if second is None else second
    valid = (h >= 0) & (h <= 23) & (m >= 0) & (m <= 59) & (s >= 0) & (s < 60)
    serial = numbers_where((h * 3600 + m * 60 + s) / 86400.0, valid)
    return dated(serial, ctx.settings.time_format, "time", ctx.settings)


# -- parts ------------------------------------------------------------------------------------
def _date_parts(ctx, value: Column) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    days, tod, valid = split(serials(value, ctx.settings))
    y, m, d = civil(days)
    return y, m, d, tod, valid


@qlik_function("Year", "any", context=True)
def year(ctx, value: Column) -> np.ndarray:
    y, _, _, _, valid = _date_parts(ctx, value)
    return numbers_where(y, valid)


@qlik_function("Month", "any", context=True)
def month(ctx, value: Column) -> Column:
    """A dual: the MonthNames name and the number 1-12."""
    _, m, _, _, valid = _date_parts(ctx, value)
    return names(m, valid, ctx.settings.month_names, m - 1)


@qlik_function("Day", "any", context=True)
def day(ctx, value: Column) -> np.ndarray:
    _, _, d, _, valid = _date_parts(ctx, value)
    return numbers_where(d, valid)


@qlik_function("Hour", "any", context=True)
def hour(ctx, value: Column) -> np.ndarray:
    _, tod, valid = split(serials(value, ctx.settings))
    return numbers_where(tod // 3_600_000, valid)


@qlik_function("Minute", "any", context=True)
def minute(ctx, value: Column) -> np.ndarray:
    _, tod, valid = split(serials(value, ctx.settings))
    return numbers_where(tod // 60_000 % 60, valid)


@qlik_function("Second", "any", context=True)
def second(ctx, value: Column) -> np.ndarray:
    """Whole seconds (the milliseconds are dropped)."""
    _, tod, valid = split(serials(value, ctx.settings))
    return numbers_where(tod // 1000 % 60, valid)


def weekday_of(days: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday (day 0, 1899-12-30, was a Saturday)."""
    return (days + 5) % 7


def week_start(days: np.ndarray, first_week_day: np.ndarray) -> np.ndarray:
    """Day number of the first day of the week holding each day."""
    return days - (weekday_of(days) - first_week_day) % 7


@qlik_function("WeekDay", "any number?", context=True)
def weekday(ctx, value: Column, first_week_day: np.ndarray | None = None) -> Column:
    """A dual: the DayNames name and 0-6 counted from the first week day.

    The number follows ``first_week_day``, else the FirstWeekDay variable (help page
    "weekday"): with the US default 6 (Sunday) a Monday is 1; with 0 a Monday is 0.
    """
    days, _, valid = split(serials(value, ctx.settings))
    fwd = whole(first_week_day, ctx.settings.first_week_day, len(days)) % 7
    wd = weekday_of(days)
    return names((wd - fwd) % 7, valid, ctx.settings.day_names, wd)


def week_numbers(days: np.ndarray, first_week_day: np.ndarray, broken: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Qlik's week number.

    Broken weeks: week 1 starts on January 1 and a new week on each first week day.
    Unbroken weeks: week 1 is the week holding January ``reference`` (1-7, else 4), so late
    December may be week 1 and early January week 52/53 (ISO 8601 with Monday and 4).
    """
    y, _, _ = civil(days)
    start = week_start(days, first_week_day)
    reference = np.where((reference >= 1) & (reference <= 7), reference, 4)

    def week_one(year: np.ndarray) -> np.ndarray:
        return week_start(_days_from_civil(year, np.ones_like(year), reference), first_week_day)

    jan1 = _days_from_civil(y, np.ones_like(y), np.ones_like(y))
    broken_number = (start - week_start(jan1, first_week_day)) // 7 + 1
    this, after = week_one(y), week_one(y + 1)
    first = np.where(days < this, week_one(y - 1), np.where(days >= after, after, this))
    return np.where(broken, broken_number, (start - first) // 7 + 1)


@qlik_function("Week", "any number? number? number?", context=True)
def week(
    ctx,
    value: Column,
    first_week_day: np.ndarray | None = None,
    broken_weeks: np.ndarray | None = None,
    reference_day: np.ndarray | None = None,
) -> np.ndarray:
    """``Week(d [, first_week_day [, broken_weeks [, reference_day]]])``; defaults from the
    FirstWeekDay, BrokenWeeks and ReferenceDay variables."""
    s = ctx.settings
    days, _, valid = split(serials(value, s))
    n = len(days)
    fwd = whole(first_week_day, s.first_week_day, n) % 7
    broken = whole(broken_weeks, s.broken_weeks, n) != 0
    reference = whole(reference_day, s.reference_day, n)
    return numbers_where(week_numbers(np.where(valid, days, 0), fwd, broken, reference), valid)


# -- arithmetic -------------------------------------------------------------------------------
def add_months(serial: np.ndarray, months: np.ndarray, from_end: np.ndarray) -> np.ndarray:
    """Serials moved by whole months, the time of day kept.

    A day past the end of the target month becomes its last day (Jan 31 + 1 month =
    Feb 28/29). With ``from_end`` a day from the 28th on keeps its distance from the end of
    the month (Jan 29 + 1 month = Feb 26), as AddMonths mode 1.
    """
    days, tod, valid = split(serial)
    y, m, d = civil(days)
    total = y * 12 + (m - 1) + np.clip(months, -200_000, 200_000)
    ny, nm = total // 12, total % 12 + 1
    valid &= (ny >= 1) & (ny <= 9999)
    target = days_in_month(ny, nm)
    nd = np.where(from_end & (d >= 28), target - (days_in_month(y, m) - d), np.minimum(d, target))
    out = _days_from_civil(np.where(valid, ny, 2000), nm, np.maximum(nd, 1)) + tod / MS_DAY
    return numbers_where(out, valid)


@qlik_function("AddMonths", "any number number?", context=True)
def add_months_(ctx, start: Column, months: np.ndarray, mode: np.ndarray | None = None) -> Column:
    """``AddMonths(date, n [, mode])``: mode 1 counts days from the end of the month."""
    n = len(months)
    serial = add_months(serials(start, ctx.settings), whole(months, 0, n), whole(mode, 0, n) == 1)
    return dated(serial, ctx.settings.date_format, "date", ctx.settings)


@qlik_function("AddYears", "any number", context=True)
def add_years(ctx, start: Column, years: np.ndarray) -> Column:
    """``AddYears(date, n)``: Feb 29 becomes Feb 28 in a year that is not a leap year."""
    n = len(years)
    serial = add_months(serials(start, ctx.settings), whole(years, 0, n) * 12, np.zeros(n, dtype=bool))
    return dated(serial, ctx.settings.date_format, "date", ctx.settings)
