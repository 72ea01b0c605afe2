"""AST nodes: frozen dataclasses built by ``transform.py`` from the Lark tree.

Nodes are immutable and hold no position of their own: a statement's position is the
span of the raw statement it came from, kept by the block tree. Parsing is cached by
text, so one node object may serve many executions (loops re-run statements).
"""

from __future__ import annotations

from dataclasses import dataclass

# -- expressions ---------------------------------------------------------------------


class Expr:
    """Base class of expression nodes."""


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    """A number (``float``) or a ``'string'`` (``str``) written in the script."""

    value: float | str


@dataclass(frozen=True, slots=True)
class FieldRef(Expr):
    """A bare, ``"quoted"`` or ``[bracketed]`` name: a field in a LOAD, else a variable."""

    name: str


@dataclass(frozen=True, slots=True)
class Star(Expr):
    """``*`` as a function argument, as in ``Count(*)``."""


@dataclass(frozen=True, slots=True)
class FunctionCall(Expr):
    """``Name(args)``; ``modifier`` is ``DISTINCT``/``TOTAL``/``ALL`` when written.

    An omitted argument (``f(a,,b)``) is ``None``.
    """

    name: str
    args: tuple[Expr | None, ...]
    modifier: str | None = None


@dataclass(frozen=True, slots=True)
class BinaryOp(Expr):
    """``left op right``; ``op`` is upper-case: ``+ - * / & = <> < <= > >= LIKE AND OR XOR``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp(Expr):
    """``-x``, ``+x`` or ``NOT x``."""

    op: str
    operand: Expr


# -- regular statements ----------------------------------------------------------------


class Statement:
    """Base class of regular statements (those ended by ``;``)."""


@dataclass(frozen=True, slots=True)
class Set(Statement):
    """``SET name = text``: stores the (already expanded) text; ``None`` for ``SET v;``."""

    name: str
    text: str | None


@dataclass(frozen=True, slots=True)
class Let(Statement):
    """``LET name = expr`` and the bare assignment ``name = expr``."""

    name: str
    expr: Expr | None


@dataclass(frozen=True, slots=True)
class Trace(Statement):
    text: str


@dataclass(frozen=True, slots=True)
class Sleep(Statement):
    milliseconds: Expr


@dataclass(frozen=True, slots=True)
class DropVariables(Statement):
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Conditional(Statement):
    """``WHEN cond statement`` / ``UNLESS cond statement``."""

    unless: bool
    condition: Expr
    statement: Statement


@dataclass(frozen=True, slots=True)
class Unsupported(Statement):
    """A statement Qlik knows and qscript does not run yet; fails when executed."""

    keyword: str


# -- control lines ---------------------------------------------------------------------


class Control:
    """Base class of control clauses (ended by ``;`` or the end of the line)."""


@dataclass(frozen=True, slots=True)
class If(Control):
    condition: Expr


@dataclass(frozen=True, slots=True)
class ElseIf(Control):
    condition: Expr


@dataclass(frozen=True, slots=True)
class Else(Control):
    pass


@dataclass(frozen=True, slots=True)
class EndIf(Control):
    pass


@dataclass(frozen=True, slots=True)
class ForNext(Control):
    """``FOR var = start TO end [STEP step]``."""

    variable: str
    start: Expr
    end: Expr
    step: Expr | None


@dataclass(frozen=True, slots=True)
class ForEach(Control):
    """``FOR EACH var IN item, ...``."""

    variable: str
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Next(Control):
    variable: str | None


@dataclass(frozen=True, slots=True)
class Do(Control):
    """``DO [WHILE|UNTIL cond]``; ``until`` tells which, ``condition`` may be ``None``."""

    until: bool
    condition: Expr | None


@dataclass(frozen=True, slots=True)
class Loop(Control):
    until: bool
    condition: Expr | None


@dataclass(frozen=True, slots=True)
class Exit(Control):
    """``EXIT DO|FOR|SUB|SCRIPT [WHEN|UNLESS cond]``."""

    target: str
    unless: bool
    condition: Expr | None


@dataclass(frozen=True, slots=True)
class SubHead(Control):
    name: str
    params: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EndSub(Control):
    pass


@dataclass(frozen=True, slots=True)
class CallSub(Control):
    """``CALL name(args)``; an omitted argument is ``None``."""

    name: str
    args: tuple[Expr | None, ...]


@dataclass(frozen=True, slots=True)
class Switch(Control):
    expr: Expr


@dataclass(frozen=True, slots=True)
class Case(Control):
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Default(Control):
    pass


@dataclass(frozen=True, slots=True)
class EndSwitch(Control):
    pass


# -- LOAD and the data-model statements ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadField:
    """One entry of a LOAD field list: ``expr [AS alias]``; ``expr is None`` means ``*``.

    ``name`` is the output field name: the alias, else the field's own name, else the
    expression as written (as Qlik names ``LOAD a+b``).
    """

    expr: Expr | None
    name: str


@dataclass(frozen=True, slots=True)
class FromFile:
    path: str
    spec: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Resident:
    table: str


@dataclass(frozen=True, slots=True)
class Inline:
    body: str
    spec: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Autogenerate:
    count: Expr




@dataclass(frozen=True, slots=True)
class Load:
    """One LOAD; ``source is None`` makes it a preceding load over the next statement."""

    fields: tuple[LoadField, ...]
    source: LoadSource | None = None
    distinct: bool = False
    where: Expr | None = None
    while_: Expr | None = None
    group_by: tuple[str, ...] = ()
    order_by: tuple[tuple[str, bool], ...] = ()  # (field, descending)


@dataclass(frozen=True, slots=True)
class Concatenate:
    table: str | None


@dataclass(frozen=True, slots=True)
class NoConcatenate:
    pass


@dataclass(frozen=True, slots=True)
class Join:
    """``[INNER|OUTER|LEFT|RIGHT] JOIN [(T)]``; ``kind`` is upper-case, OUTER by default."""

    kind: str
    table: str | None


@dataclass(frozen=True, slots=True)
class Keep:
    kind: str
    table: str | None


@dataclass(frozen=True, slots=True)
class MappingPrefix:
    pass


@dataclass(frozen=True, slots=True)
class Crosstable:
    attribute: str
    data: str
    qualifiers: Expr | None


@dataclass(frozen=True, slots=True)
class First:
    count: Expr


@dataclass(frozen=True, slots=True)
class Generic:
    pass


Prefix = Concatenate | NoConcatenate | Join | Keep | MappingPrefix | Crosstable | First | Generic


@dataclass(frozen=True, slots=True)
class LoadStatement(Statement):
    """``[label:] {prefix} LOAD ...``."""

    load: Load
    prefixes: tuple[Prefix, ...] = ()
    label: str | None = None


@dataclass(frozen=True, slots=True)
class DropTables(Statement):
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DropFields(Statement):
    names: tuple[str, ...]
    tables: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RenameTables(Statement):
    pairs: tuple[tuple[str, str], ...] = ()
    mapping: str | None = None


@dataclass(frozen=True, slots=True)
class RenameFields(Statement):
    pairs: tuple[tuple[str, str], ...] = ()
    mapping: str | None = None


@dataclass(frozen=True, slots=True)
class Store(Statement):
    """``STORE [fields FROM] T INTO path [(format)]``; ``fields`` empty means all."""

    table: str
    path: str
    spec: tuple[tuple[str, ...], ...] = ()
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Qualify(Statement):
    patterns: tuple[str, ...]
    unqualify: bool = False


# -- REST connector: LIB CONNECT and SQL SELECT ---------------------------------------------


@dataclass(frozen=True, slots=True)
class LibConnect(Statement):
    """``LIB CONNECT TO 'name'`` (also ``'Space:name'`` and ``':name'``)."""

    name: str


@dataclass(frozen=True, slots=True)
class Disconnect(Statement):
    pass


@dataclass(frozen=True, slots=True)
class SelectField:
    """``"source name" [AS "alias"]`` in a REST SELECT; ``output`` is the loaded name."""

    name: str
    alias: str | None = None

    @property
    def output(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class SelectTable:
    """One table of a REST SELECT: ``SELECT items FROM "name" [PK "k"] [FK "f"] [ArrayValueAlias "a"]``.

    ``fields`` are the selected fields in written order (key fields included when listed);
    ``children`` the nested SELECTs in written order.
    """

    name: str
    fields: tuple[SelectField, ...] = ()
    children: tuple[SelectTable, ...] = ()
    pk: str | None = None
    fk: str | None = None
    array_value_alias: str | None = None


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """``JSON (wrap on|off)``, ``XML (wrap on|off)`` or ``CSV (header on|off, delimiter "d", quote "q")``."""

    kind: str  # "json" | "xml" | "csv"
    wrap: bool = True
    header: bool = False
    delimiter: str = ","
    quote: str = '"'


@dataclass(frozen=True, slots=True)
class ConnectionOverride:
    """``WITH CONNECTION (URL "u", QUERY "n" "v", HTTPHEADER "n" "v", BODY "b")``."""

    url: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


@dataclass(frozen=True, slots=True)
class SqlSelect:
    """A REST connector ``SQL SELECT``: a LOAD source (see :class:`LoadStatement`)."""

    root: SelectTable
    format: SourceFormat
    with_connection: ConnectionOverride | None = None


LoadSource = FromFile | Resident | Inline | Autogenerate | SqlSelect
