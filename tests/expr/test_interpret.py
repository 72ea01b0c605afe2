"""Qlik's interpretation of loaded text: numbers, dates, timestamps and times become duals."""

from __future__ import annotations

import time

import numpy as np
import pytest

from qscript.expr.formats import FormatSettings
from qscript.expr.interpret import interpret_kind, interpret_texts, interpret_value, strip_blanks
from qscript.expr.values import Dual

US = FormatSettings()
ISO = FormatSettings(date_format="YYYY-MM-DD", timestamp_format="YYYY-MM-DD hh:mm:ss")
EU = FormatSettings(decimal_sep=",", thousand_sep=".")


def texts(*values: str | None) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("007", Dual("007", 7)),
        ("0,000.00", Dual("0,000.00", 0)),
        ("0000.00", Dual("0000.00", 0)),
        ("0,000", Dual("0,000", 0)),
        ("1,234,567.5", Dual("1,234,567.5", 1234567.5)),
        ("-12.5", Dual("-12.5", -12.5)),
        ("0,00", "0,00"),
        ("0.000,00", "0.000,00"),
        ("1,23", "1,23"),
        ("abc", "abc"),
        ("12 apples", "12 apples"),
        ("", ""),
        (None, None),
    ],
)
def test_numbers_with_us_separators(text, expected):
    assert interpret_value(text, US) == expected


def test_numbers_follow_the_separator_variables():
    assert interpret_value("1.234,5", EU) == Dual("1.234,5", 1234.5)
    assert interpret_value("0,00", EU) == Dual("0,00", 0)
    assert interpret_value("1,234.5", EU) == "1,234.5"


def test_dates_in_date_format():
    assert interpret_kind("1/5/2024", US) == (Dual("1/5/2024", 45296), "date")
    assert interpret_kind("12/31/1899", US) == (Dual("12/31/1899", 1), "date")
    assert interpret_kind("2024-01-05", ISO) == (Dual("2024-01-05", 45296), "date")
    assert interpret_value("2024-01-05", US) == "2024-01-05"  # not the US DateFormat
    assert interpret_value("2/30/2024", US) == "2/30/2024"  # no such day


def test_timestamps_and_times():
    assert interpret_kind("1/5/2024 6:00:00 PM", US) == (Dual("1/5/2024 6:00:00 PM", 45296.75), "timestamp")
    assert interpret_kind("2024-01-05 12:00:00", ISO) == (Dual("2024-01-05 12:00:00", 45296.5), "timestamp")
    assert interpret_kind("6:00:00 AM", US) == (Dual("6:00:00 AM", 0.25), "time")


def test_numbers_come_before_dates():
    compact = FormatSettings(date_format="YYYYMMDD")
    assert interpret_kind("20240105", compact) == (Dual("20240105", 20240105), None)


def test_column_keeps_texts_and_gains_numbers():
    column = interpret_texts(texts("007", "x", "", None, "1,000"), US)
    assert column.values() == [Dual("007", 7), "x", "", None, Dual("1,000", 1000)]
    assert column.kind is None
    assert column.nulls_mask().tolist() == [False, False, False, True, False]


def test_pure_text_column_builds_no_numbers():
    column = interpret_texts(texts("a", "b", ""), US)
    assert column.num is None
    assert column.values() == ["a", "b", ""]


def test_empty_column():
    column = interpret_texts(np.empty(0, dtype=object), US)
    assert len(column) == 0
    assert column.values() == []


@pytest.mark.parametrize(
    ("values", "settings", "kind"),
    [
        (("2024-01-05", "2024-02-29", "", None), ISO, "date"),
        (("1/5/2024", "12/31/2023"), US, "date"),
        (("1/5/2024 6:00:00 PM", "1/6/2024 7:30:00 AM"), US, "timestamp"),
        (("6:00:00 AM", "11:59:59 PM", ""), US, "time"),
        (("1/5/2024", "1/5/2024 6:00:00 PM"), US, None),  # dates and timestamps mixed
        (("1/5/2024", "x"), US, None),
        (("1/5/2024", "42"), US, None),
        (("", None), US, None),
    ],
)
def test_kind_only_when_every_value_has_it(values, settings, kind):
    assert interpret_texts(texts(*values), settings).kind == kind


def test_mixed_column_keeps_each_cells_number():
    column = interpret_texts(texts("1/5/2024", "abc", "3.5", "1/5/2024 6:00:00 PM"), US)
    assert column.values() == [
        Dual("1/5/2024", 45296),
        "abc",
        Dual("3.5", 3.5),
        Dual("1/5/2024 6:00:00 PM", 45296.75),
    ]
    assert column.kind is None


def test_non_text_placeholders_are_null():
    column = interpret_texts(texts("1", None, float("nan")), US)  # type: ignore[arg-type]
    assert column.values() == [Dual("1", 1), None, None]


def test_vectorised_matches_scalar():
    sample = ["007", "1,234.5", "0,00", "1/5/2024", "1/5/2024 6:00:00 PM", "6:00:00 AM", " 12 ", "+5", "-", "",
              "name 3", "3 apples", "2024-01-05", ".5", "1e3", "Jan", None]
    column = interpret_texts(texts(*sample), US)
    assert column.values() == [interpret_value(v, US) for v in sample]


def test_repeated_values_are_read_once_but_all_rows_get_them():
    values = texts(*(["1/5/2024", "2/5/2024", None] * 10_000))
    column = interpret_texts(values, US)
    assert column.kind == "date"
    assert column.values()[:3] == [Dual("1/5/2024", 45296), Dual("2/5/2024", 45327), None]
    assert column.value(29_999) is None


def test_million_rows_interpret_quickly():
    n = 1_000_000
    numbers = np.array([str(i) for i in range(n)], dtype=object)
    names = np.array([f"customer {i}" for i in range(n)], dtype=object)
    start = time.perf_counter()
    assert interpret_texts(numbers, US).value(123_456) == Dual("123456", 123456)
    assert interpret_texts(names, US).num is None
    assert time.perf_counter() - start < 20  # about 1 s on a laptop; generous for CI


def test_strip_blanks_only_ascii_spaces():
    out = strip_blanks(texts("  a ", "b", "\tc\t", None, "", "   "))
    assert out.tolist() == ["a", "b", "\tc\t", None, "", ""]
    unchanged = texts("x", "y")
    assert strip_blanks(unchanged) is unchanged
