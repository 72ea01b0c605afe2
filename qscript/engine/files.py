"""Table files: LOAD ... FROM file (format spec) and STORE ... INTO file.

`FileFormat.from_spec` reads a Qlik format specification, `read_table` loads a file into
named Columns and `write_table` stores Columns. Delimited text goes through pandas' C
parser (every cell as text, then Qlik's number interpretation, see
:mod:`qscript.expr.interpret`), Parquet through pyarrow, QVD through pyqvd
(:mod:`qscript.engine.files_qvd`).

Defaults and decisions (Qlik help "Format specification items"; documented for users):

* File type: from the spec, else from the extension (.qvd, .parquet, .csv/.txt/.tab and
  anything unknown are txt, as Qlik assumes txt when nothing is specified).
* Labels: ``embedded labels`` unless ``no labels`` (fields @1, @2, ...); ``explicit
  labels`` (meant for DIF files) reads the first record as labels too. An empty label
  becomes @n; duplicate labels are a wrong-format error.
* Delimiter: ',' (Qlik's documented default), but a tab for .tab/.tsv files.
  ``delimiter is '\\t'`` / ``'\\t'`` / ``tab`` is a tab, ``'\\\\'`` a backslash and
  ``spaces`` any run of blanks; longer delimiters are taken literally.
* Character set: ``utf8``, ``unicode`` (UTF-16, little-endian without a BOM), ``ansi``
  (Windows-1252), ``oem`` (code page 437), ``mac`` (10000) or ``codepage is N``. Without
  one, a byte-order mark decides, else Windows-1252, as Qlik assumes under Windows; the
  five bytes 1252 leaves undefined read as the same code points. A file that does not
  decode in the character set asked for is a wrong-format error.
* Quotes: ``msq`` reads "..." with "" for a quote, across lines. ``no quotes`` takes
  quotes literally. Standard quoting (the default) reads "..." the same way and also
  removes a '...' pair around a whole value; unlike Qlik it does not reject line breaks
  inside "..." and a delimiter inside '...' still splits.
* Blanks (ASCII 32) around values and labels are removed unless ``verbatim`` (Qlik's
  Verbatim variable), quoted or not (Qlik's help says all field values). Empty cells are '' (text), never NULL;
  missing trailing cells of a short row are '' too; blank lines are skipped.
* ``header is n lines`` skips n lines, ``header is n`` n bytes, before labels;
  ``comment is x`` drops lines starting with x. ``no eof``, ``table is``, ``record is``,
  ``URL is`` and ``userAgent is`` are accepted and ignored for the formats read here.
* STORE as txt/csv: UTF-8 with a BOM, ',' unless another delimiter is given, a label row,
  CRLF line ends, each value's text (dates in DateFormat and so on), quoted with "..."
  only when it holds the delimiter, a quote, a line break or a leading/trailing blank.
  NULL is written as an empty cell, so it reads back as '' (text files cannot tell them
  apart).
* STORE as Parquet: typed columns via :func:`qscript.engine.frames.to_frame`, snappy by
  default. Dates are date32, timestamps timestamp[ms], times of day time32[ms] and
  intervals durations, so each reads back with its kind.
  A dual keeps its number only ('007' reads back as 7): a Parquet column has one type.
* LOAD from Parquet: numbers, text and NULL as they are; dates, timestamps and durations
  become duals showing DateFormat/TimestampFormat/TimeFormat; nested types load as NULL
  (as in Qlik).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from qscript.engine.files_qvd import display_texts, kind_texts, read_qvd, write_qvd
from qscript.engine.frames import from_series, to_frame
from qscript.errors import (
    ScriptFileNotFoundError,
    ScriptSyntaxError,
    UnsupportedStatementError,
    WrongFormatError,
)
from qscript.expr.column import Column
from qscript.expr.formats import FormatSettings
from qscript.expr.interpret import interpret_texts, strip_blanks

#: ``delimiter is spaces``: any run of blanks separates values.
SPACES = "spaces"

#: File types Qlik knows; only txt, qvd and parquet are read and written here.
KINDS = frozenset({"txt", "qvd", "parquet", "fix", "dif", "biff", "ooxml", "html", "xml", "kml", "qvx", "json"})
_EXTENSIONS = {
    ".qvd": "qvd",
    ".parquet": "parquet",
    ".xlsx": "ooxml",
    ".xlsm": "ooxml",
    ".xls": "biff",
    ".json": "json",
    ".xml": "xml",
    ".html": "html",
    ".htm": "html",
    ".qvx": "qvx",
    ".dif": "dif",
    ".kml": "kml",
}
_CHARSETS = {"utf8": "utf-8", "unicode": "utf-16", "ansi": "cp1252", "oem": "cp437", "mac": "mac_roman"}
_CODEPAGES = {
    "65001": "utf-8",
    "1200": "utf-16",
    "1201": "utf-16-be",
    "10000": "mac_roman",
    "20127": "ascii",
    "12000": "utf-32-le",
    "12001": "utf-32-be",
}
_COMPRESSIONS = frozenset({"snappy", "gzip", "lz4", "brotli", "zstd", "none", "uncompressed"})
_UNIX_EPOCH_SERIAL = 25569  # 1970-01-01 as a Qlik serial day
_IGNORED = frozenset({"table", "record", "url", "useragent"})


def _latin1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Windows maps the bytes Windows-1252 leaves undefined to the same code points."""
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("qscript-latin1", _latin1_fallback)


@dataclass(frozen=True)
class FileFormat:
    """A parsed format specification, with Qlik's defaults filled in."""

    kind: str = "txt"
    labels: str = "embedded"  # 'embedded' | 'explicit' | 'none'
    delimiter: str = ","  # one or more characters, or SPACES
    quotes: str = "standard"  # 'standard' | 'msq' | 'none'
    encoding: str | None = None  # Python codec; None: byte-order mark, else Windows-1252
    header_lines: int = 0
    header_bytes: int = 0
    comment: str | None = None
    compression: str = "snappy"

    @classmethod
    def from_spec(cls, items: list[list[str]], path: Path) -> FileFormat:
        """Read the items of ``(txt, utf8, embedded labels, delimiter is ',', msq)``.

        Each item is its words; literals keep their quotes ("','"). Keywords are matched
        case-insensitively; an unknown item raises ScriptSyntaxError naming it.
        """
        kind = None
        suffix = Path(path).suffix.lower()
        values: dict[str, object] = {"delimiter": "\t" if suffix in (".tab", ".tsv") else ","}
        for item in items:
            words = [w for part in item for w in ([part] if _is_literal(part) else part.split())]
            keys = [w.lower() for w in words]
            name = " ".join(item)
            if len(keys) == 1 and keys[0] in KINDS | {"csv"}:
                found = "txt" if keys[0] == "csv" else keys[0]
                if kind is not None and kind != found:
                    raise ScriptSyntaxError(f"two file types in the format specification: {kind} and {found}")
                kind = found
            elif "".join(keys).replace("-", "") in _CHARSETS:
                values["encoding"] = _CHARSETS["".join(keys).replace("-", "")]
            elif keys[:2] == ["codepage", "is"] and len(keys) == 3:
                values["encoding"] = _codepage(_unquote(words[2]), name)
            elif len(keys) == 2 and keys[1] == "labels" and keys[0] in ("embedded", "explicit", "no"):
                values["labels"] = "none" if keys[0] == "no" else keys[0]
            elif keys[:2] == ["delimiter", "is"] and len(keys) == 3:
                values["delimiter"] = _delimiter(_unquote(words[2]), name)
            elif keys == ["msq"]:
                values["quotes"] = "msq"
            elif keys == ["no", "quotes"]:
                values["quotes"] = "none"
            elif keys[:2] == ["header", "is"] and len(keys) in (3, 4):
                values.update(_header(keys[2:], name))
            elif keys[:2] == ["comment", "is"] and len(keys) == 3:
                values["comment"] = _unquote(words[2])
            elif keys[:2] == ["compression", "is"] and len(keys) == 3 and keys[2] in _COMPRESSIONS:
                values["compression"] = keys[2]
            elif keys == ["no", "eof"] or (len(keys) >= 3 and keys[0] in _IGNORED and keys[1] == "is"):
                continue
            else:
                raise ScriptSyntaxError(f"unknown file format specification item: {name}")
        return cls(kind=kind or _EXTENSIONS.get(suffix, "txt"), **values)  # type: ignore[arg-type]


def _is_literal(word: str) -> bool:
    return len(word) >= 2 and word[0] in "'\"`[" and word[-1] in "'\"`]"


def _unquote(word: str) -> str:
    """The text of a literal: '...', "..." or `...` (doubled quotes inside), or [...]."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"`":
        return word[1:-1].replace(word[0] * 2, word[0])
    if len(word) >= 2 and word[0] == "[" and word[-1] == "]":
        return word[1:-1]
    return word


def _delimiter(text: str, item: str) -> str:
    lowered = text.lower()
    if lowered in ("\\t", "tab"):
        return "\t"
    if lowered == "spaces":
        return SPACES
    if text == "\\\\":
        return "\\"
    if not text:
        raise ScriptSyntaxError(f"empty delimiter in format specification item: {item}")
    return text


def _codepage(text: str, item: str) -> str:
    """The Python codec for a Windows code page number."""
    if text in _CODEPAGES:
        return _CODEPAGES[text]
    if text.isdigit():
        number = int(text)
        name = f"iso8859_{number - 28590}" if 28591 <= number <= 28605 else f"cp{number}"
        try:
            return codecs.lookup(name).name
        except LookupError:
            pass
    raise ScriptSyntaxError(f"unknown code page in format specification item: {item}")


def _header(rest: list[str], item: str) -> dict[str, int]:
    """``header is n`` (bytes), ``header is line``, ``header is n line[s]``."""
    if rest == ["line"]:
        return {"header_lines": 1}
    if not rest[0].isdigit() or (len(rest) == 2 and rest[1] not in ("line", "lines")):
        raise ScriptSyntaxError(f"bad header size in format specification item: {item}")
    return {"header_lines" if len(rest) == 2 else "header_bytes": int(rest[0])}


# -- reading ---------------------------------------------------------------------------------
def read_table(
    path: Path, fmt: FileFormat, settings: FormatSettings, *, verbatim: bool = False
) -> tuple[list[str], dict[str, Column]]:
    """Load a table file: field names in order and one Column per field.

    A missing file raises ScriptFileNotFoundError (ScriptError 8), one that cannot be
    decoded or parsed WrongFormatError (12). ``verbatim`` keeps blanks around text values.
    """
    path = Path(path)
    if not path.is_file():
        raise ScriptFileNotFoundError(f"Cannot open file: '{path}'")
    if fmt.kind == "txt":
        return _read_text(path, fmt, settings, verbatim)
    if fmt.kind == "parquet":
        return _read_parquet(path, settings)
    if fmt.kind == "qvd":
        return read_qvd(path)
    raise UnsupportedStatementError(f"loading {fmt.kind} files is not supported: '{path}'")


def _decode(raw: bytes, encoding: str | None, path: Path) -> str:
    """The file's text; a byte-order mark wins when no character set is given."""
    if encoding is None:
        if raw.startswith(codecs.BOM_UTF8):
            encoding = "utf-8"
        elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            return raw.decode("cp1252", errors="qscript-latin1")
    if encoding in ("utf-8", "utf_8"):
        encoding = "utf-8-sig"
    elif encoding in ("utf-16", "utf_16") and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16-le"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise WrongFormatError(f"'{path}' is not valid {encoding} text ({exc.reason} at byte {exc.start})") from exc


def _skip_lines(text: str, count: int) -> str:
    start = 0
    for _ in range(count):
        nl = text.find("\n", start)
        if nl < 0:
            return ""
        start = nl + 1
    return text[start:]


def _read_text(path: Path, fmt: FileFormat, settings: FormatSettings, verbatim: bool) -> tuple[list[str], dict]:
    """Delimited text: decoded and trimmed here, split by pandas' C parser as text only
    (so '007' and '' survive), then interpreted column by column."""
    raw = path.read_bytes()[fmt.header_bytes :]
    text = _skip_lines(_decode(raw, fmt.encoding, path), fmt.header_lines)
    if fmt.comment:
        text = "\n".join(line for line in text.split("\n") if not line.startswith(fmt.comment))
    if not text.strip():
        return [], {}
    options: dict = {
        "header": None,
        "dtype": object,
        "keep_default_na": False,
        "na_filter": False,
        "skipinitialspace": not verbatim,
        "quoting": csv.QUOTE_NONE if fmt.quotes == "none" else csv.QUOTE_MINIMAL,
        "quotechar": '"',
        "doublequote": True,
        "engine": "c",
    }
    if fmt.delimiter == SPACES:
        options["sep"] = r"\s+"
    elif len(fmt.delimiter) == 1:
        options["sep"] = fmt.delimiter
    else:
        options.update(sep=re.escape(fmt.delimiter), engine="python")
    try:
        frame = pd.read_csv(io.StringIO(text), **options)
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise WrongFormatError(f"'{path}' is not a readable delimited text file: {exc}") from exc
    strip = not verbatim and _has_padding(text, fmt.delimiter)
    cells = [_clean(frame[c].to_numpy(dtype=object), fmt, strip) for c in frame.columns]
    if fmt.labels == "none":
        names = [f"@{i}" for i in range(1, len(cells) + 1)]
    else:
        names = [str(label) if label else f"@{i}" for i, label in enumerate((c[0] for c in cells), start=1)]
        cells = [c[1:] for c in cells]
    _check_unique(names, path)
    return names, {name: interpret_texts(values, settings) for name, values in zip(names, cells, strict=True)}


def _has_padding(text: str, delimiter: str) -> bool:
    """Whether any value may carry blanks that pandas left (it drops those after a delimiter).

    A few substring searches over the text spare a pass over every cell of every column
    in the common case of a file without padding.
    """
    if text.startswith(" ") or text.endswith(" "):
        return True
    return any(p in text for p in (f" {delimiter}", " \n", " \r", "\n ", '" ', ' "', "' ", " '"))


def _clean(values: np.ndarray, fmt: FileFormat, strip: bool) -> np.ndarray:
    """Blanks stripped (unless verbatim) and, with standard quoting, '...' pairs removed."""
    if strip:
        values = strip_blanks(values)
    if fmt.quotes == "standard" and len(values):
        quoted = np.flatnonzero(values.astype("U1") == "'")
        hits = [i for i in quoted.tolist() if len(values[i]) >= 2 and values[i][-1] == "'"]
        if hits:
            values = values.copy()
            for i in hits:
                values[i] = values[i][1:-1]
    return values


def _check_unique(names: list[str], path: Path) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise WrongFormatError(f"field names must be unique within a table: '{name}' appears twice in '{path}'")
        seen.add(name)


def _read_parquet(path: Path, settings: FormatSettings) -> tuple[list[str], dict[str, Column]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise WrongFormatError(f"'{path}' is not a readable Parquet file: {exc}") from exc
    names = list(table.column_names)
    _check_unique(names, path)
    return names, {name: _arrow_column(table.column(i), settings) for i, name in enumerate(names)}


def _arrow_column(data, settings: FormatSettings) -> Column:  # data: pyarrow.ChunkedArray
    """A Column for one Parquet column; typed dates and durations become duals by kind."""
    import pyarrow as pa

    typ = data.type
    if pa.types.is_dictionary(typ):
        data, typ = data.cast(typ.value_type), typ.value_type
    if pa.types.is_nested(typ):
        return Column.nulls(len(data))
    if pa.types.is_decimal(typ):
        data = data.cast(pa.float64())
    if pa.types.is_duration(typ) or pa.types.is_time(typ):
        if pa.types.is_duration(typ):
            kind, ms = "interval", data.cast(pa.duration("ms")).cast(pa.int64())
        else:
            kind, ms = "time", data.cast(pa.time32("ms")).cast(pa.int32())
        return _typed(ms.cast(pa.float64()).to_numpy(zero_copy_only=False) / 86_400_000, kind, settings)
    if pa.types.is_date(typ):
        column = from_series(data.to_pandas(date_as_object=False))
        return _typed(column.raw_num(), "date", settings)
    column = from_series(data.to_pandas())
    if column.kind == "timestamp":
        return _typed(column.raw_num(), "timestamp", settings)
    return column


def _typed(num: np.ndarray, kind: str, settings: FormatSettings) -> Column:
    """Numbers of a kind as duals showing the script's format, as Qlik shows them."""
    texts = kind_texts(num, kind, settings)
    return Column.from_duals(texts, num, kind)


# -- writing ---------------------------------------------------------------------------------
def write_table(
    path: Path,
    kind: str,
    names: list[str],
    columns: dict[str, Column],
    settings: FormatSettings,
    *,
    delimiter: str = ",",
    compression: str = "snappy",
) -> None:
    """STORE a table as 'txt'/'csv', 'parquet' or 'qvd' (see the module docstring)."""
    path = Path(path)
    if kind in ("txt", "csv"):
        _write_text(path, names, columns, settings, " " if delimiter == SPACES else delimiter)
    elif kind == "parquet":
        _write_parquet(path, names, columns, settings, compression)
    elif kind == "qvd":
        write_qvd(path, names, columns, settings)
    else:
        raise UnsupportedStatementError(f"storing {kind} files is not supported: '{path}'")


def _write_text(path: Path, names: list[str], columns: dict, settings: FormatSettings, delimiter: str) -> None:
    specials = re.compile("|".join([re.escape(delimiter), '"', "\r", "\n", "^ ", " $"]))
    needs_quotes = specials.search

    def cell(value: str | None) -> str:
        if value is None:
            return ""
        return f'"{value.replace(chr(34), chr(34) * 2)}"' if needs_quotes(value) else value

    fields = [[cell(v) for v in display_texts(columns[name], settings).tolist()] for name in names]
    lines = [delimiter.join(cell(name) for name in names)]
    lines.extend(map(delimiter.join, zip(*fields, strict=True)))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


def _write_parquet(path: Path, names: list[str], columns: dict, settings: FormatSettings, compression: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(to_frame(names, columns, settings), preserve_index=False)
    for i, name in enumerate(names):
        typed = _arrow_kind(columns[name], table.schema.field(i).type)
        if typed is not None:
            table = table.set_column(i, name, typed)
    pq.write_table(table, path, compression=None if compression in ("none", "uncompressed") else compression)


def _arrow_kind(column: Column, typ):  # -> pyarrow.Array | None
    """Dates as date32 and times of day as time32, so they read back with their kind.

    `to_frame` gives datetime64/timedelta64 columns, which Parquet would keep as timestamps
    and durations (read back as timestamps and intervals).
    """
    import pyarrow as pa

    num = column.raw_num()
    nulls = np.isnan(num)
    if column.kind == "date" and pa.types.is_timestamp(typ) and bool(np.all(nulls | (num == np.floor(num)))):
        days = np.where(nulls, 0, num - _UNIX_EPOCH_SERIAL).astype(np.int32)  # date32 counts from 1970
        return pa.array(days, type=pa.date32(), mask=nulls)
    if column.kind == "time" and pa.types.is_duration(typ) and bool(np.all(nulls | ((num >= 0) & (num < 1)))):
        ms = np.round(np.where(nulls, 0, num) * 86_400_000).astype(np.int32)
        return pa.array(ms, type=pa.time32("ms"), mask=nulls)
    return None
