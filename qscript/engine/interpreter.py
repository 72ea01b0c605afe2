"""The interpreter: runs a block tree statement by statement.

Each statement is expanded, parsed (cached by text) and executed. A ``ScriptError`` is
caught at the statement boundary: it updates ScriptError, ScriptErrorCount and
ScriptErrorList, then ErrorMode decides: 0 goes on with the next statement, 1 and 2 stop
the reload (qscript has no prompt, so 1 behaves as 2). A successful statement resets
ScriptError to 0.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path

from qscript.connectors.base import Connector, SelectResult, open_connector
from qscript.connectors.connections import Connections
from qscript.engine import flow, housekeeping, tables
from qscript.engine.clock import Clock, SystemClock, timer_of
from qscript.engine.model import DataModel, ModelViewImpl
from qscript.engine.reload_log import ReloadLog
from qscript.engine.variables import Variables
from qscript.errors import (
    SCRIPT_ERROR_TEXT,
    ConfigError,
    FieldNotFoundError,
    GeneralScriptError,
    ScriptError,
    ScriptFileNotFoundError,
    ScriptSyntaxError,
    UnsupportedStatementError,
)
from qscript.expr import operators
from qscript.expr.column import Column
from qscript.expr.evaluate import MISSING, EvalContext, evaluate_scalar
from qscript.expr.formats import serial_from_datetime
from qscript.expr.values import Value, as_number, as_text, is_true
from qscript.redact import Redactor
from qscript.script import nodes as n
from qscript.script.blocks import Block, SubBlock, build
from qscript.script.expand import Expanded, Expander, expand
from qscript.script.parse import SyntaxAt, parse_control, parse_expression, parse_statement, syntax_error
from qscript.script.splitter import RawStatement, split

_INCLUDE_STATEMENT = re.compile(r"\s*\$\(\s*(must_include|include)\s*=(.*)\)\s*$", re.IGNORECASE | re.DOTALL)
MAX_SLEEP_MS = 3_600_000


class Interpreter:
    """Holds the state of one reload: variables, subs, error counters, log, clock."""

    def __init__(
        self,
        *,
        variables: dict[str, str] | None = None,
        base_dir: Path | None = None,
        clock: Clock | None = None,
        log_sink: Callable[[str], None] | None = None,
        connections: Connections | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.vars = Variables()
        for name, text in (variables or {}).items():
            self.vars.set_text(name, text)
        self.base_dir = Path(base_dir or Path.cwd())
        self.clock = clock or SystemClock()
        self._timer = timer_of(self.clock)
        #: (line, start time) of the statement running now, for the reload log's table lines
        self._statement: tuple[int, float] = (0, self._timer())
        self.redactor = Redactor()
        self.log = ReloadLog(sink=log_sink, redact=self.redactor)
        self.connections = connections or Connections()
        for name in self.connections.names():  # mask secrets before LIB CONNECT too
            with contextlib.suppress(ConfigError):  # an invalid connection fails at its own LIB CONNECT
                self.redactor.add(self.connections.get(name).secrets())
        self.connectors: dict[str, Connector] = {}
        self.connector: Connector | None = None
        self.progress = progress
        self.subs: dict[str, SubBlock] = {}
        self.model = DataModel()
        self.pending_loads: list[n.LoadStatement] = []
        self._auto_names: dict[str, int] = {}
        self.error_count = 0
        self.error_list: list[str] = []
        self.vars.set_error("ScriptError", 0, "")
        self.vars.set_value("ScriptErrorCount", 0.0)
        self.vars.set_text("ScriptErrorList", "")
        self.expander = Expander(
            variable=self.vars.text,
            number=self.vars.number_text,
            evaluate=self._evaluate_text,
            include=self._read_include,
        )

    # -- entry points --------------------------------------------------------------------------
    def run(self, source: str, file: str = "<script>") -> None:
        """Run a whole script; EXIT SCRIPT ends it normally."""
        with contextlib.suppress(flow.ExitScript):
            self.run_blocks(build(split(source, file)))

    def run_blocks(self, blocks: list[Block]) -> None:
        flow.run_blocks(self, blocks)

    # -- evaluation ------------------------------------------------------------------------------
    def context(self) -> EvalContext:
        return EvalContext(
            length=1,
            settings=self.vars.settings(),
            variable=self.vars.value,
            now=self._now_serial,
            model=ModelViewImpl(self.model),
            evaluate_text=self._evaluate_value,
        )

    def _evaluate_value(self, text: str) -> Value:
        """Evaluate(): the value of expression text, NULL when it does not parse."""
        try:
            return self.evaluate(parse_expression(text))
        except (SyntaxAt, ScriptError):
            return None

    def auto_name(self, kind: str) -> str:
        """``INLINE01``, ``INLINE02`` ... for unlabelled tables of a kind of source."""
        number = self._auto_names.get(kind, 0) + 1
        self._auto_names[kind] = number
        return f"{kind}{number:02d}"

    def log_table(self, name: str, source: str, rows: int) -> None:
        """Qlik's progress line for rows put into a table, with the statement's line and time.

        ``rows`` are the lines this statement fetched (Qlik counts those, not the table's
        total after a concatenation or join); the time runs from the statement's start.
        """
        line, started = self._statement
        elapsed = self._timer() - started
        self.log.write(f"{name} << {source} {rows:,} Lines fetched (line {line}, {elapsed:.2f} s)")

    def evaluate(self, expr: n.Expr) -> Value:
        return evaluate_scalar(expr, self.context())

    def truth(self, expr: n.Expr) -> bool:
        return is_true(self.evaluate(expr), self.vars.settings())

    def _now_serial(self) -> float:
        return serial_from_datetime(self.clock.now())

    def _evaluate_text(self, text: str) -> str:
        """``$(=expr)``: the text of the expression's value."""
        try:
            expr = parse_expression(text)
        except SyntaxAt as exc:
            raise GeneralScriptError(f"invalid expression in $(={text}): {exc.message}") from None
        value = as_text(self.evaluate(expr), self.vars.settings())
        return "" if value is None else value

    def equals(self, left: Value, right: Value) -> bool:
        """Qlik's ``=``: numeric when both sides are numbers, else text."""
        settings = self.vars.settings()
        result = operators.binary("=", Column.constant(left, 1), Column.constant(right, 1), settings)
        return is_true(result.value(0), settings)

    def field_value_list(self, call: n.FunctionCall) -> list[Value]:
        """FOR EACH v IN FieldValueList('F'): the field's distinct values in load order."""
        if len(call.args) != 1 or call.args[0] is None:
            raise ScriptSyntaxError("FieldValueList() takes 1 argument")
        name = as_text(self.evaluate(call.args[0]), self.vars.settings())
        found = None if name is None else self.model.field_values(name)
        if found is None:
            raise FieldNotFoundError(f"Field '{name}' not found")
        return list(found[0])

    # -- expansion and parsing -------------------------------------------------------------------
    def expand(self, raw: RawStatement) -> Expanded:
        return expand(raw.text, self.expander)

    def parse_control(self, raw: RawStatement) -> n.Control:
        """Expand and parse a control clause; errors point into the source line."""
        expanded = self.expand(raw)
        try:
            return parse_control(expanded.text)
        except SyntaxAt as exc:
            raise self._syntax_error(exc, raw, expanded) from None

    def _syntax_error(self, exc: SyntaxAt, raw: RawStatement, expanded: Expanded) -> ScriptError:
        shifted = SyntaxAt(exc.message, expanded.source_offset(exc.offset))
        error = syntax_error(shifted, raw.text, raw.span, raw.text)
        if expanded.changed:
            error.message += f" (in expanded text: {expanded.text.strip()!r})"
        return error

    # -- statements ------------------------------------------------------------------------------
    def run_statement(self, raw: RawStatement) -> None:
        """Run one regular statement under ErrorMode; a failure leaves the tables as they were."""
        state = self.model.snapshot()
        self._statement = (raw.span.line, self._timer())
        try:
            nested = self._execute_raw(raw)
        except ScriptError as exc:
            self.model.restore(state)
            self.pending_loads = []
            self.fail(exc.located(raw.span, raw.text))
            return
        if not nested:
            self.succeed()

    def _execute_raw(self, raw: RawStatement) -> bool:
        """Execute; returns True when the statement expanded into a nested script."""
        if m := _INCLUDE_STATEMENT.match(raw.text):
            path = expand(m.group(2), self.expander).text.strip()
            text = self._read_include(_strip_brackets(path), m.group(1).lower() == "must_include")
            if text is not None:
                self.run_blocks(build(split(text, str(self.resolve_path(_strip_brackets(path))))))
            return True
        expanded = self.expand(raw)
        text = expanded.text
        if expanded.changed:
            parts = split(text, f"{raw.span.file}:{raw.span.line} (expanded)")
            if len(parts) != 1 or parts[0].control is not None:
                self.run_blocks(build(parts))
                return True
            if parts[0].text != text.strip():
                expanded, text = Expanded(parts[0].text), parts[0].text
        try:
            node = parse_statement(text)
        except SyntaxAt as exc:
            raise self._syntax_error(exc, raw, expanded) from None
        self.execute(node, raw)
        return False

    def execute(self, node: n.Statement, raw: RawStatement) -> None:
        """Dispatch one parsed statement."""
        if isinstance(node, n.Set):
            self.vars.set_text(node.name, set_text_value(node.text))
        elif isinstance(node, n.Let):
            self.vars.set_value(node.name, None if node.expr is None else self.evaluate(node.expr))
        elif isinstance(node, n.Trace):
            self.log.write(node.text)
        elif isinstance(node, n.Sleep):
            self._sleep(node)
        elif isinstance(node, n.DropVariables):
            for name in node.names:
                self.vars.drop(name)
        elif isinstance(node, n.Conditional):
            if self.truth(node.condition) != node.unless:
                self.execute(node.statement, raw)
        elif isinstance(node, n.LibConnect):
            self.connect(node.name)
        elif isinstance(node, n.Disconnect):
            self.connector = None
        elif isinstance(node, n.LoadStatement):
            tables.run_load_statement(self, node)
        elif type(node) in _HOUSEKEEPING:
            _HOUSEKEEPING[type(node)](self, node)
        elif isinstance(node, n.Unsupported):
            raise UnsupportedStatementError(
                f"unsupported statement: {node.keyword} (qscript does not run it yet)"
            )
        else:
            raise UnsupportedStatementError(f"unsupported statement: {type(node).__name__}")

    def _sleep(self, node: n.Sleep) -> None:
        ms = as_number(self.evaluate(node.milliseconds), self.vars.settings())
        if ms is None or ms < 0:
            raise GeneralScriptError("SLEEP needs a number of milliseconds")
        self.clock.sleep(min(ms, MAX_SLEEP_MS) / 1000.0)

    # -- connections -----------------------------------------------------------------------------
    def connect(self, name: str) -> None:
        """LIB CONNECT TO 'name': the current connection until the next LIB CONNECT or DISCONNECT.

        A connection opened before keeps its HTTP session (and cookies) when a loop reconnects.
        """
        try:
            config = self.connections.get(name)
        except ConfigError as exc:
            raise GeneralScriptError(f"LIB CONNECT TO '{name}': {exc}") from None
        key = config.name
        if key not in self.connectors:
            self.connectors[key] = open_connector(
                key, config, redactor=self.redactor, log=self.log.write, sleep=self.clock.sleep,
                progress=self.progress,
            )
        self.connector = self.connectors[key]

    def select(self, statement: n.SqlSelect) -> SelectResult:
        if self.connector is None:
            raise GeneralScriptError("There is no open data connection")
        return self.connector.select(statement)

    def close(self) -> None:
        for connector in self.connectors.values():
            connector.close()
        self.connectors.clear()
        self.connector = None

    # -- errors ----------------------------------------------------------------------------------
    def succeed(self) -> None:
        self.vars.set_error("ScriptError", 0, "")

    def fail(self, error: ScriptError) -> None:
        """Record a failed statement, then continue (ErrorMode 0) or stop the reload."""
        text = SCRIPT_ERROR_TEXT.get(error.code, "General Error")
        error.message = self.redactor(error.message)  # secrets never leave in an error
        error.statement = self.redactor(error.statement)
        error.args = (error.message,)
        self.error_count += 1
        self.error_list.append(text)
        self.vars.set_error("ScriptError", error.code, text)
        self.vars.set_value("ScriptErrorCount", float(self.error_count))
        self.vars.set_text("ScriptErrorList", "\n".join(self.error_list))
        self.vars.set_text("ScriptErrorDetails", error.message)
        self.log.write(str(error))
        if self.error_mode() != 0:
            raise error

    def error_mode(self) -> float:
        value = self.vars.value("ErrorMode")
        number = None if value is MISSING else as_number(value, self.vars.settings())  # type: ignore[arg-type]
        return 1.0 if number is None else number

    # -- files -------------------------------------------------------------------------------
    def resolve_path(self, path: str) -> Path:
        """``lib://Folder/f.qvs`` and relative paths resolve under the base directory."""
        if path.lower().startswith("lib://"):
            path = path[len("lib://") :]
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def _read_include(self, path: str, must: bool) -> str | None:
        target = self.resolve_path(path)
        try:
            return target.read_text(encoding="utf-8-sig")
        except OSError:
            if must:
                raise ScriptFileNotFoundError(f"Must_Include file not found: {path}") from None
            return None


_HOUSEKEEPING = {
    n.DropTables: housekeeping.drop_tables,
    n.DropFields: housekeeping.drop_fields,
    n.RenameFields: housekeeping.rename_fields,
    n.RenameTables: housekeeping.rename_tables,
    n.Store: housekeeping.store,
    n.Qualify: housekeeping.qualify,
}


def set_text_value(text: str | None) -> str:
    """SET keeps raw text, trimmed; one whole ``'quoted'`` string loses its quotes."""
    if text is None:
        return ""
    text = text.strip()
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'" and "'" not in text[1:-1].replace("''", ""):
        return text[1:-1].replace("''", "'")
    return text


def _strip_brackets(path: str) -> str:
    path = path.strip()
    if len(path) >= 2 and (path[0], path[-1]) in (("[", "]"), ("'", "'"), ('"', '"')):
        return path[1:-1]
    return path


__all__ = ["Interpreter"]
