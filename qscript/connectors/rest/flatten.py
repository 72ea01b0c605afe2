"""The REST connector's master table: a decoded document flattened along a SELECT tree.

qlik-rest-connector.md §4-§7 is the contract; the decisions it leaves open are made here.

Tables and records
    ``wrap on``: the document is the root table (a root object is 1 record, a root array one
    record per element). ``wrap off``: the root SELECT names a top-level property of the
    document and that property is the table (object -> 1 record, array -> N records; for a
    root array, the property of every element is gathered; a missing property -> 0 rows).
    A nested SELECT ``FROM "t"`` reads property ``t`` of each record of its parent table:
    an object is one record, an array one record per element, null or missing none.
    A scalar array element is a record whose value is read by the fields ``@Value``,
    ``@Content`` and the table's ``ArrayValueAlias``. When a record is itself an array (an
    array of arrays), a nested SELECT with the same name as its table reads that array's
    elements (``values: [["h1","h2"],["a","b"]]``, §4.4).

One master table
    Every selected table's records are rows of one table. A row fills only its own table's
    selected fields plus its key fields; every other field is NULL. A selected field that a
    record lacks is NULL; properties that are not selected are ignored. Two tables that output
    the same field name share that column (their rows never overlap).

Field order
    Pre-order over the SELECT as written: a table's own fields in written order (key fields
    where they are listed), then each nested SELECT's fields, depth first, in written order.
    A name that occurs again keeps its first position.

Row order
    Post-order in document order: each record's row comes right after the rows of everything
    nested under it; nested tables are visited in the order the SELECT lists them, and the
    records of one table in document order. The §4.1 example gives tags, data, next, links,
    root. A table's records are therefore adjacent and in document order within each parent.

Values
    JSON strings (and all XML and CSV values) are text, numbers are numbers, ``true`` and
    ``false`` are the text ``True``/``False``, null is NULL, and an object or array selected
    as a plain field is NULL.

Keys (see :mod:`qscript.connectors.rest.keys` for the strategies)
    ``PK "k"`` gives each record's key in field ``k``, ``FK "f"`` the parent record's key in
    ``f``; a declared key field is output only when the SELECT also lists it. The root's FK is
    NULL. Sequence keys are numbers assigned per table in document (pre-)order, so a parent's
    key is known to its children; hash keys are text. ``none`` outputs no key field at all.

Response headers
    When ``response_headers`` is given and the root SELECT has a nested
    ``(SELECT ... FROM "_response_header" FK "...")``, that table has one record holding the
    response headers (fields named as the server sent them; a field that matches no header
    exactly matches case-insensitively). It is linked to the first root record by its key;
    a response with no root record gives no header row.

CSV
    The root (``CSV_source``) is flat: its selected fields are CSV columns by name (the first
    column of a repeated name), a missing column or cell is NULL, nested SELECTs and keys are
    ignored, and cells are text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain, repeat

import numpy as np

from qscript.connectors.rest.keys import check_strategy, hash_keys, sequence_keys
from qscript.expr.column import Column
from qscript.script.nodes import SelectTable, SourceFormat

RESPONSE_HEADER_TABLE = "_response_header"
#: Field names that read the value of a scalar record (besides the table's ArrayValueAlias).
VALUE_FIELDS = ("@Value", "@Content")

_NONE_TYPE = type(None)
_NUMBER_TYPES = frozenset({int, float})
_BOOL_TEXT = {True: "True", False: "False"}  # None.get -> None


@dataclass(eq=False, slots=True)
class _Node:
    """One SELECT table: what it outputs, and the records found for it."""

    table: SelectTable
    path: str
    parent: _Node | None
    children: list[_Node] = field(default_factory=list)
    value_fields: list[tuple[str, str]] = field(default_factory=list)  # (source name, output)
    pk_outputs: list[str] = field(default_factory=list)
    fk_outputs: list[str] = field(default_factory=list)
    value_names: frozenset[str] = frozenset()
    is_header: bool = False
    records: list = field(default_factory=list)
    all_dicts: bool = False  # every record is an object (the fast paths apply)
    parent_index: np.ndarray | None = None
    per_parent: np.ndarray | None = None  # rows under this table, summed per parent record
    size: np.ndarray | None = None  # rows of each record's subtree (itself included)
    start: np.ndarray | None = None  # first row of each record's subtree
    keys: np.ndarray | None = None


def master_table(
    document: object,
    root: SelectTable,
    fmt: SourceFormat,
    key_strategy: str,
    *,
    response_headers: dict[str, str] | None = None,
    sequence_start: dict | None = None,
) -> tuple[list[str], dict[str, Column], int]:
    """Field names, one Column per name, and the row count of the master table.

    ``document`` is what ``decode_json``/``decode_xml`` return, or ``(names, rows)`` from
    ``decode_csv`` when ``fmt.kind`` is ``'csv'``. ``sequence_start`` is a counter state
    ``{table path: last key}`` that is read and advanced, so that sequence keys continue
    across the pages of one SELECT; None starts every table at 1.
    """
    check_strategy(key_strategy)
    if fmt.kind == "csv":
        return _csv_table(document, root)
    with_keys = key_strategy != "none"
    names: list[str] = []
    top = _plan(root, root.name, None, with_keys, names, response_headers is not None)
    top.records = _root_records(document, root.name, fmt.wrap)
    nodes = _collect(top, response_headers)
    _layout(nodes)
    if key_strategy == "sequence":
        state = sequence_start if sequence_start is not None else {}
        for node in nodes:
            node.keys = sequence_keys(state, node.path, len(node.records))
    elif with_keys:
        _hash_keys(top, key_strategy)
    length = int(top.size.sum())
    parts: dict[str, list[tuple[np.ndarray, object]]] = {name: [] for name in names}
    for node in nodes:
        _contribute(node, parts)
    return names, {name: _column(parts[name], length) for name in names}, length


# -- planning -----------------------------------------------------------------------------------
def _plan(
    table: SelectTable, path: str, parent: _Node | None, with_keys: bool, names: list[str], headers: bool
) -> _Node:
    """The node tree of a SELECT; appends output names to ``names`` in field order."""
    node = _Node(table, path, parent)
    value_names = set(VALUE_FIELDS)
    if table.array_value_alias:
        value_names.add(table.array_value_alias)
    node.value_names = frozenset(value_names)
    node.is_header = headers and parent is not None and parent.parent is None and table.name == RESPONSE_HEADER_TABLE
    for select_field in table.fields:
        output = select_field.output
        if table.pk is not None and select_field.name == table.pk:
            if not with_keys:
                continue
            node.pk_outputs.append(output)
        elif table.fk is not None and select_field.name == table.fk:
            if not with_keys:
                continue
            node.fk_outputs.append(output)
        else:
            node.value_fields.append((select_field.name, output))
        if output not in names:
            names.append(output)
    seen: dict[str, int] = {}
    for child in table.children:
        seen[child.name] = seen.get(child.name, 0) + 1
        suffix = f"#{seen[child.name]}" if seen[child.name] > 1 else ""
        node.children.append(_plan(child, f"{path}/{child.name}{suffix}", node, with_keys, names, headers))
    return node


def _as_records(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _root_records(document: object, name: str, wrap: bool) -> list:
    if wrap:
        return _as_records(document)
    if isinstance(document, dict):
        return _as_records(document.get(name))
    if isinstance(document, list):
        records: list = []
        for item in document:
            if isinstance(item, dict):
                records.extend(_as_records(item.get(name)))
        return records
    return []


# -- walking ------------------------------------------------------------------------------------
def _collect(top: _Node, response_headers: dict[str, str] | None) -> list[_Node]:
    """Find every table's records, top-down; the nodes in pre-order."""
    nodes = [top]
    i = 0
    while i < len(nodes):
        node = nodes[i]
        i += 1
        node.all_dicts = set(map(type, node.records)) == {dict}
        for child in node.children:
            if child.is_header:
                child.records = [dict(response_headers)] if node.records else []  # type: ignore[arg-type]
                counts = [1] + [0] * (len(node.records) - 1) if node.records else []
            else:
                nested_arrays = child.table.name == node.table.name
                child.records, counts = _gather(node.records, node.all_dicts, child.table.name, nested_arrays)
            child.parent_index = np.repeat(np.arange(len(node.records)), counts)
        nodes[i:i] = node.children  # pre-order: children right after their parent
    return nodes


def _gather(records: list, all_dicts: bool, name: str, nested_arrays: bool) -> tuple[list, list[int]]:
    """The records of table ``name`` under each record, and how many each record has."""
    if all_dicts:
        values = list(map(dict.get, records, repeat(name)))  # a C loop: the common case
        kinds = set(map(type, values))
        if kinds == {list}:
            return list(chain.from_iterable(values)), list(map(len, values))
        if kinds == {dict}:
            return values, [1] * len(values)
    else:
        values = [_property(record, name, nested_arrays) for record in records]
    found: list = []
    counts: list[int] = []
    append, extend, count = found.append, found.extend, counts.append
    for value in values:
        if value is None:
            count(0)
        elif isinstance(value, list):
            extend(value)
            count(len(value))
        else:
            append(value)
            count(1)
    return found, counts


def _property(record: object, name: str, nested_arrays: bool) -> object:
    """Property ``name`` of a record; an array record is its own property when ``nested_arrays``."""
    if isinstance(record, dict):
        return record.get(name)
    if nested_arrays and isinstance(record, list):
        return record
    return None


def _layout(nodes: list[_Node]) -> None:
    """Subtree sizes (bottom-up) and first rows (top-down) of every record: post-order rows."""
    for node in reversed(nodes):
        size = np.ones(len(node.records), dtype=np.int64)
        for child in node.children:
            child.per_parent = np.bincount(child.parent_index, weights=child.size, minlength=len(size)).astype(np.int64)
            size += child.per_parent
        node.size = size
    top = nodes[0]
    top.start = np.cumsum(top.size) - top.size
    for node in nodes:
        offset = node.start.copy()
        for child in node.children:
            before = np.cumsum(child.size) - child.size  # rows of earlier records of this table
            first = np.searchsorted(child.parent_index, child.parent_index, side="left")
            child.start = offset[child.parent_index] + before - before[first]
            offset += child.per_parent


def _hash_keys(top: _Node, strategy: str) -> None:
    """Hash keys for every table whose keys are output, or (fully_qualified) chained to one."""
    qualified = strategy == "fully_qualified"
    needed: dict[_Node, bool] = {}

    def mark(node: _Node) -> bool:
        below = [mark(child) for child in node.children]
        wanted = bool(node.pk_outputs) or any(child.fk_outputs for child in node.children)
        needed[node] = wanted or (qualified and any(below))
        return needed[node]

    def assign(node: _Node) -> None:
        if needed[node]:
            parent_keys = None
            if qualified and node.parent is not None:
                parent_keys = node.parent.keys[node.parent_index].tolist()
            node.keys = _object_array(hash_keys(node.records, parent_keys, strategy))
        for child in node.children:
            assign(child)

    mark(top)
    assign(top)


def _contribute(node: _Node, parts: dict[str, list[tuple[np.ndarray, object]]]) -> None:
    """Add this table's cells (positions and values) to the output fields."""
    records = node.records
    if not records:
        return
    rows = node.start + node.size - 1
    lower = {name.lower(): value for name, value in records[0].items()} if node.is_header else None
    for name, output in node.value_fields:
        if lower is not None:
            values = [records[0].get(name, lower.get(name.lower()))]
        elif node.all_dicts:
            values = list(map(dict.get, records, repeat(name)))
        elif name in node.value_names:
            values = [
                record.get(name) if isinstance(record, dict) else None if isinstance(record, list) else record
                for record in records
            ]
        else:
            values = [record.get(name) if isinstance(record, dict) else None for record in records]
        parts[output].append((rows, values))
    if node.keys is not None:
        for output in node.pk_outputs:
            parts[output].append((rows, node.keys))
    parent = node.parent
    if node.fk_outputs and parent is not None and parent.keys is not None:
        fk = parent.keys[node.parent_index]
        for output in node.fk_outputs:
            parts[output].append((rows, fk))


# -- columns ------------------------------------------------------------------------------------
def _object_array(values: list) -> np.ndarray:
    """A 1-D object array of the items as they are (never nested, unlike ``np.array``)."""
    return np.fromiter(values, dtype=object, count=len(values))


def _split(values: object) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Text and number arrays of some cells (None when no cell has that kind)."""
    if isinstance(values, np.ndarray):
        return (values, None) if values.dtype == object else (None, values)
    types = set(map(type, values))  # type: ignore[call-overload]
    types.discard(_NONE_TYPE)
    if not types:
        return None, None
    if types == {str}:
        return _object_array(values), None  # type: ignore[arg-type]
    if types <= _NUMBER_TYPES:
        return None, np.array(values, dtype=np.float64)  # None -> NaN
    if types == {bool}:
        return _object_array(list(map(_BOOL_TEXT.get, values))), None  # type: ignore[call-overload]
    texts: list = [None] * len(values)  # type: ignore[arg-type]
    numbers = [np.nan] * len(values)  # type: ignore[arg-type]
    has_text = has_number = False
    for i, value in enumerate(values):  # type: ignore[arg-type]
        kind = type(value)
        if kind is str:
            texts[i] = value
            has_text = True
        elif kind is bool:
            texts[i] = "True" if value else "False"
            has_text = True
        elif kind is int or kind is float:
            numbers[i] = value
            has_number = True
        # None, objects and arrays stay NULL
    return (
        _object_array(texts) if has_text else None,
        np.array(numbers, dtype=np.float64) if has_number else None,
    )


def _column(parts: list[tuple[np.ndarray, object]], length: int) -> Column:
    """One output field from the cells each table contributed; rows nobody fills are NULL."""
    text = number = None
    for rows, values in parts:
        part_text, part_number = _split(values)
        if len(rows) == length:  # one table fills every row: its rows are 0..length-1 in order
            return Column(part_text, part_number, length)
        if part_text is not None:
            if text is None:
                text = np.empty(length, dtype=object)
            text[rows] = part_text
        if part_number is not None:
            if number is None:
                number = np.full(length, np.nan)
            number[rows] = part_number
    return Column(text, number, length)


def _csv_table(document: object, root: SelectTable) -> tuple[list[str], dict[str, Column], int]:
    header, rows = document  # type: ignore[misc]
    length = len(rows)
    position: dict[str, int] = {}
    for i, name in enumerate(header):
        position.setdefault(name, i)
    shortest = min((len(row) for row in rows), default=0)
    names: list[str] = []
    columns: dict[str, Column] = {}
    for select_field in root.fields:
        output = select_field.output
        if output in columns:
            continue
        i = position.get(select_field.name)
        if i is None or not rows:
            columns[output] = Column.nulls(length)
        elif i < shortest:
            columns[output] = Column(_object_array([row[i] for row in rows]), None, length)
        else:
            columns[output] = Column(_object_array([row[i] if i < len(row) else None for row in rows]), None, length)
        names.append(output)
    return names, columns, length
