"""String, hash and JSON functions: exact values, NULL rules, and row path = column path."""

from __future__ import annotations

import pytest
from exprkit import NULL, assert_column_matches_rows, assert_constant_column, scalar

from qscript.expr.values import Dual

DOC = '{"a":{"xyz":"XYZ"},"b":[123,"abc","ABC"]}'  # the help page's example document






CASES = [
    # PurgeChar / KeepChar
    ("PurgeChar('a1b2c3', '123')", "abc"),
    ("PurgeChar('a-b.c', '.-')", "abc"),
    ("PurgeChar('abc', '')", "abc"),
    ("PurgeChar(Null(), 'a')", NULL),
    ("PurgeChar('abc', Null())", NULL),
    ("PurgeChar(1234.5, '4')", "123.5"),
    ("KeepChar('a1b2c3', '123')", "123"),
    ("KeepChar('a]b^c-d', ']^-')", "]^-"),
    ("KeepChar('abc', '')", ""),
    ("KeepChar(Null(), 'a')", NULL),
    # Capitalize
    ("Capitalize('star trek')", "Star Trek"),
    ("Capitalize('AA bb cC Dd')", "Aa Bb Cc Dd"),
    ("Capitalize('  two  spaces ')", "  Two  Spaces "),
    ("Capitalize('mary-jane 3RD')", "Mary-jane 3rd"),
    ("Capitalize('')", ""),
    ("Capitalize(Null())", NULL),
    # LTrim / RTrim (spaces only)
    ("LTrim('  a b  ')", "a b  "),
    ("RTrim('  a b  ')", "  a b"),
    ("LTrim(Null())", NULL),
    ("RTrim(Null())", NULL),
    ("Len(LTrim('   '))", 0.0),
    # Repeat
    ("Repeat('ab', 3)", "ababab"),
    ("Repeat('ab')", "ab"),
    ("Repeat('ab', 2.9)", "abab"),
    ("Repeat('ab', 0)", ""),
    ("Repeat('ab', -1)", ""),
    ("Repeat(' * ', 2)", " *  * "),
    ("Repeat(Null(), 2)", NULL),
    ("Repeat('ab', Null())", NULL),
    ("Repeat('x', 1e12)", NULL),
    # Hashes: not Qlik's values (undocumented algorithm), but stable and of Qlik's lengths
    ("Hash128('abc', 'xyz', '123')", "nwmaX-ZFKK1q_L_eRUP1kQ"),
    ("Len(Hash128('a'))", 22.0),
    ("Len(Hash160('a'))", 27.0),
    ("Len(Hash256('a'))", 43.0),
    ("Hash128('ab', 'c') = Hash128('a', 'bc')", 0.0),
    ("Hash128(1) = Hash128('1')", -1.0),
    ("Hash128('abc', Null())", NULL),
    ("Hash256(Null())", NULL),
    # JsonGet (help page examples)
    (f"JsonGet('{DOC}', '')", DOC),
    (f"JsonGet('{DOC}', '/a')", '{"xyz":"XYZ"}'),
    (f"JsonGet('{DOC}', '/a/xyz')", "XYZ"),
    (f"JsonGet('{DOC}', '/b')", '[123,"abc","ABC"]'),
    (f"JsonGet('{DOC}', '/b/0')", Dual("123", 123.0)),
    (f"JsonGet('{DOC}', '/b/1')", "abc"),
    (f"JsonGet('{DOC}', '/b/3')", NULL),
    (f"JsonGet('{DOC}', '/b/01')", NULL),
    (f"JsonGet('{DOC}', 'a')", NULL),
    ("JsonGet('{\"a\":\"b\"}', '/b')", NULL),
    ("JsonGet('{\"a\"}', '/a')", NULL),
    ("JsonGet('{ \"a\" : [ 1.50 , true, null ] }', '/a')", "[1.50,true,null]"),
    ("JsonGet('{\"a\":[1.50,true,null]}', '/a/0')", Dual("1.50", 1.5)),
    ("JsonGet('{\"a\":[1.50,true,null]}', '/a/1')", "true"),
    ("JsonGet('{\"a\":[1.50,true,null]}', '/a/2')", NULL),
    ("JsonGet('{\"a/b\":1,\"m~n\":2}', '/a~1b')", Dual("1", 1.0)),
    ("JsonGet('{\"a/b\":1,\"m~n\":2}', '/m~0n')", Dual("2", 2.0)),
    ("JsonGet('{\"k\":\"é\\u00e9\"}', '/k')", "éé"),
    ("JsonGet('NaN', '')", NULL),
    ("JsonGet(Null(), '')", NULL),
    ("JsonGet('{}', Null())", NULL),
    # JsonSet (help page examples)
    ("JsonSet('{}', '/a', '\"b\"')", '{"a":"b"}'),
    ("JsonSet('[]', '/0', '\"x\"')", '["x"]'),
    ("JsonSet('\"abc\"', '', '123')", "123"),
    ("JsonSet('\"abc\"', '/x', '123')", NULL),
    ("JsonSet('{\"a\":{\"b\":\"c\"}}', 'a/b', '\"x\"')", NULL),
    ("JsonSet('{\"a\":\"b\"}', '/a', 'abc')", NULL),
    ("JsonSet('{ \"p\": 1200, \"q\": 2 }', '/p', 1100)", '{"p":1100,"q":2}'),
    ("JsonSet('{\"a\":{\"b\":1}}', '/a/c', '[1, 2]')", '{"a":{"b":1,"c":[1,2]}}'),
    ("JsonSet('[1,2]', '/-', '3')", "[1,2,3]"),
    ("JsonSet('[1,2]', '/2', '3')", "[1,2,3]"),
    ("JsonSet('[1,2]', '/3', '3')", NULL),
    ("JsonSet('[1,2]', '/0', 'null')", "[null,2]"),
    ("JsonSet('{}', '/a/b', '1')", NULL),
    ("JsonSet('{bad}', '/a', '1')", NULL),
    ("JsonSet(Null(), '/a', '1')", NULL),
    ("JsonSet('{}', '/a', Null())", NULL),
    # IsJson (help page examples)
    ("IsJson('null')", -1.0),
    ("IsJson('\"abc\"', 'value')", -1.0),
    ("IsJson('\"abc\"', 'string')", -1.0),
    ("IsJson(123, 'number')", -1.0),
    ("IsJson('text')", 0.0),
    ("IsJson('\"text\"', 'number')", 0.0),
    ("IsJson('\"text\"', 'text')", 0.0),
    ("IsJson('{\"id\": 1}', 'Object')", -1.0),
    ("IsJson('{\"id\": 5, name: 1}')", 0.0),
    ("IsJson('[1]', 'array')", -1.0),
    ("IsJson('true', 'boolean')", -1.0),
    ("IsJson('1', 'boolean')", 0.0),
    ("IsJson(' null ', 'null')", -1.0),
    ("IsJson('')", 0.0),
    ("IsJson(Null())", 0.0),
    ("IsJson('1', Null())", 0.0),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_scalar_path(source, expected):
    assert scalar(source) == expected


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_constant_column_repeats_scalar(source, expected):
    assert_constant_column(source, expected)


MIXED_TEXT = ["a1b2 c3", None, "", Dual("007", 7.0), 12.5, "  Mixed CASE  ", "x-y_z"]
MIXED_JSON = ['{"a":[1,"x"]}', None, "", "[0]", '{"a":{"b":true}}', '"s"', "{bad"]
MIXED_PATH = ["/a/0", "/a", "", None, "/a/b", "", "/a"]

ROW_CASES = [
    ("PurgeChar(s, '0123 ')", {"s": MIXED_TEXT}),
    ("PurgeChar(s, t)", {"s": MIXED_TEXT, "t": ["1", "a", None, "0", ".", " ", "-_"]}),
    ("KeepChar(s, 'abc0123')", {"s": MIXED_TEXT}),
    ("KeepChar(s, t)", {"s": MIXED_TEXT, "t": ["1", "a", None, "0", ".", " ", "-_"]}),
    ("Capitalize(s)", {"s": MIXED_TEXT}),
    ("LTrim(s)", {"s": MIXED_TEXT}),
    ("RTrim(s)", {"s": MIXED_TEXT}),
    ("Repeat(s, n)", {"s": MIXED_TEXT, "n": [2, 3, None, 1.5, "2", 0, -1]}),
    ("Repeat(s)", {"s": MIXED_TEXT}),
    ("Hash128(s, n)", {"s": MIXED_TEXT, "n": [2, 3, None, 1.5, "2", 0, -1]}),
    ("Hash160(s)", {"s": MIXED_TEXT}),
    ("Hash256(s, s, n)", {"s": MIXED_TEXT, "n": [2, 3, None, 1.5, "2", 0, -1]}),
    ("JsonGet(j, p)", {"j": MIXED_JSON, "p": MIXED_PATH}),
    ("JsonSet(j, p, '[1]')", {"j": MIXED_JSON, "p": MIXED_PATH}),
    ("JsonSet(j, '/a', v)", {"j": MIXED_JSON, "v": ["1", "x", '"x"', None, "{}", "2", "3"]}),
    ("IsJson(j)", {"j": MIXED_JSON}),
    ("IsJson(j, t)", {"j": MIXED_JSON, "t": ["object", "array", None, "array", "Object", "string", "value"]}),
]


@pytest.mark.parametrize(("source", "fields"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_column_path_matches_row_path(source, fields):
    assert_column_matches_rows(source, fields)


def test_json_set_keeps_number_text_and_key_order():
    document = '{ "order_id": "12345", "items": {"price": 1200, "rate": 1.50}, "total": 2.4e3 }'
    source = f"JsonSet(JsonSet('{document}', '/items/price', 1100), '/total', 2200)"
    assert scalar(source) == '{"order_id":"12345","items":{"price":1100,"rate":1.50},"total":2200}'


def test_hashes_are_stable_and_distinguish_values():
    values = [scalar(f"Hash256('{v}')") for v in ("a", "b", "A", "a ")]
    assert len(set(values)) == 4
    assert all(set(v) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for v in values)
    assert scalar("Hash256('a')") == values[0]
