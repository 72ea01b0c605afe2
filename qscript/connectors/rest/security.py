"""Security decisions as small pure functions: where a request may go, and with what.

* ``https_only``: every URL (requests, redirects, next-page links) must be https.
* URL allowlist (``$QSCRIPT_ALLOWED_URLS`` names a file; Qlik's gateway semantics): when
  set, a request outside it is refused before any byte is sent.
* Redirect allowlist: redirects (and next-page URLs) may only go to listed places;
  empty means the connection's own origin (an http -> https upgrade of it included).
* Trusted locations: credentials (auth, sensitive headers) go only to the connection's
  origin and the listed origins; a request anywhere else goes without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qscript.connectors.rest.config import RestConfig, origin_of
from qscript.errors import WrongFormatError


@dataclass(frozen=True)
class UrlAllowlist:
    """Allowed URLs: ``*`` allows all, a line allows exactly that URL, a trailing ``*`` a prefix."""

    entries: tuple[str, ...]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> UrlAllowlist | None:
        path = environ.get("QSCRIPT_ALLOWED_URLS")
        if not path:
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                lines = [line.strip() for line in handle]
        except OSError as exc:
            raise WrongFormatError(f"cannot read the URL allowlist {path}: {exc.strerror}") from None
        return cls(tuple(line for line in lines if line and not line.startswith("#")))

    def allows(self, url: str) -> bool:
        for entry in self.entries:
            if entry == "*" or entry == url or (entry.endswith("*") and url.startswith(entry[:-1])):
                return True
        return False


class SecurityPolicy:
    """The security options of one connection, applied to URLs."""

    def __init__(self, config: RestConfig, connection: str, allowlist: UrlAllowlist | None = None) -> None:
        self.config = config
        self.connection = connection
        self.allowlist = allowlist
        self.trusted = {config.origin, *config.trusted_locations}

    def _refuse(self, url: str, why: str) -> WrongFormatError:
        return WrongFormatError(f"connection '{self.connection}': {why}: {url}")

    def check_request(self, url: str) -> None:
        """Before any byte is sent: https_only and the URL allowlist."""
        if self.config.https_only and not url.lower().startswith("https://"):
            raise self._refuse(url, "https_only refuses a URL that is not https")
        if self.allowlist is not None and not self.allowlist.allows(url):
            raise self._refuse(url, "the URL is not in the allowlist ($QSCRIPT_ALLOWED_URLS)")

    def check_redirect(self, source: str, target: str) -> None:
        """A redirect or next-page link must stay where the connection allows."""
        self.check_request(target)
        allowed = self.config.redirect_allowlist
        if "*" in allowed:
            return
        target_origin = origin_of(target)
        if not allowed:
            if target_origin == origin_of(source) or _is_https_upgrade(source, target):
                return
        elif any(target_origin == entry or target.startswith(entry) for entry in allowed):
            return
        raise self._refuse(target, "redirect_allowlist does not allow this redirect target")

    def credentials_allowed(self, url: str) -> bool:
        return origin_of(url) in self.trusted


def _is_https_upgrade(source: str, target: str) -> bool:
    return (
        source.lower().startswith("http://")
        and target.lower().startswith("https://")
        and origin_of(source).split("://", 1)[1].split(":")[0] == origin_of(target).split("://", 1)[1].split(":")[0]
    )
