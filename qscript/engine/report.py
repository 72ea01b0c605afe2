"""The data model report: tables, fields, links between tables and synthetic keys.

Qlik links tables through fields of the same name. Two tables sharing two or more fields
get a synthetic key (``$Syn``), which is usually a modelling mistake, so scripts' tests
want to see them before Qlik does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from qscript.engine.model import DataModel


@dataclass(frozen=True)
class TableInfo:
    name: str
    fields: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class ModelReport:
    """``tables`` in load order; ``links``: field -> tables that share it (two or more);
    ``synthetic_keys``: pairs of tables with the fields they share when that is two or more."""

    tables: tuple[TableInfo, ...] = ()
    links: dict[str, tuple[str, ...]] = field(default_factory=dict)
    synthetic_keys: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def __str__(self) -> str:
        lines = [f"{t.name}: {t.rows} rows, fields {', '.join(t.fields)}" for t in self.tables]
        lines += [f"link {name}: {', '.join(tables)}" for name, tables in self.links.items()]
        lines += [f"synthetic key {a} + {b}: {', '.join(fields)}" for a, b, fields in self.synthetic_keys]
        return "\n".join(lines)


def model_report(model: DataModel) -> ModelReport:
    tables = tuple(TableInfo(t.name, t.fields, t.length) for t in model.tables.values())
    holders: dict[str, list[str]] = {}
    for table in tables:
        for name in table.fields:
            holders.setdefault(name, []).append(table.name)
    links = {name: tuple(owners) for name, owners in holders.items() if len(owners) > 1}
    synthetic = []
    for a, b in combinations(tables, 2):
        shared = tuple(f for f in a.fields if f in b.fields)
        if len(shared) > 1:
            synthetic.append((a.name, b.name, shared))
    return ModelReport(tables, links, tuple(synthetic))
