"""``qscript demo``: a bundled sample API on a free loopback port, and every sample run
against it.

The API is deterministic and small: orders paged by next links, an OData product list
with ``$skiptoken``, offset-paged items, a flaky endpoint that fails twice, a token
service with a protected endpoint, an XML feed and a CSV feed. It only listens on
127.0.0.1 and stops when the demo ends.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd

import qscript
from qscript.connectors.connections import load_connections

ORDERS = [
    {"id": i, "status": ("open", "paid", "shipped")[i % 3], "total": round(9.5 * i, 2),
     "created": f"2024-01-{i:02d}T10:{i:02d}:00", "tags": ["new", "vip"][: i % 3],
     "customer": {"id": 100 + i % 4, "name": ("Ann", "Bob", "Cy", "Di")[i % 4],
                  "address": {"city": ("Lund", "Oslo", "Riga", "Bonn")[i % 4], "country": "EU"}},
     "items": [{"sku": f"SKU-{i}-{k}", "qty": k + 1, "price": 2.5 * (k + 1)} for k in range(1 + i % 3)]}
    for i in range(1, 13)
]
PRODUCTS = [{"ProductID": i, "ProductName": f"Product {i}", "UnitPrice": 1.25 * i} for i in range(1, 8)]
ITEMS = [{"id": i, "name": f"item-{i:03d}"} for i in range(1, 61)]
XML_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="urn:qscript:demo" updated="2024-01-31">
  <title>Exchange rates</title>
  <rate currency="EUR" date="2024-01-31">1.0</rate>
  <rate currency="SEK" date="2024-01-31">11.28</rate>
  <rate currency="USD" date="2024-01-31">1.08</rate>
</feed>
"""
CSV_FEED = "date;city;temperature\n2024-01-29;Lund;-2.5\n2024-01-30;Lund;0.5\n2024-01-31;Oslo;-7\n"
PAGE_SIZE = 5
TOKEN = "demo-token-2024"


class DemoApi:
    """The sample API. ``base`` is its URL while it runs."""

    def __init__(self) -> None:
        self.meta_calls = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                route = api.routes().get(parts.path)
                status, content_type, body = route(query, self.headers) if route else (404, "text/plain", "not found")
                payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's names

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> DemoApi:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def routes(self) -> dict[str, Callable[..., tuple[int, str, object]]]:
        return {
            "/orders": self._orders,
            "/odata/Products": self._products,
            "/items": self._items,
            "/meta": self._meta,
            "/token": lambda _q, _h: (200, "application/json", {"access_token": TOKEN}),
            "/data": self._data,
            "/feed.xml": lambda _q, _h: (200, "application/xml", XML_FEED),
            "/feed.csv": lambda _q, _h: (200, "text/csv", CSV_FEED),
        }

    def _orders(self, query: dict[str, str], _headers: object) -> tuple[int, str, object]:
        page = int(query.get("page", "1"))
        body: dict = {"data": ORDERS[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], "links": {}}
        if page * PAGE_SIZE < len(ORDERS):
            body["links"]["next"] = {"href": f"{self.base}/orders?page={page + 1}"}
        return 200, "application/json", body

    def _products(self, query: dict[str, str], _headers: object) -> tuple[int, str, object]:
        start = int(query.get("$skiptoken") or 0)
        body: dict = {"value": PRODUCTS[start : start + 3]}
        if start + 3 < len(PRODUCTS):
            body["@odata.nextLink"] = f"{self.base}/odata/Products?$skiptoken={start + 3}"
        return 200, "application/json", body

    def _items(self, query: dict[str, str], _headers: object) -> tuple[int, str, object]:
        limit = min(int(query.get("limit", "25")), 25)
        offset = int(query.get("offset", "0"))
        return 200, "application/json", ITEMS[offset : offset + limit]

    def _meta(self, _query: dict[str, str], _headers: object) -> tuple[int, str, object]:
        self.meta_calls += 1
        if self.meta_calls % 3:
            return 503, "text/plain", "busy, try again"
        return 200, "application/json", [{"name": "version", "value": "2024.1"}]

    def _data(self, _query: dict[str, str], headers: object) -> tuple[int, str, object]:
        if headers.get("Authorization") != f"Bearer {TOKEN}":  # type: ignore[attr-defined]
            return 401, "text/plain", "token expired"
        return 200, "application/json", {"items": [{"id": 1, "label": "alpha"}, {"id": 2, "label": "beta"}]}


def samples_dir() -> Path:
    """The samples shipped in the wheel, else the checkout's samples/ folder."""
    shipped = Path(__file__).resolve().parent / "samples"
    return shipped if shipped.is_dir() else Path(__file__).resolve().parents[1] / "samples"


def preview(frame: pd.DataFrame, rows: int) -> str:
    with pd.option_context("display.width", 120, "display.max_columns", 12):
        return frame.head(rows).to_string(index=False)


def run_demo(rows: int = 3, out: Callable[[str], None] = print) -> int:
    """Start the API, run every sample against it, print each table. Returns the failures."""
    folder = samples_dir()
    failures = 0
    with DemoApi() as api:
        environ = dict(os.environ, QSCRIPT_DEMO_URL=api.base)
        connections = load_connections(folder / "connections.toml", environ=environ)
        for script in sorted(folder.glob("*.qvs")):
            out(f"== {script.name}")
            try:
                result = qscript.run_file(script, connections=connections, variables={"vBaseUrl": api.base},
                                          clock=_NoSleepClock())
            except qscript.QScriptError as exc:
                out(f"   failed: {exc}")
                failures += 1
                continue
            if not result.tables:
                out("   (no tables)")
            for name, frame in result.tables.items():
                out(f"   {name}: {len(frame)} rows")
                for line in preview(frame, rows).splitlines():
                    out(f"     {line}")
    out(f"{failures} samples failed" if failures else "all samples ran")
    return failures


class _NoSleepClock:
    """The demo does not wait for SLEEP statements."""

    def now(self) -> datetime:
        return datetime.now()

    def sleep(self, seconds: float) -> None:
        pass
