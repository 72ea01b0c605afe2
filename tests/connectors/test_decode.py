"""Response-type detection and JSON, CSV and XML decoding of REST bodies."""

from __future__ import annotations

import socket
import time

import pytest

from qscript.connectors.rest.decode import decode_csv, decode_json, detect_response_type
from qscript.connectors.rest.decode_xml import decode_xml
from qscript.errors import WrongFormatError

# -- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", "json"),
        ("application/json; charset=utf-8", "json"),
        ("Application/JSON", "json"),
        ("application/vnd.api+json", "json"),
        ("application/problem+json; charset=utf-8", "json"),
        ("text/xml", "xml"),
        ("application/xml; charset=ISO-8859-1", "xml"),
        ("application/atom+xml", "xml"),
        ("text/csv", "csv"),
        ("text/csv; header=present", "csv"),
    ],
)
def test_content_type_decides_first(content_type, expected):
    # The body says otherwise: the header wins.
    assert detect_response_type(content_type, b"plain words", "json", True) == expected
    assert detect_response_type(content_type, b"{}" if expected != "json" else b"<a/>", "csv", True) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": 1}', "json"),
        (b"[1, 2]", "json"),
        (b"\xef\xbb\xbf \r\n\t [1]", "json"),
        (b"<?xml version='1.0'?><a/>", "xml"),
        (b"\xef\xbb\xbf\n  <a/>", "xml"),
    ],
)
def test_sniffing_when_the_content_type_says_nothing(body, expected):
    assert detect_response_type(None, body, "csv", True) == expected
    assert detect_response_type("text/plain", body, "csv", True) == expected
    assert detect_response_type("application/octet-stream", body, "csv", True) == expected


def test_configured_type_is_the_last_resort():
    assert detect_response_type("text/plain", b"a,b\n1,2", "csv", True) == "csv"
    assert detect_response_type(None, b"", "xml", True) == "xml"
    assert detect_response_type(None, b"a;b", "auto", True) == "json"


def test_without_auto_detect_the_configured_type_always_wins():
    assert detect_response_type("application/json", b"{}", "xml", False) == "xml"
    assert detect_response_type("text/csv", b"<a/>", "JSON", False) == "json"


# -- JSON -----------------------------------------------------------------------------------------


def test_json_values():
    assert decode_json(b'{"s": "007", "i": 7, "f": 1.5, "t": true, "n": null, "a": [1, {"b": []}]}') == {
        "s": "007", "i": 7, "f": 1.5, "t": True, "n": None, "a": [1, {"b": []}]
    }


def test_json_byte_order_marks():
    assert decode_json(b'\xef\xbb\xbf{"a": "\xc3\xa9"}') == {"a": "é"}
    assert decode_json('{"a": "é"}'.encode("utf-16")) == {"a": "é"}


@pytest.mark.parametrize("body", [b'{"a": 1', b"{'a': 1}", b"[1, 2,]", b"not json", b"\xff\xfe\xfd", b"NaN"])
def test_invalid_json_is_script_error_12(body):
    with pytest.raises(WrongFormatError) as info:
        decode_json(body)
    assert info.value.code == 12
    assert info.value.message.startswith("the response is not valid JSON: ")


def test_invalid_json_message_is_short_and_does_not_quote_the_body():
    body = b'{"secret": "' + b"x" * 10_000 + b'", oops}'
    with pytest.raises(WrongFormatError) as info:
        decode_json(body)
    assert len(info.value.message) < 250
    assert "xxxxxxxxxx" not in info.value.message


@pytest.mark.parametrize("body", [b"", b"  \r\n", b"\xef\xbb\xbf"])
def test_empty_json_body(body):
    with pytest.raises(WrongFormatError, match="the body is empty"):
        decode_json(body)


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_header_off_names_col_n_up_to_the_widest_row():
    assert decode_csv(b"a,b\n1,2,3\n\nx\n", False, ",", '"') == (
        ["col_1", "col_2", "col_3"],
        [["a", "b"], ["1", "2", "3"], ["x"]],
    )


def test_csv_header_on_takes_names_from_the_first_row():
    assert decode_csv(b"id,,name\r\n1,2,Ann,extra\r\n3,4,Bob\r\n", True, ",", '"') == (
        ["id", "col_2", "name", "col_4"],
        [["1", "2", "Ann", "extra"], ["3", "4", "Bob"]],
    )


def test_csv_header_on_empty_body():
    assert decode_csv(b"", True, ",", '"') == ([], [])


def test_csv_quotes_and_doubled_quotes():
    body = b'name,remark\n"Smith, J.","say ""hi"""\n"two\nlines",x\n'
    assert decode_csv(body, True, ",", '"') == (["name", "remark"], [["Smith, J.", 'say "hi"'], ["two\nlines", "x"]])


def test_csv_tab_delimiter_as_written_in_the_script():
    assert decode_csv(b"a\tb\n1\t2\n", True, "\\t", '"') == (["a", "b"], [["1", "2"]])
    assert decode_csv(b"a\tb\n1\t2\n", True, "\t", '"') == (["a", "b"], [["1", "2"]])


def test_csv_semicolon_and_single_quote():
    assert decode_csv(b"a;b\n'x;y';z\n", True, ";", "'") == (["a", "b"], [["x;y", "z"]])


def test_csv_newline_delimiter_reads_one_row_per_line_and_keeps_blank_lines():
    script = b'LOAD "a" AS b;\r\n\r\n  // comment, with comma\n"quoted" start\nlast'
    expected = [['LOAD "a" AS b;'], [""], ["  // comment, with comma"], ['"quoted" start'], ["last"]]
    for delimiter in ("\\n", "\n"):
        for quote in ("\\n", "\n", delimiter, ""):
            assert decode_csv(script, False, delimiter, quote) == (["col_1"], expected)


def test_csv_newline_delimiter_with_a_real_quote():
    # The community script loader's other spelling: quote """" (the one character ").
    assert decode_csv(b"a, b\n\nSET x = 1;\n", False, "\\n", '"') == (["col_1"], [["a, b"], [""], ["SET x = 1;"]])


def test_csv_quote_equal_to_the_delimiter_disables_quoting():
    assert decode_csv(b'"a","b"\n', False, '"', '"') == (["col_1", "col_2", "col_3", "col_4", "col_5"],
                                                       [["", "a", ",", "b", ""]])
    assert decode_csv(b'"a,b",c\n', False, ",", "\\n") == (["col_1", "col_2", "col_3"], [['"a', 'b"', "c"]])


def test_csv_byte_order_mark_is_stripped():
    assert decode_csv(b"\xef\xbb\xbfname\nx\n", True, ",", '"') == (["name"], [["x"]])


def test_csv_other_encoding():
    assert decode_csv("n\nCafé\n".encode("latin-1"), True, ",", '"', encoding="latin-1") == (["n"], [["Café"]])


def test_csv_errors_are_script_error_12():
    with pytest.raises(WrongFormatError, match="not valid CSV") as info:
        decode_csv(b"a\n\xff\xfe\n", False, ",", '"')
    assert info.value.code == 12
    with pytest.raises(WrongFormatError, match="one character"):
        decode_csv(b"a", False, "||", '"')


# -- XML shaping ----------------------------------------------------------------------------------


def test_xml_attributes_simple_children_content_and_repeats():
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment --><?pi ignored?>
<orders count="2">
  <order id="7">
    <status>open</status>
    <price currency="EUR">10.50</price>
    <comment>first</comment>
    <comment>second</comment>
    <empty/>
    <line><sku>A</sku></line>
  </order>
  <order id="8"><status>done &amp; dusted</status><line><sku>B</sku></line><line><sku>C</sku></line></order>
  <note lang="en">  spaced  </note>
  <mixed>before <b>bold</b> after</mixed>
</orders>"""
    assert decode_xml(body, "prohibit") == {
        "count": "2",
        "order": [
            {
                "id": "7",
                "status": "open",
                "price": {"currency": "EUR", "@Content": "10.50"},
                "comment": [{"@Content": "first"}, {"@Content": "second"}],
                "empty": "",
                "line": {"sku": "A"},
            },
            {"id": "8", "status": "done & dusted", "line": [{"sku": "B"}, {"sku": "C"}]},
        ],
        "note": {"lang": "en", "@Content": "  spaced  "},
        "mixed": {"b": "bold", "@Content": "before after"},
    }


def test_xml_namespaces_are_stripped():
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom" xmlns:m="urn:meta" xmlns:x="urn:x">
  <entry m:id="1"><title>One</title><m:props><x:n>5</x:n></m:props></entry>
</feed>"""
    assert decode_xml(body, "prohibit") == {"entry": {"id": "1", "title": "One", "props": {"n": "5"}}}


def test_xml_element_beats_attribute_of_the_same_name():
    assert decode_xml(b'<r id="a"><id>b</id></r>', "prohibit") == {"id": "b"}


def test_xml_simple_document_element_is_text():
    assert decode_xml(b"<value>42</value>", "prohibit") == "42"


def test_xml_character_references_and_other_encodings():
    assert decode_xml("<r><a>Caf&#233; \u00e9</a></r>".encode(), "prohibit") == {"a": "Café é"}
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><r><a>Café</a></r>'.encode("latin-1")
    assert decode_xml(body, "prohibit") == {"a": "Café"}


@pytest.mark.parametrize("body", [b"<a><b></a>", b"not xml", b"<a/><b/>", b"<p:a/>", b"", b"<r>&nope;</r>"])
def test_invalid_xml_is_script_error_12(body):
    with pytest.raises(WrongFormatError) as info:
        decode_xml(body, "internal")
    assert info.value.code == 12
    assert info.value.message.startswith("the response is not valid XML: ")


def test_unknown_dtd_policy_is_a_caller_bug():
    with pytest.raises(ValueError, match="xml_dtd must be one of"):
        decode_xml(b"<a/>", "allow")


# -- XML security ---------------------------------------------------------------------------------


@pytest.fixture
def listener():
    """A local TCP port that records whether anything connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.3)

    def connected() -> bool:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            return False
        conn.close()
        return True

    yield server.getsockname()[1], connected
    server.close()


def test_doctype_prohibited(listener):
    port, connected = listener
    for body in (
        b"<!DOCTYPE r><r/>",
        b'<?xml version="1.0"?>\n<!-- c --><!DOCTYPE r [<!ELEMENT r ANY>]><r/>',
        f'<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/r.dtd"><r/>'.encode(),
    ):
        with pytest.raises(WrongFormatError) as info:
            decode_xml(body, "prohibit")
        assert info.value.code == 12
        assert "DTD is prohibited by the connection (xml_dtd = prohibit)" in info.value.message
    assert not connected()


@pytest.mark.parametrize("policy", ["internal", "url"])
def test_doctype_accepted_but_never_processed(policy, listener):
    port, connected = listener
    bodies = [
        b'<!DOCTYPE r [<!ELEMENT r ANY><!ATTLIST r kind CDATA "default"> <!-- ]> -->]><r><a>1</a></r>',
        f'<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/r.dtd"><r><a>1</a></r>'.encode(),
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]><r><a>1</a></r>'.encode(),
        b"<!DOCTYPE r [<!ENTITY unused \"x>]\">]>\n<r>\n<a>1</a></r>",
    ]
    for body in bodies:
        assert decode_xml(body, policy) == {"a": "1"}  # no attribute default, nothing fetched
    assert not connected()


@pytest.mark.parametrize("policy", ["internal", "url"])
def test_external_entities_are_never_read(policy, tmp_path, listener):
    port, connected = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    for target in (secret.as_uri(), f"http://127.0.0.1:{port}/x"):
        for use in (b"<r><a>&x;</a></r>", b'<r a="&x;"/>'):
            body = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{target}">]>'.encode() + use
            with pytest.raises(WrongFormatError) as info:
                decode_xml(body, policy)
            assert "never expanded" in info.value.message
            assert "TOP-SECRET" not in info.value.message
    assert not connected()


BILLION_LAUGHS = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n' + b"".join(
    f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode() for i in range(1, 10)
) + b"]>\n"


@pytest.mark.parametrize("use", [b"<lolz>&lol9;</lolz>", b'<lolz a="&lol9;"/>'])
@pytest.mark.parametrize("policy", ["internal", "url", "prohibit"])
def test_billion_laughs_never_expands(policy, use):
    started = time.perf_counter()
    with pytest.raises(WrongFormatError) as info:
        decode_xml(BILLION_LAUGHS + use, policy)
    assert time.perf_counter() - started < 1.0
    assert ("never expanded" if policy != "prohibit" else "xml_dtd = prohibit") in info.value.message
    assert "lollol" not in info.value.message


def test_doctype_in_utf16_is_still_caught():
    # The prolog scan reads ASCII-compatible bytes only; the parsed document is checked again.
    body = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY e "x">]><r><a>1</a></r>'.encode("utf-16")
    with pytest.raises(WrongFormatError, match="xml_dtd = prohibit"):
        decode_xml(body, "prohibit")
    with pytest.raises(WrongFormatError, match="never expanded"):
        decode_xml(body, "internal")
    plain = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r><a>1</a></r>'.encode("utf-16")
    assert decode_xml(plain, "url") == {"a": "1"}
