"""Split script text into control lines and raw regular statements.

Qlik lexes two kinds of statement differently (help "Script statements and keywords"):

* control statements (IF, FOR, DO, SUB, CALL, SWITCH, EXIT and their clauses) end at a
  ``;`` *or at the end of the line*; an IF/ELSEIF clause also ends after its THEN, so
  ``IF x THEN TRACE y; END IF`` works on one line;
* regular statements run until the next ``;`` and may span many lines.

The splitter respects ``'strings'`` (``''`` escapes), ``"names"`` (``""`` escapes),
``[names]``, backticks, ``//`` comments (not right after ``:`` as in ``lib://``),
``/* */`` comments and ``REM ...;``. INLINE bodies sit inside ``[...]`` and SQL string
literals inside ``"..."``, so their ``;`` and newlines never end a statement. Comments are
blanked to spaces (newlines kept) so every offset in a statement's text maps back to the
source unchanged. Dollar expansion has not happened yet: statement boundaries come from
the raw text, as in Qlik.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from qscript.errors import ScriptSyntaxError
from qscript.span import Span

#: First words of control statements, longest alternatives first; value = normalised kind.
#: A keyword followed by ``:`` is a table label (``Next: LOAD ...``), not a control line.
_CONTROL_RE = re.compile(
    r"(elseif|else|end[ \t]*if|endif|if|for|next|do|loop|exit|sub|end[ \t]*sub|endsub"
    r"|call|switch|case|default|end[ \t]*switch)(?![\w.$#%@])(?![ \t]*:(?!:))",
    re.IGNORECASE,
)
_TRACE_RE = re.compile(r"trace(?![\w.$#%@])", re.IGNORECASE)
_REM_RE = re.compile(r"rem(?=[\s;]|\Z)", re.IGNORECASE)
_THEN_RE = re.compile(r"then(?![\w.$#%@])", re.IGNORECASE)
_WORD_CHARS = re.compile(r"[\w.$#%@]")

_CLOSERS = {"'": "'", '"': '"', "[": "]", "`": "`"}
#: Quote characters whose closer is escaped by doubling it.
_DOUBLING = {"'", '"'}


@dataclass(frozen=True, slots=True)
class RawStatement:
    """One statement as written: text without its ``;``, comments blanked.

    ``control`` is the normalised control keyword (``if``, ``elseif``, ``else``, ``endif``,
    ``for``, ``next``, ``do``, ``loop``, ``exit``, ``sub``, ``endsub``, ``call``, ``switch``,
    ``case``, ``default``, ``endswitch``) or ``None`` for a regular statement.
    """

    text: str
    span: Span
    control: str | None = None


class _Source:
    """Source text plus the line table used to turn offsets into spans."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(max(end - 1, start))
        return Span(self.file, line, column, end_line, end_column)

    def error(self, message: str, offset: int) -> ScriptSyntaxError:
        line_no, _ = self.position(offset)
        line = self.text[self.line_starts[line_no - 1] :].split("\n", 1)[0]
        return ScriptSyntaxError(message, self.span(offset, offset + 1), line.strip())


def normalise_newlines(text: str) -> str:
    """Drop a BOM and turn CRLF/CR into LF so columns count what editors show."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def split(text: str, file: str = "<script>") -> list[RawStatement]:
    """Split a whole script into raw statements, in source order."""
    return _Splitter(_Source(normalise_newlines(text), file)).run()


class _Splitter:
    def __init__(self, source: _Source) -> None:
        self.src = source
        self.text = source.text
        self.out: list[str] = []  # the text with comments blanked, built as we scan
        self.statements: list[RawStatement] = []

    # -- scanning helpers --------------------------------------------------------------
    def _skip_quoted(self, pos: int) -> int:
        """``pos`` is on an opening quote; return the offset just past its closer."""
        text = self.text
        opener = text[pos]
        closer = _CLOSERS[opener]
        i = pos + 1
        while True:
            j = text.find(closer, i)
            if j < 0:
                kind = {"'": "string", '"': "quoted name", "[": "bracketed name", "`": "quoted name"}
                raise self.src.error(f"unterminated {kind[opener]} starting with {opener}", pos)
            if opener in _DOUBLING and text.startswith(closer * 2, j):
                i = j + 2
                continue
            return j + 1

    def _comment_end(self, pos: int) -> int | None:
        """If a comment starts at ``pos``, return the offset just past it."""
        text = self.text
        if text.startswith("//", pos) and (pos == 0 or text[pos - 1] != ":"):
            end = text.find("\n", pos)
            return len(text) if end < 0 else end
        if text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                raise self.src.error("unterminated /* comment", pos)
            return end + 2
        return None

    def _slash(self, pos: int, pieces: list[str]) -> int:
        """At a ``/``: blank a comment that starts here, or keep the slash; the next offset."""
        end = self._comment_end(pos)
        if end is None:
            pieces.append("/")
            return pos + 1
        pieces.append(self._blank(pos, end))
        return end

    def _blank(self, start: int, end: int) -> str:
        return re.sub(r"[^\n]", " ", self.text[start:end])

    def _skip_blank_and_comments(self, pos: int) -> int:
        text = self.text
        while pos < len(text):
            if text[pos].isspace() or text[pos] == ";":
                pos += 1
                continue
            end = self._comment_end(pos)
            if end is None:
                return pos
            pos = end
        return pos

    # -- statement kinds ---------------------------------------------------------------
    def run(self) -> list[RawStatement]:
        pos = 0
        while True:
            pos = self._skip_blank_and_comments(pos)
            if pos >= len(self.text):
                return self.statements
            pos = self._statement(pos)

    def _statement(self, start: int) -> int:
        text = self.text
        if m := _REM_RE.match(text, start):
            end = text.find(";", m.end())
            return len(text) if end < 0 else end + 1
        if m := _CONTROL_RE.match(text, start):
            kind = re.sub(r"[ \t]", "", m.group(1).lower())
            return self._control(start, m.end(), kind)
        if _TRACE_RE.match(text, start):
            return self._trace(start)
        return self._regular(start)

    def _emit(self, start: int, end: int, pieces: list[str], control: str | None) -> None:
        body = "".join(pieces)
        stripped = body.rstrip()
        if stripped:
            self.statements.append(
                RawStatement(stripped, self.src.span(start, start + len(stripped)), control)
            )

    def _regular(self, start: int) -> int:
        """Scan to the next ``;`` outside quotes and comments."""
        text, pieces, pos = self.text, [], start
        special = re.compile(r"[;'\"\[`/]")
        while True:
            m = special.search(text, pos)
            if m is None:
                pieces.append(text[pos:])
                self._emit(start, len(text), pieces, None)
                return len(text)
            i = m.start()
            pieces.append(text[pos:i])
            ch = text[i]
            if ch == ";":
                self._emit(start, i, pieces, None)
                return i + 1
            if ch == "/":
                pos = self._slash(i, pieces)
                continue
            end = self._skip_quoted(i)
            pieces.append(text[i:end])
            pos = end

    def _trace(self, start: int) -> int:
        """TRACE text is raw: quotes do not nest, only ``$(...)`` protects a ``;``.

        Inside ``$(...)`` parentheses nest and ``'...'`` strings are skipped, as in
        :func:`qscript.script.expand.find_close`, so ``$(=f(g(1)) & ';')`` stays whole.
        """
        text, pieces, pos, depth = self.text, [], start, 0
        while pos < len(text):
            ch = text[pos]
            if text.startswith("$(", pos):
                depth += 1
                pieces.append("$(")
                pos += 2
                continue
            if depth and ch == "'" and (close := text.find("'", pos + 1)) >= 0:
                pieces.append(text[pos : close + 1])
                pos = close + 1
                continue
            if ch == "(" and depth:
                depth += 1
            elif ch == ")" and depth:
                depth -= 1
            elif ch == ";" and depth == 0:
                self._emit(start, pos, pieces, None)
                return pos + 1
            elif ch == "/" and (end := self._comment_end(pos)) is not None:
                pieces.append(self._blank(pos, end))
                pos = end
                continue
            pieces.append(ch)
            pos += 1
        self._emit(start, len(text), pieces, None)
        return len(text)

    def _control(self, start: int, after_keyword: int, kind: str) -> int:
        """A control clause ends at ``;``, at the end of the line, or after THEN/ELSE."""
        text, pieces, pos = self.text, [], start
        if kind in ("else", "default"):
            self._emit(start, after_keyword, [text[start:after_keyword]], kind)
            return after_keyword
        wants_then = kind in ("if", "elseif")
        special = re.compile(r"[;\n'\"\[`/]|(?i:then)(?![\w.$#%@])")
        while True:
            m = special.search(text, pos)
            if m is None:
                pieces.append(text[pos:])
                self._emit(start, len(text), pieces, kind)
                return len(text)
            i = m.start()
            pieces.append(text[pos:i])
            ch = text[i]
            if ch in ";\n":
                self._emit(start, i, pieces, kind)
                return i + 1
            if ch == "/":
                pos = self._slash(i, pieces)
                continue
            if ch in _CLOSERS:
                end = self._skip_quoted(i)
                pieces.append(text[i:end])
                pos = end
                continue
            # THEN keyword: ends an IF/ELSEIF clause when it is a whole word.
            end = m.end()
            if wants_then and (i == 0 or not _WORD_CHARS.match(text[i - 1])):
                pieces.append(text[i:end])
                self._emit(start, end, pieces, kind)
                return end
            pieces.append(text[i:end])
            pos = end
