"""``qscript connections add NAME`` and ``qscript connections edit NAME``: write connections.

Both take the settings of Qlik's REST connector dialog as options (``--url``, ``--auth``,
``--pagination`` ...), any key as ``--set KEY=VALUE``, or ask for them one by one
(``-i``, or on a terminal when no setting is given; ``qscript.cli_connections_dialog``).
``add`` appends a new ``[connections."NAME"]`` to the file (creating the file if needed),
writing only what differs from the defaults; ``edit`` changes values in place. The file is
edited through ``qscript.connectors.connections_file``, which keeps comments, order and
spacing, and refuses a result that would not read back as intended.

Before anything is written the connection is validated as a reload will (unset
``${env:...}`` variables are allowed and reported). A secret is never taken from the
command line, where other users can read it in the process list: passwords come as
``--password-env VAR``, sensitive headers and query values only as ``${env:...}``
references (or encrypted with ``qscript connections encrypt``). Exit codes: 0 success,
1 failure (nothing was changed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qscript.cli_connections import (
    existing_name,
    load_file_connections,
    print_err,
    print_out,
    read_connections_text,
    redactor_for,
    write_connections_text,
)
from qscript.cli_connections_dialog import Dialog, Prompter
from qscript.connectors.connections import DEFAULT_FILE, ENV_VAR, Connections
from qscript.connectors.connections_file import (
    ChangeSet,
    Checked,
    KeyPath,
    add_connection,
    check_connection,
    dotted,
    edit_connection,
    env_only,
    lookup,
)
from qscript.connectors.rest.config import AUTH_SCHEMAS, DEFAULT_TIMEOUT, USER_SCHEMAS
from qscript.connectors.rest.config_parts import (
    ENV_NAME,
    HEADER_NAME,
    PAGINATION_KEYS,
    PAGINATION_TYPES,
    is_sensitive_name,
    sensitive_query_values,
)
from qscript.errors import ConfigError
from qscript.redact import Redactor

#: The options that set something; without any of them (and on a terminal) the dialog runs.
SETTING_OPTIONS = ("url", "method", "body", "timeout", "auth", "username", "password_env", "verify", "ca_file",
                   "pagination", "page", "query", "header", "allow_with_connection", "allow_response_headers",
                   "https_only", "set", "unset")
#: Keys whose whole value is a secret.
SECRET_KEYS = (("auth", "password"), ("proxy", "password"), ("tls", "client_cert_password"))


class UsageError(Exception):
    """A command line that cannot be carried out as given (exit code 2)."""


# -- the parsers ----------------------------------------------------------------------------------

def add_edit_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Add ``add`` and ``edit`` to the ``connections`` sub-command parsers; returns them."""
    add = commands.add_parser(
        "add", help="add a connection, from options or by asking (as Qlik's REST dialog does)",
        description="Append [connections.\"NAME\"] to the connections file (created if missing). Settings come "
                    "from the options, or are asked one by one with -i (also on a terminal without options). "
                    "Only settings that differ from the defaults are written.",
    )
    edit = commands.add_parser(
        "edit", help="change settings of a connection in place, keeping comments and layout",
        description="Change the given settings of connection NAME; the rest of the file stays as written. "
                    "With -i (also on a terminal without options) every setting is asked, Enter keeping it.",
    )
    for parser in (add, edit):
        parser.add_argument("name", help="the connection name, as LIB CONNECT TO writes it")
        _setting_options(parser, edit=parser is edit)
    return [add, edit]


def _setting_options(parser: argparse.ArgumentParser, *, edit: bool) -> None:
    group = parser.add_argument_group("settings (docs/connections.md lists every key)")
    group.add_argument("--url", help="the request URL")
    group.add_argument("--method", type=str.upper, choices=("GET", "POST"), help="GET (default) or POST")
    group.add_argument("--body", help="the request body (POST)")
    group.add_argument("--timeout", type=int, metavar="SECONDS",
                       help="connection_timeout and read_timeout, as Qlik's single Timeout field (default 30)")
    group.add_argument("--auth", type=str.lower, choices=AUTH_SCHEMAS, help="authentication schema")
    group.add_argument("--username", help="the user for basic, digest and ntlm (ntlm: DOMAIN\\user)")
    group.add_argument("--password-env", type=_env_name, metavar="VAR",
                       help='writes password = "${env:VAR}"; a password itself is never taken from the command '
                            "line (use -i to type one at a hidden prompt)")
    group.add_argument("--verify", type=str.lower, choices=("system", "skip", "custom_ca"),
                       help="server certificate check (default system)")
    group.add_argument("--ca-file", help="PEM file of trusted CAs (implies --verify custom_ca)")
    group.add_argument("--pagination", type=str.lower, choices=PAGINATION_TYPES, help="pagination type")
    group.add_argument("--page", action="append", type=_assignment, metavar="KEY=VALUE",
                       help="a pagination key such as count_value=100 (value read as TOML when it can be); "
                            "repeatable")
    group.add_argument("--query", action="append", type=_query_pair, metavar="NAME=VALUE",
                       help="a query parameter; repeatable")
    group.add_argument("--header", action="append", type=_header_pair, metavar="'NAME: VALUE'",
                       help="a request header; repeatable. A sensitive one (Authorization ...) only as ${env:VAR}, "
                            "or encrypted with qscript connections encrypt")
    for flag in ("allow-with-connection", "allow-response-headers", "https-only"):
        group.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None,
                           help=f"{flag.replace('-', '_')} = true / false")
    group.add_argument("--set", action="append", type=_assignment, metavar="KEY=VALUE",
                       help='any key, dotted (retry.enabled=true, headers."X-Id"=7); the value is read as TOML '
                            "when it can be, else as text; repeatable")
    if edit:
        group.add_argument("--unset", action="append", type=_key_path, metavar="KEY",
                           help="remove a key (dotted, as for --set); repeatable")
    parser.add_argument("-i", "--interactive", action="store_true",
                        help="ask for every setting (defaults in brackets; answers are read line by line from "
                             "stdin when it is not a terminal)")


def _env_name(text: str) -> str:
    if not ENV_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not an environment variable name (letters, digits and _, "
                                         "not starting with a digit)")
    return text


def _key_path(text: str) -> KeyPath:
    """A dotted TOML key (``auth.schema``, ``headers."X-Api-Key"``) as its parts."""
    try:
        node: Any = tomllib.loads(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        node = None
    path: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        (key, node), = node.items()
        path.append(key)
    if node != 0 or not path:
        raise argparse.ArgumentTypeError(f"'{text}' is not a TOML key such as auth.schema or headers.\"X-Api-Key\"")
    return tuple(path)


def literal(text: str) -> Any:
    """``100`` -> 100, ``true`` -> True, ``[500, 503]`` -> a list; anything else stays text."""
    try:
        document = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    value = document.get("value")
    if len(document) != 1 or not isinstance(value, str | int | float | bool | list | dict):
        return text  # a date, or text that happens to hold more TOML
    return value


def _assignment(text: str) -> tuple[KeyPath, Any]:
    """``KEY=VALUE``; the key is split at the first ``=`` that leaves a valid key before it."""
    for index, char in enumerate(text):
        if char != "=":
            continue
        try:
            return _key_path(text[:index].strip()), literal(text[index + 1:].strip())
        except argparse.ArgumentTypeError:
            continue
    raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got '{text}'")


def _query_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got '{text}'")
    return name, value


def _header_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not HEADER_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(f"expected 'NAME: VALUE' with a header name of letters, digits and "
                                         f"!#$%&'*+.^_`|~- (got '{name}')")
    return name, value.strip()


# -- options -> changes ---------------------------------------------------------------------------

def apply_options(changes: ChangeSet, args: argparse.Namespace, name: str) -> None:
    """Turn the setting options into changes, in the order of Qlik's dialog.

    Choosing another method, schema, certificate check or pagination type also removes the
    keys only the old one used (a body, the user, the CA file, the old paging keys), as the
    dialog hides their fields.
    """
    if args.url is not None:
        _refuse_secret(name, ("url",), args.url, changes)
        changes.set(("url",), args.url)
    if args.method is not None:
        changes.set(("method",), args.method, "GET", fold=True)
        if args.method == "GET" and args.body is None:
            changes.remove(("body",))
    if args.body is not None:
        changes.set(("body",), args.body, "")
    if args.timeout is not None:
        for key in ("connection_timeout", "read_timeout"):
            changes.set((key,), args.timeout, DEFAULT_TIMEOUT)
    _auth_options(changes, args)
    _tls_options(changes, args)
    for parameter, value in args.query or ():
        _refuse_secret(name, ("query", parameter), value, changes)
        changes.set(("query", parameter), value)
    for header, value in args.header or ():
        header = header_key(changes, header)
        _refuse_secret(name, ("headers", header), value, changes)
        changes.set(("headers", header), value)
    if args.pagination is not None:
        switch_pagination(changes, args.pagination)
    for path, value in args.page or ():
        changes.set(("pagination", *path), value)
    for key in ("allow_with_connection", "allow_response_headers", "https_only"):
        if getattr(args, key) is not None:
            changes.set((key,), getattr(args, key), False)
    for path, value in args.set or ():
        _refuse_secret(name, path, value, changes)
        changes.set(path, value)
    for path in getattr(args, "unset", None) or ():
        if not changes.has(path):
            raise ConfigError(f"connection '{name}' has no key '{dotted(path)}' to unset")
        changes.remove(path)


def _auth_options(changes: ChangeSet, args: argparse.Namespace) -> None:
    if args.auth is not None:
        changes.set(("auth", "schema"), args.auth, "anonymous", fold=True)
        if args.auth not in USER_SCHEMAS:
            changes.remove(("auth", "username"))
            changes.remove(("auth", "password"))
    if args.username is not None:
        changes.set(("auth", "username"), args.username)
    if args.password_env is not None:
        changes.set(("auth", "password"), f"${{env:{args.password_env}}}")


def _tls_options(changes: ChangeSet, args: argparse.Namespace) -> None:
    verify = args.verify or ("custom_ca" if args.ca_file is not None else None)
    if verify is not None:
        changes.set(("tls", "verify"), verify, "system", fold=True)
        if verify != "custom_ca":
            changes.remove(("tls", "ca_file"))
    if args.ca_file is not None:
        changes.set(("tls", "ca_file"), args.ca_file)


def switch_pagination(changes: ChangeSet, kind: str) -> None:
    """Set the pagination type; a different one drops the keys of the old type."""
    old = str(changes.value(("pagination", "type"), "none")).lower()
    changes.set(("pagination", "type"), kind, "none", fold=True)
    if old != kind:
        for key in PAGINATION_KEYS.get(old, ()):
            changes.remove(("pagination", key))


def header_key(changes: ChangeSet, header: str) -> str:
    """The header's name as the file spells it (header names ignore case), else as given."""
    existing = changes.value(("headers",), {})
    return next((key for key in existing if key.lower() == header.lower()), header)


def _refuse_secret(name: str, path: KeyPath, value: Any, changes: ChangeSet) -> None:
    """Refuse a secret given on the command line: any user can read it in the process list."""
    if isinstance(value, dict) and not (path[0] == "headers" and len(path) == 2):
        for key, item in value.items():  # --set auth={ password = "..." } hides nothing either
            _refuse_secret(name, (*path, key), item, changes)
        return
    what = _secret_in(path, value, changes)
    if what is None:
        return
    if path[0] == "headers":
        hint = (f"store it encrypted with: qscript connections encrypt {_shell_word(name)} {path[1]} (it reads the "
                f"value from stdin or a hidden prompt), or write '{path[1]}: Bearer ${{env:VAR}}' and set VAR")
    elif path == ("auth", "password"):
        hint = "use --password-env VAR (the file then says ${env:VAR}), or -i to type it at a hidden prompt"
    else:
        hint = "write ${env:VAR} in its place and set VAR before a reload, or use -i to type it"
    raise UsageError(f"{what} is a secret and is not taken from the command line, where other users can see it "
                     f"in the process list: {hint}")


def _secret_in(path: KeyPath, value: Any, changes: ChangeSet) -> str | None:
    """What secret ``value`` would put at ``path`` ("header 'Authorization'"), or None."""
    if path == ("url",) and isinstance(value, str):
        plain = [found for found in sensitive_query_values(value) if not env_only(found)]
        return "a sensitive query value in the URL" if plain else None
    if path == ("proxy", "url") and isinstance(value, str):
        return "the proxy password in proxy.url" if _url_password(value) else None
    if path[0] == "headers" and len(path) >= 2:
        marked = lookup(changes.current, path[:2], None)
        flagged = isinstance(marked, dict) and (marked.get("secret") is True or marked.get("encrypt") is True)
        if not (is_sensitive_name(path[1]) or flagged) or path[2:] not in ((), ("value",)):
            return None
        if isinstance(value, dict):
            if value.get("encrypt") is True:
                return None  # an enc: token is useless without the key
            value = value.get("value", "")
        return f"header '{path[1]}'" if _plain_secret(value) else None
    if path in SECRET_KEYS or (path[0] == "query" and len(path) == 2 and is_sensitive_name(path[1])):
        return f"key '{dotted(path)}'" if _plain_secret(value) else None
    return None


def _url_password(url: str) -> bool:
    try:
        password = urlsplit(url).password
    except ValueError:
        return False
    return bool(password) and not env_only(password)


def _plain_secret(value: Any) -> bool:
    return isinstance(value, str) and value != "" and not env_only(value)


def _shell_word(text: str) -> str:
    return text if all(ch.isalnum() or ch in "_.:/-" for ch in text) else '"' + text.replace('"', '\\"') + '"'


# -- add and edit ---------------------------------------------------------------------------------

def run_add(args: argparse.Namespace) -> int:
    """``connections add NAME``."""
    return _guarded(_add, args)


def run_edit(args: argparse.Namespace) -> int:
    """``connections edit NAME``."""
    return _guarded(_edit, args)


def _guarded(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Usage problems exit with 2; every failure says that the file was left as it was."""
    try:
        return command(args)
    except UsageError as error:
        print_err(f"qscript: {error}")
        return 2
    except ConfigError as error:
        message = str(error)
        if "nothing was changed" not in message and "was not changed" not in message:
            message += "; nothing was changed"
        raise ConfigError(message) from None


def _add(args: argparse.Namespace) -> int:
    name = args.name
    if not name.strip():
        raise UsageError("the connection name is empty")
    path = _target(args)
    text, bom = read_connections_text(path) if path.exists() else ("", False)
    if text:
        connections = Connections.from_file(path)  # the file's syntax and layout, checked as a reload does
        if name in connections.names():
            raise ConfigError(f"connection '{name}' already exists in {path}; change it with: qscript connections "
                              f"edit {_shell_word(name)}")
    changes = ChangeSet()
    apply_options(changes, args, name)
    dialog = _dialog(args, changes, name, path)
    if not changes.has(("url",)):
        raise UsageError(f"connection '{name}' needs a URL: pass --url URL, or -i to be asked for every setting")
    table = changes.table()
    checked = check_connection(name, table, path.parent, os.environ)
    write_connections_text(path, add_connection(text, name, table), bom=bom)
    _report(f"connection '{name}' added to {path}", checked, dialog)
    return 0


def _edit(args: argparse.Namespace) -> int:
    connections = load_file_connections(args)
    name = existing_name(connections, args.name)
    path = Path(connections.source or "").resolve()
    text, bom = read_connections_text(path)
    current = tomllib.loads(text)["connections"][name]
    changes = ChangeSet(current)
    apply_options(changes, args, name)
    dialog = _dialog(args, changes, name, path)
    if dialog is None and not _any_setting(args):
        raise UsageError("nothing to change: give settings such as --url URL (see qscript connections edit --help), "
                         "or -i to be asked for each")
    changes.prune()
    if not changes.changes:
        print_out(f"connection '{name}' in {path} is unchanged (every setting already has that value)")
        return 0
    checked = check_connection(name, changes.table(), path.parent, os.environ)
    write_connections_text(path, edit_connection(text, name, changes.changes), bom=bom)
    _report(f"connection '{name}' updated in {path} ({changes.summary()})", checked, dialog)
    return 0


def _any_setting(args: argparse.Namespace) -> bool:
    return any(getattr(args, key, None) not in (None, []) for key in SETTING_OPTIONS)


def _dialog(args: argparse.Namespace, changes: ChangeSet, name: str, path: Path) -> Dialog | None:
    """Ask for every setting with ``-i``, or when a person at a terminal gave none (as Qlik
    opens its dialog); None when nothing was asked."""
    stdin = sys.stdin
    if not (args.interactive or (stdin is not None and stdin.isatty() and not _any_setting(args))):
        return None
    dialog = Dialog(changes, name, Prompter(stdin, sys.stderr), Redactor(), path)
    dialog.run()
    return dialog


def _target(args: argparse.Namespace) -> Path:
    """Where ``add`` writes: --connections, else $QSCRIPT_CONNECTIONS, else ./connections.toml."""
    named = os.environ.get(ENV_VAR, "").strip()
    path = args.connections if args.connections is not None else Path(named) if named else Path(DEFAULT_FILE)
    path = path.expanduser().absolute()
    if path.is_dir():
        raise ConfigError(f"connections file {path} is a folder, not a TOML file")
    return path


def _report(line: str, checked: Checked, dialog: Dialog | None) -> None:
    """The result line, then warnings and what still needs doing before a reload; never a secret."""
    redact = redactor_for(checked.config)
    typed = dialog.typed if dialog is not None else Redactor()

    def clean(text: str) -> str:
        return typed(redact(text))

    print_out(clean(line))
    for warning in dialog.warnings if dialog is not None else ():
        print_err(clean(f"qscript: warning: {warning}"))
    for variable in checked.unset:
        print_err(clean(f"qscript: note: environment variable {variable} is not set; set it before a reload"))
    if checked.unchecked is not None:
        print_err(clean(f"qscript: note: key '{checked.unchecked}' could not be checked without its environment "
                      "variable; the first reload checks it"))
