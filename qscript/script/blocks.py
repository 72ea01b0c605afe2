"""Control lines -> a block tree (IF/FOR/DO/SUB/SWITCH) holding raw statements.

The structure comes from each control line's first keyword, known before expansion; the
clauses themselves (conditions, bounds) are expanded and parsed each time they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qscript.errors import ScriptSyntaxError
from qscript.script.splitter import RawStatement


@dataclass
class IfBlock:
    """``branches``: (IF or ELSEIF clause, body) in order; ``otherwise``: the ELSE body."""

    branches: list[tuple[RawStatement, list[Block]]]
    otherwise: list[Block] | None
    end: RawStatement


@dataclass
class ForBlock:
    """FOR ... TO and FOR EACH, closed by NEXT."""

    head: RawStatement
    body: list[Block]
    end: RawStatement


@dataclass
class DoBlock:
    head: RawStatement
    body: list[Block]
    end: RawStatement


@dataclass
class SubBlock:
    head: RawStatement
    body: list[Block]


@dataclass
class SwitchBlock:
    head: RawStatement
    cases: list[tuple[RawStatement, list[Block]]]
    default: list[Block] | None


Block = RawStatement | IfBlock | ForBlock | DoBlock | SubBlock | SwitchBlock

_OPENERS = {"if": "END IF", "for": "NEXT", "do": "LOOP", "sub": "END SUB", "switch": "END SWITCH"}
_CLOSER_OF = {"endif": "if", "next": "for", "loop": "do", "endsub": "sub", "endswitch": "switch"}
_CLAUSES = {"elseif": "if", "else": "if", "case": "switch", "default": "switch"}
#: How each control kind is written in messages (the raw text may carry arguments).
_WORDS = {
    "if": "IF", "elseif": "ELSEIF", "else": "ELSE", "endif": "END IF", "for": "FOR", "next": "NEXT",
    "do": "DO", "loop": "LOOP", "sub": "SUB", "endsub": "END SUB", "switch": "SWITCH", "case": "CASE",
    "default": "DEFAULT", "endswitch": "END SWITCH",
}


@dataclass
class _Open:
    kind: str
    head: RawStatement
    body: list[Block] = field(default_factory=list)
    sections: list[tuple[RawStatement, list[Block]]] = field(default_factory=list)
    tail: list[Block] | None = None  # ELSE / DEFAULT body once seen


def build(statements: list[RawStatement]) -> list[Block]:
    """Nest raw statements into blocks; unbalanced control lines are syntax errors."""
    root: list[Block] = []
    stack: list[_Open] = []

    def current() -> list[Block]:
        if not stack:
            return root
        top = stack[-1]
        if top.tail is not None:
            return top.tail
        return top.sections[-1][1] if top.sections else top.body

    for raw in statements:
        kind = raw.control
        if kind not in _CLAUSES and kind not in _CLOSER_OF and _before_first_case(stack):
            raise ScriptSyntaxError("statement before the first CASE of SWITCH", raw.span, raw.text)
        if kind in _OPENERS:
            opened = _Open(kind, raw)
            if kind == "if":
                opened.sections.append((raw, []))
            stack.append(opened)
        elif kind in _CLAUSES:
            _clause(stack, raw, kind)
        elif kind in _CLOSER_OF:
            block = _close(stack, raw, kind)
            current().append(block)
        else:
            current().append(raw)
    if stack:
        top = stack[-1]
        raise ScriptSyntaxError(f"{_WORDS[top.kind]} without {_OPENERS[top.kind]}", top.head.span, top.head.text)
    return root


def _before_first_case(stack: list[_Open]) -> bool:
    top = stack[-1] if stack else None
    return top is not None and top.kind == "switch" and not top.sections and top.tail is None


def _clause(stack: list[_Open], raw: RawStatement, kind: str) -> None:
    owner = _CLAUSES[kind]
    if not stack or stack[-1].kind != owner:
        raise ScriptSyntaxError(f"{_WORDS[kind]} without {owner.upper()}{_still_open(stack)}", raw.span, raw.text)
    top = stack[-1]
    if top.tail is not None:
        raise ScriptSyntaxError(f"{_WORDS[kind]} after {'ELSE' if owner == 'if' else 'DEFAULT'}", raw.span, raw.text)
    if kind in ("else", "default"):
        top.tail = []
    else:
        top.sections.append((raw, []))


def _close(stack: list[_Open], raw: RawStatement, kind: str) -> Block:
    opener = _CLOSER_OF[kind]
    if not stack or stack[-1].kind != opener:
        raise ScriptSyntaxError(f"{_WORDS[kind]} without {opener.upper()}{_still_open(stack)}", raw.span, raw.text)
    top = stack.pop()
    if opener == "if":
        return IfBlock(top.sections, top.tail, raw)
    if opener == "for":
        return ForBlock(top.head, top.body, raw)
    if opener == "do":
        return DoBlock(top.head, top.body, raw)
    if opener == "sub":
        return SubBlock(top.head, top.body)
    return SwitchBlock(top.head, top.sections, top.tail)


def _still_open(stack: list[_Open]) -> str:
    """Name the innermost open block, the usual cause of a mismatched clause or closer."""
    if not stack:
        return ""
    top = stack[-1]
    return f" ({_WORDS[top.kind]} at line {top.head.span.line} is still open)"
