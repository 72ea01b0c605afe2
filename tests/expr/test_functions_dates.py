"""Date and time functions: exact values, NULL rules, settings, and row path = column path.

Settings are Qlik's US defaults (M/D/YYYY, FirstWeekDay 6, BrokenWeeks 1) unless a test
says otherwise. Serial 45322 is Wednesday 2024-01-31.
"""

from __future__ import annotations

import pytest
from exprkit import NULL, assert_column_matches_rows, assert_constant_column, same, scalar
from exprkit import context as _ctx

from qscript.expr.evaluate import evaluate
from qscript.expr.formats import FormatSettings
from qscript.expr.values import Dual
from qscript.script.parse import parse_expression

LAST_MS = 1 / 86_400_000
ISO = FormatSettings(date_format="YYYY-MM-DD", timestamp_format="YYYY-MM-DD hh:mm:ss", first_week_day=0,
                     broken_weeks=0, reference_day=4)








CASES = [
    # MakeDate / MakeTime
    ("MakeDate(2024)", Dual("1/1/2024", 45292.0)),
    ("MakeDate(2024, 2)", Dual("2/1/2024", 45323.0)),
    ("MakeDate(2024, 2, 29)", Dual("2/29/2024", 45351.0)),
    ("MakeDate(2023, 2, 29)", NULL),
    ("MakeDate(2024, 13, 1)", NULL),
    ("MakeDate(2024, 0, 1)", NULL),
    ("MakeDate(1899, 12, 30)", Dual("12/30/1899", 0.0)),
    ("MakeDate(Null(), 1, 1)", NULL),
    ("MakeDate(2024, Null())", NULL),
    ("MakeDate('x')", NULL),
    ("MakeTime(22, 17, 13)", Dual("10:17:13 PM", (22 * 3600 + 17 * 60 + 13) / 86400)),
    ("MakeTime(6)", Dual("6:00:00 AM", 0.25)),
    ("MakeTime(0, 30, 1.5)", Dual("12:30:01 AM", 1801.5 / 86400)),
    ("MakeTime(24)", NULL),
    ("MakeTime(1, 60)", NULL),
    ("MakeTime(1, 2, 60)", NULL),
    ("MakeTime(Null())", NULL),
    # parts; text is read with DateFormat, TimestampFormat, TimeFormat or ISO 8601
    ("Year(45322.75)", 2024.0),
    ("Year('2012-10-12')", 2012.0),
    ("Year('1/31/2024')", 2024.0),
    ("Year('1/31/2024 1:45:00 PM')", 2024.0),
    ("Year('abc')", NULL),
    ("Year(Null())", NULL),
    ("Year(1e9)", NULL),
    ("Month(45322)", Dual("Jan", 1.0)),
    ("Month('2024-12-01')", Dual("Dec", 12.0)),
    ("Month('x')", NULL),
    ("Day(45322.99)", 31.0),
    ("Day('2024-02-29T10:00:00')", 29.0),
    ("Day(Null())", NULL),
    ("Hour(45322.573275)", 13.0),
    ("Hour('2024-01-31 13:45:30')", 13.0),
    ("Hour('1:45:30 PM')", 13.0),
    ("Hour('13:45')", 13.0),
    ("Minute(45322.573275)", 45.0),
    ("Second(45322.573275)", 30.0),
    ("Second(0.9999999999)", 0.0),
    ("Hour(Null())", NULL),
    ("Minute('x')", NULL),
    ("Second(Null())", NULL),
    # Week: US default (Sunday, broken weeks); ISO via arguments (help example 12/28/2012 = 52)
    ("Week(45322)", 5.0),
    ("Week('12/28/2012')", 52.0),
    ("Week('1/1/2022')", 1.0),
    ("Week('12/31/2022')", 53.0),
    ("Week('1/1/2021', 0, 0, 4)", 53.0),
    ("Week('1/4/2021', 0, 0, 4)", 1.0),
    ("Week('12/31/2024', 0, 0, 4)", 1.0),
    ("Week('12/28/2026', 0, 0, 4)", 53.0),
    ("Week('1/1/2021', 0, 0)", 53.0),
    ("Week('1/1/2021', 0, 0, 1)", 1.0),
    ("Week('1/3/2021', 6, 0, 1)", 2.0),
    ("Week(Null())", NULL),
    ("Week('x')", NULL),
    # WeekDay: the number counts from the first week day (FirstWeekDay, US: Sunday)
    ("WeekDay(45322)", Dual("Wed", 3.0)),
    ("WeekDay(45322, 0)", Dual("Wed", 2.0)),
    ("WeekDay('1/28/2024')", Dual("Sun", 0.0)),
    ("WeekDay('1/28/2024', 0)", Dual("Sun", 6.0)),
    ("WeekDay('10/12/1971', 6)", Dual("Tue", 2.0)),
    ("WeekDay(Null())", NULL),
    # DayStart / DayEnd: TimestampFormat
    ("DayStart(45322.75)", Dual("1/31/2024 12:00:00 AM", 45322.0)),
    ("DayStart(45322.75, 1)", Dual("2/1/2024 12:00:00 AM", 45323.0)),
    ("DayStart(45322.1, 0, 0.25)", Dual("1/30/2024 6:00:00 AM", 45321.25)),
    ("DayEnd(45322.25)", Dual("1/31/2024 11:59:59.999 PM", 45323 - LAST_MS)),
    ("DayEnd(45322.25, -1)", Dual("1/30/2024 11:59:59.999 PM", 45322 - LAST_MS)),
    ("DayStart(Null())", NULL),
    # WeekStart / WeekEnd: DateFormat
    ("WeekStart(45322)", Dual("1/28/2024", 45319.0)),
    ("WeekStart(45322, 1)", Dual("2/4/2024", 45326.0)),
    ("WeekStart(45322, 0, 0)", Dual("1/29/2024", 45320.0)),
    ("WeekEnd(45322)", Dual("2/3/2024", 45326 - LAST_MS)),
    ("WeekEnd(45322, -1, 0)", Dual("1/28/2024", 45320 - LAST_MS)),
    ("WeekStart('x')", NULL),
    # Month / quarter / year bounds (help examples)
    ("MonthStart(45322.6)", Dual("1/1/2024", 45292.0)),
    ("MonthStart(45322, -1)", Dual("12/1/2023", 45261.0)),
    ("MonthStart(45322, 13)", Dual("2/1/2025", 45689.0)),
    ("MonthEnd('1/15/2024')", Dual("1/31/2024", 45323 - LAST_MS)),
    ("MonthEnd('2/15/2024')", Dual("2/29/2024", 45352 - LAST_MS)),
    ("MonthEnd('2/15/2024', 1)", Dual("3/31/2024", 45383 - LAST_MS)),
    ("QuarterStart('10/29/2005')", Dual("10/1/2005", 38626.0)),
    ("QuarterStart('10/29/2005', -1)", Dual("7/1/2005", 38534.0)),
    ("QuarterStart('10/29/2005', 0, 3)", Dual("9/1/2005", 38596.0)),
    ("QuarterEnd('10/29/2005')", Dual("12/31/2005", 38718 - LAST_MS)),
    ("QuarterEnd('10/29/2005', 0, 3)", Dual("11/30/2005", 38687 - LAST_MS)),
    ("YearStart('10/19/2001')", Dual("1/1/2001", 36892.0)),
    ("YearStart('10/19/2001', -1)", Dual("1/1/2000", 36526.0)),
    ("YearStart('10/19/2001', 0, 4)", Dual("4/1/2001", 36982.0)),
    ("YearStart('2/19/2001', 0, 4)", Dual("4/1/2000", 36617.0)),
    ("YearEnd('10/19/2001')", Dual("12/31/2001", 37257 - LAST_MS)),
    ("YearEnd('10/19/2001', 0, 4)", Dual("3/31/2002", 37347 - LAST_MS)),
    ("YearStart('10/19/2001', 0, 13)", NULL),
    ("MonthEnd(Null())", NULL),
    ("QuarterStart('x')", NULL),
    ("YearEnd(45322, Null())", NULL),
    # MonthName / QuarterName: duals of a name and the period's first day
    ("MonthName('10/19/2013')", Dual("Oct 2013", 41548.0)),
    ("MonthName('10/19/2013', -10)", Dual("Dec 2012", 41244.0)),
    ("QuarterName('10/29/2013')", Dual("Oct-Dec 2013", 41548.0)),
    ("QuarterName('10/29/2013', -1)", Dual("Jul-Sep 2013", 41456.0)),
    ("QuarterName('10/29/2013', 0, 3)", Dual("Sep-Nov 2013", 41518.0)),
    ("QuarterName('1/29/2014', 0, 3)", Dual("Dec-Feb 2013", 41609.0)),
    ("MonthName(Null())", NULL),
    ("QuarterName('x')", NULL),
    # AddMonths / AddYears (help examples): end-of-month clamping; mode 1 counts from the end
    ("AddMonths('1/31/2024', 1)", Dual("2/29/2024", 45351.0)),
    ("AddMonths('1/29/2003', 3)", Dual("4/29/2003", 37740.0)),
    ("AddMonths('1/29/2003', 3, 1)", Dual("4/28/2003", 37739.0)),
    ("AddMonths('1/29/2003', 1)", Dual("2/28/2003", 37680.0)),
    ("AddMonths('1/29/2003', 1, 1)", Dual("2/26/2003", 37678.0)),
    ("AddMonths('2/28/2003', 1, 1)", Dual("3/31/2003", 37711.0)),
    ("AddMonths('1/15/2003', 1, 1)", Dual("2/15/2003", 37667.0)),
    ("AddMonths('1/31/2003', -1)", Dual("12/31/2002", 37621.0)),
    ("AddMonths(45322.5, 12)", Dual("1/31/2025", 45688.5)),
    ("AddMonths(Null(), 1)", NULL),
    ("AddMonths(45322, Null())", NULL),
    ("AddMonths('x', 1)", NULL),
    ("AddYears('2/29/2024', 1)", Dual("2/28/2025", 45716.0)),
    ("AddYears('2/29/2024', -4)", Dual("2/29/2020", 43890.0)),
    ("AddYears('10/19/2001', 2.9)", Dual("10/19/2003", 37913.0)),
    ("AddYears(Null(), 1)", NULL),
    # ConvertToLocalTime: input is UTC; places are Qlik's city names or GMT/UTC offsets
    ("ConvertToLocalTime('2024-07-01 12:00:00', 'Stockholm')", Dual("7/1/2024 2:00:00 PM", 45474.5 + 2 / 24)),
    ("ConvertToLocalTime('2024-07-01 12:00:00', 'stockholm', 1)", Dual("7/1/2024 1:00:00 PM", 45474.5 + 1 / 24)),
    ("ConvertToLocalTime('2024-01-01 12:00:00', 'Stockholm')", Dual("1/1/2024 1:00:00 PM", 45292.5 + 1 / 24)),
    ("ConvertToLocalTime('2024-01-01 12:00:00', 'GMT-05:00')", Dual("1/1/2024 7:00:00 AM", 45292.5 - 5 / 24)),
    ("ConvertToLocalTime('2024-01-01 12:00:00', 'UTC+05:30')", Dual("1/1/2024 5:30:00 PM", 45292.5 + 5.5 / 24)),
    ("ConvertToLocalTime('2024-01-01 12:00:00', 'UTC')", Dual("1/1/2024 12:00:00 PM", 45292.5)),
    ("ConvertToLocalTime('2024-01-01 12:00:00')", Dual("1/1/2024 12:00:00 PM", 45292.5)),
    ("ConvertToLocalTime('2024-07-01 12:00:00', 'Eastern Time (US & Canada)')",
     Dual("7/1/2024 8:00:00 AM", 45474.5 - 4 / 24)),
    ("ConvertToLocalTime('2024-03-31 00:59:59', 'Paris')", Dual("3/31/2024 1:59:59 AM", 45382 + 7199 / 86400)),
    ("ConvertToLocalTime('2024-03-31 01:00:00', 'Paris')", Dual("3/31/2024 3:00:00 AM", 45382.125)),
    ("ConvertToLocalTime('2024-01-01 12:00:00', 'Nowhere')", NULL),
    ("ConvertToLocalTime('2024-01-01 12:00:00', 'GMT+15:00')", NULL),
    ("ConvertToLocalTime(Null(), 'Paris')", NULL),
    ("ConvertToLocalTime(45292.5, Null())", NULL),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_scalar_path(source, expected):
    assert same(scalar(source), expected)


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_constant_column_repeats_scalar(source, expected):
    assert_constant_column(source, expected)


D = [45322.75, None, "2024-02-29", Dual("12/31/2023", 45291.0), "abc", "1/1/2021 6:30:00 AM", 0.0, -1.5]
N = [1.0, 2.0, -1.0, None, "3", 0.0, 12.0, 1.9]
F = [0.0, 6.0, 3.0, 1.0, None, 5.0, 2.0, "0"]
M = [1.0, 4.0, 12.0, 3.0, 7.0, None, 2.0, 13.0]

ROW_CASES = [
    ("MakeDate(y, m, n)", {"y": [2024, 2023, None, "2020", 1e5, 2024, 2024, 2000], "m": M, "n": N}),
    ("MakeTime(n, f, f)", {"n": N, "f": F}),
    ("Year(d)", {"d": D}),
    ("Month(d)", {"d": D}),
    ("Day(d)", {"d": D}),
    ("Hour(d)", {"d": D}),
    ("Minute(d)", {"d": D}),
    ("Second(d)", {"d": D}),
    ("Week(d)", {"d": D}),
    ("Week(d, f, n, f)", {"d": D, "f": F, "n": N}),
    ("WeekDay(d)", {"d": D}),
    ("WeekDay(d, f)", {"d": D, "f": F}),
    ("DayStart(d, n)", {"d": D, "n": N}),
    ("DayEnd(d, n, 0.5)", {"d": D, "n": N}),
    ("WeekStart(d, n, f)", {"d": D, "n": N, "f": F}),
    ("WeekEnd(d, n)", {"d": D, "n": N}),
    ("MonthStart(d, n)", {"d": D, "n": N}),
    ("MonthEnd(d, n)", {"d": D, "n": N}),
    ("QuarterStart(d, n, m)", {"d": D, "n": N, "m": M}),
    ("QuarterEnd(d)", {"d": D}),
    ("YearStart(d, n, m)", {"d": D, "n": N, "m": M}),
    ("YearEnd(d, 0, m)", {"d": D, "m": M}),
    ("MonthName(d, n)", {"d": D, "n": N}),
    ("QuarterName(d, n, m)", {"d": D, "n": N, "m": M}),
    ("AddMonths(d, n, f)", {"d": D, "n": N, "f": [1, 0, 1, 1, 0, None, 1, 1]}),
    ("AddYears(d, n)", {"d": D, "n": N}),
    ("ConvertToLocalTime(d, p)",
     {"d": D, "p": ["Paris", "UTC", "Tokyo", "GMT+02:00", "Paris", None, "Nowhere", "Sydney"]}),
    ("ConvertToLocalTime(d, 'Sydney', f)", {"d": D, "f": F}),
]


@pytest.mark.parametrize(("source", "fields"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_column_path_matches_row_path(source, fields):
    assert_column_matches_rows(source, fields)


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("MakeDate(2024)", "date"),
        ("MakeTime(1)", "time"),
        ("DayStart(45322)", "timestamp"),
        ("MonthEnd(45322)", "date"),
        ("MonthName(45322)", "date"),
        ("AddMonths(45322, 1)", "date"),
        ("ConvertToLocalTime(45322, 'Paris')", "timestamp"),
    ],
)
def test_results_are_tagged_with_their_kind(source, kind):
    assert evaluate(parse_expression(source), _ctx(2)).kind == kind


def test_calendar_variables_are_read_from_the_script():
    values = {"FirstWeekDay": "0", "BrokenWeeks": "0", "ReferenceDay": "4", "FirstMonthOfYear": "4"}
    settings = FormatSettings.from_variables(values.get)
    assert (settings.first_week_day, settings.broken_weeks, settings.reference_day) == (0, 0, 4)
    assert settings.first_month_of_year == 4
    assert scalar("Week('1/1/2021')", settings) == 53.0
    assert scalar("WeekDay('1/31/2024')", settings) == Dual("Wed", 2.0)
    assert scalar("WeekStart('1/31/2024')", settings) == Dual("1/29/2024", 45320.0)
    # the functions' own first_month_of_year defaults to January, as the help says
    assert scalar("YearStart('10/19/2001')", settings) == Dual("1/1/2001", 36892.0)


def test_unreadable_calendar_variables_keep_the_defaults():
    values = {"FirstWeekDay": "7", "BrokenWeeks": "yes", "ReferenceDay": "", "FirstMonthOfYear": "0"}
    settings = FormatSettings.from_variables(values.get)
    assert settings == FormatSettings()


def test_results_follow_the_script_formats():
    assert scalar("MakeDate(2024, 1, 31)", ISO) == Dual("2024-01-31", 45322.0)
    assert scalar("Month('2024-03-05')", ISO) == Dual("Mar", 3.0)
    assert scalar("DayStart('2024-03-05 10:00:00')", ISO) == Dual("2024-03-05 00:00:00", 45356.0)
    assert scalar("Week('2021-01-01')", ISO) == 53.0
    german = FormatSettings(month_names=("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt",
                                         "Nov", "Dez"), day_names=("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"))
    assert scalar("Month(45322 + 60)", german) == Dual("Mär", 3.0)
    assert scalar("WeekDay(45322)", german) == Dual("Mi", 3.0)
    assert scalar("MonthName(45322 + 270)", german) == Dual("Okt 2024", 45566.0)


def test_month_and_week_day_are_duals_that_compute_with_their_number():
    assert scalar("Month(45322) + 1") == 2.0
    assert scalar("Month(45322) & ''") == "Jan"
    assert scalar("WeekDay(45322) * 1") == 3.0
