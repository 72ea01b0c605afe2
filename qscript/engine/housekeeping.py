"""DROP, RENAME, STORE and QUALIFY: statements that reshape the model without loading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qscript.engine.files import FileFormat, write_table
from qscript.engine.model import Table
from qscript.errors import FieldNotFoundError, SemanticError, TableNotFoundError
from qscript.expr.values import as_text
from qscript.script import nodes as n

if TYPE_CHECKING:
    from qscript.engine.interpreter import Interpreter


def drop_tables(it: Interpreter, node: n.DropTables) -> None:
    """DROP TABLE(S): a missing table is ScriptError 10; nothing is dropped then."""
    for name in node.names:
        if name not in it.model.tables and name not in it.model.mappings:
            raise TableNotFoundError(f"Table '{name}' not found")
    for name in node.names:
        if name in it.model.tables:
            it.model.drop(name)
        else:
            del it.model.mappings[name]


def drop_fields(it: Interpreter, node: n.DropFields) -> None:
    """DROP FIELD(S) [FROM T]: without FROM, from every table that has the field.

    A table left without fields disappears, as in Qlik.
    """
    model = it.model
    tables = list(node.tables) if node.tables else list(model.tables)
    for name in node.tables:
        model.table(name)
    for field in node.names:
        holders = [t for t in tables if field in model.tables[t].fields]
        if not holders or (node.tables and len(holders) != len(tables)):
            raise FieldNotFoundError(f"Field '{field}' not found")
    for table_name in tables:
        table = model.tables[table_name]
        fields = [f for f in table.fields if f not in node.names]
        if len(fields) == len(table.fields):
            continue
        if fields:
            model.tables[table_name] = Table.build(table.name, fields, table.columns, table.length)
        else:
            model.drop(table_name)


def _pairs_from_map(it: Interpreter, mapping_name: str) -> list[tuple[str, str]]:
    mapping = it.model.mappings.get(mapping_name)
    if mapping is None:
        raise TableNotFoundError(f"Mapping table '{mapping_name}' not found")
    settings = it.vars.settings()
    keys, values = mapping.columns[mapping.fields[0]], mapping.columns[mapping.fields[1]]
    pairs = []
    for i in range(mapping.length):
        old, new = as_text(keys.value(i), settings), as_text(values.value(i), settings)
        if old is not None and new is not None:
            pairs.append((old, new))
    return pairs


def rename_fields(it: Interpreter, node: n.RenameFields) -> None:
    """RENAME FIELD a TO b: in every table; two fields may not end with one name."""
    using = node.mapping is not None
    pairs = _pairs_from_map(it, node.mapping) if using else list(node.pairs)
    renames = {}
    for old, new in pairs:
        renames.setdefault(old, new)  # the first mapping of a name wins
    model = it.model
    known = {f for t in model.tables.values() for f in t.fields}
    for old in renames:
        if old not in known and not using:
            raise FieldNotFoundError(f"Field '{old}' not found")
    for name, table in list(model.tables.items()):
        fields = [renames.get(f, f) for f in table.fields]
        if len(set(fields)) != len(fields):
            raise SemanticError(f"RENAME FIELD would give table '{name}' two fields of one name")
        columns = {renames.get(f, f): c for f, c in table.columns.items()}
        model.tables[name] = Table.build(name, fields, columns, table.length)


def rename_tables(it: Interpreter, node: n.RenameTables) -> None:
    using = node.mapping is not None
    pairs = _pairs_from_map(it, node.mapping) if using else list(node.pairs)
    model = it.model
    for old, new in pairs:
        if old not in model.tables:
            if using:
                continue
            raise TableNotFoundError(f"Table '{old}' not found")
        if new in model.tables:
            raise SemanticError(f"Table '{new}' already exists")
        tables = {}
        for name, table in model.tables.items():
            tables[new if name == old else name] = table.renamed(new) if name == old else table
        model.tables = tables
        if model.last == old:
            model.last = new


def store(it: Interpreter, node: n.Store) -> None:
    """STORE [fields FROM] T INTO file [(qvd|txt|csv|parquet)]."""
    table = it.model.table(node.table)
    fields = list(node.fields) or list(table.fields)
    for field in fields:
        if field not in table.fields:
            raise FieldNotFoundError(f"Field '{field}' not found in table '{table.name}'")
    path = it.resolve_path(node.path)
    # Without a format Qlik writes QVD, whatever the file is called (help "Store").
    spec = [list(item) for item in node.spec] or [["qvd"]]
    fmt = FileFormat.from_spec(spec, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = {f: table.columns[f] for f in fields}
    write_table(path, fmt.kind, fields, columns, it.vars.settings(), delimiter=fmt.delimiter,
                compression=fmt.compression or "snappy")
    it.log.write(f"{table.name} stored into {node.path} ({len(fields)} fields, {table.length} rows)")


def qualify(it: Interpreter, node: n.Qualify) -> None:
    for pattern in node.patterns:
        it.model.qualify.append((pattern, not node.unqualify))
