"""Source positions: where a statement or an error sits in a script file.

Positions travel from the splitter to every node and error, so a message can always
say ``file:line:column``. Lines and columns are 1-based, as editors show them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A range in one source file (end is inclusive of the last character)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def shifted(self, text: str, offset: int) -> Span:
        """The position of character ``offset`` of ``text``, where ``text`` starts at this span."""
        before = text[:offset]
        newlines = before.count("\n")
        if newlines == 0:
            line, column = self.line, self.column + offset
        else:
            line, column = self.line + newlines, offset - before.rfind("\n")
        return Span(self.file, line, column, line, column)


def caret_excerpt(source_line: str, column: int) -> str:
    """Render one source line with a caret under ``column`` (1-based)."""
    line = source_line.rstrip("\n").expandtabs(1)
    pad = " " * max(column - 1, 0)
    return f"    {line}\n    {pad}^"
