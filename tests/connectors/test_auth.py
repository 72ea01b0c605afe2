"""Authentication end to end: scripts against loopback servers that perform the real handshakes.

Digest challenges and responses are computed by the test server itself (RFC 7616, parsed
with the standard library, not with qscript's parser); NTLM and Negotiate are checked by
pyspnego's server side against an ``NTLM_USER_FILE`` set only inside each test.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote
from urllib.request import parse_http_list, parse_keqv_list

import pandas as pd
import pytest
import spnego
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from httpkit import LoopbackServer, Recorded, Reply
from pandas.testing import assert_frame_equal
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError
from tlskit import HttpsServer, make_pki, server_context

import qscript
from qscript.connectors.rest.auth import Challenge, build_auth, digest_response, parse_challenges
from qscript.connectors.rest.config import RestConfig
from qscript.errors import WrongFormatError

ITEMS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
SCRIPT = """LIB CONNECT TO 'Auth API';
T: SQL SELECT "id", "name" FROM JSON (wrap on) "root";"""
TWICE = SCRIPT + '\nU: NoConcatenate SQL SELECT "id" FROM JSON (wrap on) "root";'
EXPECTED = pd.DataFrame({"id": pd.Series([1, 2], dtype="int64"), "name": pd.Series(["a", "b"], dtype="string")})
PASSWORD = "Corr3ct-h0rse!"
WRONG = "Wr0ng-battery!"


def connection(server: LoopbackServer, path: str = "/items", **auth: str) -> dict:
    return {"Auth API": {"url": server.url(path), "auth": auth}}


def refused(run_script, script: str, conns: dict, secret: str) -> str:
    """Run a script that must fail with 401 under ErrorMode 0; the error details, checked for ``secret``."""
    result = run_script("SET ErrorMode = 0;\n" + script + "\nLET e = Num(ScriptError);", connections=conns)
    details = result.variables["ScriptErrorDetails"]
    assert result.variables["e"] == "12"
    assert "T" not in result.tables
    assert "HTTP 401" in details
    assert secret not in details and secret not in "\n".join(result.log)
    return details


# -- anonymous and basic ---------------------------------------------------------------------------
def test_anonymous_sends_no_authorization(run_script, http_server):
    http_server.route("/items", Reply(body=ITEMS))
    result = run_script(SCRIPT, connections=connection(http_server, schema="anonymous"))
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert http_server.requests[0].header("Authorization") is None
    assert build_auth(RestConfig(name="c", url="https://h")) is None


def basic_route(user: str, password: str) -> Callable[[Recorded], Reply]:
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def route(request: Recorded) -> Reply:
        if request.header("Authorization") == expected:
            return Reply(body=ITEMS)
        return Reply(401, "who are you?", {"WWW-Authenticate": 'Basic realm="test", charset="UTF-8"'})

    return route


def test_basic_sends_utf8_credentials_with_every_request(run_script, http_server):
    http_server.route("/items", basic_route("zoë", "pässwörd-ü"))
    result = run_script(TWICE, connections=connection(http_server, schema="basic", username="zoë",
                                                      password="pässwörd-ü"))
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert len(http_server.requests) == 2  # no challenge round trip


def test_basic_with_a_wrong_password_is_a_clear_401(run_script, http_server):
    http_server.route("/items", basic_route("ann", PASSWORD))
    details = refused(run_script, SCRIPT, connection(http_server, schema="basic", username="ann", password=WRONG),
                      WRONG)
    assert details.startswith("connection 'Auth API': GET ")
    assert "HTTP 401 Unauthorized (basic authentication as 'ann' was rejected; check auth.username and " \
           "auth.password): 'who are you?'" in details


def test_basic_against_a_server_that_wants_another_schema(run_script, http_server):
    http_server.route("/items", Reply(401, "", {"WWW-Authenticate": "NTLM"}))
    details = refused(run_script, SCRIPT, connection(http_server, schema="basic", username="ann", password=WRONG),
                      WRONG)
    assert "the server asks for NTLM, see auth.schema" in details


# -- digest ----------------------------------------------------------------------------------------
def _h(algorithm: str, text: str) -> str:
    name = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}[algorithm.upper().removesuffix("-SESS")]
    return hashlib.new(name, text.encode()).hexdigest()


class DigestServer:
    """An RFC 7616 server: one challenge per algorithm (a header each), checks every answer itself."""

    realm = "qscript@loopback"

    def __init__(self, users: dict[str, str], algorithms: tuple[str, ...] = ("SHA-256",), qop: str | None = "auth",
                 userhash: bool = False, single_use: bool = False) -> None:
        self.users, self.algorithms, self.qop, self.userhash = users, algorithms, qop, userhash
        self.single_use = single_use  # nonces go stale after one use
        self.nonces: dict[str, int] = {}  # nonce -> last nc seen
        self.answers: list[dict[str, str]] = []
        self.opaque = secrets.token_hex(8)

    def challenge(self, stale: bool = False) -> Reply:
        nonce = secrets.token_urlsafe(24)
        self.nonces[nonce] = 0
        headers = {}
        for number, algorithm in enumerate(self.algorithms):
            parts = [f'realm="{self.realm}"', f'nonce="{nonce}"', f"algorithm={algorithm}", f'opaque="{self.opaque}"']
            if self.qop is not None:
                parts.append(f'qop="{self.qop}"')
            if self.userhash:
                parts.append("userhash=true")
            if stale:
                parts.append("stale=true")
            # a differently spelt name per challenge: the reply headers are a dict, HTTP sees one each
            headers["WWW-Authenticate".swapcase() if number % 2 else "WWW-Authenticate"] = "Digest " + ", ".join(parts)
        return Reply(401, "digest needed", headers)

    def user(self, fields: dict[str, str]) -> str | None:
        if "username*" in fields:
            return unquote(fields["username*"].removeprefix("UTF-8''"))
        if fields.get("userhash") == "true":
            algorithm = fields.get("algorithm", "MD5")
            return next((u for u in self.users if _h(algorithm, f"{u}:{self.realm}") == fields["username"]), None)
        return fields.get("username")

    def __call__(self, request: Recorded) -> Reply:
        header = request.header("Authorization") or ""
        if not header.startswith("Digest "):
            return self.challenge()
        fields = parse_keqv_list(parse_http_list(header.removeprefix("Digest ")))
        self.answers.append(fields)
        nonce, algorithm = fields.get("nonce", ""), fields.get("algorithm", "MD5")
        if nonce not in self.nonces:
            return self.challenge(stale=True)
        nc = int(fields.get("nc", "0"), 16)
        if self.qop is not None and (fields.get("qop") != "auth" or nc <= self.nonces[nonce]):
            return self.challenge()
        if self.single_use and self.nonces[nonce] > 0:
            del self.nonces[nonce]
            return self.challenge(stale=True)
        self.nonces[nonce] = nc
        user = self.user(fields)
        uri = request.path + (f"?{request.query}" if request.query else "")
        if user not in self.users or fields.get("uri") != uri or fields.get("opaque") != self.opaque:
            return self.challenge()
        ha1 = _h(algorithm, f"{user}:{self.realm}:{self.users[user]}")
        if algorithm.upper().endswith("-SESS"):
            ha1 = _h(algorithm, f"{ha1}:{nonce}:{fields['cnonce']}")
        ha2 = _h(algorithm, f"{request.method}:{uri}")
        if self.qop is None:
            expected = _h(algorithm, f"{ha1}:{nonce}:{ha2}")
        else:
            expected = _h(algorithm, f"{ha1}:{nonce}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
        return Reply(body=ITEMS) if fields.get("response") == expected else self.challenge()


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5", "SHA-256-sess", "MD5-sess", "SHA-512-256"])
def test_digest_handshake_per_algorithm(run_script, http_server, algorithm):
    server = DigestServer({"bob": PASSWORD}, (algorithm,))
    http_server.route("/items", server)
    result = run_script(SCRIPT, connections=connection(http_server, schema="digest", username="bob",
                                                       password=PASSWORD))
    assert_frame_equal(result.tables["T"], EXPECTED)
    first, second = http_server.requests
    assert first.header("Authorization") is None
    assert second.header("Authorization").startswith('Digest username="bob", realm="qscript@loopback"')
    (answer,) = server.answers
    assert (answer["algorithm"], answer["qop"], answer["nc"]) == (algorithm, "auth", "00000001")
    assert f"algorithm={algorithm}," in second.header("Authorization")  # a token, not quoted (RFC 7616)


def test_digest_reuses_the_nonce_for_later_requests(run_script, http_server):
    server = DigestServer({"bob": PASSWORD})
    http_server.route("/items", server)
    http_server.route("/more", server)
    script = TWICE + "\nV: NoConcatenate SQL SELECT \"id\" FROM JSON (wrap on) \"root\" WITH CONNECTION (URL \"" \
        + http_server.url("/more?page=2") + "\");"
    conns = connection(http_server, schema="digest", username="bob", password=PASSWORD)
    conns["Auth API"]["allow_with_connection"] = True
    result = run_script(script, connections=conns)
    assert len(result.tables["V"]) == 2
    assert len(http_server.requests) == 4  # one challenge, then three answered requests
    assert [a["nc"] for a in server.answers] == ["00000001", "00000002", "00000003"]
    assert server.answers[-1]["uri"] == "/more?page=2"


def test_digest_picks_the_strongest_of_several_challenges(run_script, http_server):
    server = DigestServer({"bob": PASSWORD}, ("MD5", "SHA-256"))
    http_server.route("/items", server)
    run_script(SCRIPT, connections=connection(http_server, schema="digest", username="bob", password=PASSWORD))
    assert [a["algorithm"] for a in server.answers] == ["SHA-256"]


@pytest.mark.parametrize("qop", ["auth-int, auth", "auth,auth-int", None])
def test_digest_qop_lists_and_servers_without_qop(run_script, http_server, qop):
    server = DigestServer({"bob": PASSWORD}, qop=qop)
    http_server.route("/items", server)
    result = run_script(SCRIPT, connections=connection(http_server, schema="digest", username="bob",
                                                       password=PASSWORD))
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert server.answers[0].get("qop") == ("auth" if qop else None)


def test_digest_userhash_and_non_ascii_user_names(run_script, http_server):
    hashed = DigestServer({"bob": PASSWORD}, userhash=True)
    http_server.route("/items", hashed)
    run_script(SCRIPT, connections=connection(http_server, schema="digest", username="bob", password=PASSWORD))
    assert hashed.answers[0]["userhash"] == "true" and "bob" not in hashed.answers[0]["username"]
    wide = DigestServer({"jäsön": PASSWORD})
    http_server.route("/items", wide)
    result = run_script(SCRIPT, connections=connection(http_server, schema="digest", username="jäsön",
                                                       password=PASSWORD))
    assert len(result.tables["T"]) == 2
    assert wide.answers[0]["username*"] == "UTF-8''j%C3%A4s%C3%B6n"


def test_digest_answers_a_stale_nonce_again(run_script, http_server):
    server = DigestServer({"bob": PASSWORD}, single_use=True)
    http_server.route("/items", server)
    result = run_script(TWICE, connections=connection(http_server, schema="digest", username="bob",
                                                      password=PASSWORD))
    assert len(result.tables["U"]) == 2
    # challenge, answer; then the reused nonce is stale: challenge (stale=true), answer
    assert [r.header("Authorization") is not None for r in http_server.requests] == [False, True, True, True]


def test_digest_post_resends_the_body(run_script, http_server):
    server = DigestServer({"bob": PASSWORD})
    http_server.route("/items", server)
    conns = connection(http_server, schema="digest", username="bob", password=PASSWORD)
    conns["Auth API"].update(method="POST", body='{"q": 1}')
    run_script(SCRIPT, connections=conns)
    assert [(r.method, r.body) for r in http_server.requests] == [("POST", b'{"q": 1}')] * 2


def test_digest_with_a_wrong_password_is_a_clear_401(run_script, http_server):
    http_server.route("/items", DigestServer({"bob": PASSWORD}))
    details = refused(run_script, SCRIPT, connection(http_server, schema="digest", username="bob", password=WRONG),
                      WRONG)
    assert "HTTP 401 Unauthorized (digest authentication as 'bob' was rejected; check auth.username and " \
           "auth.password): 'digest needed'" in details
    assert len(http_server.requests) == 2  # one try, no loop


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply(401, "", {"WWW-Authenticate": 'Digest realm="r", nonce="n", qop="auth-int"'}),
         "the server offers algorithm=MD5 qop=auth-int, qscript answers MD5, SHA-256"),
        (Reply(401, "", {"WWW-Authenticate": 'Digest realm="r", nonce="n", algorithm=SHA3-256'}),
         "algorithm=SHA3-256"),
        (Reply(401, "", {"WWW-Authenticate": 'Basic realm="r"'}), "the server asks for Basic, see auth.schema"),
    ],
    ids=["auth-int only", "unknown algorithm", "basic only"],
)
def test_digest_explains_challenges_it_cannot_answer(run_script, http_server, reply, says):
    http_server.route("/items", reply)
    details = refused(run_script, SCRIPT, connection(http_server, schema="digest", username="bob", password=WRONG),
                      WRONG)
    assert "digest authentication as 'bob' is not possible" in details and says in details
    assert len(http_server.requests) == 1


def test_digest_response_matches_rfc_7616_examples():
    common = ("Mufasa", "Circle of Life", "http-auth@example.org", "GET", "/dir/index.html",
              "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
              "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth")
    assert digest_response("MD5", *common) == "8ca523f5e9506fed4657c9700eebdbec"
    assert digest_response("SHA-256", *common) == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"


def test_challenges_are_parsed_from_one_or_several_headers():
    text = 'Negotiate, NTLM TlRMTVNTUAACAAAA+/8=, Digest realm="a \\"b\\"", qop="auth, auth-int", nonce=xyz, Basic'
    assert parse_challenges(text) == [
        Challenge("negotiate"),
        Challenge("ntlm", "TlRMTVNTUAACAAAA+/8="),
        Challenge("digest", None, {"realm": 'a "b"', "qop": "auth, auth-int", "nonce": "xyz"}),
        Challenge("basic"),
    ]
    assert parse_challenges("") == []


# -- NTLM and current user -------------------------------------------------------------------------
class SpnegoServer:
    """NTLM or Negotiate by pyspnego's acceptor; one context per connection (NTLM authenticates
    connections: ThreadingHTTPServer gives each connection its own thread)."""

    def __init__(self, protocol: str = "ntlm", offer: tuple[str, ...] = ("NTLM",),
                 bindings: GssChannelBindings | None = None) -> None:
        self.protocol, self.offer, self.bindings = protocol, offer, bindings
        self.local = threading.local()
        self.connections: list[int] = []
        self.principals: list[str] = []
        self.failures: list[str] = []

    def __call__(self, request: Recorded) -> Reply:
        self.connections.append(threading.get_ident())
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if not token:
            return Reply(401, "sign in", {name: scheme for name, scheme in zip(
                ("WWW-Authenticate", "www-AUTHENTICATE"), self.offer, strict=False)})
        context = getattr(self.local, "context", None)
        if context is None:
            context = self.local.context = spnego.server(protocol=self.protocol, channel_bindings=self.bindings)
        try:
            answer = context.step(base64.b64decode(token))
        except SpnegoError as exc:
            self.local.context = None
            self.failures.append(str(exc))
            return Reply(401, "denied", {"WWW-Authenticate": scheme})
        headers = {"WWW-Authenticate": f"{scheme} {base64.b64encode(answer).decode()}"} if answer else {}
        if not context.complete:
            return Reply(401, "", headers)
        self.principals.append(context.client_principal)
        self.local.context = None
        return Reply(200, ITEMS, headers)


@pytest.fixture
def ntlm_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The NTLM user file of the test server (and of the current user), named by NTLM_USER_FILE."""
    users = tmp_path / "ntlm-users"
    users.write_text(f"CORP:alice:{PASSWORD}\n:carol@corp.example:{PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    return users


@pytest.mark.parametrize("username", ["CORP\\alice", "carol@corp.example"])
def test_ntlm_handshake_on_one_connection(run_script, http_server, ntlm_users, username):
    server = SpnegoServer()
    http_server.route("/items", server)
    result = run_script(SCRIPT, connections=connection(http_server, schema="ntlm", username=username,
                                                       password=PASSWORD))
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert server.principals == [username]
    kinds = [r.header("Authorization") or "" for r in http_server.requests]
    assert [k[:9] for k in kinds] == ["", "NTLM TlRM", "NTLM TlRM"]  # anonymous, NEGOTIATE, AUTHENTICATE
    assert len(set(server.connections)) == 1


def test_ntlm_under_a_negotiate_only_server(run_script, http_server, ntlm_users):
    server = SpnegoServer("negotiate", ("Negotiate",))
    http_server.route("/items", server)
    run_script(SCRIPT, connections=connection(http_server, schema="ntlm", username="CORP\\alice", password=PASSWORD))
    assert server.principals == ["CORP\\alice"]
    assert http_server.requests[1].header("Authorization").startswith("Negotiate TlRM")  # raw NTLM in Negotiate


def test_ntlm_with_a_wrong_password_is_a_clear_401(run_script, http_server, ntlm_users):
    server = SpnegoServer()
    http_server.route("/items", server)
    details = refused(run_script, SCRIPT, connection(http_server, schema="ntlm", username="CORP\\alice",
                                                     password=WRONG), WRONG)
    assert "HTTP 401 Unauthorized (NTLM authentication as 'CORP\\alice' was rejected; check auth.username and " \
           "auth.password)" in details
    assert server.principals == [] and len(server.failures) == 1


def test_ntlm_against_a_basic_server(run_script, http_server, ntlm_users):
    http_server.route("/items", Reply(401, "", {"WWW-Authenticate": 'Basic realm="r"'}))
    details = refused(run_script, SCRIPT, connection(http_server, schema="ntlm", username="CORP\\alice",
                                                     password=WRONG), WRONG)
    assert "NTLM authentication as 'CORP\\alice' is not possible; the server asks for Basic" in details


@pytest.mark.parametrize(("offer", "prefix"), [(("Negotiate", "NTLM"), "Negotiate "), (("NTLM",), "NTLM TlRM")])
def test_current_user_uses_negotiate_with_ambient_credentials(run_script, http_server, ntlm_users, offer, prefix):
    server = SpnegoServer("negotiate" if "Negotiate" in offer else "ntlm", offer)
    http_server.route("/items", server)
    result = run_script(TWICE, connections=connection(http_server, schema="current_user"))
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert server.principals == ["CORP\\alice"] * 2  # the first user of NTLM_USER_FILE, without Kerberos
    assert http_server.requests[1].header("Authorization").startswith(prefix)


def test_current_user_without_credentials_says_what_is_missing(run_script, http_server, monkeypatch):
    monkeypatch.delenv("NTLM_USER_FILE", raising=False)
    monkeypatch.setenv("KRB5CCNAME", "FILE:/nonexistent/qscript-test-ccache")
    http_server.route("/items", SpnegoServer("negotiate", ("Negotiate",)))
    result = run_script("SET ErrorMode = 0;\n" + SCRIPT, connections=connection(http_server, schema="current_user"))
    details = result.variables["ScriptErrorDetails"]
    assert "HTTP 401 Unauthorized (current-user authentication could not start: no Kerberos ticket and no NTLM " \
           "credentials for the current user" in details
    assert "NTLM_USER_FILE" in details


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def server_bindings(cert: Path) -> GssChannelBindings:
    """What an Extended Protection server expects: the hash of its own certificate (RFC 5929)."""
    der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    return GssChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest())


@pytest.mark.parametrize("schema", ["ntlm", "current_user"])
def test_ntlm_over_https_sends_matching_channel_bindings(run_script, ntlm_users, pki, schema):
    server = SpnegoServer("negotiate", ("Negotiate", "NTLM"), bindings=server_bindings(pki.server_cert))
    https = HttpsServer(server_context(pki.server_cert, pki.server_key))
    try:
        https.route("/items", server)
        conns = connection(https, schema=schema, **({"username": "CORP\\alice", "password": PASSWORD}
                                                     if schema == "ntlm" else {}))
        conns["Auth API"]["tls"] = {"verify": "custom_ca", "ca_file": str(pki.ca)}
        result = run_script(SCRIPT, connections=conns)
    finally:
        https.close()
    assert_frame_equal(result.tables["T"], EXPECTED)
    assert server.principals == ["CORP\\alice"] and server.failures == []


def test_https_server_with_other_bindings_refuses(run_script, ntlm_users, pki):
    server = SpnegoServer(bindings=server_bindings(pki.expired_cert))  # not the certificate it serves
    https = HttpsServer(server_context(pki.server_cert, pki.server_key))
    try:
        https.route("/items", server)
        conns = connection(https, schema="ntlm", username="CORP\\alice", password=PASSWORD)
        conns["Auth API"]["tls"] = {"verify": "custom_ca", "ca_file": str(pki.ca)}
        refused(run_script, SCRIPT, conns, PASSWORD)
    finally:
        https.close()
    assert server.failures and "bindings" in server.failures[0].lower()


def test_credentials_go_only_to_trusted_locations(run_script, http_server):
    """The transport attaches auth only for trusted origins; a digest 401 elsewhere is not answered."""
    other = LoopbackServer()
    try:
        other.route("/elsewhere", DigestServer({"bob": PASSWORD}))
        http_server.route("/items", Reply(302, "", {"Location": other.url("/elsewhere")}))
        conns = connection(http_server, schema="digest", username="bob", password=PASSWORD)
        conns["Auth API"]["redirect_allowlist"] = ["*"]
        result = run_script("SET ErrorMode = 0;\n" + SCRIPT, connections=conns)
    finally:
        other.close()
    assert "HTTP 401" in result.variables["ScriptErrorDetails"]
    assert [r.header("Authorization") for r in other.requests] == [None]


def test_mutual_authentication_failure_is_an_error():
    """A server whose final Negotiate token does not verify is not who it claims to be."""
    auth = build_auth(RestConfig.from_table("c", {"url": "https://h/", "auth": {"schema": "current_user"}}, Path()))

    class Broken:
        complete = False

        def step(self, token: bytes) -> bytes:
            raise SpnegoError(context_msg="mutual authentication failed")

    class Response:
        def close(self) -> None:
            pass

    with pytest.raises(WrongFormatError, match="connection 'c': current-user authentication: the server's final"):
        auth._finish(Broken(), base64.b64encode(b"x").decode(), Response())  # type: ignore[union-attr]


def test_build_auth_per_schema():
    def auth_for(table: dict) -> object:
        return build_auth(RestConfig.from_table("c", {"url": "https://h/", "auth": table}, Path()))

    assert type(auth_for({"schema": "basic", "username": "u", "password": "p"})).__name__ == "BasicAuth"
    assert type(auth_for({"schema": "digest", "username": "u"})).__name__ == "DigestAuth"
    ntlm = auth_for({"schema": "ntlm", "username": "D\\u", "password": PASSWORD})
    assert ntlm.schemes == ("ntlm", "negotiate")  # type: ignore[attr-defined]
    assert PASSWORD not in repr(vars(ntlm)).replace(f"'_password': '{PASSWORD}'", "")
    assert auth_for({"schema": "current_user"}).schemes == ("negotiate", "ntlm")  # type: ignore[attr-defined]
    with pytest.raises(qscript.ConfigError):
        build_auth(RestConfig(name="c", url="https://h/", auth=type("A", (), {"schema": "oauth"})()))  # type: ignore[arg-type]
