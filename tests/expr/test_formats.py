"""Qlik format codes: numbers, dates, times, timestamps and intervals, both directions."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

from qscript.expr.formats import (
    FormatSettings,
    datetime_from_serial,
    default_number_text,
    format_datetime,
    format_datetime_array,
    format_interval,
    format_money,
    format_number,
    format_number_array,
    parse_datetime,
    parse_datetime_array,
    parse_interval,
    parse_money,
    parse_number,
    parse_number_array,
    serial_from_datetime,
)

US = FormatSettings()
DE = FormatSettings(
    decimal_sep=",",
    thousand_sep=".",
    date_format="DD.MM.YYYY",
    month_names=("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"),
    long_month_names=(
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    day_names=("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    long_day_names=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
)
JAN31 = 45322.0  # 2024-01-31, a Wednesday
# 2024-01-31 13:05:09.123 (built from milliseconds so the serial is the nearest double)
STAMP = JAN31 + (13 * 3600_000 + 5 * 60_000 + 9_000 + 123) / 86_400_000


# -- settings and serial numbers ---------------------------------------------------------------
def test_settings_defaults_are_qlik_us() -> None:
    assert US.date_format == "M/D/YYYY"
    assert US.timestamp_format == "M/D/YYYY h:mm:ss[.fff] TT"
    assert US.day_names[0] == "Mon" and US.long_month_names[11] == "December"
    assert hash(US) == hash(FormatSettings())


def test_settings_from_variables() -> None:
    variables = {
        "DecimalSep": ",",
        "ThousandSep": ".",
        "DateFormat": "DD.MM.YYYY",
        "MonthNames": "Jan;Feb;Mär;Apr;Mai;Jun;Jul;Aug;Sep;Okt;Nov;Dez",
        "DayNames": "Mo;Di",
        "TimeFormat": "",
    }
    s = FormatSettings.from_variables(variables.get)
    assert s.decimal_sep == "," and s.thousand_sep == "." and s.date_format == "DD.MM.YYYY"
    assert s.month_names[2] == "Mär"
    assert s.day_names == US.day_names  # wrong count: kept
    assert s.time_format == US.time_format  # empty: kept
    assert s.money_format == US.money_format  # missing: kept


def test_serial_conversions() -> None:
    assert serial_from_datetime(datetime(2024, 1, 31)) == JAN31
    assert serial_from_datetime(datetime(1899, 12, 30, 12)) == 0.5
    assert datetime_from_serial(JAN31 + 0.5) == datetime(2024, 1, 31, 12)
    assert datetime_from_serial(STAMP) == datetime(2024, 1, 31, 13, 5, 9, 123000)
    assert datetime_from_serial(-1.25) == datetime(1899, 12, 28, 18)


# -- formatting dates --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("YYYY", "2024"),
        ("YY", "24"),
        ("yyyy-mm", "2024-05"),
        ("M", "1"),
        ("MM", "01"),
        ("MMM", "Jan"),
        ("MMMM", "January"),
        ("D", "31"),
        ("DD", "31"),
        ("dd", "31"),
        ("WWW", "Wed"),
        ("WWWW", "Wednesday"),
        ("h", "13"),
        ("hh", "13"),
        ("m", "5"),
        ("mm", "05"),
        ("s", "9"),
        ("ss", "09"),
        ("f", "1"),
        ("ff", "12"),
        ("fff", "123"),
        ("h:mm TT", "1:05 PM"),
        ("hh:mm:ss tt", "01:05:09 PM"),
        ("YYYY-MM-DDThh:mm:ss", "2024-01-31T13:05:09"),
        ("M/D/YYYY", "1/31/2024"),
        ("DD.MM.YY", "31.01.24"),
        ("Week WWW", "Week Wed"),
        ("M/D/YYYY h:mm:ss[.fff] TT", "1/31/2024 1:05:09.123 PM"),
    ],
)
def test_format_datetime_codes(fmt: str, expected: str) -> None:
    assert format_datetime(STAMP, fmt, US) == expected


def test_format_optional_part_left_out_when_zero() -> None:
    fmt = US.timestamp_format
    assert format_datetime(JAN31 + 0.5, fmt, US) == "1/31/2024 12:00:00 PM"
    assert format_datetime(JAN31 + 0.5 + 0.12 / 86400, fmt, US) == "1/31/2024 12:00:00.120 PM"
    assert format_datetime(JAN31, "YYYY[-MM][ (D)]", US) == "2024-01 (31)"  # not zeros: shown
    assert format_datetime(JAN31, "YYYY[ hh:mm]", US) == "2024"
    assert format_datetime(JAN31, "YYYY[!]", US) == "2024!"  # no field: always shown


def test_format_datetime_single_digit_fields() -> None:
    x = serial_from_datetime(datetime(2024, 3, 5, 7, 8, 9))
    assert format_datetime(x, "M/D/YYYY h:m:s", US) == "3/5/2024 7:8:9"
    assert format_datetime(x, "MM/DD/YYYY hh:mm:ss", US) == "03/05/2024 07:08:09"


def test_format_twelve_hour_clock() -> None:
    def fmt(hour: int, minute: int) -> str:
        return format_datetime(JAN31 + (hour * 60 + minute) / 1440, "h:mm TT", US)

    assert fmt(0, 30) == "12:30 AM"
    assert fmt(11, 59) == "11:59 AM"
    assert fmt(12, 0) == "12:00 PM"
    assert fmt(23, 1) == "11:01 PM"


def test_format_rounds_to_millisecond_then_truncates() -> None:
    assert format_datetime(10 / 24, "hh:mm:ss", US) == "10:00:00"
    assert format_datetime(JAN31 + 0.9999999999, "YYYY-MM-DD hh:mm:ss", US) == "2024-02-01 00:00:00"
    assert format_datetime(JAN31 + 59.9994 / 86400, "ss.fff", US) == "59.999"
    assert format_datetime(JAN31 + 59.9996 / 86400, "mm:ss.fff", US) == "01:00.000"


def test_format_month_and_day_names_from_settings() -> None:
    x = JAN31 + 29 + 2  # 2024-03-02, a Saturday
    assert format_datetime(x, "WWWW, D. MMMM YYYY", DE) == "Samstag, 2. März 2024"
    assert format_datetime(x, "WWW DD-MMM", DE) == "Sa 02-Mär"


def test_format_datetime_edge_values() -> None:
    assert format_datetime(0, "YYYY-MM-DD hh:mm", US) == "1899-12-30 00:00"
    assert format_datetime(-1.25, "YYYY-MM-DD hh:mm", US) == "1899-12-28 18:00"
    assert format_datetime(1e10, "YYYY", US) == "10000000000"  # no date: number text
    assert format_datetime(math.nan, "YYYY", US) == "NaN"


# -- parsing dates -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2024-01-31", "YYYY-MM-DD", JAN31),
        ("20240131", "YYYYMMDD", JAN31),
        ("1/31/2024", "M/D/YYYY", JAN31),
        ("01/31/2024", "M/D/YYYY", JAN31),
        ("1/31/2024", "MM/DD/YYYY", JAN31),
        ("31.01.24", "DD.MM.YY", JAN31),
        ("31 jan 2024", "DD MMM YYYY", JAN31),
        ("31 JANUARY 2024", "DD MMMM YYYY", JAN31),
        ("Wednesday, January 31, 2024", "WWWW, MMMM D, YYYY", JAN31),
        ("  2024-01-31  ", "YYYY-MM-DD", JAN31),
        ("2024-01-31   12:00", "YYYY-MM-DD hh:mm", JAN31 + 0.5),
        ("2024-01-31T12:00:00", "YYYY-MM-DDThh:mm:ss", JAN31 + 0.5),
        ("2024-01-31", "yyyy-mm-dd".replace("mm", "MM"), JAN31),
        ("1/31/2024 6:00:00 PM", "M/D/YYYY h:mm:ss[.fff] TT", JAN31 + 0.75),
        ("1/31/2024 6:00:00.500 pm", "M/D/YYYY h:mm:ss[.fff] TT", JAN31 + 0.75 + 0.5 / 86400),
        ("12:30 AM", "h:mm TT", 0.5 / 24),
        ("12:30 PM", "h:mm TT", 12.5 / 24),
        ("18:00", "hh:mm", 0.75),
        ("Jan 2024", "MMM YYYY", serial_from_datetime(datetime(2024, 1, 1))),
        ("01-31", "MM-DD", serial_from_datetime(datetime(1899, 1, 31))),
        ("1/1/29", "M/D/YY", serial_from_datetime(datetime(2029, 1, 1))),
        ("1/1/30", "M/D/YY", serial_from_datetime(datetime(1930, 1, 1))),
        ("29.02.2024", "DD.MM.YYYY", serial_from_datetime(datetime(2024, 2, 29))),
    ],
)
def test_parse_datetime(text: str, fmt: str, expected: float) -> None:
    assert parse_datetime(text, fmt, US) == expected


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("2023-02-30", "YYYY-MM-DD"),
        ("2023-02-29", "YYYY-MM-DD"),
        ("2024-13-01", "YYYY-MM-DD"),
        ("2024-00-10", "YYYY-MM-DD"),
        ("0000-01-01", "YYYY-MM-DD"),
        ("2024-01-31x", "YYYY-MM-DD"),
        ("abc", "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
        ("24:00", "hh:mm"),
        ("10:60", "hh:mm"),
        ("13:00 PM", "h:mm TT"),
        ("2024131", "YYYYMMDD"),
        ("31 Foo 2024", "DD MMM YYYY"),
        ("1/31/2024", "M/D/YYYY h:mm:ss TT"),
    ],
)
def test_parse_datetime_rejects(text: str, fmt: str) -> None:
    assert parse_datetime(text, fmt, US) is None


def test_parse_datetime_other_inputs() -> None:
    assert parse_datetime(None, "YYYY", US) is None
    assert parse_datetime(20240131, "YYYYMMDD", US) == JAN31  # a number is read as its text
    assert parse_datetime("31. März 2024", "D. MMMM YYYY", DE) == JAN31 + 60


@pytest.mark.parametrize(
    "fmt",
    ["YYYY-MM-DD", "M/D/YYYY", "DD.MM.YY", "D MMMM YYYY", "WWW DD MMM YYYY", "YYYYMMDD", "MM/DD/YYYY hh:mm:ss"],
)
def test_date_round_trip(fmt: str) -> None:
    first, last = (10959, 47483) if "YYYY" not in fmt else (-400, 80000)  # YY: 1930-2029
    for x in range(first, last, 97):
        assert parse_datetime(format_datetime(float(x), fmt, US), fmt, US) == x


@pytest.mark.parametrize(
    "fmt",
    ["M/D/YYYY h:mm:ss[.fff] TT", "YYYY-MM-DDThh:mm:ss.fff", "DD MMM YYYY hh:mm:ss.fff", "hh:mm:ss.fff"],
)
def test_timestamp_round_trip(fmt: str) -> None:
    rng = np.random.default_rng(7)
    for ms in rng.integers(0, 80000 * 86_400_000, 300).tolist():
        if fmt.startswith("hh"):
            ms %= 86_400_000
        x = ms / 86_400_000
        text = format_datetime(x, fmt, US)
        back = parse_datetime(text, fmt, US)
        assert back == pytest.approx(x, abs=1e-9)
        assert format_datetime(back, fmt, US) == text


# -- intervals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "fmt", "expected"),
    [
        (1.5, "D hh:mm", "1 12:00"),
        (1.5, None, "36:00:00"),
        (1.5, "hh:mm:ss", "36:00:00"),
        (-0.25, None, "-06:00:00"),
        (0.25 / 24, "mm:ss", "15:00"),
        (2.5 / 24, "m:ss", "150:00"),
        (1 / 86400 * 1.5, "s.fff", "1.500"),
        (3.0, "D", "3"),
        (0, None, "00:00:00"),
    ],
)
def test_format_interval(days: float, fmt: str | None, expected: str) -> None:
    assert format_interval(days, fmt, US) == expected


def test_parse_interval() -> None:
    assert parse_interval("36:00:00", None, US) == 1.5
    assert parse_interval("1 12:00", "D hh:mm", US) == 1.5
    assert parse_interval("-06:00:00", None, US) == -0.25
    assert parse_interval("150:00", "m:ss", US) == pytest.approx(2.5 / 24)
    assert parse_interval("00:00:01.5", "hh:mm:ss.fff", US) == pytest.approx(1.5 / 86400)
    assert parse_interval("10:60:00", None, US) is None
    assert parse_interval("1 24:00", "D hh:mm", US) is None
    assert parse_interval("abc", None, US) is None
    assert parse_interval(None, None, US) is None
    for x in (0.0, 0.5, 1.75, 12.125, -3.5):
        assert parse_interval(format_interval(x, "D hh:mm:ss", US), "D hh:mm:ss", US) == x


# -- formatting numbers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("x", "fmt", "expected"),
    [
        (1234.5, "#,##0.00", "1,234.50"),
        (1234567.891, "#,##0", "1,234,568"),
        (-1234.5, "#,##0.00", "-1,234.50"),
        (-1234.567, "$#,##0.00;-$#,##0.00", "-$1,234.57"),
        (1234.567, "$#,##0.00;-$#,##0.00", "$1,234.57"),
        (-5, "#,##0;(#,##0)", "(5)"),
        (0.1234, "0.0%", "12.3%"),
        (-0.5, "0%", "-50%"),
        (7, "000", "007"),
        (7, "0,000", "0,007"),
        (1234, "000", "1234"),
        (2.675, "0.00", "2.68"),
        (2.5, "0", "3"),
        (-2.5, "0", "-3"),
        (1.005, "0.00", "1.01"),
        (-0.001, "0.00", "0.00"),
        (0.5, "#", "1"),
        (0.0, "#", "0"),
        (0.25, "#.##", ".25"),
        (1.5, "0.0#", "1.5"),
        (1.0, "0.0#", "1.0"),
        (1.256, "0.0#", "1.26"),
        (-5, "#,##0.00 kr", "-5.00 kr"),
        (123456789012, "0000-0000-0000", "1234-5678-9012"),
        (12345, "0000-0000-0000", "0000-0001-2345"),
        (1e20, "#,##0", "100,000,000,000,000,000,000"),
        (12, "abc", "abc"),
    ],
)
def test_format_number(x: float, fmt: str, expected: str) -> None:
    assert format_number(x, fmt, US) == expected


def test_format_number_separators() -> None:
    assert format_number(1234.5, "# ##0,00", US, ",", " ") == "1 234,50"
    assert format_number(3.14159, "0,00", US, ",") == "3,14"
    assert format_number(1234.5, "#.##0,00", DE) == "1.234,50"
    assert format_number(1234.5, "# ##0,00", US) == "1 234,50"  # inferred from the format
    assert format_number(1234.5, "#,##0.00", US, ".", ",") == "1,234.50"
    assert format_number(1234, "0,00", US) == "12,34"  # ',' is US ThousandSep: groups of 2
    assert format_number(1234567, "# ##0", US) == "1 234 567"  # unknown, 3 places follow
    assert format_number(1.25, "0'00", US) == "1'25"  # unknown, 2 places follow: decimal


def test_format_number_default_and_money() -> None:
    assert format_number(0.5, None, US) == "0.5"
    assert format_number(0.5, None, DE) == "0,5"
    assert format_number(math.nan, "0.00", US) == "NaN"
    assert format_money(1234.5, None, US) == "$1,234.50"
    assert format_money(-1234.5, None, US) == "-$1,234.50"
    assert format_money(1234.5, "#,##0.00 kr", US) == "1,234.50 kr"


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (3.0, "3"),
        (-12.0, "-12"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.33333333333333"),
        (2 / 3, "0.66666666666667"),
        (1e20, "1e+20"),
        (123456789012345.0, "123456789012345"),
        (1.5e-5, "0.000015"),
        (-1.25, "-1.25"),
        (1e15, "1e+15"),
    ],
)
def test_default_number_text(x: float, expected: str) -> None:
    assert default_number_text(x) == expected


def test_default_number_text_decimal_sep() -> None:
    assert default_number_text(-1.25, ",") == "-1,25"


# -- parsing numbers ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0,000.00", 0.0),
        ("1,234.5", 1234.5),
        ("007", 7.0),
        ("0,00", None),
        ("abc", None),
        ("12,34", None),
        ("1234,567", None),
        ("1,234,567", 1234567.0),
        (" -3.5 ", -3.5),
        ("+3", 3.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("12%", 0.12),
        ("1e3", 1000.0),
        ("-", None),
        ("", None),
        ("1.2.3", None),
        ("--5", None),
        ("1 234", None),
        (None, None),
    ],
)
def test_parse_number_us(text: str | None, expected: float | None) -> None:
    assert parse_number(text, None, US) == expected


def test_parse_number_with_format() -> None:
    money = "$#,##0.00;-$#,##0.00"
    assert parse_number("$1,234.50", money, US) == 1234.5
    assert parse_number("-$1,234.50", money, US) == -1234.5
    assert parse_number("$-1,234.50", money, US) == -1234.5
    assert parse_number("(1,234)", "#,##0;(#,##0)", US) == -1234.0
    assert parse_number("12.5%", "0.0%", US) == 0.125
    assert parse_number("1 234,50 kr", "# ##0,00 kr", US) == 1234.5
    assert parse_number("1.234,5", "#.##0,0", US) == 1234.5
    assert parse_number("3,14", "0,00", US, ",") == 3.14
    assert parse_number("3,14", None, US, ",", ".") == 3.14
    assert parse_money("$5.25", None, US) == 5.25


def test_parse_number_decimal_comma_settings() -> None:
    assert parse_number("1.234,5", None, DE) == 1234.5
    assert parse_number("1234,5", None, DE) == 1234.5
    assert parse_number("1,234.5", None, DE) is None
    assert parse_number(1.5, None, DE) == 1.5


# -- vectorised twins equal the scalar functions -----------------------------------------------
def _nan(value: float | None) -> float:
    return np.nan if value is None else value


def _serials(n: int) -> np.ndarray:
    rng = np.random.default_rng(42)
    x = np.concatenate(
        [
            rng.integers(-1000, 80000, n).astype(float),
            rng.uniform(-1000, 80000, n),
            rng.integers(0, 80000 * 86_400_000, n) / 86_400_000,
            [np.nan, 0.0, -0.0, 1e10, -1e10, np.inf, -np.inf, 2958465.9999, -693593.0, 0.9999999999],
        ]
    )
    return x


DATE_FORMATS = [
    "YYYY-MM-DD",
    "M/D/YYYY",
    "M/D/YYYY h:mm:ss[.fff] TT",
    "YYYY-MM-DD hh:mm:ss.fff",
    "WWWW, D MMMM YY",
    "YYYYMMDD",
    "hh:mm",
    "DD.MM.YYYY h:m:s f ff",
    "YYYY-MM-DDThh:mm:ss",
]


@pytest.mark.parametrize("fmt", DATE_FORMATS)
@pytest.mark.parametrize("settings", [US, DE], ids=["us", "de"])
def test_format_datetime_array_equals_scalar(fmt: str, settings: FormatSettings) -> None:
    x = _serials(150)
    got = format_datetime_array(x, fmt, settings)
    want = [None if math.isnan(v) else format_datetime(v, fmt, settings) for v in x.tolist()]
    assert got.tolist() == want


def _date_texts(fmt: str, settings: FormatSettings, breaks: bool) -> np.ndarray:
    texts = [t for t in format_datetime_array(_serials(100), fmt, settings).tolist() if t]
    variants = []
    for t in texts[::7]:
        variants += [
            t.lower(),
            " " + t + " ",
            t.replace(" ", "  "),
            t + "x",
            t[:-1],
            t.replace("1", "3"),
            t.replace("0", "9"),
            "\t" + t,
        ]
        variants += [t + "\n", "\n" + t] if breaks else []
    extra = [
        None,
        "",
        "2023-02-30",
        "2024-1-5",
        "1/5/2024",
        "20231301",
        "31.02.2023",
        20240131,
        12.5,
        "13:00 PM",
        "12:00 AM",
        "24:00",
        "1/31/2024 6:00:00 PM",
        "Okt",
        np.nan,
    ]
    return np.array(texts + variants + extra, dtype=object)


@pytest.mark.parametrize("breaks", [False, True], ids=["lines", "breaks"])
@pytest.mark.parametrize("fmt", DATE_FORMATS)
@pytest.mark.parametrize("settings", [US, DE], ids=["us", "de"])
def test_parse_datetime_array_equals_scalar(fmt: str, settings: FormatSettings, breaks: bool) -> None:
    """Texts with line breaks take the one-by-one regex path, others one findall."""
    texts = _date_texts(fmt, settings, breaks)
    got = parse_datetime_array(texts, fmt, settings)
    want = np.array([_nan(parse_datetime(t, fmt, settings)) for t in texts.tolist()])
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)
    assert np.isfinite(got).sum() > len(texts) // 3  # most texts are real dates


def test_parse_datetime_array_large_distinct_input() -> None:
    """Above the sampling threshold the values are not deduplicated: same results."""
    x = np.arange(30_000) * 0.37 + 40000.123
    texts = format_datetime_array(x, "YYYY-MM-DD hh:mm:ss.fff", US)
    texts[::1000] = None
    got = parse_datetime_array(texts, "YYYY-MM-DD hh:mm:ss.fff", US)
    want = [_nan(parse_datetime(t, "YYYY-MM-DD hh:mm:ss.fff", US)) for t in texts.tolist()]
    np.testing.assert_array_equal(got, np.array(want, dtype=float))
    got = parse_datetime_array(format_datetime_array(x, US.timestamp_format, US), US.timestamp_format, US)
    np.testing.assert_allclose(got, x, atol=1e-8)


def test_format_arrays_large_distinct_input() -> None:
    """Above the sampling threshold values are not deduplicated: NaN must still give None."""
    x = np.arange(30_000) * 0.37 + 40000.123
    x[::1000] = np.nan
    got = format_datetime_array(x, US.timestamp_format, US)
    assert got[0] is None and got[1] == format_datetime(x[1], US.timestamp_format, US)
    assert [t is None for t in got.tolist()] == np.isnan(x).tolist()
    got = format_number_array(x, None, US)
    assert got[0] is None and got[1] == default_number_text(x[1]) == "40000.493"
    got = format_number_array(x, "#,##0.0", US)
    assert got[0] is None and got[1] == "40,000.5"


NUMBER_FORMATS = [
    ("#,##0.00", None, None),
    ("0.0%", None, None),
    ("$#,##0.00;-$#,##0.00", None, None),
    ("000", None, None),
    ("#,##0", None, None),
    ("0.0##", None, None),
    ("#", None, None),
    ("# ##0,00", ",", " "),
    ("#,##0;(#,##0)", None, None),
    (None, None, None),
    ("0000-0000", None, "-"),
]


def _numbers() -> np.ndarray:
    rng = np.random.default_rng(3)
    ties = np.round(rng.uniform(-1000, 1000, 100), 2) + 0.005
    return np.concatenate(
        [
            rng.normal(0, 1e4, 200),
            rng.integers(-(10**6), 10**6, 100).astype(float),
            ties,
            ties / 10,
            rng.uniform(-1, 1, 50) * 1e-6,
            [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e17, -1e17, 2.675, 1.005, 0.5, -0.5, 1e300, 5e-324],
        ]
    )


@pytest.mark.parametrize(("fmt", "dec", "thou"), NUMBER_FORMATS)
def test_format_number_array_equals_scalar(fmt: str | None, dec: str | None, thou: str | None) -> None:
    x = _numbers()
    got = format_number_array(x, fmt, US, dec, thou)
    want = [None if math.isnan(v) else format_number(v, fmt, US, dec, thou) for v in x.tolist()]
    assert got.tolist() == want


def _number_texts() -> np.ndarray:
    x = _numbers()
    texts: list[object] = []
    for fmt, dec, thou in NUMBER_FORMATS:
        texts += format_number_array(x, fmt, US, dec, thou).tolist()[::3]
    texts += [f"{v:.17g}" for v in x[:50]] + [f"{v:.15f}" for v in x[:50]]
    texts += [
        "1,234",
        "12,34",
        "1,2345",
        ",123",
        "123,",
        "-1,234.5",
        "+7",
        "-0",
        ".5",
        "5.",
        " 5 ",
        "1e5",
        "5%",
        "--5",
        "+-5",
        "0,000.00",
        "1.234,5",
        "\n5",
        "١٢",
        None,
        3.5,
        7,
        np.nan,
        "123456789012345",
        "1234567890123456",
        "0.000000000000001",
        "-",
    ]
    return np.array(texts, dtype=object)


@pytest.mark.parametrize(("fmt", "dec", "thou"), NUMBER_FORMATS)
@pytest.mark.parametrize("settings", [US, DE], ids=["us", "de"])
def test_parse_number_array_equals_scalar(
    fmt: str | None, dec: str | None, thou: str | None, settings: FormatSettings
) -> None:
    texts = _number_texts()
    got = parse_number_array(texts, fmt, settings, dec, thou)
    want = [_nan(parse_number(t, fmt, settings, dec, thou)) for t in texts.tolist()]
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.array(want, dtype=float))
    assert np.array_equal(np.signbit(got), np.signbit(np.array(want, dtype=float)))
