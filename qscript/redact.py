"""Redaction of secrets: by value (known from configuration) and by name (query parameters
and headers whose names say they hold credentials).

Every log line, error message and exception text that can carry a URL, a header or a body
passes through a :class:`Redactor` first; redaction never depends on a log level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

#: Query parameter and header names whose values are always masked: any name containing
#: one of these parts (lower case), or equal to one of the exact names.
SENSITIVE_NAME_PARTS = (
    "token", "secret", "password", "passwd", "apikey", "api_key", "api-key", "signature",
    "credential", "session", "auth", "cookie",
)
SENSITIVE_EXACT_NAMES = frozenset({"key", "sig", "code", "pwd", "pass"})


def is_sensitive_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in SENSITIVE_EXACT_NAMES or any(part in lowered for part in SENSITIVE_NAME_PARTS)


class Redactor:
    """Masks known secret values anywhere in a text, and sensitive query parameters in URLs."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secret values (short values under 4 characters are ignored as noise)."""
        new = {s for s in secrets if s and len(s) >= 4} - self._secrets
        if not new:
            return
        self._secrets |= new
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def url(self, url: str) -> str:
        """A URL fit for logs: user info, sensitive parameters and known secrets masked."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = "&".join(_mask_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
        return self(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def _mask_pair(pair: str) -> str:
    name, sep, value = pair.partition("=")
    return f"{name}={MASK}" if sep and value and is_sensitive_name(name) else pair
