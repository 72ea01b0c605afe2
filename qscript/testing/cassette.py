"""Cassettes: recorded HTTP interactions a test replays instead of calling a live API.

A cassette is a JSON file (docs/testing.md, "The cassette format")::

    {"version": 1,
     "interactions": [
       {"request": {"method": "GET", "path": "/orders", "query": {"page": "1"}},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                     "body": {"data": [...]}}}]}

Everything here is plain data and pure functions (parse, match, explain a mismatch, scrub
secrets), so the server and the fixture stay thin and the rules can be tested without
sockets. Keys are checked when a cassette is read: a misspelt ``"qurey"`` must fail
loudly instead of silently matching every query.
"""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from qscript.redact import MASK, Redactor, is_sensitive_name

FORMAT_VERSION = 1
#: A recorded value of exactly this text matches any value (secrets scrubbed in record mode).
WILDCARD = MASK
#: Written into recorded responses in place of the live API's base URL; replaced by the
#: loopback base URL when served, so absolute next-page links lead back to the fixture.
BASE_PLACEHOLDER = "{{base}}"

_INTERACTION_KEYS = {"request", "response", "repeat"}
_REQUEST_KEYS = {"method", "path", "query", "body", "body_base64", "headers"}
_RESPONSE_KEYS = {"status", "headers", "body", "body_base64"}

Pairs = list[tuple[str, str]]


class CassetteError(ValueError):
    """A cassette file that cannot be read; the message names the file and the key."""


@dataclass
class RecordedRequest:
    """What a test expects the script to ask. ``body`` is None (no body), text or JSON data."""

    method: str = "GET"
    path: str = "/"
    query: Pairs = field(default_factory=list)
    body: Any = None
    body_bytes: bytes | None = None  # from ``body_base64``
    headers: dict[str, str] = field(default_factory=dict)  # informational, never matched

    def lines(self) -> list[str]:
        """The request as lines for a readable diff: one line per query pair."""
        out = [f"{self.method} {self.path}"]
        out += [f"query {name}={value}" for name, value in self.query]
        if self.body_bytes is not None:
            out.append(f"body (base64) {base64.b64encode(self.body_bytes).decode()}")
        elif self.body is not None:
            out.append("body " + (self.body if isinstance(self.body, str) else _dump(self.body)))
        return out


@dataclass
class RecordedResponse:
    """What the server sends back. ``body`` is text (sent as is) or JSON data (serialised)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = ""
    body_bytes: bytes | None = None

    def encoded(self, base: str) -> tuple[bytes, dict[str, str]]:
        """Bytes and headers to send, with ``{{base}}`` replaced by the server's base URL."""
        headers = {name: value.replace(BASE_PLACEHOLDER, base) for name, value in self.headers.items()}
        if self.body_bytes is not None:
            return self.body_bytes, headers
        if isinstance(self.body, str):
            return self.body.replace(BASE_PLACEHOLDER, base).encode(), headers
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
        return _dump(self.body).replace(BASE_PLACEHOLDER, base).encode(), headers


@dataclass
class Interaction:
    """One request and its answer; used once, in file order, so the same request can get
    different answers (a 503, then a 200)."""

    request: RecordedRequest
    response: RecordedResponse
    repeat: bool = False  # answer any number of times instead of once


@dataclass
class Cassette:
    """Interactions plus where they came from (``source`` names the file in every message)."""

    interactions: list[Interaction] = field(default_factory=list)
    source: str = "<inline cassette>"
    recorded_from: str | None = None

    @classmethod
    def read(cls, path: Path) -> Cassette:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CassetteError(f"cassette {path}: not valid UTF-8 JSON: {exc}") from None
        return cls.from_data(data, source=str(path))

    @classmethod
    def from_data(cls, data: Any, source: str = "<inline cassette>") -> Cassette:
        if not isinstance(data, Mapping):
            raise CassetteError(f"cassette {source}: expected an object with 'interactions'")
        _no_unknown(source, "", data, {"version", "interactions", "recorded_from"})
        if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
            raise CassetteError(f"cassette {source}: version {data['version']!r} is not {FORMAT_VERSION}")
        items = data.get("interactions")
        if not isinstance(items, list):
            raise CassetteError(f"cassette {source}: 'interactions' must be a list")
        interactions = [_interaction(source, n, item) for n, item in enumerate(items, 1)]
        return cls(interactions, source, data.get("recorded_from"))

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": FORMAT_VERSION}
        if self.recorded_from:
            data["recorded_from"] = self.recorded_from
        data["interactions"] = [_interaction_data(i) for i in self.interactions]
        return data

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_data(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# -- reading ---------------------------------------------------------------------------------------
def _no_unknown(source: str, where: str, keys: Iterable[str], allowed: set[str]) -> None:
    for key in keys:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (allowed: {', '.join(sorted(allowed))})"
            raise CassetteError(f"cassette {source}: {where}key '{key}' is not a known key{hint}")


def _interaction(source: str, n: int, item: Any) -> Interaction:
    where = f"interaction {n}: "
    if not isinstance(item, Mapping) or "request" not in item or "response" not in item:
        raise CassetteError(f"cassette {source}: {where}needs 'request' and 'response'")
    _no_unknown(source, where, item, _INTERACTION_KEYS)
    req, resp = item["request"], item["response"]
    if not isinstance(req, Mapping) or not isinstance(resp, Mapping):
        raise CassetteError(f"cassette {source}: {where}'request' and 'response' must be objects")
    _no_unknown(source, where + "request ", req, _REQUEST_KEYS)
    _no_unknown(source, where + "response ", resp, _RESPONSE_KEYS)
    path = req.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise CassetteError(f"cassette {source}: {where}request 'path' must start with '/' (got {path!r})")
    status = resp.get("status", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise CassetteError(f"cassette {source}: {where}response 'status' must be 100 to 599 (got {status!r})")
    request = RecordedRequest(
        method=str(req.get("method", "GET")).upper(),
        path=path,
        query=_query_pairs(source, where, req.get("query", [])),
        body=req.get("body"),
        body_bytes=_base64(source, where + "request ", req.get("body_base64")),
        headers=_headers(source, where + "request ", req.get("headers", {})),
    )
    response = RecordedResponse(
        status=status,
        headers=_headers(source, where + "response ", resp.get("headers", {})),
        body=resp.get("body", ""),
        body_bytes=_base64(source, where + "response ", resp.get("body_base64")),
    )
    return Interaction(request, response, bool(item.get("repeat", False)))


def _query_pairs(source: str, where: str, query: Any) -> Pairs:
    """A query as written: ``{"page": "2", "tag": ["a", "b"]}`` or ``[["page", "2"], ...]``."""
    pairs: Pairs = []
    if isinstance(query, Mapping):
        for name, value in query.items():
            values = value if isinstance(value, list) else [value]
            pairs += [(str(name), _text(v)) for v in values]
        return pairs
    if isinstance(query, list) and all(isinstance(p, list | tuple) and len(p) == 2 for p in query):
        return [(str(name), _text(value)) for name, value in query]
    raise CassetteError(f"cassette {source}: {where}request 'query' must be an object or a list of [name, value]")


def _headers(source: str, where: str, headers: Any) -> dict[str, str]:
    if not isinstance(headers, Mapping):
        raise CassetteError(f"cassette {source}: {where}'headers' must be an object of name: text")
    return {str(name): _text(value) for name, value in headers.items()}


def _base64(source: str, where: str, text: Any) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise CassetteError(f"cassette {source}: {where}'body_base64' is not base64") from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _dump(value)


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _interaction_data(interaction: Interaction) -> dict[str, Any]:
    req, resp = interaction.request, interaction.response
    names = [name for name, _ in req.query]
    request: dict[str, Any] = {"method": req.method, "path": req.path}
    if req.query:
        request["query"] = dict(req.query) if len(set(names)) == len(names) else [list(p) for p in req.query]
    if req.body_bytes is not None:
        request["body_base64"] = base64.b64encode(req.body_bytes).decode()
    elif req.body is not None:
        request["body"] = req.body
    if req.headers:
        request["headers"] = req.headers
    response: dict[str, Any] = {"status": resp.status, "headers": resp.headers}
    if resp.body_bytes is not None:
        response["body_base64"] = base64.b64encode(resp.body_bytes).decode()
    else:
        response["body"] = resp.body
    data: dict[str, Any] = {"request": request, "response": response}
    if interaction.repeat:
        data["repeat"] = True
    return data


# -- matching --------------------------------------------------------------------------------------
def _same(recorded: Any, actual: Any) -> bool:
    """Equality where a recorded ``"***"`` stands for any value."""
    if recorded == WILDCARD:
        return True
    if isinstance(recorded, Mapping):
        return (isinstance(actual, Mapping) and set(recorded) == set(actual)
                and all(_same(recorded[k], actual[k]) for k in recorded))
    if isinstance(recorded, list):
        return (isinstance(actual, list) and len(recorded) == len(actual)
                and all(_same(r, a) for r, a in zip(recorded, actual, strict=True)))
    if isinstance(recorded, bool) or isinstance(actual, bool):  # true is not 1 in a cassette
        return recorded is actual
    return bool(recorded == actual)


def _grouped(pairs: Pairs) -> dict[str, list[str]]:
    """Query pairs by name: the order of different names does not matter, repeats keep theirs."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def path_matches(recorded: str, actual: str) -> bool:
    want, got = unquote(recorded).split("/"), unquote(actual).split("/")
    return len(want) == len(got) and all(_same(w, g) for w, g in zip(want, got, strict=True))


def query_matches(recorded: Pairs, actual: Pairs) -> bool:
    return _same(_grouped(recorded), _grouped(actual))


def body_matches(recorded: RecordedRequest, actual: bytes) -> bool:
    if recorded.body_bytes is not None:
        return recorded.body_bytes == actual
    if recorded.body is None:
        return not actual
    text = actual.decode("utf-8", errors="replace")
    if isinstance(recorded.body, str):
        if recorded.body == text:
            return True
        return WILDCARD in recorded.body and query_matches(_form(recorded.body), _form(text))
    try:
        return _same(recorded.body, json.loads(text))
    except json.JSONDecodeError:
        return False


def _form(text: str) -> Pairs:
    return parse_qsl(text, keep_blank_values=True)


def matches(recorded: RecordedRequest, method: str, path: str, query: Pairs, body: bytes) -> bool:
    return (recorded.method == method.upper() and path_matches(recorded.path, path)
            and query_matches(recorded.query, query) and body_matches(recorded, body))


def asked_request(method: str, path: str, query: Pairs, body: bytes, headers: Mapping[str, str]) -> RecordedRequest:
    """A received request in the cassette's own shape (so it can be diffed and recorded)."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return RecordedRequest(method.upper(), path, list(query), *_body_value(body, content_type), dict(headers))


def _body_value(body: bytes, content_type: str) -> tuple[Any, bytes | None]:
    if not body:
        return None, None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, body
    if "json" in content_type.lower():
        try:
            return json.loads(text), None
        except json.JSONDecodeError:
            pass
    return text, None


def explain_mismatch(asked: RecordedRequest, cassette: Cassette, used: set[int], limit: int = 3) -> str:
    """Why nothing answered: the request, then a diff against the closest recorded ones."""
    shown = f"{asked.method} {asked.path}" + (f"?{urlencode(asked.query, safe='*/:$')}" if asked.query else "")
    lines = [f"qscript_api: no recorded response for {shown}",
             f"  cassette: {cassette.source} ({len(cassette.interactions)} interactions)"]
    candidates = sorted(range(len(cassette.interactions)),
                        key=lambda i: (-_similarity(cassette.interactions[i].request, asked), i in used, i))[:limit]
    if not candidates:
        lines.append("  the cassette has no interactions (load one with qscript_api.load(...))")
        return "\n".join(lines)
    lines.append("  closest recorded requests (- recorded, + asked):")
    for index in candidates:
        interaction = cassette.interactions[index]
        same = matches(interaction.request, asked.method, asked.path, asked.query, _bytes_of(asked))
        note = " -- matches, but was already used (add \"repeat\": true to answer again)" if same else ""
        lines.append(f"  interaction {index + 1}{' (used)' if index in used else ''}{note}:")
        for line in difflib.ndiff(interaction.request.lines(), asked.lines()):
            if not line.startswith("?"):
                lines.append("    " + line)
    return "\n".join(lines)


def _bytes_of(request: RecordedRequest) -> bytes:
    if request.body_bytes is not None:
        return request.body_bytes
    if request.body is None:
        return b""
    return (request.body if isinstance(request.body, str) else _dump(request.body)).encode()


def _similarity(recorded: RecordedRequest, asked: RecordedRequest) -> float:
    """How alike two requests look: method, path, then query pairs (a pair with the same
    name but another value counts a little), then body. Only orders the diff's candidates."""
    score = 1.0 if recorded.method == asked.method else 0.0
    score += 2 * difflib.SequenceMatcher(None, recorded.path, asked.path).ratio()
    want, got = _grouped(recorded.query), _grouped(asked.query)
    if want or got:
        same = sum(_same(want[n], got[n]) for n in want if n in got)
        near = sum(1 for n in want if n in got) - same
        score += (same + 0.3 * near) / max(len(want), len(got))
    else:
        score += 1.0
    return score + (0.5 if body_matches(recorded, _bytes_of(asked)) else 0.0)


# -- scrubbing (record mode) -----------------------------------------------------------------------
def _scrub_pairs(pairs: Pairs, redactor: Redactor) -> Pairs:
    out = []
    for name, value in pairs:
        if value and is_sensitive_name(name):
            redactor.add([value])
            value = WILDCARD
        out.append((name, value))
    return out


def _scrub_json(data: Any, redactor: Redactor, secret: Callable[[str], bool]) -> Any:
    """``data`` with the values of fields whose names ``secret`` picks replaced by ``***``."""
    if isinstance(data, Mapping):
        out = {}
        for key, value in data.items():
            if value not in (None, "") and secret(key):
                if isinstance(value, str):
                    redactor.add([value])
                value = WILDCARD
            else:
                value = _scrub_json(value, redactor, secret)
            out[key] = value
        return out
    if isinstance(data, list):
        return [_scrub_json(item, redactor, secret) for item in data]
    return data


def scrub_request(request: RecordedRequest, redactor: Redactor) -> RecordedRequest:
    """Mask secrets a request carried (sensitive headers, query parameters, body fields) and
    teach the redactor their values, so the same values are masked everywhere else too."""
    headers = {}
    for name, value in request.headers.items():
        if value and is_sensitive_name(name):
            redactor.add([value, value.partition(" ")[2]])  # "Bearer abc" and "abc"
            value = WILDCARD
        headers[name] = value
    body = request.body
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    if isinstance(body, str) and "x-www-form-urlencoded" in content_type.lower():
        body = urlencode(_scrub_pairs(_form(body), redactor), safe="*")
    elif body is not None and not isinstance(body, str):
        body = _scrub_json(body, redactor, is_sensitive_name)
    return RecordedRequest(request.method, request.path, _scrub_pairs(request.query, redactor), body,
                           request.body_bytes, headers)


def scrub_response(response: RecordedResponse, fields: frozenset[str], redactor: Redactor) -> RecordedResponse:
    """Mask sensitive response headers (Set-Cookie...) and the JSON fields named in
    ``fields`` (``record_from(..., scrub_fields=[...])``). Body fields are not masked by
    the name rule: data such as ``OrderKey`` or ``AuthorName`` would be lost; secret
    *values* seen in requests are masked everywhere at write time instead."""
    headers = {n: (WILDCARD if v and is_sensitive_name(n) else v) for n, v in response.headers.items()}
    body = response.body
    if fields and not isinstance(body, str):
        body = _scrub_json(body, redactor, fields.__contains__)
    return RecordedResponse(response.status, headers, body, response.body_bytes)


def redact_values(cassette: Cassette, redactor: Redactor) -> None:
    """Mask every known secret value wherever it appears (a token echoed in a body, say)."""
    for interaction in cassette.interactions:
        req, resp = interaction.request, interaction.response
        req.path = redactor(req.path)
        req.query = [(n, redactor(v)) for n, v in req.query]
        req.headers = {n: redactor(v) for n, v in req.headers.items()}
        req.body = _redact_data(req.body, redactor)
        resp.headers = {n: redactor(v) for n, v in resp.headers.items()}
        resp.body = _redact_data(resp.body, redactor)


def _redact_data(data: Any, redactor: Redactor) -> Any:
    if isinstance(data, str):
        return redactor(data)
    if isinstance(data, Mapping):
        return {k: _redact_data(v, redactor) for k, v in data.items()}
    if isinstance(data, list):
        return [_redact_data(v, redactor) for v in data]
    return data


def replace_base(data: Any, live_base: str) -> Any:
    """Write the live base URL as ``{{base}}`` in recorded texts (links to further pages)."""
    if isinstance(data, str):
        return data.replace(live_base, BASE_PLACEHOLDER)
    if isinstance(data, Mapping):
        return {k: replace_base(v, live_base) for k, v in data.items()}
    if isinstance(data, list):
        return [replace_base(v, live_base) for v in data]
    return data
