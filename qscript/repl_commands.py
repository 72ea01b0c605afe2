"""The REPL's dot commands: look at what the session holds without writing script.

A line that starts with ``.`` is a command, never script (no Qlik statement starts with
a dot). Commands read the session through the public API and print plain aligned text,
so their output reads the same on a terminal, in a pipe and in a test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

import qscript

#: command -> (arguments, what it does); ``.help`` prints this table.
COMMANDS: dict[str, tuple[str, str]] = {
    ".tables": ("", "tables with their row counts and fields"),
    ".show": ("TABLE [N]", "the first N rows of a table (default 10)"),
    ".fields": ("TABLE", "a table's fields and the other tables that share them"),
    ".vars": ("[all]", "user variables; 'all' adds the system ones"),
    ".model": ("", "the data model: tables, links between them, synthetic keys"),
    ".run": ("FILE", "run a script file in this session"),
    ".log": ("[N]", "the reload log so far (or its last N lines)"),
    ".help": ("", "this list"),
    ".quit": ("", "leave the REPL (also Ctrl-D)"),
}
_ALIASES = {".exit": ".quit", ".q": ".quit", ".h": ".help", ".?": ".help"}

#: Qlik's settings and error variables beyond those a fresh session defines; ``.vars``
#: hides them with the defaults because they are not the user's own.
_QLIK_VARIABLES = frozenset({
    "ScriptError", "ScriptErrorCount", "ScriptErrorList", "ScriptErrorDetails", "ErrorMode",
    "NullInterpret", "NullValue", "NullDisplay", "OtherSymbol", "HidePrefix", "HideSuffix", "Verbatim",
    "StripComments", "OpenUrlTimeout", "SearchIndexCreate", "QvPath", "QvRoot", "QvWorkPath", "QvWorkRoot",
    "WinPath", "WinRoot", "Floppy", "CD",
})
_ARG = re.compile(r"\[([^\]]*)\]|\"([^\"]*)\"|'([^']*)'|(\S+)")
_CELL_WIDTH = 40
_system_names: frozenset[str] | None = None


class Host(Protocol):
    """What a command needs from the REPL (kept as a protocol so this module stands alone)."""

    session: qscript.Session
    log_lines: list[str]
    done: bool

    def echo(self, text: str, style: str = "") -> None: ...

    def run_file(self, path: Path) -> bool | None: ...


def dispatch(host: Host, line: str) -> None:
    """Run one dot command line; unknown commands and bad arguments only print a message."""
    name, _, rest = line.strip().partition(" ")
    name = _ALIASES.get(name.lower(), name.lower())
    handler = _HANDLERS.get(name)
    if handler is None:
        host.echo(f"unknown command {name}; .help lists the commands", "class:error")
        return
    try:
        handler(host, [next(g for g in m.groups() if g is not None) for m in _ARG.finditer(rest)])
    except _UsageError as exc:
        host.echo(str(exc), "class:error")
    except qscript.QScriptError as exc:
        host.echo(f"qscript: {exc}", "class:error")
    except Exception as exc:  # a bug in a command must not end the session
        host.echo(f"internal error: {type(exc).__name__}: {exc} (please report it)", "class:error")


class _UsageError(Exception):
    """A command was given arguments it cannot use; the message says what it wants."""


# -- commands ----------------------------------------------------------------------------------
def _help(host: Host, _args: list[str]) -> None:
    width = max(len(f"{name} {args}".strip()) for name, (args, _) in COMMANDS.items())
    lines = [f"  {f'{name} {args}'.strip():<{width}}  {text}" for name, (args, text) in COMMANDS.items()]
    host.echo("\n".join([
        "Type script: a statement runs at its ';', a control block (IF, FOR, DO, SUB, SWITCH)",
        "when it is closed. Esc Enter runs the input as it stands; Tab completes names.",
        *lines,
    ]))


def _quit(host: Host, _args: list[str]) -> None:
    host.done = True


def _tables(host: Host, _args: list[str]) -> None:
    rows = [(t.name, f"{t.rows} rows", ", ".join(t.fields)) for t in host.session.result().model.tables]
    host.echo(_aligned(rows, right={1}) if rows else "(no tables)")


def _show(host: Host, args: list[str]) -> None:
    limit = 10
    if len(args) >= 2 and re.fullmatch(r"\d+", args[-1]):
        limit = int(args.pop())
    name = _table_name(host, args, ".show TABLE [N]")
    frame = host.session.table(name)
    host.echo(format_frame(frame, limit))


def _fields(host: Host, args: list[str]) -> None:
    name = _table_name(host, args, ".fields TABLE")
    session = host.session
    rows = []
    for field in session.field_names(name):
        others = [t for t in session.table_names() if t != name and field in session.field_names(t)]
        rows.append((field, f"also in {', '.join(others)}" if others else ""))
    host.echo(_aligned(rows) if rows else f"(table {name} has no fields)")


def _vars(host: Host, args: list[str]) -> None:
    if args and args != ["all"]:
        raise _UsageError("usage: .vars [all]")
    variables = host.session.result().variables
    system = system_variable_names()
    shown = {k: v for k, v in variables.items() if args or k not in system}
    width = max(map(len, shown), default=0)
    lines = [f"{name:<{width}} = {_one_line(shown[name])}" for name in sorted(shown, key=str.lower)]
    lines = lines or ["(no user variables)"]
    if hidden := len(variables) - len(shown):
        lines.append(f"({hidden} system variables not shown; .vars all shows them)")
    host.echo("\n".join(lines))


def _model(host: Host, _args: list[str]) -> None:
    report = host.session.result().model
    if not report.tables:
        host.echo("(no tables)")
        return
    lines = ["Tables:"]
    lines += _indent(_aligned([(t.name, f"{t.rows} rows", ", ".join(t.fields)) for t in report.tables], right={1}))
    lines.append("Links (fields shared by tables):" if report.links else "Links: none")
    lines += _indent(_aligned([(f"{field}:", ", ".join(tables)) for field, tables in report.links.items()]))
    lines.append("Synthetic keys (tables sharing two or more fields):" if report.synthetic_keys
                 else "Synthetic keys: none")
    lines += _indent(_aligned([(f"{a} + {b}:", ", ".join(fields)) for a, b, fields in report.synthetic_keys]))
    host.echo("\n".join(lines))


def _run(host: Host, args: list[str]) -> None:
    if len(args) != 1:
        raise _UsageError("usage: .run FILE")
    host.run_file(Path(args[0]).expanduser())


def _log(host: Host, args: list[str]) -> None:
    lines = host.log_lines
    if args:
        if len(args) != 1 or not args[0].isdigit():
            raise _UsageError("usage: .log [N]")
        lines = lines[-int(args[0]):] if int(args[0]) else []
    host.echo("\n".join(lines) if lines else "(the log is empty)")


_HANDLERS: dict[str, Callable[[Host, list[str]], None]] = {
    ".tables": _tables, ".show": _show, ".fields": _fields, ".vars": _vars, ".model": _model,
    ".run": _run, ".log": _log, ".help": _help, ".quit": _quit,
}


# -- helpers -------------------------------------------------------------------------------------
def system_variable_names() -> frozenset[str]:
    """The variables a fresh session defines, plus Qlik's other settings variables.

    Read from a new Session rather than listed here, so a default added to the engine
    is hidden from ``.vars`` without touching the REPL.
    """
    global _system_names
    if _system_names is None:
        with qscript.Session(connections={}) as fresh:
            _system_names = frozenset(fresh.result().variables) | _QLIK_VARIABLES
    return _system_names


def _table_name(host: Host, args: list[str], usage: str) -> str:
    """The table the arguments name: exactly, else ignoring case when that is unambiguous."""
    if not args:
        raise _UsageError(f"usage: {usage}")
    wanted = " ".join(args)
    names = host.session.table_names()
    if wanted in names:
        return wanted
    close = [n for n in names if n.lower() == wanted.lower()]
    if len(close) == 1:
        return close[0]
    known = ", ".join(names) if names else "none loaded yet"
    raise _UsageError(f"no table {wanted!r} (tables: {known})")


def format_frame(frame: pd.DataFrame, limit: int = 10) -> str:
    """The first ``limit`` rows as an aligned text table, NULL shown as Qlik shows it (``-``)."""
    head = frame.head(limit)
    names = [str(c) for c in head.columns]
    body = [[_cell(v) for v in row] for row in head.itertuples(index=False, name=None)]
    right = {i for i, c in enumerate(head.columns) if pd.api.types.is_numeric_dtype(head[c].dtype)}
    widths = [max([len(n)] + [len(r[i]) for r in body]) for i, n in enumerate(names)]
    lines = [
        _row(names, widths, right),
        "  ".join("-" * w for w in widths),
        *(_row(r, widths, right) for r in body),
    ]
    total = len(frame)
    lines.append(f"({len(head)} of {total} rows)" if len(head) < total else f"({total} rows)")
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "-"
    if isinstance(value, pd.Timestamp):
        text = value.date().isoformat() if value == value.normalize() else str(value)
    elif isinstance(value, float):  # numpy's float64 is a float
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    elif isinstance(value, int | bool) or hasattr(value, "dtype"):
        text = str(value)
    else:
        text = _one_line(str(value))
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def _row(cells: list[str], widths: list[int], right: set[int]) -> str:
    pairs = enumerate(zip(cells, widths, strict=True))
    return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs)


def _aligned(rows: list[tuple[str, ...]], right: set[int] | frozenset[int] = frozenset()) -> str:
    """Rows of cells as columns; the last column is never padded."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(filter(None, [_row(list(r[:-1]), widths, set(right)), r[-1]])).rstrip() for r in rows)


def _indent(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()]


__all__ = ["COMMANDS", "Host", "dispatch", "format_frame", "system_variable_names"]
