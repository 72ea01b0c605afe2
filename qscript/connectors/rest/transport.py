"""Send one request and get one response: the narrow seam between qscript and HTTP.

Everything about the wire lives here (requests.Session, timeouts, authentication, the
response size cap); everything above works on :class:`RestRequest`/:class:`RestResponse`.
Foreign exceptions are translated here, once, into ScriptError 12 with a message that
names the connection and the option involved, built from redacted values only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.request import RestRequest
from qscript.errors import WrongFormatError
from qscript.redact import Redactor

_CHUNK = 64 * 1024


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

    def __init__(self, config: RestConfig, connection: str, redactor: Redactor) -> None:
        self.config = config
        self.connection = connection
        self.redact = redactor
        self.session = requests.Session()
        self.session.trust_env = False  # proxies and certificates come from the connection only
        self.auth = _auth(config)

    def close(self) -> None:
        self.session.close()

    def _error(self, request: RestRequest, what: str) -> WrongFormatError:
        return WrongFormatError(
            f"connection '{self.connection}': {request.method} {self.redact.url(request.url)}: {self.redact(what)}"
        )

    def send(self, request: RestRequest) -> RestResponse:
        config = self.config
        prepared = requests.Request(request.method, request.url, headers=dict(request.headers),
                                    data=request.body, auth=self.auth).prepare()
        prepared.url = request.url  # sent as written: never re-encoded
        started = time.perf_counter()
        try:
            response = self.session.send(
                prepared,
                timeout=(config.connection_timeout, config.read_timeout),
                stream=True,
                allow_redirects=True,
            )
        except requests.exceptions.ConnectTimeout:
            raise self._error(request, f"connection timed out after {config.connection_timeout:g} s "
                                       "(connection_timeout)") from None
        except requests.exceptions.ReadTimeout:
            raise self._error(request, f"no data within {config.read_timeout:g} s (read_timeout)") from None
        except requests.exceptions.RequestException as exc:
            raise self._error(request, f"request failed: {_reason(exc)}") from None
        try:
            body = self._read_body(request, response)
        finally:
            response.close()
        return RestResponse(
            status=response.status_code,
            reason=response.reason or "",
            headers=tuple(response.headers.items()),
            body=body,
            url=response.url,
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
                    raise self._error(request, f"response larger than {limit} bytes (max_response_size)")
                chunks.append(chunk)
        except requests.exceptions.ReadTimeout:
            raise self._error(request, f"no data within {self.config.read_timeout:g} s (read_timeout)") from None
        except requests.exceptions.RequestException as exc:
            raise self._error(request, f"reading the response failed: {_reason(exc)}") from None
        return b"".join(chunks)


def _auth(config: RestConfig) -> AuthBase | None:
    auth = config.auth
    if auth.schema == "basic":
        return HTTPBasicAuth(auth.username, auth.password)
    if auth.schema == "digest":
        return HTTPDigestAuth(auth.username, auth.password)
    return None


def _reason(exc: Exception) -> str:
    """The innermost readable cause of a requests error, without the URL it repeats."""
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause) or type(cause).__name__
    return text.split(": ", 1)[-1] if "Max retries" in str(exc) else text
