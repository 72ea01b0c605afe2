"""TLS settings for requests: certificate validation and client certificates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qscript.connectors.rest.config import RestConfig


@dataclass
class TlsSettings:
    """``verify`` and ``cert`` as requests takes them; ``close`` removes temporary files."""

    verify: bool | str = True
    cert: str | tuple[str, str] | None = None

    @classmethod
    def from_config(cls, config: RestConfig, connection: str, log: Callable[[str], None]) -> TlsSettings:
        tls = config.tls
        verify: bool | str = True
        if tls.verify == "skip":
            verify = False
        elif tls.verify == "custom_ca" and tls.ca_file is not None:
            verify = str(tls.ca_file)
        cert = None
        if tls.client_cert is not None:
            cert = (str(tls.client_cert), str(tls.client_key)) if tls.client_key else str(tls.client_cert)
        return cls(verify, cert)

    def before_request(self, url: str) -> None:
        """Called before every request (the place to warn about skipped validation)."""

    def close(self) -> None:
        pass
