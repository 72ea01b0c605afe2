"""REST connection settings: validated once from TOML, then frozen.

A connection is read from a ``[connections."Name"]`` table by ``RestConfig.from_table``,
which checks every key (type, range, allowed values, keys that only make sense together)
and normalises spellings, so the transport and pagination layers receive one shape and
never re-check. Secrets never show in ``repr()``/``str()``; ``RestConfig.secrets()`` lists
them for log redaction. The file format is documented in ``docs/connections.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from qscript.connectors.rest.config_parts import (
    HEADER_NAME,
    MASK,
    Context,
    Fail,
    PaginationConfig,
    Table,
    check_url,
    is_sensitive_name,
    kind_of,
    masked,
    masked_repr,
    origin_of,
    sensitive_query_values,
    shown,
)
from qscript.errors import ConfigError

__all__ = [
    "AuthConfig",
    "Decryptor",
    "Header",
    "PaginationConfig",
    "ProxyConfig",
    "RestConfig",
    "RetryConfig",
    "TlsConfig",
    "is_sensitive_name",
    "origin_of",
]

#: Turns an ``enc:`` token into the plain header value; supplied by whoever holds the key.
Decryptor = Callable[[str], str]

MAX_TIMEOUT = 10_000  # seconds; Qlik's dialog allows up to 10,000
DEFAULT_TIMEOUT = 30
DEFAULT_MAX_RESPONSE_SIZE = 256 * 1024 * 1024
AUTH_SCHEMAS = ("anonymous", "basic", "digest", "ntlm", "current_user")
USER_SCHEMAS = ("basic", "digest", "ntlm")


@dataclass(frozen=True, slots=True, repr=False)
class Header:
    """One connection header. ``encrypt``: ``value`` is an ``enc:`` token, decrypted per request.

    ``secret`` marks a plain value that must be masked although its name does not say so
    (also set when the value came from a sensitive environment variable).
    """

    name: str
    value: str
    encrypt: bool = False
    secret: bool = False

    @property
    def sensitive(self) -> bool:
        """Masked in repr and listed by ``secrets()``: encrypted, marked secret, or a secret-looking name."""
        return self.encrypt or self.secret or is_sensitive_name(self.name)

    def value_for_request(self, decryptor: Decryptor | None = None) -> str:
        """The value to send. Encrypted values go through ``decryptor``, called with the ``enc:`` token.

        This is the one place decryption hooks in: the transport passes its decryptor and
        must add the plain result to its redaction list, since ``secrets()`` only knows the token.
        """
        if not self.encrypt:
            return self.value
        if decryptor is None:
            raise ConfigError(f"header '{self.name}' is encrypted (encrypt = true) but no decryptor is configured")
        return decryptor(self.value)

    def __repr__(self) -> str:
        return masked_repr(self, ("value",) if self.sensitive else ())


@dataclass(frozen=True, slots=True, repr=False)
class AuthConfig:
    """How the connection authenticates; ``username`` is ``DOMAIN\\user`` or ``user@domain`` for NTLM."""

    schema: Literal["anonymous", "basic", "digest", "ntlm", "current_user"] = "anonymous"
    username: str = ""
    password: str = ""

    def __repr__(self) -> str:
        return masked_repr(self, ("password",))

    @classmethod
    def from_section(cls, table: Table | None) -> AuthConfig:
        if table is None:
            return cls()
        schema = table.choice("schema", "anonymous", AUTH_SCHEMAS)
        username = table.string("username")
        password = table.string("password", secret=True)
        table.finish(("schema", "username", "password"))
        if schema in USER_SCHEMAS:
            if not username:
                table.fail("username", f"is required when schema is {schema}")
            if schema == "ntlm" and "\\" not in username and "@" not in username:
                table.fail("username", f"must be DOMAIN\\user or user@domain for schema ntlm (got '{username}')")
        else:
            for key, value in (("username", username), ("password", password)):
                if value:  # an empty value is harmless (templates keep the key)
                    table.fail(key, f"is only used with schema {', '.join(USER_SCHEMAS)} (schema is {schema})")
        return cls(schema, username or "", password or "")  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, repr=False)
class TlsConfig:
    """Server verification and the optional client certificate (absolute paths once loaded)."""

    verify: Literal["system", "skip", "custom_ca"] = "system"
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    client_cert_password: str = ""

    @property
    def client_cert_format(self) -> Literal["pkcs12", "pem"] | None:
        """``pkcs12`` for ``.pfx``/``.p12`` files, ``pem`` for any other certificate, None without one."""
        if self.client_cert is None:
            return None
        return "pkcs12" if self.client_cert.suffix.lower() in (".pfx", ".p12") else "pem"

    def __repr__(self) -> str:
        return masked_repr(self, ("client_cert_password",))

    @classmethod
    def from_section(cls, table: Table | None) -> TlsConfig:
        if table is None:
            return cls()
        verify = table.choice("verify", "system", ("system", "skip", "custom_ca"))
        ca_file = table.path("ca_file")
        client_cert = table.path("client_cert")
        client_key = table.path("client_key")
        password = table.text("client_cert_password", secret=True)
        table.finish(("verify", "ca_file", "client_cert", "client_key", "client_cert_password"))
        if verify == "custom_ca" and ca_file is None:
            table.fail("ca_file", "is required when verify is custom_ca (a PEM file of trusted CA certificates)")
        if verify != "custom_ca" and ca_file is not None:
            table.fail("ca_file", f"is only used with verify = custom_ca (verify is {verify})")
        config = cls(verify, ca_file, client_cert, client_key, password)  # type: ignore[arg-type]
        if client_cert is None:
            for key in ("client_key", "client_cert_password"):
                if table.has(key):
                    table.fail(key, "needs tls.client_cert")
        elif client_key is not None and config.client_cert_format == "pkcs12":
            table.fail("client_key", "is only used with a PEM client_cert (a .pfx/.p12 file holds its own key)")
        return config


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """Automatic retries. 429 and 503 with Retry-After are retried (waits above ``max_wait`` fail);
    ``status_codes`` are the other 5xx answers retried with exponential backoff plus jitter."""

    enabled: bool = False
    max_attempts: int = 3
    max_wait: float = 60.0
    status_codes: tuple[int, ...] = (500, 502, 504)
    backoff: float = 1.0

    @classmethod
    def from_section(cls, table: Table | None) -> RetryConfig:
        if table is None:
            return cls()
        config = cls(
            enabled=table.boolean("enabled", False),
            max_attempts=table.integer("max_attempts", 3, 1, 100) or 3,
            max_wait=table.number("max_wait", 60.0, 0, 86_400, "seconds"),
            status_codes=table.integer_list("status_codes", (500, 502, 504), 500, 599),
            backoff=table.number("backoff", 1.0, 0, 3_600, "seconds"),
        )
        table.finish(f.name for f in fields(cls))
        return config


@dataclass(frozen=True, slots=True, repr=False)
class ProxyConfig:
    """A forward proxy. Credentials written inside ``url`` are moved to ``username``/``password``."""

    host: str
    port: int
    scheme: Literal["http", "https"] = "http"
    username: str = ""
    password: str = ""
    bypass_local: bool = True
    bypass: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """``scheme://host:port``, without credentials (safe to log)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def __repr__(self) -> str:
        return masked_repr(self, ("password",))

    @classmethod
    def from_section(cls, table: Table | None) -> ProxyConfig | None:
        if table is None:
            return None
        url = table.string("url", secret=True)
        host = table.string("host")
        username = table.string("username")
        password = table.string("password", secret=True)
        if url is not None:
            if host is not None:
                table.fail("host", "cannot be combined with proxy.url (use one or the other)")
            if table.has("port"):
                table.fail("port", "cannot be combined with proxy.url (write the port inside the URL)")
            if urlsplit(url).scheme.lower() not in ("http", "https"):
                table.fail("url", "must be an http:// or https:// proxy URL (other proxy schemes are not supported)")
            parts = urlsplit(url)
            if parts.username is not None and (username is not None or password is not None):
                table.fail("url", "has user:password@ and proxy.username/proxy.password as well (use one place)")
            check_url(parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl(),
                       lambda message: table.fail("url", message), https_only=False, origin_only=True)
            scheme = parts.scheme.lower()
            host = parts.hostname or ""
            port = parts.port or (443 if scheme == "https" else 80)
            if parts.username is not None:
                username, password = unquote(parts.username), unquote(parts.password or "")
        else:
            scheme = "http"
            if not host:
                table.fail("host", "is required in a proxy table (or give proxy.url)")
            if "://" in host or "/" in host or any(ch.isspace() for ch in host):
                table.fail("host", f"must be a host name or address without scheme or path (got '{host}'); "
                                   "use proxy.url for a URL")
            port = table.integer("port", None, 1, 65_535)
            if port is None:
                table.fail("port", "is required with proxy.host (an integer from 1 to 65535)")
        config = cls(
            host=host,
            port=port,
            scheme=scheme,  # type: ignore[arg-type]
            username=username or "",
            password=password or "",
            bypass_local=table.boolean("bypass_local", True),
            bypass=table.string_list("bypass", _bypass_pattern),
        )
        table.finish(("url", "host", "port", "username", "password", "bypass_local", "bypass"))
        return config


def _bypass_pattern(text: str, fail: Fail) -> str:
    if not text or "://" in text or "/" in text or any(ch.isspace() for ch in text):
        fail(f"must be a host name or pattern such as *.internal.example (got '{text}')")
    return text.lower()


@dataclass(frozen=True, slots=True, repr=False)
class RestConfig:
    """One validated REST connection. Build it with ``from_table``; the defaults are Qlik's."""

    name: str
    url: str
    method: Literal["GET", "POST"] = "GET"
    body: str = ""
    connection_timeout: int = DEFAULT_TIMEOUT
    read_timeout: int = DEFAULT_TIMEOUT
    http_version: Literal["1.1", "1.0"] = "1.1"
    keep_alive: bool = True
    expect_100_continue: bool = False
    auto_detect_response_type: bool = True
    response_type: Literal["json", "xml", "csv"] = "json"
    check_response_type_on_test: bool = False
    key_generation: Literal["sequence", "current_record", "fully_qualified", "none"] = "sequence"
    xml_dtd: Literal["prohibit", "internal", "url"] = "prohibit"
    allow_with_connection: bool = False
    add_missing_query_params: bool = False
    allow_response_headers: bool = False
    https_only: bool = False
    redirect_allowlist: tuple[str, ...] = ()
    cookie_container_on_redirect: bool = False
    trusted_locations: tuple[str, ...] = ()
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE
    auth: AuthConfig = field(default_factory=AuthConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)
    #: parameter name -> value, in file order; read-only
    query: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    headers: tuple[Header, ...] = ()
    retry: RetryConfig = field(default_factory=RetryConfig)
    pagination: PaginationConfig = field(default_factory=PaginationConfig)
    proxy: ProxyConfig | None = None
    #: text inserted from sensitive environment variables (``${env:API_TOKEN}``), masked everywhere
    env_secrets: tuple[str, ...] = field(default=(), compare=False)

    @property
    def origin(self) -> str:
        """The connection URL's ``scheme://host[:port]``: trusted by default for credentials."""
        return origin_of(self.url)

    def header(self, name: str) -> Header | None:
        """The connection header called ``name`` (header names ignore case)."""
        return next((h for h in self.headers if h.name.lower() == name.lower()), None)

    def request_headers(self, decryptor: Decryptor | None = None) -> list[tuple[str, str]]:
        """Every header as (name, value to send), encrypted ones decrypted via ``decryptor``."""
        try:
            return [(h.name, h.value_for_request(decryptor)) for h in self.headers]
        except ConfigError as error:
            raise ConfigError(f"connection '{self.name}': {error}") from None

    def secrets(self) -> list[str]:
        """Every secret value this connection holds, once each, empty ones left out.

        Secret are: auth and proxy passwords, the client certificate password, sensitive
        headers (``Header.sensitive``), query parameters with sensitive names (also those
        inside ``url``) and text from sensitive environment variables. Decrypted header
        values are not known here; the transport adds them when it decrypts.
        """
        found = [self.auth.password, self.tls.client_cert_password]
        if self.proxy is not None:
            found.append(self.proxy.password)
        found += [h.value for h in self.headers if h.sensitive]
        found += [value for name, value in self.query.items() if is_sensitive_name(name)]
        found += sensitive_query_values(self.url)
        found += self.env_secrets
        return list(dict.fromkeys(value for value in found if value))

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "env_secrets":
                continue
            if f.name == "query":
                value = {name: MASK if is_sensitive_name(name) and text else text for name, text in value.items()}
            parts.append(f"{f.name}={value!r}")
        hidden = [*self.env_secrets, *sensitive_query_values(self.url)]
        return masked(f"RestConfig({', '.join(parts)})", hidden)

    @classmethod
    def from_table(cls, name: str, table: Mapping[str, Any], base_dir: Path,
                   environ: Mapping[str, str] | None = None) -> RestConfig:
        """Validate one ``[connections."name"]`` table (``environ`` defaults to ``os.environ``).

        ``base_dir`` is the connections file's folder: relative TLS file paths resolve
        against it. Raises ``ConfigError`` naming the connection, the dotted key and what
        is allowed; unknown keys are errors so that a typo cannot switch a setting off.
        """
        context = Context(name, os.environ if environ is None else environ, base_dir)
        top = Table(context, "", table)
        kind = top.text("type", "rest")
        if kind.lower() != "rest":
            top.fail("type", f"must be a connection type qscript knows: rest (got '{kind}')")
        https_only = top.boolean("https_only", False)
        url = top.http_url("url", top.text("url", required="an http:// or https:// URL"), https_only=https_only)
        method = top.choice("method", "GET", ("GET", "POST"), upper=True)
        body = top.text("body")
        if body and method != "POST":
            top.fail("body", "is only sent with method POST (method is GET)")
        http_version = _http_version(top)
        values: dict[str, Any] = {
            "name": name,
            "url": url,
            "method": method,
            "body": body,
            "connection_timeout": top.integer("connection_timeout", DEFAULT_TIMEOUT, 1, MAX_TIMEOUT, "seconds"),
            "read_timeout": top.integer("read_timeout", DEFAULT_TIMEOUT, 1, MAX_TIMEOUT, "seconds"),
            "http_version": http_version,
            "keep_alive": top.boolean("keep_alive", True),
            "expect_100_continue": top.boolean("expect_100_continue", False),
            "auto_detect_response_type": top.boolean("auto_detect_response_type", True),
            "response_type": top.choice("response_type", "json", ("json", "xml", "csv")),
            "check_response_type_on_test": top.boolean("check_response_type_on_test", False),
            "key_generation": top.choice("key_generation", "sequence",
                                         ("sequence", "current_record", "fully_qualified", "none")),
            "xml_dtd": top.choice("xml_dtd", "prohibit", ("prohibit", "internal", "url")),
            "allow_with_connection": top.boolean("allow_with_connection", False),
            "add_missing_query_params": top.boolean("add_missing_query_params", False),
            "allow_response_headers": top.boolean("allow_response_headers", False),
            "https_only": https_only,
            "redirect_allowlist": top.string_list("redirect_allowlist", _allowlist_entry(https_only)),
            "cookie_container_on_redirect": top.boolean("cookie_container_on_redirect", False),
            "trusted_locations": top.string_list("trusted_locations", _trusted_origin(https_only)),
            "max_response_size": top.integer("max_response_size", DEFAULT_MAX_RESPONSE_SIZE, 1, None, "bytes"),
            "auth": AuthConfig.from_section(top.table("auth")),
            "tls": TlsConfig.from_section(top.table("tls")),
            "query": _query(top.table("query")),
            "headers": _headers(top.table("headers")),
            "retry": RetryConfig.from_section(top.table("retry")),
            "pagination": PaginationConfig.from_section(top.table("pagination")),
            "proxy": ProxyConfig.from_section(top.table("proxy")),
        }
        top.finish([f.name for f in fields(cls) if f.name not in ("name", "env_secrets")] + ["type"])
        return cls(**values, env_secrets=tuple(dict.fromkeys(context.env_secrets)))


def _http_version(top: Table) -> str:
    if isinstance(top.data.get("http_version"), int | float) and not isinstance(top.data["http_version"], bool):
        top.fail("http_version", f'must be the string "1.1" or "1.0" (got {top.raw("http_version")}, a number: '
                                 "write it in quotes)")
    return top.choice("http_version", "1.1", ("1.1", "1.0"))


def _allowlist_entry(https_only: bool) -> Callable[[str, Fail], str]:
    """``*``, an origin, or a URL prefix; stored with scheme and host lower-cased, default port dropped."""

    def check(text: str, fail: Fail) -> str:
        if text == "*":
            return text
        if urlsplit(text).scheme.lower() not in ("http", "https"):
            fail(f"must be '*' or an http:// or https:// origin or URL prefix (got '{text}')")
        parts = check_url(text, fail, https_only=https_only, origin_only=False)
        if parts.query or parts.fragment:
            fail(f"must be an origin or URL prefix without query or fragment (got '{text}')")
        path = "" if parts.path in ("", "/") else parts.path
        return origin_of(text) + path

    return check


def _trusted_origin(https_only: bool) -> Callable[[str, Fail], str]:
    """A ``scheme://host[:port]`` origin, normalised so that comparisons are exact."""

    def check(text: str, fail: Fail) -> str:
        check_url(text, fail, https_only=https_only, origin_only=True)
        return origin_of(text)

    return check


def _query(table: Table | None) -> Mapping[str, str]:
    """``[query]``: parameter name -> string value; TOML already makes names unique."""
    pairs: dict[str, str] = {}
    if table is None:
        return MappingProxyType(pairs)
    for name in list(table.data):
        if not name:
            table.fail(name, "is an empty query parameter name")
        value = table.data[name]
        if not isinstance(value, str):
            got = _kind_of_value(value, is_sensitive_name(name))
            table.fail(name, f"must be a string (got {got}; query values are text: write it in quotes)")
        pairs[name] = table.text(name)
    return MappingProxyType(pairs)


def _headers(table: Table | None) -> tuple[Header, ...]:
    """``[headers]``: name -> string, or ``{ value = ..., encrypt = true, secret = true }``."""
    if table is None:
        return ()
    seen: dict[str, str] = {}
    headers = []
    for name in list(table.data):
        if not HEADER_NAME.fullmatch(name):
            table.fail(name, "is not a valid header name (letters, digits and !#$%&'*+.^_`|~- only)")
        if name.lower() in seen:
            table.fail(name, f"repeats header '{seen[name.lower()]}' (header names ignore case)")
        seen[name.lower()] = name
        raw = table.data[name]
        if isinstance(raw, dict):
            sub = table.table(name)
            assert sub is not None
            value = sub.text("value", required="the header value", secret=True)
            from_secret_env = sub.last_sensitive
            encrypt = sub.boolean("encrypt", False)
            secret = sub.boolean("secret", False)
            sub.finish(("value", "encrypt", "secret"))
            if encrypt and not value.startswith("enc:"):
                sub.fail("value", "must be an enc: token when encrypt = true (got a plain value; use "
                                  "secret = true to mask a plain value)")
        elif isinstance(raw, str):
            value = table.text(name)
            from_secret_env, encrypt, secret = table.last_sensitive, False, False
        else:
            table.fail(name, f"must be a string or a table {{ value = \"...\", encrypt = true }} "
                             f"(got {_kind_of_value(raw, is_sensitive_name(name))})")
        if any(ch in value for ch in "\r\n\0"):
            table.fail(name, "must not contain line breaks or NUL characters")
        headers.append(Header(name, value, encrypt, secret or from_secret_env))
    return tuple(headers)


def _kind_of_value(value: Any, secret: bool) -> str:
    """'5, an integer' or, for a secret key, only 'an integer'."""
    return kind_of(value) if secret else f"{shown(value)}, {kind_of(value)}"
