"""Security options: the decision functions, then real scripts against loopback servers.

Two servers are two origins; so are ``http://127.0.0.1:PORT`` and ``http://localhost:PORT``
of one server. Every "refused" test also asserts that the refused server saw nothing, and
the trusted-location tests search every recorded request of the untrusted server for each
secret, in every form it could travel in.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from httpkit import LoopbackServer, Recorded, Reply

import qscript
from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.security import (
    SecurityPolicy,
    UrlAllowlist,
    is_https,
    parse_allowlist,
    path_is_under,
    redirect_entry_allows,
    remove_dot_segments,
    same_origin_or_upgrade,
)
from qscript.errors import WrongFormatError

SCRIPT = """LIB CONNECT TO 'API';
T: SQL SELECT "ok" FROM JSON (wrap on) "root";"""
OK = Reply(body={"ok": 1})


def config(url: str = "https://api.example.com/v1/orders", **options) -> RestConfig:
    return RestConfig.from_table("API", {"url": url, **options}, Path("."))


# -- small decisions ------------------------------------------------------------------------------
def test_is_https():
    assert is_https("https://a") and is_https("HTTPS://A/x")
    assert not is_https("http://a") and not is_https("httpsx://a") and not is_https("ftp://a")


@pytest.mark.parametrize(
    ("path", "expected"),
    [("", "/"), ("/", "/"), ("/a/b", "/a/b"), ("/a/../b", "/b"), ("/a/..", "/"), ("/a/b/..", "/a/"),
     ("/a/./b", "/a/b"), ("/v1/%2E%2e/admin", "/admin"), ("/../../etc", "/etc"), ("/a//b", "/a//b")],
)
def test_remove_dot_segments(path, expected):
    assert remove_dot_segments(path) == expected


@pytest.mark.parametrize(
    ("path", "prefix", "under"),
    [("/exports", "/exports", True), ("/exports/a", "/exports", True), ("/exports2", "/exports", False),
     ("/exports/a", "/exports/", True), ("/exports", "/exports/", False), ("/x", "", True), ("/x", "/", True)],
)
def test_path_is_under_whole_segments(path, prefix, under):
    assert path_is_under(path, prefix) is under


@pytest.mark.parametrize(
    ("source", "target", "same"),
    [
        ("https://a.example/x", "https://A.EXAMPLE:443/y", True),
        ("http://a.example/x", "https://a.example/y", True),  # upgrade on the same host
        ("https://a.example/x", "http://a.example/y", False),  # downgrade
        ("http://a.example/x", "https://b.example/y", False),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8081/", False),
        ("http://127.0.0.1:8080/", "http://localhost:8080/", False),
        ("http://[::1]:80/", "https://[::2]/", False),  # IPv6 hosts compare as hosts
        ("http://a.example:99999/", "https://a.example/", False),  # unparseable port
    ],
)
def test_same_origin_or_upgrade(source, target, same):
    assert same_origin_or_upgrade(source, target) is same


@pytest.mark.parametrize(
    ("entry", "target", "allowed"),
    [
        ("*", "http://anything.invalid/x", True),
        ("https://cdn.example.com", "https://CDN.example.com:443/any/path?q=1", True),
        ("https://cdn.example.com", "https://cdn.example.com.evil.net/x", False),  # host is no prefix
        ("https://cdn.example.com", "https://cdn.example.com@evil.net/x", False),  # user-info trick
        ("https://cdn.example.com", "http://cdn.example.com/x", False),  # scheme counts
        ("https://cdn.example.com", "https://cdn.example.com:8443/x", False),  # port counts
        ("https://files.example.com/exports/", "https://files.example.com/exports/a.csv", True),
        ("https://files.example.com/exports/", "https://files.example.com/private", False),
        ("https://files.example.com/exports", "https://files.example.com/exports2/a", False),
        ("https://files.example.com/exports/", "https://files.example.com/exports/../private", False),
        ("https://files.example.com/exports/", "https://files.example.com/exports/%2e%2e/private", False),
    ],
)
def test_redirect_entry_allows(entry, target, allowed):
    assert redirect_entry_allows(entry, target) is allowed


# -- the allowlist file ---------------------------------------------------------------------------
LIST = """\
# APIs the reload may call
https://api.example.com/v1/orders
https://files.example.com/exports/*

http://127.0.0.1:80*
HTTPS://Mixed.Example.com/Case
"""


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.example.com/v1/orders", True),  # exactly the line
        ("https://API.example.com:443/v1/orders", True),  # scheme/host case and default port do not count
        ("https://api.example.com/v1/orders#top", True),  # fragments are never sent
        ("https://api.example.com/v1/orders?limit=5", False),  # exactly means exactly
        ("https://api.example.com/v1/orders/1", False),
        ("https://api.example.com/v1/Orders", False),  # paths are case-sensitive
        ("https://files.example.com/exports/", True),
        ("https://files.example.com/exports/2024/a.csv?sig=x", True),
        ("https://files.example.com/exports/../admin", False),  # dot segments are resolved first
        ("https://files.example.com/exports/%2E%2E/admin", False),
        ("https://files.example.com/export", False),
        ("http://files.example.com/exports/a", False),
        ("http://127.0.0.1/", True),  # http://127.0.0.1:80* is the origin http://127.0.0.1
        ("http://127.0.0.1:80/x", True),
        ("http://127.0.0.1:8080/x", False),  # the port is no prefix either
        ("http://127.0.0.1:80@evil.invalid/", False),
        ("https://mixed.example.com/Case", True),
        ("https://mixed.example.com/case", False),
        ("not a url", False),
    ],
)
def test_url_allowlist_semantics(url, allowed):
    assert parse_allowlist(LIST, "allowed.txt").allows(url) is allowed


def test_star_allows_everything_and_an_empty_list_nothing():
    assert parse_allowlist("*\n", "f").allows("http://anything.invalid:1/x?y")
    assert not parse_allowlist("# nothing yet\n\n", "f").allows("https://api.example.com/")


def test_prefix_entries_without_a_path():
    allowlist = parse_allowlist("https://api.example.com*", "f")
    assert allowlist.allows("https://api.example.com")
    assert allowlist.allows("https://api.example.com/anything?x=1")
    assert not allowlist.allows("https://api.example.com.evil.net/")
    assert not allowlist.allows("https://api.example.community/")


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("api.example.com/v1", "must be '*' or an http:// or https:// URL"),
        ("https://*.example.com/", "'*' may only stand alone or end an entry"),
        ("https://*", "has no complete host"),
        ("https://api.example.com/a b", "may not contain spaces"),
        ("https://user:pw@api.example.com/", "may not contain user:password@"),
        ("https://api.example.com:99999/", "is not a valid URL"),
    ],
)
def test_malformed_lines_name_the_file_and_line(line, why):
    with pytest.raises(WrongFormatError) as info:
        parse_allowlist(f"# header\n*\n{line}\n", "/etc/qscript/allowed.txt")
    assert info.value.message.startswith(
        f"URL allowlist /etc/qscript/allowed.txt ($QSCRIPT_ALLOWED_URLS), line 3: '{line}' "
    )
    assert why in info.value.message


def test_from_environ(tmp_path):
    assert UrlAllowlist.from_environ({}) is None
    assert UrlAllowlist.from_environ({"QSCRIPT_ALLOWED_URLS": "  "}) is None
    path = tmp_path / "allowed.txt"
    path.write_bytes(b"\xef\xbb\xbfhttps://api.example.com/*\r\n")  # a BOM and CRLF from a Windows editor
    allowlist = UrlAllowlist.from_environ({"QSCRIPT_ALLOWED_URLS": str(path)})
    assert allowlist is not None and allowlist.source == str(path)
    assert allowlist.allows("https://api.example.com/v1")
    with pytest.raises(WrongFormatError, match=r"cannot read the URL allowlist .*missing.txt"):
        UrlAllowlist.from_environ({"QSCRIPT_ALLOWED_URLS": str(tmp_path / "missing.txt")})


# -- SecurityPolicy -------------------------------------------------------------------------------
def test_https_only_refuses_http_and_redacts_the_url():
    policy = SecurityPolicy(config(https_only=True), "API")
    policy.check_request("https://api.example.com/v1/orders")
    with pytest.raises(WrongFormatError) as info:
        policy.check_request("http://api.example.com/v1/orders?access_token=t0ps3cret")
    assert info.value.message == ("connection 'API': https_only refuses http://api.example.com/v1/orders?"
                                  "access_token=***: only https:// URLs may be requested (nothing was sent)")
    with pytest.raises(WrongFormatError, match="https_only refuses"):
        policy.check_redirect("https://api.example.com/v1/orders", "http://api.example.com/v1/orders")


def test_redirects_stay_on_the_origin_unless_listed():
    policy = SecurityPolicy(config(), "API")
    policy.check_redirect("https://api.example.com/a", "https://api.example.com/b")
    with pytest.raises(WrongFormatError) as info:
        policy.check_redirect("https://api.example.com/a", "https://cdn.example.com/b?token=zzzzzz")
    assert info.value.message == (
        "connection 'API': redirect or next-page link from https://api.example.com/a to "
        "https://cdn.example.com/b?token=*** refused: the target is not on redirect_allowlist "
        "(empty: same origin only); nothing was sent there"
    )


def test_a_redirect_allowlist_widens_the_origin_and_never_narrows_it():
    policy = SecurityPolicy(config(redirect_allowlist=["https://cdn.example.com"]), "API")
    policy.check_redirect("https://api.example.com/a", "https://api.example.com/page2")  # own origin still fine
    policy.check_redirect("https://api.example.com/a", "https://cdn.example.com/file")
    with pytest.raises(WrongFormatError, match=r"redirect_allowlist \(https://cdn.example.com\)"):
        policy.check_redirect("https://api.example.com/a", "https://cdn.example.com.evil.net/file")


def test_the_url_allowlist_also_guards_redirects():
    allowlist = parse_allowlist("https://api.example.com/*", "list.txt")
    policy = SecurityPolicy(config(redirect_allowlist=["*"]), "API", allowlist)
    policy.check_redirect("https://api.example.com/a", "https://api.example.com/b")
    with pytest.raises(WrongFormatError, match=r"is not in the URL allowlist list.txt \(\$QSCRIPT_ALLOWED_URLS\)"):
        policy.check_redirect("https://api.example.com/a", "https://cdn.example.com/b")


def test_credentials_go_to_the_origin_and_trusted_locations_only():
    policy = SecurityPolicy(config(trusted_locations=["https://auth.example.com:8443"]), "API")
    assert policy.credentials_allowed("https://API.example.com:443/other/path")
    assert policy.credentials_allowed("https://auth.example.com:8443/token")
    assert not policy.credentials_allowed("https://auth.example.com/token")  # other port
    assert not policy.credentials_allowed("http://api.example.com/v1/orders")  # other scheme
    assert not policy.credentials_allowed("https://api.example.com.evil.net/")
    assert not policy.credentials_allowed("https://api.example.com@evil.net/")
    assert not policy.credentials_allowed("https://api.example.com:99999/")


def test_headers_after_redirect():
    policy = SecurityPolicy(config(trusted_locations=["https://auth.example.com"]), "API")
    headers = (("Accept", "application/json"), ("Authorization", "Bearer t"), ("X-API-Key", "k"))
    assert policy.headers_after_redirect("https://api.example.com/a", "https://api.example.com/b", headers) == headers
    assert policy.headers_after_redirect("https://api.example.com/a", "https://auth.example.com/b", headers) == headers
    assert policy.headers_after_redirect("https://api.example.com/a", "https://cdn.example.com/b", headers) == (
        ("Accept", "application/json"),
    )


# -- scripts: the URL allowlist -------------------------------------------------------------------
def api(server: LoopbackServer, path: str = "/orders", **options) -> dict:
    return {"API": {"url": server.url(path), **options}}


def failure(run_script, conns: dict, script: str = SCRIPT) -> qscript.ScriptError:
    with pytest.raises(qscript.ScriptError) as info:
        run_script(script, connections=conns)
    assert info.value.code == 12
    return info.value


@pytest.fixture
def allowlist(tmp_path, monkeypatch):
    """``allowlist(*lines)`` writes the file and points $QSCRIPT_ALLOWED_URLS at it."""

    def write(*lines: str) -> Path:
        path = tmp_path / "allowed-urls.txt"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        monkeypatch.setenv("QSCRIPT_ALLOWED_URLS", str(path))
        return path

    return write


@pytest.fixture
def second_server():
    server = LoopbackServer()
    yield server
    server.close()


@pytest.mark.parametrize("line", ["*", "{base}/orders", "{base}/*", "{base}*"])
def test_allowlisted_requests_go_out(run_script, http_server, allowlist, line):
    http_server.route("/orders", OK)
    allowlist(line.format(base=http_server.base))
    assert run_script(SCRIPT, connections=api(http_server)).tables["T"]["ok"].tolist() == [1]
    assert len(http_server.requests) == 1


@pytest.mark.parametrize("line", [None, "{base}/other", "{base}/orders/*", "http://localhost:{port}/*"])
def test_requests_outside_the_allowlist_send_nothing(run_script, http_server, allowlist, line):
    http_server.route("/orders", OK)
    port = http_server.httpd.server_address[1]
    path = allowlist(*([] if line is None else [line.format(base=http_server.base, port=port)]))
    error = failure(run_script, api(http_server))
    assert error.message == (f"connection 'API': {http_server.url('/orders')} is not in the URL allowlist {path} "
                             "($QSCRIPT_ALLOWED_URLS); nothing was sent")
    assert http_server.requests == []


def test_an_unreadable_allowlist_stops_the_connection(run_script, http_server, monkeypatch, tmp_path):
    http_server.route("/orders", OK)
    monkeypatch.setenv("QSCRIPT_ALLOWED_URLS", str(tmp_path / "nowhere.txt"))
    error = failure(run_script, api(http_server))
    assert "cannot read the URL allowlist" in error.message and "nowhere.txt" in error.message
    assert http_server.requests == []


def test_a_redirect_outside_the_allowlist_is_not_followed(run_script, http_server, second_server, allowlist):
    http_server.route("/orders", Reply(302, headers={"Location": second_server.url("/elsewhere")}))
    second_server.route("/elsewhere", OK)
    allowlist(f"{http_server.base}/*")
    error = failure(run_script, api(http_server, redirect_allowlist=["*"]))
    assert f"{second_server.url('/elsewhere')} is not in the URL allowlist" in error.message
    assert len(http_server.requests) == 1
    assert second_server.requests == []


# -- scripts: https_only, redirect allowlist ------------------------------------------------------
def test_https_only_refuses_a_with_connection_http_url_before_sending(run_script, http_server):
    http_server.route("/orders", OK)
    conns = {"API": {"url": "https://127.0.0.1:9/orders", "https_only": True, "allow_with_connection": True}}
    script = SCRIPT.rstrip(";") + f' WITH CONNECTION (URL "{http_server.url("/orders")}");'
    error = failure(run_script, conns, script)
    assert error.message == (f"connection 'API': https_only refuses {http_server.url('/orders')}: only https:// "
                             "URLs may be requested (nothing was sent)")
    assert http_server.requests == []


def test_https_only_refuses_an_http_connection_url_when_loading(run_script, http_server):
    with pytest.raises(qscript.ScriptError, match=r"key 'url' must be an https:// URL \(https_only = true\)"):
        run_script(SCRIPT, connections=api(http_server, https_only=True))
    assert http_server.requests == []


def test_a_redirect_to_another_origin_needs_the_redirect_allowlist(run_script, http_server, second_server):
    http_server.route("/orders", Reply(302, headers={"Location": second_server.url("/moved")}))
    second_server.route("/moved", OK)
    error = failure(run_script, api(http_server))
    assert f"to {second_server.url('/moved')} refused: the target is not on redirect_allowlist" in error.message
    assert second_server.requests == []
    conns = api(http_server, redirect_allowlist=[second_server.base])
    assert run_script(SCRIPT, connections=conns).tables["T"]["ok"].tolist() == [1]
    assert [r.path for r in second_server.requests] == ["/moved"]


def test_a_url_prefix_entry_allows_only_paths_under_it(run_script, http_server, second_server):
    second_server.route("/exports/a.json", OK)
    conns = api(http_server, redirect_allowlist=[second_server.url("/exports/")])
    http_server.route("/orders", Reply(302, headers={"Location": second_server.url("/exports/a.json")}))
    assert run_script(SCRIPT, connections=conns).tables["T"]["ok"].tolist() == [1]
    http_server.route("/orders", Reply(302, headers={"Location": second_server.url("/exports/../private")}))
    assert "not on redirect_allowlist" in failure(run_script, conns).message
    assert [r.path for r in second_server.requests] == ["/exports/a.json"]


def test_same_origin_redirects_follow_with_a_non_empty_redirect_allowlist(run_script, http_server):
    http_server.route("/orders", Reply(301, headers={"Location": "/v2/orders"}))
    http_server.route("/v2/orders", OK)
    conns = api(http_server, redirect_allowlist=["https://cdn.example.invalid"])
    assert run_script(SCRIPT, connections=conns).tables["T"]["ok"].tolist() == [1]
    assert [r.path for r in http_server.requests] == ["/orders", "/v2/orders"]


# -- scripts: cookies on redirect, response size --------------------------------------------------
@pytest.mark.parametrize("keep", [True, False])
def test_cookie_container_on_redirect(run_script, http_server, keep):
    http_server.route("/orders", Reply(302, headers={"Location": "/landing", "Set-Cookie": "sid=abc123; Path=/"}))
    http_server.route("/landing", OK)
    run_script(SCRIPT, connections=api(http_server, cookie_container_on_redirect=keep))
    first, landing = http_server.requests
    assert first.header("Cookie") is None
    assert landing.header("Cookie") == ("sid=abc123" if keep else None)


def test_max_response_size_fails_cleanly(run_script, http_server):
    body = b'{"ok": 1, "pad": "' + b"x" * 100 + b'"}'
    http_server.route("/orders", Reply(body=body, headers={"Content-Type": "application/json"}))
    assert run_script(SCRIPT, connections=api(http_server, max_response_size=len(body))).tables["T"]["ok"].tolist() \
        == [1]
    error = failure(run_script, api(http_server, max_response_size=len(body) - 1))
    assert f"response larger than {len(body) - 1} bytes (max_response_size)" in error.message
    result = run_script("SET ErrorMode = 0;\n" + SCRIPT + "\nLET e = Num(ScriptError);",
                        connections=api(http_server, max_response_size=64))
    assert result.variables["e"] == "12" and "T" not in result.tables


# -- scripts: trusted locations -------------------------------------------------------------------
USER, PASSWORD, API_KEY, TENANT = "svc-user", "pa55-w0rd-xyz", "key-0123456789abcdef", "tenant-secret-42"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, API_KEY, TENANT, BASIC.split()[1], f"{USER}:{PASSWORD}")
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-tenant")


def with_credentials(server: LoopbackServer, path: str = "/orders", **options) -> dict:
    """Basic auth, an API-key header (sensitive by name) and a header marked secret."""
    return api(server, path, auth={"schema": "basic", "username": USER, "password": PASSWORD},
               headers={"X-API-Key": API_KEY, "X-Tenant": {"value": TENANT, "secret": True},
                        "Accept": "application/json"},
               allow_with_connection=True, **options)


def assert_no_credentials(server: LoopbackServer) -> None:
    """Search every recorded request: header names, header values, path, query and body."""
    assert server.requests, "the test should have reached this server"
    for request in server.requests:
        assert not [name for name in request.headers if name.lower() in CREDENTIAL_HEADERS], request
        seen = "\n".join([request.path, request.query, *map(str, request.headers.items())]) + repr(request.body)
        for secret in SECRETS:
            assert secret not in seen, (secret, request)


def assert_credentials(request: Recorded) -> None:
    assert request.header("Authorization") == BASIC
    assert request.header("X-API-Key") == API_KEY
    assert request.header("X-Tenant") == TENANT


def test_credentials_go_to_the_connection_origin(run_script, http_server):
    http_server.route("/orders", OK)
    run_script(SCRIPT, connections=with_credentials(http_server))
    (request,) = http_server.requests
    assert_credentials(request)
    assert request.header("Accept") == "application/json"


def test_no_credentials_follow_a_redirect_to_an_untrusted_host(run_script, http_server, second_server):
    http_server.route("/orders", Reply(302, headers={"Location": second_server.url("/bounce")}))
    second_server.route("/bounce", Reply(307, headers={"Location": http_server.url("/back")}))
    http_server.route("/back", Reply(303, headers={"Location": second_server.url("/final")}))
    second_server.route("/final", OK)
    conns = with_credentials(http_server, redirect_allowlist=[second_server.base, http_server.base])
    assert run_script(SCRIPT, connections=conns).tables["T"]["ok"].tolist() == [1]
    assert [r.path for r in second_server.requests] == ["/bounce", "/final"]
    assert_no_credentials(second_server)
    first, back = http_server.requests
    assert_credentials(first)
    assert back.header("Authorization") == BASIC  # back on the trusted origin: auth is attached again


def test_a_script_set_authorization_header_does_not_follow_to_an_untrusted_host(run_script, http_server,
                                                                                   second_server):
    http_server.route("/orders", Reply(302, headers={"Location": second_server.url("/landing")}))
    second_server.route("/landing", OK)
    script = SCRIPT.rstrip(";") + ' WITH CONNECTION (HTTPHEADER "Authorization" "Bearer script-token-777");'
    conns = with_credentials(http_server, redirect_allowlist=[second_server.base])
    del conns["API"]["auth"]  # (with auth configured, the auth schema writes Authorization itself)
    run_script(script, connections=conns)
    assert http_server.requests[0].header("Authorization") == "Bearer script-token-777"
    assert_no_credentials(second_server)
    assert "script-token-777" not in repr(second_server.requests)


@pytest.mark.parametrize("other", ["second server", "localhost"])
def test_a_with_connection_url_elsewhere_gets_no_credentials(run_script, http_server, second_server, other):
    target = second_server if other == "second server" else http_server
    url = second_server.url("/items") if other == "second server" else \
        f"http://localhost:{http_server.httpd.server_address[1]}/items"
    target.route("/items", OK)
    script = SCRIPT.rstrip(";") + f' WITH CONNECTION (URL "{url}");'
    assert run_script(script, connections=with_credentials(http_server)).tables["T"]["ok"].tolist() == [1]
    assert_no_credentials(target)


def test_trusted_locations_receive_the_credentials(run_script, http_server, second_server):
    second_server.route("/items", OK)
    script = SCRIPT.rstrip(";") + f' WITH CONNECTION (URL "{second_server.url("/items")}");'
    run_script(script, connections=with_credentials(http_server, trusted_locations=[second_server.base]))
    (request,) = second_server.requests
    assert_credentials(request)


def test_trusted_locations_receive_auth_after_a_redirect(run_script, http_server, second_server):
    http_server.route("/orders", Reply(302, headers={"Location": second_server.url("/landing")}))
    second_server.route("/landing", OK)
    conns = with_credentials(http_server, redirect_allowlist=[second_server.base],
                             trusted_locations=[second_server.base])
    run_script(SCRIPT, connections=conns)
    (landing,) = second_server.requests
    assert landing.header("Authorization") == BASIC
    assert landing.header("X-Tenant") == TENANT


def test_trusted_locations_receive_sensitive_headers_after_a_redirect(run_script, http_server, second_server):
    http_server.route("/orders", Reply(302, headers={"Location": second_server.url("/landing")}))
    second_server.route("/landing", OK)
    conns = with_credentials(http_server, redirect_allowlist=[second_server.base],
                             trusted_locations=[second_server.base])
    run_script(SCRIPT, connections=conns)
    (landing,) = second_server.requests
    assert landing.header("X-API-Key") == API_KEY
