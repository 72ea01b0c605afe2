"""What expressions may ask of the data model, without importing the engine.

The engine implements :class:`ModelView` (tables, mapping tables, field values) and
:class:`RowState` (the counters of the row being loaded); functions such as Peek,
NoOfRows, ApplyMap, Exists and RowNo reach them through the evaluation context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from qscript.expr.column import Column
from qscript.expr.values import Value


class ModelView(Protocol):
    def table_names(self) -> list[str]: ...

    def current_table(self) -> str | None:
        """The last loaded table (Peek without a table in LET)."""

    def table_fields(self, table: str) -> list[str] | None: ...

    def table_rows(self, table: str) -> int | None: ...

    def table_column(self, table: str, field: str) -> Column | None: ...

    def mapping(self, name: str) -> dict[object, Value] | None: ...

    def field_values(self, field: str) -> list[Value] | None:
        """Distinct values of a field across the model, in load order."""

    def exists(self, field: str, key: object) -> bool:
        """Whether the value key (see values.value_key) is loaded in the field."""

    def autonumber(self, key: object, counter: str) -> int: ...


@dataclass
class RowState:
    """Counters and partial output of the LOAD being run row by row.

    ``output`` holds the values of rows loaded so far by this LOAD (Peek without a table);
    ``previous`` is the context of the previous input row (Previous()).
    """

    recno: int = 0
    rowno: int = 0
    iterno: int = 1
    output: dict[str, list[Value]] = field(default_factory=dict)
    previous: object = None
