"""LOAD ... FROM file (format specs, text, Parquet, QVD) and STORE ... INTO file."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from qscript.engine.files import SPACES, FileFormat, read_table, write_table
from qscript.errors import ScriptFileNotFoundError, ScriptSyntaxError, UnsupportedStatementError, WrongFormatError
from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings
from qscript.expr.values import Dual, as_number

US = FormatSettings()
ISO = FormatSettings(date_format="YYYY-MM-DD", timestamp_format="YYYY-MM-DD hh:mm:ss")


def spec(text: str) -> list[list[str]]:
    """'txt, delimiter is ',' ' as the parser hands it over: items of words."""
    items, word, words, quote = [], "", [], ""
    for ch in text + ",":
        if quote:
            word += ch
            quote = "" if ch == quote else quote
        elif ch in "'[":
            word, quote = word + ch, "'" if ch == "'" else "]"
        elif ch == ",":
            words += [word] if word else []
            items.append(words)
            word, words = "", []
        elif ch == " ":
            words += [word] if word else []
            word = ""
        else:
            word += ch
    return [i for i in items if i]


def load(path: Path, text: str = "", settings: FormatSettings = US, **options) -> dict[str, list]:
    names, columns = read_table(path, FileFormat.from_spec(spec(text), path), settings, **options)
    return {name: columns[name].values() for name in names}


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


# -- format specifications -------------------------------------------------------------------
def test_defaults_follow_qlik_help(tmp_path):
    fmt = FileFormat.from_spec([], tmp_path / "a.csv")
    assert fmt == FileFormat(kind="txt", labels="embedded", delimiter=",", quotes="standard", encoding=None)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.csv", "txt"), ("a.txt", "txt"), ("a.tab", "txt"), ("a.QVD", "qvd"), ("a.parquet", "parquet"),
     ("a.xlsx", "ooxml"), ("a.dat", "txt"), ("noext", "txt")],
)
def test_kind_from_extension(tmp_path, name, kind):
    assert FileFormat.from_spec([], tmp_path / name).kind == kind


def test_kind_from_spec_wins(tmp_path):
    assert FileFormat.from_spec([["qvd"]], tmp_path / "a.txt").kind == "qvd"
    assert FileFormat.from_spec([["Parquet"]], tmp_path / "a.bin").kind == "parquet"
    assert FileFormat.from_spec([["csv"]], tmp_path / "a.bin").kind == "txt"


def test_tab_files_default_to_tab(tmp_path):
    assert FileFormat.from_spec([], tmp_path / "a.tab").delimiter == "\t"
    assert FileFormat.from_spec(spec("delimiter is ';'"), tmp_path / "a.tab").delimiter == ";"


@pytest.mark.parametrize(
    ("item", "field", "value"),
    [
        ("embedded labels", "labels", "embedded"),
        ("Embedded Labels", "labels", "embedded"),
        ("no labels", "labels", "none"),
        ("explicit labels", "labels", "explicit"),
        ("delimiter is ','", "delimiter", ","),
        ("delimiter is ';'", "delimiter", ";"),
        ("delimiter is '|'", "delimiter", "|"),
        ("delimiter is ' '", "delimiter", " "),
        ("delimiter is '\\t'", "delimiter", "\t"),
        ("delimiter is \\t", "delimiter", "\t"),
        ("delimiter is tab", "delimiter", "\t"),
        ("delimiter is '\\\\'", "delimiter", "\\"),
        ("delimiter is spaces", "delimiter", SPACES),
        ("delimiter is 'spaces'", "delimiter", SPACES),
        ("delimiter is '||'", "delimiter", "||"),
        ("msq", "quotes", "msq"),
        ("no quotes", "quotes", "none"),
        ("utf8", "encoding", "utf-8"),
        ("UTF8", "encoding", "utf-8"),
        ("unicode", "encoding", "utf-16"),
        ("ansi", "encoding", "cp1252"),
        ("oem", "encoding", "cp437"),
        ("mac", "encoding", "mac_roman"),
        ("codepage is 1252", "encoding", "cp1252"),
        ("codepage is 65001", "encoding", "utf-8"),
        ("codepage is 1200", "encoding", "utf-16"),
        ("codepage is 10000", "encoding", "mac_roman"),
        ("codepage is 28591", "encoding", "iso8859-1"),
        ("codepage is 932", "encoding", "cp932"),
        ("header is 1 lines", "header_lines", 1),
        ("header is 3 line", "header_lines", 3),
        ("header is line", "header_lines", 1),
        ("header is 10", "header_bytes", 10),
        ("comment is '//'", "comment", "//"),
        ("comment is #", "comment", "#"),
        ("compression is gzip", "compression", "gzip"),
    ],
)
def test_spec_items(tmp_path, item, field, value):
    assert getattr(FileFormat.from_spec(spec(item), tmp_path / "a.txt"), field) == value


def test_words_may_arrive_in_one_string_or_as_tuples(tmp_path):
    a = FileFormat.from_spec([["embedded labels"], ["delimiter is", "';'"]], tmp_path / "a.txt")
    b = FileFormat.from_spec((("embedded", "labels"), ("delimiter", "is", "';'")), tmp_path / "a.txt")
    assert a == b
    assert a.delimiter == ";"


def test_items_that_do_not_apply_here_are_accepted(tmp_path):
    items = spec("txt, no eof, table is [Sheet 1], record is 40, URL is 'http://x', userAgent is 'y'")
    assert FileFormat.from_spec(items, tmp_path / "a.txt").kind == "txt"


@pytest.mark.parametrize(
    "item",
    ["embedded", "labels", "delimiter ','", "delimiter is ''", "header is x lines", "header is 2 rows",
     "codepage is 99999", "codepage is abc", "compression is zip", "filters(Remove(Row, Pos(Top, 1)))", "qvd txt"],
)
def test_unknown_items_are_syntax_errors_naming_the_item(tmp_path, item):
    with pytest.raises(ScriptSyntaxError) as info:
        FileFormat.from_spec([item.split(" ")], tmp_path / "a.txt")
    assert info.value.code == 2
    assert item.split(" ")[0] in info.value.message


def test_two_file_types_are_a_syntax_error(tmp_path):
    with pytest.raises(ScriptSyntaxError, match="two file types"):
        FileFormat.from_spec([["txt"], ["qvd"]], tmp_path / "a.txt")


# -- delimited text ---------------------------------------------------------------------------
def test_embedded_labels_and_interpretation(tmp_path):
    path = write(tmp_path / "a.csv", "Id,Name,Amount,Day\n007,Ann,\"1,234.50\",1/5/2024\n2,Bob,,1/6/2024\n")
    assert load(path, "txt, utf8, embedded labels, delimiter is ',', msq") == {
        "Id": [Dual("007", 7), Dual("2", 2)],
        "Name": ["Ann", "Bob"],
        "Amount": [Dual("1,234.50", 1234.5), ""],
        "Day": [Dual("1/5/2024", 45296), Dual("1/6/2024", 45297)],
    }
    _, columns = read_table(path, FileFormat(), US)
    assert columns["Day"].kind == "date"
    assert columns["Id"].kind is None


def test_no_labels_names_fields_by_position(tmp_path):
    path = write(tmp_path / "a.txt", "a,1\nb,2\n")
    assert load(path, "txt, no labels") == {"@1": ["a", "b"], "@2": [Dual("1", 1), Dual("2", 2)]}


def test_explicit_labels_read_the_first_record(tmp_path):
    path = write(tmp_path / "a.txt", "x,y\n1,2\n")
    assert list(load(path, "txt, explicit labels")) == ["x", "y"]


def test_empty_label_becomes_position_and_duplicates_are_wrong_format(tmp_path):
    assert list(load(write(tmp_path / "a.csv", "a,,c\n1,2,3\n"))) == ["a", "@2", "c"]
    with pytest.raises(WrongFormatError, match="unique"):
        load(write(tmp_path / "b.csv", "a,b,a\n1,2,3\n"))


def test_header_lines_are_skipped_before_labels(tmp_path):
    path = write(tmp_path / "a.csv", "Report of 2024\nsecond line, with comma\nA,B\n1,2\n")
    assert load(path, "txt, embedded labels, header is 2 lines") == {"A": [Dual("1", 1)], "B": [Dual("2", 2)]}
    assert load(path, "txt, no labels, header is 3 lines") == {"@1": [Dual("1", 1)], "@2": [Dual("2", 2)]}


def test_header_bytes(tmp_path):
    path = write(tmp_path / "a.csv", "XXXXA,B\n1,2\n")
    assert list(load(path, "txt, header is 4")) == ["A", "B"]


def test_msq_with_line_breaks_delimiters_and_doubled_quotes(tmp_path):
    content = 'Id,Text,Next\n1,"two\nlines, and a comma","say ""hi"""\r\n2,plain,"x"\r\n'
    path = write(tmp_path / "a.csv", content)
    assert load(path, "txt, embedded labels, delimiter is ',', msq") == {
        "Id": [Dual("1", 1), Dual("2", 2)],
        "Text": ["two\nlines, and a comma", "plain"],
        "Next": ['say "hi"', "x"],
    }


def test_no_quotes_keeps_quote_characters(tmp_path):
    path = write(tmp_path / "a.csv", 'A,B\n"x",it\'s\n')
    assert load(path, "txt, no quotes") == {"A": ['"x"'], "B": ["it's"]}


def test_standard_quoting_accepts_single_quotes_around_a_value(tmp_path):
    path = write(tmp_path / "a.csv", "A,B,C\n'x',\"y\",O'Brien\n")
    assert load(path, "txt") == {"A": ["x"], "B": ["y"], "C": ["O'Brien"]}
    assert load(path, "txt, msq") == {"A": ["'x'"], "B": ["y"], "C": ["O'Brien"]}


def test_tab_delimiter(tmp_path):
    path = write(tmp_path / "a.txt", "A\tB\nx, y\t1.5\n")
    expected = {"A": ["x, y"], "B": [Dual("1.5", 1.5)]}
    assert load(path, "txt, delimiter is '\\t'") == expected
    assert load(path, "txt, delimiter is tab") == expected
    assert load(write(tmp_path / "a.tab", "A\tB\nx, y\t1.5\n")) == expected


def test_other_delimiters(tmp_path):
    assert load(write(tmp_path / "a.txt", "A;B\n1,5;x\n"), "txt, delimiter is ';'") == {
        "A": ["1,5"],  # a comma is no decimal separator with US settings
        "B": ["x"],
    }
    assert load(write(tmp_path / "b.txt", "A  B\n1   x\n"), "txt, delimiter is spaces") == {
        "A": [Dual("1", 1)],
        "B": ["x"],
    }
    assert load(write(tmp_path / "c.txt", "A||B\n1||x|y\n"), "txt, delimiter is '||'") == {
        "A": [Dual("1", 1)],
        "B": ["x|y"],
    }


def test_comment_lines_are_dropped(tmp_path):
    path = write(tmp_path / "a.csv", "// exported\nA,B\n1,2\n// end\n")
    assert load(path, "txt, comment is '//'") == {"A": [Dual("1", 1)], "B": [Dual("2", 2)]}


def test_blanks_are_stripped_unless_verbatim(tmp_path):
    path = write(tmp_path / "a.csv", " A , B\n  x  , 1 \n")
    assert load(path) == {"A": ["x"], "B": [Dual("1", 1)]}
    assert load(path, verbatim=True) == {" A ": ["  x  "], " B": [Dual(" 1 ", 1)]}


def test_empty_cells_are_text_not_null(tmp_path):
    path = write(tmp_path / "a.csv", "A,B,C\n,,\n1\n")
    assert load(path) == {"A": ["", Dual("1", 1)], "B": ["", ""], "C": ["", ""]}


def test_blank_lines_and_empty_files(tmp_path):
    assert load(write(tmp_path / "a.csv", "A\n1\n\n2\n")) == {"A": [Dual("1", 1), Dual("2", 2)]}
    assert load(write(tmp_path / "b.csv", "")) == {}
    assert load(write(tmp_path / "c.csv", "A,B\n")) == {"A": [], "B": []}


def test_codepage_1252(tmp_path):
    path = write(tmp_path / "a.csv", "Name\nJosé\nœuvre\n", encoding="cp1252")
    assert load(path, "txt, codepage is 1252") == {"Name": ["José", "œuvre"]}
    assert load(path, "txt, ansi") == {"Name": ["José", "œuvre"]}
    assert load(path) == {"Name": ["José", "œuvre"]}  # no character set: Windows-1252


def test_undefined_1252_bytes_read_as_code_points(tmp_path):
    path = write(tmp_path / "a.csv", b"A\nx\x81y\n")
    assert load(path) == {"A": ["x\x81y"]}


def test_utf8_with_and_without_bom(tmp_path):
    expected = {"Name": ["José", "日本"]}
    assert load(write(tmp_path / "a.csv", "Name\nJosé\n日本\n"), "txt, utf8") == expected
    bom = write(tmp_path / "b.csv", "Name\nJosé\n日本\n", encoding="utf-8-sig")
    assert load(bom, "txt, utf8") == expected
    assert load(bom) == expected  # the byte-order mark decides when no character set is given


def test_unicode_is_utf16(tmp_path):
    expected = {"Name": ["José"], "N": [Dual("1", 1)]}
    assert load(write(tmp_path / "a.csv", "Name,N\nJosé,1\n", encoding="utf-16"), "txt, unicode") == expected
    assert load(write(tmp_path / "b.csv", "Name,N\nJosé,1\n", encoding="utf-16-le"), "txt, unicode") == expected
    assert load(tmp_path / "a.csv") == expected


def test_interpretation_uses_the_settings(tmp_path):
    path = write(tmp_path / "a.csv", "D,T\n2024-01-05,2024-01-05 12:00:00\n")
    assert load(path, settings=ISO) == {
        "D": [Dual("2024-01-05", 45296)],
        "T": [Dual("2024-01-05 12:00:00", 45296.5)],
    }
    assert load(path, settings=US) == {"D": ["2024-01-05"], "T": ["2024-01-05 12:00:00"]}


# -- errors -----------------------------------------------------------------------------------
def test_missing_file_is_script_error_8(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(ScriptFileNotFoundError) as info:
        read_table(path, FileFormat(), US)
    assert info.value.code == 8
    assert str(path) in info.value.message
    with pytest.raises(ScriptFileNotFoundError):
        read_table(tmp_path, FileFormat(), US)  # a folder is no file


@pytest.mark.parametrize(
    ("name", "content", "text"),
    [
        ("bad.csv", b"A\n\xff\xfe\xfa\n", "txt, utf8"),
        ("ragged.csv", b"A,B\n1,2,3\n", "txt"),
        ("bad.parquet", b"PAR1 not really parquet", ""),
        ("bad.qvd", b"<QvdTableHeader>broken", ""),
        ("csv.qvd", b"A,B\n1,2\n", ""),
    ],
)
def test_broken_file_is_script_error_12(tmp_path, name, content, text):
    path = write(tmp_path / name, content)
    with pytest.raises(WrongFormatError) as info:
        load(path, text)
    assert info.value.code == 12
    assert name in info.value.message


def test_unsupported_file_types(tmp_path):
    path = write(tmp_path / "a.xlsx", b"PK")
    with pytest.raises(UnsupportedStatementError, match="ooxml"):
        load(path)
    with pytest.raises(UnsupportedStatementError, match="json"):
        write_table(tmp_path / "a.json", "json", [], {}, US)


# -- store and round trips --------------------------------------------------------------------
def sample() -> tuple[list[str], dict[str, Column]]:
    """Texts, numbers, duals such as '007', NULLs, dates and an awkward text field."""
    names = ["Code", "Amount", "Name", "Day", "Note"]
    columns = {
        "Code": Column.from_values([Dual("007", 7), Dual("042", 42), None, Dual("1,000", 1000)]),
        "Amount": Column.from_values([1.5, -2.0, None, 1e-3]),
        "Name": Column.from_values(["Ann", "", None, "Zoë"]),
        "Day": Column.from_duals(
            np.array(["2024-01-05", "2024-02-29", None, "1999-12-31"], dtype=object),
            np.array([45296, 45351, np.nan, 36525]),
            "date",
        ),
        "Note": Column.from_values(['a, "b"', "two\nlines", " padded ", None]),
    }
    return names, columns


def table(path: Path, settings: FormatSettings = ISO, text: str = "") -> tuple[list[str], dict[str, Column]]:
    return read_table(path, FileFormat.from_spec(spec(text), path), settings)


def test_txt_store_format(tmp_path):
    names, columns = sample()
    path = tmp_path / "out.csv"
    write_table(path, "txt", names, columns, ISO)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").split("\r\n") == [
        "Code,Amount,Name,Day,Note",
        '007,1.5,Ann,2024-01-05,"a, ""b"""',
        '042,-2,,2024-02-29,"two\nlines"',
        ',,,," padded "',
        '"1,000",0.001,Zoë,1999-12-31,',
        "",
    ]


def numbers(column: Column) -> list[float | None]:
    return [as_number(v, ISO) for v in column.values()]


def test_txt_round_trip_keeps_texts_and_numbers(tmp_path):
    names, columns = sample()
    path = tmp_path / "out.txt"
    write_table(path, "txt", names, columns, ISO)
    spec_text = "txt, utf8, embedded labels, delimiter is ',', msq"
    back_names, back = read_table(path, FileFormat.from_spec(spec(spec_text), path), ISO, verbatim=True)
    assert back_names == names
    for name in names:
        nulls = columns[name].nulls_mask()
        expected = np.where(nulls, "", columns[name].texts(ISO))  # NULL reads back as ''
        assert back[name].texts(ISO).tolist() == expected.tolist(), name
        assert numbers(back[name]) == numbers(columns[name]), name
    assert back["Code"].values()[0] == Dual("007", 7)
    assert back["Name"].values()[2] == ""
    assert table(path, text=spec_text)[1]["Note"].values()[2] == "padded"  # blanks go unless Verbatim


def test_txt_with_another_delimiter_and_csv_kind(tmp_path):
    names, columns = sample()
    write_table(tmp_path / "a.txt", "txt", names, columns, ISO, delimiter=";")
    back_names, back = table(tmp_path / "a.txt", text="txt, delimiter is ';', msq")
    assert back_names == names
    assert back["Code"].values()[3] == Dual("1,000", 1000)
    assert (tmp_path / "a.txt").read_bytes().decode("utf-8-sig").startswith("Code;Amount;Name;Day;Note\r\n007;1.5;")
    write_table(tmp_path / "b.csv", "csv", names, columns, ISO)
    write_table(tmp_path / "c.txt", "txt", names, columns, ISO)
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "c.txt").read_bytes()


def test_txt_shows_typed_numbers_in_their_format(tmp_path):
    columns = {"D": Column(None, np.array([45296.0, np.nan]), 2, "date")}
    write_table(tmp_path / "a.csv", "txt", ["D"], columns, US)
    assert (tmp_path / "a.csv").read_bytes().decode("utf-8-sig") == "D\r\n1/5/2024\r\n\r\n"


def test_parquet_round_trip_is_typed(tmp_path):
    names, columns = sample()
    columns["When"] = Column(None, np.array([45296.5, np.nan, 45297.25, 0.0]), 4, "timestamp")
    columns["Clock"] = Column(None, np.array([0.25, 0.5, np.nan, 0.0]), 4, "time")
    names.append("When")
    names.append("Clock")
    path = tmp_path / "out.parquet"
    write_table(path, "parquet", names, columns, ISO)
    back_names, back = table(path)
    assert back_names == names
    assert back["Code"].values() == [7.0, 42.0, None, 1000.0]  # one type per column: the number
    assert back["Amount"].values() == [1.5, -2.0, None, 0.001]
    assert back["Name"].values() == ["Ann", "", None, "Zoë"]
    assert back["Note"].values() == columns["Note"].values()
    assert back["Day"].kind == "date"
    assert back["Day"].values() == columns["Day"].values()
    assert back["When"].kind == "timestamp"
    assert back["When"].values()[:3] == [
        Dual("2024-01-05 12:00:00", 45296.5), None, Dual("2024-01-06 06:00:00", 45297.25)
    ]
    assert back["Clock"].kind == "time"
    assert back["Clock"].values() == [Dual("6:00:00 AM", 0.25), Dual("12:00:00 PM", 0.5), None, Dual("12:00:00 AM", 0)]


def test_parquet_is_snappy_by_default(tmp_path):
    import pyarrow.parquet as pq

    names, columns = sample()
    write_table(tmp_path / "a.parquet", "parquet", names, columns, ISO)
    write_table(tmp_path / "b.parquet", "parquet", names, columns, ISO, compression="gzip")
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.row_group(0).column(0).compression == "SNAPPY"
    assert pq.ParquetFile(tmp_path / "b.parquet").metadata.row_group(0).column(0).compression == "GZIP"


def test_parquet_written_elsewhere(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({
        "i": [1, 2, None], "s": ["a", None, "c"], "b": [True, False, True],
        "d": pd.to_datetime(["2024-01-05", None, "2024-01-06"]),
        "cat": pd.Categorical(["x", "y", "x"]),
        "nested": [[1], [2, 3], []],
    })
    frame.to_parquet(tmp_path / "a.parquet")
    names, back = table(tmp_path / "a.parquet", US)
    assert names == ["i", "s", "b", "d", "cat", "nested"]
    assert back["i"].values() == [1.0, 2.0, None]
    assert back["s"].values() == ["a", None, "c"]
    assert back["b"].values() == [-1.0, 0.0, -1.0]
    assert back["d"].values() == [Dual("1/5/2024 12:00:00 AM", 45296), None, Dual("1/6/2024 12:00:00 AM", 45297)]
    assert back["cat"].values() == ["x", "y", "x"]
    assert back["nested"].values() == [None, None, None]  # Qlik loads nested types as NULL


def test_qvd_round_trip_keeps_values_as_they_are(tmp_path):
    names, columns = sample()
    columns["Big"] = Column.from_values([2.0**40, Dual("3000000000", 3e9), -(2.0**31), 0.5])
    names.append("Big")
    path = tmp_path / "out.qvd"
    write_table(path, "qvd", names, columns, ISO)
    back_names, back = table(path)
    assert back_names == names
    for name in names:
        assert back[name].values() == columns[name].values(), name
    assert back["Day"].kind == "date"


def test_qvd_kinds_survive(tmp_path):
    columns = {
        "D": Column.from_duals(np.array(["05.01.2024", "06.01.2024"], dtype=object), np.array([45296, 45297]), "date"),
        "T": Column(None, np.array([45296.5, 45297.75]), 2, "timestamp"),
        "H": Column.from_duals(np.array(["6:00", "18:00"], dtype=object), np.array([0.25, 0.75]), "time"),
        "M": Column.from_duals(np.array(["$1.50", "$2.00"], dtype=object), np.array([1.5, 2.0]), "money"),
    }
    write_table(tmp_path / "k.qvd", "qvd", list(columns), columns, US)
    names, back = table(tmp_path / "k.qvd", US)
    assert {name: back[name].kind for name in names} == {"D": "date", "T": "timestamp", "H": "time", "M": "money"}
    assert back["D"].values() == [Dual("05.01.2024", 45296), Dual("06.01.2024", 45297)]  # texts kept
    assert back["T"].values() == [Dual("1/5/2024 12:00:00 PM", 45296.5), Dual("1/6/2024 6:00:00 PM", 45297.75)]


def test_qvd_one_text_per_number_like_qlik(tmp_path):
    columns = {"A": Column.from_values([Dual("007", 7), Dual("7", 7), 7.0])}
    write_table(tmp_path / "a.qvd", "qvd", ["A"], columns, US)
    assert table(tmp_path / "a.qvd")[1]["A"].values() == [Dual("007", 7)] * 3


def test_qvd_empty_and_null_tables(tmp_path):
    empty = {"A": Column.from_values([]), "B": Column.from_values([])}
    write_table(tmp_path / "e.qvd", "qvd", ["A", "B"], empty, US)
    names, back = table(tmp_path / "e.qvd")
    assert names == ["A", "B"]
    assert back["A"].values() == []
    nulls = {"A": Column.nulls(2)}
    write_table(tmp_path / "n.qvd", "qvd", ["A"], nulls, US)
    assert table(tmp_path / "n.qvd")[1]["A"].values() == [None, None]


def test_store_then_load_through_the_spec(tmp_path):
    names, columns = sample()
    for kind in ("qvd", "parquet", "txt"):
        path = tmp_path / f"t.{kind}"
        write_table(path, kind, names, columns, ISO)
        assert table(path, text=kind)[0] == names


# -- size -------------------------------------------------------------------------------------
def test_million_row_csv_reads_in_seconds(tmp_path):
    n = 1_000_000
    lines = (f"{i},{i % 977}.{i % 100:02d},customer {i % 5000},{1 + i % 12}/{1 + i % 28}/2024" for i in range(n))
    path = tmp_path / "big.csv"
    path.write_text("Id,Amount,Name,Day\n" + "\n".join(lines) + "\n", encoding="utf-8")
    start = time.perf_counter()
    names, columns = read_table(path, FileFormat.from_spec(spec("txt, utf8, embedded labels, msq"), path), US)
    elapsed = time.perf_counter() - start
    assert names == ["Id", "Amount", "Name", "Day"]
    assert len(columns["Id"]) == n
    assert columns["Id"].value(999_999) == Dual("999999", 999999)
    assert columns["Name"].value(5001) == "customer 1"
    assert columns["Day"].kind == "date"
    assert elapsed < 30  # about 3 s on a laptop; generous for CI
