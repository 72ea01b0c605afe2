"""Calendar periods and time zones: DayStart/End, WeekStart/End, MonthStart/End,
QuarterStart/End, YearStart/End, MonthName, QuarterName, ConvertToLocalTime.

Starts are the first millisecond of the period, ends the last (the next start minus one
millisecond). As Qlik documents, DayStart/DayEnd show TimestampFormat and the others
DateFormat (so MonthEnd('1/15/2024') shows 1/31/2024 but is 45322.999999988). The optional
``period_no`` moves by whole periods (MonthStart(d, -1) is the previous month).
``first_month_of_year`` defaults to 1 (January), as the function pages say, whatever the
FirstMonthOfYear variable holds; ``first_week_day`` defaults to FirstWeekDay.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from qscript.expr.column import Column
from qscript.expr.formats import EPOCH, _days_from_civil
from qscript.expr.functions.dates import (
    MS_DAY,
    civil,
    dated,
    numbers_where,
    serials,
    split,
    week_start,
    whole,
)
from qscript.expr.operators import truth
from qscript.expr.registry import qlik_function

_LAST_MS = 1.0 / MS_DAY


# -- days and weeks ---------------------------------------------------------------------------
def _day_start(ctx, value: Column, period: np.ndarray | None, day_start: np.ndarray | None) -> np.ndarray:
    serial = serials(value, ctx.settings)
    n = len(serial)
    offset = np.zeros(n) if day_start is None else day_start
    days, _, valid = split(serial - offset)
    return numbers_where(days + whole(period, 0, n) + offset, valid)


@qlik_function("DayStart", "any number? number?", context=True)
def day_start(ctx, value: Column, period: np.ndarray | None = None, day_start: np.ndarray | None = None) -> Column:
    """``DayStart(t [, period_no [, day_start]])``; ``day_start`` is a fraction (0.25 = 6:00)."""
    s = ctx.settings
    return dated(_day_start(ctx, value, period, day_start), s.timestamp_format, "timestamp", s)


@qlik_function("DayEnd", "any number? number?", context=True)
def day_end(ctx, value: Column, period: np.ndarray | None = None, day_start: np.ndarray | None = None) -> Column:
    s = ctx.settings
    return dated(_day_start(ctx, value, period, day_start) + 1 - _LAST_MS, s.timestamp_format, "timestamp", s)


def _week_start(ctx, value: Column, period: np.ndarray | None, first_week_day: np.ndarray | None) -> np.ndarray:
    days, _, valid = split(serials(value, ctx.settings))
    n = len(days)
    fwd = whole(first_week_day, ctx.settings.first_week_day, n) % 7
    return numbers_where(week_start(days, fwd) + 7 * whole(period, 0, n), valid)


@qlik_function("WeekStart", "any number? number?", context=True)
def week_start_(
    ctx,
    value: Column,
    period: np.ndarray | None = None,
    first_week_day: np.ndarray | None = None,
) -> Column:
    """``WeekStart(d [, period_no [, first_week_day]])``."""
    s = ctx.settings
    return dated(_week_start(ctx, value, period, first_week_day), s.date_format, "date", s)


@qlik_function("WeekEnd", "any number? number?", context=True)
def week_end(ctx, value: Column, period: np.ndarray | None = None, first_week_day: np.ndarray | None = None) -> Column:
    s = ctx.settings
    return dated(_week_start(ctx, value, period, first_week_day) + 7 - _LAST_MS, s.date_format, "date", s)


# -- months, quarters, years ------------------------------------------------------------------
def _month_total(
    ctx, value: Column, size: int, period: np.ndarray | None, first_month: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(months since year 0 of the period's first month, valid) for periods of ``size`` months.

    Periods of 3 and 12 months are aligned to ``first_month`` (a fiscal year).
    """
    days, _, valid = split(serials(value, ctx.settings))
    n = len(days)
    y, m, _ = civil(days)
    first = whole(first_month, 1, n)
    valid &= (first >= 1) & (first <= 12)
    into = (m - first) % 12 % size
    total = y * 12 + (m - 1) - into + size * np.clip(whole(period, 0, n), -200_000, 200_000)
    valid &= (total >= 12) & (total < 120_000)
    return np.where(valid, total, 24_000), valid


def _first_day(total: np.ndarray) -> np.ndarray:
    return _days_from_civil(total // 12, total % 12 + 1, np.ones_like(total))


def _bound(
    ctx, value: Column, size: int, end: bool, period: np.ndarray | None, first_month: np.ndarray | None = None
) -> Column:
    total, valid = _month_total(ctx, value, size, period, first_month)
    serial = _first_day(total + size) - _LAST_MS if end else _first_day(total)
    return dated(numbers_where(serial, valid), ctx.settings.date_format, "date", ctx.settings)


@qlik_function("MonthStart", "any number?", context=True)
def month_start(ctx, value: Column, period: np.ndarray | None = None) -> Column:
    return _bound(ctx, value, 1, False, period)


@qlik_function("MonthEnd", "any number?", context=True)
def month_end(ctx, value: Column, period: np.ndarray | None = None) -> Column:
    return _bound(ctx, value, 1, True, period)


@qlik_function("QuarterStart", "any number? number?", context=True)
def quarter_start(
    ctx,
    value: Column,
    period: np.ndarray | None = None,
    first_month: np.ndarray | None = None,
) -> Column:
    return _bound(ctx, value, 3, False, period, first_month)


@qlik_function("QuarterEnd", "any number? number?", context=True)
def quarter_end(ctx, value: Column, period: np.ndarray | None = None, first_month: np.ndarray | None = None) -> Column:
    return _bound(ctx, value, 3, True, period, first_month)


@qlik_function("YearStart", "any number? number?", context=True)
def year_start(ctx, value: Column, period: np.ndarray | None = None, first_month: np.ndarray | None = None) -> Column:
    return _bound(ctx, value, 12, False, period, first_month)


@qlik_function("YearEnd", "any number? number?", context=True)
def year_end(ctx, value: Column, period: np.ndarray | None = None, first_month: np.ndarray | None = None) -> Column:
    return _bound(ctx, value, 12, True, period, first_month)


def _named(
    ctx,
    value: Column,
    size: int,
    period: np.ndarray | None,
    first_month: np.ndarray | None,
    label: Callable[[tuple[str, ...], int], str],
) -> Column:
    """Duals of a period name (``label(month names, total)``) and the period's first day."""
    total, valid = _month_total(ctx, value, size, period, first_month)
    codes, inverse = np.unique(total[valid], return_inverse=True)
    month_names = ctx.settings.month_names
    text = np.empty(len(total), dtype=object)
    text[valid] = np.array([label(month_names, int(t)) for t in codes.tolist()], dtype=object)[inverse]
    return Column.from_duals(text, numbers_where(_first_day(total), valid), "date")


@qlik_function("MonthName", "any number?", context=True)
def month_name(ctx, value: Column, period: np.ndarray | None = None) -> Column:
    """'Oct 2013' (MonthNames and the year), with the month's first day as the number."""
    return _named(ctx, value, 1, period, None, lambda names, t: f"{names[t % 12]} {t // 12}")


@qlik_function("QuarterName", "any number? number?", context=True)
def quarter_name(ctx, value: Column, period: np.ndarray | None = None, first_month: np.ndarray | None = None) -> Column:
    """'Oct-Dec 2013', with the quarter's first day as the number; the year is the one the
    quarter starts in ('Dec-Feb 2013' for a quarter from December 2013)."""
    return _named(
        ctx, value, 3, period, first_month, lambda names, t: f"{names[t % 12]}-{names[(t + 2) % 12]} {t // 12}"
    )


# -- time zones -------------------------------------------------------------------------------
# Qlik's place names (Windows time zone cities) and the IANA zones they stand for.
_PLACES = {
    "Abu Dhabi": "Asia/Dubai", "Adelaide": "Australia/Adelaide", "Alaska": "America/Anchorage",
    "Almaty": "Asia/Almaty", "Amsterdam": "Europe/Amsterdam", "Arizona": "America/Phoenix", "Astana": "Asia/Almaty",
    "Athens": "Europe/Athens", "Atlantic Time (Canada)": "America/Halifax", "Auckland": "Pacific/Auckland",
    "Azores": "Atlantic/Azores", "Baghdad": "Asia/Baghdad", "Baku": "Asia/Baku", "Bangkok": "Asia/Bangkok",
    "Beijing": "Asia/Shanghai", "Belgrade": "Europe/Belgrade", "Berlin": "Europe/Berlin", "Bern": "Europe/Zurich",
    "Bogota": "America/Bogota", "Brasilia": "America/Sao_Paulo", "Bratislava": "Europe/Bratislava",
    "Brisbane": "Australia/Brisbane", "Brussels": "Europe/Brussels", "Bucharest": "Europe/Bucharest",
    "Budapest": "Europe/Budapest", "Buenos Aires": "America/Argentina/Buenos_Aires", "Cairo": "Africa/Cairo",
    "Canberra": "Australia/Sydney", "Cape Verde Is.": "Atlantic/Cape_Verde", "Caracas": "America/Caracas",
    "Casablanca": "Africa/Casablanca", "Central America": "America/Guatemala",
    "Central Time (US & Canada)": "America/Chicago", "Chennai": "Asia/Kolkata", "Chihuahua": "America/Chihuahua",
    "Chongqing": "Asia/Shanghai", "Copenhagen": "Europe/Copenhagen", "Darwin": "Australia/Darwin",
    "Dhaka": "Asia/Dhaka", "Eastern Time (US & Canada)": "America/New_York", "Edinburgh": "Europe/London",
    "Ekaterinburg": "Asia/Yekaterinburg", "Fiji": "Pacific/Fiji", "Georgetown": "America/Guyana",
    "Greenland": "America/Nuuk", "Greenwich Mean Time : Dublin": "Europe/Dublin",
    "Guadalajara": "America/Mexico_City", "Guam": "Pacific/Guam", "Hanoi": "Asia/Ho_Chi_Minh",
    "Harare": "Africa/Harare", "Hawaii": "Pacific/Honolulu", "Helsinki": "Europe/Helsinki",
    "Hobart": "Australia/Hobart", "Hong Kong": "Asia/Hong_Kong", "Indiana (East)": "America/Indiana/Indianapolis",
    "International Date Line West": "Etc/GMT+12", "Irkutsk": "Asia/Irkutsk", "Islamabad": "Asia/Karachi",
    "Istanbul": "Europe/Istanbul", "Jakarta": "Asia/Jakarta", "Jerusalem": "Asia/Jerusalem", "Kabul": "Asia/Kabul",
    "Kamchatka": "Asia/Kamchatka", "Karachi": "Asia/Karachi", "Kathmandu": "Asia/Kathmandu",
    "Kolkata": "Asia/Kolkata", "Krasnoyarsk": "Asia/Krasnoyarsk", "Kuala Lumpur": "Asia/Kuala_Lumpur",
    "Kuwait": "Asia/Kuwait", "Kyiv": "Europe/Kiev", "La Paz": "America/La_Paz", "Lima": "America/Lima",
    "Lisbon": "Europe/Lisbon", "Ljubljana": "Europe/Ljubljana", "London": "Europe/London", "Madrid": "Europe/Madrid",
    "Magadan": "Asia/Magadan", "Mazatlan": "America/Mazatlan", "Melbourne": "Australia/Melbourne",
    "Mexico City": "America/Mexico_City", "Mid-Atlantic": "Atlantic/South_Georgia", "Minsk": "Europe/Minsk",
    "Monrovia": "Africa/Monrovia", "Monterrey": "America/Monterrey", "Moscow": "Europe/Moscow",
    "Mountain Time (US & Canada)": "America/Denver", "Mumbai": "Asia/Kolkata", "Muscat": "Asia/Muscat",
    "Nairobi": "Africa/Nairobi", "New Caledonia": "Pacific/Noumea", "New Delhi": "Asia/Kolkata",
    "Newfoundland": "America/St_Johns", "Novosibirsk": "Asia/Novosibirsk", "Nuku'alofa": "Pacific/Tongatapu",
    "Osaka": "Asia/Tokyo", "Pacific Time (US & Canada)": "America/Los_Angeles", "Paris": "Europe/Paris",
    "Perth": "Australia/Perth", "Port Moresby": "Pacific/Port_Moresby", "Prague": "Europe/Prague",
    "Pretoria": "Africa/Johannesburg", "Quito": "America/Guayaquil", "Riga": "Europe/Riga", "Riyadh": "Asia/Riyadh",
    "Rome": "Europe/Rome", "Samoa": "Pacific/Apia", "Santiago": "America/Santiago", "Sapporo": "Asia/Tokyo",
    "Sarajevo": "Europe/Sarajevo", "Saskatchewan": "America/Regina", "Seoul": "Asia/Seoul",
    "Singapore": "Asia/Singapore", "Skopje": "Europe/Skopje", "Sofia": "Europe/Sofia",
    "Solomon Is.": "Pacific/Guadalcanal", "Sri Jayawardenepura": "Asia/Colombo", "St. Petersburg": "Europe/Moscow",
    "Stockholm": "Europe/Stockholm", "Sydney": "Australia/Sydney", "Taipei": "Asia/Taipei",
    "Tallinn": "Europe/Tallinn", "Tashkent": "Asia/Tashkent", "Tbilisi": "Asia/Tbilisi", "Tehran": "Asia/Tehran",
    "Tijuana": "America/Tijuana", "Tokyo": "Asia/Tokyo", "Ulaanbaatar": "Asia/Ulaanbaatar", "Urumqi": "Asia/Urumqi",
    "Vienna": "Europe/Vienna", "Vilnius": "Europe/Vilnius", "Vladivostok": "Asia/Vladivostok",
    "Volgograd": "Europe/Volgograd", "Warsaw": "Europe/Warsaw", "Wellington": "Pacific/Auckland",
    "West Central Africa": "Africa/Lagos", "Yakutsk": "Asia/Yakutsk", "Yerevan": "Asia/Yerevan",
    "Zagreb": "Europe/Zagreb",
}
_PLACE_KEYS = {name.lower(): zone for name, zone in _PLACES.items()}
_OFFSET = re.compile(r"(?:GMT|UTC)(?:\s*([+-])(\d{1,2})(?::?(\d{2}))?)?", re.IGNORECASE)


@lru_cache(maxsize=256)
def place_zone(place: str) -> tzinfo | None:
    """The zone of a Qlik place: a listed city, 'GMT'/'UTC', or 'GMT+hh:mm' (-12 to +14)."""
    place = place.strip()
    m = _OFFSET.fullmatch(place)
    if m:
        if m.group(1) is None:
            return UTC
        minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
        minutes = -minutes if m.group(1) == "-" else minutes
        return timezone(timedelta(minutes=minutes)) if -720 <= minutes <= 840 else None
    zone = _PLACE_KEYS.get(place.lower())
    try:
        return ZoneInfo(zone) if zone else None
    except ZoneInfoNotFoundError:
        return None


_QUARTER_MS = 900_000  # zone offsets change on quarter hours (UTC)


def _offsets_at(ms: np.ndarray, zone: tzinfo) -> tuple[np.ndarray, np.ndarray]:
    """(offset, standard offset) in days of the zone at UTC instants given in ms since day 0."""
    full, standard = np.full(len(ms), np.nan), np.full(len(ms), np.nan)
    for i, instant in enumerate(ms.tolist()):
        try:
            local = (EPOCH + timedelta(milliseconds=instant)).replace(tzinfo=UTC).astimezone(zone)
        except (OverflowError, ValueError):
            continue
        offset, dst = local.utcoffset() or timedelta(0), local.dst() or timedelta(0)
        full[i], standard[i] = offset / timedelta(days=1), (offset - dst) / timedelta(days=1)
    return full, standard


def utc_offsets(serial: np.ndarray, zone: tzinfo, ignore_dst: np.ndarray) -> np.ndarray:
    """The zone's offset from UTC in days at each UTC serial (standard time if ignoring DST).

    Offsets are looked up at the start and end of each distinct day; only the rare days
    where they differ (a DST change) are looked up per quarter hour.
    """
    ms = np.rint(serial * MS_DAY).astype(np.int64)
    days, inverse = np.unique(ms // MS_DAY, return_inverse=True)
    start_full, start_std = _offsets_at(days * MS_DAY, zone)
    end_full, end_std = _offsets_at(days * MS_DAY + (MS_DAY - 1), zone)
    full, standard = start_full[inverse], start_std[inverse]
    changing = ((start_full != end_full) | (start_std != end_std))[inverse]
    if changing.any():
        quarters, back = np.unique(ms[changing] // _QUARTER_MS, return_inverse=True)
        q_full, q_std = _offsets_at(quarters * _QUARTER_MS, zone)
        full[changing], standard[changing] = q_full[back], q_std[back]
    return np.where(ignore_dst, standard, full)


@qlik_function("ConvertToLocalTime", "any text? any?", context=True)
def convert_to_local_time(
    ctx, value: Column, place: np.ndarray | None = None, ignore_dst: Column | None = None
) -> Column:
    """``ConvertToLocalTime(utc [, place [, ignore_dst]])``: UTC to a place's wall-clock time.

    No place means GMT. An unknown place gives NULL. ``ignore_dst`` true (or not a number,
    as the help says) uses standard time all year.
    """
    s = ctx.settings
    serial = serials(value, s)
    n = len(serial)
    places = np.full(n, "GMT", dtype=object) if place is None else place
    no_ignore = np.zeros(n, dtype=bool)
    ignore = no_ignore if ignore_dst is None else truth(ignore_dst, s) | np.isnan(ignore_dst.numbers(s))
    out = np.full(n, np.nan)
    valid = ~np.isnan(serial)
    for name in dict.fromkeys(places[valid].tolist()):
        zone = place_zone(name)
        rows = valid & np.equal(places, name)
        if zone is not None:
            out[rows] = serial[rows] + utc_offsets(serial[rows], zone, ignore[rows])
    return dated(out, s.timestamp_format, "timestamp", s)
