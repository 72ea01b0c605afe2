"""The machinery under ``config.py``: typed key reading, ``${env:NAME}``, secret rules, URLs.

A connections file is hand-written TOML, so every mistake must come back as one sentence
naming the connection, the dotted key and what is allowed. ``Table`` reads one TOML table
key by key, remembers what it read and rejects whatever is left over, so an unknown or
misspelt key can never be ignored silently. The secret rules live here too, because the
same rule must decide what ``repr()`` masks and what ``RestConfig.secrets()`` returns.
``PaginationConfig`` sits here as well, only to keep ``config.py`` short; import it from there.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, NoReturn
from urllib.parse import SplitResult, parse_qsl, urlsplit

from qscript.errors import ConfigError
from qscript.redact import is_sensitive_name

MASK = "***"

#: Raises ConfigError for one key: ``fail("must be ...")``.
Fail = Callable[[str], NoReturn]

#: ``${env:NAME}`` inserts an environment variable; ``$${env:NAME}`` is the literal text.
ENV_REFERENCE = re.compile(r"(\$?)\$\{env:([^}]*)\}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Names (lower-cased, punctuation removed) that are secret as a whole.
#: Parts that make a name secret wherever they occur in it.

#: Bare TOML keys need no quotes in a dotted key.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
#: RFC 9110 token characters: what a header name may contain.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def quote_key(key: str) -> str:
    """A key as TOML writes it inside a dotted path: bare when it can be, quoted otherwise."""
    return key if _BARE_KEY.fullmatch(key) else '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def shown(value: Any) -> str:
    """A value as the user wrote it in TOML, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


def kind_of(value: Any) -> str:
    """The TOML type name of a value, for 'got a string' style hints."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a " + type(value).__name__


def masked(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and its ``repr`` escaping) replaced by ``***``, longest first."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
        escaped = repr(secret)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, MASK)
    return text


def masked_repr(obj: Any, secret_fields: Iterable[str]) -> str:
    """A dataclass repr with the named fields shown as ``'***'`` when they hold a value."""
    hidden = set(secret_fields)
    parts = []
    for f in fields(obj):
        if not f.repr:
            continue
        value = getattr(obj, f.name)
        parts.append(f"{f.name}={MASK!r}" if f.name in hidden and value else f"{f.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(parts)})"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased, default port left out.

    Trusted locations and redirect rules compare origins, so both sides must be written
    the same way: ``HTTPS://API.Example.com:443/x`` and ``https://api.example.com`` match.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def sensitive_query_values(url: str) -> list[str]:
    """Values of sensitive query parameters in a URL, raw and decoded (for redaction)."""
    query = urlsplit(url).query
    found = []
    for raw in query.split("&"):
        name, _, value = raw.partition("=")
        if value and is_sensitive_name(name):
            found.append(value)
    for name, value in parse_qsl(query, keep_blank_values=True):
        if value and is_sensitive_name(name):
            found.append(value)
    return found


@dataclass
class Context:
    """What every table of one connection shares: its name, the environment, found secrets.

    ``env_secrets`` collects text inserted from environment variables whose names are
    sensitive (``${env:API_TOKEN}``), wherever it lands: a body or URL can then be masked
    although neither is a secret field.
    """

    name: str
    environ: Mapping[str, str]
    base_dir: Path
    env_secrets: list[str] = field(default_factory=list)

    def fail(self, key: str, message: str) -> NoReturn:
        raise ConfigError(f"connection '{self.name}': key '{key}' {message}")

    def expand_env(self, text: str, key: str) -> tuple[str, bool]:
        """Replace ``${env:NAME}``; returns the text and whether a sensitive variable was used."""
        sensitive = False

        def replace(match: re.Match[str]) -> str:
            nonlocal sensitive
            escaped, name = match.groups()
            if escaped:
                return match.group(0)[1:]
            if not ENV_NAME.fullmatch(name):
                self.fail(key, f"has ${{env:{name}}}: a variable name is letters, digits and _, not starting "
                               "with a digit")
            if name not in self.environ:
                self.fail(key, f"uses ${{env:{name}}}, but environment variable {name} is not set")
            value = self.environ[name]
            if is_sensitive_name(name) and value:
                sensitive = True
                self.env_secrets.append(value)
            return value

        return ENV_REFERENCE.sub(replace, text), sensitive


class Table:
    """One TOML table of a connection, read key by key with types and ranges checked.

    Each reader marks its key as used; ``finish()`` then rejects any key nobody asked for,
    naming the allowed keys and a close match. ``prefix`` is the dotted path of this table
    (``""`` for the connection itself, ``"pagination"`` for its pagination table).
    """

    def __init__(self, context: Context, prefix: str, data: Mapping[str, Any]) -> None:
        self.context = context
        self.prefix = prefix
        self.data = data
        self.used: set[str] = set()
        #: whether the last ``string()`` read used a sensitive environment variable
        self.last_sensitive = False

    # -- naming and failing -------------------------------------------------------------

    def key(self, name: str) -> str:
        """The dotted key of ``name`` in this table, as error messages show it."""
        return f"{self.prefix}.{quote_key(name)}" if self.prefix else quote_key(name)

    def fail(self, name: str, message: str) -> NoReturn:
        self.context.fail(self.key(name), message)

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        self.used.add(name)
        return self.data[name]

    def finish(self, allowed: Iterable[str]) -> None:
        """Reject keys that were not read; ``allowed`` is the list the message offers instead."""
        unknown = [name for name in self.data if name not in self.used]
        if not unknown:
            return
        names = sorted(allowed)
        name = unknown[0]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        listed = ", ".join(names) if names else "none"
        self.context.fail(self.key(name), f"is not a known key (allowed here: {listed}){hint}")

    # -- typed readers --------------------------------------------------------------------

    def string(self, name: str, default: str | None = None, *, required: str = "",
               secret: bool = False) -> str | None:
        """A string, with ``${env:NAME}`` expanded; ``required`` says what to write when it is missing."""
        self.last_sensitive = False
        if name not in self.data:
            if required:
                self.fail(name, f"is required ({required})")
            return default
        value = self.raw(name)
        if not isinstance(value, str):
            got = kind_of(value) if secret else f"{shown(value)}, {kind_of(value)}"
            self.fail(name, f"must be a string (got {got})")
        text, self.last_sensitive = self.context.expand_env(value, self.key(name))
        return text

    def text(self, name: str, default: str = "", **options: Any) -> str:
        """Like ``string`` but never None: for keys with a string default."""
        value = self.string(name, default, **options)
        assert value is not None
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.data:
            return default
        value = self.raw(name)
        if not isinstance(value, bool):
            hint = ": drop the quotes" if isinstance(value, str) and value.lower() in ("true", "false") else ""
            self.fail(name, f"must be true or false (got {shown(value)}, {kind_of(value)}{hint})")
        return value

    def integer(self, name: str, default: int | None, low: int, high: int | None = None,
                unit: str = "") -> int | None:
        """A whole number in ``low..high`` (``high`` None: no upper bound)."""
        if name not in self.data:
            return default
        value = self.raw(name)
        allowed = _range_text("an integer", low, high, unit)
        if isinstance(value, bool) or not isinstance(value, int):
            hint = ": drop the quotes" if isinstance(value, str) and value.strip().lstrip("-").isdigit() else ""
            self.fail(name, f"must be {allowed} (got {shown(value)}, {kind_of(value)}{hint})")
        if value < low or (high is not None and value > high):
            self.fail(name, f"must be {allowed} (got {value})")
        return value

    def number(self, name: str, default: float, low: float, high: float, unit: str = "") -> float:
        """An integer or decimal number in ``low..high``, stored as float."""
        if name not in self.data:
            return default
        value = self.raw(name)
        allowed = _range_text("a number", low, high, unit)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, f"must be {allowed} (got {shown(value)}, {kind_of(value)})")
        if not low <= value <= high:
            self.fail(name, f"must be {allowed} (got {value})")
        return float(value)

    def choice(self, name: str, default: str, allowed: Iterable[str], *, upper: bool = False) -> str:
        """One of ``allowed``, matched ignoring case, stored in the spelling ``allowed`` uses."""
        options = list(allowed)
        if name in self.data and not isinstance(self.data[name], str):
            value = self.raw(name)
            self.fail(name, f"must be one of {', '.join(options)} (got {shown(value)}, {kind_of(value)})")
        text = self.string(name)
        if text is None:
            return default
        for option in options:
            if option.lower() == text.lower():
                return option.upper() if upper else option
        self.fail(name, f"must be one of {', '.join(options)} (got '{text}')")

    def string_list(self, name: str, check: Callable[[str, Fail], str] | None = None) -> tuple[str, ...]:
        """A list of strings; ``check(text, fail)`` may normalise each item or reject it via ``fail``."""
        if name not in self.data:
            return ()
        value = self.raw(name)
        if not isinstance(value, list):
            self.fail(name, f"must be a list of strings (got {shown(value)}, {kind_of(value)})")
        items = []
        for index, item in enumerate(value):
            key = f"{self.key(name)}[{index}]"
            if not isinstance(item, str):
                self.context.fail(key, f"must be a string (got {shown(item)}, {kind_of(item)})")
            text, _ = self.context.expand_env(item, key)
            items.append(check(text, lambda message, key=key: self.context.fail(key, message)) if check else text)
        return tuple(items)

    def integer_list(self, name: str, default: tuple[int, ...], low: int, high: int) -> tuple[int, ...]:
        """A list of integers in ``low..high``; repeats are dropped, first position kept."""
        if name not in self.data:
            return default
        value = self.raw(name)
        if not isinstance(value, list):
            self.fail(name, f"must be a list of integers (got {shown(value)}, {kind_of(value)})")
        items: list[int] = []
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
                self.context.fail(f"{self.key(name)}[{index}]",
                                  f"must be an integer from {low} to {high} (got {shown(item)})")
            if item not in items:
                items.append(item)
        return tuple(items)

    def table(self, name: str) -> Table | None:
        """The sub-table ``name`` as a ``Table``, or None when the key is absent."""
        if name not in self.data:
            return None
        value = self.raw(name)
        if not isinstance(value, dict):
            self.fail(name, f"must be a table (got {shown(value)}, {kind_of(value)})")
        return Table(self.context, self.key(name), value)

    def path(self, name: str) -> Path | None:
        """A file path; relative paths resolve against the connections file's folder."""
        text = self.string(name)
        if text is None:
            return None
        if not text.strip():
            self.fail(name, "must be a file path (got an empty string)")
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.context.base_dir / path

    def http_url(self, name: str, text: str, *, https_only: bool, origin_only: bool = False) -> str:
        """Check that ``text`` is an absolute http(s) URL; ``origin_only`` forbids a path."""
        check_url(text, lambda message: self.fail(name, masked(message, self.context.env_secrets)),
                  https_only=https_only, origin_only=origin_only)
        return text


def _range_text(what: str, low: float, high: float | None, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    if high is None:
        return f"{what} >= {low}{suffix}"
    return f"{what} from {low} to {high}{suffix}"


def check_url(url: str, fail: Fail, *, https_only: bool, origin_only: bool) -> SplitResult:
    """Reject what cannot be an http(s) request target; never rewrites the URL.

    Messages quote the URL with sensitive query values masked (``?api_key=***``).
    """
    want = "an https:// URL (https_only = true)" if https_only else "an http:// or https:// URL"
    text = masked(url, sensitive_query_values(url))  # the URL as messages show it
    if not url or any(ch.isspace() for ch in url):
        fail(f"must be {want} without spaces (got '{text}')")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        fail(f"must be {want} (got '{text}')")
    if https_only and scheme != "https":
        fail(f"must be {want} (got '{text}')")
    if parts.username is not None or parts.password is not None:
        fail("must not contain user:password@ (put credentials in the auth table)")
    try:
        port = parts.port
    except ValueError:
        fail(f"has an invalid port (got '{text}')")
    if not parts.hostname or (port is not None and not 0 < port < 65536):
        fail(f"must name a host and a port from 1 to 65535 (got '{text}')")
    if origin_only and (parts.path not in ("", "/") or parts.query or parts.fragment):
        fail(f"must be an origin, scheme://host[:port], without path or query (got '{text}')")
    return parts


# -- pagination -------------------------------------------------------------------------

PAGINATION_TYPES = ("none", "offset", "next_page", "next_token", "next_url", "custom")
#: The keys each pagination type owns; a key of another type is an error, not ignored.
PAGINATION_KEYS: dict[str, tuple[str, ...]] = {
    "none": (),
    "offset": ("start_param", "start_value", "start_in", "count_param", "count_value", "total_path"),
    "next_page": ("page_param", "first_page", "total_pages_path", "last_page_path", "last_page_value"),
    "next_token": ("token_param", "token_in", "token_path", "token_header"),
    "next_url": ("next_url_path", "use_link_header"),
    "custom": (),
}
#: Keys every type accepts: the safety stops.
COMMON_PAGINATION_KEYS = ("type", "max_pages", "max_records", "stop_on_empty_page", "stop_on_short_page")


@dataclass(frozen=True, slots=True)
class PaginationConfig:
    """Built-in paging. Only the keys of ``type`` are set; the others keep their defaults.

    Paths are ``/``-separated field names as the source returns them (``meta/total_count``).
    The safety stops (``max_pages``, ``max_records``, empty and short pages) apply to every
    type, so a next link that never ends cannot page forever.
    """

    type: Literal["none", "offset", "next_page", "next_token", "next_url", "custom"] = "none"
    # offset
    start_param: str | None = None
    start_value: int = 0
    start_in: Literal["query", "header"] = "query"
    count_param: str | None = None
    count_value: int | None = None
    total_path: str | None = None
    # next_page
    page_param: str | None = None
    first_page: int = 1
    total_pages_path: str | None = None
    last_page_path: str | None = None
    last_page_value: str | None = None
    # next_token
    token_param: str | None = None
    token_in: Literal["query", "header"] = "query"
    token_path: str | None = None
    token_header: str | None = None
    # next_url
    next_url_path: str | None = None
    use_link_header: bool = False
    # every type
    max_pages: int = 10_000
    max_records: int = 10_000_000
    stop_on_empty_page: bool = True
    stop_on_short_page: bool = False

    @classmethod
    def from_section(cls, table: Table | None) -> PaginationConfig:
        if table is None:
            return cls()
        kind = table.choice("type", "none", PAGINATION_TYPES)
        own = PAGINATION_KEYS[kind]
        for key in table.data:
            owner = next((name for name, keys in PAGINATION_KEYS.items() if key in keys), None)
            if owner is not None and key not in own:
                table.fail(key, f"belongs to pagination type {owner}, not {kind}")
        values: dict[str, Any] = {"type": kind}
        reader = getattr(cls, f"_read_{kind}", None)
        if reader is not None:
            values.update(reader(table))
        values.update(
            max_pages=table.integer("max_pages", 10_000, 1),
            max_records=table.integer("max_records", 10_000_000, 1),
            stop_on_empty_page=table.boolean("stop_on_empty_page", True),
            stop_on_short_page=table.boolean("stop_on_short_page", False),
        )
        table.finish(COMMON_PAGINATION_KEYS + own)
        return cls(**values)

    @staticmethod
    def _read_offset(table: Table) -> dict[str, Any]:
        start_in = table.choice("start_in", "query", ("query", "header"))
        return {
            "start_param": _param(table, "start_param", "offset", header=start_in == "header"),
            "start_value": table.integer("start_value", 0, 0),
            "start_in": start_in,
            "count_param": _param(table, "count_param", "offset", header=start_in == "header"),
            "count_value": _required_int(table, "count_value", "offset", "the page size"),
            "total_path": _field_path(table, "total_path"),
        }

    @staticmethod
    def _read_next_page(table: Table) -> dict[str, Any]:
        last_page_path = _field_path(table, "last_page_path")
        last_page_value = table.string("last_page_value")
        if last_page_value is not None and last_page_path is None:
            table.fail("last_page_value", "needs pagination.last_page_path (the field to compare it with)")
        return {
            "page_param": _param(table, "page_param", "next_page"),
            "first_page": table.integer("first_page", 1, 0),
            "total_pages_path": _field_path(table, "total_pages_path"),
            "last_page_path": last_page_path,
            "last_page_value": last_page_value,
        }

    @staticmethod
    def _read_next_token(table: Table) -> dict[str, Any]:
        token_in = table.choice("token_in", "query", ("query", "header"))
        token_path = _field_path(table, "token_path")
        token_header = table.string("token_header")
        if token_header is not None and not HEADER_NAME.fullmatch(token_header):
            table.fail("token_header", f"must be a header name (got '{token_header}')")
        if token_path is not None and token_header is not None:
            table.fail("token_header", "cannot be combined with pagination.token_path (read the token from one place)")
        if token_path is None and token_header is None:
            table.fail("token_path", "is required for pagination type next_token (or pagination.token_header "
                                     "to read the token from a response header)")
        return {
            "token_param": _param(table, "token_param", "next_token", header=token_in == "header"),
            "token_in": token_in,
            "token_path": token_path,
            "token_header": token_header,
        }

    @staticmethod
    def _read_next_url(table: Table) -> dict[str, Any]:
        next_url_path = _field_path(table, "next_url_path")
        use_link_header = table.boolean("use_link_header", False)
        if next_url_path is not None and use_link_header:
            table.fail("use_link_header", "cannot be combined with pagination.next_url_path (read the next URL "
                                          "from one place)")
        if next_url_path is None and not use_link_header:
            table.fail("next_url_path", "is required for pagination type next_url (or use_link_header = true "
                                        "to follow the Link header)")
        return {"next_url_path": next_url_path, "use_link_header": use_link_header}


def _param(table: Table, name: str, kind: str, *, header: bool = False) -> str:
    """A parameter name the paginator sends; a header name must be a valid HTTP token."""
    text = table.text(name, required=f"the parameter name; pagination type {kind} needs it")
    if not text.strip():
        table.fail(name, "must not be empty")
    if header and not HEADER_NAME.fullmatch(text):
        table.fail(name, f"must be a header name when sent in a header (got '{text}')")
    return text


def _required_int(table: Table, name: str, kind: str, what: str) -> int:
    value = table.integer(name, None, 1)
    if value is None:
        table.fail(name, f"is required for pagination type {kind} ({what}, an integer >= 1)")
    return value


def _field_path(table: Table, name: str) -> str | None:
    """A ``/``-separated path into the response, e.g. ``meta/total_count``."""
    text = table.string(name)
    if text is not None and (not text or any(not part for part in text.split("/"))):
        table.fail(name, f"must be a /-separated field path such as meta/total_count (got '{text}')")
    return text
