"""The requests Session for a connection: HTTP version, keep-alive, Expect: 100-continue."""

from __future__ import annotations

import requests

from qscript.connectors.rest.config import RestConfig


def build_session(config: RestConfig) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # proxies and certificates come from the connection only
    return session
