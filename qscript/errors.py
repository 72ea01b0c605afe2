"""The exception tree of qscript, and Qlik's ScriptError codes.

    QScriptError                      every error qscript raises
    ├── ScriptError                   a statement failed; carries Qlik's ScriptError code
    │   ├── GeneralScriptError        1  general error (also: unsupported statement)
    │   ├── ScriptSyntaxError         2  syntax error
    │   ├── ScriptFileNotFoundError   8  file not found
    │   ├── TableNotFoundError        10 table not found
    │   ├── FieldNotFoundError        11 field not found
    │   ├── WrongFormatError          12 file has wrong format (all REST/HTTP/decoding failures)
    │   └── SemanticError             16 semantic error
    └── ConfigError                   bad configuration (connections file, options)

The interpreter catches ``ScriptError`` at the statement boundary and applies ErrorMode.
"""

from __future__ import annotations

from typing import ClassVar

from qscript.span import Span

#: Qlik's text for each ScriptError code (help: "ScriptError").
SCRIPT_ERROR_TEXT: dict[int, str] = {
    0: "",
    1: "General Error",
    2: "Syntax Error",
    3: "General ODBC Error",
    4: "General OLE DB Error",
    5: "General custom database Error",
    6: "General XML Error",
    7: "General HTML Error",
    8: "File Not Found",
    9: "Database Not Found",
    10: "Table Not Found",
    11: "Field Not Found",
    12: "File Has Wrong Format",
    13: "BIFF Error",
    14: "BIFF Error Encrypted",
    15: "BIFF Error Unsupported Version",
    16: "Semantic Error",
}


class QScriptError(Exception):
    """Root of every error qscript raises on purpose."""


class ConfigError(QScriptError):
    """Invalid configuration: names what is wrong and what is allowed."""


class ScriptError(QScriptError):
    """A script statement failed. ``code`` is Qlik's ScriptError number."""

    code: ClassVar[int] = 1

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        statement: str = "",
        *,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.statement = statement
        if code is not None:
            self.code = code  # type: ignore[misc]

    @property
    def file(self) -> str | None:
        return self.span.file if self.span else None

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    @property
    def code_text(self) -> str:
        return SCRIPT_ERROR_TEXT.get(self.code, "General Error")

    def located(self, span: Span | None, statement: str) -> ScriptError:
        """Fill in position and statement text where the raiser did not know them."""
        if self.span is None:
            self.span = span
        if not self.statement:
            self.statement = statement
        return self

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}ScriptError {self.code} ({self.code_text}): {self.message}"


class GeneralScriptError(ScriptError):
    code = 1


class UnsupportedStatementError(GeneralScriptError):
    """A statement Qlik knows but qscript does not run (yet)."""


class ScriptSyntaxError(ScriptError):
    code = 2


class ScriptFileNotFoundError(ScriptError):
    code = 8


class TableNotFoundError(ScriptError):
    code = 10


class FieldNotFoundError(ScriptError):
    code = 11


class WrongFormatError(ScriptError):
    code = 12


class SemanticError(ScriptError):
    code = 16
