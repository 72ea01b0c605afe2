"""Data-model statements and reports: QUALIFY, DROP/RENAME, STORE round trips, the report,
row path = column path, and the CLI writing tables."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import qscript
from qscript.engine.load import Stage

SOURCE = """
T: LOAD * INLINE [Id, Name, Amount, Day
1, anna, 10.5, 2024-01-31
2, Bob, -3, 2024-02-29
3, , 7, 2023-12-01
4, dave, 0, 2024-01-01];
"""

EXPRESSIONS = [
    "Upper(Name) & '-' & Id as Code",
    "If(Amount > 5, 'big', If(Amount < 0, 'neg', 'small')) as Band",
    "Amount * 1.5 - Id as Calc",
    "Date(Date#(Day, 'YYYY-MM-DD'), 'DD.MM.YYYY') as D",
    "Len(Name) + Index(Name, 'a') as L",
    "SubField('a;b;c', ';', Id) as Piece",
    "RecNo() as R",
    "RowNo() as N",
    "Alt(Num#(Name), -1) as Alt1",
    "Round(Amount, 0.25) as Rounded",
]


def test_row_path_gives_the_same_tables_as_the_column_path(run_script, monkeypatch):
    script = SOURCE + "R: NoConcatenate LOAD " + ",\n  ".join(EXPRESSIONS) + "\nRESIDENT T WHERE Id <> 3;"
    column_path = run_script(script).tables["R"]
    monkeypatch.setattr(Stage, "force_row_path", True)
    row_path = run_script(script).tables["R"]
    assert len(column_path) == 3
    assert_frame_equal(row_path, column_path)


def test_qualify_renames_fields_of_later_loads(run_script):
    script = SOURCE + """
    QUALIFY *;
    UNQUALIFY Id;
    Q: LOAD Id, Name RESIDENT T;
    UNQUALIFY *;
    P: LOAD Id as Key RESIDENT T;
    """
    result = run_script(script)
    assert list(result.tables["Q"].columns) == ["Id", "Q.Name"]
    assert list(result.tables["P"].columns) == ["Key"]


def test_drop_fields_and_rename(run_script):
    script = SOURCE + """
    U: LOAD Id, Name as Other RESIDENT T;
    DROP FIELD Amount FROM T;
    DROP FIELDS Day;
    RENAME FIELD Other TO Alias;
    RENAME TABLE U TO V;
    """
    result = run_script(script)
    assert list(result.tables) == ["T", "V"]
    assert list(result.tables["T"].columns) == ["Id", "Name"]
    assert list(result.tables["V"].columns) == ["Id", "Alias"]


def test_drop_of_a_missing_field_is_error_11(run_script):
    with pytest.raises(qscript.ScriptError) as info:
        run_script(SOURCE + "DROP FIELD Nope;")
    assert info.value.code == 11


def test_rename_using_a_mapping_table(run_script):
    script = SOURCE + """
    FieldMap: MAPPING LOAD * INLINE [old, new
    Name, CustomerName
    Missing, Whatever];
    RENAME FIELDS USING FieldMap;
    """
    assert list(run_script(script).tables["T"].columns) == ["Id", "CustomerName", "Amount", "Day"]


@pytest.mark.parametrize(("suffix", "spec"), [("qvd", ""), ("csv", "(txt)"), ("parquet", "(parquet)")])
def test_store_then_load_from_returns_the_same_table(run_script, suffix, spec):
    script = SOURCE + f"""
    STORE T INTO out/t.{suffix} {spec};
    Back: NoConcatenate LOAD * FROM out/t.{suffix} {spec};
    """
    result = run_script(script)
    assert_frame_equal(result.tables["Back"], result.tables["T"])


def test_store_without_a_format_writes_qvd_as_qlik_does(run_script, tmp_path):
    run_script(SOURCE + "STORE T INTO plain.csv;")
    assert (tmp_path / "plain.csv").read_bytes()[:5] == b"<?xml"


def test_model_report_finds_links_and_synthetic_keys(run_script):
    script = """
    A: LOAD * INLINE [k1, k2, a
    1, 2, x];
    B: LOAD * INLINE [k1, k2, b
    1, 2, y];
    C: LOAD * INLINE [k1, c
    1, z];
    """
    report = run_script(script).model
    assert [(t.name, t.rows) for t in report.tables] == [("A", 1), ("B", 1), ("C", 1)]
    assert report.links == {"k1": ("A", "B", "C"), "k2": ("A", "B")}
    assert report.synthetic_keys == (("A", "B", ("k1", "k2")),)
    assert "synthetic key A + B: k1, k2" in str(report)


def test_output_dtypes(run_script):
    script = """
    T: LOAD Id, Name, Date#(Day, 'YYYY-MM-DD') as Day, Amount, Null() as Nothing, Text(Id) as IdText
    INLINE [Id, Name, Day, Amount
    1, a, 2024-01-31, 1.5
    2, , 2024-02-01, 2];
    """
    table = run_script(script).tables["T"]
    assert table.dtypes.astype(str).to_dict() == {
        "Id": "int64", "Name": "string", "Day": "datetime64[ms]", "Amount": "float64",
        "Nothing": "float64", "IdText": "string",
    }
    assert table["Name"].tolist() == ["a", ""]
    assert table["Day"].tolist() == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01")]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_cli_out_writes_one_file_per_final_table(tmp_path, fmt):
    script = tmp_path / "s.qvs"
    script.write_text(SOURCE + "M: MAPPING LOAD Id, Name RESIDENT T;\nU: LOAD Id as Key RESIDENT T;\n")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "qscript", "run", str(script), "--out", str(out), "--format", fmt, "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"T.{fmt}", f"U.{fmt}"]
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    assert read(out / f"U.{fmt}")["Key"].tolist() == [1, 2, 3, 4]


def test_session_runs_script_piece_by_piece(tmp_path):
    with qscript.Session(base_dir=tmp_path) as session:
        session.run("T: LOAD * INLINE [a\n1\n2];")
        session.run("LET n = NoOfRows('T');\nU: LOAD a * 10 as b RESIDENT T;")
        assert session.table_names() == ["T", "U"]
        assert session.field_names("U") == ["b"]
        assert session.table("U")["b"].tolist() == [10, 20]
        with pytest.raises(qscript.ScriptError):
            session.run("DROP TABLE Nope;")
        result = session.result()
    assert result.variables["n"] == "2"
    assert list(result.tables) == ["T", "U"]
