"""The request one SELECT sends: the connection's settings merged with WITH CONNECTION.

* ``URL`` replaces the connection URL and is sent as written (never re-encoded). The
  connection's query parameters go with the connection URL; after a URL override they are
  added only when ``add_missing_query_params`` is on, and only those the URL lacks.
* ``QUERY "n" "v"`` adds a parameter or replaces one of the same name; an empty value
  removes it (so the first pass of an OData ``$skiptoken`` loop sends no empty token).
* ``HTTPHEADER "n" "v"`` replaces a header of the same name (any case); an empty value
  removes it (Qlik's own apps blank a stored Authorization header this way).
* ``BODY`` replaces the body; it needs a POST connection.
Overrides are refused unless the connection sets ``allow_with_connection``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from qscript.connectors.rest.config import RestConfig
from qscript.errors import WrongFormatError
from qscript.script.nodes import ConnectionOverride

#: Characters left as they are in query names and values added by qscript.
_QUERY_SAFE = "$:@!*'(),;/"


@dataclass(frozen=True)
class RestRequest:
    """One request. ``credential_headers`` names the headers that carry the connection's
    credentials: they go only to trusted locations (security.py)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    credential_headers: frozenset[str] = frozenset()

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


def _split_query(query: str) -> list[tuple[str, str | None]]:
    """Raw ``name=value`` pairs, undecoded (``None`` value: a bare ``name``)."""
    pairs: list[tuple[str, str | None]] = []
    for part in query.split("&") if query else []:
        name, sep, value = part.partition("=")
        pairs.append((name, value if sep else None))
    return pairs


def _join_query(pairs: list[tuple[str, str | None]]) -> str:
    return "&".join(name if value is None else f"{name}={value}" for name, value in pairs)


def _encoded(text: str) -> str:
    return quote(text, safe=_QUERY_SAFE)


def with_query(url: str, params: list[tuple[str, str]], *, only_missing: bool = False) -> str:
    """Add or replace parameters in a URL's query; existing text stays byte for byte."""
    parts = urlsplit(url)
    pairs = _split_query(parts.query)
    for name, value in params:
        key = _encoded(name)
        existing = [i for i, (n, _) in enumerate(pairs) if n in (key, name)]
        if only_missing and existing:
            continue
        keep = value != "" or only_missing
        if existing and keep:  # replace in place, so the order of parameters stays
            pairs[existing[0]] = (key, _encoded(value))
            pairs = [p for i, p in enumerate(pairs) if i not in existing[1:]]
        else:
            pairs = [p for i, p in enumerate(pairs) if i not in existing]
            if keep:
                pairs.append((key, _encoded(value)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, _join_query(pairs), parts.fragment))


def _merge_headers(base: list[tuple[str, str]], overrides: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    headers = list(base)
    for name, value in overrides:
        headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
        if value != "":
            headers.append((name, value))
    return headers


def build_request(
    config: RestConfig,
    override: ConnectionOverride | None,
    connection: str,
    decrypt: Callable[[str], str] | None = None,
) -> RestRequest:
    """The request for one SELECT on ``connection``."""
    if override is not None and not config.allow_with_connection:
        raise WrongFormatError(
            f"connection '{connection}': WITH CONNECTION is not allowed by this connection "
            "(set allow_with_connection = true in its definition)"
        )
    override = override or ConnectionOverride()
    query = list(config.query.items())
    if override.url is not None:
        url = override.url
        if config.add_missing_query_params:
            url = with_query(url, query, only_missing=True)
    else:
        url = with_query(config.url, query)
    if override.query:
        url = with_query(url, list(override.query))
    headers = _merge_headers(
        [(h.name, h.value_for_request(decrypt)) for h in config.headers], override.headers
    )
    script_set = {name.lower() for name, _ in override.headers}
    credentials = frozenset(
        h.name.lower() for h in config.headers if h.sensitive and h.name.lower() not in script_set
    )
    body = override.body if override.body is not None else (config.body or None)
    if override.body is not None and config.method != "POST":
        raise WrongFormatError(
            f"connection '{connection}': BODY needs a POST connection (its method is {config.method})"
        )
    data = body.encode("utf-8") if body is not None and config.method == "POST" else None
    return RestRequest(config.method, url, tuple(headers), data, credentials)
