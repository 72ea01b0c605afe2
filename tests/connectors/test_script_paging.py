"""The paging loops people write, run from samples/ against loopback servers."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
from httpkit import Reply
from pandas.testing import assert_frame_equal

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def param(request, name: str, default: str | None = None) -> str | None:
    return parse_qs(request.query).get(name, [default])[0]


def ints(*values):
    return pd.Series(values, dtype="int64")


def texts(*values):
    return pd.Series(values, dtype="string")


def test_next_url_loop_with_peek_and_subfield(run_script, http_server):
    orders = [{"id": i, "status": "open" if i % 2 else "paid", "total": i * 10} for i in range(1, 6)]

    def handler(request):
        page = int(param(request, "page"))
        body = {"data": orders[(page - 1) * 2:][:2], "links": {}}
        if page < 3:  # the next link points elsewhere: only its query string is used
            body["links"]["next"] = {"href": f"https://api.example.invalid/v1/orders?page={page + 1}"}
        return Reply(body=body)

    http_server.route("/orders", handler)
    result = run_script(
        sample("paging_next_url.qvs"),
        variables={"vBaseUrl": http_server.base},
        connections={"Orders API": {"url": http_server.url("/orders"), "allow_with_connection": True}},
    )
    assert_frame_equal(result.tables["Orders"], pd.DataFrame({
        "OrderId": ints(1, 2, 3, 4, 5), "Status": texts("open", "paid", "open", "paid", "open"),
        "Total": ints(10, 20, 30, 40, 50), "Page": ints(1, 1, 2, 2, 3)}))
    assert [r.query for r in http_server.requests] == ["page=1", "page=2", "page=3"]
    assert result.log[-1] == "Loaded 5 orders in 3 pages"


def test_odata_skiptoken_loop(run_script, http_server):
    products = [{"ProductID": i, "ProductName": f"P{i}"} for i in range(1, 6)]

    def handler(request):
        token = param(request, "$skiptoken")
        start = 0 if token is None else int(token)
        body = {"value": products[start:][:2]}
        if start + 2 < len(products):
            body["@odata.nextLink"] = f"{http_server.url('/odata/Products')}?$format=json&$skiptoken={start + 2}"
        return Reply(body=body)

    http_server.route("/odata/Products", handler)
    result = run_script(
        sample("paging_odata.qvs"),
        connections={"OData": {"url": http_server.url("/odata/Products"), "allow_with_connection": True}},
    )
    assert_frame_equal(result.tables["Products"], pd.DataFrame({
        "ProductID": ints(1, 2, 3, 4, 5), "ProductName": texts("P1", "P2", "P3", "P4", "P5")}))
    assert [r.query for r in http_server.requests] == ["", "$skiptoken=2", "$skiptoken=4"]
    assert [line for line in result.log if line.startswith("next")] == ["next skip token: 2", "next skip token: 4"]


def test_offset_loop_stops_on_a_short_page(run_script, http_server):
    items = [{"id": i, "name": f"n{i}"} for i in range(1, 61)]
    http_server.route("/items", lambda r: Reply(body=items[int(param(r, "offset")):][:int(param(r, "limit"))]))
    result = run_script(
        sample("paging_offset.qvs"),
        variables={"vBaseUrl": http_server.base},
        connections={"Items": {"url": http_server.url("/items"), "allow_with_connection": True}},
    )
    table = result.tables["Items"]
    assert table["ItemId"].tolist() == list(range(1, 61))
    assert [r.query for r in http_server.requests] == [
        "limit=25&offset=0", "limit=25&offset=25", "limit=25&offset=50"]


def test_retry_loop_under_error_mode_0(run_script, http_server, clock):
    calls = {"n": 0}

    def handler(_request):
        calls["n"] += 1
        if calls["n"] < 3:
            return Reply(503, "busy")
        return Reply(body=[{"name": "version", "value": "1.2"}])

    http_server.route("/meta", handler)
    result = run_script(
        sample("retry_on_error.qvs"),
        variables={"vBaseUrl": http_server.base},
        connections={"Flaky API": {"url": http_server.url("/meta"), "allow_with_connection": True}},
    )
    assert_frame_equal(result.tables["Meta"], pd.DataFrame({
        "MetaName": texts("version"), "MetaValue": texts("1.2"), "Attempt": ints(3)}))
    assert clock.sleeps == [1.0, 1.0]
    traces = [line for line in result.log if line.startswith("Attempt")]
    assert traces == [f"Attempt {n} failed (ScriptError 12), trying again" for n in (1, 2)]
    assert result.error_count == 2


def test_token_refresh_sub_called_with_script_error(run_script, http_server):
    issued = []

    def token(request):
        assert json.loads(request.body) == {"client": "qscript"}
        issued.append(f"tok{len(issued) + 1}")
        return Reply(body={"access_token": issued[-1]})

    def data(request):
        if request.header("Authorization") != f"Bearer {issued[-1] if issued else 'none'}":
            return Reply(401, "token expired")
        return Reply(body={"items": [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}]})

    http_server.route("/token", token)
    http_server.route("/data", data)
    result = run_script(
        sample("token_refresh.qvs"),
        variables={"vBaseUrl": http_server.base},
        connections={
            "Auth": {"url": http_server.url("/token"), "method": "POST", "allow_with_connection": True},
            "Data API": {"url": http_server.url("/data"), "allow_with_connection": True},
        },
    )
    assert_frame_equal(result.tables["Items"], pd.DataFrame({"ItemId": ints(1, 2), "Label": texts("a", "b")}))
    assert [(r.path, r.header("Authorization")) for r in http_server.requests] == [
        ("/data", "Bearer expired"), ("/token", None), ("/data", "Bearer tok1")]
    assert "request failed with ScriptError 12, refreshing the token" in result.log
