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
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd

import qscript
from qscript.connectors.connections import load_connections
from qscript.testing.server import LoopbackServer, ReceivedRequest, Reply

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
    """The sample API. ``base`` is its URL while it runs (served by qscript.testing's loopback
    server, the one the pytest fixtures use)."""

    def __init__(self) -> None:
        self.meta_calls = 0
        self._server: LoopbackServer | None = None

    @property
    def base(self) -> str:
        assert self._server is not None, "the API runs inside 'with DemoApi() as api'"
        return self._server.base

    def __enter__(self) -> DemoApi:
        self._server = LoopbackServer(self._answer)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.close()

    def _answer(self, request: ReceivedRequest) -> Reply:
        route = self.routes().get(request.path)
        status, content_type, body = route(request) if route else (404, "text/plain", "not found")
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return Reply(status, {"Content-Type": content_type}, payload)

    def routes(self) -> dict[str, Callable[[ReceivedRequest], tuple[int, str, object]]]:
        return {
            "/orders": self._orders,
            "/odata/Products": self._products,
            "/items": self._items,
            "/meta": self._meta,
            "/token": lambda _request: (200, "application/json", {"access_token": TOKEN}),
            "/data": self._data,
            "/feed.xml": lambda _request: (200, "application/xml", XML_FEED),
            "/feed.csv": lambda _request: (200, "text/csv", CSV_FEED),
        }

    def _orders(self, request: ReceivedRequest) -> tuple[int, str, object]:
        page = int(request.params.get("page", "1"))
        body: dict = {"data": ORDERS[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], "links": {}}
        if page * PAGE_SIZE < len(ORDERS):
            body["links"]["next"] = {"href": f"{self.base}/orders?page={page + 1}"}
        return 200, "application/json", body

    def _products(self, request: ReceivedRequest) -> tuple[int, str, object]:
        start = int(request.params.get("$skiptoken") or 0)
        body: dict = {"value": PRODUCTS[start : start + 3]}
        if start + 3 < len(PRODUCTS):
            body["@odata.nextLink"] = f"{self.base}/odata/Products?$skiptoken={start + 3}"
        return 200, "application/json", body

    def _items(self, request: ReceivedRequest) -> tuple[int, str, object]:
        limit = min(int(request.params.get("limit", "25")), 25)
        offset = int(request.params.get("offset", "0"))
        return 200, "application/json", ITEMS[offset : offset + limit]

    def _meta(self, _request: ReceivedRequest) -> tuple[int, str, object]:
        self.meta_calls += 1
        if self.meta_calls % 3:
            return 503, "text/plain", "busy, try again"
        return 200, "application/json", [{"name": "version", "value": "2024.1"}]

    def _data(self, request: ReceivedRequest) -> tuple[int, str, object]:
        if request.header("Authorization") != f"Bearer {TOKEN}":
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
