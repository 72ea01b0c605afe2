"""Decoding a REST response body: which format it is, and JSON and CSV parsing.

Every body that cannot be decoded raises :class:`WrongFormatError` (ScriptError 12, as Qlik's
REST connector does) with a short reason; the caller adds the connection, URL and a body
excerpt, so nothing here quotes the whole body.

Response type (``detect_response_type``): when the connection auto-detects, the
``Content-Type`` header decides first, then the first significant byte of the body (after a
byte-order mark and whitespace: ``{``/``[`` is JSON, ``<`` is XML), and only then the
configured type. A connection that does not auto-detect always gets its configured type.

CSV (``decode_csv``): the SELECT's ``delimiter`` and ``quote`` are taken as the script
writes them, so the two characters ``\\n`` mean a newline and ``\\t`` a tab.

* ``delimiter "\\n"`` reads one row per line with the whole line in ``col_1``; blank lines
  are kept as rows holding ``""`` (a script text loaded line by line keeps its blank lines).
* A quote equal to the delimiter, a newline quote or an empty quote disables quoting.
* ``header off`` names the columns ``col_1``, ``col_2``, ... up to the widest row;
  ``header on`` takes names from the first row, and a blank or missing name is ``col_<n>``.
* Otherwise blank lines are skipped. Cells are text; short rows are padded by the caller
  (a missing cell is NULL).
"""

from __future__ import annotations

import csv
import gc
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

from qscript.errors import WrongFormatError

try:  # orjson parses JSON several times faster than the standard library
    import orjson

    _orjson_loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _orjson_loads = None

RESPONSE_TYPES = ("json", "xml", "csv")

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_BLANK = b" \t\r\n"
#: Longest reason a decoding error quotes from the parser.
_REASON_LIMIT = 160

_JSON_TYPES = frozenset({"application/json", "text/json", "application/x-json"})
_XML_TYPES = frozenset({"application/xml", "text/xml"})
_CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})


def detect_response_type(content_type: str | None, body: bytes, configured: str, auto_detect: bool) -> str:
    """``'json'``, ``'xml'`` or ``'csv'`` for a response.

    ``configured`` is the connection's response type; a value outside the three (such as
    ``'auto'``) falls back to ``'json'`` when nothing else decides.
    """
    fallback = configured.lower() if configured and configured.lower() in RESPONSE_TYPES else "json"
    if not auto_detect:
        return fallback
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _JSON_TYPES or media.endswith("+json"):
        return "json"
    if media in _XML_TYPES or media.endswith("+xml"):
        return "xml"
    if media in _CSV_TYPES:
        return "csv"
    first = _first_significant_byte(body)
    if first in (b"{", b"["):
        return "json"
    if first == b"<":
        return "xml"
    return fallback


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a parser builds a large acyclic tree.

    Parsing creates millions of dicts and lists; each few hundred allocations trigger a
    collection that walks every live object, which makes a 15 MB JSON body parse 2-3x
    slower. The documents are acyclic, so nothing is lost by collecting afterwards; the
    collector's previous state is restored.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _first_significant_byte(body: bytes) -> bytes:
    """The first byte after a UTF-8 byte-order mark and whitespace (b'' when there is none)."""
    i = 3 if body.startswith(_UTF8_BOM) else 0
    n = len(body)
    while i < n and body[i] in _BLANK:
        i += 1
    return body[i : i + 1]


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 3] + "..."


def decode_json(body: bytes) -> object:
    """The parsed document: dicts, lists, str, int/float, bool and None."""
    if body.startswith(_UTF8_BOM):
        body = body[3:]
    elif body.startswith(_UTF16_BOMS):  # orjson reads UTF-8 only
        try:
            body = body.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise WrongFormatError(f"the response is not valid JSON: {_reason(exc)}") from None
    if not body.strip(_BLANK):
        raise WrongFormatError("the response is not valid JSON: the body is empty")
    try:
        with gc_paused():
            if _orjson_loads is not None:
                return _orjson_loads(body)
            return json.loads(body)  # pragma: no cover
    except ValueError as exc:  # orjson.JSONDecodeError, json.JSONDecodeError, UnicodeDecodeError
        raise WrongFormatError(f"the response is not valid JSON: {_reason(exc)}") from None


def _unescape(value: str) -> str:
    """The script spellings ``\\n`` and ``\\t`` as the characters they name."""
    return value.replace("\\n", "\n").replace("\\t", "\t")


def decode_csv(
    body: bytes, header: bool, delimiter: str, quote: str, encoding: str = "utf-8"
) -> tuple[list[str], list[list[str]]]:
    """Column names and rows of text cells (rows may be shorter than the names)."""
    delimiter = _unescape(delimiter)
    quote = _unescape(quote)
    if len(delimiter) != 1:
        raise WrongFormatError(f"the CSV delimiter must be one character, not {delimiter!r}")
    if len(quote) > 1:
        raise WrongFormatError(f"the CSV quote must be one character, not {quote!r}")
    quoting = bool(quote) and quote != delimiter and quote not in "\r\n"
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # strips a byte-order mark
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise WrongFormatError(f"the response is not valid CSV: {_reason(exc)}") from None
    if delimiter == "\n":
        rows = _lines(text) if not quoting else _csv_rows(text, delimiter, quote, keep_blank=True)
    else:
        rows = _csv_rows(text, delimiter, quote if quoting else None, keep_blank=False)
    if header and rows:
        first = rows.pop(0)
        names = [name if name.strip() else f"col_{i}" for i, name in enumerate(first, 1)]
    else:
        names = []
    width = max((len(row) for row in rows), default=0)
    names.extend(f"col_{i}" for i in range(len(names) + 1, width + 1))
    return names, rows


def _lines(text: str) -> list[list[str]]:
    """One single-cell row per line (LF or CRLF); a final line break ends the last row."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [[line[:-1] if line.endswith("\r") else line] for line in lines]


def _csv_rows(text: str, delimiter: str, quote: str | None, *, keep_blank: bool) -> list[list[str]]:
    options: dict = {"delimiter": delimiter, "strict": False}
    if quote is None:
        options["quoting"] = csv.QUOTE_NONE
    else:
        options["quotechar"] = quote
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), **options))
    except csv.Error as exc:
        raise WrongFormatError(f"the response is not valid CSV: {_reason(exc)}") from None
    if keep_blank:
        return [row or [""] for row in rows]
    return [row for row in rows if row]
