"""``qscript connections list|show|test|encrypt|add|edit``: look after connections without running a script.

* ``list``: each connection's name and URL, one per line.
* ``show NAME``: every setting, defaults included, as TOML; secrets are shown as ``***``.
* ``test NAME``: sends the connection's own first request (no script, no WITH CONNECTION,
  first page only) through the request builder, paginator and transport a SELECT uses, so
  a success means a reload can start; it reports the HTTP status, the time and the detected
  response type; with ``check_response_type_on_test = true`` the body must also decode as
  that type.
* ``encrypt NAME HEADER``: reads a header value from stdin or a hidden prompt (never from
  the command line, which other users can see in the process list), encrypts it
  (``qscript.connectors.rest.crypto``) and rewrites only that header in the file.
* ``add NAME`` / ``edit NAME``: write a connection from options or answers, keeping the
  file's comments and layout (``qscript.cli_connections_edit``).

Each takes ``--connections FILE``, found otherwise as ``qscript run`` finds it. Whatever is
printed passes through the connection's redactor. Exit codes: 0 success, 1 failure (the
reason on stderr), 2 bad usage. ``qscript.cli`` registers the commands with
``add_connection_commands(subparsers)`` and runs them with ``run_connection_command(args)``.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import os
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from qscript.connectors.connections import Connections, load_connections
from qscript.connectors.connections_file import encrypt_header
from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.config_parts import (
    COMMON_PAGINATION_KEYS,
    HEADER_NAME,
    MASK,
    PAGINATION_KEYS,
    is_sensitive_name,
    quote_key,
)
from qscript.connectors.rest.crypto import (
    PREFIX,
    check_header_value,
    date_header_problem,
    decrypt_token,
    decryptor_from_environ,
    load_key,
)
from qscript.connectors.rest.decode import decode_csv, decode_json, detect_response_type
from qscript.connectors.rest.decode_xml import decode_xml
from qscript.connectors.rest.paging import paginator_for
from qscript.connectors.rest.request import build_request
from qscript.connectors.rest.transport import RestResponse, Transport
from qscript.errors import ConfigError, QScriptError, ScriptError
from qscript.redact import Redactor

#: How much of a failed response's body ``test`` quotes.
BODY_EXCERPT = 200
UTF8_BOM = b"\xef\xbb\xbf"
#: The nested parts of a connection, shown as tables of their own.
_SECTIONS = ("auth", "tls", "query", "headers", "retry", "pagination", "proxy")


def add_connection_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``connections`` and its sub-commands to the ``qscript`` sub-command parsers."""
    parser = subparsers.add_parser(
        "connections", help="list, show, test, encrypt, add and edit connections",
        description="Look after the connections LIB CONNECT TO opens (docs/connections.md).",
    )
    commands = parser.add_subparsers(dest="connections_command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="the name and URL of each connection, one per line")
    show = commands.add_parser("show", help="every setting of a connection, secrets shown as ***")
    show.add_argument("name", help="the connection name, as LIB CONNECT TO writes it")
    test = commands.add_parser("test", help="send the connection's request and report what came back")
    test.add_argument("name", help="the connection name, as LIB CONNECT TO writes it")
    encrypt = commands.add_parser(
        "encrypt", help="encrypt a header value into the connections file",
        description="Reads the value from stdin, or from a hidden prompt on a terminal; never from the "
                    "command line. The key is $QSCRIPT_KEY, else the key file ($QSCRIPT_KEY_FILE or "
                    "~/.config/qscript/key), which is created on first use.",
    )
    encrypt.add_argument("name", help="the connection name")
    encrypt.add_argument("header", help="the header name, such as Authorization")
    from qscript.cli_connections_edit import add_edit_commands  # here: that module imports this one

    for command in (listing, show, test, encrypt, *add_edit_commands(commands)):
        command.add_argument("--connections", type=Path, metavar="FILE",
                             help="connection definitions (default: $QSCRIPT_CONNECTIONS, then ./connections.toml)")
    return parser


def run_connection_command(args: argparse.Namespace) -> int:
    """Run the parsed ``connections`` sub-command; returns the exit code."""
    from qscript.cli_connections_edit import run_add, run_edit

    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "list": _list, "show": _show, "test": _test, "encrypt": _encrypt, "add": run_add, "edit": run_edit,
    }
    try:
        return commands[args.connections_command](args)
    except QScriptError as error:
        print_err(f"qscript: {error.message if isinstance(error, ScriptError) else error}")
        return 1
    except KeyboardInterrupt:
        print_err("qscript: interrupted; nothing was changed")
        return 130


def print_out(line: str) -> None:
    print(line, flush=True)


def print_err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def redactor_for(config: RestConfig) -> Redactor:
    """The connection's secrets, also in the forms they travel in, since a server may echo the
    request back in an error body: percent-encoded in the URL, and inside Basic credentials."""
    secrets = config.secrets()
    forms = [form for secret in secrets for form in (quote(secret, safe=""), quote(secret, safe="$:@!*'(),;/"),
                                                      quote_plus(secret))]
    pairs = [(config.auth.username, config.auth.password)] if config.auth.schema == "basic" else []
    if config.proxy is not None and config.proxy.username:
        pairs.append((config.proxy.username, config.proxy.password))
    forms += [base64.b64encode(f"{user}:{password}".encode()).decode("ascii") for user, password in pairs if password]
    return Redactor([*secrets, *forms])


def load_file_connections(args: argparse.Namespace) -> Connections:
    connections = load_connections(args.connections)
    if connections.source is None:
        raise ConfigError("no connections file: pass --connections FILE, set $QSCRIPT_CONNECTIONS or create "
                          "./connections.toml")
    return connections


def existing_name(connections: Connections, name: str) -> str:
    """The file's own name of connection ``name`` (Qlik Cloud ``Space:Name`` resolved), or the
    usual "not defined (known: ...)" ConfigError."""
    found = connections.resolve(name)
    if found is None:
        connections.get(name)  # raises the message that lists the known names
        raise AssertionError("unreachable")
    return found


# -- list -------------------------------------------------------------------------------------

def _list(args: argparse.Namespace) -> int:
    connections = load_file_connections(args)
    rows, problems = [], []
    for name in connections.names():
        try:
            config = connections.get(name)
        except ConfigError as error:
            rows.append((name, "(invalid, see below)"))
            problems.append(str(error))
            continue
        rows.append((name, redactor_for(config).url(config.url)))
    width = max((len(name) for name, _url in rows), default=0)
    for name, url in rows:
        print_out(f"{name.ljust(width)}  {url}")
    for problem in problems:
        print_err(f"qscript: {problem}")
    return 1 if problems else 0


# -- show -------------------------------------------------------------------------------------

def _show(args: argparse.Namespace) -> int:
    connections = load_file_connections(args)
    config = connections.get(args.name)
    redact = redactor_for(config)
    for line in show_lines(config, connections.source):
        print_out(redact(line))
    return 0


def _toml(value: object) -> str:
    """A value as TOML writes it (JSON's string escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def show_lines(config: RestConfig, source: Path | None = None) -> list[str]:
    """Every setting of ``config`` as TOML lines, defaults included and secrets masked.

    Secret fields are replaced by ``***`` here by rule; the caller also passes every line
    through the connection's redactor, which catches secret text inside other values.
    """
    redact = redactor_for(config)
    table = ("connections", config.name)
    lines = [f"# from {source}" if source else "# given directly", f"[{_key(table)}]", 'type = "rest"']
    for f in fields(config):
        if f.name in ("name", "env_secrets", *_SECTIONS):
            continue
        value = getattr(config, f.name)
        lines.append(f"{f.name} = {_toml(redact.url(value) if f.name == 'url' else value)}")
    auth = config.auth
    lines += ["", f"[{_key((*table, 'auth'))}]", f"schema = {_toml(auth.schema)}", f"username = {_toml(auth.username)}",
              f"password = {_toml(_masked(auth.password))}"]
    tls = config.tls
    lines += ["", f"[{_key((*table, 'tls'))}]", f"verify = {_toml(tls.verify)}"]
    lines += [f"{name} = {_toml(getattr(tls, name))}" for name in ("ca_file", "client_cert", "client_key")
              if getattr(tls, name) is not None]
    lines.append(f"client_cert_password = {_toml(_masked(tls.client_cert_password))}")
    lines += ["", f"[{_key((*table, 'query'))}]"]
    lines += [f"{quote_key(name)} = {_toml(_masked(value) if is_sensitive_name(name) else value)}"
              for name, value in config.query.items()]
    lines += ["", f"[{_key((*table, 'headers'))}]"]
    for header in config.headers:
        shown = _toml(_masked(header.value) if header.sensitive else header.value)
        flags = "".join(f", {flag} = true" for flag in ("encrypt", "secret") if getattr(header, flag))
        lines.append(f"{quote_key(header.name)} = " + (f"{{ value = {shown}{flags} }}" if flags else shown))
    lines += ["", f"[{_key((*table, 'retry'))}]"]
    lines += [f"{f.name} = {_toml(getattr(config.retry, f.name))}" for f in fields(config.retry)]
    paging = config.pagination
    lines += ["", f"[{_key((*table, 'pagination'))}]"]
    for name in ("type", *PAGINATION_KEYS[paging.type], *COMMON_PAGINATION_KEYS[1:]):
        if getattr(paging, name) is not None:
            lines.append(f"{name} = {_toml(getattr(paging, name))}")
    proxy = config.proxy
    if proxy is None:
        lines += ["", "# no proxy: requests go directly"]
    else:
        lines += ["", f"[{_key((*table, 'proxy'))}]", f"url = {_toml(proxy.url)}",
                  f"username = {_toml(proxy.username)}", f"password = {_toml(_masked(proxy.password))}",
                  f"bypass_local = {_toml(proxy.bypass_local)}", f"bypass = {_toml(proxy.bypass)}"]
    return lines


def _key(path: tuple[str, ...]) -> str:
    return ".".join(quote_key(part) for part in path)


def _masked(value: str) -> str:
    return MASK if value else ""


# -- test -------------------------------------------------------------------------------------

def _test(args: argparse.Namespace) -> int:
    config = load_file_connections(args).get(args.name)
    name = config.name
    redact = redactor_for(config)
    decrypt_header = decryptor_from_environ(os.environ, config)

    def decrypt(token: str) -> str:
        value = decrypt_header(token)
        redact.add([value])  # as RestConnector.decrypt does: the plain value is a secret from now on
        return value

    for header in config.headers:
        problem = date_header_problem(header.value) if header.name.lower() == "date" and not header.encrypt else None
        if problem is not None:
            got = "" if header.sensitive else f" (got '{header.value}')"
            raise ConfigError(f"connection '{name}': header '{header.name}' {problem}{got}")
    transport = Transport(config, name, redact, log=lambda line: print_err(redact(line)))
    try:
        request = paginator_for(config).first(build_request(config, None, name, decrypt))  # as a SELECT does
        print_out(f"{request.method} {redact.url(request.url)}")
        response = transport.send(request)
    except ScriptError as error:
        raise ConfigError(f"test failed: {redact(error.message)}") from None
    finally:
        transport.close()
    kind = detect_response_type(response.header("Content-Type"), response.body, config.response_type,
                                config.auto_detect_response_type)
    content_type = response.header("Content-Type")
    print_out(redact(f"HTTP {response.status} {response.reason}, {response.elapsed:.3f} s, {len(response.body)} bytes, "
                   f"response type {kind.upper()}" + (f" (Content-Type: {content_type})" if content_type else "")))
    if not response.ok:
        raise ConfigError(redact(f"test failed: connection '{name}': HTTP {response.status} {response.reason}: "
                                 f"{_excerpt(response)}"))
    if config.check_response_type_on_test:
        problem = _decode_problem(config, response, kind)
        if problem is not None:
            raise ConfigError(redact(f"test failed: connection '{name}': {problem}: {_excerpt(response)}"))
        print_out(f"the body is valid {kind.upper()} (check_response_type_on_test)")
    print_out(f"connection '{name}' works")
    return 0


def _decode_problem(config: RestConfig, response: RestResponse, kind: str) -> str | None:
    """Why the body does not decode as ``kind``, or None (the decoders a SELECT uses)."""
    try:
        if kind == "json":
            decode_json(response.body)
        elif kind == "xml":
            decode_xml(response.body, config.xml_dtd)
        else:
            decode_csv(response.body, True, ",", '"')
    except ScriptError as error:
        return error.message
    return None


def _excerpt(response: RestResponse) -> str:
    body = response.body
    text = body[:BODY_EXCERPT].decode("utf-8", errors="replace").replace("\n", " ").strip()
    return repr(text + ("..." if len(body) > BODY_EXCERPT else ""))


# -- encrypt ----------------------------------------------------------------------------------

def _encrypt(args: argparse.Namespace) -> int:
    connections = load_file_connections(args)
    name = existing_name(connections, args.name)
    header = args.header
    if not HEADER_NAME.fullmatch(header):
        raise ConfigError(f"'{header}' is not a valid header name (letters, digits and !#$%&'*+.^_`|~- only)")
    value = _read_value(name, header)
    problem = check_header_value(value)
    if problem is None and value.startswith(PREFIX):
        problem = f"the value already starts with {PREFIX} (give the plain value)"
    if problem is None and header.lower() == "date":
        problem = date_header_problem(value)
        problem = problem and f"a Date header {problem}"
    if problem is not None:
        raise ConfigError(f"header '{header}' of connection '{name}': {problem}; nothing was changed")
    path = Path(connections.source or "").resolve()
    text, bom = read_connections_text(path)
    key = load_key(os.environ, create=True)
    if key.created:
        print_err(f"qscript: created a new key: {key.where} (mode 0600). Keep it: the enc: values in {path.name} "
                "can only be decrypted with it; for other machines set QSCRIPT_KEY to its content")
    token = key.encrypt(value)
    if decrypt_token(token, key, f"header '{header}'") != value:  # pragma: no cover - Fernet round trip
        raise ConfigError("encryption did not round-trip; nothing was changed")
    new_text, written = encrypt_header(text, name, header, token)
    write_connections_text(path, new_text, bom=bom)
    print_out(f"header '{written}' of connection '{name}' is now encrypted in {path} (key: {key.where})")
    return 0


def _read_value(connection: str, header: str) -> str:
    """The plain value: a hidden prompt (asked twice) on a terminal, else all of stdin less one line break."""
    stdin = sys.stdin
    if stdin is None:
        raise ConfigError("no value: stdin is closed (pipe the value in, or run in a terminal)")
    if stdin.isatty():
        try:
            first = getpass.getpass(f"Value of header '{header}' of connection '{connection}': ")
            second = getpass.getpass("The same value again: ")
        except EOFError:
            raise ConfigError("no value was entered; nothing was changed") from None
        if first != second:
            raise ConfigError("the two values differ; nothing was changed")
        return first
    try:
        text = stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the value on stdin is not UTF-8 text; nothing was changed") from None
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def read_connections_text(path: Path) -> tuple[str, bool]:
    """The file's text and whether it starts with a UTF-8 BOM (kept when it is written back)."""
    try:
        raw = path.read_bytes()
        return raw.decode("utf-8-sig"), raw.startswith(UTF8_BOM)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"connections file {path} cannot be read: {error}") from None


def write_connections_text(path: Path, text: str, *, bom: bool) -> None:
    """Replace the file with ``text`` at once (``replace_file``), with the BOM it had."""
    replace_file(path, (UTF8_BOM if bom else b"") + text.encode("utf-8"))


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over: never half a file.

    A file made new (``connections add``) gets mode 0600: it may come to hold a password."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {error.strerror or error}; nothing was changed") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qscript.cli_connections connections ...``: the commands without ``qscript.cli``."""
    parser = argparse.ArgumentParser(prog="qscript")
    add_connection_commands(parser.add_subparsers(dest="command", required=True))
    return run_connection_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
