"""The pytest plugin as script authors meet it: small test files run in a pytester session.

Each test writes a test module (and a cassette, and orders.qvs) into pytester's folder,
runs pytest in-process, and checks outcomes and the report text, because the report
text (the diff of an unmatched request, an assertion message) is the product here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import qscript
from qscript.redact import Redactor
from qscript.testing import assert_fields, assert_table, assert_unique
from qscript.testing.cassette import (
    Cassette,
    Interaction,
    RecordedResponse,
    asked_request,
    matches,
    redact_values,
    scrub_request,
    scrub_response,
)
from qscript.testing.server import LoopbackServer, ReceivedRequest, Reply

pytest_plugins = ["pytester"]

#: A next-URL loop like samples/paging_next_url.qvs, following absolute next links.
ORDERS_QVS = """
LET vUrl = '$(vBaseUrl)/orders?page=1';
LET vPage = 0;
DO
  LET vPage = vPage + 1;
  LIB CONNECT TO 'Orders API';
  RestConnectorMasterTable:
  SQL SELECT
      (SELECT "id", "status", "total", "__FK_data" FROM "data" FK "__FK_data"),
      (SELECT "__KEY_links", (SELECT "href", "__FK_next" FROM "next" FK "__FK_next")
       FROM "links" PK "__KEY_links")
  FROM JSON (wrap on) "root"
  WITH CONNECTION (URL "$(vUrl)");
  Orders:
  LOAD id AS OrderId, status AS Status, total AS Total, $(vPage) AS Page
  RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_data]);
  NextLink:
  LOAD href AS NextUrl RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_next]);
  LET vUrl = Peek('NextUrl', 0, 'NextLink');
  DROP TABLES RestConnectorMasterTable, NextLink;
LOOP WHILE Len(vUrl) > 0
TRACE Loaded $(=NoOfRows('Orders')) orders in $(vPage) pages;
"""

ORDERS = [{"id": i, "status": "open" if i % 2 else "paid", "total": i * 10} for i in range(1, 6)]


def page_body(page: int, base: str = "{{base}}") -> dict:
    body: dict = {"data": ORDERS[(page - 1) * 2:][:2], "links": {}}
    if page < 3:
        body["links"]["next"] = {"href": f"{base}/orders?page={page + 1}"}
    return body


def pages_cassette(**third_query: str) -> dict:
    """Three pages; ``third_query`` replaces the query recorded for page 3."""
    return {"version": 1, "interactions": [
        {"request": {"method": "GET", "path": "/orders", "query": third_query if page == 3 and third_query
                     else {"page": str(page)}},
         "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": page_body(page)}}
        for page in (1, 2, 3)]}


CONFTEST = """
import pytest

@pytest.fixture
def run_orders(qscript_api, qscript_run):
    def run(**options):
        return qscript_run("orders.qvs", variables={"vBaseUrl": qscript_api.url()},
                           connections=qscript_api.connection("Orders API", "/orders", allow_with_connection=True,
                                                              **options))
    return run
"""


@pytest.fixture(autouse=True)
def _replay_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QSCRIPT_RECORD", raising=False)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A script project: orders.qvs, a cassettes/ folder and a ``run_orders`` fixture."""
    pytester.makeconftest(CONFTEST)
    (pytester.path / "orders.qvs").write_text(ORDERS_QVS, encoding="utf-8")
    (pytester.path / "cassettes").mkdir()
    return pytester


def write_cassette(pytester: pytest.Pytester, name: str, data: dict) -> Path:
    path = pytester.path / "cassettes" / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", *args)


# -- replay ----------------------------------------------------------------------------------------
def test_replay_passes_with_marker_or_load(project):
    write_cassette(project, "pages.json", pages_cassette())
    project.makepyfile("""
        import pytest
        from qscript.testing import assert_rowcount

        @pytest.mark.qscript_cassette("pages.json")
        def test_with_marker(qscript_api, run_orders):
            result = run_orders()
            assert_rowcount(result, "Orders", 5)
            assert result.log[-1] == "Loaded 5 orders in 3 pages"
            assert [r.params for r in qscript_api.requests] == [{"page": "1"}, {"page": "2"}, {"page": "3"}]
            qscript_api.assert_all_used()

        def test_with_load(qscript_api, run_orders):
            qscript_api.load("pages.json")
            result = run_orders()
            assert result.tables["Orders"]["Page"].tolist() == [1, 1, 2, 2, 3]
    """)
    run(project).assert_outcomes(passed=2)


def test_unmatched_request_fails_with_a_diff(project):
    write_cassette(project, "pages.json", pages_cassette(page="3", limit="2"))
    project.makepyfile("""
        def test_orders(qscript_api, run_orders):
            qscript_api.load("pages.json")
            run_orders()
    """)
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "qscript_api: no recorded response for GET /orders?page=3",
        "  cassette: */cassettes/pages.json (3 interactions)",
        "  closest recorded requests (- recorded, + asked):",
        "  interaction 3:",
        "      GET /orders",
        "      query page=3",
        "    - query limit=2",
        "  interaction 1 (used):",
        "    - query page=1",
        "    + query page=3",
        "*(the script stopped at *orders.qvs:7:3 with ScriptError 12: the API answered 599)",
    ])
    assert "During handling" not in result.stdout.str()


def test_unmatched_request_outside_qscript_run_errors_at_teardown(project):
    project.makepyfile("""
        import qscript

        def test_direct(qscript_api):
            script = 'SET ErrorMode = 0; LIB CONNECT TO \\'A\\'; T: SQL SELECT "a" FROM JSON (wrap on) "root";'
            result = qscript.run(script, connections=qscript_api.connection("A", "/things?x=1"))
            assert result.error_count == 1
    """)
    result = run(project)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_direct*",
                                 "qscript_api: no recorded response for GET /things?x=1",
                                 "  cassette: none loaded (0 interactions)"])


def test_an_interaction_answers_once_unless_it_repeats(project):
    once = {"interactions": [{"request": {"path": "/v"}, "response": {"body": [{"a": 1}]}}]}
    again = {"interactions": [{"request": {"path": "/v"}, "response": {"body": [{"a": 1}]}, "repeat": True}]}
    project.makepyfile(f"""
        import pytest
        SCRIPT = 'LIB CONNECT TO \\'V\\'; T: SQL SELECT "a" FROM JSON (wrap on) "root"; ' * 2

        @pytest.mark.parametrize("cassette", [{once!r}, {again!r}], ids=["once", "repeat"])
        def test_twice(qscript_api, qscript_run, cassette):
            qscript_api.load(cassette)
            assert len(qscript_run(SCRIPT, connections=qscript_api.connection("V", "/v")).tables["T"]) == 2
    """)
    result = run(project)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*interaction 1 (used) -- matches, but was already used*repeat*"])


@pytest.mark.parametrize(("cassette", "message"), [
    (None, "*cassette */cassettes/pages.json does not exist*--qscript-record*"),
    ({"interactions": [{"request": {"qurey": {}}, "response": {}}]},
     "*cassette */pages.json: interaction 1: request key 'qurey' is not a known key; did you mean 'query'?"),
    ({"interactions": [{"request": {"path": "orders"}, "response": {}}]},
     "*interaction 1: request 'path' must start with '/' (got 'orders')"),
])
def test_a_bad_cassette_is_a_setup_error_naming_the_key(project, cassette, message):
    if cassette is not None:
        write_cassette(project, "pages.json", cassette)
    project.makepyfile("""
        import pytest

        @pytest.mark.qscript_cassette("pages.json")
        def test_orders(qscript_api):
            pass
    """)
    result = run(project)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


# -- record mode -----------------------------------------------------------------------------------
SECRET_TOKEN = "s3cr3t-token-value"
SECRET_KEY = "k3y-value-123"


@pytest.fixture
def live_api():
    """ANOTHER loopback server standing in for the live API: it checks credentials, sets a
    cookie, echoes the key in the body and links to its own absolute URLs."""
    hits: list[str] = []

    def handler(request: ReceivedRequest) -> Reply:
        hits.append(request.query_string)
        if request.header("Authorization") != f"Bearer {SECRET_TOKEN}" or request.params.get("api_key") != SECRET_KEY:
            return Reply(401, {"Content-Type": "text/plain"}, b"who are you?")
        body = page_body(int(request.params["page"]), base=server.base)
        body["meta"] = {"key_used": SECRET_KEY}
        return Reply(200, {"Content-Type": "application/json", "Set-Cookie": "session=abc123; HttpOnly",
                           "X-Page": request.params["page"]}, json.dumps(body).encode())

    server = LoopbackServer(handler)
    yield server, hits
    server.close()


def record_test_file(live_base: str, recording: bool) -> str:
    return f"""
        from qscript.testing import assert_rowcount

        def test_orders(qscript_api, run_orders):
            qscript_api.load("recorded.json").record_from({live_base!r})
            result = run_orders(headers={{"Authorization": "Bearer {SECRET_TOKEN}"}},
                                query={{"api_key": "{SECRET_KEY}"}}, add_missing_query_params=True)
            assert_rowcount(result, "Orders", 5)
            assert qscript_api.recording is {recording}
    """


@pytest.mark.parametrize("switch", ["option", "environment"])
def test_record_from_a_live_api_then_replay(project, live_api, monkeypatch, switch):
    live_api, live_requests = live_api
    project.makepyfile(record_test_file(live_api.base, recording=True))
    if switch == "environment":
        monkeypatch.setenv("QSCRIPT_RECORD", "1")
        run(project).assert_outcomes(passed=1)
        monkeypatch.delenv("QSCRIPT_RECORD")
    else:
        run(project, "--qscript-record").assert_outcomes(passed=1)
    assert len(live_requests) == 3

    text = (project.path / "cassettes" / "recorded.json").read_text(encoding="utf-8")
    assert SECRET_TOKEN not in text and SECRET_KEY not in text and "abc123" not in text
    cassette = json.loads(text)
    first = cassette["interactions"][0]
    assert cassette["recorded_from"] == live_api.base
    assert first["request"]["path"] == "/orders"
    assert first["request"]["query"] == {"page": "1", "api_key": "***"}
    assert first["request"]["headers"]["Authorization"] == "***"
    assert first["response"]["headers"]["Set-Cookie"] == "***"
    assert first["response"]["headers"]["X-Page"] == "1"
    assert first["response"]["body"]["links"]["next"]["href"] == "{{base}}/orders?page=2"
    assert first["response"]["body"]["meta"]["key_used"] == "***"

    live_api.close()  # the replay must not need it
    project.makepyfile(record_test_file(live_api.base, recording=False))
    run(project).assert_outcomes(passed=1)
    assert len(live_requests) == 3


def test_record_mode_reports_an_unreachable_live_api(project):
    project.makepyfile("""
        import pytest, qscript

        def test_orders(qscript_api, qscript_run):
            qscript_api.load("recorded.json").record_from("http://127.0.0.1:9")
            with pytest.raises(qscript.ScriptError):
                qscript.run('LIB CONNECT TO \\'A\\'; T: SQL SELECT "a" FROM JSON (wrap on) "root";',
                            connections=qscript_api.connection("A", "/x"))
    """)
    result = run(project, "--qscript-record")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["qscript_api: recording GET http://127.0.0.1:9/x failed: *"])


# -- qscript_run -----------------------------------------------------------------------------------
def test_qscript_run_takes_text_or_a_qvs_path_and_a_fake_clock(pytester):
    (pytester.path / "scripts").mkdir()
    (pytester.path / "scripts" / "wait.qvs").write_text("SLEEP 5000;\nLET vNow = Timestamp(Now(), 'YYYY-MM-DD hh:mm');")
    pytester.makepyfile("""
        import time
        from datetime import datetime
        from pathlib import Path
        import pytest
        from qscript.testing import FakeClock

        def test_path(qscript_run):
            started = time.monotonic()
            result = qscript_run("scripts/wait.qvs")
            assert time.monotonic() - started < 4
            assert qscript_run.clock.sleeps == [5.0]
            assert result.variables["vNow"] == "2024-01-31 12:00"

        def test_text_and_own_clock(qscript_run):
            clock = FakeClock(datetime(2025, 6, 1, 8, 30))
            result = qscript_run(Path("scripts/wait.qvs").read_text(), clock=clock)
            assert result.variables["vNow"] == "2025-06-01 08:30" and clock.sleeps == [5.0]

        def test_missing_file(qscript_run):
            with pytest.raises(FileNotFoundError, match="no script file nope.qvs"):
                qscript_run("nope.qvs")
    """)
    run(pytester).assert_outcomes(passed=3)


# -- assertion helpers -----------------------------------------------------------------------------
HELPERS = '''
import pandas as pd
import qscript
from qscript.testing import (assert_fields, assert_no_synthetic_keys, assert_rowcount, assert_table,
                             assert_unique)

RESULT = qscript.run("""
Orders: LOAD * INLINE [
OrderId, Status, Total
1, open, 10
2, paid, 20.5
2, open, 30
];
Lines: LOAD * INLINE [
OrderId, Status, Qty
1, open, 3
];
""")
ROWS = [{"OrderId": 1, "Status": "open", "Total": 10}, {"OrderId": 2, "Status": "paid", "Total": 20.5},
        {"OrderId": 2, "Status": "open", "Total": 30}]

def test_table_pass():
    assert_table(RESULT, "Orders", ROWS)
    assert_table(RESULT, "Orders", pd.DataFrame(ROWS[::-1]), check_order=False)

def test_table_fail():
    assert_table(RESULT, "Orders", [*ROWS[:2], {"OrderId": 2, "Status": "paid", "Total": 30}])

def test_rowcount_pass():
    assert_rowcount(RESULT, "Orders", 3)

def test_rowcount_fail():
    assert_rowcount(RESULT, "Orders", 4)

def test_unique_pass():
    assert_unique(RESULT, "Lines", "OrderId")

def test_unique_fail():
    assert_unique(RESULT, "Orders", "OrderId")

def test_no_synthetic_keys_pass():
    assert_no_synthetic_keys(qscript.run("A: LOAD 1 AS K, 2 AS X AUTOGENERATE 1; B: LOAD 1 AS K AUTOGENERATE 1;"))

def test_no_synthetic_keys_fail():
    assert_no_synthetic_keys(RESULT)

def test_fields_pass():
    assert_fields(RESULT, "Orders", ["Total", "OrderId", "Status"])

def test_fields_fail():
    assert_fields(RESULT, "Orders", ["OrderId", "Status", "Amount"])
'''


def test_each_assertion_helper_passes_and_fails_with_its_message(pytester):
    pytester.makepyfile(HELPERS)
    result = run(pytester)
    result.assert_outcomes(passed=5, failed=5)
    result.stdout.fnmatch_lines_random([
        "E * AssertionError: table 'Orders' differs from the expected rows (3 rows; rows numbered from 0):",
        "E *   row 2: Status: expected 'paid', got 'open'",
        "E * AssertionError: table 'Orders' has 3 rows, expected 4",
        "E * AssertionError: field 'OrderId' of table 'Orders' is not unique (3 rows, rows numbered from 0):",
        "E *   1 value repeats:",
        "E *     2 in rows 1, 2",
        "E * AssertionError: the data model has 1 synthetic key:",
        "E *   Orders + Lines share OrderId, Status",
        "E * AssertionError: table 'Orders' has fields OrderId, Status, Total; expected OrderId, Status, Amount",
        "E *   missing: Amount",
        "E *   unexpected: Total",
    ])


RESULT = qscript.run(HELPERS.split('RESULT = qscript.run("""')[1].split('""")')[0])
NULLS = qscript.run("T: LOAD If(RecNo() = 2, Null(), RecNo()) AS K AUTOGENERATE 2;")
ROWS = [{"OrderId": 1, "Status": "open", "Total": 10}, {"OrderId": 2, "Status": "paid", "Total": 20.5},
        {"OrderId": 2, "Status": "open", "Total": 30}]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: assert_table(RESULT, "orders", ROWS),
     "no table 'orders' in the result; did you mean 'Orders'? (tables: Orders, Lines)"),
    (lambda: assert_table(RESULT, "Orders", ROWS[:2]),
     "table 'Orders' differs from the expected rows (3 rows, expected 2;"),
    (lambda: assert_table(RESULT, "Orders", ROWS[1:], check_order=False),
     "  found but not expected:\n    {'OrderId': 1, 'Status': 'open', 'Total': 10}"),
    (lambda: assert_table(RESULT, "Orders", [{"OrderId": 1, "State": "open", "Total": 1}]),
     "  missing: State; did you mean 'Status'?"),
    (lambda: assert_unique(RESULT, "Orders", "Orderid"),
     "table 'Orders' has no field 'Orderid'; did you mean 'OrderId'?"),
    (lambda: assert_unique(NULLS, "T", "K"), "  1 rows have no value (NULL): rows 1 (allow_nulls=True accepts them)"),
    (lambda: assert_fields(RESULT, "Orders", ["Total", "OrderId", "Status"], check_order=True),
     "  same fields, different order"),
], ids=["table name", "row count", "unordered", "field name", "unique field", "unique nulls", "field order"])
def test_assertion_messages_in_detail(call, message):
    with pytest.raises(AssertionError) as failure:
        call()
    assert message in str(failure.value)


def test_assertions_accept_what_the_messages_suggest():
    assert_unique(NULLS, "T", "K", allow_nulls=True)
    assert_table(RESULT, "Orders", pd.DataFrame(ROWS).iloc[::-1], check_order=False)
    assert_fields(RESULT, "Orders", ["OrderId", "Status", "Total"], check_order=True)


# -- cassette rules, without a server --------------------------------------------------------------
def cassette_request(**request):
    return Cassette.from_data({"interactions": [{"request": request, "response": {}}]}).interactions[0].request


@pytest.mark.parametrize(("recorded", "asked", "expected"), [
    ({"query": {"a": "1", "b": "2"}}, ("GET", "/", [("b", "2"), ("a", "1")], b""), True),  # names in any order
    ({"query": [["t", "x"], ["t", "y"]]}, ("GET", "/", [("t", "y"), ("t", "x")], b""), False),  # repeats keep order
    ({"query": {"api_key": "***"}}, ("GET", "/", [("api_key", "real")], b""), True),  # scrubbed = any value
    ({"query": {"a": "1"}}, ("GET", "/", [("a", "1"), ("b", "")], b""), False),  # an extra parameter
    ({"method": "post", "body": {"q": [1, True]}}, ("POST", "/", [], b'{"q": [1, true]}'), True),
    ({"method": "POST", "body": {"q": [1, True]}}, ("POST", "/", [], b'{"q": [1, 1]}'), False),  # true is not 1
    ({"method": "POST", "body": {"secret": "***", "n": 1}}, ("POST", "/", [], b'{"n": 1, "secret": "s"}'), True),
    ({"method": "POST", "body": "a=1&token=***"}, ("POST", "/", [], b"token=zz&a=1"), True),  # a scrubbed form
    ({"method": "POST", "body": "a=1"}, ("POST", "/", [], b"a=2"), False),
    ({"path": "/users/***/orders"}, ("GET", "/users/42/orders", [], b""), True),
    ({}, ("GET", "/", [], b"unexpected body"), False),
])
def test_matching_rules(recorded, asked, expected):
    assert matches(cassette_request(**recorded), *asked) is expected


def test_record_scrubbing_masks_names_and_values_everywhere():
    redactor = Redactor()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-API-Key": "key-0001", "Accept": "*/*"}
    asked = asked_request("POST", "/token", [("client_id", "me"), ("sig", "abcd1234")],
                          b"grant_type=x&client_secret=hush-hush", headers)
    request = scrub_request(asked, redactor)
    assert request.query == [("client_id", "me"), ("sig", "***")]
    assert request.body == "grant_type=x&client_secret=***"
    assert request.headers["X-API-Key"] == "***" and request.headers["Accept"] == "*/*"
    body = {"access_token": "t-9", "AuthorName": "Ann", "echo": "hush-hush"}
    response = scrub_response(RecordedResponse(200, {"Set-Cookie": "a=b"}, body), frozenset({"access_token"}), redactor)
    cassette = Cassette([Interaction(request, response)])
    redact_values(cassette, redactor)
    assert response.headers == {"Set-Cookie": "***"}
    assert response.body == {"access_token": "***", "AuthorName": "Ann", "echo": "***"}


def test_the_docs_example_is_tests_testing_test_docs_example():
    """docs/testing.md shows test_docs_example.py and its cassette character for character."""
    here = Path(__file__).resolve().parent
    docs = (here.parents[1] / "docs" / "testing.md").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n+```\w*\n(.*?)```", docs, re.DOTALL))
    assert blocks["tests/test_orders.py"] == (here / "test_docs_example.py").read_text(encoding="utf-8")
    assert blocks["tests/cassettes/orders_pages.json"] == (here / "cassettes" / "orders_pages.json").read_text(
        encoding="utf-8")
