"""Dollar-sign expansion: ``$(v)``, ``$(#v)``, ``$(v(a,b))``, ``$(=expr)``, ``$(Include=f)``.

Expansion is textual and runs on a statement every time it executes, before parsing, so
it can inject syntax (``$(vConcat) LOAD ...``). Nested forms expand innermost first
(``$(v$(i))``). The result of a substitution is not scanned again. The front end knows
no evaluator: the interpreter passes callbacks for variables, ``$(=...)`` and files.

The result carries an offset map so a parse error in expanded text can point back at the
source: offsets inside literal text map exactly, offsets inside a substitution map to
the ``$`` that produced it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from qscript.errors import ScriptSyntaxError

MAX_DEPTH = 1000

_INCLUDE = re.compile(r"\s*(must_include|include)\s*=\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)
_CALL = re.compile(r"\s*([^()]+?)\s*\((.*)\)\s*$", re.DOTALL)
_PARAM = re.compile(r"\$(\d+)")


@dataclass(frozen=True)
class Expander:
    """Callbacks the expansion needs from the interpreter.

    ``variable(name)`` gives a variable's text or ``None`` when undefined; ``number(name)``
    its number as text with ``.`` decimals (``$(#v)``); ``evaluate(text)`` the text of an
    expression's value; ``include(path, must)`` a file's text (``None`` when an optional
    include is missing).
    """

    variable: Callable[[str], str | None]
    number: Callable[[str], str]
    evaluate: Callable[[str], str]
    include: Callable[[str, bool], str | None]


@dataclass(frozen=True)
class Expanded:
    """Expanded text plus ``(out_start, out_end, src_start, src_end)`` per substitution."""

    text: str
    substitutions: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.substitutions)

    def source_offset(self, offset: int) -> int:
        """Map an offset in the expanded text back to the raw text."""
        shift = 0
        for out_start, out_end, src_start, src_end in self.substitutions:
            if offset < out_start:
                break
            if offset < out_end:
                return src_start
            shift = src_end - out_end
        return offset + shift


def find_close(text: str, start: int) -> int:
    """Offset of the ``)`` closing a ``$(`` whose content starts at ``start``, or -1.

    Parentheses nest; a ``'...'`` string inside protects its parentheses.
    """
    depth, i, n = 1, start, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return -1
            i = end + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def split_args(text: str) -> list[str]:
    """Split ``a, 'b,c', f(d, e)`` at top-level commas; arguments are not trimmed."""
    args, depth, current, quote = [], 0, [], False
    for ch in text:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        elif not quote and depth == 0 and ch == ",":
            args.append("".join(current))
            current = []
            continue
        current.append(ch)
    args.append("".join(current))
    return args


def substitute_params(body: str, args: list[str]) -> str:
    """Replace ``$1..$n`` by arguments and ``$0`` by their count; others stay literal."""

    def one(match: re.Match[str]) -> str:
        k = int(match.group(1))
        if k == 0:
            return str(len(args))
        return args[k - 1] if k <= len(args) else match.group(0)

    return _PARAM.sub(one, body)


def _unbracket(path: str) -> str:
    path = path.strip()
    if len(path) >= 2 and (path[0], path[-1]) in (("[", "]"), ('"', '"'), ("'", "'")):
        return path[1:-1]
    return path


def resolve(inner: str, expander: Expander) -> str:
    """The replacement text for the (already expanded) content of one ``$(...)``."""
    stripped = inner.strip()
    if stripped.startswith("="):
        return expander.evaluate(stripped[1:])
    if stripped.startswith("#"):
        return expander.number(stripped[1:].strip())
    if m := _INCLUDE.match(inner):
        text = expander.include(_unbracket(m.group(2)), m.group(1).lower() == "must_include")
        return "" if text is None else text
    if expander.variable(stripped) is None and (m := _CALL.match(inner)):
        body = expander.variable(m.group(1))
        if body is not None:
            return substitute_params(body, split_args(m.group(2)))
    value = expander.variable(stripped)
    return "" if value is None else value


@dataclass
class _Level:
    """One text being expanded: the whole statement, or the content of an enclosing ``$(``."""

    text: str
    where: tuple[int, int] = (0, 0)  # ``$`` offset and ``)`` offset in the parent's text
    pos: int = 0
    pieces: list[str] = field(default_factory=list)
    out_len: int = 0


def expand(text: str, expander: Expander) -> Expanded:
    """Expand every ``$(...)`` in ``text``, innermost first.

    Iterative rather than recursive, so 1000 nested levels stay within Python's stack.
    """
    if "$(" not in text:
        return Expanded(text)
    subs: list[tuple[int, int, int, int]] = []
    stack = [_Level(text)]
    while True:
        level = stack[-1]
        start, close = _next_expansion(level.text, level.pos)
        if start < 0:
            result = "".join(level.pieces) + level.text[level.pos :]
            stack.pop()
            if not stack:
                return Expanded(result, tuple(subs))
            _substitute(stack, level.where, resolve(result, expander), subs)
            continue
        inner = level.text[start + 2 : close]
        if "$(" in inner:
            if len(stack) >= MAX_DEPTH:
                raise ScriptSyntaxError(f"dollar-sign expansion nested more than {MAX_DEPTH} levels")
            stack.append(_Level(inner, (start, close)))
            continue
        _substitute(stack, (start, close), resolve(inner, expander), subs)


def _next_expansion(text: str, pos: int) -> tuple[int, int]:
    """``($ offset, ) offset)`` of the next closed ``$(...)``; an unclosed ``$(`` stays literal."""
    start = text.find("$(", pos)
    while start >= 0:
        close = find_close(text, start + 2)
        if close >= 0:
            return start, close
        start = text.find("$(", start + 2)
    return -1, -1


def _substitute(
    stack: list[_Level], where: tuple[int, int], replacement: str, subs: list[tuple[int, int, int, int]]
) -> None:
    """Append literal text and one replacement to the innermost level; record it at the top level."""
    level = stack[-1]
    start, close = where
    literal = level.text[level.pos : start]
    level.pieces += (literal, replacement)
    if len(stack) == 1:
        level.out_len += len(literal)
        subs.append((level.out_len, level.out_len + len(replacement), start, close + 1))
        level.out_len += len(replacement)
    level.pos = close + 1
