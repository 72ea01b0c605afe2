"""Benchmark: a paged REST API into three tables, qscript against requests + orjson + pandas (and dlt).

A local API on 127.0.0.1 serves N generated orders in P pages of JSON, each page linking to
the next (``links.next.href``). qscript runs the script Qlik's wizard and Qlik's own apps
write: a DO ... LOOP that calls the page in ``vUrl`` WITH CONNECTION, a nested SQL SELECT
into RestConnectorMasterTable, RESIDENT splits into Orders, Customers and Items
(Concatenate across pages, keys made unique with the page counter), the next URL read
with Peek from a NextLink table. The baseline follows the same links with one requests
Session, orjson and pandas and builds the same three tables. dlt's rest_api source into
DuckDB is timed too when dlt is installed (it is not a dependency of qscript). Page bodies
are rendered before timing, so the server is not what is measured. Peak memory is
measured with tracemalloc in separate runs (tracing slows Python; no traced run is timed).

Run: python bench/bench_rest.py [--orders N] [--pages N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import orjson
import pandas as pd
import requests
from benchkit import peak_memory, timed

import qscript

STATUSES = ("open", "paid", "shipped", "delivered", "cancelled")
CITIES = (
    ("Stockholm", "Sweden"),
    ("Malmö", "Sweden"),
    ("Berlin", "Germany"),
    ("Hamburg", "Germany"),
    ("Paris", "France"),
    ("Lyon", "France"),
    ("Boston", "United States"),
    ("Austin", "United States"),
)
NAMES = ("Ann", "Bo", "Cy", "Dee", "Eva", "Finn", "Gus", "Hal", "Ida", "Jon")


def generate_pages(orders: int, pages: int, port: int) -> list[bytes]:
    """Deterministic orders, split into ``pages`` JSON bodies; every page but the last links on."""
    rng = random.Random(20240101)
    size = -(-orders // pages)
    bodies = []
    for page in range(1, pages + 1):
        data = []
        for n in range((page - 1) * size + 1, min(page * size, orders) + 1):
            items = [
                {
                    "sku": f"SKU-{rng.randrange(1, 5000):04d}",
                    "qty": rng.randint(1, 9),
                    "price": round(rng.uniform(1, 200), 2),
                }
                for _ in range(rng.randint(1, 4))
            ]
            customer = rng.randrange(1, 20000)
            city, country = CITIES[customer % len(CITIES)]
            data.append(
                {
                    "id": f"O{n:07d}",
                    "status": STATUSES[rng.randrange(len(STATUSES))],
                    "created": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
                    f"{rng.randint(0, 59):02d}:00Z",
                    "total": round(sum(i["qty"] * i["price"] for i in items), 2),
                    "customer": {
                        "id": f"C{customer:05d}",
                        "name": f"{NAMES[customer % 10]} {customer}",
                        "address": {"street": f"{customer % 97 + 1} Main Street", "city": city, "country": country},
                    },
                    "items": items,
                }
            )
        body: dict = {"data": data, "links": {}}
        if page < pages:
            body["links"]["next"] = {"href": f"http://127.0.0.1:{port}/orders?page={page + 1}"}
        bodies.append(orjson.dumps(body))
    return bodies


class OrdersApi:
    """``GET /orders?page=k`` from pre-rendered bodies, HTTP/1.1 keep-alive, in a thread on 127.0.0.1."""

    def __init__(self, orders: int, pages: int) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                page = int(parse_qs(parts.query).get("page", ["1"])[0])
                ok = parts.path == "/orders" and 1 <= page <= len(api.bodies)
                body = api.bodies[page - 1] if ok else b'{"error": "not found"}'
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.bodies = generate_pages(orders, pages, self.port)
        self.first_url = f"http://127.0.0.1:{self.port}/orders?page=1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> OrdersApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


SCRIPT = """
LIB CONNECT TO 'Orders';
LET vUrl = '$(vFirstUrl)';
LET vPage = 0;
Orders: LOAD * INLINE [OrderKey, OrderId, Status, Created, Total];
Customers: LOAD * INLINE [CustomerKey, OrderKey, CustomerId, CustomerName];
Addresses: LOAD * INLINE [CustomerKey, Street, City, Country];
Items: LOAD * INLINE [OrderKey, Sku, Qty, Price];
DO
  RestConnectorMasterTable:
  SQL SELECT
      "__KEY_root",
      (SELECT "id", "status", "created", "total", "__KEY_data", "__FK_data",
          (SELECT "id" AS "id_u0", "name", "__KEY_customer", "__FK_customer",
              (SELECT "street", "city", "country", "__FK_address" FROM "address" FK "__FK_address")
           FROM "customer" PK "__KEY_customer" FK "__FK_customer"),
          (SELECT "sku", "qty", "price", "__FK_items" FROM "items" FK "__FK_items")
       FROM "data" PK "__KEY_data" FK "__FK_data"),
      (SELECT "__KEY_links", "__FK_links",
          (SELECT "href", "__FK_next" FROM "next" FK "__FK_next")
       FROM "links" PK "__KEY_links" FK "__FK_links")
  FROM JSON (wrap on) "root" PK "__KEY_root"
  WITH CONNECTION (URL "$(vUrl)");

  Concatenate (Orders) LOAD [__KEY_data] & '|' & $(vPage) AS OrderKey, [id] AS OrderId,
      [status] AS Status, [created] AS Created, [total] AS Total
  RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_data]);
  Concatenate (Customers) LOAD [__KEY_customer] & '|' & $(vPage) AS CustomerKey,
      [__FK_customer] & '|' & $(vPage) AS OrderKey, [id_u0] AS CustomerId, [name] AS CustomerName
  RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_customer]);
  Concatenate (Addresses) LOAD [__FK_address] & '|' & $(vPage) AS CustomerKey,
      [street] AS Street, [city] AS City, [country] AS Country
  RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_address]);
  Concatenate (Items) LOAD [__FK_items] & '|' & $(vPage) AS OrderKey, [sku] AS Sku, [qty] AS Qty,
      [price] AS Price
  RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_items]);
  NextLink: LOAD [href] AS NextUrl RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_next]);
  DROP TABLE RestConnectorMasterTable;

  LET vUrl = Peek('NextUrl', 0, 'NextLink');
  LET vMore = NoOfRows('NextLink');
  DROP TABLE NextLink;
  LET vPage = $(vPage) + 1;
LOOP WHILE $(vMore) > 0;

LEFT JOIN (Customers) LOAD * RESIDENT Addresses;
DROP TABLE Addresses;
"""


def run_qscript(api: OrdersApi) -> dict[str, pd.DataFrame]:
    connections = {"Orders": {"url": api.first_url, "allow_with_connection": True}}
    result = qscript.run(SCRIPT, variables={"vFirstUrl": api.first_url}, connections=connections)
    return result.tables


def run_baseline(api: OrdersApi) -> dict[str, pd.DataFrame]:
    """What a Python developer writes by hand: follow the links, collect rows, build frames."""
    orders, customers, items = [], [], []
    url: str | None = api.first_url
    with requests.Session() as session:
        session.trust_env = False  # no proxies from the environment: 127.0.0.1 only
        while url:
            response = session.get(url, timeout=60)
            response.raise_for_status()
            doc = orjson.loads(response.content)
            for o in doc["data"]:
                orders.append((o["id"], o["status"], o["created"], o["total"]))
                c = o["customer"]
                a = c["address"]
                customers.append((o["id"], c["id"], c["name"], a["street"], a["city"], a["country"]))
                items.extend((o["id"], i["sku"], i["qty"], i["price"]) for i in o["items"])
            url = doc.get("links", {}).get("next", {}).get("href")
    return {
        "Orders": pd.DataFrame(orders, columns=["OrderId", "Status", "Created", "Total"]),
        "Customers": pd.DataFrame(
            customers, columns=["OrderId", "CustomerId", "CustomerName", "Street", "City", "Country"]
        ),
        "Items": pd.DataFrame(items, columns=["OrderId", "Sku", "Qty", "Price"]),
    }


def load_dlt():
    """dlt and a runner for its rest_api source, or the reason it is not available."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # never call home: 127.0.0.1 only
    try:
        import dlt
        import duckdb
        from dlt.sources.rest_api import rest_api_source
    except Exception as exc:  # any import failure means "not available"
        return None, f"{type(exc).__name__}: {exc}"

    def run_dlt(api: OrdersApi) -> dict[str, int]:
        with tempfile.TemporaryDirectory(prefix="bench_rest_dlt_") as tmp:
            source = rest_api_source(
                {
                    "client": {
                        "base_url": f"http://127.0.0.1:{api.port}/",
                        "paginator": {"type": "json_link", "next_url_path": "links.next.href"},
                    },
                    "resources": [
                        {
                            "name": "orders",
                            "endpoint": {"path": "orders", "params": {"page": 1}, "data_selector": "data"},
                        }
                    ],
                }
            )
            database = os.path.join(tmp, "orders.duckdb")
            pipeline = dlt.pipeline(
                pipeline_name="bench_rest",
                pipelines_dir=os.path.join(tmp, "pipelines"),
                destination=dlt.destinations.duckdb(database),
                dataset_name="bench",
            )
            pipeline.run(source)
            with duckdb.connect(database, read_only=True) as con:
                return {
                    name: con.execute(f"SELECT count(*) FROM bench.{name}").fetchone()[0]
                    for name in ("orders", "orders__items")
                }

    return run_dlt, ""


def check_same(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    """Same row counts, and the same ids, customers, cities, skus and quantities in the same order."""
    for name in ("Orders", "Customers", "Items"):
        assert len(got[name]) == len(expected[name]), (name, len(got[name]), len(expected[name]))
    order_ids = dict(zip(got["Orders"]["OrderKey"], got["Orders"]["OrderId"], strict=True))
    assert got["Orders"]["OrderId"].tolist() == expected["Orders"]["OrderId"].tolist()
    assert got["Orders"]["Total"].round(2).tolist() == expected["Orders"]["Total"].tolist()
    customers = got["Customers"]
    assert customers["OrderKey"].map(order_ids).tolist() == expected["Customers"]["OrderId"].tolist()
    for column in ("CustomerId", "City", "Country"):
        assert customers[column].tolist() == expected["Customers"][column].tolist(), column
    items = got["Items"]
    assert items["OrderKey"].map(order_ids).tolist() == expected["Items"]["OrderId"].tolist()
    assert items["Sku"].tolist() == expected["Items"]["Sku"].tolist()
    assert items["Qty"].astype("int64").tolist() == expected["Items"]["Qty"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dlt", action="store_true", help="skip the dlt comparison (it takes minutes)")
    args = parser.parse_args()

    run_dlt, dlt_reason = (None, "--no-dlt") if args.no_dlt else load_dlt()
    with OrdersApi(args.orders, args.pages) as api:
        q_time, q_tables = timed(lambda: run_qscript(api), args.repeat)
        b_time, b_tables = timed(lambda: run_baseline(api), args.repeat)
        check_same(q_tables, b_tables)
        d_time, d_counts = timed(lambda: run_dlt(api), args.repeat) if run_dlt else (None, None)
        q_peak = peak_memory(lambda: run_qscript(api))
        b_peak = peak_memory(lambda: run_baseline(api))
        d_peak = peak_memory(lambda: run_dlt(api)) if run_dlt else None
        size = sum(len(body) for body in api.bodies)

    rows = ", ".join(f"{name} {len(q_tables[name]):,}" for name in ("Orders", "Customers", "Items"))
    print(f"orders: {args.orders:,} in {args.pages} pages ({size / 2**20:.1f} MiB of JSON), best of {args.repeat}")
    print(f"rows: {rows} (qscript and baseline agree)")
    print(f"qscript DO-LOOP + SQL SELECT:     {q_time:8.3f} s   {q_time / b_time:6.2f}x")
    print(f"requests + orjson + pandas:       {b_time:8.3f} s   {1:6.2f}x")
    if d_counts is not None:
        counts = ", ".join(f"{name} {n:,}" for name, n in d_counts.items())
        print(f"dlt rest_api -> DuckDB:           {d_time:8.3f} s   {d_time / b_time:6.2f}x   ({counts})")
    else:
        print(f"dlt: not available ({dlt_reason})")
    verdict = "met" if q_time <= 1.5 * b_time else "missed"
    print(f"target: qscript within 1.5x of the hand-written baseline: {verdict} ({q_time / b_time:.2f}x)")
    line = f"peak memory: qscript {q_peak / 2**20:,.0f} MiB, baseline {b_peak / 2**20:,.0f} MiB"
    if d_peak is not None:
        line += f", dlt {d_peak / 2**20:,.0f} MiB (Python heap only, not DuckDB's)"
    print(line)


if __name__ == "__main__":
    main()
