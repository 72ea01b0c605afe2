"""The data model: tables, mapping tables, table naming and the field value sets.

Tables are immutable; every change builds a new :class:`Table`, so a snapshot of the
model is a shallow copy of its dictionaries, and a failed statement rolls back for free.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace

import pandas as pd

from qscript.errors import TableNotFoundError
from qscript.expr.column import Column
from qscript.expr.values import Value, value_key


@dataclass(frozen=True)
class Table:
    """A table: field names in order, a row count, and its rows as one or more parts.

    A concatenation appends a part instead of copying the table, so a script that adds a
    page to a table on every pass of a loop stays linear; the parts are joined into one
    Column per field the first time someone reads ``columns`` (and then cached).
    """

    name: str
    fields: tuple[str, ...]
    parts: tuple[tuple[dict[str, Column], int], ...]
    length: int
    _cache: dict[str, dict[str, Column]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, name: str, fields: list[str] | tuple[str, ...], columns: dict[str, Column], length: int) -> Table:
        return cls(name, tuple(fields), (({f: columns[f] for f in fields}, length),), length)

    @property
    def columns(self) -> dict[str, Column]:
        cached = self._cache.get("columns")
        if cached is None:
            if len(self.parts) == 1:
                part, length = self.parts[0]
                cached = {f: part.get(f) or Column.nulls(length) for f in self.fields}
            else:
                cached = {
                    f: Column.concat([part.get(f) or Column.nulls(length) for part, length in self.parts])
                    for f in self.fields
                }
            self._cache["columns"] = cached
        return cached

    def appended(self, fields: list[str], columns: dict[str, Column], length: int) -> Table:
        """These rows added at the end; new fields are NULL in the rows before them."""
        names = list(self.fields) + [f for f in fields if f not in self.fields]
        return Table(self.name, tuple(names), (*self.parts, (dict(columns), length)), self.length + length)

    def renamed(self, name: str) -> Table:
        return replace(self, name=name, _cache={})


@dataclass
class ModelState:
    """What a failed statement rolls back. Field value contributions are only appended
    to, so their lengths are enough; AutoNumber counters are not rolled back (numbers a
    failed statement used are simply skipped, as a reload's counters only grow)."""

    tables: dict[str, Table]
    mappings: dict[str, Table]
    last: str | None
    qualify: list[tuple[str, bool]]
    contribution_counts: dict[str, int]


class DataModel:
    """All tables of a reload, plus what Qlik keeps beside them."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}
        self.mappings: dict[str, Table] = {}
        self.last: str | None = None
        self.qualify: list[tuple[str, bool]] = []  # (pattern, qualified?) in statement order
        self.contributions: dict[str, list[Column]] = {}
        self.autonumbers: dict[str, dict[object, int]] = {}
        self._value_cache: dict[str, tuple[int, list[Value], set[object]]] = {}

    # -- transactions ----------------------------------------------------------------------------
    def snapshot(self) -> ModelState:
        return ModelState(
            dict(self.tables),
            dict(self.mappings),
            self.last,
            list(self.qualify),
            {k: len(v) for k, v in self.contributions.items()},
        )

    def restore(self, state: ModelState) -> None:
        self.tables, self.mappings, self.last = state.tables, state.mappings, state.last
        self.qualify = state.qualify
        for name in list(self.contributions):
            kept = state.contribution_counts.get(name, 0)
            if kept:
                del self.contributions[name][kept:]
            else:
                del self.contributions[name]
        self._value_cache.clear()

    # -- tables ------------------------------------------------------------------------------------
    def table(self, name: str) -> Table:
        table = self.tables.get(name)
        if table is None:
            raise TableNotFoundError(f"Table '{name}' not found")
        return table

    def unique_name(self, base: str) -> str:
        """``T``, then ``T-1``, ``T-2`` ... (help "Table names")."""
        if base not in self.tables and base not in self.mappings:
            return base
        k = 1
        while f"{base}-{k}" in self.tables:
            k += 1
        return f"{base}-{k}"

    def same_fields(self, fields: tuple[str, ...]) -> str | None:
        """The table with exactly this field set (order ignored), for auto-concatenation."""
        wanted = set(fields)
        for name, table in self.tables.items():
            if set(table.fields) == wanted and len(table.fields) == len(fields):
                return name
        return None

    def put(self, table: Table, *, contributed: dict[str, Column] | None = None) -> None:
        """Store a table (new or replaced) and make it the last loaded one."""
        self.tables[table.name] = table
        self.last = table.name
        for name, column in (contributed if contributed is not None else table.columns).items():
            self.contributions.setdefault(name, []).append(column)
        self._value_cache.clear()

    def drop(self, name: str) -> None:
        self.table(name)
        del self.tables[name]
        if self.last == name:
            self.last = next(reversed(self.tables), None)

    # -- qualification -----------------------------------------------------------------------------
    def is_qualified(self, field_name: str) -> bool:
        qualified = False
        for pattern, on in self.qualify:
            if pattern == "*" or fnmatch.fnmatchcase(field_name, pattern):
                qualified = on
        return qualified

    # -- field value sets --------------------------------------------------------------------------
    def field_values(self, field_name: str) -> tuple[list[Value], set[object]] | None:
        """Distinct values of a field in load order (values stay after DROP TABLE)."""
        parts = self.contributions.get(field_name)
        if parts is None:
            return None
        cached = self._value_cache.get(field_name)
        if cached is not None and cached[0] == len(parts):
            return cached[1], cached[2]
        column = Column.concat(parts) if len(parts) > 1 else parts[0]
        keys = pd.Series(column.keys(), dtype=object)
        positions = keys[keys.notna()].drop_duplicates().index.to_numpy()
        values = [column.value(int(i)) for i in positions]
        key_set = {value_key(v) for v in values}
        self._value_cache[field_name] = (len(parts), values, key_set)
        return values, key_set

    def autonumber(self, key: object, counter: str) -> int:
        numbers = self.autonumbers.setdefault(counter, {})
        if key not in numbers:
            numbers[key] = len(numbers) + 1
        return numbers[key]


@dataclass
class ModelViewImpl:
    """The model as expressions see it, plus what the running LOAD has added so far."""

    model: DataModel
    loading: dict[str, set[object]] = field(default_factory=dict)
    mapping_cache: dict[str, dict[object, Value]] = field(default_factory=dict)

    def table_names(self) -> list[str]:
        return list(self.model.tables)

    def current_table(self) -> str | None:
        return self.model.last

    def table_fields(self, table: str) -> list[str] | None:
        t = self.model.tables.get(table)
        return None if t is None else list(t.fields)

    def table_rows(self, table: str) -> int | None:
        t = self.model.tables.get(table)
        return None if t is None else t.length

    def table_column(self, table: str, field_name: str) -> Column | None:
        t = self.model.tables.get(table)
        return None if t is None else t.columns.get(field_name)

    def mapping(self, name: str) -> dict[object, Value] | None:
        if name in self.mapping_cache:
            return self.mapping_cache[name]
        table = self.model.mappings.get(name)
        if table is None:
            return None
        keys, values = table.columns[table.fields[0]], table.columns[table.fields[1]]
        result: dict[object, Value] = {}
        for i, key in enumerate(keys.keys().tolist()):
            if key is not None and key not in result:  # the first value of a key wins
                result[key] = values.value(i)
        self.mapping_cache[name] = result
        return result

    def field_values(self, field_name: str) -> list[Value] | None:
        found = self.model.field_values(field_name)
        return None if found is None else found[0]

    def exists(self, field_name: str, key: object) -> bool:
        if key in self.loading.get(field_name, ()):
            return True
        found = self.model.field_values(field_name)
        return found is not None and key in found[1]

    def autonumber(self, key: object, counter: str) -> int:
        return self.model.autonumber(key, counter)
