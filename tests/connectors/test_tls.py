"""TLS end to end: scripts against HTTPS servers on 127.0.0.1 with certificates made by tlskit.

Server validation (system, custom_ca, skip) and client certificates (PFX, PEM pairs), plus
unit tests of how TlsSettings keeps decrypted keys: private folder, removed on close.
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pytest
from httpkit import Reply
from pandas.testing import assert_frame_equal
from tlskit import PEM_KEY_PASSWORD, PFX_PASSWORD, HttpsServer, Pki, make_pki, server_context
from urllib3.exceptions import InsecureRequestWarning

import qscript
from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.tls import TlsSettings, system_ca_bundle
from qscript.errors import WrongFormatError

ITEMS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
SCRIPT = """LIB CONNECT TO 'Secure API';
T: SQL SELECT "id", "name" FROM JSON (wrap on) "root";"""
EXPECTED = pd.DataFrame({"id": pd.Series([1, 2], dtype="int64"), "name": pd.Series(["a", "b"], dtype="string")})


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def serve(pki: Pki):
    """``serve(cert="server", host="127.0.0.1", client_ca=None) -> HttpsServer`` answering /items."""
    servers: list[HttpsServer] = []

    def start(cert: str = "server", host: str = "127.0.0.1", client_ca: Path | None = None) -> HttpsServer:
        context = server_context(getattr(pki, f"{cert}_cert"), getattr(pki, f"{cert}_key"), client_ca)
        server = HttpsServer(context, host)
        server.route("/items", Reply(body=ITEMS))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def connections(server: HttpsServer, **tls: object) -> dict:
    table: dict = {"url": server.url("/items")}
    if tls:
        table["tls"] = {key: str(value) if isinstance(value, Path) else value for key, value in tls.items()}
    return {"Secure API": table}


def failure(run_script, script: str, conns: dict) -> qscript.ScriptError:
    with pytest.raises(qscript.ScriptError) as info:
        run_script(script, connections=conns)
    assert info.value.code == 12
    return info.value


# -- server validation ---------------------------------------------------------------------------
@pytest.mark.parametrize("cert", ["server", "expired", "self_signed"])
def test_system_trust_rejects_certificates_it_does_not_know(run_script, serve, cert):
    server = serve(cert)
    error = failure(run_script, SCRIPT, connections(server))
    assert "connection 'Secure API'" in error.message
    assert "TLS failed (tls.verify = system)" in error.message
    assert "CERTIFICATE_VERIFY_FAILED" in error.message
    assert server.requests == []


def test_system_is_the_default_and_uses_the_system_bundle():
    settings = TlsSettings.from_config(RestConfig(name="c", url="https://h"), "c", print)
    settings.before_request("https://h/x")
    bundle = system_ca_bundle()
    assert settings.verify == bundle
    assert bundle is True or os.path.exists(bundle)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_custom_ca_accepts_a_server_signed_by_it(run_script, serve, pki, host):
    server = serve(host=host)
    result = run_script(SCRIPT, connections=connections(server, verify="custom_ca", ca_file=pki.ca))
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/items")]
    assert not any("WARNING" in line for line in result.log)


def test_custom_ca_rejects_a_server_from_another_ca(run_script, serve, pki):
    server = serve()
    error = failure(run_script, SCRIPT, connections(server, verify="custom_ca", ca_file=pki.other_ca))
    assert "TLS failed (tls.verify = custom_ca)" in error.message
    assert server.requests == []


def test_custom_ca_still_rejects_an_expired_certificate(run_script, serve, pki):
    server = serve("expired")
    error = failure(run_script, SCRIPT, connections(server, verify="custom_ca", ca_file=pki.ca))
    assert "TLS failed" in error.message and "expired" in error.message


@pytest.mark.parametrize(("content", "why"), [(None, "cannot be read"), (b"not a certificate", "holds no PEM")])
def test_unusable_ca_file_is_named(run_script, serve, tmp_path, content, why):
    ca_file = tmp_path / "ca.pem"
    if content is not None:
        ca_file.write_bytes(content)
    error = failure(run_script, SCRIPT, connections(serve(), verify="custom_ca", ca_file=ca_file))
    assert error.message.startswith("connection 'Secure API': tls.ca_file ")
    assert why in error.message and str(ca_file) in error.message


@pytest.mark.parametrize("cert", ["server", "expired", "self_signed"])
def test_skip_accepts_any_certificate_and_warns_on_every_request(run_script, serve, cert):
    server = serve(cert)
    script = SCRIPT + '\nU: NoConcatenate SQL SELECT "id" FROM JSON (wrap on) "root";'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_script(script, connections=connections(server, verify="skip"))
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert len(server.requests) == 2
    warned = [line for line in result.log if "tls.verify = skip" in line]
    assert len(warned) == 2
    assert warned[0].startswith("WARNING: connection 'Secure API': the TLS certificate of https://127.0.0.1:")
    assert "not verified" in warned[0]
    assert not [w for w in caught if issubclass(w.category, InsecureRequestWarning)]  # the log line replaces it


def test_skip_warns_for_every_request_of_a_loop(run_script, serve):
    server = serve("self_signed")
    script = """LIB CONNECT TO 'Secure API';
    FOR i = 1 TO 3
        T: SQL SELECT "id" FROM JSON (wrap on) "root";
    NEXT i"""
    result = run_script(script, connections=connections(server, verify="skip"))
    assert len(result.tables["T"]) == 6
    assert len([line for line in result.log if "tls.verify = skip" in line]) == len(server.requests) == 3


def test_tls_failure_under_error_mode_0_continues(run_script, serve):
    script = "SET ErrorMode = 0;\n" + SCRIPT + "\nLET e = Num(ScriptError);"
    result = run_script(script, connections=connections(serve("self_signed")))
    assert result.variables["e"] == "12"
    assert "TLS failed" in result.variables["ScriptErrorDetails"]
    assert "T" not in result.tables


def test_skip_does_not_warn_for_plain_http(http_server):
    lines: list[str] = []
    settings = TlsSettings.from_config(
        RestConfig.from_table("c", {"url": http_server.url("/"), "tls": {"verify": "skip"}}, Path()), "c",
        lines.append)
    settings.before_request(http_server.url("/"))
    assert lines == []
    settings.before_request("https://example.invalid/x")
    assert len(lines) == 1 and "https://example.invalid" in lines[0]


# -- client certificates -------------------------------------------------------------------------
@pytest.fixture
def mutual(serve, pki) -> HttpsServer:
    """A server that requires a client certificate issued by the test CA."""
    return serve(client_ca=pki.ca)


def client_tls(pki: Pki, **extra: object) -> dict:
    return {"verify": "custom_ca", "ca_file": pki.ca, **extra}


@pytest.mark.parametrize(
    "client",
    [
        lambda p: {"client_cert": p.client_pfx, "client_cert_password": PFX_PASSWORD},
        lambda p: {"client_cert": p.client_cert, "client_key": p.client_key},
        lambda p: {"client_cert": p.client_cert, "client_key": p.client_key_encrypted,
                   "client_cert_password": PEM_KEY_PASSWORD},
        lambda p: {"client_cert": p.client_combined},
    ],
    ids=["pfx", "pem pair", "pem encrypted key", "pem combined file"],
)
def test_mutual_tls_accepts_the_configured_client_certificate(run_script, mutual, pki, client):
    result = run_script(SCRIPT, connections=connections(mutual, **client_tls(pki, **client(pki))))
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert mutual.peer_certificates == ["qscript test client"]
    assert len(mutual.requests) == 1


def test_mutual_tls_refuses_a_client_without_certificate(run_script, mutual, pki):
    error = failure(run_script, SCRIPT, connections(mutual, **client_tls(pki)))
    assert "connection 'Secure API'" in error.message
    assert "certificate required" in error.message.lower()
    assert mutual.requests == []
    assert mutual.refused_handshakes()


def test_mutual_tls_refuses_a_certificate_from_another_ca(run_script, mutual, pki):
    tls = client_tls(pki, client_cert=pki.stranger_pfx, client_cert_password=PFX_PASSWORD)
    failure(run_script, SCRIPT, connections(mutual, **tls))
    assert mutual.requests == []
    assert mutual.refused_handshakes()


@pytest.mark.parametrize("password", ["wrong-Pa55word!", ""])
def test_wrong_pfx_password_names_the_key_and_hides_the_password(run_script, mutual, pki, password):
    tls = client_tls(pki, client_cert=pki.client_pfx, client_cert_password=password)
    script = "SET ErrorMode = 0;\n" + SCRIPT + "\nLET e = Num(ScriptError);"
    result = run_script(script, connections=connections(mutual, **tls))
    details = result.variables["ScriptErrorDetails"]
    assert result.variables["e"] == "12"
    assert details.startswith("connection 'Secure API': tls.client_cert_password ")
    assert str(pki.client_pfx) in details
    assert mutual.requests == [] and mutual.handshake_errors == []  # nothing was sent
    if password:
        assert password not in details and password not in "\n".join(result.log)


def test_wrong_pem_key_password_and_missing_password(run_script, mutual, pki):
    for password, says in (("nope-nope", "does not decrypt"), ("", "is needed")):
        tls = client_tls(pki, client_cert=pki.client_cert, client_key=pki.client_key_encrypted,
                         client_cert_password=password)
        error = failure(run_script, SCRIPT, connections(mutual, **tls))
        assert error.message.startswith(f"connection 'Secure API': tls.client_cert_password {says}")
        assert "nope-nope" not in error.message


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (lambda p: {"client_cert": p.client_cert, "client_key": p.server_key},
         "tls.client_key is not the private key of tls.client_cert"),
        (lambda p: {"client_cert": p.client_cert}, "tls.client_cert "),
        (lambda p: {"client_cert": p.client_key, "client_key": p.client_key}, "holds no PEM certificate"),
        (lambda p: {"client_cert": p.ca.with_name("missing.pfx")}, "tls.client_cert cannot be read"),
    ],
    ids=["key of another certificate", "no key anywhere", "key instead of certificate", "missing pfx"],
)
def test_unusable_client_certificate_files_are_named(run_script, mutual, pki, files, message):
    error = failure(run_script, SCRIPT, connections(mutual, **client_tls(pki, **files(pki))))
    assert message in error.message
    assert mutual.requests == []


def test_lib_connect_alone_does_not_open_the_certificate(run_script, mutual, pki):
    tls = client_tls(pki, client_cert=pki.client_pfx, client_cert_password="wrong")
    result = run_script("LIB CONNECT TO 'Secure API';", connections=connections(mutual, **tls))
    assert result.error_count == 0


# -- where decrypted keys live -------------------------------------------------------------------
def pfx_settings(pki: Pki, password: str = PFX_PASSWORD) -> TlsSettings:
    table = {"url": "https://127.0.0.1/", "tls": {"client_cert": str(pki.client_pfx),
                                                  "client_cert_password": password}}
    return TlsSettings.from_config(RestConfig.from_table("c", table, Path()), "c", print)


def test_pfx_becomes_pem_files_in_a_private_folder_removed_by_close(pki):
    settings = pfx_settings(pki)
    assert settings.cert is None and settings.private_dir is None  # nothing happens before a request
    settings.before_request("https://127.0.0.1/x")
    folder = settings.private_dir
    assert folder is not None
    assert isinstance(settings.cert, tuple)
    cert, key = (Path(p) for p in settings.cert)
    assert cert.parent == key.parent == folder
    assert sorted(p.name for p in folder.iterdir()) == ["client-cert.pem", "client-key.pem"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(key.stat().st_mode) == stat.S_IMODE(cert.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in key.read_bytes()
    assert cert.read_bytes().count(b"BEGIN CERTIFICATE") == 2  # the client certificate and its CA
    settings.close()
    assert not folder.exists()
    assert settings.cert is None and settings.private_dir is None
    settings.close()  # twice is fine


def test_settings_reload_the_files_after_close(pki):
    settings = pfx_settings(pki)
    settings.before_request("https://127.0.0.1/x")
    first = settings.private_dir
    settings.close()
    settings.before_request("https://127.0.0.1/x")
    assert settings.private_dir is not None and settings.private_dir != first
    settings.close()


def test_a_forgotten_close_still_removes_the_folder(pki):
    settings = pfx_settings(pki)
    settings.before_request("https://127.0.0.1/x")
    folder = settings.private_dir
    assert folder is not None and folder.exists()
    del settings
    assert not folder.exists()


def test_unencrypted_pem_pairs_are_used_in_place(pki):
    table = {"url": "https://h/", "tls": {"client_cert": str(pki.client_cert), "client_key": str(pki.client_key)}}
    settings = TlsSettings.from_config(RestConfig.from_table("c", table, Path()), "c", print)
    settings.before_request("https://h/")
    assert settings.cert == (str(pki.client_cert), str(pki.client_key))
    assert settings.private_dir is None


def test_a_script_run_leaves_no_key_behind(run_script, mutual, pki, monkeypatch):
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    tls = client_tls(pki, client_cert=pki.client_pfx, client_cert_password=PFX_PASSWORD)
    run_script(SCRIPT, connections=connections(mutual, **tls))
    assert len(made) == 1
    assert not os.path.exists(made[0])


def test_wrong_password_error_is_a_script_error_12(pki):
    with pytest.raises(WrongFormatError) as info:
        pfx_settings(pki, "bad-password").before_request("https://127.0.0.1/x")
    assert info.value.code == 12
    assert "bad-password" not in info.value.message


# -- hints for the transport's TLS failure message -------------------------------------------------
@pytest.mark.parametrize(
    ("tls", "reason", "hint"),
    [
        ({}, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
         "system trust store does not vouch"),
        ({"verify": "custom_ca", "ca_file": "/ca.pem"}, "certificate verify failed: unable to get local issuer",
         "tls.ca_file does not vouch"),
        ({}, "certificate verify failed: certificate has expired", "has expired"),
        ({}, "certificate verify failed: Hostname mismatch, certificate is not valid for 'h'", "another host name"),
        ({}, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required",
         "requires a client certificate: set tls.client_cert"),
        ({"client_cert": "/c.pem"}, "[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca",
         "refused the client certificate"),
        ({}, "EOF occurred in violation of protocol", ""),
    ],
)
def test_hint_names_the_setting_to_change(tls, reason, hint):
    config = RestConfig.from_table("c", {"url": "https://h/", "tls": tls}, Path("/"))
    text = TlsSettings.from_config(config, "c", print).hint(reason)
    assert hint in text
    assert text == "" if not hint else text.startswith("; ")
