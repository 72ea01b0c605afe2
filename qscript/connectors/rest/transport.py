"""Send one request and get one response: the narrow seam between qscript and HTTP.

The send path is a stack of loops with one concern each (after httpx):
``send`` (URL policy before any byte) -> ``RetryPolicy.run`` (429/503/5xx) ->
``_follow_redirects`` (redirect policy, credentials per hop, cookies) -> ``_send_once``
(TLS, proxy, timeouts, size cap). Foreign exceptions are translated here, once, into
ScriptError 12 with messages that name the connection and the option involved, built
from redacted values only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import requests
import urllib3

from qscript.connectors.rest.auth import build_auth
from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.proxy import proxies_for
from qscript.connectors.rest.request import RestRequest
from qscript.connectors.rest.retry import RetryPolicy, failure_for
from qscript.connectors.rest.security import SecurityPolicy, UrlAllowlist
from qscript.connectors.rest.tls import TlsSettings
from qscript.connectors.rest.wire import build_session
from qscript.errors import WrongFormatError
from qscript.redact import Redactor

_CHUNK = 64 * 1024
MAX_REDIRECTS = 30
_REDIRECT_CODES = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class RestResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    url: str
    elapsed: float

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Transport:
    """One HTTP session per open connection (persistent connections, cookies)."""

    def __init__(
        self,
        config: RestConfig,
        connection: str,
        redactor: Redactor,
        *,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda _line: None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.connection = connection
        self.redact = redactor
        self.log = log
        self.session = build_session(config)
        self.auth = build_auth(config)
        self.tls = TlsSettings.from_config(config, connection, log)
        allowlist = UrlAllowlist.from_environ(os.environ if environ is None else environ)
        self.policy = SecurityPolicy(config, connection, allowlist, redact_url=redactor.url)
        self.retry = RetryPolicy(config.retry, connection, sleep=sleep, log=log, redact_url=redactor.url)

    def close(self) -> None:
        self.session.close()
        self.tls.close()

    def error(self, request: RestRequest, what: str) -> WrongFormatError:
        return WrongFormatError(self._message(request, what))

    def _message(self, request: RestRequest, what: str) -> str:
        return f"connection '{self.connection}': {request.method} {self.redact.url(request.url)}: {self.redact(what)}"

    def failure(self, request: RestRequest, what: str, exc: BaseException) -> WrongFormatError:
        """A connection failure, marked so the retry layer knows whether resending is safe."""
        return failure_for(self._message(request, what), exc, request.method)

    def send(self, request: RestRequest) -> RestResponse:
        """Send one request; redirects, retries and every security rule included."""
        self.policy.check_request(request.url)
        return self.retry.run(lambda: self._follow_redirects(request), request)

    # -- redirects -----------------------------------------------------------------------------
    def _follow_redirects(self, request: RestRequest) -> RestResponse:
        started = time.perf_counter()
        current = request
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(current)
            if response.status not in _REDIRECT_CODES or response.header("Location") is None:
                return RestResponse(response.status, response.reason, response.headers, response.body,
                                    response.url, time.perf_counter() - started)
            target = urljoin(current.url, response.header("Location") or "")
            self.policy.check_redirect(current.url, target)
            if not self.config.cookie_container_on_redirect:
                self.session.cookies.clear()
            method, body = current.method, current.body
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", None
            headers = self.policy.headers_after_redirect(current.url, target, current.headers)
            current = RestRequest(method, target, headers, body, current.credential_headers)
        raise self.error(request, f"more than {MAX_REDIRECTS} redirects")

    def _headers_for(self, request: RestRequest, trusted: bool) -> dict[str, str]:
        """The connection's credential headers go only to trusted locations."""
        if trusted:
            return dict(request.headers)
        return {k: v for k, v in request.headers if k.lower() not in request.credential_headers}

    # -- one request ---------------------------------------------------------------------------
    def _send_once(self, request: RestRequest) -> RestResponse:
        config = self.config
        trusted = self.policy.credentials_allowed(request.url)
        try:
            prepared = self.session.prepare_request(
                requests.Request(
                    request.method,
                    request.url,
                    headers=self._headers_for(request, trusted),
                    data=request.body,
                    # a script's own HTTPHEADER "Authorization" wins over the connection's auth
                    auth=self.auth if trusted and request.header("Authorization") is None else None,
                )
            )
        except requests.exceptions.RequestException as exc:  # InvalidURL, InvalidHeader ... (they quote the URL)
            raise self.error(request, f"the request cannot be built ({type(exc).__name__})") from None
        prepared.url = request.url  # sent as written: never re-encoded
        self.tls.before_request(request.url)
        started = time.perf_counter()
        try:
            response = self.session.send(
                prepared,
                timeout=(config.connection_timeout, config.read_timeout),
                stream=True,
                allow_redirects=False,
                verify=self.tls.verify,
                cert=self.tls.cert,
                proxies=proxies_for(self.config, request.url),
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise self.failure(request, f"connection timed out after {config.connection_timeout:g} s "
                                        "(connection_timeout)", exc) from None
        except requests.exceptions.ReadTimeout as exc:
            raise self.failure(request, f"no data within {config.read_timeout:g} s (read_timeout)", exc) from None
        except requests.exceptions.ProxyError as exc:
            raise self.error(request, f"proxy {_proxy_url(config)} failed: {_reason(exc)}") from None
        except requests.exceptions.SSLError as exc:
            reason = _reason(exc)
            raise self.error(request, f"TLS failed (tls.verify = {config.tls.verify}): {reason}"
                                      f"{self.tls.hint(reason)}") from None
        except requests.exceptions.RequestException as exc:
            raise self.failure(request, f"request failed: {_reason(exc)}", exc) from None
        try:
            body = self._read_body(request, response)
        finally:
            response.close()
        return RestResponse(
            status=response.status_code,
            reason=response.reason or "",
            headers=tuple(response.headers.items()),
            body=body,
            url=request.url,
            elapsed=time.perf_counter() - started,
        )

    def _read_body(self, request: RestRequest, response: requests.Response) -> bytes:
        limit = self.config.max_response_size
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise self.error(request, f"response larger than {limit} bytes (max_response_size)")
                chunks.append(chunk)
        except requests.exceptions.ReadTimeout as exc:
            raise self.failure(request, f"no data within {self.config.read_timeout:g} s (read_timeout)", exc) from None
        except requests.exceptions.ConnectionError as exc:
            if exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError):  # stalled mid-body
                raise self.failure(request, f"no data within {self.config.read_timeout:g} s (read_timeout)",
                                   exc) from None
            raise self.failure(request, f"reading the response failed: {_reason(exc)}", exc) from None
        except requests.exceptions.RequestException as exc:
            raise self.error(request, f"reading the response failed: {_reason(exc)}") from None
        return b"".join(chunks)


def _proxy_url(config: RestConfig) -> str:
    """The proxy's address for messages (it never carries credentials)."""
    return config.proxy.url if config.proxy is not None else "(none)"


def _reason(exc: Exception) -> str:
    """The innermost readable cause of a requests error."""
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    return str(cause) or type(cause).__name__
