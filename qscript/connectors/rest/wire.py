"""The requests Session for a connection: HTTP version, keep-alive, Expect: 100-continue.

requests and urllib3 always speak HTTP/1.1 and never wait for an interim ``100 Continue``,
while Qlik's connector (.NET) offers both choices. Nothing is patched globally:
``build_session`` mounts a :class:`WireAdapter` whose urllib3 pools build connection
classes made for this connection's settings (:func:`_pool_classes`), so two connections
with different settings can run side by side in one process.

* ``http_version = "1.0"``: the request line says ``HTTP/1.0`` and ``Connection`` says
  ``keep-alive`` or ``close`` as ``keep_alive`` chooses. With ``close`` the client drops
  the TCP connection after the answer, as its header promised, whatever the server does.
  ``keep_alive`` only matters with 1.0: HTTP/1.1 connections are always persistent.
* ``expect_100_continue``: a request with a body sends its headers with
  ``Expect: 100-continue`` and holds the body back until the server answers ``100``, or
  for :data:`CONTINUE_WAIT` seconds at most and then sends it anyway (RFC 9110 10.1.1:
  many servers ignore the expectation). A final answer instead of ``100`` (401, 413,
  417...) is the response: the body is never sent and the connection is closed, since
  the server cannot know where the next request would start. Ignored with HTTP/1.0,
  which has no interim answers.
* Proxy credentials become ``Proxy-Authorization`` on requests to the proxy only.
"""

from __future__ import annotations

import base64
import functools
import http.client
import io
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager
from urllib3.response import BaseHTTPResponse

from qscript.connectors.rest.config import ProxyConfig, RestConfig

#: Seconds a request with ``Expect: 100-continue`` waits for the interim answer before it
#: sends the body anyway (curl waits 1 s as well).
CONTINUE_WAIT = 1.0
#: Limits for reading an interim answer, as http.client applies to any answer.
_MAX_LINE = 65536
_MAX_HEADERS = 100


@dataclass(frozen=True)
class WireOptions:
    """How requests go on the wire; frozen and hashable so pool classes can be shared."""

    http_version: Literal["1.1", "1.0"] = "1.1"
    keep_alive: bool = True
    expect_100_continue: bool = False
    continue_wait: float = CONTINUE_WAIT

    @classmethod
    def from_config(cls, config: RestConfig) -> WireOptions:
        return cls(config.http_version, config.keep_alive, config.expect_100_continue)

    @property
    def connection_header(self) -> str | None:
        """The ``Connection`` header to send; None leaves requests' default (keep-alive)."""
        if self.http_version == "1.0":
            return "keep-alive" if self.keep_alive else "close"
        return None

    @property
    def closes(self) -> bool:
        """Whether every connection is dropped after one answer (HTTP/1.0 without keep-alive)."""
        return self.http_version == "1.0" and not self.keep_alive

    @property
    def expects_continue(self) -> bool:
        """Whether requests with a body carry ``Expect: 100-continue`` (HTTP/1.1 only)."""
        return self.expect_100_continue and self.http_version == "1.1"


def build_session(config: RestConfig) -> requests.Session:
    """One session per open connection: its pool keeps TCP connections between SELECTs."""
    session = requests.Session()
    session.trust_env = False  # proxies and certificates come from the connection only
    adapter = WireAdapter(WireOptions.from_config(config), config.proxy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def proxy_authorization(proxy: ProxyConfig) -> str | None:
    """``Basic`` credentials for the proxy (UTF-8, RFC 7617), or None without a user."""
    if not proxy.username:
        return None
    token = base64.b64encode(f"{proxy.username}:{proxy.password}".encode()).decode("ascii")
    return f"Basic {token}"


class WireAdapter(HTTPAdapter):
    """An HTTPAdapter whose pools use this connection's wire settings and proxy credentials."""

    def __init__(self, options: WireOptions, proxy: ProxyConfig | None = None) -> None:
        self.wire = options
        self.proxy = proxy
        super().__init__()  # calls init_poolmanager, which needs self.wire

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.wire)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        """The proxy's pools must use the wire settings too: they carry the requests."""
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _pool_classes(self.wire)
        return manager

    def proxy_headers(self, proxy: str) -> dict[str, str]:
        """Credentials from the connection, never from the proxy URL.

        urllib3 sends these on ``CONNECT`` for https targets (never inside the tunnel) and
        on each forwarded request for http targets, where the proxy removes them before
        forwarding. The proxy URL stays free of secrets, so error texts cannot leak them.
        """
        credentials = proxy_authorization(self.proxy) if self.proxy is not None else None
        return {"Proxy-Authorization": credentials} if credentials else {}

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        """The wire headers go into the prepared request, so that it shows what was sent."""
        connection = self.wire.connection_header
        if connection is not None:
            request.headers["Connection"] = connection
        if self.wire.expects_continue and request.body:
            request.headers["Expect"] = "100-continue"


@functools.cache
def _pool_classes(options: WireOptions) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 pool classes whose connections follow ``options`` (one set per distinct options)."""
    attributes: dict[str, Any] = {"wire": options}
    if options.http_version == "1.0":
        # Only the request line changes: http.client ties sending Host to _http_vsn == 11,
        # and name-based virtual hosts need Host from HTTP/1.0 clients as well.
        attributes["_http_vsn_str"] = "HTTP/1.0"
    plain = type("WireHTTPConnection", (_WireConnection,), attributes)
    secure = type("WireHTTPSConnection", (_WireConnection, HTTPSConnection), attributes)
    return {
        "http": type("WireHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
        "https": type("WireHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": secure}),
    }


class _WireConnection(HTTPConnection):
    """urllib3's connection plus the Expect handshake and the client's own close decision.

    ``request`` sends a body that expects ``100-continue`` only as far as the headers;
    ``getresponse`` (which urllib3 runs under the read timeout, so a stall there is a read
    timeout) waits for the interim answer, then sends the body or leaves it unsent.
    """

    wire: ClassVar[WireOptions] = WireOptions()
    _withheld: bytes | None = None

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        self._withheld = None
        if isinstance(body, bytes | bytearray) and body and _expects_continue(headers):
            # With an explicit Content-Length and no body, urllib3 sends the headers only.
            headers = dict(headers or {})
            if not any(name.lower() == "content-length" for name in headers):
                headers["Content-Length"] = str(len(body))
            super().request(method, url, body=None, headers=headers, **options)
            self._withheld = bytes(body)
            return
        super().request(method, url, body=body, headers=headers, **options)

    def getresponse(self) -> BaseHTTPResponse:  # type: ignore[override]
        body, self._withheld = self._withheld, None
        prefix: bytes | None = None
        if body is not None:
            prefix = self._await_continue()
            if prefix is None:
                self.send(body)
        close = self.wire.closes or prefix is not None
        self.response_class = functools.partial(_WireResponse, prefix=prefix or b"", close=close)
        try:
            return super().getresponse()
        finally:
            del self.response_class

    def _await_continue(self) -> bytes | None:
        """None: send the body (``100`` came, or nothing within the wait). Bytes: a final
        answer began with them (empty when the server closed); the body stays unsent.

        The socket is read one byte at a time, so nothing past the interim answer is taken
        from it; a final answer's status line is handed back to http.client to re-read.
        """
        sock = self.sock
        assert sock is not None
        read_timeout = sock.gettimeout()
        deadline = time.monotonic() + self.wire.continue_wait
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sock.settimeout(left)
                try:
                    first = sock.recv(1)
                except TimeoutError:
                    return None  # the server ignores the expectation: send anyway
                sock.settimeout(read_timeout)
                line = first + _read_line(sock) if first else b""
                status = _status_of(line)
                if status is None or status >= 200 or status == 101:
                    return line
                _skip_header_block(sock)
                if status == 100:
                    return None
                # another interim answer (102, 103): keep waiting for 100 or the final one
        finally:
            sock.settimeout(read_timeout)


class _WireResponse(http.client.HTTPResponse):
    """http.client's response that may start with bytes already read (``prefix``) and may be
    told to close the connection however the server answers (``close``)."""

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
        *,
        prefix: bytes = b"",
        close: bool = False,
    ) -> None:
        super().__init__(sock, debuglevel, method, url)
        if prefix:
            self.fp = io.BufferedReader(_Replay(prefix, self.fp))
        self._client_closes = close

    def _check_close(self) -> bool:  # type: ignore[override]
        return self._client_closes or super()._check_close()  # type: ignore[misc]


class _Replay(io.RawIOBase):
    """Bytes already read from a socket, then the socket's own reader."""

    def __init__(self, prefix: bytes, rest: io.BufferedReader) -> None:
        super().__init__()
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            count = min(len(buffer), len(self._prefix))
            buffer[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        return self._rest.readinto1(buffer)  # one read at most: never wait for a full buffer

    def close(self) -> None:
        if not self.closed:
            self._rest.close()
        super().close()


def _expects_continue(headers: Mapping[str, str] | None) -> bool:
    return any(k.lower() == "expect" and v.strip().lower() == "100-continue" for k, v in (headers or {}).items())


def _read_line(sock: socket.socket) -> bytes:
    """The rest of a line, byte by byte (only an interim answer is read this way)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = sock.recv(1)
        if not byte:
            break
        line += byte
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("interim response line")
    return bytes(line)


def _skip_header_block(sock: socket.socket) -> None:
    for _ in range(_MAX_HEADERS + 1):
        line = _read_line(sock)
        if line in (b"\r\n", b"\n", b""):
            return
    raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers in an interim response")


def _status_of(line: bytes) -> int | None:
    """The status code of an ``HTTP/x.y NNN reason`` line, None for anything else."""
    parts = line.split(None, 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and len(parts[1]) == 3 and parts[1].isdigit():
        return int(parts[1])
    return None
