"""Authentication for a connection: anonymous, basic, digest, NTLM and current user.

Each schema is a requests auth object; the transport attaches it only to requests whose
URL is a trusted location (security.py), so credentials never travel elsewhere.
"""

from __future__ import annotations

from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from qscript.connectors.rest.config import RestConfig
from qscript.errors import ConfigError


def build_auth(config: RestConfig) -> AuthBase | None:
    auth = config.auth
    if auth.schema == "anonymous":
        return None
    if auth.schema == "basic":
        return HTTPBasicAuth(auth.username, auth.password)
    if auth.schema == "digest":
        return HTTPDigestAuth(auth.username, auth.password)
    raise ConfigError(f"connection '{config.name}': auth.schema '{auth.schema}' is not supported yet")
