"""Benchmark: a RESIDENT LOAD over 1,000,000 rows, qscript against hand-written pandas.

Both sides start from the same 1,000,000-row table and compute the same six things:
a string expression, date interpretation and formatting, arithmetic, an If, an ApplyMap
and a WHERE. qscript's time is the RESIDENT LOAD alone (the run with it minus the run
that only builds the table, best of N). Peak memory is measured with tracemalloc.

Run: python bench/bench_load.py [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from benchkit import peak_memory, timed

import qscript

BUILD = """
CountryMap: MAPPING LOAD * INLINE [code, country
SE, Sweden
DE, Germany
FR, France
US, United States];

Base: LOAD
    RecNo() as Id,
    'Customer' & Mod(RecNo(), 997) as Name,
    Text(Date(43831 + Mod(RecNo(), 1500), 'YYYY-MM-DD')) as DateText,
    Mod(RecNo() * 7919, 1000) + 0.5 as Amount,
    Pick(Mod(RecNo(), 5) + 1, 'SE', 'DE', 'FR', 'US', 'XX') as CountryCode
AUTOGENERATE $(vRows);
"""

TRANSFORM = """
Result: LOAD
    Upper(Left(Name, 3)) & '-' & Id as Code,
    Date(Date#(DateText, 'YYYY-MM-DD'), 'DD/MM/YYYY') as Day,
    Amount * 1.2 - 5 as Net,
    If(Amount > 500, 'high', 'low') as Band,
    ApplyMap('CountryMap', CountryCode, 'Unknown') as Country
RESIDENT Base
WHERE Amount > 100;
"""

COUNTRIES = {"SE": "Sweden", "DE": "Germany", "FR": "France", "US": "United States"}


def pandas_transform(base: pd.DataFrame) -> pd.DataFrame:
    """The same transformation, written the way a pandas user would."""
    df = base[base["Amount"] > 100]
    return pd.DataFrame(
        {
            "Code": df["Name"].str[:3].str.upper() + "-" + df["Id"].astype(str),
            "Day": pd.to_datetime(df["DateText"], format="%Y-%m-%d").dt.strftime("%d/%m/%Y"),
            "Net": df["Amount"] * 1.2 - 5,
            "Band": np.where(df["Amount"] > 500, "high", "low"),
            "Country": df["CountryCode"].map(COUNTRIES).fillna("Unknown"),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    variables = {"vRows": str(args.rows)}

    build_time, built = timed(lambda: qscript.run(BUILD, variables=variables), args.repeat)
    full_time, full = timed(lambda: qscript.run(BUILD + TRANSFORM, variables=variables), args.repeat)
    q_time = full_time - build_time
    base = built.tables["Base"]
    p_time, expected = timed(lambda: pandas_transform(base), args.repeat)
    q_peak = peak_memory(lambda: qscript.run(BUILD + TRANSFORM, variables=variables))
    p_peak = peak_memory(lambda: pandas_transform(base))

    got = full.tables["Result"]
    assert len(got) == len(expected), (len(got), len(expected))
    assert got["Code"].tolist()[:5] == expected["Code"].tolist()[:5]
    assert got["Country"].tolist() == expected["Country"].tolist()
    assert np.allclose(got["Net"].to_numpy(), expected["Net"].to_numpy())
    day_text = got["Day"].dt.strftime("%d/%m/%Y").tolist()
    assert day_text == expected["Day"].tolist()

    print(f"rows: {args.rows:,} in, {len(got):,} out (best of {args.repeat})")
    print(f"qscript RESIDENT LOAD: {q_time:8.3f} s   (build {build_time:.3f} s, whole script {full_time:.3f} s)")
    print(f"pandas by hand:        {p_time:8.3f} s")
    print(f"ratio qscript/pandas:  {q_time / p_time:8.2f}x   (target: within 2x)")
    print(f"peak memory: qscript whole script {q_peak / 2**20:,.0f} MiB, pandas transform {p_peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
