"""Authentication for a connection: anonymous, basic, digest, NTLM and current user.

Each schema is a requests auth object; the transport attaches it only to requests whose
URL is a trusted location (security.py), so credentials never travel elsewhere.

* ``basic``: RFC 7617, user and password as UTF-8 (requests' own class encodes Latin-1
  and raises on other characters).
* ``digest``: RFC 7616, written here rather than taken from requests' ``HTTPDigestAuth``,
  which misreads ``qop="auth-int, auth"`` (sends no credentials at all), merges several
  challenges into one, knows no ``-sess`` variant of SHA-256, and quotes ``algorithm``.
  MD5, SHA-256 and SHA-512-256 (each also ``-sess``), ``qop=auth``, ``userhash`` and
  ``username*``; the strongest algorithm offered wins. After a successful handshake the
  nonce is reused (``nc`` counts up), so paging does not cost a second request per page.
* ``ntlm`` and ``current_user``: pyspnego runs the NTLM/SPNEGO exchange; every leg goes
  over the same keep-alive connection, as NTLM authenticates connections, not requests.
  ``current_user`` answers ``Negotiate``: Kerberos from the ambient credential cache where
  pyspnego has GSSAPI (or SSPI, the logged-on user, on Windows), else NTLM with the
  credentials of ``NTLM_USER_FILE``. Over https both send TLS channel bindings
  (RFC 5929 ``tls-server-end-point``), which servers with Extended Protection require.

A request still answered 401 keeps its status, and its reason phrase gains which schema
and user failed, so the ScriptError 12 reads ``HTTP 401 Unauthorized (digest
authentication as 'bob' was rejected ...)``. No message ever contains the password.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from requests.auth import AuthBase
from requests.cookies import extract_cookies_to_jar

from qscript.connectors.rest.config import RestConfig
from qscript.errors import ConfigError, WrongFormatError

#: How much of a 401 body is read before the connection is reused for the next leg.
_DRAIN_LIMIT = 1024 * 1024
#: NTLM needs two legs, Kerberos one, SPNEGO around NTLM three; more means a confused server.
_MAX_LEGS = 4
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*(?:,|$)')
_TOKEN68 = re.compile(r"\s*([A-Za-z0-9._~+/-]+=*)\s*(?:,|$)")
_SCHEME = re.compile(rf"[\s,]*({_TOKEN})(?=\s|,|$)")


# -- challenges (RFC 7235) ---------------------------------------------------------------------
@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: lower-case scheme, token68 or parameters (lower-case names)."""

    scheme: str
    token: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(text: str) -> list[Challenge]:
    """Every challenge in a header value, also when a server lists several in one header.

    ``Digest realm="a", qop="auth, auth-int", Negotiate abc==, NTLM`` is three challenges:
    a comma starts a new challenge unless what follows is a ``name=value`` parameter.
    """
    found: list[Challenge] = []
    pos = 0
    while (scheme := _SCHEME.match(text, pos)) is not None:
        pos = scheme.end()
        token: str | None = None
        params: dict[str, str] = {}
        if (param := _PARAM.match(text, pos)) is None and (t68 := _TOKEN68.match(text, pos)) is not None:
            token, pos = t68.group(1), t68.end()
        while (param := _PARAM.match(text, pos)) is not None:
            quoted, plain = param.group(2), param.group(3)
            params[param.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else plain
            pos = param.end()
        found.append(Challenge(scheme.group(1).lower(), token, params))
    return found


def challenges_of(response: requests.Response) -> list[Challenge]:
    """The response's challenges, from each ``WWW-Authenticate`` header separately when urllib3 kept them."""
    raw_headers = getattr(response.raw, "headers", None)
    values = raw_headers.getlist("WWW-Authenticate") if hasattr(raw_headers, "getlist") else None
    if not values:
        values = [response.headers.get("WWW-Authenticate", "")]
    return [challenge for value in values for challenge in parse_challenges(value)]


def _offered(found: list[Challenge]) -> str:
    names = list(dict.fromkeys(c.scheme.capitalize() if c.scheme != "ntlm" else "NTLM" for c in found))
    return ", ".join(names) if names else "no authentication scheme"


# -- the parts every schema shares -------------------------------------------------------------
def _explain(response: requests.Response, text: str) -> requests.Response:
    """Say in the reason phrase why the request stays unauthorised (the status is kept)."""
    response.reason = f"{response.reason or 'Unauthorized'} ({text})"
    return response


def _drain(response: requests.Response) -> None:
    """Read and release a 401 so that its connection goes back to the pool for the next leg."""
    read = 0
    for chunk in response.iter_content(64 * 1024):
        read += len(chunk)
        if read > _DRAIN_LIMIT:
            break
    response.close()


def _resend(response: requests.Response, headers: dict[str, str], send_options: dict[str, Any]) -> requests.Response:
    """Send the request of ``response`` again with ``headers``, over the same adapter (and so,
    for a drained keep-alive response, the same connection), keeping cookies it set."""
    _drain(response)
    request = response.request.copy()
    jar = request._cookies  # what requests' own digest auth does  # type: ignore[attr-defined]
    if jar is not None:
        extract_cookies_to_jar(jar, response.request, response.raw)
        request.prepare_cookies(jar)
    request.headers.update(headers)
    answer = response.connection.send(request, **send_options)  # type: ignore[attr-defined]
    answer.history = [*response.history, response]
    answer.request = request
    return answer


class _HookedAuth(AuthBase):
    """An auth object that looks at the response (401 handshakes, explanations)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.prepare(request)
        request.register_hook("response", self._on_response)
        return request

    def prepare(self, request: requests.PreparedRequest) -> None:
        """Headers sent up front (none by default)."""

    def _on_response(self, response: requests.Response, **send_options: Any) -> requests.Response:
        if response.status_code != 401:
            return response
        return self.on_401(response, send_options)

    def on_401(self, response: requests.Response, send_options: dict[str, Any]) -> requests.Response:
        raise NotImplementedError


# -- basic ---------------------------------------------------------------------------------------
class BasicAuth(_HookedAuth):
    """RFC 7617 Basic, credentials in UTF-8, sent with every request."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")

    def prepare(self, request: requests.PreparedRequest) -> None:
        request.headers["Authorization"] = self._header

    def on_401(self, response: requests.Response, send_options: dict[str, Any]) -> requests.Response:
        found = challenges_of(response)
        if found and not any(c.scheme == "basic" for c in found):
            return _explain(response, f"basic authentication as '{self.username}' was refused; the server "
                                      f"asks for {_offered(found)}, see auth.schema")
        return _explain(response, f"basic authentication as '{self.username}' was rejected; "
                                  "check auth.username and auth.password")


# -- digest (RFC 7616) ---------------------------------------------------------------------------
def _hash_function(name: str) -> str | None:
    try:
        hashlib.new(name, b"")
    except ValueError:
        return None
    return name


#: Algorithm (upper case, without -SESS) -> hashlib name; listed weakest first.
DIGEST_ALGORITHMS = {
    name: hashed
    for name, hashed in (("MD5", "md5"), ("SHA-256", "sha256"), ("SHA-512-256", _hash_function("sha512_256")))
    if hashed is not None
}


def _h(algorithm: str, text: str) -> str:
    return hashlib.new(DIGEST_ALGORITHMS[algorithm], text.encode("utf-8")).hexdigest()


def digest_response(algorithm: str, username: str, password: str, realm: str, method: str, uri: str,
                    nonce: str, nc: str, cnonce: str, qop: str | None) -> str:
    """The ``response`` value of RFC 7616 section 3.4.1 (``algorithm`` as the server spells it)."""
    upper = algorithm.upper()
    sess = upper.endswith("-SESS")
    base = upper.removesuffix("-SESS")
    ha1 = _h(base, f"{username}:{realm}:{password}")
    if sess:
        ha1 = _h(base, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _h(base, f"{method}:{uri}")
    if qop is None:  # RFC 2069, for servers that predate qop
        return _h(base, f"{ha1}:{nonce}:{ha2}")
    return _h(base, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _digest_algorithm(challenge: Challenge) -> str | None:
    """The challenge's algorithm if qscript can answer it (and its qop allows ``auth``), else None."""
    algorithm = challenge.params.get("algorithm", "MD5")
    if algorithm.upper().removesuffix("-SESS") not in DIGEST_ALGORITHMS:
        return None
    qop = challenge.params.get("qop")
    if qop is not None and "auth" not in [part.strip().lower() for part in qop.split(",")]:
        return None
    return algorithm


class DigestAuth(_HookedAuth):
    """RFC 7616 Digest with ``qop=auth``; keeps the last nonce to answer without a new challenge."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password
        self._lock = threading.Lock()
        self._challenge: Challenge | None = None
        self._nc = 0

    def prepare(self, request: requests.PreparedRequest) -> None:
        with self._lock:
            if self._challenge is not None:
                request.headers["Authorization"] = self._authorization(request)

    def _pick(self, found: list[Challenge]) -> Challenge | None:
        usable = [c for c in found if c.scheme == "digest" and _digest_algorithm(c) is not None and "nonce" in c.params]
        order = list(DIGEST_ALGORITHMS)
        return max(usable, key=lambda c: order.index(c.params.get("algorithm", "MD5").upper().removesuffix("-SESS")),
                   default=None)

    def on_401(self, response: requests.Response, send_options: dict[str, Any]) -> requests.Response:
        resent = False
        while True:
            found = challenges_of(response)
            challenge = self._pick(found)
            if challenge is None:
                self._challenge = None
                return _explain(response, self._why_not(found, resent))
            if resent and challenge.params.get("stale", "").lower() != "true":
                self._challenge = None
                return _explain(response, f"digest authentication as '{self.username}' was rejected; "
                                          "check auth.username and auth.password")
            with self._lock:
                self._challenge, self._nc = challenge, 0
                header = self._authorization(response.request)
            response = _resend(response, {"Authorization": header}, send_options)
            resent = True
            if response.status_code != 401:
                return response

    def _why_not(self, found: list[Challenge], resent: bool) -> str:
        who = f"digest authentication as '{self.username}'"
        if resent:
            return f"{who} was rejected; check auth.username and auth.password"
        digests = [c for c in found if c.scheme == "digest"]
        if not digests:
            return f"{who} is not possible; the server asks for {_offered(found)}, see auth.schema"
        offers = ", ".join(f"algorithm={c.params.get('algorithm', 'MD5')} qop={c.params.get('qop', '-')}"
                           for c in digests)
        return (f"{who} is not possible; the server offers {offers}, qscript answers "
                f"{', '.join(DIGEST_ALGORITHMS)} (each also -sess) with qop=auth")

    def _authorization(self, request: requests.PreparedRequest) -> str:
        """The ``Authorization`` value for ``request`` under the current challenge (lock held)."""
        challenge = self._challenge
        assert challenge is not None
        params = challenge.params
        algorithm = _digest_algorithm(challenge) or "MD5"
        realm, nonce = params.get("realm", ""), params["nonce"]
        qop = None if "qop" not in params else "auth"
        self._nc += 1
        nc, cnonce = f"{self._nc:08x}", secrets.token_hex(16)
        uri = request.path_url
        response = digest_response(algorithm, self.username, self._password, realm, str(request.method), uri,
                                   nonce, nc, cnonce, qop)
        userhash = params.get("userhash", "").lower() == "true"
        if userhash:
            user = f"username={_quoted(_h(algorithm.upper().removesuffix('-SESS'), f'{self.username}:{realm}'))}"
        elif self.username.isascii():
            user = f"username={_quoted(self.username)}"
        else:  # RFC 7616 section 3.4.4: username* in RFC 5987 encoding
            user = f"username*=UTF-8''{quote(self.username, safe='')}"
        parts = [user, f"realm={_quoted(realm)}", f"uri={_quoted(uri)}"]
        if "algorithm" in params:
            parts.append(f"algorithm={algorithm}")
        parts.append(f"nonce={_quoted(nonce)}")
        if qop is not None:
            parts += [f"nc={nc}", f"cnonce={_quoted(cnonce)}", f"qop={qop}"]
        parts.append(f"response={_quoted(response)}")
        if "opaque" in params:
            parts.append(f"opaque={_quoted(params['opaque'])}")
        if userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)


# -- NTLM and Negotiate ----------------------------------------------------------------------------
def channel_bindings(response: requests.Response) -> Any:
    """RFC 5929 ``tls-server-end-point`` bindings of an https response's connection, else None.

    Read before the response is drained: draining hands the connection back to the pool.
    """
    from spnego.channel_bindings import GssChannelBindings

    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if not isinstance(sock, ssl.SSLSocket):
        return None
    der = sock.getpeercert(binary_form=True)
    if not der:
        return None
    try:
        algorithm = x509.load_der_x509_certificate(der).signature_hash_algorithm
    except (ValueError, UnsupportedAlgorithm):
        algorithm = None
    if algorithm is None or algorithm.name in ("md5", "sha1"):  # RFC 5929 section 4.1
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(der)
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest.finalize())


class NegotiateAuth(_HookedAuth):
    """NTLM (``username``/``password`` given) or the current user (both None) through pyspnego."""

    def __init__(self, connection: str, username: str | None = None, password: str | None = None) -> None:
        self.connection = connection
        self.username = username
        self._password = password
        self.describe = f"NTLM authentication as '{username}'" if username else "current-user authentication"
        #: server schemes in order of preference: NTLM for explicit NTLM, Negotiate for the current user
        self.schemes = ("ntlm", "negotiate") if username else ("negotiate", "ntlm")

    def on_401(self, response: requests.Response, send_options: dict[str, Any]) -> requests.Response:
        import spnego
        from spnego.exceptions import SpnegoError

        found = challenges_of(response)
        scheme = next((s for s in self.schemes if any(c.scheme == s for c in found)), None)
        if scheme is None:
            return _explain(response, f"{self.describe} is not possible; the server asks for "
                                      f"{_offered(found)}, see auth.schema")
        # explicit credentials are NTLM even under a Negotiate header (servers accept raw NTLM there)
        protocol = "negotiate" if scheme == "negotiate" and self.username is None else "ntlm"
        header = "Negotiate" if scheme == "negotiate" else "NTLM"
        host = urlsplit(str(response.request.url)).hostname or "unspecified"
        try:
            context = spnego.client(self.username, self._password, hostname=host, service="HTTP",
                                    protocol=protocol, channel_bindings=channel_bindings(response))
            token = context.step()
        except SpnegoError as exc:
            return _explain(response, f"{self.describe} could not start: {self._credentials_hint(exc)}")
        for _ in range(_MAX_LEGS):
            assert token is not None
            response = _resend(response, {"Authorization": f"{header} {base64.b64encode(token).decode()}"},
                               send_options)
            answer = next((c.token for c in challenges_of(response) if c.scheme == scheme and c.token), None)
            if response.status_code != 401:
                if answer is not None and not context.complete:
                    self._finish(context, answer, response)
                return response
            if answer is None or context.complete:
                break
            try:
                token = context.step(base64.b64decode(answer))
            except (SpnegoError, ValueError) as exc:
                return _explain(response, f"{self.describe} failed: {exc}")
            if token is None:
                break
        hint = "check auth.username and auth.password" if self.username else "check the account's credentials"
        return _explain(response, f"{self.describe} was rejected; {hint}")

    def _finish(self, context: Any, answer: str, response: requests.Response) -> None:
        """The server's last token (mutual authentication): a server that fails it is not who it claims."""
        from spnego.exceptions import SpnegoError

        try:
            context.step(base64.b64decode(answer))
        except (SpnegoError, ValueError):
            response.close()
            raise WrongFormatError(f"connection '{self.connection}': {self.describe}: the server's final "
                                   "Negotiate token failed mutual authentication") from None

    def _credentials_hint(self, exc: Exception) -> str:
        if self.username is not None:
            return str(exc)
        return (f"no Kerberos ticket and no NTLM credentials for the current user ({exc}); run kinit, "
                "or name a DOMAIN:USER:PASSWORD file in NTLM_USER_FILE")


def build_auth(config: RestConfig) -> AuthBase | None:
    """The auth object for the connection's ``auth`` table (None for anonymous)."""
    auth = config.auth
    if auth.schema == "anonymous":
        return None
    if auth.schema == "basic":
        return BasicAuth(auth.username, auth.password)
    if auth.schema == "digest":
        return DigestAuth(auth.username, auth.password)
    if auth.schema == "ntlm":
        return NegotiateAuth(config.name, auth.username, auth.password)
    if auth.schema == "current_user":
        return NegotiateAuth(config.name)
    raise ConfigError(f"connection '{config.name}': auth.schema '{auth.schema}' is not supported")
