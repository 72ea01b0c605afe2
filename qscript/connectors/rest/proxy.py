"""Proxy choice per request: the connection's forward proxy, or direct."""

from __future__ import annotations

from qscript.connectors.rest.config import RestConfig


def proxies_for(config: RestConfig, url: str) -> dict[str, str] | None:
    """requests' ``proxies`` for ``url``: None goes direct."""
    return None
