"""Lark tree -> AST nodes. One method per grammar rule; the transformer keeps no state."""

from __future__ import annotations

from lark import Token, Transformer, v_args

from qscript.script import nodes as n


def unquote_name(token: str) -> str:
    """``[a b]`` -> ``a b``; ``"a""b"`` -> ``a"b``; backticks stripped; bare names as is."""
    if token[:1] == "[" and token[-1:] == "]":
        return token[1:-1]
    if token[:1] == '"' and token[-1:] == '"':
        return token[1:-1].replace('""', '"')
    if token[:1] == "`" and token[-1:] == "`":
        return token[1:-1]
    return str(token)


def unquote_string(token: str) -> str:
    """``'it''s'`` -> ``it's``."""
    return token[1:-1].replace("''", "'")


def _is_until(token: Token) -> bool:
    return token.type == "UNTIL"


def _is_unless(token: Token) -> bool:
    return token.type == "UNLESS"


@v_args(inline=True)
class ToNodes(Transformer):
    """Builds :mod:`qscript.script.nodes` objects bottom-up.

    It keeps the parsed text so a LOAD field without an alias can be named after its
    expression as written.
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text

    # -- names and atoms -----------------------------------------------------------------
    def var_name(self, token: Token) -> str:
        return unquote_name(token)

    def number(self, token: Token) -> n.Literal:
        return n.Literal(float(token))

    def string(self, token: Token) -> n.Literal:
        return n.Literal(unquote_string(token))

    def field_ref(self, name: str) -> n.FieldRef:
        return n.FieldRef(name)

    def star(self, _token: Token) -> n.Star:
        return n.Star()

    def omitted(self) -> None:
        return None

    def func_args(self, *args: n.Expr | None) -> tuple[n.Expr | None, ...]:
        return args

    def function_call(self, name: Token, modifier: Token | None, args: tuple | None) -> n.FunctionCall:
        return n.FunctionCall(str(name), args or (), modifier.upper() if modifier else None)

    def binary(self, left: n.Expr, op: Token, right: n.Expr) -> n.BinaryOp:
        return n.BinaryOp(str(op).upper(), left, right)

    def unary(self, op: Token, operand: n.Expr) -> n.UnaryOp:
        return n.UnaryOp(str(op).upper(), operand)

    def expression(self, expr: n.Expr) -> n.Expr:
        return expr

    # -- regular statements -----------------------------------------------------------------
    def statement(self, stmt: n.Statement) -> n.Statement:
        return stmt

    def set_stmt(self, _kw: Token, name: str, text: Token | None = None) -> n.Set:
        return n.Set(name, None if text is None else str(text))

    def let_stmt(self, _kw: Token, name: str, expr: n.Expr | None) -> n.Let:
        return n.Let(name, expr)

    def assign_stmt(self, name: str, expr: n.Expr | None) -> n.Let:
        return n.Let(name, expr)

    def trace_stmt(self, _kw: Token, text: Token | None) -> n.Trace:
        return n.Trace("" if text is None else str(text).strip())

    def sleep_stmt(self, _kw: Token, expr: n.Expr) -> n.Sleep:
        return n.Sleep(expr)

    def drop_variables(self, _drop: Token, _kw: Token, *names: str) -> n.DropVariables:
        return n.DropVariables(tuple(names))

    def conditional(self, kw: Token, cond: n.Expr, stmt: n.Statement) -> n.Conditional:
        return n.Conditional(_is_unless(kw), cond, stmt)

    # -- control clauses --------------------------------------------------------------------
    def control(self, clause: n.Control) -> n.Control:
        return clause

    def if_clause(self, _kw: Token, cond: n.Expr, _then: Token) -> n.If:
        return n.If(cond)

    def elseif_clause(self, _kw: Token, cond: n.Expr, _then: Token) -> n.ElseIf:
        return n.ElseIf(cond)

    def else_clause(self, _kw: Token) -> n.Else:
        return n.Else()

    def endif_clause(self, _kw: Token) -> n.EndIf:
        return n.EndIf()

    def for_next(self, _for, var, start, _to, end, _step=None, step=None) -> n.ForNext:
        return n.ForNext(var, start, end, step)

    def for_each(self, _for, _each, var, _in, *items: n.Expr) -> n.ForEach:
        return n.ForEach(var, tuple(items))

    def next_clause(self, _kw: Token, var: str | None) -> n.Next:
        return n.Next(var)

    def loop_condition(self, kw: Token, cond: n.Expr) -> tuple[bool, n.Expr]:
        return _is_until(kw), cond

    def do_clause(self, _kw: Token, cond: tuple[bool, n.Expr] | None) -> n.Do:
        return n.Do(*(cond or (False, None)))

    def loop_clause(self, _kw: Token, cond: tuple[bool, n.Expr] | None) -> n.Loop:
        return n.Loop(*(cond or (False, None)))

    def exit_condition(self, kw: Token, cond: n.Expr) -> tuple[bool, n.Expr]:
        return _is_unless(kw), cond

    def exit_clause(self, _kw: Token, target: Token, cond: tuple | None) -> n.Exit:
        unless, expr = cond or (False, None)
        return n.Exit(str(target).upper(), unless, expr)

    def sub_head(self, _kw: Token, name: str, *params: str | None) -> n.SubHead:
        return n.SubHead(name, tuple(p for p in params if p is not None))

    def end_sub(self, _kw: Token) -> n.EndSub:
        return n.EndSub()

    def call_args(self, *args: n.Expr | None) -> tuple[n.Expr | None, ...]:
        return args

    def call_sub(self, _kw: Token, name: str, args: tuple | None) -> n.CallSub:
        args = args or ()
        if args == (None,):  # CALL x() has no arguments, not one omitted argument
            args = ()
        return n.CallSub(name, args)

    def switch_clause(self, _kw: Token, expr: n.Expr) -> n.Switch:
        return n.Switch(expr)

    def case_clause(self, _kw: Token, *values: n.Expr) -> n.Case:
        return n.Case(tuple(values))

    def default_clause(self, _kw: Token) -> n.Default:
        return n.Default()

    def end_switch(self, _kw: Token) -> n.EndSwitch:
        return n.EndSwitch()

    # -- LOAD -----------------------------------------------------------------------------------
    def name_item(self, token: str | Token) -> str:
        if isinstance(token, Token) and token.type == "STRING":
            return unquote_string(token)
        return str(token)

    def table_ref(self, name: str) -> str:
        return name

    def concatenate_prefix(self, _kw: Token, table: str | None) -> n.Concatenate:
        return n.Concatenate(table)

    def noconcatenate_prefix(self, _kw: Token) -> n.NoConcatenate:
        return n.NoConcatenate()

    def join_prefix(self, kind: Token | None, _kw: Token, table: str | None) -> n.Join:
        return n.Join(kind.upper() if kind else "OUTER", table)

    def keep_prefix(self, kind: Token, _kw: Token, table: str | None) -> n.Keep:
        return n.Keep(kind.upper(), table)

    def mapping_prefix(self, _kw: Token) -> n.MappingPrefix:
        return n.MappingPrefix()

    def crosstable_prefix(self, _kw: Token, attribute: str, data: str, qualifiers: n.Expr | None) -> n.Crosstable:
        return n.Crosstable(attribute, data, qualifiers)

    def first_prefix(self, _kw: Token, count: n.Expr) -> n.First:
        return n.First(count)

    def generic_prefix(self, _kw: Token) -> n.Generic:
        return n.Generic()

    def load_stmt(self, *parts: object) -> n.LoadStatement:
        *prefixes, load = parts
        return n.LoadStatement(load, tuple(prefixes))  # type: ignore[arg-type]

    def load_fields(self, *fields: n.LoadField) -> tuple[n.LoadField, ...]:
        return fields

    def load_star(self, _star: Token) -> n.LoadField:
        return n.LoadField(None, "*")

    @v_args(meta=True)
    def load_expr(self, meta, children: list) -> n.LoadField:
        expr, _as, alias = children
        if alias is not None:
            return n.LoadField(expr, alias)
        if isinstance(expr, n.FieldRef):
            return n.LoadField(expr, expr.name)
        return n.LoadField(expr, self.text[meta.start_pos : meta.end_pos].strip())

    def alias(self, token: str | Token) -> str:
        return self.name_item(token)

    def inline_body(self, token: Token) -> str:
        if token.type == "STRING":
            return unquote_string(token)
        return token[1:-1] if token.type == "BRACKET_NAME" else token[1:-1].replace('""', '"')

    def file_ref(self, token: Token) -> str:
        if token.type == "STRING":
            return unquote_string(token)
        return unquote_name(token)

    def spec_word(self, token: Token) -> str:
        return str(token)

    def spec_item(self, *words: str) -> tuple[str, ...]:
        return words

    def format_spec(self, *items: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        return items

    def from_file(self, _kw: Token, path: str, spec: tuple | None) -> n.FromFile:
        return n.FromFile(path, spec or ())

    def resident(self, _kw: Token, table: str) -> n.Resident:
        return n.Resident(table)

    def inline(self, _kw: Token, body: str, spec: tuple | None) -> n.Inline:
        return n.Inline(body, spec or ())

    def autogenerate(self, _kw: Token, count: n.Expr) -> n.Autogenerate:
        return n.Autogenerate(count)

    def where_clause(self, _kw: Token, expr: n.Expr) -> tuple[str, n.Expr]:
        return ("where", expr)

    def while_clause(self, _kw: Token, expr: n.Expr) -> tuple[str, n.Expr]:
        return ("while", expr)

    def group_by(self, _group: Token, _by: Token, *names: str) -> tuple[str, ...]:
        return names

    def order_item(self, name: str, direction: Token | None) -> tuple[str, bool]:
        return name, bool(direction) and direction.upper() == "DESC"

    def order_by(self, _order: Token, _by: Token, *items: tuple[str, bool]) -> tuple[tuple[str, bool], ...]:
        return items

    def load(self, _kw: Token, distinct: Token | None, fields, source, *rest) -> n.Load:
        *filters, group_by, order_by = rest
        clauses = dict(filters)
        return n.Load(
            fields=fields,
            source=source,
            distinct=distinct is not None,
            where=clauses.get("where"),
            while_=clauses.get("while"),
            group_by=group_by or (),
            order_by=order_by or (),
        )

    # -- housekeeping statements ------------------------------------------------------------------
    def drop_tables(self, _drop: Token, _kw: Token, *names: str) -> n.DropTables:
        return n.DropTables(tuple(names))

    def drop_fields(self, _drop: Token, _kw: Token, *rest: object) -> n.DropFields:
        names: list[str] = []
        tables: list[str] = []
        target = names
        for item in rest:
            if isinstance(item, Token) and item.type == "FROM":
                target = tables
            elif item is not None:
                target.append(item)  # type: ignore[arg-type]
        return n.DropFields(tuple(names), tuple(tables))

    def rename_pair(self, old: str, _to: Token, new: str) -> tuple[str, str]:
        return old, new

    def rename_pairs(self, *pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        return pairs

    def _rename(self, rest: tuple) -> tuple[tuple, str | None]:
        if len(rest) == 2:  # USING map
            return (), rest[1]
        return rest[0], None

    def rename_tables(self, _kw: Token, _tables: Token, *rest: object) -> n.RenameTables:
        pairs, mapping = self._rename(rest)
        return n.RenameTables(pairs, mapping)

    def rename_fields(self, _kw: Token, _fields: Token, *rest: object) -> n.RenameFields:
        pairs, mapping = self._rename(rest)
        return n.RenameFields(pairs, mapping)

    def store_fields(self, *items: object) -> tuple[str, ...]:
        if len(items) == 1 and isinstance(items[0], Token) and items[0].type == "STAR":
            return ()
        return tuple(str(i) for i in items)

    def store_stmt(self, _kw, fields, *rest) -> n.Store:
        # [fields FROM] leaves placeholders when absent; the last three items are fixed
        table, path, spec = [r for r in rest if not isinstance(r, Token)][-3:]
        return n.Store(table, path, spec or (), fields or ())

    def pattern_list(self, *items: object) -> tuple[str, ...]:
        return tuple("*" if isinstance(i, Token) and i.type == "STAR" else str(i) for i in items)

    def qualify_stmt(self, _kw: Token, patterns: tuple[str, ...]) -> n.Qualify:
        return n.Qualify(patterns)

    def unqualify_stmt(self, _kw: Token, patterns: tuple[str, ...]) -> n.Qualify:
        return n.Qualify(patterns, unqualify=True)

    # -- REST connector ----------------------------------------------------------------------------
    def lib_connect(self, _lib: Token, _connect: Token, _to: Token, name: Token) -> n.LibConnect:
        return n.LibConnect(self.name_item(name) if name.type == "STRING" else unquote_name(name))

    def disconnect(self, _kw: Token) -> n.Disconnect:
        return n.Disconnect()

    def select_items(self, *items: object) -> tuple[object, ...]:
        return items

    def select_field(self, name: Token, _as: Token | None, alias: Token | None) -> n.SelectField:
        return n.SelectField(unquote_name(name), None if alias is None else unquote_name(alias))

    def pk_key(self, _kw: Token, name: Token) -> tuple[str, str]:
        return "pk", unquote_name(name)

    def fk_key(self, _kw: Token, name: Token) -> tuple[str, str]:
        return "fk", unquote_name(name)

    def array_value_alias(self, _kw: Token, name: Token) -> tuple[str, str]:
        return "array_value_alias", unquote_name(name)

    def qdl_marker(self, _kw: Token) -> tuple[str, None]:
        return "qdl", None

    def _table(self, name: Token, items: tuple | None, keys: tuple) -> n.SelectTable:
        items = items or ()
        options = {k: v for k, v in keys if k != "qdl"}
        return n.SelectTable(
            name=unquote_name(name),
            fields=tuple(i for i in items if isinstance(i, n.SelectField)),
            children=tuple(i for i in items if isinstance(i, n.SelectTable)),
            pk=options.get("pk"),
            fk=options.get("fk"),
            array_value_alias=options.get("array_value_alias"),
        )

    def nested_select(self, _select: Token, items: tuple | None, _from: Token, name: Token, *keys) -> n.SelectTable:
        return self._table(name, items, keys)

    def json_format(self, _kw: Token, _wrap: Token, on_off: Token) -> n.SourceFormat:
        return n.SourceFormat("json", wrap=on_off.lower() == "on")

    def xml_format(self, _kw: Token, _wrap: Token, on_off: Token) -> n.SourceFormat:
        return n.SourceFormat("xml", wrap=on_off.lower() == "on")

    def csv_header(self, _kw: Token, on_off: Token) -> tuple[str, object]:
        return "header", on_off.lower() == "on"

    def csv_delimiter(self, _kw: Token, value: Token) -> tuple[str, object]:
        return "delimiter", unquote_name(value)

    def csv_quote(self, _kw: Token, value: Token) -> tuple[str, object]:
        return "quote", unquote_name(value)

    def csv_format(self, _kw: Token, *options: tuple[str, object]) -> n.SourceFormat:
        return n.SourceFormat("csv", **dict(options))  # type: ignore[arg-type]

    def url_option(self, _kw: Token, value: Token) -> tuple[str, object]:
        return "url", unquote_name(value)

    def query_option(self, _kw: Token, name: Token, value: Token) -> tuple[str, object]:
        return "query", (unquote_name(name), unquote_name(value))

    def header_option(self, _kw: Token, name: Token, value: Token) -> tuple[str, object]:
        return "headers", (unquote_name(name), unquote_name(value))

    def body_option(self, _kw: Token, value: Token) -> tuple[str, object]:
        return "body", unquote_name(value)

    def with_connection(self, _with: Token, _connection: Token, *options: tuple | None) -> n.ConnectionOverride:
        url = body = None
        query: list[tuple[str, str]] = []
        headers: list[tuple[str, str]] = []
        for option in options:
            if option is None:  # a leading, doubled or trailing comma
                continue
            key, value = option
            if key == "url":
                url = value
            elif key == "body":
                body = value
            elif key == "query":
                query.append(value)
            else:
                headers.append(value)
        return n.ConnectionOverride(url, tuple(query), tuple(headers), body)

    def sql_select_stmt(self, *parts: object) -> n.LoadStatement:
        """A SELECT is a LOAD source: its table gets the label, prefixes and preceding loads."""
        prefixes = [p for p in parts if not isinstance(p, (Token, tuple, n.SourceFormat, n.ConnectionOverride))
                    and p is not None]
        items = next((p for p in parts if isinstance(p, tuple) and p and not isinstance(p[0], str)), None)
        fmt = next(p for p in parts if isinstance(p, n.SourceFormat))
        index = parts.index(fmt)
        name = parts[index + 1]
        keys = [p for p in parts[index + 2 :] if isinstance(p, tuple)]
        override = next((p for p in parts if isinstance(p, n.ConnectionOverride)), None)
        root = self._table(name, items, tuple(keys))  # type: ignore[arg-type]
        select = n.SqlSelect(root, fmt, override)
        load = n.Load(fields=(n.LoadField(None, "*"),), source=select)
        return n.LoadStatement(load, tuple(prefixes))  # type: ignore[arg-type]
