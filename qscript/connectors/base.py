"""What the engine sees of a connector: open one by name, run SELECTs on it, close it.

A connector takes a parsed SELECT (with its WITH CONNECTION overrides) and returns the
result table as field names, Columns and a row count. The engine knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from qscript.expr.column import Column
from qscript.redact import Redactor
from qscript.script.nodes import SqlSelect


@dataclass
class SelectResult:
    names: list[str]
    columns: dict[str, Column]
    length: int


class Connector(Protocol):
    name: str

    def select(self, statement: SqlSelect) -> SelectResult: ...

    def close(self) -> None: ...


def open_connector(
    name: str,
    config: object,
    *,
    redactor: Redactor,
    log: Callable[[str], None],
    sleep: Callable[[float], None],
    progress: Callable[[str], None] | None = None,
) -> Connector:
    """A connector for a connection definition (today: the REST connector)."""
    # imported here so scripts without connections never pay for importing requests
    from qscript.connectors.rest.select import RestConnector

    return RestConnector(name, config, redactor=redactor, log=log, sleep=sleep, progress=progress)  # type: ignore[arg-type]
