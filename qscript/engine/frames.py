"""Columns <-> pandas: how Qlik values appear in the DataFrames qscript hands out.

* A column whose every value has a number (numbers and duals, such as '007' read as 7)
  becomes numeric: int64 when all values are whole and none is NULL, else float64 with
  NaN for NULL.
* A column tagged as dates or timestamps (Date(), Date#(), loaded date text) becomes
  datetime64[ms]; times and intervals become timedelta64[ms].
* Any other column becomes text (pandas' string dtype), with each value's text (numbers
  show Qlik's default text) and missing values for NULL.
A column with no value at all (every row NULL) is float64 NaN, as pandas makes it.
Empty text stays empty text, never NULL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings

_EPOCH = np.datetime64("1899-12-30T00:00:00", "ms")
_MS_PER_DAY = 86_400_000


def to_series(column: Column, settings: FormatSettings, name: str) -> pd.Series:
    """The pandas Series for one field."""
    nulls = column.nulls_mask()
    if nulls.all():  # no value at all: like pandas' own all-missing columns
        return pd.Series(np.full(column.length, np.nan), name=name, dtype="float64")
    numbers = column.raw_num()
    has_number = ~np.isnan(numbers)
    if column.num is not None and bool(np.all(has_number | nulls)):
        if column.kind in ("date", "timestamp"):
            ms = np.round(np.where(nulls, 0, numbers) * _MS_PER_DAY).astype("int64")
            values = _EPOCH + ms.astype("timedelta64[ms]")
            values[nulls] = np.datetime64("NaT")
            return pd.Series(values, name=name)
        if column.kind in ("time", "interval"):
            ms = np.round(np.where(nulls, 0, numbers) * _MS_PER_DAY).astype("int64")
            values = ms.astype("timedelta64[ms]")
            values[nulls] = np.timedelta64("NaT")
            return pd.Series(values, name=name)
        if not nulls.any() and bool(np.all(numbers == np.trunc(numbers))) and np.abs(numbers).max(initial=0) < 2**53:
            return pd.Series(numbers.astype(np.int64), name=name)
        return pd.Series(numbers, name=name, dtype="float64")
    return pd.Series(column.texts(settings), name=name, dtype="string")


def from_series(series: pd.Series) -> Column:
    """A Column for a pandas Series read from a typed source (Parquet, a DataFrame)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return Column.from_numbers(np.where(series.to_numpy(dtype=bool, na_value=False), -1.0, 0.0))
    if pd.api.types.is_numeric_dtype(series.dtype):
        return Column.from_numbers(series.to_numpy(dtype=np.float64, na_value=np.nan))
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        ms = values.to_numpy(dtype="datetime64[ms]")
        nat = np.isnat(ms)
        serial = (ms - _EPOCH).astype("int64") / _MS_PER_DAY
        serial[nat] = np.nan
        return Column(None, serial, len(series), "timestamp")
    values = series.astype(object).where(series.notna(), None).to_numpy(dtype=object)
    return Column.from_texts(np.array([None if v is None else str(v) for v in values], dtype=object))


def to_frame(names: list[str], columns: dict[str, Column], settings: FormatSettings) -> pd.DataFrame:
    return pd.DataFrame({name: to_series(columns[name], settings, name) for name in names}, columns=names)
