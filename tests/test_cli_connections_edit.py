"""``qscript connections add`` and ``edit``: the file they write, what they keep, what they refuse.

The commands run in-process through ``qscript.cli.main`` with stdin replaced (answers are
piped in line by line, as ``-i`` reads them) and output captured. Files live in tmp_path;
keys go to a tmp_path key file; the one server listens on 127.0.0.1.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from httpkit import Reply

import qscript
import qscript.cli
from qscript.connectors.connections import load_connections
from qscript.connectors.connections_file import REMOVE, add_connection, edit_connection
from qscript.connectors.rest.crypto import decrypt_token, load_key
from qscript.errors import ConfigError

HEADER = '# qscript connections: LIB CONNECT TO \'Name\' opens [connections."Name"] (docs/connections.md)\n'

HAND_WRITTEN = """\
# Team connections: keep this comment
[connections."Orders API"]   # the shop
url = "https://api.example.com/v1/orders"   # production
read_timeout = 120

# who we are
[connections."Orders API".auth]
schema = "basic"
username = "ann"
password = "${env:ORDERS_PASSWORD}"

[connections."Orders API".headers]
Accept = "application/json"   # asked for JSON

[connections.Stock]
url = "https://stock.example.com/items"
pagination = { type = "next_url", next_url_path = "links/next" }  # the API's own links
"""


@dataclass
class Done:
    code: int
    out: str
    err: str


@pytest.fixture
def qs(monkeypatch, capsys, tmp_path):
    """``qs(*args, stdin="answers")``: run ``qscript`` in-process; stdin is not a terminal."""
    monkeypatch.setenv("QSCRIPT_KEY_FILE", str(tmp_path / "keys" / "key"))

    def run(*args: str, stdin: str = "") -> Done:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8"))
        try:
            code = qscript.cli.main(list(args))
        except SystemExit as stop:  # argparse: bad usage
            code = int(stop.code or 0)
        captured = capsys.readouterr()
        return Done(code, captured.out, captured.err)

    return run


def written(tmp_path: Path, text: str = HAND_WRITTEN, name: str = "connections.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# -- add ------------------------------------------------------------------------------------------

def test_add_creates_the_file_with_only_what_differs_from_the_defaults(qs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no --connections: ./connections.toml, as qscript run finds it
    done = qs("connections", "add", "Orders API", "--url", "https://api.example.com/v1/orders", "--method", "get",
              "--timeout", "60", "--auth", "basic", "--username", "ann", "--password-env", "ORDERS_PASSWORD",
              "--query", "status=open", "--header", "Accept: application/json", "--pagination", "offset",
              "--page", "start_param=offset", "--page", "count_param=limit", "--page", "count_value=100",
              "--allow-with-connection", "--no-https-only", "--verify", "system")
    path = tmp_path / "connections.toml"
    assert done.code == 0, done.err
    assert done.out == f"connection 'Orders API' added to {path}\n"
    assert done.err == ("qscript: note: environment variable ORDERS_PASSWORD is not set; set it before a "
                        "reload\n")
    assert path.read_text(encoding="utf-8") == HEADER + """
[connections."Orders API"]
url = "https://api.example.com/v1/orders"
connection_timeout = 60
read_timeout = 60
allow_with_connection = true

[connections."Orders API".auth]
schema = "basic"
username = "ann"
password = "${env:ORDERS_PASSWORD}"

[connections."Orders API".query]
status = "open"

[connections."Orders API".headers]
Accept = "application/json"

[connections."Orders API".pagination]
type = "offset"
start_param = "offset"
count_param = "limit"
count_value = 100
"""
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it may come to hold a password
    monkeypatch.setenv("ORDERS_PASSWORD", "pw-4711")
    config = load_connections(path).get("Orders API")
    assert (config.method, config.connection_timeout, config.auth.password) == ("GET", 60, "pw-4711")
    assert (config.pagination.type, config.pagination.count_value) == ("offset", 100)


def test_add_appends_to_a_file_and_leaves_the_rest_byte_for_byte(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "add", "Intranet", "--url", "https://intranet.example/api", "--auth", "ntlm",
              "--username", "CORP\\svc-qlik", "--password-env", "INTRANET_PASSWORD", "--body", "",
              "--set", "retry.enabled=true", "--connections", str(path))
    assert done.code == 0, done.err
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN + """
[connections.Intranet]
url = "https://intranet.example/api"

[connections.Intranet.auth]
schema = "ntlm"
username = 'CORP\\svc-qlik'
password = "${env:INTRANET_PASSWORD}"

[connections.Intranet.retry]
enabled = true
"""


def test_add_writes_where_qscript_connections_points(qs, tmp_path, monkeypatch):
    path = tmp_path / "team" / "shared.toml"
    path.parent.mkdir()
    monkeypatch.setenv("QSCRIPT_CONNECTIONS", str(path))
    done = qs("connections", "add", "A", "--url", "https://a.example")
    assert done.code == 0, done.err
    assert path.read_text(encoding="utf-8") == HEADER + '\n[connections.A]\nurl = "https://a.example"\n'
    assert qs("connections", "list").out == "A  https://a.example\n"


def test_add_refuses_an_existing_name(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "add", "Orders API", "--url", "https://x.example", "--connections", str(path))
    assert done.code == 1
    assert done.err == (f"qscript: connection 'Orders API' already exists in {path}; change it with: qscript "
                        "connections edit \"Orders API\"; nothing was changed\n")
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN


def test_add_needs_a_url(qs, tmp_path):
    path = tmp_path / "new.toml"
    done = qs("connections", "add", "X", "--method", "POST", "--connections", str(path))
    assert done.code == 2
    assert "connection 'X' needs a URL: pass --url URL, or -i" in done.err
    assert not path.exists()


def test_add_of_a_layout_it_cannot_extend_changes_nothing(qs, tmp_path):
    path = written(tmp_path, 'connections = { A = { url = "https://a.example" } }  # all inline\n')
    before = path.read_bytes()
    done = qs("connections", "add", "B", "--url", "https://b.example", "--connections", str(path))
    assert done.code == 1
    assert "could not change connection 'B' safely (the file's layout is unusual), so the file was not changed" \
        in done.err
    assert path.read_bytes() == before


# -- edit -----------------------------------------------------------------------------------------

def test_edit_changes_values_in_place_and_keeps_comments(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "edit", "Orders API", "--url", "https://api.example.com/v2/orders", "--auth", "digest",
              "--header", "X-Tenant: north", "--query", "limit=100", "--https-only", "--connections", str(path))
    assert done.code == 0, done.err
    assert done.out == (f"connection 'Orders API' updated in {path} (changed: url, auth.schema, query.limit, "
                        "headers.X-Tenant, https_only)\n")
    assert path.read_text(encoding="utf-8") == """\
# Team connections: keep this comment
[connections."Orders API"]   # the shop
url = "https://api.example.com/v2/orders"   # production
read_timeout = 120
https_only = true

# who we are
[connections."Orders API".auth]
schema = "digest"
username = "ann"
password = "${env:ORDERS_PASSWORD}"

[connections."Orders API".headers]
Accept = "application/json"   # asked for JSON
X-Tenant = "north"

[connections."Orders API".query]
limit = "100"

[connections.Stock]
url = "https://stock.example.com/items"
pagination = { type = "next_url", next_url_path = "links/next" }  # the API's own links
"""


def test_edit_switching_to_anonymous_removes_the_user(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "edit", "Orders API", "--auth", "anonymous", "--connections", str(path))
    assert done.code == 0, done.err
    assert done.out.endswith("(changed: auth.schema; removed: auth.username, auth.password)\n")
    assert "[connections.\"Orders API\".auth]\nschema = \"anonymous\"\n\n[connections" in path.read_text()


def test_edit_an_inline_pagination_table(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "edit", "stock:Stock", "--pagination", "offset", "--page", "start_param=skip",
              "--page", "count_param=take", "--page", "count_value=50", "--connections", str(path))
    assert done.code == 0, done.err
    assert done.out.endswith("(changed: pagination.type, pagination.start_param, pagination.count_param, "
                             "pagination.count_value; removed: pagination.next_url_path)\n")
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN.replace(
        'pagination = { type = "next_url", next_url_path = "links/next" }',
        'pagination = { type = "offset", start_param = "skip", count_param = "take", count_value = 50 }')


def test_edit_keeps_crlf_line_endings_and_the_bom(qs, tmp_path):
    path = tmp_path / "connections.toml"
    path.write_bytes(b"\xef\xbb\xbf" + HAND_WRITTEN.replace("\n", "\r\n").encode("utf-8"))
    done = qs("connections", "edit", "Stock", "--method", "POST", "--body", '{"all": true}', "--set",
              "tls.verify=skip", "--connections", str(path))
    assert done.code == 0, done.err
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    assert text.count("\n") == text.count("\r\n")
    assert text.replace("\r\n", "\n") == HAND_WRITTEN.replace(
        '  # the API\'s own links\n',
        '  # the API\'s own links\nmethod = "POST"\nbody = \'{"all": true}\'\n\n'
        '[connections.Stock.tls]\nverify = "skip"\n')


def test_unset_removes_keys_and_a_table_left_empty(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "edit", "Orders API", "--unset", "read_timeout", "--unset", "headers.Accept",
              "--connections", str(path))
    assert done.code == 0, done.err
    assert done.out.endswith("(removed: read_timeout, headers)\n")
    text = path.read_text(encoding="utf-8")
    assert "read_timeout" not in text and "headers" not in text and "# the shop" in text
    assert tomllib.loads(text)["connections"]["Orders API"] == {
        "url": "https://api.example.com/v1/orders",
        "auth": {"schema": "basic", "username": "ann", "password": "${env:ORDERS_PASSWORD}"}}
    done = qs("connections", "edit", "Orders API", "--unset", "auth.shema", "--connections", str(path))
    assert done.code == 1 and "has no key 'auth.shema' to unset; nothing was changed" in done.err


def test_set_reads_toml_literals_and_quoted_keys(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "edit", "Stock", "--set", "retry.max_attempts=5", "--set", "retry.enabled=true",
              "--set", 'query."$format"=json', "--set", "redirect_allowlist=[\"https://cdn.example.com\"]",
              "--connections", str(path))
    assert done.code == 0, done.err
    stock = load_connections(path).get("Stock")
    assert (stock.retry.max_attempts, stock.retry.enabled) == (5, True)
    assert dict(stock.query) == {"$format": "json"}
    assert stock.redirect_allowlist == ("https://cdn.example.com",)


def test_edit_of_a_missing_name_fails(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "edit", "orders api", "--url", "https://x.example", "--connections", str(path))
    assert done.code == 1
    assert "connection 'orders api' is not defined" in done.err and "did you mean 'Orders API'?" in done.err
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--method", "PUT"), 2, "argument --method: invalid choice: 'PUT'"),
    (("--set", "auth.schema=basic"), 1, "key 'auth.username' is required when schema is basic; nothing was changed"),
    (("--timeout", "0"), 1, "key 'connection_timeout' must be an integer from 1 to 10000 seconds"),
    (("--url", "ftp://stock.example.com"), 1, "key 'url' must be an http:// or https:// URL"),
    (("--pagination", "next_token"), 1, "key 'pagination.token_path' is required for pagination type next_token"),
    (("--header", "Authorization: Bearer x"), 2, "store it encrypted with: qscript connections encrypt Stock "
                                                 "Authorization"),
    (("--query", "api_key=k-123"), 2, "key 'query.api_key' is a secret and is not taken from the command line"),
    (("--set", "auth.password=pw"), 2, "use --password-env VAR"),
    (("--url", "https://stock.example.com/?access_token=t-1"), 2, "a sensitive query value in the URL is a secret"),
    (("--page", "count"), 2, "expected KEY=VALUE, got 'count'"),
    ((), 2, "nothing to change: give settings such as --url URL"),
])
def test_a_refused_edit_leaves_the_file_byte_identical(qs, tmp_path, args, code, message):
    path = written(tmp_path)
    before = path.read_bytes()
    done = qs("connections", "edit", "Stock", *args, "--connections", str(path))
    assert done.code == code
    assert message in done.err
    assert path.read_bytes() == before
    assert not (tmp_path / "keys").exists()


def test_secrets_as_env_references_are_taken_from_the_command_line(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "edit", "Stock", "--header", "Authorization: Bearer ${env:STOCK_TOKEN}",
              "--query", "api_key=${env:STOCK_KEY}", "--auth", "basic", "--username", "bob", "--password-env",
              "STOCK_PASSWORD", "--connections", str(path))
    assert done.code == 0, done.err
    assert done.err.splitlines() == [
        f"qscript: note: environment variable {name} is not set; set it before a reload"
        for name in ("STOCK_PASSWORD", "STOCK_KEY", "STOCK_TOKEN")]
    stock = tomllib.loads(path.read_text())["connections"]["Stock"]
    assert stock["auth"] == {"schema": "basic", "username": "bob", "password": "${env:STOCK_PASSWORD}"}
    assert stock["headers"] == {"Authorization": "Bearer ${env:STOCK_TOKEN}"}
    assert stock["query"] == {"api_key": "${env:STOCK_KEY}"}


def test_no_note_once_the_variable_is_set(qs, tmp_path, monkeypatch):
    monkeypatch.setenv("STOCK_PASSWORD", "pw-Secret-99")
    path = written(tmp_path)
    done = qs("connections", "edit", "Stock", "--auth", "basic", "--username", "bob", "--password-env",
              "STOCK_PASSWORD", "--connections", str(path))
    assert done.code == 0 and done.err == ""
    assert "pw-Secret-99" not in done.out + path.read_text()


def test_a_variable_the_check_cannot_judge_is_reported_not_refused(qs, tmp_path):
    path = written(tmp_path)
    done = qs("connections", "edit", "Stock", "--auth", "ntlm", "--username", "${env:NTLM_USER}",
              "--password-env", "NTLM_PASSWORD", "--connections", str(path))
    assert done.code == 0, done.err
    assert "qscript: note: key 'auth.username' could not be checked without its environment variable" in done.err


# -- interactive ----------------------------------------------------------------------------------

ADD_ANSWERS = [
    "{base}/orders",        # URL
    "post",                 # Method (any case)
    '{{"since": "2024"}}',  # Request body
    "",                     # Timeout: 30
    "Basic",                # Authentication schema
    "ann",                  # User name
    "",                     # Password: ${env:SHOP_ORDERS_PASSWORD}
    "",                     # Server certificate check: system
    "status=open",          # a query parameter
    "",                     # no more
    "Accept: application/json",
    "",                     # no more headers
    "offset",               # Pagination type
    "skip",                 # Start parameter name
    "",                     # Start value: 0
    "take",                 # Count parameter name
    "",                     # Count value: required, asked again
    "2",                    # Count value
    "",                     # Total records path: none
    "maybe",                # Allow WITH CONNECTION: asked again
    "y",
    "",                     # Allow response headers: n
    "",                     # HTTPS only: n
]


def test_interactive_add_asks_as_qliks_dialog_does(qs, tmp_path, monkeypatch):
    path = tmp_path / "connections.toml"
    answers = "\n".join(ADD_ANSWERS).format(base="http://127.0.0.1:9") + "\n"
    done = qs("connections", "add", "Shop: Orders", "-i", "--connections", str(path), stdin=answers)
    assert done.code == 0, done.err
    assert path.read_text(encoding="utf-8") == HEADER + """
[connections."Shop: Orders"]
url = "http://127.0.0.1:9/orders"
method = "POST"
body = '{"since": "2024"}'
allow_with_connection = true

[connections."Shop: Orders".auth]
schema = "basic"
username = "ann"
password = "${env:SHOP_ORDERS_PASSWORD}"

[connections."Shop: Orders".query]
status = "open"

[connections."Shop: Orders".headers]
Accept = "application/json"

[connections."Shop: Orders".pagination]
type = "offset"
start_param = "skip"
count_param = "take"
count_value = 2
"""
    prompts = done.err.splitlines()
    assert prompts[1:5] == ["URL: ", "Method (GET/POST) [GET]: ", "Request body (optional): ",
                            "Timeout in seconds [30]: "]
    assert "Password, or ${env:VAR} to read it from the environment [${env:SHOP_ORDERS_PASSWORD}]: " in prompts
    assert "  a number is needed" in prompts and "  answer y, yes, n or no" in prompts
    monkeypatch.setenv("SHOP_ORDERS_PASSWORD", "pw")
    config = load_connections(path).get("Shop: Orders")
    assert (config.method, config.body, config.auth.schema, config.auth.username) == (
        "POST", '{"since": "2024"}', "basic", "ann")
    assert (config.pagination.start_param, config.pagination.count_value) == ("skip", 2)
    assert config.allow_with_connection and not config.https_only and dict(config.query) == {"status": "open"}


def test_interactive_edit_keeps_every_current_value_on_enter(qs, tmp_path):
    path = written(tmp_path)
    before = path.read_bytes()
    done = qs("connections", "edit", "Orders API", "-i", "--connections", str(path), stdin="\n" * 14)
    assert done.code == 0, done.err
    assert done.out == f"connection 'Orders API' in {path} is unchanged (every setting already has that value)\n"
    assert path.read_bytes() == before
    prompts = done.err.splitlines()
    assert "URL [https://api.example.com/v1/orders]: " in prompts
    assert "Timeout in seconds [keep: connection 30, read 120]: " in prompts
    assert "Password, or ${env:VAR} to read it from the environment [${env:ORDERS_PASSWORD}]: " in prompts
    assert "Query headers now: Accept: application/json (-NAME removes one)" in prompts


def test_enter_keeps_choices_the_file_spells_in_another_case(qs, tmp_path):
    text = HAND_WRITTEN.replace('read_timeout = 120', 'method = "post"\nbody = "{}"').replace('"basic"', '"Basic"')
    path = written(tmp_path, text)
    done = qs("connections", "edit", "Orders API", "-i", "--connections", str(path), stdin="\n" * 14)
    assert done.code == 0, done.err
    assert "is unchanged" in done.out and path.read_text(encoding="utf-8") == text
    assert "User name [ann]: " in done.err.splitlines()  # Basic is basic: the user is still asked for


def test_interactive_edit_with_options_as_defaults(qs, tmp_path):
    path = written(tmp_path)
    answers = "\n".join(["", "", "45", "", "", "", "", "", "", "", "", "", ""]) + "\n"
    done = qs("connections", "edit", "Stock", "-i", "--url", "https://stock.example.com/v2", "--connections",
              str(path), stdin=answers)
    assert done.code == 0, done.err
    assert "URL [https://stock.example.com/v2]: " in done.err.splitlines()
    assert done.out.endswith("(changed: url, connection_timeout, read_timeout)\n")


def test_the_end_of_input_stops_with_nothing_written(qs, tmp_path):
    path = tmp_path / "connections.toml"
    done = qs("connections", "add", "X", "-i", "--connections", str(path), stdin="https://x.example\nGET\n")
    assert done.code == 1
    assert done.err.endswith("qscript: no answer; nothing was changed\n")
    assert not path.exists()


def test_a_secret_header_typed_in_the_dialog_is_stored_encrypted(qs, tmp_path):
    path = written(tmp_path)
    answers = ["", "", "", "", "", "",  # URL, method, timeout, schema, certificate check, no query parameters
               "Authorization", "Bearer Typed-Secret-77", "X-Api-Key: ${env:STOCK_KEY}", "",
               "", "", "", "", ""]  # pagination type and path, the three switches
    done = qs("connections", "edit", "Stock", "-i", "--connections", str(path), stdin="\n".join(answers) + "\n")
    assert done.code == 0, done.err
    assert "Typed-Secret-77" not in done.out + done.err + path.read_text()
    assert f"qscript: created a new key: key file {tmp_path / 'keys' / 'key'} (mode 0600)" in done.err
    headers = tomllib.loads(path.read_text())["connections"]["Stock"]["headers"]
    assert headers["X-Api-Key"] == "${env:STOCK_KEY}"
    token = headers["Authorization"]
    assert token["encrypt"] is True and token["value"].startswith("enc:")
    key = load_key({"QSCRIPT_KEY_FILE": str(tmp_path / "keys" / "key")})
    assert decrypt_token(token["value"], key, "test") == "Bearer Typed-Secret-77"
    assert '\nAuthorization = { value = "enc:' in path.read_text()


def test_a_password_typed_in_the_dialog_is_stored_with_a_warning(qs, tmp_path):
    path = written(tmp_path)
    answers = ["", "", "", "", "", "Plain-Pw-31", "", "", "", "", "", "", ""]
    done = qs("connections", "edit", "Orders API", "-i", "--connections", str(path), stdin="\n".join(answers) + "\n")
    assert done.code == 0, done.err
    assert done.out.endswith("(changed: auth.password)\n")
    assert f"qscript: warning: the password of connection 'Orders API' is now stored in plain text in {path}" \
        in done.err
    assert "Plain-Pw-31" not in done.out + done.err
    assert 'password = "Plain-Pw-31"' in path.read_text()


def test_on_a_terminal_without_options_the_dialog_runs_and_hides_secrets(monkeypatch, capsys, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = Terminal("\n".join(["https://x.example", "", "", "basic", "bob", "", "", "", "", "", "", "", ""])
                       + "\n")
    hidden: list[str] = []

    def getpass(prompt: str, stream: object = None) -> str:
        hidden.append(prompt)
        return "${env:X_PASSWORD}"

    monkeypatch.setattr(sys, "stdin", answers)
    monkeypatch.setattr("getpass.getpass", getpass)
    path = tmp_path / "c.toml"
    assert qscript.cli.main(["connections", "add", "x", "--connections", str(path)]) == 0, capsys.readouterr().err
    assert hidden == ["Password, or ${env:VAR} to read it from the environment [${env:X_PASSWORD}]: "]
    assert tomllib.loads(path.read_text())["connections"]["x"]["auth"]["password"] == "${env:X_PASSWORD}"


# -- a connection written by add, used by a reload ----------------------------------------------

def test_added_connection_loads_rows_in_a_reload(qs, tmp_path, http_server):
    def page(request):
        skip = int(dict(request.params)["skip"])
        rows = [{"id": n} for n in range(1, 6)][skip:skip + 2]
        return Reply(body=rows)

    http_server.route("/items", page)
    path = tmp_path / "connections.toml"
    done = qs("connections", "add", "Items", "--url", f"{http_server.base}/items", "--pagination", "offset",
              "--page", "start_param=skip", "--page", "count_param=take", "--page", "count_value=2",
              "--header", "Accept: application/json", "--connections", str(path))
    assert done.code == 0, done.err
    result = qscript.run("""LIB CONNECT TO 'Items';
        Items: SQL SELECT "id" FROM JSON (wrap on) "root";""", connections=path, base_dir=tmp_path)
    assert list(result.tables["Items"]["id"]) == [1, 2, 3, 4, 5]
    assert http_server.requests[0].params == [("skip", "0"), ("take", "2")]
    assert http_server.requests[0].header("Accept") == "application/json"


# -- the file module on layouts people write --------------------------------------------------------

def test_dotted_keys_get_dotted_members():
    text = '[connections]\nA.url = "https://a.example"  # c\nA.auth.schema = "basic"\n'
    assert edit_connection(text, "A", {("method",): "POST", ("auth", "username"): "u"}) == (
        '[connections]\nA.url = "https://a.example"  # c\nA.method = "POST"\nA.auth.schema = "basic"\n'
        'A.auth.username = "u"\n')


def test_a_new_dotted_key_goes_below_its_siblings():
    text = ('[connections.S]\nurl = "https://s.example"\nauth.schema = "basic"\nauth.username = "bob"\n'
            '# the next one\n[connections.T]\nurl = "https://t.example"\n')
    assert edit_connection(text, "S", {("auth", "password"): "${env:P}", ("method",): "POST"}) == text.replace(
        'auth.username = "bob"\n', 'auth.username = "bob"\nauth.password = "${env:P}"\nmethod = "POST"\n')


def test_sections_split_by_another_connection_are_edited_where_they_are():
    text = ('[connections.A]\nurl = "https://a.example"\n\n[connections.B]\nurl = "https://b.example"\n\n'
            '[connections.A.auth]\nschema = "basic"\n')
    assert edit_connection(text, "A", {("auth", "username"): "u", ("query", "x"): "1"}) == (
        '[connections.A]\nurl = "https://a.example"\n\n[connections.A.query]\nx = "1"\n\n'
        '[connections.B]\nurl = "https://b.example"\n\n[connections.A.auth]\nschema = "basic"\nusername = "u"\n')


def test_a_whole_inline_connection_is_rewritten_inline():
    text = '[connections]\nA = { url = "https://a.example", auth = {schema = "basic", username = "u"} }  # one\n'
    assert edit_connection(text, "A", {("auth", "username"): REMOVE, ("auth", "schema"): "anonymous"}) == (
        '[connections]\nA = { url = "https://a.example", auth = { schema = "anonymous" } }  # one\n')


def test_removing_what_is_not_there_is_an_error():
    with pytest.raises(ConfigError, match=r"key 'query\.x' is not set"):
        edit_connection('[connections.A]\nurl = "https://a.example"\n', "A", {("query", "x"): REMOVE})
    with pytest.raises(ConfigError, match="already exists"):
        add_connection('[connections.A]\nurl = "https://a.example"\n', "A", {"url": "https://b.example"})
