"""Offline syntax check: everything that can be checked without running the script.

Statements containing ``$(`` depend on run-time values and are skipped; every other
statement and control clause is parsed, and its function calls are checked against the
registry (unknown names, wrong argument counts). All errors are collected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from qscript.errors import ScriptError, ScriptSyntaxError
from qscript.expr import registry
from qscript.script import nodes as n
from qscript.script.blocks import build
from qscript.script.parse import SyntaxAt, parse_control, parse_statement, syntax_error
from qscript.script.splitter import RawStatement, split

_NOT_PARSED = {"else", "default"}


def check(source: str, file: str = "<script>") -> list[ScriptError]:
    """Return every syntax error found, in source order."""
    try:
        statements = split(source, file)
    except ScriptSyntaxError as exc:
        return [exc]
    errors: list[ScriptError] = []
    try:
        build(statements)
    except ScriptSyntaxError as exc:
        errors.append(exc)
    for raw in statements:
        if "$(" in raw.text or raw.control in _NOT_PARSED:
            continue
        error = _check_statement(raw)
        if error is not None:
            errors.append(error)
    errors.sort(key=lambda e: (e.line or 0, e.column or 0))
    return errors


def _check_statement(raw: RawStatement) -> ScriptError | None:
    try:
        node = parse_control(raw.text) if raw.control else parse_statement(raw.text)
    except SyntaxAt as exc:
        return syntax_error(exc, raw.text, raw.span, raw.text)
    for call in _function_calls(node):
        spec = registry.lookup(call.name)
        message = f"Unknown function: {call.name}" if spec is None else spec.arity_error(len(call.args))
        if message:
            return ScriptSyntaxError(message, raw.span, raw.text)
    return None


def _function_calls(node: object) -> Iterator[n.FunctionCall]:
    """Every function call inside a node, depth first."""
    if isinstance(node, n.FunctionCall):
        yield node
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            yield from _function_calls(getattr(node, f.name))
    elif isinstance(node, tuple):
        for item in node:
            yield from _function_calls(item)
