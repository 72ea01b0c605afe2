"""A real HTTP server on 127.0.0.1 for connector tests, run in a thread per test.

Routes answer with fixed responses or with a function of the request; every request is
recorded (method, path, query string, headers, body) so tests assert what was sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from qscript.testing import server as served


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | object = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        body = self.body
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        return body, headers  # type: ignore[return-value]


Handler = Callable[[Recorded], Reply]


class LoopbackServer(served.LoopbackServer):
    """``server.route("/path", Reply(...))`` or ``server.route("/path", fn)``; ``server.url("/p")``.

    The socket, threads and HTTP handling are qscript.testing's loopback server (the one the
    pytest plugin serves cassettes with); this adds routes and the record of requests.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Recorded] = []
        super().__init__(self._dispatch)

    def _dispatch(self, received: served.ReceivedRequest) -> served.Reply:
        recorded = Recorded(received.method, received.path, received.query_string, received.headers, received.body)
        self.requests.append(recorded)
        handler = self.routes.get((received.method, received.path)) or self.routes.get(("*", received.path))
        reply = handler(recorded) if handler else Reply(404, "not found")
        payload, headers = reply.encoded()
        return served.Reply(reply.status, headers, payload)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def route(self, path: str, reply: Reply | Handler, method: str = "*") -> None:
        self.routes[(method, path)] = reply if callable(reply) else (lambda _r, reply=reply: reply)
