"""Security decisions as small pure functions: where a request may go, and with what.

Each rule answers one yes/no question about URLs in a named function; ``SecurityPolicy``
binds them to one connection and turns a "no" into an error naming the connection, the
option and the redacted URL. The transport asks before it sends a byte (after httpx: the
policy is decided up front, never inside the socket code).

* **https_only** (``is_https``): every URL requested (the connection URL, a ``WITH
  CONNECTION`` URL, each redirect target and next-page link) must be ``https://``, or
  the request is refused before anything is sent. config.py already refuses ``http://``
  in ``url``, ``redirect_allowlist`` and ``trusted_locations`` when it loads them.
* **URL allowlist** (``UrlAllowlist``, ``parse_allowlist``): when ``$QSCRIPT_ALLOWED_URLS``
  names a file, only URLs it allows are requested; anything else, redirects and next
  pages included, is refused before a byte is sent. Qlik's gateway semantics, one entry
  per line: ``*`` allows everything; a URL allows exactly that URL; a URL ending in
  ``*`` allows every URL that starts with the text before the ``*``. Hardened so that a
  prefix cannot be stretched: scheme, host and port are compared as an origin (case and
  default ports ignored), so ``https://api.example.com*`` allows neither
  ``https://api.example.com.evil.net`` nor ``https://api.example.com@evil.net``; the
  ``*`` may only end an entry and never stands inside the host; ``.``/``..`` path
  segments (also written ``%2e``) are resolved before comparing, so ``/v1/../admin`` does
  not pass as ``/v1/``. Fragments are ignored (never sent), an empty path is ``/``. Blank
  lines and ``#`` comments are skipped; a file without entries allows nothing. An
  unreadable file or a malformed line is an error naming the file and line: a broken
  allowlist must stop requests, not switch itself off.
* **Redirect allowlist** (``same_origin_or_upgrade``, ``redirect_entry_allows``): a
  redirect or next-page link may always stay on the origin of the request that led to it
  (an http -> https upgrade on the same host counts as staying); ``redirect_allowlist``
  widens this: ``*`` anything, an origin any path on it, a URL prefix the paths under it
  (whole segments: ``/exports`` allows ``/exports/x`` but not ``/exports2``).
* **Trusted locations** (``credentials_allowed``): credentials (auth and the connection's
  sensitive headers) go only to the connection's origin and to ``trusted_locations``; a
  request anywhere else, including after a redirect or to a ``WITH CONNECTION`` URL,
  goes without them.
* **Headers across a redirect** (``headers_after_redirect``): a redirect to another
  origin that is not trusted drops every header with a sensitive name, including those a
  script set itself, so a bearer token cannot be bounced to a third party.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from qscript.connectors.rest.config import RestConfig, origin_of
from qscript.errors import WrongFormatError
from qscript.redact import Redactor, is_sensitive_name

ALLOWLIST_VARIABLE = "QSCRIPT_ALLOWED_URLS"
_ENCODED_DOT = re.compile("%2e", re.IGNORECASE)


# -- URL pieces -----------------------------------------------------------------------------------
def is_https(url: str) -> bool:
    """Scheme check without parsing: a URL that does not literally start with https:// fails closed."""
    return url[:8].lower() == "https://"


def safe_origin(url: str) -> str | None:
    """``origin_of`` that answers None for URLs it cannot parse (a bad port, say)."""
    try:
        return origin_of(url)
    except ValueError:
        return None


def split_url(url: str) -> tuple[str | None, str]:
    """(origin, rest): the origin compared as ``origin_of`` does, and path plus query as
    written, fragment dropped, dot segments resolved, the path at least ``/``."""
    scheme, sep, after = url.partition("://")
    if not sep:
        return None, url
    ends = [i for i in (after.find(c) for c in "/?#") if i >= 0]
    end = min(ends, default=len(after))
    rest = after[end:].split("#", 1)[0]
    path, mark, query = rest.partition("?")
    return safe_origin(f"{scheme}://{after[:end]}"), remove_dot_segments(path) + mark + query


def remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 on ``path`` (``%2e`` read as ``.``), so prefixes compare what servers see."""
    segments = path.split("/")
    if not any(_ENCODED_DOT.sub(".", s) in (".", "..") for s in segments):
        return path if path.startswith("/") else "/" + path
    out: list[str] = []
    for segment in segments[1:] if path.startswith("/") else segments:
        plain = _ENCODED_DOT.sub(".", segment)
        if plain == "..":
            if out:
                out.pop()
        elif plain != ".":
            out.append(segment)
    trailing = "/" if _ENCODED_DOT.sub(".", segments[-1]) in (".", "..") else ""
    return "/" + "/".join(out) + (trailing if out else "")


def path_is_under(path: str, prefix: str) -> bool:
    """``path`` is ``prefix`` or below it, whole segments only."""
    if prefix in ("", "/") or path == prefix:
        return True
    return path.startswith(prefix if prefix.endswith("/") else prefix + "/")


def same_origin_or_upgrade(source: str, target: str) -> bool:
    """A redirect that stays on its origin, or moves from http to https on the same host."""
    source_origin, target_origin = safe_origin(source), safe_origin(target)
    if source_origin is None or target_origin is None:
        return False
    if source_origin == target_origin:
        return True
    try:
        source_host, target_host = urlsplit(source).hostname, urlsplit(target).hostname
    except ValueError:
        return False
    return (source_origin.startswith("http://") and target_origin.startswith("https://")
            and source_host is not None and source_host == target_host)


def redirect_entry_allows(entry: str, target: str) -> bool:
    """One ``redirect_allowlist`` entry (``*``, an origin, or an origin plus path) against a target."""
    if entry == "*":
        return True
    entry_origin, entry_rest = split_url(entry)
    target_origin, target_rest = split_url(target)
    if entry_origin is None or entry_origin != target_origin:
        return False
    return path_is_under(target_rest.partition("?")[0], entry_rest.partition("?")[0])


# -- the URL allowlist file -----------------------------------------------------------------------
@dataclass(frozen=True)
class AllowedUrl:
    """One allowlist line: ``*``, an exact URL, or a prefix (the line ended in ``*``)."""

    text: str
    origin: str = ""
    rest: str = ""
    prefix: bool = False

    def allows(self, origin: str | None, rest: str) -> bool:
        if self.text == "*":
            return True
        if origin is None or origin != self.origin:
            return False
        return rest.startswith(self.rest) if self.prefix else rest == self.rest


def parse_allowed_url(line: str) -> AllowedUrl:
    """One non-blank line of the allowlist; ValueError says what is wrong with it."""
    if line == "*":
        return AllowedUrl(line)
    prefix = line.endswith("*")
    body = line[:-1] if prefix else line
    if "*" in body:
        raise ValueError("'*' may only stand alone or end an entry")
    if any(ch.isspace() for ch in body):
        raise ValueError("an entry may not contain spaces")
    try:
        parts = urlsplit(body)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("must be '*' or an http:// or https:// URL")
    if not host:
        raise ValueError("has no complete host (a '*' cannot stand for part of a host)")
    if "@" in parts.netloc:
        raise ValueError("may not contain user:password@")
    origin, rest = split_url(body)
    return AllowedUrl(line, origin or "", rest, prefix)


def parse_allowlist(text: str, source: str) -> UrlAllowlist:
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            entries.append(parse_allowed_url(line))
        except ValueError as exc:
            raise WrongFormatError(
                f"URL allowlist {source} (${ALLOWLIST_VARIABLE}), line {number}: '{line}' {exc}"
            ) from None
    return UrlAllowlist(tuple(entries), source)


@dataclass(frozen=True)
class UrlAllowlist:
    """Allowed URLs: ``*`` allows all, a line allows exactly that URL, a trailing ``*`` a prefix."""

    entries: tuple[AllowedUrl, ...]
    source: str = ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> UrlAllowlist | None:
        """The allowlist named by ``$QSCRIPT_ALLOWED_URLS``; None when the variable is unset or blank."""
        path = (environ.get(ALLOWLIST_VARIABLE) or "").strip()
        if not path:
            return None
        try:
            with open(path, encoding="utf-8-sig") as handle:  # -sig: files saved by Windows editors
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise WrongFormatError(
                f"cannot read the URL allowlist {path} (${ALLOWLIST_VARIABLE}): {why}; no request is sent "
                "without it"
            ) from None
        return parse_allowlist(text, path)

    def allows(self, url: str) -> bool:
        origin, rest = split_url(url)
        return any(entry.allows(origin, rest) for entry in self.entries)


# -- the policy of one connection ----------------------------------------------------------------
class SecurityPolicy:
    """The security options of one connection, applied to URLs.

    ``redact_url`` masks URLs in error messages (default: sensitive query values and user
    info; the interpreter masks known secret values on top).
    """

    def __init__(
        self,
        config: RestConfig,
        connection: str,
        allowlist: UrlAllowlist | None = None,
        *,
        redact_url: Callable[[str], str] | None = None,
    ) -> None:
        self.config = config
        self.connection = connection
        self.allowlist = allowlist
        self.redact_url = redact_url or Redactor().url
        self.trusted = frozenset({config.origin, *config.trusted_locations})

    def _refuse(self, what: str) -> WrongFormatError:
        return WrongFormatError(f"connection '{self.connection}': {what}")

    def check_request(self, url: str) -> None:
        """Before any byte is sent: https_only and the URL allowlist."""
        if self.config.https_only and not is_https(url):
            raise self._refuse(f"https_only refuses {self.redact_url(url)}: only https:// URLs may be "
                               "requested (nothing was sent)")
        if self.allowlist is not None and not self.allowlist.allows(url):
            raise self._refuse(f"{self.redact_url(url)} is not in the URL allowlist {self.allowlist.source} "
                               f"(${ALLOWLIST_VARIABLE}); nothing was sent")

    def check_redirect(self, source: str, target: str) -> None:
        """A redirect or next-page link must stay where the connection allows."""
        self.check_request(target)
        if self.redirect_allowed(source, target):
            return
        allowed = ", ".join(self.config.redirect_allowlist) or "empty: same origin only"
        raise self._refuse(
            f"redirect or next-page link from {self.redact_url(source)} to {self.redact_url(target)} refused: "
            f"the target is not on redirect_allowlist ({allowed}); nothing was sent there"
        )

    def redirect_allowed(self, source: str, target: str) -> bool:
        return same_origin_or_upgrade(source, target) or any(
            redirect_entry_allows(entry, target) for entry in self.config.redirect_allowlist
        )

    def credentials_allowed(self, url: str) -> bool:
        """Whether auth and the connection's sensitive headers may go to ``url``."""
        return safe_origin(url) in self.trusted

    def headers_after_redirect(
        self, source: str, target: str, headers: tuple[tuple[str, str], ...]
    ) -> tuple[tuple[str, str], ...]:
        """Headers to resend after a redirect: sensitive ones only within an origin or to a trusted one."""
        if safe_origin(source) == safe_origin(target) or self.credentials_allowed(target):
            return headers
        return tuple((name, value) for name, value in headers if not is_sensitive_name(name))
