"""Built-in pagination against a loopback server that records every request it gets."""

from __future__ import annotations

import tracemalloc
from urllib.parse import parse_qs

import pytest
from httpkit import Reply

import qscript

ITEMS = [{"id": i, "name": f"item{i}"} for i in range(1, 8)]  # 7 records

SELECT = """LIB CONNECT TO 'Paged';
T: SQL SELECT "__KEY_root", (SELECT "id", "name", "__KEY_data", "__FK_data" FROM "data" PK "__KEY_data" FK "__FK_data")
FROM JSON (wrap on) "root" PK "__KEY_root";
Items: LOAD id, name, __KEY_data RESIDENT T WHERE NOT IsNull(__FK_data);
DROP TABLE T;
"""


def param(request, name: str, default: str | None = None) -> str | None:
    return parse_qs(request.query).get(name, [default])[0]


def paged(server, pagination: dict, **options) -> dict:
    return {"Paged": {"url": server.url("/items"), "pagination": pagination, **options}}


def ids(result) -> list[int]:
    return result.tables["Items"]["id"].tolist()


def queries(server) -> list[str]:
    return [r.query for r in server.requests]


def test_offset_with_total(run_script, http_server):
    def handler(request):
        start, count = int(param(request, "offset")), int(param(request, "limit"))
        return Reply(body={"data": ITEMS[start : start + count], "meta": {"total": len(ITEMS)}})

    http_server.route("/items", handler)
    pagination = {"type": "offset", "start_param": "offset", "count_param": "limit", "count_value": 3,
                  "total_path": "meta/total"}
    result = run_script(SELECT, connections=paged(http_server, pagination))
    assert ids(result) == [1, 2, 3, 4, 5, 6, 7]
    assert queries(http_server) == ["offset=0&limit=3", "offset=3&limit=3", "offset=6&limit=3"]
    assert result.tables["Items"]["__KEY_data"].tolist() == [1, 2, 3, 4, 5, 6, 7]  # keys count across pages


def test_offset_in_headers_stops_on_empty_page(run_script, http_server):
    def handler(request):
        start, count = int(request.header("X-Start")), int(request.header("X-Count"))
        return Reply(body={"data": ITEMS[start : start + count]})

    http_server.route("/items", handler)
    pagination = {"type": "offset", "start_param": "X-Start", "start_in": "header", "count_param": "X-Count",
                  "count_value": 4}
    result = run_script(SELECT, connections=paged(http_server, pagination))
    assert ids(result) == [1, 2, 3, 4, 5, 6, 7]
    assert [(r.header("X-Start"), r.query) for r in http_server.requests] == [("0", ""), ("4", ""), ("8", "")]


def test_short_page_stop_is_opt_in(run_script, http_server):
    http_server.route("/items", lambda r: Reply(body={"data": ITEMS[int(param(r, "o")):][:3]}))
    pagination = {"type": "offset", "start_param": "o", "count_param": "n", "count_value": 3,
                  "stop_on_short_page": True}
    run_script(SELECT, connections=paged(http_server, pagination))
    assert queries(http_server) == ["o=0&n=3", "o=3&n=3", "o=6&n=3"]  # page 3 has 1 record: short, stop


def test_next_page_with_total_pages(run_script, http_server):
    http_server.route("/items", lambda r: Reply(body={
        "data": ITEMS[(int(param(r, "page")) - 1) * 3:][:3], "pages": 3}))
    pagination = {"type": "next_page", "page_param": "page", "total_pages_path": "pages"}
    result = run_script(SELECT, connections=paged(http_server, pagination))
    assert ids(result) == [1, 2, 3, 4, 5, 6, 7]
    assert queries(http_server) == ["page=1", "page=2", "page=3"]


def test_next_page_with_last_page_flag(run_script, http_server):
    http_server.route("/items", lambda r: Reply(body={
        "data": ITEMS[int(param(r, "p")) * 2:][:2], "meta": {"last": int(param(r, "p")) == 1}}))
    pagination = {"type": "next_page", "page_param": "p", "first_page": 0, "last_page_path": "meta.last",
                  "last_page_value": "true"}
    result = run_script(SELECT, connections=paged(http_server, pagination))
    assert ids(result) == [1, 2, 3, 4]
    assert queries(http_server) == ["p=0", "p=1"]


def test_next_token_from_the_body_into_the_query(run_script, http_server):
    tokens = {None: ("a", ITEMS[:3]), "a": ("b", ITEMS[3:6]), "b": (None, ITEMS[6:])}
    http_server.route("/items", lambda r: Reply(body={
        "data": tokens[param(r, "cursor")][1], "next": tokens[param(r, "cursor")][0]}))
    pagination = {"type": "next_token", "token_param": "cursor", "token_path": "next"}
    result = run_script(SELECT, connections=paged(http_server, pagination))
    assert ids(result) == [1, 2, 3, 4, 5, 6, 7]
    assert queries(http_server) == ["", "cursor=a", "cursor=b"]


def test_next_token_from_a_response_header_into_a_request_header(run_script, http_server):
    tokens = {None: "t1", "t1": "t2", "t2": None}

    def handler(request):
        token = request.header("X-Token")
        following = tokens[token]
        page = {None: ITEMS[:2], "t1": ITEMS[2:4], "t2": ITEMS[4:5]}[token]
        return Reply(body={"data": page}, headers={"X-Next": following} if following else {})

    http_server.route("/items", handler)
    pagination = {"type": "next_token", "token_param": "X-Token", "token_in": "header", "token_header": "X-Next"}
    result = run_script(SELECT, connections=paged(http_server, pagination))
    assert ids(result) == [1, 2, 3, 4, 5]
    assert [r.header("X-Token") for r in http_server.requests] == [None, "t1", "t2"]


def test_next_url_relative_links(run_script, http_server):
    def handler(request):
        page = int(param(request, "page", "1"))
        body = {"data": ITEMS[(page - 1) * 4:][:4]}
        if page == 1:
            body["links"] = {"next": "?page=2&fmt=json"}
        return Reply(body=body)

    http_server.route("/items", handler)
    result = run_script(SELECT, connections=paged(http_server, {"type": "next_url",
                                                                "next_url_path": "links/next"}))
    assert ids(result) == [1, 2, 3, 4, 5, 6, 7]
    assert [(r.path, r.query) for r in http_server.requests] == [("/items", ""), ("/items", "page=2&fmt=json")]


@pytest.mark.parametrize("add_missing", [False, True])
def test_next_url_that_drops_a_query_parameter(run_script, http_server, add_missing):
    def handler(request):
        page = int(param(request, "page", "1"))
        body = {"data": ITEMS[(page - 1) * 4:][:4]}
        if page == 1:
            body["links"] = {"next": http_server.url("/items?page=2")}
        return Reply(body=body)

    http_server.route("/items", handler)
    connections = paged(http_server, {"type": "next_url", "next_url_path": "links.next.href"},
                        query={"$format": "json"}, add_missing_query_params=add_missing)
    connections["Paged"]["pagination"]["next_url_path"] = "links/next"
    run_script(SELECT, connections=connections)
    second = http_server.requests[1].query
    assert second == ("page=2&$format=json" if add_missing else "page=2")
    assert http_server.requests[0].query == "$format=json"


def test_next_url_from_the_link_header(run_script, http_server):
    def handler(request):
        page = int(param(request, "page", "1"))
        headers = {"Link": f'<{http_server.url("/items")}?page={page + 1}>; rel="next", </items>; rel="first"'}
        return Reply(body={"data": ITEMS[(page - 1) * 3:][:3]}, headers=headers if page < 3 else {})

    http_server.route("/items", handler)
    result = run_script(SELECT, connections=paged(http_server, {"type": "next_url", "use_link_header": True}))
    assert ids(result) == [1, 2, 3, 4, 5, 6, 7]
    assert queries(http_server) == ["", "page=2", "page=3"]


def test_a_repeated_next_link_is_a_clean_error(run_script, http_server):
    def handler(_request):
        return Reply(body={"data": ITEMS[:2], "next": "?page=2"})  # every page says page 2 is next

    http_server.route("/items", handler)
    with pytest.raises(qscript.ScriptError) as info:
        run_script(SELECT, connections=paged(http_server, {"type": "next_url", "next_url_path": "next"}))
    assert info.value.code == 12
    assert "pagination repeats a page" in info.value.message and "page=2" in info.value.message
    assert len(http_server.requests) == 2


def test_max_pages_limit(run_script, http_server):
    http_server.route("/items", lambda r: Reply(body={"data": ITEMS[:1], "next": int(param(r, "p", "0")) + 1}))
    pagination = {"type": "next_token", "token_param": "p", "token_path": "next", "max_pages": 5}
    result = run_script(SELECT, connections=paged(http_server, pagination))
    assert len(http_server.requests) == 5
    assert len(ids(result)) == 5
    assert any("stopped at pagination.max_pages = 5" in line for line in result.log)


def test_thousand_pages_keep_memory_bounded_and_log_every_page(run_script, http_server):
    padding = "x" * 50_000  # an unselected field: 50 MB over 1000 pages if pages leaked
    http_server.route("/items", lambda r: Reply(body={
        "data": [{"id": int(param(r, "p", "0")), "name": "n", "blob": padding}],
        "next": int(param(r, "p", "0")) + 1 if int(param(r, "p", "0")) < 999 else None}))
    pagination = {"type": "next_token", "token_param": "p", "token_path": "next"}
    tracemalloc.start()
    try:
        result = run_script(SELECT, connections=paged(http_server, pagination))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ids(result) == list(range(1000))
    page_lines = [line for line in result.log if line.startswith("page ")]
    assert len(page_lines) == 1000
    assert page_lines[-1].startswith("page 1000: GET ")
    assert any(line.startswith("SELECT on 'Paged': 1000 pages, 2000 rows") for line in result.log)
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"
