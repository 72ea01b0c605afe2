"""Tab completion for the REPL: keywords, functions and the names the session holds now.

What to offer depends on where the cursor sits, because Qlik reads a word differently
there: after ``$(`` a variable, inside ``[...]`` or ``"..."`` a field or table name,
inside ``'...'`` after ``LIB CONNECT TO`` a connection, in a comment nothing, at the
start of a dot command a command name. The names are read from the session on every
request, so a table loaded a moment ago completes at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

import qscript
from qscript.expr import registry

#: Statement words and clauses; multi-word ones complete whole (``GROUP BY``, ``END IF``).
KEYWORDS: tuple[str, ...] = (
    "ADD", "AND", "AS", "ASC", "AUTOGENERATE", "BITAND", "BITNOT", "BITOR", "BITXOR", "BY", "CALL", "CASE",
    "CONCATENATE", "CONNECT", "CROSSTABLE", "DEFAULT", "DELIMITER IS", "DESC", "DIRLIST", "DISCONNECT",
    "DISTINCT", "DO", "DO WHILE", "DO UNTIL", "DROP FIELD", "DROP FIELDS", "DROP TABLE", "DROP TABLES",
    "DROP VARIABLES", "EACH", "ELSE", "ELSEIF", "EMBEDDED LABELS", "END IF", "END SUB", "END SWITCH",
    "ERRORMODE", "EXIT", "EXIT DO", "EXIT FOR", "EXIT SCRIPT", "EXIT SUB", "FIELDVALUELIST", "FILELIST",
    "FIRST", "FOLLOWS", "FOR", "FOR EACH", "FROM", "GROUP BY", "HEADER IS", "IF", "IN", "INLINE", "INNER",
    "INTO", "JOIN", "KEEP", "LEFT", "LET", "LIB CONNECT TO", "LIKE", "LOAD", "LOOP", "LOOP UNTIL",
    "LOOP WHILE", "MAPPING", "NEXT", "NO LABELS", "NOCONCATENATE", "NOT", "OR", "ORDER BY", "OUTER",
    "PARQUET", "PRECEDES", "QUALIFY", "QVD", "RENAME FIELD", "RENAME FIELDS", "RENAME TABLE", "RENAME TABLES",
    "RESIDENT", "RIGHT", "SELECT", "SET", "SLEEP", "SQL", "STEP", "STORE", "SUB", "SWITCH", "THEN", "TO",
    "TRACE", "TXT", "UNLESS", "UNQUALIFY", "UNTIL", "USING", "WHEN", "WHERE", "WHILE", "WITH CONNECTION",
    "XOR",
)

_WORD = re.compile(r"[\w%#.@]*\Z")
_DOLLAR = re.compile(r"\$\(#?([\w%#.@]*)\Z")
_CONNECT_QUOTE = re.compile(r"\bconnect\s+to\s*'\Z", re.IGNORECASE)
_PLAIN_NAME = re.compile(r"[A-Za-z_%@\u00C0-\uFFFF][\w%#.@]*\Z")
_CLOSERS = {"'": "'", '"': '"', "`": "`", "[": "]"}


def function_names() -> list[str]:
    """Qlik's spelling of every function the interpreter knows (``lookup`` fills the registry)."""
    registry.lookup("")
    return sorted({spec.name for spec in registry.REGISTRY.values()}, key=str.lower)


def variable_names(session: qscript.Session) -> list[str]:
    """The session's variable names, cheaply.

    ``Session.result()`` turns every table into a DataFrame, far too slow to run on each
    keystroke, so the names come from the interpreter's variable store when it has one.
    """
    store = getattr(getattr(session, "interpreter", None), "vars", None)
    return list(store) if store is not None else list(session.result().variables)


def connection_names(session: qscript.Session) -> list[str]:
    """Connection names from the session's registry (empty when it has none)."""
    connections = getattr(getattr(session, "interpreter", None), "connections", None)
    names = getattr(connections, "names", None)
    return list(names()) if callable(names) else []


def cursor_context(text: str) -> tuple[str, int]:
    """Where ``text`` (the buffer before the cursor) ends: ``("code", len)``, ``("comment", len)``
    or an open quote character with the offset just after it (``("[", 12)``).

    The rules are the splitter's: ``''`` and ``""`` escape inside their quotes, ``//`` is
    no comment right after ``:`` (``lib://``).
    """
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _CLOSERS:
            closer = _CLOSERS[ch]
            j = text.find(closer, i + 1)
            while j >= 0 and ch in "'\"" and text.startswith(closer * 2, j):
                j = text.find(closer, j + 2)
            if j < 0:
                return ch, i + 1
            i = j + 1
        elif text.startswith("//", i) and (i == 0 or text[i - 1] != ":"):
            j = text.find("\n", i)
            if j < 0:
                return "comment", n
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                return "comment", n
            i = j + 2
        else:
            i += 1
    return "code", n


class QlikCompleter(Completer):
    """Completes Qlik script and REPL dot commands against a live session."""

    def __init__(self, session: qscript.Session, commands: Iterable[str]) -> None:
        self.session = session
        self.commands = sorted(commands)
        self.functions = function_names()
        self._paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        stripped = text.lstrip()
        if stripped.startswith(".") and "\n" not in stripped:
            yield from self._command(stripped, complete_event)
            return
        kind, start = cursor_context(text)
        if kind == "comment":
            return
        if kind in "[\"`":
            yield from self._names(text[start:])
        elif kind == "'":
            prefix = text[start:]
            if _CONNECT_QUOTE.search(text[:start]):
                yield from _matching(prefix, connection_names(self.session), "connection")
            else:
                yield from self._names(prefix)
        elif m := _DOLLAR.search(text):
            yield from _matching(m.group(1), sorted(variable_names(self.session), key=str.lower), "variable")
        else:
            word = _WORD.search(text).group()  # type: ignore[union-attr]  # the pattern matches ""
            if word or complete_event.completion_requested:
                yield from self._code(word)

    # -- the pieces -------------------------------------------------------------------------
    def _command(self, stripped: str, event: CompleteEvent) -> Iterator[Completion]:
        name, space, arg = stripped.partition(" ")
        if not space:
            yield from _matching(name, self.commands, "command")
            return
        arg = arg.lstrip()
        if name in (".show", ".fields"):
            yield from _matching(arg, self.session.table_names(), "table")
        elif name == ".vars":
            yield from _matching(arg, ["all"], "system variables too")
        elif name == ".run":
            yield from self._paths.get_completions(Document(arg, len(arg)), event)

    def _names(self, prefix: str) -> Iterator[Completion]:
        """Inside quotes: field names (with the tables that hold them), then table names."""
        yield from _matching(prefix, self._fields(), None)
        yield from _matching(prefix, self.session.table_names(), "table")

    def _fields(self) -> dict[str, str]:
        holders: dict[str, list[str]] = {}
        for table in self.session.table_names():
            for field in self.session.field_names(table):
                holders.setdefault(field, []).append(table)
        return {field: "field in " + ", ".join(tables) for field, tables in sorted(holders.items())}

    def _code(self, word: str) -> Iterator[Completion]:
        seen: set[str] = set()
        upper = not (word and word == word.lower())
        groups: list[tuple[Iterable[str] | dict[str, str], str | None, bool]] = [
            (self._fields(), None, True),
            (self.session.table_names(), "table", True),
            (sorted(variable_names(self.session), key=str.lower), "variable", True),
            (self.functions, "function", False),
            ([k if upper else k.lower() for k in KEYWORDS], "keyword", False),
        ]
        for names, meta, bracket in groups:
            for completion in _matching(word, names, meta, bracket=bracket):
                if completion.text not in seen:
                    seen.add(completion.text)
                    yield completion


def _matching(
    prefix: str, names: Iterable[str] | dict[str, str], meta: str | None, *, bracket: bool = False
) -> Iterator[Completion]:
    """Names that start with ``prefix`` (ignoring case, as the user may not remember it).

    ``names`` may map each name to its own description. With ``bracket``, a name that is
    no plain identifier (it has a blank, say) is inserted as ``[name]`` so it parses.
    """
    low = prefix.lower()
    described: dict[str, Any] = names if isinstance(names, dict) else dict.fromkeys(names, meta)
    for name, info in described.items():
        if not name.lower().startswith(low):
            continue
        text = name if not bracket or _PLAIN_NAME.match(name) else f"[{name}]"
        yield Completion(text, start_position=-len(prefix), display=name, display_meta=info or "")
