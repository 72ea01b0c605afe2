"""Requests on the wire, seen from raw TCP servers on 127.0.0.1: timeouts, bodies, HTTP
version, persistent connections and the Expect: 100-continue handshake.

The servers here read bytes off the socket themselves (http.server would hide the request
line's version, the client port and when each byte arrived), and every one is closed at
the end of its test.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

import qscript
from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.wire import CONTINUE_WAIT, WireAdapter, WireOptions, build_session

SELECT = 'LIB CONNECT TO \'Wire\';\nT: SQL SELECT "a" FROM JSON (wrap on) "root";\n'
TWO_SELECTS = SELECT + 'T: SQL SELECT "a" FROM JSON (wrap on) "root";\n'  # concatenates into T
OK_JSON = b'{"a": 1}'


@dataclass
class Seen:
    """One request as it arrived: client port, request line, headers, body."""

    port: int
    line: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def version(self) -> str:
        return self.line.rsplit(" ", 1)[-1]


@dataclass
class Peer:
    """One accepted connection with a read buffer, so head and body can be read apart."""

    sock: socket.socket
    port: int
    buffer: bytes = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def read_head(self) -> Seen | None:
        """The next request's line and headers; None when the client closed."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        line, *rows = head.decode("latin-1").split("\r\n")
        headers = [(k.strip(), v.strip()) for k, _, v in (row.partition(":") for row in rows)]
        return Seen(self.port, line, headers)

    def read_body(self, seen: Seen) -> bytes:
        length = int(seen.header("Content-Length") or 0)
        while len(self.buffer) < length:
            if not self._fill():
                break
        seen.body, self.buffer = self.buffer[:length], self.buffer[length:]
        return seen.body

    def readable_within(self, seconds: float) -> bool:
        """Whether the client sends anything (or closes) within ``seconds``."""
        if self.buffer or getattr(self.sock, "pending", lambda: 0)():  # TLS may hold decrypted bytes
            return True
        return bool(select.select([self.sock], [], [], seconds)[0])

    def read_until_closed(self, seconds: float) -> tuple[bytes, bool]:
        """Whatever arrives within ``seconds``, and whether the client closed meanwhile."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and self.readable_within(left):
            if not self._fill():
                data, self.buffer = self.buffer, b""
                return data, True
        data, self.buffer = self.buffer, b""
        return data, False

    def answer(self, status: str = "200 OK", body: bytes = OK_JSON, *extra: str) -> None:
        lines = [f"HTTP/1.1 {status}", "Content-Type: application/json", f"Content-Length: {len(body)}", *extra]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


class RawServer:
    """A TCP server on 127.0.0.1 (port 0); ``handle(peer, server)`` runs per connection."""

    def __init__(self, handle: Callable[[Peer, RawServer], None], tls: ssl.SSLContext | None = None) -> None:
        self.handle = handle
        self.tls = tls
        self.seen: list[Seen] = []
        self.events: list[str] = []
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self._peers: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def url(self, path: str = "/data") -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, (_, port) = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(10)
            self._peers.append(sock)
            thread = threading.Thread(target=self._run, args=(Peer(sock, port),), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, peer: Peer) -> None:
        try:
            if self.tls is not None:
                peer.sock = self.tls.wrap_socket(peer.sock, server_side=True)
            self.handle(peer, self)
        except OSError:
            pass  # the client went away: that is for the test's assertions to judge
        finally:
            peer.sock.close()

    def wait(self, seconds: float = 5) -> None:
        """Let the handlers finish (they end when the client closes)."""
        for thread in list(self._threads):
            thread.join(seconds)

    def close(self) -> None:
        self.stopping.set()
        self._acceptor.join(5)
        self.listener.close()
        for sock in self._peers:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.wait()


def keep_serving(peer: Peer, server: RawServer) -> None:
    """Answer every request on the connection, keeping it open whatever the client says."""
    while (seen := peer.read_head()) is not None:
        peer.read_body(seen)
        server.seen.append(seen)
        peer.answer()


@pytest.fixture
def serve() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(handle: Callable[[Peer, RawServer], None] = keep_serving, tls: ssl.SSLContext | None = None) -> RawServer:
        servers.append(RawServer(handle, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def connection(url: str, **options: object) -> dict[str, dict[str, object]]:
    return {"Wire": {"url": url, **options}}


def failure(run_script, script: str, connections: dict) -> qscript.ScriptError:
    with pytest.raises(qscript.ScriptError) as info:
        run_script(script, connections=connections)
    assert info.value.code == 12
    return info.value


# -- timeouts ------------------------------------------------------------------------------------
@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A loopback port whose accept queue is full, so a new connection never opens.

    Linux drops a SYN while the listener's accept queue is full (listen(0) holds one
    connection); the client retransmits and its connect() times out. Filler connections
    are opened until one stays pending, which proves the queue is full.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(64):
            filler = socket.socket()
            filler.setblocking(False)
            fillers.append(filler)
            filler.connect_ex(("127.0.0.1", port))
            if not select.select([], [filler], [], 0.3)[1]:
                break  # this one is not accepted by the kernel: the queue is full
        else:
            pytest.skip("this kernel completes every loopback connection; no way to make connect() hang")
        yield port
    finally:
        for sock in [*fillers, listener]:
            sock.close()


def test_connection_timeout_has_its_own_message(run_script, unaccepting_port):
    url = f"http://127.0.0.1:{unaccepting_port}/data"
    started = time.monotonic()
    error = failure(run_script, SELECT, connection(url, connection_timeout=1, read_timeout=30))
    assert "connection timed out after 1 s (connection_timeout)" in error.message
    assert "connection 'Wire'" in error.message and url in error.message
    assert time.monotonic() - started < 10


def test_read_timeout_when_the_server_accepts_and_never_answers(run_script, serve):
    def silent(peer: Peer, server: RawServer) -> None:
        if peer.read_head() is not None:
            server.events.append("request")
        server.stopping.wait(10)

    server = serve(silent)
    started = time.monotonic()
    error = failure(run_script, SELECT, connection(server.url(), connection_timeout=30, read_timeout=1))
    assert "no data within 1 s (read_timeout)" in error.message
    assert "connection timed out" not in error.message
    assert server.events == ["request"]
    assert 0.9 < time.monotonic() - started < 10


def test_read_timeout_while_the_body_streams(run_script, serve):
    def stalls(peer: Peer, server: RawServer) -> None:
        peer.read_head()
        peer.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\": ")
        server.stopping.wait(10)

    error = failure(run_script, SELECT, connection(serve(stalls).url(), read_timeout=1))
    assert "no data within 1 s (read_timeout)" in error.message


# -- methods and bodies --------------------------------------------------------------------------
def test_get_sends_no_body(run_script, serve):
    server = serve()
    run_script(SELECT, connections=connection(server.url("/data?x=%20y")))
    (seen,) = server.seen
    assert seen.line == "GET /data?x=%20y HTTP/1.1"
    assert seen.body == b""
    assert seen.header("Content-Length") is None and seen.header("Transfer-Encoding") is None
    assert seen.header("Expect") is None


@pytest.mark.parametrize(
    "body",
    ['{"name": "Zoë", "note": "a;b \\"q\\""}', "a=1&b=%20x+y&c=%C3%A9", "<r>\r\n  <x>ü</x>\r\n</r>\r\n"],
    ids=["json", "form", "xml-crlf"],
)
def test_post_body_goes_out_verbatim(run_script, serve, body):
    server = serve()
    run_script(SELECT, connections=connection(server.url(), method="POST", body=body))
    (seen,) = server.seen
    assert seen.line == "POST /data HTTP/1.1"
    assert seen.body == body.encode("utf-8")
    assert seen.header("Content-Length") == str(len(body.encode("utf-8")))
    assert seen.header("Transfer-Encoding") is None and seen.header("Content-Type") is None


def test_with_connection_body_goes_out_verbatim(run_script, serve):
    server = serve()
    script = SELECT.replace('"root";', '"root" WITH CONNECTION (BODY "$(vBody)");')
    script = "LET vBody = 'q=' & Chr(39) & 'x y' & Chr(39) & '&n=%2B1 – ok';\n" + script
    run_script(script, connections=connection(server.url(), method="POST", body="default", allow_with_connection=True))
    (seen,) = server.seen
    assert seen.body == "q='x y'&n=%2B1 – ok".encode()


# -- HTTP version and persistent connections -----------------------------------------------------
def test_http_11_by_default_and_two_selects_share_one_tcp_connection(run_script, serve):
    server = serve()
    result = run_script(TWO_SELECTS, connections=connection(server.url()))
    assert result.tables["T"]["a"].tolist() == [1, 1]
    first, second = server.seen
    assert first.version == second.version == "HTTP/1.1"
    assert first.port == second.port  # one client port: one TCP connection


def test_keep_alive_false_is_ignored_with_http_11(run_script, serve):
    server = serve()
    run_script(TWO_SELECTS, connections=connection(server.url(), keep_alive=False))
    first, second = server.seen
    assert first.port == second.port
    assert first.header("Connection") != "close"


def test_http_10_with_keep_alive(run_script, serve):
    server = serve()
    run_script(TWO_SELECTS, connections=connection(server.url(), http_version="1.0", keep_alive=True))
    first, second = server.seen
    assert first.line == "GET /data HTTP/1.0"
    assert first.header("Connection") == "keep-alive"
    assert first.header("Host") == f"127.0.0.1:{server.port}"  # virtual hosts need it in 1.0 too
    assert first.port == second.port


def test_http_10_without_keep_alive_closes_after_each_answer(run_script, serve):
    server = serve()  # keeps every connection open: the client must drop it itself
    run_script(TWO_SELECTS, connections=connection(server.url(), http_version="1.0", keep_alive=False))
    first, second = server.seen
    assert first.version == second.version == "HTTP/1.0"
    assert first.header("Connection") == second.header("Connection") == "close"
    assert first.port != second.port


def test_http_10_post_sends_the_body_with_content_length(run_script, serve):
    server = serve()
    options = {"http_version": "1.0", "method": "POST", "body": "x=1", "expect_100_continue": True}
    run_script(SELECT, connections=connection(server.url(), **options))
    (seen,) = server.seen
    assert seen.line == "POST /data HTTP/1.0"
    assert seen.body == b"x=1" and seen.header("Content-Length") == "3"
    assert seen.header("Expect") is None  # HTTP/1.0 has no interim answers


# -- Expect: 100-continue ------------------------------------------------------------------------
POST = {"method": "POST", "body": '{"q": 1}', "expect_100_continue": True}


@pytest.fixture(params=["http", "https"])
def scheme(request, tmp_path) -> tuple[ssl.SSLContext | None, dict[str, object]]:
    """Plain, or TLS (where the client reads the interim answer through the TLS layer, past
    TLS 1.3 session tickets): the server's context and the connection's tls options."""
    if request.param == "http":
        return None, {}
    tlskit = pytest.importorskip("tlskit")
    pki = tlskit.make_pki(tmp_path)
    context = tlskit.server_context(pki.server_cert, pki.server_key)
    return context, {"tls": {"verify": "custom_ca", "ca_file": str(pki.ca)}}


def test_expect_waits_for_100_before_sending_the_body(run_script, serve, scheme):
    def handshake(peer: Peer, server: RawServer) -> None:
        while (seen := peer.read_head()) is not None:
            server.seen.append(seen)
            server.events.append("headers")
            if peer.readable_within(0.3):
                server.events.append("body before 100")
            peer.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            server.events.append("100")
            peer.read_body(seen)
            server.events.append(f"body {seen.body.decode()}")
            peer.answer()

    context, tls = scheme
    server = serve(handshake, context)
    result = run_script(TWO_SELECTS, connections=connection(server.url(), **POST, **tls))
    assert result.tables["T"]["a"].tolist() == [1, 1]
    assert server.events == ['headers', '100', 'body {"q": 1}'] * 2
    first, second = server.seen
    assert first.header("Expect") == "100-continue"
    assert first.header("Content-Length") == "8"
    assert first.port == second.port  # the handshake leaves the connection reusable


@pytest.mark.parametrize(
    ("status", "text"), [("417 Expectation Failed", b"no expectations here"), ("401 Unauthorized", b"who are you")]
)
def test_a_final_answer_instead_of_100_means_the_body_is_never_sent(run_script, serve, scheme, status, text):
    def refuse(peer: Peer, server: RawServer) -> None:
        seen = peer.read_head()
        assert seen is not None
        server.seen.append(seen)
        peer.answer(status, text)
        seen.body, closed = peer.read_until_closed(CONTINUE_WAIT + 2)
        server.events.append("closed" if closed else "left open")

    context, tls = scheme
    server = serve(refuse, context)
    script = "SET ErrorMode = 0;\n" + SELECT + "LET e = Num(ScriptError);\n"
    result = run_script(script, connections=connection(server.url(), **POST, **tls))
    server.wait()
    assert result.variables["e"] == "12"
    details = result.variables["ScriptErrorDetails"]
    assert f"HTTP {status}" in details and text.decode() in details  # the whole answer was read
    (seen,) = server.seen
    assert seen.header("Expect") == "100-continue"
    assert seen.body == b""  # not a byte of the body, and the client closed the connection
    assert server.events == ["closed"]


def test_a_server_that_ignores_expect_gets_the_body_after_the_wait(run_script, serve, scheme):
    def ignores(peer: Peer, server: RawServer) -> None:
        seen = peer.read_head()
        assert seen is not None
        started = time.monotonic()
        peer.read_body(seen)
        server.events.append(f"{time.monotonic() - started:.1f}")
        server.seen.append(seen)
        peer.answer()

    context, tls = scheme
    server = serve(ignores, context)
    run_script(SELECT, connections=connection(server.url(), **POST, **tls))
    (seen,) = server.seen
    assert seen.body == b'{"q": 1}'
    assert CONTINUE_WAIT - 0.2 <= float(server.events[0]) < CONTINUE_WAIT + 2


def test_a_late_100_after_the_body_is_skipped(run_script, serve):
    def late(peer: Peer, server: RawServer) -> None:
        seen = peer.read_head()
        assert seen is not None
        peer.read_body(seen)
        server.seen.append(seen)
        peer.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        peer.answer()

    server = serve(late)
    result = run_script(SELECT, connections=connection(server.url(), **POST))
    assert result.tables["T"]["a"].tolist() == [1]
    assert server.seen[0].body == b'{"q": 1}'


def test_other_interim_answers_before_100_are_skipped(run_script, serve):
    def hints(peer: Peer, server: RawServer) -> None:
        seen = peer.read_head()
        assert seen is not None
        peer.sock.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
        if peer.readable_within(0.3):
            server.events.append("body before 100")
        peer.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        peer.read_body(seen)
        server.seen.append(seen)
        peer.answer()

    server = serve(hints)
    run_script(SELECT, connections=connection(server.url(), **POST))
    assert server.events == []
    assert server.seen[0].body == b'{"q": 1}'


def test_no_expect_header_without_the_option_or_without_a_body(run_script, serve):
    server = serve()
    run_script(SELECT, connections=connection(server.url(), method="POST", body="x=1"))
    run_script(SELECT, connections=connection(server.url(), expect_100_continue=True))
    run_script(SELECT, connections=connection(server.url(), method="POST", expect_100_continue=True))
    assert [s.header("Expect") for s in server.seen] == [None, None, None]
    assert [s.body for s in server.seen] == [b"x=1", b"", b""]


# -- the session ---------------------------------------------------------------------------------
def test_session_mounts_one_wire_adapter_for_both_schemes():
    session = build_session_for("https://api.example.com", http_version="1.0")
    adapter = session.get_adapter("https://api.example.com/x")
    assert isinstance(adapter, WireAdapter) and adapter is session.get_adapter("http://api.example.com/x")
    assert adapter.wire == WireOptions("1.0", True, False)
    assert session.trust_env is False
    session.close()


def test_wire_settings_stay_with_their_session(serve):
    """Two sessions with different settings side by side: nothing is patched globally."""
    server = serve()
    old = build_session_for(server.url(), http_version="1.0")
    new = build_session_for(server.url())
    try:
        for session in (old, new, old):
            session.get(server.url(), timeout=5).close()
    finally:
        old.close()
        new.close()
    assert [s.version for s in server.seen] == ["HTTP/1.0", "HTTP/1.1", "HTTP/1.0"]
    assert requests.Session().get_adapter("http://x/").__class__ is requests.adapters.HTTPAdapter


def build_session_for(url: str, **options: object) -> requests.Session:
    return build_session(RestConfig.from_table("Wire", {"url": url, **options}, base_dir=Path(".")))

