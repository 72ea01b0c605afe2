"""Redaction of secrets: by value (known from configuration) and by name (query parameters
and headers whose names say they hold credentials).

Every log line, error message and exception text that can carry a URL, a header or a body
passes through a :class:`Redactor` first; redaction never depends on a log level.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

MASK = "***"

#: Names (letters and digits only, lower case) whose values are always secret ...
SENSITIVE_NAMES = frozenset({"authorization", "proxyauthorization", "cookie", "setcookie", "key", "pwd", "sig"})
#: ... and parts that make any name containing them secret.
SENSITIVE_PARTS = ("auth", "token", "secret", "passw", "apikey", "credential", "session", "signature")


def is_sensitive_name(name: str) -> bool:
    """Whether a header, query parameter or environment variable name marks its value secret.

    The rule: lower-case the name and drop everything but letters and digits; the name is
    sensitive when it is one of ``authorization``, ``proxyauthorization``, ``cookie``,
    ``setcookie``, ``key``, ``pwd``, ``sig``, ends in ``key`` (``X-API-Key``,
    ``Ocp-Apim-Subscription-Key``), or contains ``auth``, ``token``, ``secret``, ``passw``,
    ``apikey``, ``credential``, ``session`` or ``signature``. Masking a harmless value costs
    nothing; leaking a key costs a rotation, so the rule leans towards masking.
    """
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    return flat in SENSITIVE_NAMES or flat.endswith("key") or any(part in flat for part in SENSITIVE_PARTS)


_URL_SAFE = "$:@!*'(),;/"  # what request.py leaves unencoded in query values


def travelling_forms(secret: str) -> set[str]:
    """A secret as written and as URLs carry it: servers echo request URLs back in error bodies."""
    return {secret, quote(secret, safe=""), quote(secret, safe=_URL_SAFE), quote_plus(secret)}


def basic_credential(user: str, password: str) -> str:
    """The base64 form Basic authentication sends, which error pages sometimes echo."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class Redactor:
    """Masks known secret values anywhere in a text, and sensitive query parameters in URLs."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secret values (short values under 4 characters are ignored as noise)."""
        new = {form for s in secrets if s and len(s) >= 4 for form in travelling_forms(s)} - self._secrets
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
