"""``qscript select``: write the load script Qlik's "Select data to load" dialog writes.

Qlik's REST connector has a wizard that reads one response, shows its tables and fields
and writes a ``SQL SELECT`` plus one RESIDENT LOAD per table. Outside Qlik there is no
wizard, and writing the nested SELECT with its ``__KEY_``/``__FK_`` fields and ``_u<n>``
aliases by hand is slow and error-prone; this module writes it from a response
(fetched with a connection, or saved in a file) following qlik-rest-connector.md §4.

Schema (what the response becomes; :func:`infer_schema`)
    Under ``wrap on`` the document is the table ``root``: an object is one record, an array
    one record per element. In a record, a scalar or null property is a field; an object
    property is a child table of one record, an array property a child table of one record
    per element. Records of a table are merged: fields and child tables come in the order
    they are first seen. A scalar element is read by the field ``@Value``; an array element
    (an array of arrays) is a record of a nested table with the same name (§4.4). A
    property that is an object or array anywhere is a table; a table with no fields and no
    non-empty child tables (``[]``, ``{}`` everywhere) is left out.

Names (§4.3)
    Counted over the whole schema in the order the SELECT is written (a table's own fields,
    then its child tables, depth first): a field name that occurred earlier is aliased
    ``"href" AS "href_u0"``, the next repetition ``href_u1`` (``@Value`` too, and
    ``ArrayValueAlias`` then names the alias). A repeated table name keeps its FROM name but
    suffixes its key fields and its loaded table: ``__KEY_links_u0``, ``__FK_links_u0``,
    ``[links_u0]``. ``--tables`` never renames anything: names come from the full schema.

Keys (§4.2)
    ``__KEY_<t>`` only for a table that has (selected) child tables; ``__FK_<t>`` on every
    non-root table; the root declares ``PK "__KEY_root"`` only when something is nested.

Layout (fixed, 4-space indentation, one field per line, blank line between statements)::

    LIB CONNECT TO 'Orders API';

    RestConnectorMasterTable:
    SQL SELECT
        "id",
        "__KEY_root",
        (SELECT
            "@Value",
            "__FK_tags"
        FROM "tags" FK "__FK_tags" ArrayValueAlias "@Value")
    FROM JSON (wrap on) "root" PK "__KEY_root";

    [tags]:
    LOAD
        [@Value],
        [__FK_tags] AS [__KEY_root]
    RESIDENT RestConnectorMasterTable
    WHERE NOT IsNull([__FK_tags]);

    [root]:
    LOAD
        [id],
        [__KEY_root]
    RESIDENT RestConnectorMasterTable
    WHERE NOT IsNull([__KEY_root]);

    DROP TABLE RestConnectorMasterTable;

A table's items are its fields, its ``__KEY_``, its ``__FK_``, then its nested SELECTs; a
nested ``FROM`` sits at its ``(SELECT``'s indentation and declares PK, FK, ArrayValueAlias
in that order. LOADs come children first (post-order), the root last; a field loads under
its alias, a FK under its parent's key name. A root without a key (nothing nested) loads
every row without WHERE and with ``NoConcatenate``: its fields are exactly the master
table's, so the LOAD would otherwise be appended to the master table and dropped with it.
With ``--url`` the SELECT ends with ``WITH CONNECTION (URL "...")`` so that the script
loads what was shown (the connection must allow WITH CONNECTION, as the script will need).

Only the first page is fetched (no paging) and only JSON is read. Connections with
encrypted headers cannot be fetched here (no decryptor); save a response and use
``--from-file``. Exit codes: 0 written, 1 failure (reason on stderr), 2 bad usage
(including a ``--tables`` name the response does not have). ``qscript.cli`` registers the
command with :func:`add_arguments` and runs it with :func:`main`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from qscript import QScriptError, ScriptError
from qscript.connectors.connections import load_connections
from qscript.connectors.rest.decode import decode_json, detect_response_type
from qscript.connectors.rest.request import build_request, with_query
from qscript.connectors.rest.transport import Transport
from qscript.redact import Redactor

#: The label the wizard gives the master table.
MASTER = "RestConnectorMasterTable"
#: The field that reads a scalar array element.
VALUE = "@Value"
ROOT = "root"
INDENT = "    "
HELP = "write the SQL SELECT and LOADs Qlik's REST wizard would write for a response"


class SelectError(QScriptError):
    """The response or the arguments cannot give a script (exit code 1)."""


class UnknownTableError(SelectError):
    """``--tables`` names a table the response does not have (exit code 2: bad usage)."""


# -- schema -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaField:
    """A field of a table: ``name`` in the response, ``output`` in the master table."""

    name: str
    output: str

    @property
    def aliased(self) -> bool:
        return self.output != self.name


@dataclass(frozen=True)
class SchemaTable:
    """A table of the response. ``label`` is ``name`` or, for a repeated name, ``name_u<n>``:
    it names the key fields and the loaded table. ``path`` is the names from the root."""

    name: str
    path: str
    label: str
    records: int
    fields: tuple[SchemaField, ...] = ()
    children: tuple[SchemaTable, ...] = ()

    @property
    def key(self) -> str:
        return f"__KEY_{self.label}"

    @property
    def fk(self) -> str:
        return f"__FK_{self.label}"

    @property
    def value_alias(self) -> str | None:
        """The output of ``@Value`` (ArrayValueAlias), or None when the table has no scalar elements."""
        return next((f.output for f in self.fields if f.name == VALUE), None)

    def walk(self) -> Iterator[SchemaTable]:
        """This table and every table under it, in schema (pre-)order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class _Draft:
    """A table before naming: names can only be numbered once empty tables are left out."""

    name: str
    records: int
    fields: list[str] = field(default_factory=list)
    children: list[_Draft] = field(default_factory=list)


def _records(value: object) -> list:
    """The records a property holds, as the connector reads them (flatten.py)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _draft(name: str, records: list) -> _Draft:
    fields: dict[str, None] = {}
    nested: dict[str, list] = {}
    for record in records:
        if isinstance(record, dict):
            for key, value in record.items():
                if isinstance(value, dict | list):
                    nested.setdefault(key, []).extend(_records(value))
                else:
                    fields.setdefault(key)
        elif isinstance(record, list):  # an array of arrays: the same-name table reads its elements
            nested.setdefault(name, []).extend(record)
        elif record is not None:
            fields.setdefault(VALUE)
    children = [_draft(key, items) for key, items in nested.items()]
    return _Draft(
        name,
        len(records),
        [key for key in fields if key not in nested],
        [child for child in children if child.fields or child.children],
    )


def _numbered(name: str, seen: Counter[str]) -> str:
    """``name`` the first time, then ``name_u0``, ``name_u1``, ... (§4.3)."""
    count = seen[name]
    seen[name] += 1
    return name if count == 0 else f"{name}_u{count - 1}"


def _named(draft: _Draft, path: str, fields_seen: Counter[str], tables_seen: Counter[str]) -> SchemaTable:
    label = _numbered(draft.name, tables_seen)
    fields = tuple(SchemaField(name, _numbered(name, fields_seen)) for name in draft.fields)
    children = tuple(
        _named(child, f"{path}/{child.name}", fields_seen, tables_seen) for child in draft.children
    )
    return SchemaTable(draft.name, path, label, draft.records, fields, children)


def infer_schema(document: object) -> SchemaTable:
    """The tables and fields of a decoded JSON document, read with ``wrap on``, named as Qlik names them."""
    return _named(_draft(ROOT, _records(document)), ROOT, Counter(), Counter())


def _matches(table: SchemaTable, wanted: str) -> bool:
    """A ``--tables`` entry: a table name, a loaded label (``links_u0``) or a path (``data/links``)."""
    return wanted in (table.name, table.label, table.path, table.path.removeprefix(f"{ROOT}/"))


def select_tables(schema: SchemaTable, wanted: Sequence[str]) -> SchemaTable:
    """Only the tables ``wanted`` and their ancestors (with their fields); names are kept."""
    unknown = [entry for entry in wanted if not any(_matches(t, entry) for t in schema.walk())]
    if unknown:
        known = ", ".join(dict.fromkeys(t.label for t in schema.walk()))
        raise UnknownTableError(f"--tables: no table {', '.join(map(repr, unknown))} in the response "
                                f"(tables: {known}; a path such as data/links also works)")

    def keep(table: SchemaTable) -> SchemaTable | None:
        children = tuple(kept for kept in map(keep, table.children) if kept is not None)
        if children or table is schema or any(_matches(table, entry) for entry in wanted):
            return replace(table, children=children)
        return None

    return keep(schema) or schema


# -- the script -------------------------------------------------------------------------------


def _quoted(name: str) -> str:
    """A name in the SELECT: double quotes, ``""`` for a quote."""
    return '"' + name.replace('"', '""') + '"'


def _field_name(name: str) -> str:
    """A name in a LOAD: ``[name]``, or ``"name"`` when it holds a ``]`` (brackets cannot escape one)."""
    return f"[{name}]" if "]" not in name else _quoted(name)


def _keys(table: SchemaTable, is_root: bool) -> str:
    """The key declarations after a FROM: PK, FK, ArrayValueAlias, in the wizard's order."""
    parts = []
    if table.children:
        parts.append(f" PK {_quoted(table.key)}")
    if not is_root:
        parts.append(f" FK {_quoted(table.fk)}")
    if table.value_alias is not None:
        parts.append(f" ArrayValueAlias {_quoted(table.value_alias)}")
    return "".join(parts)


def _with_commas(items: list[list[str]]) -> list[str]:
    """Items of one or more lines each, separated by a comma after each item's last line."""
    lines: list[str] = []
    for i, item in enumerate(items):
        lines += [*item[:-1], item[-1] + ("," if i < len(items) - 1 else "")]
    return lines


def _select_items(table: SchemaTable, is_root: bool, depth: int) -> list[str]:
    pad = INDENT * depth
    items = [[pad + _quoted(f.name) + (f" AS {_quoted(f.output)}" if f.aliased else "")] for f in table.fields]
    if table.children:
        items.append([pad + _quoted(table.key)])
    if not is_root:
        items.append([pad + _quoted(table.fk)])
    for child in table.children:
        items.append([
            pad + "(SELECT",
            *_select_items(child, False, depth + 1),
            pad + f"FROM {_quoted(child.name)}{_keys(child, False)})",
        ])
    return _with_commas(items)


def _post_order(
    table: SchemaTable, parent: SchemaTable | None = None
) -> Iterator[tuple[SchemaTable, SchemaTable | None]]:
    """Every table with its parent, children first: the order the wizard writes the LOADs."""
    for child in table.children:
        yield from _post_order(child, table)
    yield table, parent


def _load(table: SchemaTable, parent: SchemaTable | None) -> list[str]:
    names = [_field_name(f.output) for f in table.fields]
    if table.children:
        names.append(_field_name(table.key))
    if parent is not None:
        names.append(f"{_field_name(table.fk)} AS {_field_name(parent.key)}")
    fields = _with_commas([[INDENT + name] for name in names])
    marker = table.fk if parent is not None else table.key if table.children else None
    if marker is None:  # a flat root: its fields are the master table's, which it would concatenate onto
        return [f"{_field_name(table.label)}:", "NoConcatenate", "LOAD", *fields, f"RESIDENT {MASTER};"]
    return [f"{_field_name(table.label)}:", "LOAD", *fields, f"RESIDENT {MASTER}",
            f"WHERE NOT IsNull({_field_name(marker)});"]


def generate_script(schema: SchemaTable, connection: str, url: str | None = None) -> str:
    """The whole script for ``schema`` (see the module docstring for the layout)."""
    if not schema.fields and not schema.children:
        raise SelectError("the response has nothing to select: no fields and no nested tables")
    source = f"FROM JSON (wrap on) {_quoted(ROOT)}{_keys(schema, True)}"
    tail = [source + ";"] if url is None else [source, f"WITH CONNECTION (URL {_quoted(url)});"]
    lines = [
        "LIB CONNECT TO '" + connection.replace("'", "''") + "';",
        "",
        f"{MASTER}:",
        "SQL SELECT",
        *_select_items(schema, True, 1),
        *tail,
    ]
    for table, parent in _post_order(schema):
        lines += ["", *_load(table, parent)]
    lines += ["", f"DROP TABLE {MASTER};"]
    return "\n".join(lines) + "\n"


def tree_lines(schema: SchemaTable, selected: SchemaTable | None = None) -> list[str]:
    """The tables (``name/``, record count) and fields of a schema, indented as they nest.

    Tables left out of ``selected`` are marked, so the tree also shows what ``--tables`` can pick.
    """
    chosen = {t.path for t in (selected or schema).walk()}
    lines: list[str] = []

    def show(table: SchemaTable, depth: int) -> None:
        pad = INDENT * depth
        count = f"{table.records} record" + ("" if table.records == 1 else "s")
        where = f"  ({table.path.removeprefix(f'{ROOT}/')})" if table.label != table.name else ""
        skipped = "  [not selected]" if table.path not in chosen else ""
        lines.append(f"{pad}{table.label}/  {count}{where}{skipped}")
        lines.extend(f"{pad}{INDENT}{f.name}" + (f" AS {f.output}" if f.aliased else "") for f in table.fields)
        for child in table.children:
            show(child, depth + 1)

    show(schema, 0)
    return lines


# -- fetching ---------------------------------------------------------------------------------


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def fetch(connection: str, connections_file: Path | None, url: str | None) -> bytes:
    """One response body from ``connection`` (first page only), as a SELECT would request it.

    ``url`` replaces the connection URL as ``WITH CONNECTION (URL ...)`` does: only when the
    connection allows it, keeping the connection's query parameters only with
    ``add_missing_query_params``, and with the connection's trusted origin unchanged.
    """
    config = load_connections(connections_file).get(connection)
    name = config.name
    redact = Redactor(config.secrets())
    encrypted = [h.name for h in config.headers if h.encrypt]
    if encrypted:
        raise SelectError(f"connection '{name}': encrypted headers ({', '.join(encrypted)}) cannot be sent by "
                          "qscript select; save a response and pass --from-file")
    request = build_request(config, None, name)
    if url is not None:
        if not config.allow_with_connection:
            raise SelectError(f"connection '{name}': --url needs allow_with_connection = true (the script "
                              "loads it with WITH CONNECTION (URL ...))")
        if config.add_missing_query_params:
            url = with_query(url, list(config.query.items()), only_missing=True)
        request = replace(request, url=url)
    transport = Transport(config, name, redact, log=lambda line: _stderr(redact(line)))
    try:
        _stderr(f"{request.method} {redact.url(request.url)}")
        response = transport.send(request)
    except ScriptError as error:
        raise SelectError(redact(error.message)) from None
    finally:
        transport.close()
    if not response.ok:
        excerpt = response.body[:200].decode("utf-8", errors="replace").strip()
        raise SelectError(redact(f"connection '{name}': HTTP {response.status} {response.reason}: {excerpt!r}"))
    kind = detect_response_type(response.header("Content-Type"), response.body, config.response_type,
                                config.auto_detect_response_type)
    if kind != "json":
        raise SelectError(f"connection '{name}': the response is {kind.upper()}; qscript select reads JSON only")
    return response.body


def read_response(path: Path) -> bytes:
    """A saved response body; JSON only, like :func:`fetch`."""
    try:
        body = path.read_bytes()
    except OSError as error:
        raise SelectError(f"cannot read {path}: {error.strerror or error}") from None
    kind = detect_response_type(None, body, "json", True)
    if kind != "json":
        raise SelectError(f"{path}: the file holds {kind.upper()}; qscript select reads JSON only")
    return body


# -- the command ------------------------------------------------------------------------------


def _table_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected table names separated by commas")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``qscript select`` (the parser is the ``select`` sub-command's)."""
    parser.description = ("Fetch one response with a connection (or read a saved one), show its tables and "
                          "fields on stderr and write the script Qlik's 'Select data to load' wizard writes.")
    parser.add_argument("connection", metavar="CONN", help="the connection name, as LIB CONNECT TO writes it")
    parser.add_argument("--url", help="request this URL instead of the connection's; the script gets "
                                      "WITH CONNECTION (URL ...), so the connection must allow it")
    parser.add_argument("--from-file", type=Path, metavar="FILE",
                        help="read a saved JSON response instead of sending a request")
    parser.add_argument("--tables", type=_table_list, metavar="A,B",
                        help="select only these tables (names, loaded names such as links_u0, or paths "
                             "such as data/links); their ancestors are kept")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the script here instead of stdout")
    parser.add_argument("--connections", type=Path, metavar="FILE",
                        help="connection definitions (default: $QSCRIPT_CONNECTIONS, then ./connections.toml)")


def main(args: argparse.Namespace) -> int:
    """Run ``qscript select`` with parsed arguments; returns the exit code."""
    try:
        body = read_response(args.from_file) if args.from_file else fetch(args.connection, args.connections, args.url)
        schema = infer_schema(decode_json(body))
        try:
            selected = select_tables(schema, args.tables) if args.tables else schema
        except UnknownTableError:
            for line in tree_lines(schema):
                _stderr(line)
            raise
        for line in tree_lines(schema, selected):
            _stderr(line)
        script = generate_script(selected, args.connection, args.url)
    except QScriptError as error:
        _stderr(f"qscript: {error.message if isinstance(error, ScriptError) else error}")
        return 2 if isinstance(error, UnknownTableError) else 1
    if args.out is None:
        sys.stdout.write(script)
        sys.stdout.flush()
        return 0
    try:
        args.out.write_text(script, encoding="utf-8")
    except OSError as error:
        _stderr(f"qscript: cannot write {args.out}: {error.strerror or error}")
        return 1
    _stderr(f"script written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """`python -m qscript.wizard CONN ...`: the command without qscript.cli."""
    parser = argparse.ArgumentParser(prog="qscript select")
    add_arguments(parser)
    return parser


if __name__ == "__main__":
    sys.exit(main(build_parser().parse_args()))
