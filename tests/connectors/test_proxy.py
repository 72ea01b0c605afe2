"""The forward proxy: which requests go through it, what it receives, what the target never sees.

``ForwardProxy`` is a small proxy written for these tests: a ThreadingHTTPServer on
127.0.0.1 that takes absolute-URI requests (and CONNECT for https), records each with its
headers, forwards it to the target with http.client minus the hop-by-hop headers (as real
proxies do, Proxy-Authorization included) and returns the answer. The targets are on
127.0.0.1 too, which ``bypass_local`` sends direct, so the proxy path is tested with
``bypass_local = false``.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from httpkit import LoopbackServer, Reply

import qscript
from qscript.connectors.rest.config import ProxyConfig, RestConfig
from qscript.connectors.rest.proxy import bypassed, is_local_host, proxies_for, proxy_url_for
from qscript.connectors.rest.wire import proxy_authorization

SELECT = 'LIB CONNECT TO \'Proxied\';\nT: SQL SELECT "a" FROM JSON (wrap on) "root";\n'
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "proxy-connection",
              "te", "trailer", "transfer-encoding", "upgrade"}


@dataclass
class ProxySeen:
    """One request the proxy received."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes
    port: int

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


class ForwardProxy:
    """A recording forward proxy on 127.0.0.1 (port 0); ``credentials`` makes it demand Basic auth."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.seen: list[ProxySeen] = []
        self.stopping = threading.Event()
        expected = proxy_authorization(ProxyConfig("x", 1, username=credentials[0], password=credentials[1])) \
            if credentials else None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _record(self) -> bool:
                """Record the request; False (after a 407) when credentials are wanted and wrong."""
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.seen.append(ProxySeen(self.command, self.path, self.request_version,
                                            dict(self.headers.items()), body, self.client_address[1]))
                self._body = body
                if expected is None or self.headers.get("Proxy-Authorization") == expected:
                    return True
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="test proxy"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False

            def _forward(self) -> None:
                if not self._record():
                    return
                parts = urlsplit(self.path)
                if not parts.hostname:
                    self.send_error(400, "a proxy wants an absolute URI")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
                try:
                    path = parts.path + (f"?{parts.query}" if parts.query else "")
                    upstream.request(self.command, path or "/", body=self._body or None, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward  # noqa: N815 - http.server's names

            def do_CONNECT(self) -> None:
                if not self._record():
                    return
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host, int(port)), timeout=10)
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True
                proxy._relay(self.connection, upstream)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        """Copy bytes both ways until one side closes (the tunnel knows nothing of TLS)."""
        with upstream:
            while not self.stopping.is_set():
                readable, _, _ = select.select([client, upstream], [], [], 0.1)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def forward_proxy() -> Iterator[ForwardProxy]:
    proxy = ForwardProxy()
    yield proxy
    proxy.close()


@pytest.fixture
def strict_proxy() -> Iterator[ForwardProxy]:
    """A proxy that answers 407 unless it gets Basic svc@corp / p:ss wörd."""
    proxy = ForwardProxy(("svc@corp", "p:ss wörd"))
    yield proxy
    proxy.close()


def connection(url: str, proxy: dict[str, object], **options: object) -> dict[str, dict[str, object]]:
    return {"Proxied": {"url": url, "proxy": proxy, **options}}


def via(proxy: ForwardProxy, **options: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": proxy.port, **options}


def config(proxy: dict[str, object] | None) -> RestConfig:
    table: dict[str, object] = {"url": "https://api.example.com"}
    if proxy is not None:
        table["proxy"] = proxy
    return RestConfig.from_table("Proxied", table, base_dir=Path("."))


PROXY = {"host": "proxy.example.net", "port": 3128}


# -- the choice per URL --------------------------------------------------------------------------
def test_without_a_proxy_table_everything_goes_direct():
    assert proxies_for(config(None), "https://api.example.com/x") is None


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8080/", "http://LocalHost/", "http://127.0.0.1/", "http://127.9.8.7:1/",
     "http://[::1]:8080/", "http://[::ffff:127.0.0.1]/", "http://intranet/", "https://api.localhost/"],
)
def test_local_addresses_go_direct_by_default(url):
    assert proxies_for(config(PROXY), url) is None
    assert proxies_for(config({**PROXY, "bypass_local": False}), url) is not None


@pytest.mark.parametrize(
    "url",
    ["https://api.example.com/", "http://10.0.0.1/", "http://192.168.1.10/", "http://[2001:db8::1]/",
     "http://127.0.0.1.nip.io/", "http://[fe80::1]/"],
)
def test_other_addresses_go_through_the_proxy(url):
    assert proxies_for(config(PROXY), url) == {"http": "http://proxy.example.net:3128",
                                               "https": "http://proxy.example.net:3128"}


@pytest.mark.parametrize(
    ("url", "direct"),
    [
        ("https://build.internal.example/", True),
        ("https://A.B.Internal.Example/", True),
        ("https://internal.example/", False),  # a glob: *. needs a label before the dot
        ("https://build-07.corp.example/", True),
        ("https://build-107.corp.example/", False),
        ("https://api.example.com:8443/", True),
        ("https://api.example.com/", False),  # port 443 is not 8443
        ("http://10.1.2.3/", True),
        ("http://100.1.2.3/", False),
    ],
)
def test_bypass_globs(url, direct):
    patterns = ["*.internal.example", "build-??.corp.example", "api.example.com:8443", "10.*"]
    chosen = proxies_for(config({**PROXY, "bypass": patterns}), url)
    assert (chosen is None) is direct


def test_the_proxy_url_never_holds_credentials():
    proxy = config({"url": "http://svc%40corp:s3cr%3At@proxy.example.net:3128"}).proxy
    assert proxy is not None and (proxy.username, proxy.password) == ("svc@corp", "s3cr:t")
    assert proxy_url_for(proxy, "https://api.example.com/") == "http://proxy.example.net:3128"
    expected = base64.b64encode(b"svc@corp:s3cr:t").decode()
    assert proxy_authorization(proxy) == f"Basic {expected}"
    assert proxy_authorization(ProxyConfig("p", 1)) is None


def test_helpers_on_their_own():
    assert is_local_host("printer") and is_local_host("::1") and not is_local_host("2001:db8::1")
    assert bypassed(("*.example.com",), "www.example.com", None)
    assert not bypassed((), "www.example.com", 443)


# -- through the proxy ---------------------------------------------------------------------------
def test_requests_go_through_the_proxy_when_bypass_local_is_off(run_script, http_server, forward_proxy):
    http_server.route("/orders", Reply(body={"a": 1}))
    url = http_server.url("/orders?limit=5&q=%20x")
    script = SELECT + 'T: SQL SELECT "a" FROM JSON (wrap on) "root";\n'
    result = run_script(script, connections=connection(url, via(forward_proxy, bypass_local=False)))
    assert result.tables["T"]["a"].tolist() == [1, 1]
    first, second = forward_proxy.seen
    assert (first.method, first.target, first.version) == ("GET", url, "HTTP/1.1")
    assert first.header("Proxy-Authorization") is None
    assert first.port == second.port  # one persistent connection to the proxy
    assert [(r.path, r.query) for r in http_server.requests] == [("/orders", "limit=5&q=%20x")] * 2


def test_post_and_http_10_through_the_proxy(run_script, http_server, forward_proxy):
    http_server.route("/orders", Reply(body={"a": 1}))
    body = '{"name": "Zoë", "n": "%20+"}'
    options = {"method": "POST", "body": body, "http_version": "1.0", "keep_alive": False}
    run_script(SELECT, connections=connection(http_server.url("/orders"), via(forward_proxy, bypass_local=False),
                                              **options))
    (seen,) = forward_proxy.seen
    assert (seen.method, seen.version, seen.header("Connection")) == ("POST", "HTTP/1.0", "close")
    assert seen.body == body.encode() == http_server.requests[0].body


def test_proxy_credentials_go_to_the_proxy_only(run_script, http_server, strict_proxy):
    http_server.route("/orders", Reply(body={"a": 1}))
    proxy = via(strict_proxy, bypass_local=False, username="svc@corp", password="p:ss wörd")
    result = run_script(SELECT, connections=connection(http_server.url("/orders"), proxy))
    assert result.tables["T"]["a"].tolist() == [1]
    (seen,) = strict_proxy.seen
    assert seen.header("Proxy-Authorization") == "Basic " + base64.b64encode("svc@corp:p:ss wörd".encode()).decode()
    (request,) = http_server.requests
    assert request.header("Proxy-Authorization") is None and request.header("Authorization") is None


def test_credentials_written_in_the_proxy_url(run_script, http_server, strict_proxy):
    http_server.route("/orders", Reply(body={"a": 1}))
    proxy = {"url": f"http://svc%40corp:p%3Ass%20w%C3%B6rd@127.0.0.1:{strict_proxy.port}", "bypass_local": False}
    run_script(SELECT, connections=connection(http_server.url("/orders"), proxy))
    assert [s.header("Proxy-Authorization") is not None for s in strict_proxy.seen] == [True]
    assert len(http_server.requests) == 1


def test_without_credentials_nothing_is_sent_and_the_proxy_says_407(run_script, http_server, strict_proxy):
    http_server.route("/orders", Reply(body={"a": 1}))
    with pytest.raises(qscript.ScriptError) as info:
        run_script(SELECT, connections=connection(http_server.url("/orders"), via(strict_proxy, bypass_local=False)))
    assert info.value.code == 12 and "HTTP 407" in info.value.message
    (seen,) = strict_proxy.seen
    assert seen.header("Proxy-Authorization") is None
    assert http_server.requests == []


def test_bypass_local_sends_loopback_direct(run_script, http_server, forward_proxy):
    http_server.route("/orders", Reply(body={"a": 1}))
    run_script(SELECT, connections=connection(http_server.url("/orders"), via(forward_proxy)))
    assert forward_proxy.seen == []
    assert len(http_server.requests) == 1


@pytest.mark.parametrize(("patterns", "proxied"), [(["127.0.0.*"], 0), (["*.example.com", "10.*"], 1)])
def test_the_bypass_list(run_script, http_server, forward_proxy, patterns, proxied):
    http_server.route("/orders", Reply(body={"a": 1}))
    proxy = via(forward_proxy, bypass_local=False, bypass=patterns)
    run_script(SELECT, connections=connection(http_server.url("/orders"), proxy))
    assert len(forward_proxy.seen) == proxied
    assert len(http_server.requests) == 1


def test_the_choice_is_made_for_every_url(run_script, forward_proxy):
    """A redirect from a proxied host to a bypassed one: the second hop goes direct."""
    proxied, direct = LoopbackServer(), LoopbackServer()
    try:
        direct.route("/final", Reply(body={"a": 1}))
        proxied.route("/start", Reply(302, headers={"Location": direct.url("/final")}))
        port = direct.httpd.server_address[1]
        proxy = via(forward_proxy, bypass_local=False, bypass=[f"127.0.0.1:{port}"])
        result = run_script(SELECT, connections=connection(proxied.url("/start"), proxy, redirect_allowlist=["*"]))
        assert result.tables["T"]["a"].tolist() == [1]
        assert [s.target for s in forward_proxy.seen] == [proxied.url("/start")]
        assert [r.path for r in direct.requests] == ["/final"]
    finally:
        proxied.close()
        direct.close()


def test_https_goes_through_a_connect_tunnel(run_script, strict_proxy, tmp_path):
    tlskit = pytest.importorskip("tlskit")
    pki = tlskit.make_pki(tmp_path)
    target = tlskit.HttpsServer(tlskit.server_context(pki.server_cert, pki.server_key))
    try:
        target.route("/orders", Reply(body={"a": 1}))
        proxy = via(strict_proxy, bypass_local=False, username="svc@corp", password="p:ss wörd")
        options = {"tls": {"verify": "custom_ca", "ca_file": str(pki.ca)}}
        result = run_script(SELECT, connections=connection(target.url("/orders"), proxy, **options))
        assert result.tables["T"]["a"].tolist() == [1]
        (seen,) = strict_proxy.seen
        assert (seen.method, seen.target) == ("CONNECT", f"127.0.0.1:{target.httpd.server_address[1]}")
        assert seen.header("Proxy-Authorization") is not None
        (request,) = target.requests  # inside the tunnel: no proxy credentials
        assert request.header("Proxy-Authorization") is None
    finally:
        target.close()


def test_an_unreachable_proxy_fails_without_showing_the_password(run_script, http_server):
    with socket.socket() as placeholder:  # a port nobody listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    proxy = {"host": "127.0.0.1", "port": port, "bypass_local": False, "username": "u", "password": "Sup3rSecret"}
    with pytest.raises(qscript.ScriptError) as info:
        run_script(SELECT, connections=connection(http_server.url("/orders"), proxy))
    assert info.value.code == 12
    assert "Sup3rSecret" not in info.value.message
    assert "connection 'Proxied'" in info.value.message
    assert http_server.requests == []
