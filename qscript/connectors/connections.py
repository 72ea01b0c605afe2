"""Named connections: what ``LIB CONNECT TO 'name'`` refers to.

Connections live in one TOML file as ``[connections."Name"]`` tables (format:
``docs/connections.md``), found in this order: an explicit path (``--connections``,
``qscript.run(connections=...)``), then ``$QSCRIPT_CONNECTIONS``, then
``./connections.toml``; without any of them the registry is empty. Python callers may
pass the tables directly (``Connections.from_mapping``) instead of writing a file.

The file's syntax and layout are checked when it is loaded; each connection is validated
in full the first time a script asks for it, so one connection with an unset
``${env:...}`` does not stop scripts that never use it (``validate_all`` checks every
connection at once, for tests and CI).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.config_parts import kind_of, shown
from qscript.errors import ConfigError

#: Environment variable naming the connections file when no explicit path is given.
ENV_VAR = "QSCRIPT_CONNECTIONS"
#: The file looked for in the current directory last.
DEFAULT_FILE = "connections.toml"

#: ``type`` -> builder of the validated settings; the key list is what error messages offer.
CONNECTION_TYPES: dict[str, Callable[[str, Mapping[str, Any], Path, Mapping[str, str]], RestConfig]] = {
    "rest": RestConfig.from_table,
}


class Connections:
    """The connections a reload can open, by name; validated lazily, cached once valid.

    ``get`` resolves Qlik Cloud names: ``'Space:Name'`` and ``':Name'`` find
    ``[connections."Name"]`` unless a connection is literally called ``'Space:Name'``.
    """

    def __init__(
        self,
        tables: Mapping[str, Any] | None = None,
        *,
        base_dir: Path | None = None,
        source: Path | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self._tables: dict[str, Any] = {}
        for name, table in (tables or {}).items():
            if not isinstance(name, str):
                raise ConfigError(f"connection names must be strings (got {shown(name)})")
            if not isinstance(table, RestConfig | Mapping):
                raise ConfigError(f"connection '{name}': must be a table of settings, [connections.\"{name}\"] "
                                  f"(got {kind_of(table)})")
            self._tables[name] = table if isinstance(table, RestConfig) else _plain(table)
        self.base_dir = base_dir if base_dir is not None else Path.cwd()
        #: the file the connections came from; None for a mapping or an empty registry
        self.source = source
        self.environ = environ
        self._built: dict[str, RestConfig] = {}

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping[str, Any],
        *,
        base_dir: Path | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> Connections:
        """Connections given as ``{name: table}`` (the TOML tables as dicts, or built ``RestConfig``\\ s).

        Relative file paths in the tables resolve against ``base_dir`` (default: the
        current directory), as they would against a connections file's folder.
        """
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"connections must be a mapping of name -> settings table (got {kind_of(mapping)})")
        return cls(mapping, base_dir=base_dir, environ=environ)

    @classmethod
    def from_file(cls, path: str | PathLike[str], *, environ: Mapping[str, str] = os.environ,
                  origin: str = "") -> Connections:
        """Read a connections file; ``origin`` says where the path came from, for messages."""
        path = Path(path).expanduser().absolute()
        where = f" (from {origin})" if origin else ""
        if not path.exists():
            raise ConfigError(f"connections file not found: {path}{where}")
        if path.is_dir():
            raise ConfigError(f"connections file {path}{where} is a folder, not a TOML file")
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"connections file {path} is not valid TOML: {error}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"connections file {path} cannot be read: {error}") from None
        for key in document:
            if key != "connections":
                raise ConfigError(f"connections file {path}: unknown top-level key '{key}' (allowed: connections; "
                                  f'write each connection as [connections."Name"])')
        tables = document.get("connections", {})
        if not isinstance(tables, dict):
            raise ConfigError(f"connections file {path}: 'connections' must be a table of connections "
                              f"(got {kind_of(tables)})")
        return cls(tables, base_dir=path.parent, source=path, environ=environ)

    # -- lookup ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Connection names in file order."""
        return list(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve(name) is not None

    def __repr__(self) -> str:
        return f"Connections(source={self.source!r}, names={self.names()!r})"

    def resolve(self, name: str) -> str | None:
        """The defined name ``name`` refers to: exact first, then the part after ``Space:``."""
        if name in self._tables:
            return name
        _, colon, rest = name.partition(":")
        if colon and rest in self._tables:
            return rest
        return None

    def get(self, name: str) -> RestConfig:
        """The validated settings of connection ``name`` (as ``LIB CONNECT TO`` writes it)."""
        key = self.resolve(name)
        if key is None:
            raise ConfigError(self._missing(name))
        if key not in self._built:
            table = self._tables[key]
            self._built[key] = table if isinstance(table, RestConfig) else self._build(key, table)
        return self._built[key]

    def validate_all(self) -> dict[str, RestConfig]:
        """Validate every connection now; raises on the first invalid one."""
        return {name: self.get(name) for name in self._tables}

    def _build(self, name: str, table: dict[str, Any]) -> RestConfig:
        kind = table.get("type", "rest")
        builder = CONNECTION_TYPES.get(kind.lower()) if isinstance(kind, str) else None
        if builder is None:
            raise ConfigError(f"connection '{name}': key 'type' must be a connection type qscript knows: "
                              f"{', '.join(CONNECTION_TYPES)} (got {shown(kind)})")
        return builder(name, table, self.base_dir, self.environ)

    def _missing(self, name: str) -> str:
        where = f" in {self.source}" if self.source else ""
        if not self._tables:
            if self.source is not None:
                return f"connection '{name}' is not defined: {self.source} defines no connections"
            return (f"connection '{name}' is not defined: no connections were given (pass --connections, set "
                    f"{ENV_VAR} or create ./{DEFAULT_FILE})")
        looked = f"'{name}'"
        _, colon, rest = name.partition(":")
        if colon:
            looked += f" or '{rest}'"
        known = ", ".join(f"'{n}'" for n in self._tables)
        close = [n for n in self._tables if n.lower() in (name.lower(), rest.lower())]
        close = close or difflib.get_close_matches(rest if colon else name, list(self._tables), n=1)
        hint = f"; did you mean '{close[0]}'? (names are case-sensitive)" if close else ""
        return f"connection {looked} is not defined{where} (known: {known}){hint}"


def load_connections(
    path: str | PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    cwd: Path | None = None,
) -> Connections:
    """Find and read the connections file: ``path``, else ``$QSCRIPT_CONNECTIONS``, else
    ``./connections.toml``, else an empty registry.

    An explicit path or the environment variable must name an existing file (a typo must
    not silently mean "no connections"); ``./connections.toml`` is optional. Relative paths
    resolve against ``cwd`` (default: the current directory).
    """
    here = cwd if cwd is not None else Path.cwd()
    if path is not None:
        return Connections.from_file(_absolute(Path(path), here), environ=environ)
    named = environ.get(ENV_VAR, "")
    if named.strip():
        return Connections.from_file(_absolute(Path(named), here), environ=environ, origin=ENV_VAR)
    default = here / DEFAULT_FILE
    if default.is_file():
        return Connections.from_file(default, environ=environ)
    return Connections(base_dir=here, environ=environ)


def connections_from(
    value: Connections | Mapping[str, Any] | str | PathLike[str] | None,
    *,
    base_dir: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    cwd: Path | None = None,
) -> Connections:
    """Whatever ``qscript.run(connections=...)`` received, as a registry.

    None follows the lookup order of ``load_connections``; a path is read as a file; a
    mapping is ``{name: table}`` with paths relative to ``base_dir`` (default ``cwd``).
    """
    if isinstance(value, Connections):
        return value
    if isinstance(value, Mapping):
        return Connections.from_mapping(value, base_dir=base_dir or cwd, environ=environ)
    if value is None or isinstance(value, str | PathLike):
        return load_connections(value, environ=environ, cwd=cwd)
    raise ConfigError(f"connections must be a path, a mapping of name -> settings or None (got {kind_of(value)})")


def _absolute(path: Path, cwd: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else cwd / path


def _plain(value: Any) -> Any:
    """Mappings as dicts and tuples as lists, so Python-built tables read like parsed TOML."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value
