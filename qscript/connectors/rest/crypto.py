"""Encrypted header values (``enc:`` tokens) in connection files.

A header written ``{ value = "enc:...", encrypt = true }`` holds a Fernet token (AES-128-CBC
plus HMAC-SHA256: authenticated, so a wrong key or an edited token is detected, never
decrypted into garbage that would then be sent). The key is read, in this order, from:

1. ``$QSCRIPT_KEY``: a Fernet key (44 characters of URL-safe base64), for CI and servers;
2. the key file: ``$QSCRIPT_KEY_FILE`` if set, else ``<config dir>/qscript/key`` where the
   config dir is ``%APPDATA%`` on Windows and ``$XDG_CONFIG_HOME`` or ``~/.config`` elsewhere.

Only encrypting creates a key (``load_key(create=True)``), as a file of mode 0600 in a
folder of mode 0700: a new key made while *decrypting* could never open an existing token,
it would only hide the real problem. A key file that other users can read is refused, as
ssh refuses such private keys.

Errors name the connection, the header and where the key came from, never the key, the
token or the plain value. Decryption is lazy (the key is read on the first ``enc:`` token),
so connections without encrypted headers never touch the key.
"""

from __future__ import annotations

import copy
import os
import re
import stat
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

from qscript.connectors.rest.config_parts import quote_key
from qscript.errors import ConfigError

if TYPE_CHECKING:
    from qscript.connectors.rest.config import RestConfig

#: Environment variable holding the key itself.
KEY_ENV = "QSCRIPT_KEY"
#: Environment variable naming the key file.
KEY_FILE_ENV = "QSCRIPT_KEY_FILE"
#: What an encrypted header value starts with.
PREFIX = "enc:"
#: Characters a header value may not contain (they would split or end the header).
FORBIDDEN = ("\r", "\n", "\0")

#: ``yyyy-MM-dd-HH:mm:ssZ`` (Qlik's spelling), e.g. ``2024-01-31-13:45:30Z``.
DATE_FORMAT = "yyyy-MM-dd-HH:mm:ssZ"
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}-\d{2}:\d{2}:\d{2}Z")


@dataclass(frozen=True)
class Key:
    """A loaded key. ``where`` says where it came from, for messages ('$QSCRIPT_KEY', 'key file ...')."""

    fernet: Fernet
    where: str
    created: bool = False

    def __repr__(self) -> str:  # never the key material
        return f"Key(where={self.where!r}, created={self.created!r})"

    def encrypt(self, value: str) -> str:
        """``enc:`` + a Fernet token for ``value``."""
        return PREFIX + self.fernet.encrypt(value.encode("utf-8")).decode("ascii")


def key_file_path(environ: Mapping[str, str]) -> Path:
    """``$QSCRIPT_KEY_FILE``, else the per-user config folder's ``qscript/key``."""
    named = environ.get(KEY_FILE_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    if sys.platform == "win32" and environ.get("APPDATA"):
        base = Path(environ["APPDATA"])
    elif environ.get("XDG_CONFIG_HOME", "").strip():
        base = Path(environ["XDG_CONFIG_HOME"]).expanduser()
    else:
        home = environ.get("HOME", "").strip()
        base = (Path(home) if home else Path.home()) / ".config"
    return base / "qscript" / "key"


def _fernet(text: str, where: str) -> Fernet:
    try:
        return Fernet(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
        raise ConfigError(f"{where} does not hold a valid key (a Fernet key: 32 bytes in URL-safe base64, "
                          "44 characters)") from None


def load_key(environ: Mapping[str, str], *, create: bool = False) -> Key:
    """The key from ``$QSCRIPT_KEY`` or the key file; ``create`` makes the file when there is none."""
    text = environ.get(KEY_ENV, "")
    if text.strip():
        return Key(_fernet(text, f"${KEY_ENV}"), f"${KEY_ENV}")
    path = key_file_path(environ)
    where = f"key file {path}"
    try:
        return Key(_fernet(_read_key_file(path), where), where)
    except FileNotFoundError:
        if not create:
            raise ConfigError(f"no key to decrypt with: ${KEY_ENV} is not set and {where} does not exist "
                              f"(set ${KEY_ENV} or ${KEY_FILE_ENV} to the key the values were encrypted "
                              "with)") from None
    created = _create_key_file(path)
    return Key(_fernet(_read_key_file(path), where), where, created=created)


def _read_key_file(path: Path) -> str:
    """The file's text; refuses a file other users may read or write (the key is a password)."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"key file {path} is a folder")
        if os.name == "posix" and info.st_mode & 0o077:
            raise ConfigError(f"key file {path} is accessible by other users (mode "
                              f"{stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}")
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError:
        raise ConfigError(f"key file {path} does not hold a valid key (it is not ASCII text)") from None
    except OSError as error:
        raise ConfigError(f"key file {path} cannot be read: {error.strerror}") from None


def _create_key_file(path: Path) -> bool:
    """Write a new key with mode 0600; False when another process created the file first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as error:
        raise ConfigError(f"cannot create key file {path}: {error.strerror}") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, 0o600)  # the umask can only remove bits; make the mode exact anyway
        os.write(descriptor, Fernet.generate_key() + b"\n")
    finally:
        os.close(descriptor)
    return True


def check_header_value(value: str) -> str | None:
    """Why ``value`` cannot be sent as a header value, or None."""
    if not value:
        return "the value is empty"
    if any(ch in value for ch in FORBIDDEN):
        return "the value contains a line break or NUL character"
    return None


def date_header_problem(value: str) -> str | None:
    """Why ``value`` is not a ``Date`` header value as ``yyyy-MM-dd-HH:mm:ssZ``, or None."""
    if _DATE_PATTERN.fullmatch(value):
        try:
            datetime.strptime(value, "%Y-%m-%d-%H:%M:%SZ")
            return None
        except ValueError:
            return f"is not a real date and time (write {DATE_FORMAT}, for example 2024-01-31-13:45:30Z)"
    return f"must be written {DATE_FORMAT}, for example 2024-01-31-13:45:30Z"


def decrypt_token(token: str, key: Key, what: str, again: str = "qscript connections encrypt") -> str:
    """The plain value of ``token``; ``what`` names the header in messages, ``again`` the fix."""
    if not token.startswith(PREFIX):
        raise ConfigError(f"{what} is not an {PREFIX} token")
    try:
        plain = key.fernet.decrypt(token[len(PREFIX):].strip().encode("ascii"))
    except (InvalidToken, UnicodeEncodeError, ValueError):
        raise ConfigError(f"{what} cannot be decrypted with the key from {key.where} (it was encrypted with "
                          f"another key, or the enc: value was changed); encrypt it again with: {again}") from None
    try:
        value = plain.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{what} does not decrypt to UTF-8 text") from None
    problem = check_header_value(value)
    if problem is not None:
        raise ConfigError(f"{what} cannot be sent: after decryption {problem}")
    return value


def decryptor_from_environ(environ: Mapping[str, str], config: RestConfig | None = None) -> Callable[[str], str]:
    """A function turning an ``enc:`` token into its plain value.

    With ``config``, messages name the connection and the header (found by its token), and a
    decrypted ``Date`` header is checked against ``yyyy-MM-dd-HH:mm:ssZ``. The key is read on
    the first call and kept; ``environ`` is read then, not now.
    """
    headers = {h.value: h.name for h in config.headers if h.encrypt} if config is not None else {}
    loaded: list[Key] = []

    def decrypt(token: str) -> str:
        header = headers.get(token)
        if config is not None and header is not None:
            what = f"connection '{config.name}': header '{header}' (encrypt = true)"
        elif config is not None:
            what = f"connection '{config.name}': an encrypted header value"
        else:
            what = "an encrypted header value"
        if not loaded:
            try:
                loaded.append(load_key(environ))
            except ConfigError as error:
                raise ConfigError(f"{what}: {error}") from None
        again = "qscript connections encrypt"
        if config is not None and header is not None:
            again += f" {_shell_word(config.name)} {header}"
        value = decrypt_token(token, loaded[0], what, again)
        if header is not None and header.lower() == "date":
            problem = date_header_problem(value)
            if problem is not None:
                raise ConfigError(f"{what}: the decrypted value {problem}")
        return value

    return decrypt


def _shell_word(text: str) -> str:
    """``text`` as one shell word in a hint (quoted when it has spaces or quotes)."""
    return text if re.fullmatch(r"[A-Za-z0-9_.:/-]+", text) else '"' + text.replace('"', '\\"') + '"'


# -- writing an encrypted header into a connections file --------------------------------------
#
# The file is hand-written, so it is edited as text: only the header's value (or the line
# that adds it) changes, and comments, order and spacing stay as they were. A small scanner
# finds where each key's value sits (it understands every TOML string form, arrays and inline
# tables, so a "[" inside a multi-line string is not taken for a table), the edit is made, and
# the result is parsed again and compared with the document expected: any difference leaves
# the file untouched.


@dataclass
class _Entry:
    """One ``key = value``: its full path, the key parts as written, and where the value sits."""

    path: tuple[str, ...]
    keys: tuple[str, ...]
    start: int
    value_start: int
    value_end: int
    inline: bool


@dataclass
class _Section:
    """One ``[table]`` header: its path, its key as written, where its lines start (``body``) and end."""

    path: tuple[str, ...]
    raw: str
    body: int
    end: int


class _Scanner:
    """Positions of the keys, values and table headers of a valid TOML text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.entries: list[_Entry] = []
        self.sections: list[_Section] = []

    def scan(self) -> _Scanner:
        table: tuple[str, ...] = ()
        while self._skip(newlines=True) < len(self.text):
            if self.text[self.i] == "[":
                start = self.i
                array = self.text.startswith("[[", self.i)
                self.i += 2 if array else 1
                parts = self._key()
                path = tuple(decoded for _raw, decoded in parts)
                self._skip(newlines=False)
                self.i += 2 if array else 1
                self._skip(newlines=False)
                table = (*path, "[]") if array else path  # nothing inside an array of tables is ours
                if self.sections:
                    self.sections[-1].end = start
                self.sections.append(_Section(table, ".".join(raw for raw, _d in parts), self.i, len(self.text)))
            else:
                self._pair(table, inline=False)
        return self

    def _skip(self, *, newlines: bool) -> int:
        text = self.text
        while self.i < len(text):
            char = text[self.i]
            if char in " \t" or (newlines and char in "\r\n"):
                self.i += 1
            elif char == "#":
                end = text.find("\n", self.i)
                self.i = len(text) if end < 0 else end
            else:
                break
        return self.i

    def _key(self) -> list[tuple[str, str]]:
        """A dotted key as (raw, decoded) parts."""
        parts = []
        while True:
            self._skip(newlines=False)
            start = self.i
            char = self.text[self.i]
            if char in "\"'":
                self._string()
                raw = self.text[start:self.i]
                decoded = raw[1:-1] if char == "'" else _decode_basic(raw)
            else:
                match = _BARE_KEY.match(self.text, self.i)
                if match is None:
                    raise ValueError(f"unexpected character at offset {self.i}")
                self.i = match.end()
                raw = decoded = match.group()
            parts.append((raw, decoded))
            self._skip(newlines=False)
            if self.i < len(self.text) and self.text[self.i] == ".":
                self.i += 1
                continue
            return parts

    def _pair(self, table: tuple[str, ...], *, inline: bool) -> None:
        start = self.i
        parts = self._key()
        if self.text[self.i] != "=":
            raise ValueError(f"expected '=' at offset {self.i}")
        self.i += 1
        self._skip(newlines=False)
        entry = _Entry((*table, *(d for _r, d in parts)), tuple(r for r, _d in parts), start, self.i, self.i, inline)
        self.entries.append(entry)
        self._value(entry.path)
        entry.value_end = self.i

    def _value(self, path: tuple[str, ...]) -> None:
        text = self.text
        char = text[self.i]
        if char in "\"'":
            self._string()
        elif char in "[{":
            close = "]" if char == "[" else "}"
            self.i += 1
            while self._skip(newlines=True) < len(text) and text[self.i] != close:
                if close == "]":
                    self._value((*path, "[]"))
                else:
                    self._pair(path, inline=True)
                if self._skip(newlines=True) < len(text) and text[self.i] == ",":
                    self.i += 1
            self.i += 1
        else:  # number, boolean or date-time (which may contain a space)
            end = self.i
            while end < len(text) and text[end] not in ",]}#\r\n":
                end += 1
            self.i = len(text[:end].rstrip(" \t"))

    def _string(self) -> None:
        text = self.text
        quote = text[self.i]
        if text.startswith(quote * 3, self.i):
            self.i += 3
            while not text.startswith(quote * 3, self.i):
                self.i += 2 if quote == '"' and text[self.i] == "\\" else 1
            self.i += 3
            for _ in range(2):  # up to two quotes may end the content: """a""""" is 'a""'
                if self.i < len(text) and text[self.i] == quote:
                    self.i += 1
            return
        self.i += 1
        while text[self.i] != quote:
            self.i += 2 if quote == '"' and text[self.i] == "\\" else 1
        self.i += 1


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _decode_basic(raw: str) -> str:
    return str(tomllib.loads(f"k = {raw}")["k"])


def _line_after(text: str, position: int) -> int:
    """The start of the line after the one ``position`` is on (len(text) on the last line)."""
    end = text.find("\n", position)
    return len(text) if end < 0 else end + 1


def _indent(text: str, position: int) -> str:
    start = text.rfind("\n", 0, position) + 1
    prefix = text[start:position]
    return prefix if not prefix.strip() else ""


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(quote_key(part) for part in path)


class _Edit:
    """Text edits at positions of the original text, applied back to front."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.changes: list[tuple[int, int, str]] = []

    def replace(self, start: int, end: int, new: str) -> None:
        self.changes.append((start, end, new))

    def add_line(self, after: _Entry | None, position: int, line: str) -> None:
        """Insert ``line`` below the entry ``after`` (same indentation), or at a line start."""
        indent = ""
        if after is not None:
            indent = _indent(self.text, after.start)
            position = _line_after(self.text, after.value_end)
        lead = self.newline if position == len(self.text) and not self.text.endswith("\n") else ""
        self.changes.append((position, position, f"{lead}{indent}{line}{self.newline}"))

    def add_member(self, after: _Entry, key: str, value: str) -> None:
        """A sibling of ``after``: in its inline table, or on the next line."""
        if after.inline:
            self.replace(after.value_end, after.value_end, f", {key} = {value}")
        else:
            self.add_line(after, 0, f"{key} = {value}")

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.changes, reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _sibling(entries: list[_Entry], container: tuple[str, ...]) -> tuple[_Entry, tuple[str, ...]] | None:
    """The last entry defining something directly in ``container`` through its own dotted key,
    with the key parts that lead to the container (a new member is written ``prefix.name``)."""
    found = None
    for entry in entries:
        below = len(entry.path) - len(container)
        if entry.path[: len(container)] == container and below >= 1 and len(entry.keys) >= below:
            found = (entry, entry.keys[: len(entry.keys) - below])
    return found


def write_encrypted_header(text: str, connection: str, header: str, token: str) -> tuple[str, str]:
    """``text`` with header ``header`` of ``connection`` set to ``{ value = token, encrypt = true }``.

    Returns the new text and the header's name as the file spells it (an existing header is
    matched ignoring case). Raises ConfigError, leaving nothing half-done, when the result
    would not parse to exactly the expected document.
    """
    document = tomllib.loads(text)
    table = document.get("connections", {}).get(connection)
    if not isinstance(table, dict):
        raise ConfigError(f"connection '{connection}' is not a table in this file")
    headers = table.get("headers", {})
    if not isinstance(headers, dict):
        raise ConfigError(f"connection '{connection}': key 'headers' must be a table")
    name = next((key for key in headers if key.lower() == header.lower()), header)
    home = ("connections", connection, "headers")
    inline = f'{{ value = "{token}", encrypt = true }}'
    edit = _Edit(text)
    failed = ConfigError(f"could not update the file safely (its layout is unusual), so it was not changed; "
                         f"write the header by hand under [{_dotted(home)}]:{edit.newline}"
                         f"{_dotted((name,))} = {inline}")
    try:
        new_value = _edit_header(edit, headers.get(name), home, name, inline, token)
    except (ValueError, IndexError):  # the scanner met something it does not know
        raise failed from None
    expected = copy.deepcopy(document)
    expected["connections"][connection].setdefault("headers", {})[name] = new_value
    result = edit.result()
    try:
        ok = tomllib.loads(result) == expected
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:
        raise failed
    return result, name


def _edit_header(edit: _Edit, old: object, home: tuple[str, ...], name: str, inline: str,
                 token: str) -> dict[str, object]:
    """Plan the edits that encrypt header ``name``; returns the header's expected new table."""
    scanner = _Scanner(edit.text).scan()
    entries = scanner.entries
    target = (*home, name)
    new_value: dict[str, object] = {"value": token, "encrypt": True}
    exact = next((e for e in entries if e.path == target), None)
    if exact is not None:  # Name = "..." or Name = { ... }: replace the whole value
        edit.replace(exact.value_start, exact.value_end, inline)
    elif isinstance(old, dict):  # [..headers.Name] or Name.value = ...: set value and encrypt
        value_entry = next((e for e in entries if e.path == (*target, "value")), None)
        if value_entry is None:
            raise ValueError("the header table has no value key")
        edit.replace(value_entry.value_start, value_entry.value_end, f'"{token}"')
        flag = next((e for e in entries if e.path == (*target, "encrypt")), None)
        if flag is not None:
            edit.replace(flag.value_start, flag.value_end, "true")
        else:
            edit.add_member(value_entry, ".".join((*value_entry.keys[:-1], "encrypt")), "true")
        new_value = {**old, **new_value}
    else:
        _add_header(edit, scanner, home[:2], home, _dotted((name,)), inline)
    return new_value


def _add_header(edit: _Edit, scanner: _Scanner, owner: tuple[str, ...], home: tuple[str, ...],
                key: str, inline: str) -> None:
    """Add a header that the connection does not have yet, next to where its headers are."""
    entries = scanner.entries
    section = next((s for s in scanner.sections if s.path == home), None)
    if section is not None:  # [connections."N".headers]: a new line after its last key
        inside = [e for e in entries if not e.inline and section.body <= e.start < section.end]
        edit.add_line(inside[-1] if inside else None, section.body, f"{key} = {inline}")
        return
    sibling = _sibling(entries, home)
    if sibling is not None:  # headers.X = ... or headers = { X = ... }
        entry, prefix = sibling
        edit.add_member(entry, ".".join((*prefix, key)), inline)
        return
    empty = next((e for e in entries if e.path == home), None)
    if empty is not None:  # headers = {}
        edit.replace(empty.value_start, empty.value_end, f"{{ {key} = {inline} }}")
        return
    section = next((s for s in scanner.sections if s.path == owner), None)
    if section is not None:  # a new [connections."N".headers] table after the connection's keys
        inside = [e for e in entries if not e.inline and section.body <= e.start < section.end]
        position = _line_after(edit.text, inside[-1].value_end) if inside else section.body
        lead = edit.newline if position == len(edit.text) and not edit.text.endswith("\n") else ""
        block = f"{lead}{edit.newline}[{section.raw}.headers]{edit.newline}{key} = {inline}{edit.newline}"
        edit.replace(position, position, block)
        return
    sibling = _sibling(entries, owner)
    if sibling is None:
        raise ConfigError(f"cannot find connection '{owner[1]}' in the file's text")
    entry, prefix = sibling  # "N" = { url = ... } or "N".url = ...
    edit.add_member(entry, ".".join((*prefix, "headers")), f"{{ {key} = {inline} }}")
