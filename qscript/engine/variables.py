"""Script variables: SET stores text, LET stores a value; both are global.

Qlik variables are text at heart: ``$(v)`` inserts the text. A LET keeps the evaluated
value too, so ``$(#v)`` and expressions can use its number without re-reading the text
(``LET v = 1/3`` shows ``0.33333333333333`` but computes with the full double).
Names are case-sensitive, as in Qlik.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from qscript.expr.evaluate import MISSING
from qscript.expr.formats import FormatSettings, default_number_text
from qscript.expr.values import Dual, Value, as_number, as_text

#: Qlik's standard header variables with US defaults (help "Number interpretation variables").
SYSTEM_DEFAULTS: dict[str, str] = {
    "ThousandSep": ",",
    "DecimalSep": ".",
    "MoneyThousandSep": ",",
    "MoneyDecimalSep": ".",
    "MoneyFormat": "$#,##0.00;-$#,##0.00",
    "TimeFormat": "h:mm:ss TT",
    "DateFormat": "M/D/YYYY",
    "TimestampFormat": "M/D/YYYY h:mm:ss[.fff] TT",
    "FirstWeekDay": "6",
    "BrokenWeeks": "1",
    "ReferenceDay": "0",
    "FirstMonthOfYear": "1",
    "CollationLocale": "en-US",
    "CreateSearchIndexOnReload": "1",
    "MonthNames": "Jan;Feb;Mar;Apr;May;Jun;Jul;Aug;Sep;Oct;Nov;Dec",
    "LongMonthNames": "January;February;March;April;May;June;July;August;September;October;November;December",
    "DayNames": "Mon;Tue;Wed;Thu;Fri;Sat;Sun",
    "LongDayNames": "Monday;Tuesday;Wednesday;Thursday;Friday;Saturday;Sunday",
    "NumericalAbbreviation": "3:k;6:M;9:G;12:T;15:P;18:E;21:Z;24:Y;-3:m;-6:μ;-9:n;-12:p;-15:f;-18:a;-21:z;-24:y",
    "ErrorMode": "1",
}

#: Variables whose change alters number/date formatting.
FORMAT_VARIABLES = frozenset(
    {
        "DecimalSep", "ThousandSep", "MoneyDecimalSep", "MoneyThousandSep", "MoneyFormat",
        "TimeFormat", "DateFormat", "TimestampFormat", "MonthNames", "LongMonthNames",
        "DayNames", "LongDayNames",
    }
)


@dataclass(frozen=True, slots=True)
class Variable:
    value: Value
    text: str


class Variables(Mapping[str, str]):
    """Name -> variable. As a mapping it shows each variable's text."""

    def __init__(self) -> None:
        self._vars: dict[str, Variable] = {}
        self._settings: FormatSettings | None = None
        for name, text in SYSTEM_DEFAULTS.items():
            self.set_text(name, text)

    # -- Mapping protocol (texts) --------------------------------------------------------------
    def __getitem__(self, name: str) -> str:
        return self._vars[name].text

    def __iter__(self) -> Iterator[str]:
        return iter(self._vars)

    def __len__(self) -> int:
        return len(self._vars)

    # -- reading -------------------------------------------------------------------------------
    def text(self, name: str) -> str | None:
        """The text ``$(name)`` inserts, or None when the variable is undefined."""
        var = self._vars.get(name)
        return None if var is None else var.text

    def value(self, name: str) -> object:
        """The value an expression sees, or :data:`MISSING`."""
        var = self._vars.get(name)
        return MISSING if var is None else var.value

    def number_text(self, name: str) -> str:
        """``$(#name)``: the number with ``.`` decimals; ``0`` when undefined or not a number."""
        var = self._vars.get(name)
        number = None if var is None else as_number(var.value, self.settings())
        return "0" if number is None else default_number_text(number, ".")

    def settings(self) -> FormatSettings:
        if self._settings is None:
            self._settings = FormatSettings.from_variables(self.text)
        return self._settings

    # -- writing -------------------------------------------------------------------------------
    def set_text(self, name: str, text: str | None) -> None:
        """SET: the variable holds text (``SET v;`` and ``SET v =;`` give empty text)."""
        text = text or ""
        self._store(name, Variable(text, text))

    def set_value(self, name: str, value: Value) -> None:
        """LET: keep the value, and its text as shown with the current settings."""
        text = as_text(value, self.settings())
        self._store(name, Variable(value, "" if text is None else text))

    def set_error(self, name: str, code: int, text: str) -> None:
        self._store(name, Variable(Dual(text, float(code)), text))

    def drop(self, name: str) -> None:
        self._vars.pop(name, None)
        if name in FORMAT_VARIABLES:
            self._settings = None

    def snapshot(self, name: str) -> Variable | None:
        return self._vars.get(name)

    def restore(self, name: str, var: Variable | None) -> None:
        if var is None:
            self.drop(name)
        else:
            self._store(name, var)

    def _store(self, name: str, var: Variable) -> None:
        self._vars[name] = var
        if name in FORMAT_VARIABLES:
            self._settings = None
