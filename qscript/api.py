"""The public entry points: ``run`` a script text or ``run_file`` a ``.qvs`` file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from qscript.connectors.connections import connections_from
from qscript.engine.clock import Clock
from qscript.engine.frames import to_frame
from qscript.engine.interpreter import Interpreter
from qscript.engine.report import ModelReport, model_report
from qscript.errors import ScriptFileNotFoundError
from qscript.script.splitter import normalise_newlines


@dataclass
class Result:
    """What a reload leaves behind.

    ``tables``: table name -> DataFrame; ``variables``: variable name -> text as ``$(v)``
    would insert it; ``log``: the reload log lines (TRACE output and errors included);
    ``error_count``: statements that failed (under ErrorMode 0 the reload goes on);
    ``model``: tables, row counts, fields shared between tables, synthetic-key candidates.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    error_count: int = 0
    model: ModelReport = field(default_factory=ModelReport)


class Session:
    """A reload that goes on: run script text piece by piece in one state.

    The REPL, notebooks and the pytest plugin use it; :func:`run` is one Session run once.
    Options are those of :func:`run`. Close it (or use it as a context manager) to close
    the connections it opened.
    """

    def __init__(
        self,
        *,
        variables: Mapping[str, str] | None = None,
        connections: Any = None,
        base_dir: str | PathLike[str] | None = None,
        clock: Clock | None = None,
        log_sink: Callable[[str], None] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.interpreter = Interpreter(
            variables=dict(variables or {}),
            base_dir=Path(base_dir) if base_dir is not None else None,
            clock=clock,
            log_sink=log_sink,
            connections=connections_from(connections),
            progress=progress,
        )

    def run(self, source: str, file_name: str = "<input>") -> None:
        """Run more script; a failing statement under ErrorMode 1 or 2 raises ScriptError
        and leaves the tables as they were before it."""
        self.interpreter.run(normalise_newlines(source), file_name)

    def table_names(self) -> list[str]:
        return list(self.interpreter.model.tables)

    def field_names(self, table: str) -> list[str]:
        found = self.interpreter.model.tables.get(table)
        return [] if found is None else list(found.fields)

    def table(self, name: str) -> pd.DataFrame:
        """One table as a DataFrame (KeyError when there is no such table)."""
        table = self.interpreter.model.tables[name]
        return to_frame(list(table.fields), table.columns, self.interpreter.vars.settings())

    def result(self) -> Result:
        interpreter = self.interpreter
        return Result(
            tables={name: self.table(name) for name in interpreter.model.tables},
            variables=dict(interpreter.vars),
            log=list(interpreter.log.lines),
            error_count=interpreter.error_count,
            model=model_report(interpreter.model),
        )

    def close(self) -> None:
        self.interpreter.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def run(
    source: str,
    *,
    variables: Mapping[str, str] | None = None,
    connections: Any = None,
    base_dir: str | PathLike[str] | None = None,
    file_name: str = "<script>",
    clock: Clock | None = None,
    log_sink: Callable[[str], None] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Run a load script and return its tables, variables and log.

    ``variables`` are set as text before the first statement (like ``--var``);
    ``connections``: connection definitions for LIB CONNECT: a TOML file path, a mapping of
    name -> connection table, or a :class:`Connections`; when None, ``$QSCRIPT_CONNECTIONS``
    or ``./connections.toml`` (docs/connections.md);
    ``base_dir`` anchors relative and ``lib://`` paths (default: the current directory).
    ``log_sink`` sees each reload-log line as it is written; ``progress`` gets short status
    text during long REST paging (the CLI shows it on a terminal).
    A statement that fails under ErrorMode 1 or 2 raises :class:`qscript.ScriptError`.
    """
    with Session(variables=variables, connections=connections, base_dir=base_dir, clock=clock,
                 log_sink=log_sink, progress=progress) as session:
        session.run(source, file_name)
        return session.result()


def run_file(path: str | PathLike[str], **options: Any) -> Result:
    """Run a script file; relative paths in it resolve against the file's folder."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScriptFileNotFoundError(f"cannot read script {path}: {exc.strerror}") from None
    options.setdefault("base_dir", path.parent)
    return run(source, file_name=str(path), **options)
