"""A real HTTP server on 127.0.0.1 that replays a cassette, or records one from a live API.

Why a server and not a patched HTTP client: the script under test goes through qscript's
whole REST stack (connections, URL policy, retries, paging, decoding) exactly as it does
against the real API; only the address differs. The server runs in a thread; whatever
goes wrong there (an unmatched request, a live API that cannot be reached) is answered
with an error status so the script stops, and kept in :attr:`CassetteServer.problems`
for the test thread to report with a readable diff.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from qscript.redact import Redactor
from qscript.testing.cassette import (
    Cassette,
    Interaction,
    RecordedResponse,
    asked_request,
    explain_mismatch,
    matches,
    redact_values,
    replace_base,
    scrub_request,
    scrub_response,
)

#: The status an unmatched request gets: an unofficial 5xx that no default retry list holds.
UNMATCHED_STATUS = 599
#: Headers that describe one connection or one encoding, not the API: never forwarded or recorded.
_HOP_HEADERS = frozenset({"host", "connection", "keep-alive", "content-length", "transfer-encoding",
                          "accept-encoding", "content-encoding", "expect", "te", "upgrade",
                          "proxy-connection", "date", "server"})
#: Seconds a recorded request may take at the live API.
RECORD_TIMEOUT = 120.0


@dataclass
class ReceivedRequest:
    """One request the server got, as the test may want to assert on it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    query_string: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    @property
    def params(self) -> dict[str, str]:
        """The query as a dict (the last value wins for repeated names)."""
        return dict(self.query)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """An answer as the handler builds it; the server adds Content-Length."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reason: str | None = None


class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (a free port) that answers with ``handler``."""

    def __init__(self, handler: Callable[[ReceivedRequest], Reply]) -> None:
        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out in separate writes: without NODELAY, Nagle and
                # delayed ACKs add 40 ms to every response
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                received = ReceivedRequest(self.command, parts.path or "/",
                                           parse_qsl(parts.query, keep_blank_values=True), parts.query,
                                           dict(self.headers.items()), body)
                try:
                    reply = handler(received)
                except Exception as exc:  # a bug must reach the client, not hang it
                    reply = Reply(500, {"Content-Type": "text/plain"}, f"qscript_api: {exc!r}".encode())
                self.send_response(reply.status, reply.reason)
                for name, value in reply.headers.items():
                    if name.lower() not in _HOP_HEADERS:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        # a short poll: close() waits for the serving loop to notice, once per test
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="qscript-api", daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class CassetteServer:
    """Replays ``cassette``, or, once :meth:`record_from` named a live API, forwards each
    request there and appends the scrubbed interaction to ``cassette``."""

    def __init__(self, cassette: Cassette | None = None) -> None:
        self.cassette = cassette or Cassette()
        self.requests: list[ReceivedRequest] = []
        self.problems: list[str] = []
        self.used: set[int] = set()
        self.live_base: str | None = None
        self.scrub_fields: frozenset[str] = frozenset()
        self.redactor = Redactor()
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._respond)

    @property
    def base(self) -> str:
        return self._server.base

    def record_from(self, live_base: str, scrub_fields: Iterable[str] = ()) -> None:
        """Forward from now on; the cassette starts empty (a recording replaces the file)."""
        self.live_base = live_base.rstrip("/")
        self.scrub_fields = frozenset(scrub_fields)
        self.cassette = Cassette(source=self.cassette.source, recorded_from=Redactor().url(self.live_base))
        self.used.clear()

    def _respond(self, received: ReceivedRequest) -> Reply:
        with self._lock:
            self.requests.append(received)
            if self.live_base is not None:
                return self._record(received)
            return self._replay(received)

    def _replay(self, received: ReceivedRequest) -> Reply:
        for index, interaction in enumerate(self.cassette.interactions):
            if (index in self.used and not interaction.repeat) or not matches(
                    interaction.request, received.method, received.path, received.query, received.body):
                continue
            self.used.add(index)
            body, headers = interaction.response.encoded(self.base)
            return Reply(interaction.response.status, headers, body)
        asked = asked_request(received.method, received.path, received.query, received.body, received.headers)
        message = explain_mismatch(asked, self.cassette, self.used)
        self.problems.append(message)
        return Reply(UNMATCHED_STATUS, {"Content-Type": "text/plain; charset=utf-8"}, message.encode(),
                     "Unmatched Request (qscript cassette)")

    def _record(self, received: ReceivedRequest) -> Reply:
        assert self.live_base is not None
        url = self.live_base + received.path + (f"?{received.query_string}" if received.query_string else "")
        headers = {k: v for k, v in received.headers.items() if k.lower() not in _HOP_HEADERS}
        try:
            live = requests.request(received.method, url, headers=headers, data=received.body or None,
                                    allow_redirects=False, timeout=RECORD_TIMEOUT)
        except requests.RequestException as exc:
            message = f"qscript_api: recording {received.method} {self.redactor.url(url)} failed: {exc}"
            self.problems.append(self.redactor(message))
            return Reply(502, {"Content-Type": "text/plain; charset=utf-8"}, message.encode())
        kept = {k: v for k, v in live.headers.items() if k.lower() not in _HOP_HEADERS}
        asked = asked_request(received.method, received.path, received.query, received.body, headers)
        response = self._response(live.status_code, kept, live.content)
        self.cassette.interactions.append(Interaction(
            scrub_request(asked, self.redactor), scrub_response(response, self.scrub_fields, self.redactor)))
        # the script gets the live answer unscrubbed, but with links leading back here, as in replay
        body, reply_headers = response.encoded(self.base)
        return Reply(live.status_code, reply_headers, body, live.reason)

    def _response(self, status: int, headers: dict[str, str], content: bytes) -> RecordedResponse:
        """The live answer as cassette data: JSON when it parses, else text, else base64;
        the live base URL written as ``{{base}}`` so links lead back to the replay server."""
        assert self.live_base is not None
        headers = replace_base(headers, self.live_base)
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return RecordedResponse(status, headers, "", content)
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if "json" in content_type.lower():
            try:
                return RecordedResponse(status, headers, replace_base(json.loads(text), self.live_base))
            except json.JSONDecodeError:
                pass
        return RecordedResponse(status, headers, replace_base(text, self.live_base))

    def finished_cassette(self) -> Cassette:
        """The recording with every secret value seen during it masked everywhere."""
        with self._lock:
            redact_values(self.cassette, self.redactor)
            return self.cassette

    def unused(self) -> list[int]:
        return [i for i in range(len(self.cassette.interactions)) if i not in self.used]

    def close(self) -> None:
        self._server.close()
