"""Encrypted header values: the key, enc: tokens, decryption per request, and editing the file.

Keys live only in tmp_path (``QSCRIPT_KEY_FILE`` or an explicit environ); the real home
folder is never touched.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from httpkit import Reply

from qscript.connectors.connections_file import encrypt_header
from qscript.connectors.rest.config import Header, RestConfig
from qscript.connectors.rest.crypto import (
    KEY_ENV,
    KEY_FILE_ENV,
    PREFIX,
    date_header_problem,
    decrypt_token,
    decryptor_from_environ,
    key_file_path,
    load_key,
)
from qscript.errors import ConfigError

POSIX = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
KEY = Fernet.generate_key().decode()
ENV = {KEY_ENV: KEY}


def config_with(headers: dict, name: str = "Orders API") -> RestConfig:
    return RestConfig.from_table(name, {"url": "http://127.0.0.1:9/x", "headers": headers}, Path("."), {})


def encrypted(value: str, environ: dict[str, str] = ENV) -> str:
    return load_key(environ).encrypt(value)


# -- the key ------------------------------------------------------------------------------------

def test_key_file_location_follows_the_environment(tmp_path):
    assert key_file_path({KEY_FILE_ENV: str(tmp_path / "k"), "XDG_CONFIG_HOME": "/x"}) == tmp_path / "k"
    if os.name == "posix":
        assert key_file_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "qscript" / "key"
        assert key_file_path({"HOME": str(tmp_path)}) == tmp_path / ".config" / "qscript" / "key"


def test_key_from_the_environment_wins_over_the_file(tmp_path):
    key = load_key({KEY_ENV: KEY, KEY_FILE_ENV: str(tmp_path / "missing")}, create=True)
    assert key.where == "$QSCRIPT_KEY" and not key.created
    assert not (tmp_path / "missing").exists()
    assert KEY not in repr(key)


def test_an_invalid_environment_key_is_named_but_not_shown():
    with pytest.raises(ConfigError, match=r"^\$QSCRIPT_KEY does not hold a valid key") as raised:
        load_key({KEY_ENV: "not-a-key-but-a-secret-0123456789"})
    assert "secret-0123456789" not in str(raised.value)


@POSIX
def test_the_key_file_is_created_once_with_private_modes(tmp_path):
    path = tmp_path / "conf" / "qscript" / "key"
    environ = {KEY_FILE_ENV: str(path)}
    with pytest.raises(ConfigError, match=r"no key to decrypt with: \$QSCRIPT_KEY is not set and key file .*key "
                                          "does not exist"):
        load_key(environ)
    assert not path.exists()  # decrypting never makes a key
    first = load_key(environ, create=True)
    assert first.created and first.where == f"key file {path}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    second = load_key(environ, create=True)
    assert not second.created
    assert decrypt_token(first.encrypt("v"), second, "h") == "v"


@POSIX
def test_a_key_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "key"
    path.write_text(KEY)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"accessible by other users \(mode 0644\); run: chmod 600"):
        load_key({KEY_FILE_ENV: str(path)})


@POSIX
def test_a_key_file_without_a_key_is_refused(tmp_path):
    path = tmp_path / "key"
    path.write_text("hello")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=r"key file .* does not hold a valid key"):
        load_key({KEY_FILE_ENV: str(path)})


# -- tokens ---------------------------------------------------------------------------------------

def test_tokens_round_trip_and_differ_each_time():
    key = load_key(ENV)
    first, second = key.encrypt("Bearer abc"), key.encrypt("Bearer abc")
    assert first.startswith(PREFIX) and first != second
    assert "Bearer" not in first
    assert decrypt_token(first, key, "h") == decrypt_token(second, key, "h") == "Bearer abc"


def test_the_decryptor_reads_the_key_only_when_a_token_comes(tmp_path):
    environ = {KEY_FILE_ENV: str(tmp_path / "key")}
    decrypt = decryptor_from_environ(environ)  # a connection without enc: values needs no key
    assert not (tmp_path / "key").exists()
    with pytest.raises(ConfigError, match=r"^an encrypted header value: no key to decrypt with"):
        decrypt(PREFIX + "abc")
    environ[KEY_ENV] = KEY
    assert decrypt(encrypted("late")) == "late"


def test_a_wrong_key_names_connection_header_and_fix_but_no_secret():
    token = encrypted("Bearer top-secret")
    config = config_with({"Authorization": {"value": token, "encrypt": True}})
    decrypt = decryptor_from_environ({KEY_ENV: Fernet.generate_key().decode()}, config)
    with pytest.raises(ConfigError) as raised:
        config.headers[0].value_for_request(decrypt)
    message = str(raised.value)
    assert message.startswith("connection 'Orders API': header 'Authorization' (encrypt = true) cannot be "
                              "decrypted with the key from $QSCRIPT_KEY")
    assert message.endswith('encrypt it again with: qscript connections encrypt "Orders API" Authorization')
    assert "top-secret" not in message and token not in message and KEY not in message


def test_a_changed_token_is_detected():
    token = encrypted("Bearer abc")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        decryptor_from_environ(ENV)(tampered)
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        decryptor_from_environ(ENV)(PREFIX + "not base64 at all!")


def test_a_decrypted_line_break_is_refused():
    with pytest.raises(ConfigError, match="after decryption the value contains a line break"):
        decryptor_from_environ(ENV)(encrypted("Bearer a\r\nX-Evil: 1"))


def test_headers_decrypt_through_the_config_seam():
    token = encrypted("Bearer abc")
    config = config_with({"Accept": "text/csv", "Authorization": {"value": token, "encrypt": True}})
    assert config.secrets() == [token]
    assert config.request_headers(decryptor_from_environ(ENV, config)) == [
        ("Accept", "text/csv"), ("Authorization", "Bearer abc")]
    assert "Bearer abc" not in repr(config)
    assert Header("X", token, encrypt=True).value_for_request(decryptor_from_environ(ENV)) == "Bearer abc"


# -- the Date header ----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "problem"), [
    ("2024-01-31-13:45:30Z", None),
    ("2024-02-29-00:00:00Z", None),
    ("2023-02-29-00:00:00Z", "is not a real date and time"),
    ("2024-01-31-24:00:00Z", "is not a real date and time"),
    ("2024-01-31T13:45:30Z", "must be written yyyy-MM-dd-HH:mm:ssZ"),
    ("Wed, 31 Jan 2024 13:45:30 GMT", "must be written yyyy-MM-dd-HH:mm:ssZ"),
    ("2024-01-31-13:45:30", "must be written yyyy-MM-dd-HH:mm:ssZ"),
])
def test_date_header_format(value, problem):
    found = date_header_problem(value)
    assert found == problem if problem is None else found.startswith(problem)


def test_an_encrypted_date_header_is_checked_after_decryption():
    good, bad = encrypted("2024-01-31-13:45:30Z"), encrypted("yesterday-noon")
    config = config_with({"Date": {"value": bad, "encrypt": True}, "X-Other": {"value": good, "encrypt": True}})
    decrypt = decryptor_from_environ(ENV, config)
    assert decrypt(good) == "2024-01-31-13:45:30Z"
    with pytest.raises(ConfigError, match=r"^connection 'Orders API': header 'Date' \(encrypt = true\): the "
                                          "decrypted value must be written yyyy-MM-dd-HH:mm:ssZ") as raised:
        decrypt(bad)
    assert "yesterday" not in str(raised.value)


# -- end to end ---------------------------------------------------------------------------------

def test_a_select_sends_the_decrypted_header_and_logs_none_of_it(run_script, http_server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    http_server.route("/orders", Reply(body=[{"id": 1}]))
    token = encrypted("Bearer live-token-123")
    connections = {"Orders API": {"url": http_server.url("/orders"),
                                  "headers": {"Authorization": {"value": token, "encrypt": True}}}}
    result = run_script("""LIB CONNECT TO 'Orders API';
        T: SQL SELECT "id" FROM JSON (wrap on) "root";
        TRACE token is Bearer live-token-123;""", connections=connections)
    assert http_server.requests[0].header("Authorization") == "Bearer live-token-123"
    assert result.tables["T"]["id"].tolist() == [1]
    assert "token is ***" in result.log
    assert not any("live-token-123" in line for line in result.log)


# -- writing the file ---------------------------------------------------------------------------

TOKEN = "enc:TOKEN"
NEW = '{ value = "enc:TOKEN", encrypt = true }'

LAYOUTS = {
    "plain value, comments kept": (
        '# mine\n[connections."A"]  # api\nurl = "http://x"\n\n[connections."A".headers]\n'
        'Accept = "a"  # keep\nauthorization = "Bearer plain"   # secret!\n',
        '# mine\n[connections."A"]  # api\nurl = "http://x"\n\n[connections."A".headers]\n'
        f'Accept = "a"  # keep\nauthorization = {NEW}   # secret!\n'),
    "new header in the headers table": (
        '[connections."A"]\nurl = "http://x"\n\n[connections."A".headers]\nAccept = "a"\n\n'
        '[connections."A".auth]\nschema = "anonymous"\n',
        '[connections."A"]\nurl = "http://x"\n\n[connections."A".headers]\nAccept = "a"\n'
        f'Authorization = {NEW}\n\n[connections."A".auth]\nschema = "anonymous"\n'),
    "no headers yet: a new section after the connection's last one": (
        '[connections."A"]\nurl = "http://x"\n[connections."A".auth]\nschema = "anonymous"',
        '[connections."A"]\nurl = "http://x"\n[connections."A".auth]\nschema = "anonymous"\n\n'
        f'[connections."A".headers]\nAuthorization = {NEW}\n'),
    "dotted keys": (
        '[connections."A"]\nurl = "http://x"\nheaders.Accept = "a"\n',
        f'[connections."A"]\nurl = "http://x"\nheaders.Accept = "a"\nheaders.Authorization = {NEW}\n'),
    "inline table, its other keys kept": (
        '[connections."A"]\nurl = "http://x"\n'
        'headers = { Accept = "a", Authorization = { value = "p", secret = true } }\n',
        '[connections."A"]\nurl = "http://x"\n'
        'headers = { Accept = "a", Authorization = { value = "enc:TOKEN", secret = true, encrypt = true } }\n'),
    "empty inline table": (
        '[connections."A"]\nurl = "http://x"\nheaders = {}\n',
        f'[connections."A"]\nurl = "http://x"\nheaders = {{ Authorization = {NEW} }}\n'),
    "header sub-table": (
        '[connections."A"]\nurl = "http://x"\n[connections."A".headers.Authorization]\nvalue = "p" # c\n'
        'secret = true\n',
        '[connections."A"]\nurl = "http://x"\n[connections."A".headers.Authorization]\nvalue = "enc:TOKEN" # c\n'
        'secret = true\nencrypt = true\n'),
    "inline connection": (
        '[connections]\n"A" = { url = "http://x" }\n',
        f'[connections]\n"A" = {{ url = "http://x", headers = {{ Authorization = {NEW} }} }}\n'),
    "strings that look like tables": (
        """[connections."A"]\nbody = '''\n[connections."A".headers]\nAuthorization = "no"'''\n"""
        'arr = [ "a", # c\n  "]" ]\nwhen = 1979-05-27 07:32:00Z\n[connections."A".headers]\n"Authorization" = \'x\'\n',
        """[connections."A"]\nbody = '''\n[connections."A".headers]\nAuthorization = "no"'''\n"""
        'arr = [ "a", # c\n  "]" ]\nwhen = 1979-05-27 07:32:00Z\n[connections."A".headers]\n'
        f'"Authorization" = {NEW}\n'),
    "windows line ends": (
        '[connections."A"]\r\nurl = "http://x"\r\n[connections."A".headers]\r\nAccept = "a"\r\n',
        '[connections."A"]\r\nurl = "http://x"\r\n[connections."A".headers]\r\nAccept = "a"\r\n'
        f'Authorization = {NEW}\r\n'),
}


@pytest.mark.parametrize(("before", "after"), list(LAYOUTS.values()), ids=list(LAYOUTS))
def test_only_the_header_changes(before, after):
    text, name = encrypt_header(before, "A", "Authorization", TOKEN)
    assert text == after
    assert name.lower() == "authorization"
    header = tomllib.loads(text)["connections"]["A"]["headers"][name]
    assert header["value"] == TOKEN and header["encrypt"] is True


def test_a_header_name_that_needs_quotes():
    text, _ = encrypt_header('[connections."A"]\nurl = "http://x"\n', "A", "X.Api~Key", TOKEN)
    assert tomllib.loads(text)["connections"]["A"]["headers"]["X.Api~Key"]["value"] == TOKEN
    assert '"X.Api~Key" = {' in text


def test_a_header_table_without_a_value_gets_one():
    before = '[connections."A"]\nurl = "http://x"\n[connections."A".headers.Authorization]\nsecret = true\n'
    text, name = encrypt_header(before, "A", "authorization", TOKEN)
    assert name == "Authorization"  # the file's spelling
    assert text == before + 'value = "enc:TOKEN"\nencrypt = true\n'


def test_a_connection_not_in_the_file_is_an_error():
    with pytest.raises(ConfigError, match="connection 'B' is not a table in this file"):
        encrypt_header('[connections."A"]\nurl = "http://x"\n', "B", "Authorization", TOKEN)


def test_a_reload_with_the_wrong_key_names_connection_and_header(run_script, http_server, monkeypatch):
    token = encrypted("Bearer live-token-123")
    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())
    connections = {"Orders API": {"url": http_server.url("/orders"),
                                  "headers": {"Authorization": {"value": token, "encrypt": True}}}}
    with pytest.raises(ConfigError) as raised:
        run_script("""LIB CONNECT TO 'Orders API';
            T: SQL SELECT "id" FROM JSON (wrap on) "root";""", connections=connections)
    assert str(raised.value).startswith("connection 'Orders API': header 'Authorization' (encrypt = true) cannot "
                                        "be decrypted with the key from $QSCRIPT_KEY")
    assert http_server.requests == []
