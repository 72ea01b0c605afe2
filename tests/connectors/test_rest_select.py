"""REST SELECTs run by real scripts against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from httpkit import Reply
from pandas.testing import assert_frame_equal

import qscript

ORDERS = {
    "data": [
        {"id": "A1", "paid": True, "total": 12.5, "tags": ["new", "vip"],
         "customer": {"name": "Ann", "links": {"href": "/c/1"}}},
        {"id": "B2", "paid": False, "total": 3, "tags": [],
         "customer": {"name": "Bob", "links": {"href": "/c/2"}}},
    ],
    "links": {"next": {"href": "http://example.invalid/orders?page=2"}},
}

WIZARD_SCRIPT = """
LIB CONNECT TO 'Orders API';
RestConnectorMasterTable:
SQL SELECT
    "__KEY_root",
    (SELECT "id", "paid", "total", "__KEY_data", "__FK_data",
        (SELECT "@Value", "__FK_tags" FROM "tags" FK "__FK_tags" ArrayValueAlias "@Value"),
        (SELECT "name", "__KEY_customer", "__FK_customer",
            (SELECT "href", "__FK_links" FROM "links" FK "__FK_links")
         FROM "customer" PK "__KEY_customer" FK "__FK_customer")
     FROM "data" PK "__KEY_data" FK "__FK_data"),
    (SELECT "__KEY_links_u0", "__FK_links_u0",
        (SELECT "href" AS "href_u0", "__FK_next" FROM "next" FK "__FK_next")
     FROM "links" PK "__KEY_links_u0" FK "__FK_links_u0")
FROM JSON (wrap on) "root" PK "__KEY_root";

[tags]: LOAD [@Value] AS Tag, [__FK_tags] AS [__KEY_data]
    RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_tags]);
[customer]: LOAD [name] AS Customer, [__KEY_customer], [__FK_customer] AS [__KEY_data]
    RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_customer]);
[data]: LOAD [id], [paid], [total], [__KEY_data], [__FK_data] AS [__KEY_root]
    RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_data]);
[next]: LOAD [href_u0] AS NextUrl RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__FK_next]);
DROP TABLE RestConnectorMasterTable;
"""


def connection(server, path: str = "/orders", **options) -> dict:
    return {"Orders API": {"url": server.url(path), **options}}


def ints(*values):
    return pd.Series(values, dtype="int64")


def texts(*values):
    return pd.Series(values, dtype="string")


def test_wizard_shaped_nested_json_script(run_script, http_server):
    http_server.route("/orders", Reply(body=ORDERS))
    result = run_script(WIZARD_SCRIPT, connections=connection(http_server))
    assert list(result.tables) == ["tags", "customer", "data", "next"]
    assert_frame_equal(result.tables["tags"], pd.DataFrame({"Tag": texts("new", "vip"), "__KEY_data": ints(1, 1)}))
    assert_frame_equal(
        result.tables["customer"],
        pd.DataFrame({"Customer": texts("Ann", "Bob"), "__KEY_customer": ints(1, 2), "__KEY_data": ints(1, 2)}),
    )
    assert_frame_equal(
        result.tables["data"],
        pd.DataFrame({"id": texts("A1", "B2"), "paid": texts("True", "False"),
                      "total": pd.Series([12.5, 3.0]), "__KEY_data": ints(1, 2), "__KEY_root": ints(1, 1)}),
    )
    assert_frame_equal(result.tables["next"], pd.DataFrame({"NextUrl": texts("http://example.invalid/orders?page=2")}))
    assert [r.method for r in http_server.requests] == ["GET"]


def test_master_table_layout_stacks_every_table(run_script, http_server):
    http_server.route("/orders", Reply(body=ORDERS))
    script = WIZARD_SCRIPT.split("[tags]:")[0]
    table = run_script(script, connections=connection(http_server)).tables["RestConnectorMasterTable"]
    assert len(table) == 11  # 2 tags + 2 customer links + 2 customers + 2 data + next + links + root
    assert table["@Value"].dropna().tolist() == ["new", "vip"]
    assert table["__KEY_root"].dropna().tolist() == [1.0]


def test_wrap_off_reads_a_top_level_property(run_script, http_server):
    http_server.route("/orders", Reply(body=ORDERS))
    script = """LIB CONNECT TO 'Orders API';
    T: SQL SELECT "id", "total" FROM JSON (wrap off) "data";"""
    result = run_script(script, connections=connection(http_server))
    assert_frame_equal(result.tables["T"], pd.DataFrame({"id": texts("A1", "B2"), "total": pd.Series([12.5, 3.0])}))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([{"a": 1, "b": "x"}, {"a": 2}, {"b": "z"}], {"a": [1.0, 2.0, None], "b": ["x", None, "z"]}),
        ({"a": 7, "b": "only"}, {"a": [7.0], "b": ["only"]}),
    ],
    ids=["root array", "root object"],
)
def test_root_array_and_root_object(run_script, http_server, body, expected):
    http_server.route("/orders", Reply(body=body))
    script = """LIB CONNECT TO 'Orders API';
    T: SQL SELECT "a", "b" FROM JSON (wrap on) "root";"""
    table = run_script(script, connections=connection(http_server)).tables["T"]
    assert_frame_equal(
        table,
        pd.DataFrame({"a": pd.Series([np.nan if v is None else v for v in expected["a"]],
                                     dtype="int64" if None not in expected["a"] else "float64"),
                      "b": pd.Series(expected["b"], dtype="string")}),
    )


XML = b"""<?xml version="1.0"?>
<catalog xmlns="urn:x" version="2">
  <title>Books</title>
  <book id="b1" lang="en">Intro<price>10</price><author>Ann</author><author>Bo</author></book>
  <book id="b2"><price currency="EUR">12</price><author>Cy</author></book>
</catalog>"""


def test_xml_attributes_content_and_repeated_elements(run_script, http_server):
    http_server.route("/orders", Reply(body=XML, headers={"Content-Type": "application/xml"}))
    script = """LIB CONNECT TO 'Orders API';
    M: SQL SELECT "version", "title", "__KEY_root",
        (SELECT "id", "lang", "@Content", "__KEY_book", "__FK_book",
            (SELECT "@Content" AS "author", "__FK_author" FROM "author" FK "__FK_author")
         FROM "book" PK "__KEY_book" FK "__FK_book")
    FROM XML (wrap on) "root" PK "__KEY_root";
    Books: LOAD id, lang, [@Content] as Blurb, __KEY_book RESIDENT M WHERE NOT IsNull(__FK_book);
    Authors: LOAD author, __FK_author as __KEY_book RESIDENT M WHERE NOT IsNull(__FK_author);
    Root: LOAD version, title RESIDENT M WHERE NOT IsNull(__KEY_root);
    """
    result = run_script(script, connections=connection(http_server))
    assert_frame_equal(result.tables["Books"], pd.DataFrame({
        "id": texts("b1", "b2"), "lang": texts("en", None), "Blurb": texts("Intro", None), "__KEY_book": ints(1, 2)}))
    assert_frame_equal(result.tables["Authors"], pd.DataFrame({
        "author": texts("Ann", "Bo", "Cy"), "__KEY_book": ints(1, 1, 2)}))
    assert_frame_equal(result.tables["Root"], pd.DataFrame({"version": texts("2"), "title": texts("Books")}))


def test_xml_dtd_prohibited_by_default(run_script, http_server):
    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]><r><a>&x;</a></r>'
    http_server.route("/orders", Reply(body=body, headers={"Content-Type": "text/xml"}))
    script = """SET ErrorMode = 0;
    LIB CONNECT TO 'Orders API';
    T: SQL SELECT "a" FROM XML (wrap on) "root";
    LET e = Num(ScriptError);"""
    result = run_script(script, connections=connection(http_server))
    assert result.variables["e"] == "12"
    assert "T" not in result.tables
    assert "DTD is prohibited" in result.variables["ScriptErrorDetails"]


CSV = "name;amount\r\nAnn;1,5\r\n\"Bo; Jr\";2\r\n"


def test_csv_header_on_and_off(run_script, http_server):
    http_server.route("/orders", Reply(body=CSV, headers={"Content-Type": "text/csv"}))
    script = r'''LIB CONNECT TO 'Orders API';
    H: SQL SELECT "name", "amount" FROM CSV (header on, delimiter ";", quote """") "CSV_source";
    N: SQL SELECT "col_1", "col_2" FROM CSV (header off, delimiter ";", quote """") "CSV_source";
    L: SQL SELECT "col_1" FROM CSV (header off, delimiter "\n", quote "\n") "CSV_source";
    '''
    result = run_script(script, connections=connection(http_server))
    assert_frame_equal(result.tables["H"], pd.DataFrame({"name": texts("Ann", "Bo; Jr"), "amount": texts("1,5", "2")}))
    assert_frame_equal(result.tables["N"], pd.DataFrame({
        "col_1": texts("name", "Ann", "Bo; Jr"), "col_2": texts("amount", "1,5", "2")}))
    assert result.tables["L"]["col_1"].tolist() == ["name;amount", "Ann;1,5", '"Bo; Jr";2']


FAMILY = {"parents": [{"name": "p1", "kids": [{"n": "same"}]}, {"name": "p2", "kids": [{"n": "same"}]}]}
FAMILY_SELECT = """LIB CONNECT TO 'Orders API';
M: SQL SELECT "__KEY_root",
    (SELECT "name", "__KEY_parents", "__FK_parents",
        (SELECT "n", "__KEY_kids", "__FK_kids" FROM "kids" PK "__KEY_kids" FK "__FK_kids")
     FROM "parents" PK "__KEY_parents" FK "__FK_parents")
FROM JSON (wrap on) "root" PK "__KEY_root";
Kids: LOAD n, __KEY_kids, __FK_kids RESIDENT M WHERE NOT IsNull(__FK_kids);
DROP TABLE M;
"""


def _kids(run_script, http_server, strategy: str) -> pd.DataFrame:
    return run_script(FAMILY_SELECT, connections=connection(http_server, key_generation=strategy)).tables["Kids"]


def test_sequence_keys_restart_for_every_select(run_script, http_server):
    http_server.route("/orders", Reply(body=FAMILY))
    second = FAMILY_SELECT.replace("Kids:", "Kids2: NoConcatenate")
    script = FAMILY_SELECT.replace("DROP TABLE M;", "DROP TABLE M;\n" + second)
    result = run_script(script, connections=connection(http_server))
    assert result.tables["Kids"]["__KEY_kids"].tolist() == [1, 2]
    assert result.tables["Kids2"]["__KEY_kids"].tolist() == [1, 2]


def test_hash_keys_are_stable_and_fully_qualified_keys_see_parents(run_script, http_server):
    http_server.route("/orders", Reply(body=FAMILY))
    current = _kids(run_script, http_server, "current_record")
    assert_frame_equal(current, _kids(run_script, http_server, "current_record"))
    assert current["__KEY_kids"].nunique() == 1  # equal children, equal keys
    assert current["__FK_kids"].nunique() == 2
    qualified = _kids(run_script, http_server, "fully_qualified")
    assert_frame_equal(qualified, _kids(run_script, http_server, "fully_qualified"))
    assert qualified["__KEY_kids"].nunique() == 2  # different parents, different keys
    assert all(len(k) == 16 for k in qualified["__KEY_kids"])


def test_no_keys_strategy_outputs_no_key_fields(run_script, http_server):
    http_server.route("/orders", Reply(body=FAMILY))
    script = FAMILY_SELECT.split("Kids:")[0]
    result = run_script(script, connections=connection(http_server, key_generation="none"))
    assert list(result.tables["M"].columns) == ["name", "n"]


def test_with_connection_url_query_header_and_body(run_script, http_server):
    http_server.route("/v2/items", Reply(body={"ok": 1}))
    options = {
        "method": "POST", "body": "default body", "allow_with_connection": True,
        "query": {"limit": "10", "fmt": "json"}, "headers": {"X-Api": "conn", "Accept": "application/json"},
    }
    script = f"""LIB CONNECT TO 'Orders API';
    LET vBody = '{{""q"": ""a;b"", ""n"": 2}}';
    T: SQL SELECT "ok" FROM JSON (wrap on) "root"
    WITH CONNECTION (
        Url "{http_server.url('/v2/items')}?filter=(status%20eq%20%27open%27)",
        QUERY "page" "2",
        QUERY "$skiptoken" "",
        HTTPHEADER "X-Api" "from-script",
        HTTPHEADER "Accept" "",
        BODY "$(vBody)",
    );"""
    result = run_script(script, connections=connection(http_server, "/base", **options))
    assert result.tables["T"]["ok"].tolist() == [1]
    (request,) = http_server.requests
    assert request.method == "POST"
    assert request.path == "/v2/items"
    assert request.query == "filter=(status%20eq%20%27open%27)&page=2"
    assert request.header("X-Api") == "from-script"
    assert request.header("Accept") is None or request.header("Accept") == "*/*"
    assert request.body == b'{"q": "a;b", "n": 2}'


def test_connection_query_parameters_go_with_the_connection_url(run_script, http_server):
    http_server.route("/orders", Reply(body={"ok": 1}))
    url = http_server.url("/orders")
    script = f"""LIB CONNECT TO 'Orders API';
    T: SQL SELECT "ok" FROM JSON (wrap on) "root";
    U: SQL SELECT "ok" FROM JSON (wrap on) "root" WITH CONNECTION (URL "{url}?x=1");"""
    run_script(script, connections=connection(http_server, query={"limit": "5"}, allow_with_connection=True,
                                               add_missing_query_params=True))
    assert [r.query for r in http_server.requests] == ["limit=5", "x=1&limit=5"]


def test_with_connection_refused_when_not_allowed(run_script, http_server):
    http_server.route("/orders", Reply(body={"ok": 1}))
    script = """LIB CONNECT TO 'Orders API';
    T: SQL SELECT "ok" FROM JSON (wrap on) "root" WITH CONNECTION (QUERY "a" "b");"""
    with pytest.raises(qscript.ScriptError) as info:
        run_script(script, connections=connection(http_server))
    assert info.value.code == 12
    assert "WITH CONNECTION is not allowed" in info.value.message
    assert "allow_with_connection" in info.value.message
    assert http_server.requests == []


def test_response_headers_allowed_and_denied(run_script, http_server):
    http_server.route("/orders", Reply(body={"a": 1}, headers={"X-Total-Count": "42"}))
    script = """LIB CONNECT TO 'Orders API';
    M: SQL SELECT "a", "__KEY_root",
        (SELECT "X-Total-Count", "__FK__response_header" FROM "_response_header" FK "__FK__response_header")
    FROM JSON (wrap on) "root" PK "__KEY_root";
    H: LOAD [X-Total-Count] as Total, __FK__response_header as __KEY_root RESIDENT M
       WHERE NOT IsNull(__FK__response_header);"""
    result = run_script(script, connections=connection(http_server, allow_response_headers=True))
    assert_frame_equal(result.tables["H"], pd.DataFrame({"Total": texts("42"), "__KEY_root": ints(1)}))
    with pytest.raises(qscript.ScriptError) as info:
        run_script(script, connections=connection(http_server))
    assert info.value.message == (
        "Response headers are denied by the current connection. "
        "Please edit your connection in order to enable response headers loading."
    )


def test_http_404_under_error_mode_0_gives_12_and_no_master_table(run_script, http_server):
    http_server.route("/orders", Reply(404, "no such orders here"))
    script = """SET ErrorMode = 0;
    LIB CONNECT TO 'Orders API';
    RestConnectorMasterTable: SQL SELECT "id" FROM JSON (wrap on) "root";
    LET vError = Num(ScriptError);
    LET vTables = NoOfTables();
    """
    result = run_script(script, connections=connection(http_server))
    assert result.variables["vError"] == "12"
    assert result.variables["vTables"] == "0"
    assert result.tables == {}
    details = result.variables["ScriptErrorDetails"]
    assert "connection 'Orders API'" in details and "HTTP 404" in details and "no such orders here" in details
    assert http_server.url("/orders") in details


def test_select_without_a_connection(run_script):
    with pytest.raises(qscript.ScriptError, match="There is no open data connection"):
        run_script('T: SQL SELECT "a" FROM JSON (wrap on) "root";')


def test_unknown_connection_names_the_known_ones(run_script, http_server):
    with pytest.raises(qscript.ScriptError) as info:
        run_script("LIB CONNECT TO 'Nope';", connections=connection(http_server))
    assert "Nope" in info.value.message and "Orders API" in info.value.message


def test_space_qualified_names_and_variables(run_script, http_server):
    http_server.route("/orders", Reply(body={"a": 1}))
    script = """SET vConn = 'Shared:Orders API';
    LIB CONNECT TO '$(vConn)';
    T: SQL SELECT "a" FROM JSON (wrap on) "root";
    DISCONNECT;
    SET ErrorMode = 0;
    U: SQL SELECT "a" FROM JSON (wrap on) "root";
    """
    result = run_script(script, connections=connection(http_server))
    assert result.tables["T"]["a"].tolist() == [1]
    assert "U" not in result.tables


def test_preceding_load_over_a_select(run_script, http_server):
    http_server.route("/orders", Reply(body=ORDERS))
    script = """LIB CONNECT TO 'Orders API';
    Orders: LOAD id, total * 2 as Double WHERE paid = 'True';
    SQL SELECT "id", "paid", "total" FROM JSON (wrap off) "data";"""
    result = run_script(script, connections=connection(http_server))
    assert_frame_equal(result.tables["Orders"], pd.DataFrame({"id": texts("A1"), "Double": ints(25)}))
