"""Parse expanded statement text into AST nodes with the Lark grammar.

The parser is built once per process (grammar analysis is the slow part) and results are
cached by text, because loops re-run the same expanded statements many times. Lark errors
are translated here, and only here, into :class:`ScriptSyntaxError` with a position.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError

from qscript.errors import QScriptError, ScriptSyntaxError
from qscript.script import nodes as n
from qscript.script.transform import ToNodes, unquote_name

#: Statements Qlik has and qscript does not run yet: they parse to ``Unsupported``.
UNSUPPORTED_STATEMENTS: tuple[str, ...] = (
    "ADD", "ALIAS", "AUTONUMBER", "BINARY", "BUFFER", "BUNDLE", "COMMENT",
    "CONNECT", "CUSTOM", "DECLARE", "DERIVE", "DIRECTORY",
    "EXECUTE", "FLUSHLOG", "FORCE", "HIERARCHY",
    "HIERARCHYBELONGSTO", "IMAGE_SIZE", "INFO", "INPUTFIELD", "INTERVALMATCH",
    "LOOSEN", "MAP", "NULLASNULL", "NULLASVALUE", "REPLACE",
    "SAMPLE", "SEARCH", "SECTION", "SEMANTIC", "SQLCOLUMNS", "SQLTABLES",
    "SQLTYPES", "STAR", "TAG", "UNMAP", "UNTAG",
)
#: A statement label: ``T:``, ``[My Table]:``, ``"My Table":`` (never ``lib://``).
_LABEL = re.compile(r'\s*(\[[^\]]*\]|"(?:[^"]|"")*"|[^\W\d][\w.%$@]*|%[\w.%$@]*)\s*:(?![/:=])')
_FIRST_WORD = re.compile(r"\s*([A-Za-z_]\w*)")


def grammar_text() -> str:
    """The grammar shipped in the wheel (``qscript/grammar``), else the checkout's ``grammar/``."""
    shipped = resources.files("qscript").joinpath("grammar/qlik.lark")
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "grammar" / "qlik.lark"
    return checkout.read_text(encoding="utf-8")


@cache
def _parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        start=["statement", "control", "expression"],
        maybe_placeholders=True,
        propagate_positions=True,
    )


def _parse(text: str, start: str) -> object:
    try:
        tree = _parser().parse(text, start=start)
        return ToNodes(text).transform(tree)
    except VisitError as exc:  # a transformer callback failed: unwrap lark's wrapper
        if isinstance(exc.orig_exc, QScriptError):
            raise exc.orig_exc from None
        raise
    except UnexpectedInput as exc:
        raise SyntaxAt(describe(exc, text), exc_offset(exc, text)) from None


class SyntaxAt(Exception):  # noqa: N818 - the front end's public name
    """A syntax error at ``offset`` of the parsed text; the caller adds file positions."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _at_end(exc: UnexpectedInput) -> bool:
    return isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END")


def exc_offset(exc: UnexpectedInput, text: str) -> int:
    # Lark's $END token borrows the position of the last real token: point past it instead.
    if _at_end(exc) or getattr(exc, "pos_in_stream", None) is None:
        return max(len(text.rstrip()) - 1, 0)
    return int(exc.pos_in_stream)


def describe(exc: UnexpectedInput, text: str) -> str:
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {text[exc.pos_in_stream]!r}"
    if isinstance(exc, UnexpectedToken) and not _at_end(exc):
        value = str(exc.token.value)
        if exc.token.type in ("RAW_REST", "FILE_PATH"):  # the catch-all terminal: name its first word or character
            word = re.match(r"[\w$%@][\w$%@#.]*", value)
            value = word.group(0) if word else value[0]
        return f"unexpected {value!r}"
    return "unexpected end of statement"


@lru_cache(maxsize=4096)
def parse_statement(text: str) -> n.Statement:
    """Parse one regular statement (already expanded, without ``;``)."""
    if label := _LABEL.match(text):
        return _labelled(text, label)
    word = _FIRST_WORD.match(text)
    keyword = word.group(1).upper() if word else ""
    if _looks_like_assignment(text, word) and keyword not in ("LET", "SET"):
        # ``Left = 1`` assigns a variable even though LEFT starts a JOIN prefix
        try:
            return _parse("LET " + text, "statement")  # type: ignore[return-value]
        except SyntaxAt as exc:
            raise SyntaxAt(exc.message, max(exc.offset - 4, 0)) from None
    if keyword in UNSUPPORTED_STATEMENTS:
        return n.Unsupported(keyword)
    try:
        return _parse(text, "statement")  # type: ignore[return-value]
    except SyntaxAt:
        if keyword in ("WHEN", "UNLESS") and (prefixed := _prefixed_unsupported(text, word.end())):
            return prefixed
        raise


def _prefixed_unsupported(text: str, after_keyword: int) -> n.Conditional | None:
    """``WHEN cond DROP TABLE T``: the grammar has no rule for the unsupported statement.

    Try each later word that starts an unsupported statement as the end of the condition.
    """
    for m in re.finditer(r"(?<![\w.$#%@])[A-Za-z_]\w*", text[after_keyword:]):
        start = after_keyword + m.start()
        if m.group(0).upper() not in (*UNSUPPORTED_STATEMENTS, "WHEN", "UNLESS"):
            continue
        try:
            condition = parse_expression(text[after_keyword:start])
            statement = parse_statement(text[start:])
        except SyntaxAt:
            continue
        unless = text[:after_keyword].strip().upper() == "UNLESS"
        return n.Conditional(unless, condition, statement)
    return None


def _looks_like_assignment(text: str, word: re.Match[str] | None) -> bool:
    """``Left = 1`` assigns a variable even though LEFT starts a JOIN prefix."""
    return word is not None and re.match(r"\s*=(?!=)", text[word.end() :]) is not None


def _labelled(text: str, label: re.Match[str]) -> n.Statement:
    """``Label: statement``: the label belongs to a LOAD (or a SELECT)."""
    name = unquote_name(label.group(1))
    try:
        node = parse_statement(text[label.end() :])
    except SyntaxAt as exc:
        raise SyntaxAt(exc.message, exc.offset + label.end()) from None
    if isinstance(node, n.LoadStatement):
        return dataclasses.replace(node, label=name)
    if isinstance(node, n.Unsupported):
        return node
    raise SyntaxAt("a label must be followed by LOAD or SELECT", label.start(1))


@lru_cache(maxsize=4096)
def parse_control(text: str) -> n.Control:
    """Parse one control clause (IF ... THEN, FOR ..., NEXT, CALL ...)."""
    return _parse(text, "control")  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> n.Expr:
    """Parse a lone expression, as ``$(=...)`` needs."""
    return _parse(text, "expression")  # type: ignore[return-value]


def syntax_error(exc: SyntaxAt, text: str, span, statement: str) -> ScriptSyntaxError:
    """Turn an offset in ``text`` (which starts at ``span``) into a positioned error."""
    position = span.shifted(text, exc.offset) if span is not None else None
    return ScriptSyntaxError(exc.message, position, statement)
