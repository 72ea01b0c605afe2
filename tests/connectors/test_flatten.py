"""The REST master table: documents flattened along SELECT trees, and the key strategies."""

from __future__ import annotations

import json
import random
import time
from hashlib import sha256

import numpy as np
import pytest

from qscript.connectors.rest.decode import decode_csv, decode_json
from qscript.connectors.rest.decode_xml import decode_xml
from qscript.connectors.rest.flatten import master_table
from qscript.connectors.rest.keys import canonical, check_strategy, qualified_key, record_key
from qscript.script.nodes import SelectField, SelectTable, SourceFormat

JSON_ON = SourceFormat("json", wrap=True)
JSON_OFF = SourceFormat("json", wrap=False)


def F(name: str, alias: str | None = None) -> SelectField:  # noqa: N802 - reads like the script
    return SelectField(name, alias)


def T(name, *fields, children=(), pk=None, fk=None, alias=None) -> SelectTable:  # noqa: N802
    return SelectTable(name, tuple(F(f) if isinstance(f, str) else f for f in fields), tuple(children), pk, fk, alias)


def flat(document, root, fmt=JSON_ON, keys="sequence", **options) -> tuple[list[str], list[dict], dict]:
    """Names, the rows as dicts of non-NULL cells, and the columns as lists (all asserted whole)."""
    names, columns, length = master_table(document, root, fmt, keys, **options)
    assert list(columns) == names
    assert all(len(column) == length for column in columns.values())
    values = {name: columns[name].values() for name in names}
    rows = [{name: values[name][i] for name in names if values[name][i] is not None} for i in range(length)]
    return names, rows, values


# -- §4.1 -----------------------------------------------------------------------------------------

ORDERS = b"""{"data":  [{"id": "A1", "paid": true,  "tags": ["new", "vip"]},
           {"id": "B2", "paid": false, "tags": []}],
 "links": {"next": {"href": "https://api.example.com/v1/orders?page=2"}}}"""

ORDERS_SELECT = T(
    "root",
    "__KEY_root",
    children=(
        T(
            "data", "id", "paid", "__KEY_data", "__FK_data",
            children=(T("tags", "@Value", "__FK_tags", fk="__FK_tags", alias="@Value"),),
            pk="__KEY_data", fk="__FK_data",
        ),
        T(
            "links", "__KEY_links", "__FK_links",
            children=(T("next", "href", "__FK_next", fk="__FK_next"),),
            pk="__KEY_links", fk="__FK_links",
        ),
    ),
    pk="__KEY_root",
)


def test_worked_example_of_the_reference():
    names, rows, values = flat(decode_json(ORDERS), ORDERS_SELECT)
    assert names == [
        "__KEY_root", "id", "paid", "__KEY_data", "__FK_data", "@Value", "__FK_tags",
        "__KEY_links", "__FK_links", "href", "__FK_next",
    ]
    assert rows == [
        {"@Value": "new", "__FK_tags": 1},
        {"@Value": "vip", "__FK_tags": 1},
        {"id": "A1", "paid": "True", "__KEY_data": 1, "__FK_data": 1},
        {"id": "B2", "paid": "False", "__KEY_data": 2, "__FK_data": 1},
        {"href": "https://api.example.com/v1/orders?page=2", "__FK_next": 1},
        {"__KEY_links": 1, "__FK_links": 1},
        {"__KEY_root": 1},
    ]
    n = None
    assert values == {
        "__KEY_root": [n, n, n, n, n, n, 1.0],
        "id": [n, n, "A1", "B2", n, n, n],
        "paid": [n, n, "True", "False", n, n, n],
        "__KEY_data": [n, n, 1.0, 2.0, n, n, n],
        "__FK_data": [n, n, 1.0, 1.0, n, n, n],
        "@Value": ["new", "vip", n, n, n, n, n],
        "__FK_tags": [1.0, 1.0, n, n, n, n, n],
        "__KEY_links": [n, n, n, n, n, 1.0, n],
        "__FK_links": [n, n, n, n, n, 1.0, n],
        "href": [n, n, n, n, "https://api.example.com/v1/orders?page=2", n, n],
        "__FK_next": [n, n, n, n, 1.0, n, n],
    }


def test_column_storage_is_typed():
    _names, columns, _ = master_table(decode_json(ORDERS), ORDERS_SELECT, JSON_ON, "sequence")
    assert columns["__KEY_data"].text is None and columns["__KEY_data"].num.dtype == np.float64
    assert columns["id"].num is None and columns["id"].text.dtype == object


# -- wrap, roots, values --------------------------------------------------------------------------


def test_wrap_off_reads_the_named_top_level_property():
    doc = {"data": [{"id": "1", "attributes": {"name": "x"}}, {"id": "2", "attributes": {"name": "y"}}],
           "meta": {"total": 2}}
    select = T("data", "id", "__KEY_data",
               children=(T("attributes", "name", "__FK_attributes", fk="__FK_attributes"),), pk="__KEY_data")
    names, rows, _ = flat(doc, select, JSON_OFF)
    assert names == ["id", "__KEY_data", "name", "__FK_attributes"]
    assert rows == [
        {"name": "x", "__FK_attributes": 1},
        {"id": "1", "__KEY_data": 1},
        {"name": "y", "__FK_attributes": 2},
        {"id": "2", "__KEY_data": 2},
    ]
    assert flat({"data": {"id": "9"}}, T("data", "id"), JSON_OFF)[1] == [{"id": "9"}]
    assert flat({"other": 1}, T("data", "id"), JSON_OFF)[1:] == ([], {"id": []})
    assert flat([{"data": [{"id": "a"}]}, {"data": {"id": "b"}}], T("data", "id"), JSON_OFF)[1] == [
        {"id": "a"}, {"id": "b"}
    ]


def test_root_array_and_root_object():
    assert flat([{"id": 1}, {"id": 2}, {}], T("root", "id"))[2] == {"id": [1.0, 2.0, None]}
    assert flat({"id": 1, "flag": True}, T("root", "flag"))[2] == {"flag": ["True"]}
    assert flat([], T("root", "id"))[2] == {"id": []}
    assert flat(None, T("root", "id"))[2] == {"id": []}


def test_missing_and_unselected_properties():
    doc = [{"a": "x", "skip": {"deep": [1, 2]}, "other": 5}, {"b": "y"}]
    assert flat(doc, T("root", "a", "b", "never"))[2] == {"a": ["x", None], "b": [None, "y"], "never": [None, None]}


def test_values_keep_their_json_types():
    doc = [{"v": "007"}, {"v": 7}, {"v": 2.5}, {"v": True}, {"v": False}, {"v": None}, {"v": {"o": 1}}, {"v": [1]}]
    _, columns, _ = master_table(doc, T("root", "v"), JSON_ON, "sequence")
    column = columns["v"]
    assert column.values() == ["007", 7.0, 2.5, "True", "False", None, None, None]
    assert list(column.raw_text()) == ["007", None, None, "True", "False", None, None, None]
    assert flat([{"v": True}, {"v": None}], T("root", "v"))[2] == {"v": ["True", None]}
    assert flat([{"v": 1}, {"v": None}], T("root", "v"))[2] == {"v": [1.0, None]}


def test_aliases_and_u0_names():
    doc = {"self": {"href": "/a"}, "links": {"self": {"href": "/b"}}}
    select = T(
        "root", "__KEY_root",
        children=(
            T("self", F("href"), "__FK_self", fk="__FK_self"),
            T("links", "__KEY_links", "__FK_links", pk="__KEY_links", fk="__FK_links",
              children=(T("self", F("href", "href_u0"), F("__FK_self_u0"), fk="__FK_self_u0"),)),
        ),
        pk="__KEY_root",
    )
    names, rows, _ = flat(doc, select)
    assert names == ["__KEY_root", "href", "__FK_self", "__KEY_links", "__FK_links", "href_u0", "__FK_self_u0"]
    assert rows == [
        {"href": "/a", "__FK_self": 1},
        {"href_u0": "/b", "__FK_self_u0": 1},
        {"__KEY_links": 1, "__FK_links": 1},
        {"__KEY_root": 1},
    ]
    assert flat([{"id": "x"}], T("root", F("id", "Order Id")))[0] == ["Order Id"]


def test_same_output_name_in_two_tables_shares_one_column():
    doc = {"a": [{"id": "1"}], "b": {"id": "2"}}
    names, _, values = flat(doc, T("root", children=(T("a", "id"), T("b", "id"))))
    assert (names, values) == (["id"], {"id": ["1", "2", None]})


def test_declared_but_unlisted_keys_are_not_output():
    doc = {"items": [{"id": "x", "parts": [{"p": 1}]}]}
    select = T("root", children=(
        T("items", "id", pk="__KEY_items", fk="__FK_items",
          children=(T("parts", "p", "__FK_parts", fk="__FK_parts"),)),
    ), pk="__KEY_root")
    names, rows, _ = flat(doc, select)
    assert names == ["id", "p", "__FK_parts"]
    assert rows == [{"p": 1, "__FK_parts": 1}, {"id": "x"}, {}]


# -- arrays ---------------------------------------------------------------------------------------


def test_scalar_arrays_with_array_value_alias():
    doc = {"users": [{"name": "a", "roles": ["admin", "dev"]}, {"name": "b", "roles": "solo"}]}
    for role in (F("@Value", "Role"), F("Role")):
        select = T("root", children=(
            T("users", "name", "__KEY_users", pk="__KEY_users", children=(
                T("roles", role, "__FK_roles", fk="__FK_roles", alias="Role"),
            )),
        ))
        names, rows, _ = flat(doc, select)
        assert names == ["name", "__KEY_users", "Role", "__FK_roles"]
        assert rows == [
            {"Role": "admin", "__FK_roles": 1},
            {"Role": "dev", "__FK_roles": 1},
            {"name": "a", "__KEY_users": 1},
            {"Role": "solo", "__FK_roles": 2},
            {"name": "b", "__KEY_users": 2},
            {},
        ]


def test_root_level_scalar_array_under_wrap_off():
    doc = {"types": ["a", "b", None, 3]}
    assert flat(doc, T("types", "@Value", alias="@Value"), JSON_OFF)[2] == {"@Value": ["a", "b", None, 3.0]}


def test_arrays_of_arrays():
    doc = {"values": [["h1", "h2"], ["a", "b"]]}
    select = T("root", children=(
        T("values", "__KEY_values", "__FK_values", pk="__KEY_values", fk="__FK_values", children=(
            T("values", F("@Value"), "__FK_values_u0", fk="__FK_values_u0", alias="@Value"),
        )),
    ), pk="__KEY_root")
    names, rows, _ = flat(doc, select)
    assert names == ["__KEY_values", "__FK_values", "@Value", "__FK_values_u0"]
    assert rows == [
        {"@Value": "h1", "__FK_values_u0": 1},
        {"@Value": "h2", "__FK_values_u0": 1},
        {"__KEY_values": 1, "__FK_values": 1},
        {"@Value": "a", "__FK_values_u0": 2},
        {"@Value": "b", "__FK_values_u0": 2},
        {"__KEY_values": 2, "__FK_values": 1},
        {},
    ]


# -- keys -----------------------------------------------------------------------------------------


def test_sequence_keys_restart_for_every_call():
    first = flat(decode_json(ORDERS), ORDERS_SELECT)[2]
    second = flat(decode_json(ORDERS), ORDERS_SELECT)[2]
    assert first == second
    assert first["__KEY_data"][2:4] == [1.0, 2.0]


def test_sequence_start_continues_across_pages():
    state: dict = {}
    page1 = flat(decode_json(ORDERS), ORDERS_SELECT, sequence_start=state)[2]
    assert state == {"root": 1, "root/data": 2, "root/data/tags": 2, "root/links": 1, "root/links/next": 1}
    page2 = flat(decode_json(ORDERS), ORDERS_SELECT, sequence_start=state)[2]
    assert page1["__KEY_data"][2:4] == [1.0, 2.0]
    assert page2["__KEY_data"][2:4] == [3.0, 4.0]
    assert page2["__FK_data"][2:4] == [2.0, 2.0]
    assert page2["__FK_tags"][:2] == [3.0, 3.0]
    assert page2["__KEY_root"][6] == 2.0
    assert state["root/data"] == 4


def test_current_record_keys_are_stable_content_hashes():
    doc = {"data": [{"id": "A", "n": 1, "kids": [{"k": "x"}]}, {"n": 1.0, "id": "A", "kids": [{"k": "y"}]}]}
    select = T("root", children=(
        T("data", "id", "__KEY_data", pk="__KEY_data",
          children=(T("kids", "k", "__FK_kids", fk="__FK_kids"),)),
    ))
    _, rows, values = flat(doc, select, keys="current_record")
    assert values == flat(json.loads(json.dumps(doc)), select, keys="current_record")[2]
    expected = sha256(b'[["id","A"],["n",1.0]]').hexdigest()[:16]
    assert rows == [
        {"k": "x", "__FK_kids": expected},
        {"id": "A", "__KEY_data": expected},  # equal records (field order and 1 vs 1.0 aside): equal keys
        {"k": "y", "__FK_kids": expected},
        {"id": "A", "__KEY_data": expected},
        {},
    ]


def test_fully_qualified_keys_separate_equal_children_of_different_parents():
    doc = {"orders": [{"no": 1, "lines": [{"sku": "S"}]}, {"no": 2, "lines": [{"sku": "S"}]}]}
    select = T("root", children=(
        T("orders", "no", "__KEY_orders", pk="__KEY_orders", children=(
            T("lines", "sku", "__KEY_lines", "__FK_lines", pk="__KEY_lines", fk="__FK_lines"),
        )),
    ))
    _, current, _ = flat(doc, select, keys="current_record")
    assert current[0]["__KEY_lines"] == current[2]["__KEY_lines"]
    _, qualified, values = flat(doc, select, keys="fully_qualified")
    assert qualified[0]["__KEY_lines"] != qualified[2]["__KEY_lines"]
    assert qualified[0]["__FK_lines"] == qualified[1]["__KEY_orders"] != qualified[2]["__FK_lines"]
    root_key = record_key(doc)
    order_key = qualified_key(root_key, doc["orders"][0])
    assert qualified[1]["__KEY_orders"] == order_key
    assert qualified[0]["__KEY_lines"] == sha256((order_key + '[["sku","S"]]').encode()).hexdigest()[:16]
    assert values == flat(doc, select, keys="fully_qualified")[2]


def test_no_keys_at_all():
    names, rows, _ = flat(decode_json(ORDERS), ORDERS_SELECT, keys="none")
    assert names == ["id", "paid", "@Value", "href"]
    assert rows == [{"@Value": "new"}, {"@Value": "vip"}, {"id": "A1", "paid": "True"},
                    {"id": "B2", "paid": "False"}, {"href": "https://api.example.com/v1/orders?page=2"}, {}, {}]


def test_canonical_form():
    record = {"b": True, "a": "é", "n": None, "x": [1], "o": {}, "i": 2}
    assert canonical(record) == '[["a","é"],["b",true],["i",2.0],["n",null]]'
    assert canonical("v") == '[["@Value","v"]]'
    assert canonical(["a", ["b"], 1]) == '[["#0","a"],["#2",1.0]]'
    with pytest.raises(ValueError, match="key_generation must be one of"):
        check_strategy("sequence_id")


# -- response headers -----------------------------------------------------------------------------


def test_response_headers_table_links_to_the_first_root_record():
    select = T("root", "id", "__KEY_root", pk="__KEY_root", children=(
        T("_response_header", "Content-Type", "x-total-count", "Missing", "__FK__response_header",
          fk="__FK__response_header"),
    ))
    headers = {"Content-Type": "application/json", "X-Total-Count": "2"}
    names, rows, _ = flat([{"id": "a"}, {"id": "b"}], select, response_headers=headers)
    assert names == ["id", "__KEY_root", "Content-Type", "x-total-count", "Missing", "__FK__response_header"]
    assert rows == [
        {"Content-Type": "application/json", "x-total-count": "2", "__FK__response_header": 1},
        {"id": "a", "__KEY_root": 1},
        {"id": "b", "__KEY_root": 2},
    ]
    assert flat([], select, response_headers=headers)[1] == []
    assert flat([{"id": "a"}], select)[1] == [{"id": "a", "__KEY_root": 1}]  # not requested: from the document


# -- XML and CSV ----------------------------------------------------------------------------------


def test_xml_master_table():
    body = b"""<shop:orders xmlns:shop="urn:shop" version="2">
  <shop:order id="7"><status>open</status><price currency="EUR">10.50</price>
    <comment>first</comment><comment>second</comment></shop:order>
  <shop:order id="8"><status>done</status><comment>only</comment></shop:order>
</shop:orders>"""
    select = T("root", "version", "__KEY_root", pk="__KEY_root", children=(
        T("order", "id", "status", "__KEY_order", "__FK_order", pk="__KEY_order", fk="__FK_order", children=(
            T("price", "currency", "@Content", "__FK_price", fk="__FK_price"),
            T("comment", "@Content", "__FK_comment", fk="__FK_comment"),
        )),
    ))
    names, rows, _ = flat(decode_xml(body, "prohibit"), select, SourceFormat("xml"))
    assert names == ["version", "__KEY_root", "id", "status", "__KEY_order", "__FK_order",
                     "currency", "@Content", "__FK_price", "__FK_comment"]
    assert rows == [
        {"currency": "EUR", "@Content": "10.50", "__FK_price": 1},
        {"@Content": "first", "__FK_comment": 1},
        {"@Content": "second", "__FK_comment": 1},
        {"id": "7", "status": "open", "__KEY_order": 1, "__FK_order": 1},
        {"@Content": "only", "__FK_comment": 2},  # a single simple element read as a table
        {"id": "8", "status": "done", "__KEY_order": 2, "__FK_order": 1},
        {"version": "2", "__KEY_root": 1},
    ]


def test_csv_master_table():
    fmt = SourceFormat("csv", header=False, delimiter=",", quote='"')
    document = decode_csv(b"a,b,c\n1,2\n", False, ",", '"')
    select = T("CSV_source", "col_1", F("col_2", "second"), "col_3", "col_9", pk="__KEY_x")
    names, _rows, values = flat(document, select, fmt)
    assert names == ["col_1", "second", "col_3", "col_9"]
    assert values == {"col_1": ["a", "1"], "second": ["b", "2"], "col_3": ["c", None], "col_9": [None, None]}
    lines = decode_csv(b"line one\n\nline 3\n", False, "\\n", '"')
    assert flat(lines, T("CSV_source", "col_1"), SourceFormat("csv", delimiter="\\n"))[2] == {
        "col_1": ["line one", "", "line 3"]
    }
    assert flat(([], []), T("CSV_source", "col_1"), fmt)[2] == {"col_1": []}


# -- speed ----------------------------------------------------------------------------------------


def test_flattening_100000_nested_records_is_fast():
    rng = random.Random(7)
    doc = {"data": [
        {"id": i, "name": f"n{i}", "active": i % 3 == 0,
         "items": [{"sku": f"s{j}", "qty": j, "price": 1.25 * j} for j in range(rng.randint(1, 4))]}
        for i in range(100_000)
    ]}
    select = T("root", "__KEY_root", pk="__KEY_root", children=(
        T("data", "id", "name", "active", "__KEY_data", "__FK_data", pk="__KEY_data", fk="__FK_data", children=(
            T("items", "sku", "qty", "price", "__FK_items", fk="__FK_items"),
        )),
    ))
    items = sum(len(record["items"]) for record in doc["data"])
    started = time.perf_counter()
    _names, columns, length = master_table(doc, select, JSON_ON, "sequence")
    elapsed = time.perf_counter() - started
    assert length == 1 + 100_000 + items
    assert columns["__FK_items"].value(0) == 1.0 and columns["id"].value(length - 2) == 99_999.0
    assert elapsed < 5.0, f"flattening took {elapsed:.2f} s"
