"""``qscript select``: the script Qlik's REST wizard writes, checked character for character
against hand-checked scripts (qlik-rest-connector.md §4) and run against a loopback server."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest
from httpkit import Reply

from qscript import cli, wizard
from qscript.wizard import generate_script, infer_schema, select_tables, tree_lines

CONN = "Orders API"

# -- shape 1: nested objects (root -> data[] -> customer{} -> address{}) -----------------------
# "total" and "vip" appear only in the second record: merged in first-seen order.
NESTED = {
    "count": 2,
    "data": [
        {"id": 1, "status": "open", "customer": {"name": "Ann", "address": {"city": "Oslo", "zip": "0150"}}},
        {"id": 2, "total": 9.5, "status": "paid",
         "customer": {"name": "Bob", "vip": True, "address": {"city": "Bergen", "zip": "5003"}}},
    ],
}

NESTED_SCRIPT = """\
LIB CONNECT TO 'Orders API';

RestConnectorMasterTable:
SQL SELECT
    "count",
    "__KEY_root",
    (SELECT
        "id",
        "status",
        "total",
        "__KEY_data",
        "__FK_data",
        (SELECT
            "name",
            "vip",
            "__KEY_customer",
            "__FK_customer",
            (SELECT
                "city",
                "zip",
                "__FK_address"
            FROM "address" FK "__FK_address")
        FROM "customer" PK "__KEY_customer" FK "__FK_customer")
    FROM "data" PK "__KEY_data" FK "__FK_data")
FROM JSON (wrap on) "root" PK "__KEY_root";

[address]:
LOAD
    [city],
    [zip],
    [__FK_address] AS [__KEY_customer]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_address]);

[customer]:
LOAD
    [name],
    [vip],
    [__KEY_customer],
    [__FK_customer] AS [__KEY_data]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_customer]);

[data]:
LOAD
    [id],
    [status],
    [total],
    [__KEY_data],
    [__FK_data] AS [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_data]);

[root]:
LOAD
    [count],
    [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__KEY_root]);

DROP TABLE RestConnectorMasterTable;
"""

# -- shape 2: arrays of scalars and an array of arrays ----------------------------------------
# A second "tags" table (under items) makes "@Value" and the table name repeat (§4.3, §4.4);
# the inner table of the array of arrays is a third "@Value" and a second "values".
ARRAYS = {
    "name": "report",
    "tags": ["a", "b"],
    "items": [{"sku": "X1", "tags": ["red"]}, {"sku": "Y2", "tags": []}],
    "values": [["h1", "h2"], ["a", "b"]],
}

ARRAYS_SCRIPT = """\
LIB CONNECT TO 'Orders API';

RestConnectorMasterTable:
SQL SELECT
    "name",
    "__KEY_root",
    (SELECT
        "@Value",
        "__FK_tags"
    FROM "tags" FK "__FK_tags" ArrayValueAlias "@Value"),
    (SELECT
        "sku",
        "__KEY_items",
        "__FK_items",
        (SELECT
            "@Value" AS "@Value_u0",
            "__FK_tags_u0"
        FROM "tags" FK "__FK_tags_u0" ArrayValueAlias "@Value_u0")
    FROM "items" PK "__KEY_items" FK "__FK_items"),
    (SELECT
        "__KEY_values",
        "__FK_values",
        (SELECT
            "@Value" AS "@Value_u1",
            "__FK_values_u0"
        FROM "values" FK "__FK_values_u0" ArrayValueAlias "@Value_u1")
    FROM "values" PK "__KEY_values" FK "__FK_values")
FROM JSON (wrap on) "root" PK "__KEY_root";

[tags]:
LOAD
    [@Value],
    [__FK_tags] AS [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_tags]);

[tags_u0]:
LOAD
    [@Value_u0],
    [__FK_tags_u0] AS [__KEY_items]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_tags_u0]);

[items]:
LOAD
    [sku],
    [__KEY_items],
    [__FK_items] AS [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_items]);

[values_u0]:
LOAD
    [@Value_u1],
    [__FK_values_u0] AS [__KEY_values]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_values_u0]);

[values]:
LOAD
    [__KEY_values],
    [__FK_values] AS [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_values]);

[root]:
LOAD
    [name],
    [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__KEY_root]);

DROP TABLE RestConnectorMasterTable;
"""

# -- shape 3: id, href and links repeated at several levels -----------------------------------
# Schema order (fields, then child tables, depth first): root.id, links/self.href,
# links/next.href (href_u0), data.id (id_u0), data/links (links_u0)/self (self_u0).href
# (href_u1), data/customer.id (id_u1), data/customer/links (links_u1)/self (self_u1).href (href_u2).
REPEATED = {
    "id": "page-1",
    "links": {"self": {"href": "/orders?page=1"}, "next": {"href": "/orders?page=2"}},
    "data": [
        {"id": "A1", "links": {"self": {"href": "/orders/A1"}},
         "customer": {"id": "C1", "links": {"self": {"href": "/customers/C1"}}}},
        {"id": "B2", "links": {"self": {"href": "/orders/B2"}},
         "customer": {"id": "C2", "links": {"self": {"href": "/customers/C2"}}}},
    ],
}

REPEATED_SCRIPT = """\
LIB CONNECT TO 'Orders API';

RestConnectorMasterTable:
SQL SELECT
    "id",
    "__KEY_root",
    (SELECT
        "__KEY_links",
        "__FK_links",
        (SELECT
            "href",
            "__FK_self"
        FROM "self" FK "__FK_self"),
        (SELECT
            "href" AS "href_u0",
            "__FK_next"
        FROM "next" FK "__FK_next")
    FROM "links" PK "__KEY_links" FK "__FK_links"),
    (SELECT
        "id" AS "id_u0",
        "__KEY_data",
        "__FK_data",
        (SELECT
            "__KEY_links_u0",
            "__FK_links_u0",
            (SELECT
                "href" AS "href_u1",
                "__FK_self_u0"
            FROM "self" FK "__FK_self_u0")
        FROM "links" PK "__KEY_links_u0" FK "__FK_links_u0"),
        (SELECT
            "id" AS "id_u1",
            "__KEY_customer",
            "__FK_customer",
            (SELECT
                "__KEY_links_u1",
                "__FK_links_u1",
                (SELECT
                    "href" AS "href_u2",
                    "__FK_self_u1"
                FROM "self" FK "__FK_self_u1")
            FROM "links" PK "__KEY_links_u1" FK "__FK_links_u1")
        FROM "customer" PK "__KEY_customer" FK "__FK_customer")
    FROM "data" PK "__KEY_data" FK "__FK_data")
FROM JSON (wrap on) "root" PK "__KEY_root";

[self]:
LOAD
    [href],
    [__FK_self] AS [__KEY_links]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_self]);

[next]:
LOAD
    [href_u0],
    [__FK_next] AS [__KEY_links]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_next]);

[links]:
LOAD
    [__KEY_links],
    [__FK_links] AS [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_links]);

[self_u0]:
LOAD
    [href_u1],
    [__FK_self_u0] AS [__KEY_links_u0]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_self_u0]);

[links_u0]:
LOAD
    [__KEY_links_u0],
    [__FK_links_u0] AS [__KEY_data]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_links_u0]);

[self_u1]:
LOAD
    [href_u2],
    [__FK_self_u1] AS [__KEY_links_u1]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_self_u1]);

[links_u1]:
LOAD
    [__KEY_links_u1],
    [__FK_links_u1] AS [__KEY_customer]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_links_u1]);

[customer]:
LOAD
    [id_u1],
    [__KEY_customer],
    [__FK_customer] AS [__KEY_data]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_customer]);

[data]:
LOAD
    [id_u0],
    [__KEY_data],
    [__FK_data] AS [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_data]);

[root]:
LOAD
    [id],
    [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__KEY_root]);

DROP TABLE RestConnectorMasterTable;
"""

#: --tables next on shape 3: root and links are kept as ancestors; self is left out, so links
#: keeps its key (next is still nested) and href stays href_u0 (names come from the full schema).
REPEATED_NEXT_ONLY = """\
LIB CONNECT TO 'Orders API';

RestConnectorMasterTable:
SQL SELECT
    "id",
    "__KEY_root",
    (SELECT
        "__KEY_links",
        "__FK_links",
        (SELECT
            "href" AS "href_u0",
            "__FK_next"
        FROM "next" FK "__FK_next")
    FROM "links" PK "__KEY_links" FK "__FK_links")
FROM JSON (wrap on) "root" PK "__KEY_root";

[next]:
LOAD
    [href_u0],
    [__FK_next] AS [__KEY_links]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_next]);

[links]:
LOAD
    [__KEY_links],
    [__FK_links] AS [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__FK_links]);

[root]:
LOAD
    [id],
    [__KEY_root]
RESIDENT RestConnectorMasterTable
WHERE NOT IsNull([__KEY_root]);

DROP TABLE RestConnectorMasterTable;
"""

SHAPES = {"nested": (NESTED, NESTED_SCRIPT), "arrays": (ARRAYS, ARRAYS_SCRIPT), "repeated": (REPEATED, REPEATED_SCRIPT)}


def values(frame: pd.DataFrame, column: str) -> list:
    """A column as plain Python values, NULL as None."""
    return [None if pd.isna(v) else v for v in frame[column].tolist()]


def serve(server, document: object) -> dict:
    server.route("/orders", Reply(body=document))
    return {CONN: {"url": server.url("/orders")}}


def connections_file(tmp_path, server, **options: object) -> str:
    lines = [f'[connections."{CONN}"]', f'url = "{server.url("/orders")}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    path = tmp_path / "connections.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _select_registered() -> bool:
    return any(isinstance(action, argparse._SubParsersAction) and "select" in action.choices
               for action in cli.build_parser()._actions)


def run_select(*argv: str) -> int:
    """``qscript select ...`` through qscript.cli once it registers the command, else through wizard.main."""
    if _select_registered():
        return cli.main(["select", *argv])
    return wizard.main(wizard.build_parser().parse_args(list(argv)))


# -- generated text -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_script_matches_the_wizard_character_for_character(shape):
    document, expected = SHAPES[shape]
    assert generate_script(infer_schema(document), CONN) == expected


def test_nested_objects_run_as_one_table_per_json_table(run_script, http_server):
    result = run_script(NESTED_SCRIPT, connections=serve(http_server, NESTED))
    tables = result.tables
    assert list(tables) == ["address", "customer", "data", "root"]
    assert {name: len(frame) for name, frame in tables.items()} == {"address": 2, "customer": 2, "data": 2, "root": 1}
    assert values(tables["address"], "city") == ["Oslo", "Bergen"]
    assert values(tables["address"], "zip") == ["0150", "5003"]  # text stays text
    assert values(tables["address"], "__KEY_customer") == [1, 2]
    assert values(tables["customer"], "vip") == [None, "True"]
    assert values(tables["customer"], "__KEY_data") == [1, 2]
    assert values(tables["data"], "total") == [None, 9.5]
    assert values(tables["data"], "__KEY_root") == [1, 1]
    assert values(tables["root"], "count") == [2]
    assert "RestConnectorMasterTable" not in tables


def test_scalar_arrays_and_arrays_of_arrays_run(run_script, http_server):
    tables = run_script(ARRAYS_SCRIPT, connections=serve(http_server, ARRAYS)).tables
    assert list(tables) == ["tags", "tags_u0", "items", "values_u0", "values", "root"]
    assert {name: len(frame) for name, frame in tables.items()} == {
        "tags": 2, "tags_u0": 1, "items": 2, "values_u0": 4, "values": 2, "root": 1}
    assert values(tables["tags"], "@Value") == ["a", "b"]
    assert values(tables["tags_u0"], "@Value_u0") == ["red"]
    assert values(tables["tags_u0"], "__KEY_items") == [1]
    assert values(tables["items"], "sku") == ["X1", "Y2"]
    assert values(tables["values_u0"], "@Value_u1") == ["h1", "h2", "a", "b"]
    assert values(tables["values_u0"], "__KEY_values") == [1, 1, 2, 2]  # row 1 is the header row (§4.4)
    assert values(tables["values"], "__KEY_root") == [1, 1]
    assert values(tables["root"], "name") == ["report"]


def test_repeated_names_run_and_keys_associate(run_script, http_server):
    tables = run_script(REPEATED_SCRIPT, connections=serve(http_server, REPEATED)).tables
    assert list(tables) == ["self", "next", "links", "self_u0", "links_u0", "self_u1", "links_u1",
                            "customer", "data", "root"]
    assert {name: len(frame) for name, frame in tables.items()} == {
        "self": 1, "next": 1, "links": 1, "self_u0": 2, "links_u0": 2, "self_u1": 2, "links_u1": 2,
        "customer": 2, "data": 2, "root": 1}
    assert values(tables["self"], "href") == ["/orders?page=1"]
    assert values(tables["next"], "href_u0") == ["/orders?page=2"]
    assert values(tables["customer"], "id_u1") == ["C1", "C2"]
    assert values(tables["root"], "id") == ["page-1"]
    # each order reaches its own self link through the keys, as the data model associates them
    orders = tables["data"].merge(tables["links_u0"], on="__KEY_data").merge(tables["self_u0"], on="__KEY_links_u0")
    assert sorted(zip(orders["id_u0"], orders["href_u1"], strict=True)) == [("A1", "/orders/A1"), ("B2", "/orders/B2")]
    customers = tables["customer"].merge(tables["links_u1"], on="__KEY_customer").merge(
        tables["self_u1"], on="__KEY_links_u1")
    assert sorted(zip(customers["id_u1"], customers["href_u2"], strict=True)) == [
        ("C1", "/customers/C1"), ("C2", "/customers/C2")]


@pytest.mark.parametrize(
    ("document", "select", "load"),
    [
        ([{"a": 1, "b": "x"}, {"a": 2}], 'SQL SELECT\n    "a",\n    "b"\nFROM JSON (wrap on) "root";',
         "[root]:\nNoConcatenate\nLOAD\n    [a],\n    [b]\nRESIDENT RestConnectorMasterTable;"),
        (["x", "y"], 'SQL SELECT\n    "@Value"\nFROM JSON (wrap on) "root" ArrayValueAlias "@Value";',
         "[root]:\nNoConcatenate\nLOAD\n    [@Value]\nRESIDENT RestConnectorMasterTable;"),
    ],
    ids=["flat root array", "root scalar array"],
)
def test_a_flat_root_has_no_key_and_is_not_concatenated(run_script, http_server, document, select, load):
    script = generate_script(infer_schema(document), CONN)
    assert script == f"LIB CONNECT TO 'Orders API';\n\nRestConnectorMasterTable:\n{select}\n\n{load}\n\n" \
                     "DROP TABLE RestConnectorMasterTable;\n"
    assert len(run_script(script, connections=serve(http_server, document)).tables["root"]) == 2


def test_odd_names_are_quoted_so_they_load(run_script, http_server):
    document = {"a]b": 1, 'q"t': "x", "it's": {"k": 2}}
    script = generate_script(infer_schema(document), "It's")
    assert script.startswith("LIB CONNECT TO 'It''s';")
    assert '    "a]b",\n    "q""t",' in script  # SELECT: "" escapes a quote
    assert '    "a]b",\n    [q"t],' in script  # LOAD: brackets cannot hold ]
    result = run_script(script, connections={"It's": {"url": serve(http_server, document)[CONN]["url"]}})
    assert values(result.tables["root"], "a]b") == [1]
    assert values(result.tables["it's"], "k") == [2]


def test_merging_records_kinds_and_empty_tables():
    document = [
        {"a": None, "meta": None, "empty": [], "x": 1},
        {"meta": {"v": 1}, "b": 2, "empty": {}, "a": "z"},
    ]
    schema = infer_schema(document)
    assert [f.name for f in schema.fields] == ["a", "x", "b"]  # first seen; meta is a table
    assert [t.name for t in schema.children] == ["meta"]  # tables with no data are left out
    assert schema.records == 2 and schema.children[0].records == 1


def test_tree_shows_tables_fields_aliases_and_selection():
    schema = infer_schema(REPEATED)
    lines = tree_lines(schema, select_tables(schema, ["next"]))
    assert lines[:8] == [
        "root/  1 record",
        "    id",
        "    links/  1 record",
        "        self/  1 record  [not selected]",
        "            href",
        "        next/  1 record",
        "            href AS href_u0",
        "    data/  2 records  [not selected]",
    ]
    assert "        links_u0/  2 records  (data/links)  [not selected]" in lines


# -- --tables -----------------------------------------------------------------------------------


def test_tables_keeps_ancestors_and_names(run_script, http_server):
    schema = select_tables(infer_schema(REPEATED), ["next"])
    script = generate_script(schema, CONN)
    assert script == REPEATED_NEXT_ONLY
    tables = run_script(script, connections=serve(http_server, REPEATED)).tables
    assert list(tables) == ["next", "links", "root"]
    assert values(tables["next"], "href_u0") == ["/orders?page=2"]


def test_tables_by_name_label_or_path():
    schema = infer_schema(REPEATED)
    by_path = select_tables(schema, ["data/links"])
    assert [t.label for t in by_path.walk()] == ["root", "data", "links_u0"]
    assert select_tables(schema, ["links_u0"]) == by_path
    assert [t.label for t in select_tables(schema, ["links"]).walk()] == ["root", "links", "data", "links_u0",
                                                                          "customer", "links_u1"]


def test_a_parent_without_selected_children_has_no_key():
    script = generate_script(select_tables(infer_schema(NESTED), ["data"]), CONN)
    assert '        "__FK_data"\n    FROM "data" FK "__FK_data")\n' in script
    assert "__KEY_data" not in script and "customer" not in script


def test_from_file_with_tables_and_an_unknown_table(tmp_path, capsys):
    saved = tmp_path / "response.json"
    saved.write_text(json.dumps(REPEATED), encoding="utf-8")
    assert run_select(CONN, "--from-file", str(saved), "--tables", "next") == 0
    assert capsys.readouterr().out == REPEATED_NEXT_ONLY
    assert run_select(CONN, "--from-file", str(saved), "--tables", "next,nope") == 2  # bad usage
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "qscript: --tables: no table 'nope' in the response (tables: root, links, self, next, data," in captured.err
    assert "        self/  1 record\n" in captured.err  # the whole tree shows what can be picked


# -- the command --------------------------------------------------------------------------------


def test_from_file_writes_the_script_to_out(tmp_path, capsys):
    saved = tmp_path / "response.json"
    saved.write_bytes(b"\xef\xbb\xbf" + json.dumps(ARRAYS).encode())
    out = tmp_path / "load.qvs"
    assert run_select(CONN, "--from-file", str(saved), "--out", str(out)) == 0
    assert out.read_text(encoding="utf-8") == ARRAYS_SCRIPT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "    tags/  2 records\n        @Value\n" in captured.err
    assert f"script written to {out}" in captured.err


def test_fetches_with_the_connection_and_prints_to_stdout(tmp_path, http_server, capsys):
    http_server.route("/orders", Reply(body=NESTED))
    assert run_select(CONN, "--connections", connections_file(tmp_path, http_server)) == 0
    captured = capsys.readouterr()
    assert captured.out == NESTED_SCRIPT
    assert captured.err.startswith(f"GET {http_server.url('/orders')}\nroot/  1 record\n    count\n")
    assert [(r.method, r.path) for r in http_server.requests] == [("GET", "/orders")]


def test_url_override_adds_with_connection_and_runs(tmp_path, http_server, capsys, run_script):
    http_server.route("/v2/orders", Reply(body=REPEATED))
    path = connections_file(tmp_path, http_server, allow_with_connection=True)
    url = http_server.url("/v2/orders?page=1")
    assert run_select(CONN, "--connections", path, "--url", url, "--tables", "links/self") == 0
    script = capsys.readouterr().out
    assert f'FROM JSON (wrap on) "root" PK "__KEY_root"\nWITH CONNECTION (URL "{url}");\n' in script
    assert [r.query for r in http_server.requests] == ["page=1"]
    tables = run_script(script, connections=path).tables
    assert list(tables) == ["self", "links", "root"]
    assert values(tables["self"], "href") == ["/orders?page=1"]


def test_url_override_needs_allow_with_connection(tmp_path, http_server, capsys):
    path = connections_file(tmp_path, http_server)
    assert run_select(CONN, "--connections", path, "--url", http_server.url("/other")) == 1
    assert "--url needs allow_with_connection = true" in capsys.readouterr().err
    assert http_server.requests == []


@pytest.mark.parametrize(
    ("reply", "message"),
    [(Reply(404, "no such thing"), "HTTP 404 Not Found: 'no such thing'"),
     (Reply(body=b"<a/>", headers={"Content-Type": "application/xml"}), "the response is XML; qscript select reads"),
     (Reply(body=b"{}"), "the response has nothing to select"),
     (Reply(body=b'{"a": '), "the response is not valid JSON")],
    ids=["http error", "xml", "empty object", "broken json"],
)
def test_failures_exit_1_with_a_reason(tmp_path, http_server, capsys, reply, message):
    http_server.route("/orders", reply)
    assert run_select(CONN, "--connections", connections_file(tmp_path, http_server)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_unknown_connection_encrypted_headers_and_missing_file(tmp_path, http_server, capsys):
    path = connections_file(tmp_path, http_server)
    assert run_select("Nope", "--connections", path) == 1
    assert "connection 'Nope' is not defined" in capsys.readouterr().err
    with open(path, "a", encoding="utf-8") as file:
        file.write(f'[connections."{CONN}".headers]\nAuthorization = {{ value = "enc:AbC", encrypt = true }}\n')
    assert run_select(CONN, "--connections", path) == 1
    assert "encrypted headers (Authorization) cannot be sent by qscript select" in capsys.readouterr().err
    assert http_server.requests == []
    assert run_select(CONN, "--from-file", str(tmp_path / "missing.json")) == 1
    assert "cannot read" in capsys.readouterr().err
