"""The questions ``qscript connections add/edit -i`` asks, in the order of Qlik's REST dialog.

URL, method, request body (POST only), timeout, authentication (user and password),
certificate check, query parameters, query headers, pagination with the keys its type
needs, then the security switches. Each question shows its default in brackets (for
``edit``: the current value) and Enter keeps it; ``-`` clears an optional value. Choices
ignore case, yes/no takes y/yes/n/no; an invalid answer says why and is asked again; the
end of input stops everything with nothing written.

Questions go to stderr and answers are read from stdin line by line, so a script (or a
test) can pipe the answers in. Secrets are never shown: the password and sensitive header
values are read without echo on a terminal, a sensitive header is stored encrypted (the
``qscript connections encrypt`` key) unless it is a ``${env:...}`` reference, and current
secret values appear as ``***``.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from qscript.connectors.connections_file import ChangeSet, KeyPath, env_only
from qscript.connectors.rest.config import AUTH_SCHEMAS, DEFAULT_TIMEOUT, MAX_TIMEOUT, USER_SCHEMAS
from qscript.connectors.rest.config_parts import (
    HEADER_NAME,
    MASK,
    PAGINATION_KEYS,
    PAGINATION_TYPES,
    check_url,
    is_sensitive_name,
)
from qscript.connectors.rest.crypto import Key, check_header_value, load_key
from qscript.errors import ConfigError
from qscript.redact import Redactor

#: Typed as an answer, clears an optional value.
CLEAR = "-"

#: A parse function: the answer's value, or ValueError saying why it is not one.
Parse = Callable[[str], Any]


class NoAnswerError(ConfigError):
    """The input ended before the last question."""


class Prompter:
    """Asks on ``out``, reads ``stdin`` line by line; hidden input uses getpass on a terminal."""

    def __init__(self, stdin: TextIO | None, out: TextIO) -> None:
        if stdin is None:
            raise ConfigError("no answers: stdin is closed")
        self.stdin = stdin
        self.out = out
        self.tty = stdin.isatty()

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def read(self, prompt: str, *, hidden: bool = False) -> str:
        """One answer without its line break; raises NoAnswerError at the end of input."""
        if hidden and self.tty:
            try:
                return getpass.getpass(prompt, stream=self.out)
            except EOFError:
                raise NoAnswerError("no answer; nothing was changed") from None
        self.out.write(prompt)
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            self.out.write("\n")
            raise NoAnswerError("no answer; nothing was changed")
        if not self.tty:
            self.out.write("\n")  # piped answers are not echoed: keep one question per line
        return line.rstrip("\r\n")

    def ask(self, label: str, shown: str | None, parse: Parse, *, hidden: bool = False) -> Any:
        """Ask until ``parse`` accepts the answer; an empty answer is ``parse("")``."""
        prompt = f"{label} [{shown}]: " if shown not in (None, "") else f"{label}: "
        while True:
            answer = self.read(prompt, hidden=hidden)
            answer = answer if hidden else answer.strip()  # a secret may start or end with a space
            try:
                return parse(answer)
            except ValueError as error:
                self.say(f"  {error}")


def _choice(options: Sequence[str], default: str | None) -> Parse:
    def parse(answer: str) -> str:
        text = answer or default or ""
        for option in options:
            if option.lower() == text.lower():
                return option  # the spelling the options use, whatever case was typed or stored
        if not answer and default is not None:
            return default  # a value the file has that is none of the options: kept, and the check says why
        raise ValueError(f"answer one of {', '.join(options)}")
    return parse


def _yes_no(default: bool) -> Parse:
    def parse(answer: str) -> bool:
        if not answer:
            return default
        if answer.lower() in ("y", "yes"):
            return True
        if answer.lower() in ("n", "no"):
            return False
        raise ValueError("answer y, yes, n or no")
    return parse


def _integer(default: int | None, low: int, high: int | None) -> Parse:
    def parse(answer: str) -> int | None:
        if not answer:
            if default is None:
                raise ValueError("a number is needed")
            return default
        try:
            value = int(answer)
        except ValueError:
            raise ValueError(f"'{answer}' is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise ValueError(f"answer a number from {low}" + (f" to {high}" if high is not None else " up"))
        return value
    return parse


def _field_path(text: str) -> None:
    if any(not part for part in text.split("/")):
        raise ValueError("write a /-separated field path such as meta/total_count")


def _url(text: str) -> None:
    if "${env:" in text:
        return  # checked once the variable has a value
    check_url(text, _reject, https_only=False, origin_only=False)


def _reject(message: str) -> Any:
    raise ValueError(f"the URL {message}")


def env_variable_for(name: str) -> str:
    """``Orders API`` -> ``ORDERS_API``: the variable a connection's password is suggested in."""
    word = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "CONNECTION"
    return f"_{word}" if word[0].isdigit() else word


#: The pagination keys asked for each type: (key, question, kind, required); kind is
#: "text", "path" (a field path) or an int lower bound.
PAGING_QUESTIONS: dict[str, tuple[tuple[str, str, Any, bool], ...]] = {
    "offset": (("start_param", "Start parameter name", "text", True),
               ("start_value", "Start value", 0, False),
               ("count_param", "Count parameter name", "text", True),
               ("count_value", "Count value (page size)", 1, True),
               ("total_path", "Total records path (optional)", "path", False)),
    "next_page": (("page_param", "Page parameter name", "text", True),
                  ("first_page", "First page", 0, False),
                  ("total_pages_path", "Total pages path (optional)", "path", False),
                  ("last_page_path", "Is-last-page path (optional)", "path", False),
                  ("last_page_value", "Last page value (optional; empty: the field is true)", "text", False)),
    "next_token": (("token_param", "Next token parameter name", "text", True),
                   ("token_path", "Next token path (empty: read it from a response header)", "path", False),
                   ("token_header", "Next token response header", "text", True)),
    "next_url": (("next_url_path", "Next URL path (empty: follow the Link header)", "path", False),),
}
_PAGING_DEFAULTS = {"start_value": 0, "first_page": 1}


class Dialog:
    """The questions for one connection; the answers become ``changes`` (only real changes)."""

    def __init__(self, changes: ChangeSet, name: str, prompter: Prompter, typed: Redactor, path: Path) -> None:
        self.changes = changes
        self.name = name
        self.io = prompter
        #: every secret typed, so that no later line shows it
        self.typed = typed
        self.path = path
        self.warnings: list[str] = []
        self.key: Key | None = None

    def run(self) -> None:
        """Ask everything, in the dialog's order. ``warnings`` then says what to tell once the file
        is written (a password stored in plain text)."""
        self.io.say(f"Connection '{self.name}': Enter keeps the value in [brackets], {CLEAR} clears an optional "
                    "value, end of input (Ctrl-D) stops without changing anything.")
        self._url()
        self._method()
        self._timeout()
        self._auth()
        self._tls()
        self._query()
        self._headers()
        self._pagination()
        self._security()

    # -- helpers ------------------------------------------------------------------------------

    def _current(self, path: KeyPath, default: Any = None) -> Any:
        return self.changes.value(path, default)

    def _text(self, path: KeyPath, label: str, *, required: bool, check: Callable[[str], None] | None = None,
              shown: str | None = None) -> str | None:
        """Ask for a string; Enter keeps the current one, ``-`` clears an optional one."""
        current = self._current(path)
        current = current if isinstance(current, str) and current else None

        def parse(answer: str) -> str | None:
            if not answer:
                if required and current is None:
                    raise ValueError("an answer is needed")
                return current
            if answer == CLEAR and not required:
                return None
            if check is not None:
                check(answer)
            return answer

        value = self.io.ask(label, shown if shown is not None else current, parse)
        if value is None:
            self.changes.remove(path)
        else:
            self.changes.set(path, value)
        return value

    def _pick(self, path: KeyPath, label: str, options: Sequence[str], default: str) -> str:
        current = str(self._current(path, default))
        value = self.io.ask(f"{label} ({'/'.join(options)})", current, _choice(options, current))
        self.changes.set(path, value, default, fold=True)
        return value

    def _yes(self, key: str, label: str, check: Callable[[bool], None] | None = None) -> None:
        current = self._current((key,), False) is True

        def parse(answer: str) -> bool:
            value = _yes_no(current)(answer)
            if check is not None:
                check(value)
            return value

        self.changes.set((key,), self.io.ask(f"{label} (y/n)", "y" if current else "n", parse), False)

    # -- the questions ------------------------------------------------------------------------

    def _url(self) -> None:
        current = self._current(("url",))
        self._text(("url",), "URL", required=True, check=_url,
                   shown=Redactor().url(current) if isinstance(current, str) else None)

    def _method(self) -> None:
        method = self._pick(("method",), "Method", ("GET", "POST"), "GET")
        if method == "POST":
            self._text(("body",), "Request body (optional)", required=False)
        else:
            self.changes.remove(("body",))

    def _timeout(self) -> None:
        connect = self._current(("connection_timeout",), DEFAULT_TIMEOUT)
        read = self._current(("read_timeout",), DEFAULT_TIMEOUT)
        if connect == read:
            shown, keep = str(connect), connect
        else:
            shown, keep = f"keep: connection {connect}, read {read}", None

        def parse(answer: str) -> int | None:
            return keep if not answer else _integer(None, 1, MAX_TIMEOUT)(answer)

        value = self.io.ask("Timeout in seconds", shown, parse)
        if value is not None:
            for key in ("connection_timeout", "read_timeout"):
                self.changes.set((key,), value, DEFAULT_TIMEOUT)

    def _auth(self) -> None:
        schema = self._pick(("auth", "schema"), "Authentication schema", AUTH_SCHEMAS, "anonymous")
        if schema not in USER_SCHEMAS:
            self.changes.remove(("auth", "username"))
            self.changes.remove(("auth", "password"))
            return

        def user(text: str) -> None:
            if schema == "ntlm" and "\\" not in text and "@" not in text and "${env:" not in text:
                raise ValueError("an NTLM user is DOMAIN\\user or user@domain")

        self._text(("auth", "username"), "User name", required=True, check=user)
        self._password()

    def _password(self) -> None:
        """Hidden; a ``${env:VAR}`` reference is suggested and shown, a stored password never is."""
        path = ("auth", "password")
        current = self._current(path)
        if isinstance(current, str) and current:
            shown = current if env_only(current) else "keep the current password"
            keep: str | None = current
        else:
            shown = keep = f"${{env:{env_variable_for(self.name)}_PASSWORD}}"
        answer = self.io.ask("Password, or ${env:VAR} to read it from the environment", shown,
                             lambda text: text, hidden=True)
        value = keep if not answer else "" if answer == CLEAR else answer
        if value and not env_only(value):
            self.typed.add([value])
            if value != current:
                self.warnings.append(f"the password of connection '{self.name}' is now stored in plain text in "
                                     f"{self.path}; ${{env:VAR}} keeps it out of the file")
        if value:
            self.changes.set(path, value)
        else:
            self.changes.remove(path)

    def _tls(self) -> None:
        verify = self._pick(("tls", "verify"), "Server certificate check", ("system", "skip", "custom_ca"), "system")
        if verify == "custom_ca":
            self._text(("tls", "ca_file"), "CA file (PEM; relative to the connections file's folder)", required=True)
        else:
            self.changes.remove(("tls", "ca_file"))

    def _query(self) -> None:
        self._list_current("Query parameters", "query", "=")

        def parse(answer: str) -> tuple[str, str | None] | None:
            if not answer:
                return None
            if answer.startswith(CLEAR):
                return self._existing("query", answer[1:]), None
            name, sep, value = answer.partition("=")
            if not sep or not name:
                raise ValueError("write NAME=VALUE, -NAME to remove one, or nothing to go on")
            return name, value

        while (entry := self.io.ask("Query parameter NAME=VALUE (empty: done)", None, parse)) is not None:
            name, value = entry
            if value is None:
                self.changes.remove(("query", name))
                continue
            if is_sensitive_name(name) and value and not env_only(value):
                self.typed.add([value])
                self.warnings.append(f"query parameter '{name}' is stored in plain text in {self.path}; "
                                     "${env:VAR} keeps it out of the file")
            self.changes.set(("query", name), value)

    def _headers(self) -> None:
        self._list_current("Query headers", "headers", ": ")

        def parse(answer: str) -> tuple[str, str | None] | None:
            if not answer:
                return None
            if answer.startswith(CLEAR):
                return self._existing("headers", answer[1:], fold=True), None
            name, sep, value = answer.partition(":")
            name, value = name.strip(), value.strip()
            if not HEADER_NAME.fullmatch(name):
                raise ValueError(f"'{name}' is not a header name (letters, digits and !#$%&'*+.^_`|~-)")
            if sep and value:
                _header_value(value)
            elif not self._sensitive(name):
                raise ValueError("write NAME: VALUE (a secret header may be NAME alone: its value is asked hidden)")
            return name, value or ""

        label = "Query header NAME: VALUE (a secret one as NAME alone, to type it hidden; empty: done)"
        while (entry := self.io.ask(label, None, parse)) is not None:
            name, value = entry
            name = next((key for key in self._current(("headers",), {}) if key.lower() == name.lower()), name)
            if value is None:
                self.changes.remove(("headers", name))
            elif self._sensitive(name):
                self._secret_header(name, value)
            else:
                self.changes.set(("headers", name), value)

    def _sensitive(self, name: str) -> bool:
        current = next((value for key, value in self._current(("headers",), {}).items()
                        if key.lower() == name.lower()), None)
        marked = isinstance(current, dict) and (current.get("secret") is True or current.get("encrypt") is True)
        return is_sensitive_name(name) or marked

    def _secret_header(self, name: str, value: str) -> None:
        """A sensitive header: a ``${env:...}`` reference as it is, anything else encrypted."""
        if not value:
            value = self.io.ask(f"Value of header '{name}' (hidden; ${{env:VAR}} reads the environment)", None,
                                _header_value, hidden=True)
        if env_only(value):
            self.changes.set(("headers", name), value)
            return
        self.typed.add([value])
        if self.key is None:
            self.key = load_key(os.environ, create=True)
            if self.key.created:
                self.io.say(f"qscript: created a new key: {self.key.where} (mode 0600). Keep it: the enc: values in "
                            f"{self.path.name} can only be decrypted with it")
        self.changes.set(("headers", name), {"value": self.key.encrypt(value), "encrypt": True})

    def _existing(self, table: str, name: str, *, fold: bool = False) -> str:
        for key in self._current((table,), {}):
            if key == name or (fold and key.lower() == name.lower()):
                return key
        raise ValueError(f"there is no '{name}' to remove")

    def _list_current(self, title: str, table: str, separator: str) -> None:
        current = self._current((table,), {})
        if not isinstance(current, dict) or not current:
            return
        shown = []
        for key, value in current.items():
            secret = (table == "headers" and self._sensitive(key)) or is_sensitive_name(key)
            text = value.get("value", "") if isinstance(value, dict) else str(value)
            shown.append(f"{key}{separator}{MASK if secret and text else text}")
        self.io.say(f"{title} now: {', '.join(shown)} (-NAME removes one)")

    def _pagination(self) -> None:
        old = str(self._current(("pagination", "type"), "none")).lower()
        kind = self._pick(("pagination", "type"), "Pagination type", PAGINATION_TYPES, "none")
        if kind != old:
            for key in PAGINATION_KEYS.get(old, ()):
                self.changes.remove(("pagination", key))
        answered: dict[str, Any] = {}
        for key, label, what, required in PAGING_QUESTIONS.get(kind, ()):
            if key == "token_header" and answered.get("token_path"):
                self.changes.remove(("pagination", key))
                continue
            if key == "last_page_value" and not answered.get("last_page_path"):
                self.changes.remove(("pagination", key))
                continue
            answered[key] = self._page_key(key, label, what, required)
        if kind == "next_url":
            if answered.get("next_url_path"):
                self.changes.remove(("pagination", "use_link_header"))
            else:
                self.changes.set(("pagination", "use_link_header"), True, False)

    def _page_key(self, key: str, label: str, what: Any, required: bool) -> Any:
        path = ("pagination", key)
        if isinstance(what, int):
            current = self._current(path, _PAGING_DEFAULTS.get(key))
            shown = str(current) if isinstance(current, int) else None
            value = self.io.ask(label, shown, _integer(current if isinstance(current, int) else None, what, None))
            if key in _PAGING_DEFAULTS:
                self.changes.set(path, value, _PAGING_DEFAULTS[key])
            else:
                self.changes.set(path, value)
            return value
        check = _field_path if what == "path" else None
        return self._text(path, label, required=required, check=check)

    def _security(self) -> None:
        self._yes("allow_with_connection", "Allow WITH CONNECTION")
        self._yes("allow_response_headers", "Allow response headers")

        def https(value: bool) -> None:
            url = self._current(("url",), "")
            if value and isinstance(url, str) and url.lower().startswith("http://"):
                raise ValueError("the URL is http://; change it to https:// first, or answer n")

        self._yes("https_only", "HTTPS only", https)


def _header_value(text: str) -> str:
    problem = check_header_value(text)
    if problem is not None:
        raise ValueError(problem)
    return text
