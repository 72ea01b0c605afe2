"""Style-preserving edits of a connections file: add a connection, change one in place.

The connections file is written by hand, so a tool that edits it must leave everything it
was not asked to change exactly as it was: comments, key order, spacing, quoting, line
endings. ``tomlkit`` keeps all of that when a value is replaced, added or removed, so every
edit goes through it; new connections are rendered by tomlkit too and appended at the end
of the text, so nothing above them moves.

A layout tomlkit handles oddly must never corrupt the file, so each result is parsed again
with ``tomllib`` and compared with the document expected (the old document with the changes
applied); any difference raises ``ConfigError`` and the caller writes nothing. The
connection is then validated with ``RestConfig.from_table`` (``check_connection``), with
``${env:NAME}`` variables that are not set yet filled with a placeholder: a connection may
well be written before its secrets are exported.

This module neither prints nor prompts; ``qscript.cli_connections_edit`` does.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.items import AoT, InlineTable, Item, Table

from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.config_parts import ENV_NAME, ENV_REFERENCE, quote_key
from qscript.errors import ConfigError

#: The first line of a connections file that ``add`` creates.
NEW_FILE_HEADER = '# qscript connections: LIB CONNECT TO \'Name\' opens [connections."Name"] (docs/connections.md)\n'
#: What an unset ``${env:NAME}`` stands for while a connection is validated before a reload.
PLACEHOLDER = "http://unset.invalid"

#: A dotted key inside one connection, e.g. ``("auth", "schema")``.
KeyPath = tuple[str, ...]


class _Remove:
    """The value of a change that deletes its key (``changes[("body",)] = REMOVE``)."""

    def __repr__(self) -> str:
        return "REMOVE"

    def __reduce__(self) -> str:
        return "REMOVE"  # copies and pickles are the one sentinel, so ``is REMOVE`` holds


REMOVE = _Remove()

#: Key paths (inside the connection) -> new value, or REMOVE; applied in order.
Changes = Mapping[KeyPath, Any]


def dotted(path: KeyPath) -> str:
    """``("headers", "X-Api-Key")`` as a TOML dotted key: ``headers.X-Api-Key``."""
    return ".".join(quote_key(part) for part in path)


# -- the plain document ---------------------------------------------------------------------------

def apply_changes(table: Mapping[str, Any], changes: Changes) -> dict[str, Any]:
    """A deep copy of ``table`` with ``changes`` applied; missing tables on the way are created.

    Raises ConfigError when a change runs into a key that is not a table, or removes a key
    that does not exist (a typo must not pass silently).
    """
    result = copy.deepcopy(dict(table))
    for path, value in changes.items():
        node = result
        for depth, part in enumerate(path[:-1]):
            child = node.get(part)
            if child is None:
                if value is REMOVE:
                    raise ConfigError(f"key '{dotted(path)}' is not set")
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise ConfigError(f"key '{dotted(path[:depth + 1])}' is not a table, so it cannot hold "
                                  f"'{dotted(path)}'")
            node = child
        if value is REMOVE:
            if path[-1] not in node:
                raise ConfigError(f"key '{dotted(path)}' is not set")
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(value)
    return result


def unset_variables(table: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """The ``${env:NAME}`` variables the table uses that ``environ`` does not set, in file order."""
    names = [name for text in _strings(table) for escaped, name in ENV_REFERENCE.findall(text)
             if not escaped and ENV_NAME.fullmatch(name) and name not in environ]
    return list(dict.fromkeys(names))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True)
class Checked:
    """A connection that passed validation, and what the check could not know yet."""

    #: the validated connection (a stand-in without secrets when ``unchecked`` is set)
    config: RestConfig
    #: ``${env:NAME}`` variables not set now; they were checked with a placeholder value
    unset: tuple[str, ...] = ()
    #: the one key whose check failed only because of a placeholder (validation stopped there)
    unchecked: str | None = None


def check_connection(name: str, table: Mapping[str, Any], base_dir: Path,
                     environ: Mapping[str, str]) -> Checked:
    """Validate ``table`` as ``LIB CONNECT TO`` will, before anything is written.

    Unset variables are filled with ``PLACEHOLDER``. When a check then fails on a key whose
    value uses one of them (an NTLM user ``${env:USER}`` is no ``DOMAIN\\user``), the
    placeholder is to blame, not the file, so that key is reported as unchecked instead; the
    reload validates it again with the real value.
    """
    unset = unset_variables(table, environ)
    filled = {**environ, **dict.fromkeys(unset, PLACEHOLDER)}
    try:
        return Checked(RestConfig.from_table(name, table, base_dir, filled), tuple(unset))
    except ConfigError as error:
        key = _failed_key(name, str(error), table, unset)
        if key is None:
            raise
        return Checked(_skeleton(name), tuple(unset), key)


def _failed_key(name: str, message: str, table: Mapping[str, Any], unset: list[str]) -> str | None:
    """The dotted key the message is about, if its value uses an unset variable."""
    for path, value in _leaves(table, ()):
        key = dotted(path)
        about = f"connection '{name}': key '{key}"
        if (message.startswith(about + "'") or message.startswith(about + "[")) and any(
                f"${{env:{variable}}}" in text for text in _strings(value) for variable in unset):
            return key
    return None


def _leaves(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    else:
        yield path, value


def _skeleton(name: str) -> RestConfig:
    """Stands in for a connection whose check stopped at a placeholder: it holds no secrets."""
    return RestConfig(name=name, url=PLACEHOLDER)


# -- a set of changes ----------------------------------------------------------------------------

_NO_DEFAULT = object()
#: What may stand beside ``${env:...}`` references in a value that holds no secret itself: an
#: authentication scheme word, as in ``Bearer ${env:TOKEN}``.
_SCHEME_WORD = re.compile(r"\s*(?:[A-Za-z][A-Za-z0-9_-]*\s+)?")


def env_only(text: str) -> bool:
    """Whether ``text`` takes its secret from the environment: one or more ``${env:NAME}``
    references and at most a scheme word before them (``Bearer ${env:TOKEN}``)."""
    found = False

    def drop(match: re.Match[str]) -> str:
        nonlocal found
        if match.group(1):  # $${env:X} is literal text
            return match.group(0)
        found = True
        return ""

    rest = ENV_REFERENCE.sub(drop, text)
    return found and _SCHEME_WORD.fullmatch(rest) is not None


def lookup(table: Mapping[str, Any], path: KeyPath, default: Any = None) -> Any:
    """The value at ``path`` in a plain table, or ``default``."""
    node: Any = table
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


class ChangeSet:
    """Changes to one connection, collected from options or answers, against its current table.

    Only real changes are kept: a value equal to the current one is no change, and for a key
    the connection does not have, neither is its default (so a new connection holds only what
    differs from the defaults, as a person would write it).
    """

    def __init__(self, current: Mapping[str, Any] | None = None) -> None:
        self.current: dict[str, Any] = copy.deepcopy(dict(current or {}))
        self.changes: dict[KeyPath, Any] = {}

    def value(self, path: KeyPath, default: Any = None) -> Any:
        """The value ``path`` will have: a change, else the current value, else ``default``."""
        if path in self.changes:
            return default if self.changes[path] is REMOVE else self.changes[path]
        return lookup(self.table(), path, default)

    def has(self, path: KeyPath) -> bool:
        return self.value(path, _NO_DEFAULT) is not _NO_DEFAULT

    def set(self, path: KeyPath, value: Any, default: Any = _NO_DEFAULT, *, fold: bool = False) -> None:
        """Make ``path`` hold ``value``; ``fold``: strings compare ignoring case (choices)."""
        old = lookup(self.current, path, _NO_DEFAULT)
        same_as = default if old is _NO_DEFAULT else old
        self.changes.pop(path, None)
        if same_as is _NO_DEFAULT or not _same(value, same_as, fold):
            self.changes[path] = value

    def remove(self, path: KeyPath) -> None:
        """Remove ``path`` if the connection has it (now or through an earlier change)."""
        self.changes.pop(path, None)
        if lookup(self.current, path, _NO_DEFAULT) is not _NO_DEFAULT:
            self.changes[path] = REMOVE

    def table(self) -> dict[str, Any]:
        """The connection's table with the changes made."""
        return apply_changes(self.current, self.changes)

    def prune(self) -> None:
        """Remove a sub-table whose last key the changes removed, rather than leave an empty
        ``[connections."Name".query]`` behind (one that was empty before stays)."""
        table = self.table()
        for path in [path for path, value in self.changes.items() if value is REMOVE]:
            for depth in range(len(path) - 1, 0, -1):
                parent = path[:depth]
                if lookup(table, parent, None) == {} and lookup(self.current, parent, None):
                    self.changes = {key: value for key, value in self.changes.items() if key[:depth] != parent}
                    self.changes[parent] = REMOVE

    def summary(self) -> str:
        """``changed: url, auth.schema; removed: auth.username`` (key names only, never values)."""
        changed = [dotted(path) for path, value in self.changes.items() if value is not REMOVE]
        removed = [dotted(path) for path, value in self.changes.items() if value is REMOVE]
        parts = [f"changed: {', '.join(changed)}"] if changed else []
        parts += [f"removed: {', '.join(removed)}"] if removed else []
        return "; ".join(parts)


def _same(value: Any, other: Any, fold: bool) -> bool:
    if fold and isinstance(value, str) and isinstance(other, str):
        return value.lower() == other.lower()
    return type(value) is type(other) and value == other


# -- the text -------------------------------------------------------------------------------------

def connection_text(name: str, table: Mapping[str, Any]) -> str:
    """A new connection as a hand-writer would put it: ``[connections."Name"]`` with its own
    keys, then one section per sub-table (``[connections."Name".auth]``), a blank line between."""
    connection = tomlkit.table()
    for key, value in table.items():
        if not isinstance(value, Mapping):
            connection.add(key, _item(value))
    for key, value in table.items():
        if isinstance(value, Mapping):
            section = tomlkit.table()
            for inner, item in value.items():
                section.add(inner, _item(item))
            connection.add(key, section)
    connections = tomlkit.table(is_super_table=True)
    connections.add(name, connection)
    document = tomlkit.document()
    document.add("connections", connections)
    return tomlkit.dumps(document)


def add_connection(text: str, name: str, table: Mapping[str, Any]) -> str:
    """``text`` with connection ``name`` appended at its end (an empty text starts a new file)."""
    lines = _LineEndings(text)
    old = lines.text
    document = _parse(old)
    connections = document.get("connections", {})
    if isinstance(connections, dict) and name in connections:
        raise ConfigError(f"connection '{name}' already exists")
    if not old.strip():
        old = NEW_FILE_HEADER
    separator = "" if old.endswith("\n\n") else "\n" if old.endswith("\n") else "\n\n"
    result = old + separator + connection_text(name, table)
    expected = copy.deepcopy(document)
    expected.setdefault("connections", {})[name] = copy.deepcopy(dict(table))
    _verify(result, expected, name)
    return lines.restore(result)


def edit_connection(text: str, name: str, changes: Changes) -> str:
    """``text`` with ``changes`` made to connection ``name``; everything else stays as written.

    Values change in place (a comment after one stays after it); new keys go after the last
    key of their table, new sub-tables become sections of their own, or members of an inline
    table when their parent is one. Raises ConfigError, with nothing half-done, when the
    result would not parse to exactly the expected document.
    """
    lines = _LineEndings(text)
    document = _parse(lines.text)
    connections = document.get("connections")
    current = connections.get(name) if isinstance(connections, dict) else None
    if not isinstance(current, dict):
        raise ConfigError(f"connection '{name}' is not a table in this file")
    expected = copy.deepcopy(document)
    expected["connections"][name] = apply_changes(current, changes)
    editable = tomlkit.parse(lines.text)
    try:
        for path, value in changes.items():
            _change(editable["connections"], name, path, value)
        result = _spaced(tomlkit.dumps(editable))
    except (KeyError, TypeError, ValueError, AttributeError, tomlkit.exceptions.TOMLKitError):
        raise _unsafe(name) from None
    if result.endswith("\n\n") and not lines.text.endswith("\n\n"):
        result = result.rstrip("\n") + "\n"  # a new last section brings a blank line of its own
    _verify(result, expected, name)
    return lines.restore(result)


def _parse(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"the file is not valid TOML: {error}") from None


def _verify(result: str, expected: dict[str, Any], name: str) -> None:
    try:
        ok = tomllib.loads(result) == expected
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:
        raise _unsafe(name)


def _unsafe(name: str) -> ConfigError:
    return ConfigError(f"could not change connection '{name}' safely (the file's layout is unusual), so the "
                       "file was not changed; edit it by hand (docs/connections.md)")


class _LineEndings:
    """A text with CRLF line endings is edited with LF ones and given its CRLFs back after.

    tomlkit writes new lines with LF, which would leave a CRLF file with mixed endings; a
    file that already mixes them is edited as it is.
    """

    def __init__(self, text: str) -> None:
        self.crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
        self.text = text.replace("\r\n", "\n") if self.crlf else text

    def restore(self, text: str) -> str:
        return text.replace("\n", "\r\n") if self.crlf else text


def encrypt_header(text: str, connection: str, header: str, token: str) -> tuple[str, str]:
    """``text`` with header ``header`` of ``connection`` set to ``{ value = token, encrypt = true }``
    (``qscript connections encrypt``).

    Returns the new text and the header's name as the file spells it: an existing header is
    matched ignoring case, as header names are. A header written as a table of its own keeps
    its other keys (``secret = true``); only ``value`` and ``encrypt`` change.
    """
    document = _parse(_LineEndings(text).text)
    table = lookup(document, ("connections", connection))
    if not isinstance(table, dict):
        raise ConfigError(f"connection '{connection}' is not a table in this file")
    headers = table.get("headers", {})
    if not isinstance(headers, dict):
        raise ConfigError(f"connection '{connection}': key 'headers' must be a table")
    name = next((key for key in headers if key.lower() == header.lower()), header)
    if isinstance(headers.get(name), dict):
        changes: dict[KeyPath, Any] = {("headers", name, "value"): token, ("headers", name, "encrypt"): True}
    else:
        changes = {("headers", name): {"value": token, "encrypt": True}}
    return edit_connection(text, connection, changes), name


# -- one change, made through tomlkit ---------------------------------------------------------------

#: Marks the header of a section made by this edit until its blank line is settled.
_NEW_SECTION = "# qscript-new-section"


def _change(parent: Any, key: str, path: KeyPath, value: Any) -> None:
    """Set or remove ``path`` below ``parent[key]`` (first call: the connections table and the name)."""
    node = parent[key]
    for depth, part in enumerate(path[:-1]):
        if isinstance(node, InlineTable):
            _rewrite_inline(parent, key, path[depth:], value)
            return
        if part not in node:  # a table the connection does not have yet, written whole
            rest = apply_changes({}, {path[depth + 1:]: value})
            if depth == 0 and _is_section(node):
                node[part] = _new_section(rest)
            else:
                node[part] = _item(rest)
            return
        parent, key, node = node, part, node[part]
    if isinstance(node, InlineTable):
        _rewrite_inline(parent, key, path[-1:], value)
    elif isinstance(value, Mapping) and len(path) == 1 and path[0] not in node and _is_section(node):
        node[path[0]] = _new_section(value)
    elif value is REMOVE:
        del node[path[-1]]
    elif path[-1] in node:
        node[path[-1]] = _item(value)  # replaced in place: a comment after it stays
    else:
        _add_key(node, path[-1], _item(value))


def _add_key(table: Any, key: str, item: Item) -> None:
    """A new key goes right after the table's last key.

    tomlkit would append it after the blank lines and comments that end the table's body,
    which in a hand-written file introduce the next section (``# who we are`` above
    ``[connections."N".auth]``), so the key would land under the other section's comment.
    """
    if isinstance(table, OutOfOrderTableProxy):  # one part per dotted line (auth.schema, auth.username)
        parts = getattr(table, "_tables", None) or []
        if parts and all(isinstance(part, Table) and part.is_super_table() and not any(
                isinstance(value, Table | AoT) for _name, value in part.value.body) for part in parts):
            parts[-1][key] = item  # below the last line, not the first
            return
    container = getattr(table, "value", None)
    insert = getattr(container, "_insert_at", None)  # tomlkit-internal; without it, append
    if isinstance(table, Table) and insert is not None:
        body = container.body
        keys = [index for index, (name, value) in enumerate(body)
                if name is not None and not (isinstance(value, Table | AoT) and not name.is_dotted())]
        if keys and keys[-1] + 1 < len(body):
            insert(keys[-1] + 1, key, item)
            dict.__setitem__(table, key, item)
            return
    table[key] = item


def _new_section(table: Mapping[str, Any]) -> Table:
    """A sub-table as a section of its own, ``[connections."Name".query]``; ``_spaced`` then
    puts the blank lines around it that separate the other sections."""
    section = tomlkit.table()
    section.trivia.comment_ws = "  "
    section.trivia.comment = _NEW_SECTION
    for key, value in table.items():
        section.add(key, _item(value))
    return section


def _is_section(table: Any) -> bool:
    """Whether the connection is written as sections (``[connections."Name"]`` and its
    sub-tables), not with dotted keys (``Name.url = ...`` below ``[connections]``)."""
    if isinstance(table, OutOfOrderTableProxy):  # sections split by other tables: judge each part
        parts = getattr(table, "_tables", None)
        return bool(parts) and all(_is_section(part) for part in parts)
    if not isinstance(table, Table):
        return False
    if not table.is_super_table():
        return True
    return all(isinstance(item, Table) and not item.is_super_table() and key is not None and not key.is_dotted()
               for key, item in table.value.body if key is not None)


def _spaced(text: str) -> str:
    """Drop the marker of new sections and give each a blank line above and below, as the
    other sections have (below: before the comments that lead into the next section)."""
    lines = text.split("\n")
    for index in range(len(lines) - 1, -1, -1):
        if not lines[index].endswith(f"  {_NEW_SECTION}"):
            continue
        lines[index] = lines[index].removesuffix(f"  {_NEW_SECTION}")
        after = next((i for i in range(index + 1, len(lines)) if lines[i].lstrip().startswith("[")), None)
        if after is not None:
            while lines[after - 1].lstrip().startswith("#"):
                after -= 1
            if lines[after - 1].strip():
                lines.insert(after, "")
        if index > 0 and lines[index - 1].strip():
            lines.insert(index, "")
    return "\n".join(lines)


def _rewrite_inline(parent: Any, key: str, path: KeyPath, value: Any) -> None:
    """Change an inline table by writing it anew: tomlkit leaves stray commas and spaces when a
    member goes, and an inline table holds no comments that could be lost."""
    inline = parent[key]
    old = inline.unwrap()
    plain = apply_changes(old, {path: value})
    spaced = inline.as_string().startswith("{ ") or not old or not plain
    parent[key] = tomlkit.value(_inline_text(plain, spaced))


def _inline_text(table: Mapping[str, Any], spaced: bool = True) -> str:
    if not table:
        return "{}"
    inner = ", ".join(f"{quote_key(key)} = {_literal(value)}" for key, value in table.items())
    return f"{{ {inner} }}" if spaced else f"{{{inner}}}"


def _literal(value: Any) -> str:
    """A value as TOML text: inline tables spaced as the docs write them."""
    if isinstance(value, Mapping):
        return _inline_text(value)
    return _item(value).as_string()


_LITERAL_OK = re.compile(r"[^'\x00-\x08\x0a-\x1f\x7f]*")


def _item(value: Any) -> Item:
    """A new value. Strings with a backslash or a double quote (``CORP\\svc``, a JSON body) are
    written in single quotes, as a person would, so nothing needs escaping; tables become
    inline tables ``{ value = "...", encrypt = true }``."""
    if isinstance(value, Mapping):
        return tomlkit.value(_inline_text(value))
    if isinstance(value, str) and ("\\" in value or '"' in value) and _LITERAL_OK.fullmatch(value):
        return tomlkit.string(value, literal=True)
    return tomlkit.item(value)


__all__ = [
    "NEW_FILE_HEADER",
    "PLACEHOLDER",
    "REMOVE",
    "ChangeSet",
    "Changes",
    "Checked",
    "KeyPath",
    "add_connection",
    "apply_changes",
    "check_connection",
    "connection_text",
    "dotted",
    "edit_connection",
    "encrypt_header",
    "env_only",
    "lookup",
    "unset_variables",
]
