"""Proxy choice per request: the connection's forward proxy, or direct.

Decided per URL, because one connection's requests can go to several hosts (redirects,
next-page links, ``WITH CONNECTION URL``). A URL goes direct when:

* the connection has no ``proxy`` table;
* ``proxy.bypass_local`` is on (the default) and the host is local: ``localhost`` and
  names under ``.localhost``, loopback addresses (127.0.0.0/8, ``::1``, also IPv4-mapped)
  and names without a dot (intranet names, as Windows' "bypass proxy server for local
  addresses" treats them); an IPv6 address is local only when it is loopback;
* the host, or ``host:port``, matches a ``proxy.bypass`` glob (``*``, ``?``, ``[...]``,
  case-insensitive; ``*.example.com`` does not match ``example.com`` itself; IPv6
  addresses are written without brackets and matched without a port).

The proxy URL handed to requests never holds credentials: ``wire.WireAdapter`` adds
``Proxy-Authorization`` from the connection, so the URL is safe in any error text.
"""

from __future__ import annotations

import ipaddress
from fnmatch import fnmatchcase
from urllib.parse import SplitResult, urlsplit

from qscript.connectors.rest.config import ProxyConfig, RestConfig

_DEFAULT_PORTS = {"http": 80, "https": 443}


def proxies_for(config: RestConfig, url: str) -> dict[str, str] | None:
    """requests' ``proxies`` for ``url``: None goes direct."""
    proxy = proxy_url_for(config.proxy, url)
    if proxy is None:
        return None
    return {"http": proxy, "https": proxy}


def proxy_url_for(proxy: ProxyConfig | None, url: str) -> str | None:
    """The proxy ``url`` goes through (``scheme://host:port``, no credentials), or None."""
    if proxy is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if proxy.bypass_local and is_local_host(host):
        return None
    if bypassed(proxy.bypass, host, _port_of(parts.scheme, parts)):
        return None
    return proxy.url


def is_local_host(host: str) -> bool:
    """``localhost``, a loopback address, or a name without dots (``host`` as urlsplit gives it)."""
    host = host.lower()
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0: a zone, not a name
    except ValueError:
        return host == "localhost" or host.endswith(".localhost") or "." not in host
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def bypassed(patterns: tuple[str, ...], host: str, port: int | None) -> bool:
    """Whether a ``proxy.bypass`` glob matches ``host`` or ``host:port`` (patterns are lower case)."""
    host = host.lower()
    candidates = [host]
    if port is not None and ":" not in host:  # IPv6 addresses match without a port
        candidates.append(f"{host}:{port}")
    return any(fnmatchcase(candidate, pattern) for pattern in patterns for candidate in candidates)


def _port_of(scheme: str, parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:  # not a number: the request itself will fail with a clear message
        return None
    return port if port is not None else _DEFAULT_PORTS.get(scheme.lower())
