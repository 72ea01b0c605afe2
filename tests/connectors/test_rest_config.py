"""RestConfig: every key read and normalised, every mistake named, secrets never shown."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from qscript.connectors.connections import Connections
from qscript.connectors.rest.config import (
    AuthConfig,
    Header,
    PaginationConfig,
    ProxyConfig,
    RestConfig,
    RetryConfig,
    TlsConfig,
    is_sensitive_name,
    origin_of,
)
from qscript.errors import ConfigError

DATA = Path(__file__).parent / "data"
ENV = {
    "API_USER": "svc-orders",
    "API_PASSWORD": "pa55-w0rd",
    "PFX_PASSWORD": "pfx-s3cret",
    "PROXY_PASSWORD": "proxy-s3cret",
    "API_TOKEN": "tok-123456",
}
#: every secret value in every_key.toml, as loaded with ENV
EVERY_SECRET = {
    "REST orders": ["pa55-w0rd", "pfx-s3cret", "proxy-s3cret", "enc:c2VjcmV0LXRva2Vu", "tenant-42-secret",
                    "tok-123456"],
    "next page": ["digest-pass", "pfx-pass"],
    "next token": ["ntlm-pass"],
    "next url": ["p:ss", "p%3Ass"],
}
URL = "https://api.example.com/v1/orders"


@pytest.fixture(scope="module")
def every() -> Connections:
    return Connections.from_file(DATA / "every_key.toml", environ=ENV)


def build(table: dict[str, Any], environ: dict[str, str] | None = None, base_dir: Path = Path("/conf")) -> RestConfig:
    return RestConfig.from_table("REST orders", {"url": URL, **table}, base_dir, environ or {})


def error_of(table: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        build(table, environ)
    return str(caught.value)


# -- every key ------------------------------------------------------------------------------


def test_every_top_level_key_is_read(every: Connections) -> None:
    config = every.get("REST orders")
    assert config.name == "REST orders"
    assert config.url == URL
    assert config.method == "POST"
    assert config.body == '{"status": "open"}'
    assert (config.connection_timeout, config.read_timeout) == (45, 120)
    assert config.http_version == "1.0"
    assert config.keep_alive is False
    assert config.expect_100_continue is True
    assert config.auto_detect_response_type is False
    assert config.response_type == "xml"
    assert config.check_response_type_on_test is True
    assert config.key_generation == "fully_qualified"
    assert config.xml_dtd == "internal"
    assert config.allow_with_connection is True
    assert config.add_missing_query_params is True
    assert config.allow_response_headers is True
    assert config.https_only is True
    assert config.redirect_allowlist == ("https://cdn.example.com", "https://files.example.com/exports/")
    assert config.cookie_container_on_redirect is True
    assert config.trusted_locations == ("https://auth.example.com:8443",)
    assert config.max_response_size == 1_048_576
    assert config.origin == "https://api.example.com"


def test_every_section_key_is_read(every: Connections) -> None:
    config = every.get("REST orders")
    assert config.auth == AuthConfig("basic", "svc-orders", "pa55-w0rd")
    certs = DATA / "certs"
    assert config.tls == TlsConfig("custom_ca", certs / "ca.pem", certs / "client.pem", certs / "client.key",
                                   "pfx-s3cret")
    assert config.tls.client_cert_format == "pem"
    assert dict(config.query) == {"limit": "100", "api_key": "tok-123456"}
    assert config.headers == (
        Header("Accept", "application/json"),
        Header("Authorization", "enc:c2VjcmV0LXRva2Vu", encrypt=True),
        Header("X-Tenant", "tenant-42-secret", secret=True),
    )
    assert config.retry == RetryConfig(True, 5, 120.0, (500, 502, 504, 599), 0.5)
    assert config.pagination == PaginationConfig(
        type="offset", start_param="offset", start_value=10, start_in="header", count_param="limit",
        count_value=250, total_path="meta/total_count", max_pages=50, max_records=5000,
        stop_on_empty_page=False, stop_on_short_page=True,
    )
    assert config.proxy == ProxyConfig("proxy.local", 3128, "http", "proxyuser", "proxy-s3cret", False,
                                       ("*.internal.example", "localhost"))
    assert config.proxy.url == "http://proxy.local:3128"


def test_next_page_connection(every: Connections) -> None:
    config = every.get("next page")
    assert config.url == "http://legacy.example.com/api/items"
    assert config.auth == AuthConfig("digest", "reader", "digest-pass")
    assert config.tls == TlsConfig("skip", None, Path("/etc/qscript/client.pfx"), None, "pfx-pass")
    assert config.tls.client_cert_format == "pkcs12"
    assert config.pagination == PaginationConfig(
        type="next_page", page_param="page", first_page=0, total_pages_path="paging/pages",
        last_page_path="paging/is_last", last_page_value="true",
    )


def test_next_token_connections(every: Connections) -> None:
    body = every.get("next token")
    assert body.auth == AuthConfig("ntlm", "CORP\\svc-qlik", "ntlm-pass")
    assert body.pagination == PaginationConfig(type="next_token", token_param="cursor", token_path="next_cursor")
    header = every.get("token header")
    assert header.auth == AuthConfig("current_user")
    assert header.pagination == PaginationConfig(type="next_token", token_param="X-Continuation", token_in="header",
                                                 token_header="X-Next-Continuation")


def test_next_url_connections(every: Connections) -> None:
    config = every.get("next url")
    assert config.pagination == PaginationConfig(type="next_url", next_url_path="links/next/href")
    # credentials inside a proxy URL move out of it; the host is lower-cased by URL rules
    assert config.proxy == ProxyConfig("proxy.example.com", 8443, "https", "proxy@user", "p:ss")
    assert config.proxy.url == "https://proxy.example.com:8443"
    assert every.get("link header").pagination == PaginationConfig(type="next_url", use_link_header=True)


def test_custom_and_none_pagination(every: Connections) -> None:
    assert every.get("custom").pagination == PaginationConfig(type="custom")
    assert every.get("none").pagination == PaginationConfig()


def test_every_connection_in_the_fixture_is_valid(every: Connections) -> None:
    assert list(every.validate_all()) == ["REST orders", "next page", "next token", "token header", "next url",
                                          "link header", "custom", "none"]


def test_fixture_sets_every_key(every: Connections) -> None:
    """Guard the fixture itself: a key added to the format must be added to every_key.toml."""
    import tomllib

    document = tomllib.loads((DATA / "every_key.toml").read_text(encoding="utf-8"))["connections"]
    seen: dict[str, set[str]] = {}
    for table in document.values():
        for key, value in table.items():
            seen.setdefault("", set()).add(key)
            if isinstance(value, dict):
                seen.setdefault(key, set()).update(value)
    wanted = {
        "": {f.name for f in dataclasses.fields(RestConfig)} - {"name", "env_secrets"} | {"type"},
        "auth": {f.name for f in dataclasses.fields(AuthConfig)},
        "tls": {f.name for f in dataclasses.fields(TlsConfig)},
        "retry": {f.name for f in dataclasses.fields(RetryConfig)},
        "pagination": {f.name for f in dataclasses.fields(PaginationConfig)},
        "proxy": {f.name for f in dataclasses.fields(ProxyConfig)} - {"scheme"} | {"url"},
    }
    for section, keys in wanted.items():
        assert keys <= seen[section], (section, keys - seen[section])


# -- defaults and normalisation -------------------------------------------------------------


def test_defaults() -> None:
    config = build({})
    assert config == RestConfig("REST orders", URL)
    assert (config.method, config.body, config.connection_timeout, config.read_timeout) == ("GET", "", 30, 30)
    assert (config.http_version, config.keep_alive, config.expect_100_continue) == ("1.1", True, False)
    assert (config.auto_detect_response_type, config.response_type, config.check_response_type_on_test) == (
        True, "json", False)
    assert (config.key_generation, config.xml_dtd) == ("sequence", "prohibit")
    assert not (config.allow_with_connection or config.add_missing_query_params or config.allow_response_headers
                or config.https_only or config.cookie_container_on_redirect)
    assert (config.redirect_allowlist, config.trusted_locations) == ((), ())
    assert config.max_response_size == 256 * 1024 * 1024
    assert config.auth == AuthConfig("anonymous", "", "")
    assert config.tls == TlsConfig("system", None, None, None, "")
    assert config.tls.client_cert_format is None
    assert dict(config.query) == {} and config.headers == ()
    assert config.retry == RetryConfig(False, 3, 60.0, (500, 502, 504), 1.0)
    assert config.pagination.type == "none"
    assert (config.pagination.max_pages, config.pagination.max_records) == (10_000, 10_000_000)
    assert (config.pagination.stop_on_empty_page, config.pagination.stop_on_short_page) == (True, False)
    assert config.proxy is None


def test_enum_values_ignore_case_and_are_stored_normalised() -> None:
    config = build({"method": "Post", "response_type": "CSV", "key_generation": "Current_Record", "xml_dtd": "URL",
                    "auth": {"schema": "DIGEST", "username": "u"}, "tls": {"verify": "SKIP"},
                    "pagination": {"type": "Next_URL", "use_link_header": True}})
    assert (config.method, config.response_type, config.key_generation, config.xml_dtd) == (
        "POST", "csv", "current_record", "url")
    assert (config.auth.schema, config.tls.verify, config.pagination.type) == ("digest", "skip", "next_url")


def test_offset_defaults_and_proxy_url_default_port() -> None:
    config = build({"pagination": {"type": "offset", "start_param": "skip", "count_param": "top", "count_value": 50},
                    "proxy": {"url": "http://proxy.local"}})
    assert (config.pagination.start_value, config.pagination.start_in) == (0, "query")
    assert (config.proxy.host, config.proxy.port, config.proxy.bypass_local) == ("proxy.local", 80, True)


def test_retry_status_codes_repeat_once() -> None:
    assert build({"retry": {"status_codes": [502, 500, 502]}}).retry.status_codes == (502, 500)


def test_numbers_accept_integers_where_decimals_are_allowed() -> None:
    retry = build({"retry": {"max_wait": 5, "backoff": 2}}).retry
    assert (retry.max_wait, retry.backoff) == (5.0, 2.0)


def test_relative_paths_resolve_against_base_dir(tmp_path: Path) -> None:
    tls = build({"tls": {"verify": "custom_ca", "ca_file": "certs/ca.pem", "client_cert": "/abs/client.pem",
                         "client_key": "../keys/client.key"}}, base_dir=tmp_path).tls
    assert tls.ca_file == tmp_path / "certs" / "ca.pem"
    assert tls.client_cert == Path("/abs/client.pem")
    assert tls.client_key == tmp_path / ".." / "keys" / "client.key"


def test_origin_of_normalises() -> None:
    assert origin_of("HTTPS://API.Example.com:443/x?y=1") == "https://api.example.com"
    assert origin_of("http://h:8080") == "http://h:8080"
    assert origin_of("http://[::1]:80/") == "http://[::1]"


def test_config_is_frozen_and_hashable() -> None:
    config = build({"query": {"a": "1"}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.url = "https://elsewhere"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.query["b"] = "2"  # type: ignore[index]
    assert hash(config) == hash(build({"query": {"a": "1"}}))


def test_header_lookup_ignores_case() -> None:
    config = build({"headers": {"Accept": "text/csv"}})
    assert config.header("accept") == Header("Accept", "text/csv")
    assert config.header("Missing") is None


# -- ${env:NAME} ------------------------------------------------------------------------------


def test_env_substitution_anywhere_in_strings() -> None:
    env = {"HOST": "api.example.com", "TENANT": "t42", "LIMIT": "500", "CA": "ca.pem"}
    config = build({
        "url": "https://${env:HOST}/v1/${env:TENANT}/orders",
        "query": {"limit": "${env:LIMIT}"},
        "headers": {"X-Tenant": "${env:TENANT}", "X-Both": {"value": "${env:TENANT}-${env:LIMIT}"}},
        "tls": {"verify": "custom_ca", "ca_file": "${env:CA}"},
        "trusted_locations": ["https://${env:HOST}"],
        "proxy": {"host": "proxy.local", "port": 3128, "bypass": ["${env:HOST}"]},
        "method": "${env:METHOD}",
    }, {**env, "METHOD": "get"})
    assert config.url == "https://api.example.com/v1/t42/orders"
    assert dict(config.query) == {"limit": "500"}
    assert [h.value for h in config.headers] == ["t42", "t42-500"]
    assert config.tls.ca_file == Path("/conf/ca.pem")
    assert config.trusted_locations == ("https://api.example.com",)
    assert config.proxy.bypass == ("api.example.com",)
    assert config.method == "GET"


def test_env_escape_keeps_the_literal_text() -> None:
    assert build({"method": "POST", "body": "$${env:NOT_EXPANDED} ${env:X}"}, {"X": "x"}).body == (
        "${env:NOT_EXPANDED} x")


def test_env_variable_may_be_empty() -> None:
    assert build({"auth": {"schema": "basic", "username": "u", "password": "${env:EMPTY}"}},
                 {"EMPTY": ""}).auth.password == ""


def test_missing_env_variable_names_connection_key_and_variable() -> None:
    assert error_of({"auth": {"schema": "basic", "username": "u", "password": "${env:API_PASSWORD}"}}) == (
        "connection 'REST orders': key 'auth.password' uses ${env:API_PASSWORD}, "
        "but environment variable API_PASSWORD is not set")
    assert "key 'headers.X-Key.value' uses ${env:K}" in error_of({"headers": {"X-Key": {"value": "${env:K}"}}})
    assert "key 'proxy.bypass[1]' uses ${env:B}" in error_of(
        {"proxy": {"host": "p", "port": 1, "bypass": ["a", "${env:B}"]}})


def test_bad_env_variable_name() -> None:
    assert "key 'body' has ${env:1X}: a variable name is letters" in error_of({"body": "${env:1X}"})


def test_text_from_sensitive_env_variables_is_secret() -> None:
    config = build({"method": "POST", "body": '{"key": "${env:CLIENT_SECRET}", "user": "${env:API_USER}"}',
                    "headers": {"X-Custom": "${env:SESSION_ID}"}},
                   {"CLIENT_SECRET": "cs-999", "API_USER": "bob", "SESSION_ID": "sid-777"})
    assert config.secrets() == ["sid-777", "cs-999"]
    assert config.header("X-Custom").secret is True
    text = repr(config)
    assert "cs-999" not in text and "sid-777" not in text and "bob" in text


# -- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EVERY_SECRET))
def test_repr_and_str_never_show_a_secret(every: Connections, name: str) -> None:
    config = every.get(name)
    for shown in (repr(config), str(config), repr(config.auth), repr(config.tls), repr(config.proxy),
                  repr(config.headers)):
        for secret in EVERY_SECRET[name]:
            assert secret not in shown
    assert "'***'" in repr(config)


def test_secrets_lists_every_secret_value(every: Connections) -> None:
    assert sorted(every.get("REST orders").secrets()) == sorted(EVERY_SECRET["REST orders"])
    assert every.get("next page").secrets() == ["digest-pass", "pfx-pass"]
    assert every.get("next url").secrets() == ["p:ss"]
    assert every.get("none").secrets() == []


def test_non_secret_values_stay_visible(every: Connections) -> None:
    text = repr(every.get("REST orders"))
    for visible in ("svc-orders", "application/json", "'limit': '100'", "proxyuser", "meta/total_count"):
        assert visible in text


def test_sensitive_query_values_in_the_url_are_secret() -> None:
    config = build({"url": "https://api.example.com/v1?access_token=abc%2Bdef&page=2"})
    assert config.secrets() == ["abc%2Bdef", "abc+def"]
    assert "abc" not in repr(config) and "page=2" in repr(config)


@pytest.mark.parametrize("name", ["Authorization", "proxy-authorization", "Cookie", "Set-Cookie", "X-API-Key",
                                  "api_key", "Ocp-Apim-Subscription-Key", "X-Auth-Token", "access_token",
                                  "client_secret", "password", "pwd", "key", "sig", "X-Session-Id", "API_PASSWORD"])
def test_sensitive_names(name: str) -> None:
    assert is_sensitive_name(name)


@pytest.mark.parametrize("name", ["Accept", "Content-Type", "limit", "page", "Keep-Alive", "X-Tenant", "API_USER"])
def test_plain_names(name: str) -> None:
    assert not is_sensitive_name(name)


def test_header_masking_follows_the_rule() -> None:
    assert "abc" not in repr(Header("X-Api-Key", "abc"))
    assert "abc" not in repr(Header("X-Custom", "abc", secret=True))
    assert "abc" in repr(Header("X-Custom", "abc"))
    assert repr(AuthConfig("basic", "u", "")) == "AuthConfig(schema='basic', username='u', password='')"


def test_header_value_for_request() -> None:
    plain = Header("Accept", "text/csv")
    encrypted = Header("Authorization", "enc:abc", encrypt=True)
    assert plain.value_for_request() == "text/csv"
    assert encrypted.value_for_request(lambda token: "Bearer " + token.removeprefix("enc:")) == "Bearer abc"
    with pytest.raises(ConfigError, match="header 'Authorization' is encrypted"):
        encrypted.value_for_request()


def test_request_headers_decrypts_and_names_the_connection() -> None:
    config = build({"headers": {"Accept": "a", "Authorization": {"value": "enc:x", "encrypt": True}}})
    assert config.request_headers(str.upper) == [("Accept", "a"), ("Authorization", "ENC:X")]
    with pytest.raises(ConfigError, match=r"^connection 'REST orders': header 'Authorization' is encrypted"):
        config.request_headers()


def test_errors_do_not_echo_secret_values() -> None:
    message = error_of({"auth": {"schema": "basic", "username": "u", "password": 12345678}})
    assert message == "connection 'REST orders': key 'auth.password' must be a string (got an integer)"
    assert "98765" not in error_of({"headers": {"X-Api-Key": 98765}})


# -- validation errors ------------------------------------------------------------------------

ERRORS = [
    ({"url": None}, "key 'url' is required (an http:// or https:// URL)"),
    ({"url": "ftp://x/y"}, "key 'url' must be an http:// or https:// URL (got 'ftp://x/y')"),
    ({"url": "api.example.com/v1"}, "key 'url' must be an http:// or https:// URL (got 'api.example.com/v1')"),
    ({"url": "https://a b"}, "key 'url' must be an http:// or https:// URL without spaces (got 'https://a b')"),
    ({"url": "https://u:p@h/x"}, "key 'url' must not contain user:password@ (put credentials in the auth table)"),
    ({"url": "https://h:99999/"}, "key 'url' has an invalid port (got 'https://h:99999/')"),
    ({"url": "http://h", "https_only": True}, "key 'url' must be an https:// URL (https_only = true) (got 'http://h')"),
    ({"type": "odbc"}, "key 'type' must be a connection type qscript knows: rest (got 'odbc')"),
    ({"method": "PUT"}, "key 'method' must be one of GET, POST (got 'PUT')"),
    ({"method": 1}, "key 'method' must be one of GET, POST (got 1, an integer)"),
    ({"url": "http://h/x?api_key=SeCr3t", "https_only": True},
     "key 'url' must be an https:// URL (https_only = true) (got 'http://h/x?api_key=***')"),
    ({"body": "{}"}, "key 'body' is only sent with method POST (method is GET)"),
    ({"connection_timeout": 0}, "key 'connection_timeout' must be an integer from 1 to 10000 seconds (got 0)"),
    ({"read_timeout": 10001}, "key 'read_timeout' must be an integer from 1 to 10000 seconds (got 10001)"),
    ({"read_timeout": "30"},
     "key 'read_timeout' must be an integer from 1 to 10000 seconds (got '30', a string: drop the quotes)"),
    ({"read_timeout": 2.5}, "key 'read_timeout' must be an integer from 1 to 10000 seconds (got 2.5, a number)"),
    ({"connection_timeout": True},
     "key 'connection_timeout' must be an integer from 1 to 10000 seconds (got true, a boolean)"),
    ({"http_version": "2"}, "key 'http_version' must be one of 1.1, 1.0 (got '2')"),
    ({"http_version": 1.1}, 'key \'http_version\' must be the string "1.1" or "1.0" (got 1.1, a number: write it '
                            "in quotes)"),
    ({"keep_alive": "true"}, "key 'keep_alive' must be true or false (got 'true', a string: drop the quotes)"),
    ({"expect_100_continue": 1}, "key 'expect_100_continue' must be true or false (got 1, an integer)"),
    ({"response_type": "yaml"}, "key 'response_type' must be one of json, xml, csv (got 'yaml')"),
    ({"key_generation": "hash"},
     "key 'key_generation' must be one of sequence, current_record, fully_qualified, none (got 'hash')"),
    ({"xml_dtd": "allow"}, "key 'xml_dtd' must be one of prohibit, internal, url (got 'allow')"),
    ({"max_response_size": 0}, "key 'max_response_size' must be an integer >= 1 bytes (got 0)"),
    ({"redirect_allowlist": "*"}, "key 'redirect_allowlist' must be a list of strings (got '*', a string)"),
    ({"redirect_allowlist": [1]}, "key 'redirect_allowlist[0]' must be a string (got 1, an integer)"),
    ({"redirect_allowlist": ["cdn.example.com"]},
     "key 'redirect_allowlist[0]' must be '*' or an http:// or https:// origin or URL prefix (got 'cdn.example.com')"),
    ({"redirect_allowlist": ["https://cdn/x?y=1"]},
     "key 'redirect_allowlist[0]' must be an origin or URL prefix without query or fragment (got 'https://cdn/x?y=1')"),
    ({"https_only": True, "redirect_allowlist": ["http://cdn"]},
     "key 'redirect_allowlist[0]' must be an https:// URL (https_only = true) (got 'http://cdn')"),
    ({"trusted_locations": ["https://auth.example.com/login"]},
     "key 'trusted_locations[0]' must be an origin, scheme://host[:port], without path or query "
     "(got 'https://auth.example.com/login')"),
    ({"unknown": 1}, "key 'unknown' is not a known key (allowed here: add_missing_query_params"),
    ({"keepalive": True}, "did you mean 'keep_alive'?"),
    # auth
    ({"auth": "basic"}, "key 'auth' must be a table (got 'basic', a string)"),
    ({"auth": {"schema": "oauth2"}},
     "key 'auth.schema' must be one of anonymous, basic, digest, ntlm, current_user (got 'oauth2')"),
    ({"auth": {"schema": "basic"}}, "key 'auth.username' is required when schema is basic"),
    ({"auth": {"schema": "ntlm", "username": "bob"}},
     "key 'auth.username' must be DOMAIN\\user or user@domain for schema ntlm (got 'bob')"),
    ({"auth": {"username": "bob"}},
     "key 'auth.username' is only used with schema basic, digest, ntlm (schema is anonymous)"),
    ({"auth": {"schema": "current_user", "password": "x"}},
     "key 'auth.password' is only used with schema basic, digest, ntlm (schema is current_user)"),
    ({"auth": {"schema": "basic", "username": "u", "realm": "r"}},
     "key 'auth.realm' is not a known key (allowed here: password, schema, username)"),
    # tls
    ({"tls": {"verify": "none"}}, "key 'tls.verify' must be one of system, skip, custom_ca (got 'none')"),
    ({"tls": {"verify": "custom_ca"}},
     "key 'tls.ca_file' is required when verify is custom_ca (a PEM file of trusted CA certificates)"),
    ({"tls": {"ca_file": "ca.pem"}}, "key 'tls.ca_file' is only used with verify = custom_ca (verify is system)"),
    ({"tls": {"verify": "custom_ca", "ca_file": ""}}, "key 'tls.ca_file' must be a file path (got an empty string)"),
    ({"tls": {"client_key": "k.pem"}}, "key 'tls.client_key' needs tls.client_cert"),
    ({"tls": {"client_cert_password": "x"}}, "key 'tls.client_cert_password' needs tls.client_cert"),
    ({"tls": {"client_cert": "c.p12", "client_key": "k.pem"}},
     "key 'tls.client_key' is only used with a PEM client_cert (a .pfx/.p12 file holds its own key)"),
    # query and headers
    ({"query": {"limit": 100}},
     "key 'query.limit' must be a string (got 100, an integer; query values are text: write it in quotes)"),
    ({"query": {"": "x"}}, "key 'query.\"\"' is an empty query parameter name"),
    ({"headers": {"Bad Name": "x"}}, "key 'headers.\"Bad Name\"' is not a valid header name"),
    ({"headers": {"Accept": "a", "accept": "b"}}, "key 'headers.accept' repeats header 'Accept' (header names ignore "
                                                  "case)"),
    ({"headers": {"X-A": "a\r\nX-Injected: 1"}}, "key 'headers.X-A' must not contain line breaks or NUL characters"),
    ({"headers": {"X-A": 5}}, "key 'headers.X-A' must be a string or a table { value = \"...\", encrypt = true } "
                              "(got 5, an integer)"),
    ({"headers": {"X-A": {"encrypt": True}}}, "key 'headers.X-A.value' is required (the header value)"),
    ({"headers": {"Authorization": {"value": "Bearer x", "encrypt": True}}},
     "key 'headers.Authorization.value' must be an enc: token when encrypt = true (got a plain value"),
    ({"headers": {"X-A": {"value": "v", "encrypted": True}}},
     "key 'headers.X-A.encrypted' is not a known key (allowed here: encrypt, secret, value); did you mean 'encrypt'?"),
    # retry
    ({"retry": {"enabled": "yes"}}, "key 'retry.enabled' must be true or false (got 'yes', a string)"),
    ({"retry": {"max_attempts": 0}}, "key 'retry.max_attempts' must be an integer from 1 to 100 (got 0)"),
    ({"retry": {"max_wait": -1}}, "key 'retry.max_wait' must be a number from 0 to 86400 seconds (got -1)"),
    ({"retry": {"backoff": "1s"}}, "key 'retry.backoff' must be a number from 0 to 3600 seconds (got '1s', a string)"),
    ({"retry": {"status_codes": [429]}}, "key 'retry.status_codes[0]' must be an integer from 500 to 599 (got 429)"),
    ({"retry": {"status_codes": 500}}, "key 'retry.status_codes' must be a list of integers (got 500, an integer)"),
    ({"retry": {"attempts": 3}}, "key 'retry.attempts' is not a known key (allowed here: backoff, enabled, "
                                 "max_attempts, max_wait, status_codes)"),
    # pagination
    ({"pagination": {"type": "cursor"}},
     "key 'pagination.type' must be one of none, offset, next_page, next_token, next_url, custom (got 'cursor')"),
    ({"pagination": {"type": "offset", "count_param": "limit", "count_value": 10}},
     "key 'pagination.start_param' is required (the parameter name; pagination type offset needs it)"),
    ({"pagination": {"type": "offset", "start_param": "offset", "count_value": 10}},
     "key 'pagination.count_param' is required (the parameter name; pagination type offset needs it)"),
    ({"pagination": {"type": "offset", "start_param": "offset", "count_param": "limit"}},
     "key 'pagination.count_value' is required for pagination type offset (the page size, an integer >= 1)"),
    ({"pagination": {"type": "offset", "start_param": "o", "count_param": "l", "count_value": 0}},
     "key 'pagination.count_value' must be an integer >= 1 (got 0)"),
    ({"pagination": {"type": "offset", "start_param": "o", "count_param": "l", "count_value": 5, "start_value": -1}},
     "key 'pagination.start_value' must be an integer >= 0 (got -1)"),
    ({"pagination": {"type": "offset", "start_param": "o", "count_param": "l", "count_value": 5, "start_in": "body"}},
     "key 'pagination.start_in' must be one of query, header (got 'body')"),
    ({"pagination": {"type": "offset", "start_param": "a b", "count_param": "l", "count_value": 5,
                     "start_in": "header"}},
     "key 'pagination.start_param' must be a header name when sent in a header (got 'a b')"),
    ({"pagination": {"type": "offset", "start_param": "o", "count_param": "l", "count_value": 5,
                     "total_path": "meta//total"}},
     "key 'pagination.total_path' must be a /-separated field path such as meta/total_count (got 'meta//total')"),
    ({"pagination": {"type": "offset", "start_param": "o", "count_param": "l", "count_value": 5, "page_param": "p"}},
     "key 'pagination.page_param' belongs to pagination type next_page, not offset"),
    ({"pagination": {"token_param": "t"}}, "key 'pagination.token_param' belongs to pagination type next_token, "
                                           "not none"),
    ({"pagination": {"type": "custom", "next_url_path": "next"}},
     "key 'pagination.next_url_path' belongs to pagination type next_url, not custom"),
    ({"pagination": {"type": "next_page"}},
     "key 'pagination.page_param' is required (the parameter name; pagination type next_page needs it)"),
    ({"pagination": {"type": "next_page", "page_param": "p", "last_page_value": "true"}},
     "key 'pagination.last_page_value' needs pagination.last_page_path (the field to compare it with)"),
    ({"pagination": {"type": "next_page", "page_param": "p", "first_page": -1}},
     "key 'pagination.first_page' must be an integer >= 0 (got -1)"),
    ({"pagination": {"type": "next_token", "token_param": "t"}},
     "key 'pagination.token_path' is required for pagination type next_token (or pagination.token_header"),
    ({"pagination": {"type": "next_token", "token_param": "t", "token_path": "a", "token_header": "X-T"}},
     "key 'pagination.token_header' cannot be combined with pagination.token_path"),
    ({"pagination": {"type": "next_token", "token_param": "t", "token_header": "X T"}},
     "key 'pagination.token_header' must be a header name (got 'X T')"),
    ({"pagination": {"type": "next_url"}},
     "key 'pagination.next_url_path' is required for pagination type next_url (or use_link_header = true"),
    ({"pagination": {"type": "next_url", "next_url_path": "next", "use_link_header": True}},
     "key 'pagination.use_link_header' cannot be combined with pagination.next_url_path"),
    ({"pagination": {"max_pages": 0}}, "key 'pagination.max_pages' must be an integer >= 1 (got 0)"),
    ({"pagination": {"max_records": "all"}}, "key 'pagination.max_records' must be an integer >= 1 (got 'all', a "
                                             "string)"),
    ({"pagination": {"stop_on_short_page": 1}},
     "key 'pagination.stop_on_short_page' must be true or false (got 1, an integer)"),
    ({"pagination": {"pages": 3}}, "key 'pagination.pages' is not a known key (allowed here: max_pages, max_records, "
                                   "stop_on_empty_page, stop_on_short_page, type)"),
    # proxy
    ({"proxy": {"host": "proxy.local"}},
     "key 'proxy.port' is required with proxy.host (an integer from 1 to 65535)"),
    ({"proxy": {"port": 3128}}, "key 'proxy.host' is required in a proxy table (or give proxy.url)"),
    ({"proxy": {"host": "http://proxy.local", "port": 3128}},
     "key 'proxy.host' must be a host name or address without scheme or path (got 'http://proxy.local'); use "
     "proxy.url for a URL"),
    ({"proxy": {"host": "p", "port": 70000}}, "key 'proxy.port' must be an integer from 1 to 65535 (got 70000)"),
    ({"proxy": {"url": "socks5://p:1080"}},
     "key 'proxy.url' must be an http:// or https:// proxy URL (other proxy schemes are not supported)"),
    ({"proxy": {"url": "http://p:3128", "host": "p"}},
     "key 'proxy.host' cannot be combined with proxy.url (use one or the other)"),
    ({"proxy": {"url": "http://p:3128", "port": 3128}},
     "key 'proxy.port' cannot be combined with proxy.url (write the port inside the URL)"),
    ({"proxy": {"url": "http://u:pw@p:3128", "password": "x"}},
     "key 'proxy.url' has user:password@ and proxy.username/proxy.password as well (use one place)"),
    ({"proxy": {"url": "http://p:3128/path"}},
     "key 'proxy.url' must be an origin, scheme://host[:port], without path or query (got 'http://p:3128/path')"),
    ({"proxy": {"host": "p", "port": 1, "bypass": ["http://x"]}},
     "key 'proxy.bypass[0]' must be a host name or pattern such as *.internal.example (got 'http://x')"),
    ({"proxy": {"host": "p", "port": 1, "bypass_local": "no"}},
     "key 'proxy.bypass_local' must be true or false (got 'no', a string)"),
]


@pytest.mark.parametrize(("table", "expected"), ERRORS, ids=[f"{i}" for i in range(len(ERRORS))])
def test_validation_errors(table: dict[str, Any], expected: str) -> None:
    merged = {"url": URL, **table}
    if merged["url"] is None:
        del merged["url"]
    with pytest.raises(ConfigError) as caught:
        RestConfig.from_table("REST orders", merged, Path("/conf"), {})
    message = str(caught.value)
    assert message.startswith("connection 'REST orders': "), message
    assert expected in message, message
