"""Control flow: IF, FOR, FOR EACH, DO/LOOP, SUB/CALL, SWITCH and EXIT.

EXIT statements travel as exceptions to the construct they leave. A control clause that
fails (bad syntax after expansion, an unknown function) is a script error like any other:
under ErrorMode 0 its condition counts as false and its loop does not run.
"""

from __future__ import annotations

import glob
import os
from typing import TYPE_CHECKING

from qscript.errors import GeneralScriptError, ScriptError, ScriptSyntaxError
from qscript.expr.values import Value, as_number
from qscript.script import nodes as n
from qscript.script.blocks import Block, DoBlock, ForBlock, IfBlock, SubBlock, SwitchBlock
from qscript.script.splitter import RawStatement

if TYPE_CHECKING:
    from qscript.engine.interpreter import Interpreter


class FlowSignal(Exception):  # noqa: N818 - a signal, not an error
    """Base of the EXIT signals; never reaches a user."""


class ExitDo(FlowSignal):
    pass


class ExitFor(FlowSignal):
    pass


class ExitSub(FlowSignal):
    pass


class ExitScript(FlowSignal):
    pass


_EXIT_SIGNALS = {"DO": ExitDo, "FOR": ExitFor, "SUB": ExitSub, "SCRIPT": ExitScript}
_FAILED = object()


def run_blocks(it: Interpreter, blocks: list[Block]) -> None:
    for block in blocks:
        run_block(it, block)


def run_block(it: Interpreter, block: Block) -> None:
    if isinstance(block, RawStatement):
        if block.control is None:
            it.run_statement(block)
        elif block.control == "exit":
            _exit(it, block)
        elif block.control == "call":
            _call(it, block)
        else:
            it.fail(ScriptSyntaxError(f"misplaced {block.text}", block.span, block.text))
    elif isinstance(block, IfBlock):
        _if(it, block)
    elif isinstance(block, ForBlock):
        _for(it, block)
    elif isinstance(block, DoBlock):
        _do(it, block)
    elif isinstance(block, SubBlock):
        _define_sub(it, block)
    elif isinstance(block, SwitchBlock):
        _switch(it, block)


def _clause(it: Interpreter, raw: RawStatement, expected: type) -> n.Control | None:
    """Parse a control clause; on error apply ErrorMode and return None."""
    try:
        clause = it.parse_control(raw)
        if not isinstance(clause, expected):
            raise ScriptSyntaxError(f"expected {expected.__name__} clause", raw.span, raw.text)
        return clause
    except ScriptError as exc:
        it.fail(exc.located(raw.span, raw.text))
        return None


def _guarded(it: Interpreter, raw: RawStatement, compute):
    """Evaluate inside a clause; an error applies ErrorMode and gives ``_FAILED``."""
    try:
        return compute()
    except ScriptError as exc:
        it.fail(exc.located(raw.span, raw.text))
        return _FAILED


def _condition(it: Interpreter, raw: RawStatement, expr: n.Expr | None) -> bool:
    if expr is None:
        return True
    result = _guarded(it, raw, lambda: it.truth(expr))
    return result is not _FAILED and bool(result)


def _if(it: Interpreter, block: IfBlock) -> None:
    for raw, body in block.branches:
        clause = _clause(it, raw, (n.If, n.ElseIf))  # type: ignore[arg-type]
        if clause is not None and _condition(it, raw, clause.condition):  # type: ignore[attr-defined]
            run_blocks(it, body)
            return
    if block.otherwise is not None:
        run_blocks(it, block.otherwise)


def _number(it: Interpreter, raw: RawStatement, expr: n.Expr, what: str) -> float | None:
    def compute() -> float:
        value = as_number(it.evaluate(expr), it.vars.settings())
        if value is None:
            raise GeneralScriptError(f"FOR {what} is not a number")
        return value

    result = _guarded(it, raw, compute)
    return None if result is _FAILED else result


def _for(it: Interpreter, block: ForBlock) -> None:
    clause = _clause(it, block.head, (n.ForNext, n.ForEach))  # type: ignore[arg-type]
    if clause is None:
        return
    if isinstance(clause, n.ForEach):
        values = _guarded(it, block.head, lambda: _for_each_values(it, clause))
        if values is _FAILED:
            return
    else:
        values = _for_next_values(it, block.head, clause)
        if values is None:
            return
    for value in values:
        it.vars.set_value(clause.variable, value)
        try:
            run_blocks(it, block.body)
        except ExitFor:
            break


def _for_next_values(it: Interpreter, raw: RawStatement, clause: n.ForNext):
    """Bounds and step are evaluated once, so changing them in the body changes nothing."""
    start = _number(it, raw, clause.start, "start")
    end = _number(it, raw, clause.end, "end") if start is not None else None
    step = 1.0 if clause.step is None else _number(it, raw, clause.step, "step")
    if start is None or end is None or step is None:
        return None
    if step == 0:
        it.fail(GeneralScriptError("FOR ... STEP 0 never ends", raw.span, raw.text))
        return None
    return _counter(start, end, step)


def _counter(start: float, end: float, step: float):
    """The loop counter runs on its own: assigning to the variable does not move it."""
    k = 0
    while True:
        value = start + k * step
        if (step > 0 and value > end + 1e-9 * abs(step)) or (step < 0 and value < end - 1e-9 * abs(step)):
            return
        yield value
        k += 1


def _for_each_values(it: Interpreter, clause: n.ForEach) -> list[Value]:
    values: list[Value] = []
    for item in clause.items:
        if isinstance(item, n.FunctionCall) and item.name.lower() in ("filelist", "dirlist"):
            values.extend(_file_list(it, item))
        elif isinstance(item, n.FunctionCall) and item.name.lower() == "fieldvaluelist":
            values.extend(it.field_value_list(item))
        else:
            values.append(it.evaluate(item))
    return values


def _file_list(it: Interpreter, item: n.FunctionCall) -> list[Value]:
    """FileList('mask') / DirList('mask'): matching paths, sorted, as text."""
    if len(item.args) != 1 or item.args[0] is None:
        raise ScriptSyntaxError(f"{item.name}() takes 1 argument")
    mask = it.evaluate(item.args[0])
    if not isinstance(mask, str):
        raise GeneralScriptError(f"{item.name}() needs a text mask")
    base = it.resolve_path(mask)
    want_dirs = item.name.lower() == "dirlist"
    matches = sorted(glob.glob(str(base)))
    return [m for m in matches if os.path.isdir(m) == want_dirs]


def _do(it: Interpreter, block: DoBlock) -> None:
    """DO/LOOP; both clauses are expanded and parsed again on every pass."""
    while True:
        if not _loop_goes_on(it, block.head, n.Do):
            return
        try:
            run_blocks(it, block.body)
        except ExitDo:
            return
        if not _loop_goes_on(it, block.end, n.Loop):
            return


def _loop_goes_on(it: Interpreter, raw: RawStatement, kind: type) -> bool:
    clause = _clause(it, raw, kind)
    if clause is None:
        return False
    if clause.condition is None:  # type: ignore[attr-defined]
        return True
    # A condition that fails (ErrorMode 0) ends the loop rather than spinning forever.
    holds = _guarded(it, raw, lambda: it.truth(clause.condition))  # type: ignore[attr-defined]
    return holds is not _FAILED and holds != clause.until  # type: ignore[attr-defined]


def _exit(it: Interpreter, raw: RawStatement) -> None:
    clause = _clause(it, raw, n.Exit)
    if clause is None:
        return
    if clause.condition is not None and _condition(it, raw, clause.condition) == clause.unless:
        return
    signal = _EXIT_SIGNALS.get(clause.target)
    if signal is None:
        it.fail(ScriptSyntaxError(f"EXIT {clause.target} is not supported", raw.span, raw.text))
        return
    raise signal()


def _define_sub(it: Interpreter, block: SubBlock) -> None:
    head = _clause(it, block.head, n.SubHead)
    if head is not None:
        it.subs[head.name.lower()] = block


def _call(it: Interpreter, raw: RawStatement) -> None:
    """CALL: copy arguments in; formals are local; a variable argument gets the final value back."""
    clause = _clause(it, raw, n.CallSub)
    if clause is None:
        return
    sub = it.subs.get(clause.name.lower())
    if sub is None:
        it.fail(GeneralScriptError(f"Sub not found: {clause.name}", raw.span, raw.text))
        return
    head = it.parse_control(sub.head)
    assert isinstance(head, n.SubHead)
    args = _guarded(it, raw, lambda: [None if a is None else it.evaluate(a) for a in clause.args])
    if args is _FAILED:
        return
    saved = {p: it.vars.snapshot(p) for p in head.params}
    for index, param in enumerate(head.params):
        it.vars.set_value(param, args[index] if index < len(args) else None)
    try:
        run_blocks(it, sub.body)
    except ExitSub:
        pass
    finally:
        finals = {p: it.vars.snapshot(p) for p in head.params}
        for param, var in saved.items():
            it.vars.restore(param, var)
    for index, param in enumerate(head.params):
        arg = clause.args[index] if index < len(clause.args) else None
        if isinstance(arg, n.FieldRef):
            it.vars.restore(arg.name, finals[param])
    it.succeed()


def _switch(it: Interpreter, block: SwitchBlock) -> None:
    head = _clause(it, block.head, n.Switch)
    if head is None:
        return
    subject = _guarded(it, block.head, lambda: it.evaluate(head.expr))
    if subject is _FAILED:
        return
    for raw, body in block.cases:
        case = _clause(it, raw, n.Case)
        if case is None:
            continue
        matched = _guarded(it, raw, lambda c=case: any(it.equals(subject, it.evaluate(v)) for v in c.values))
        if matched is True:
            run_blocks(it, body)
            return
    if block.default is not None:
        run_blocks(it, block.default)
