"""LOAD sources: INLINE, RESIDENT, AUTOGENERATE and files -> a Frame plus a default name."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qscript.engine.files import SPACES, FileFormat, read_table
from qscript.engine.frame import Frame
from qscript.errors import GeneralScriptError, ScriptSyntaxError
from qscript.expr.interpret import interpret_texts
from qscript.expr.values import as_number
from qscript.script import nodes as n

if TYPE_CHECKING:
    from qscript.engine.interpreter import Interpreter


def read_source(it: Interpreter, source: n.LoadSource) -> tuple[Frame, str]:
    """The source's rows and the name an unlabelled table gets from it."""
    if isinstance(source, n.Resident):
        table = it.model.table(source.table)
        return Frame(list(table.fields), dict(table.columns), table.length), source.table
    if isinstance(source, n.Inline):
        return read_inline(source.body, source.spec, it), it.auto_name("INLINE")
    if isinstance(source, n.Autogenerate):
        count = as_number(it.evaluate(source.count), it.vars.settings())
        if count is None or count < 0:
            raise GeneralScriptError("AUTOGENERATE needs a non-negative number of rows")
        return Frame([], {}, int(count)), it.auto_name("AUTOGENERATE")
    if isinstance(source, n.SqlSelect):
        result = it.select(source)
        return Frame(result.names, result.columns, result.length), source.root.name
    if isinstance(source, n.FromFile):
        path = it.resolve_path(source.path)
        fmt = FileFormat.from_spec([list(item) for item in source.spec], path)
        names, columns = read_table(path, fmt, it.vars.settings(), verbatim=it.vars.text("Verbatim") == "1")
        length = columns[names[0]].length if names else 0
        return Frame(names, columns, length), Path(source.path).stem
    raise GeneralScriptError(f"unsupported LOAD source {type(source).__name__}")


def read_inline(body: str, spec: tuple[tuple[str, ...], ...], it: Interpreter) -> Frame:
    """An INLINE table: first line labels (unless ``no labels``), values interpreted.

    Blank values are empty text, not NULL; blanks around values are trimmed.
    """
    # the same format items as a text file (one parser for both); an INLINE body is text
    fmt = FileFormat.from_spec([list(item) for item in spec], Path("inline.txt"))
    delimiter = " " if fmt.delimiter == SPACES else fmt.delimiter
    labels = fmt.labels != "none"
    lines = [line for line in body.split("\n") if line.strip()]
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter, skipinitialspace=True)
    rows = [[cell.strip() for cell in row] for row in reader]
    if not rows:
        return Frame([], {}, 0)
    header = rows[0] if labels else [f"@{i + 1}" for i in range(len(rows[0]))]
    data = rows[1:] if labels else rows
    width = len(header)
    settings = it.vars.settings()
    columns = {}
    for j, name in enumerate(header):
        texts = np.empty(len(data), dtype=object)
        texts[:] = [row[j] if j < len(row) else "" for row in data]
        columns[name] = interpret_texts(texts, settings)
    if len(set(header)) != width:
        raise ScriptSyntaxError(f"INLINE field names must be unique: {', '.join(header)}")
    return Frame(list(header), columns, len(data))
