"""A REST SELECT end to end: request -> transport -> decode -> flatten -> master table.

Any failure (HTTP status outside 2xx, timeout, undecodable body, a body of the wrong
format) is ScriptError 12 whose message names the connection, the URL (redacted), the
HTTP status and the first bytes of the body; no partial table is returned.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from qscript.connectors.base import SelectResult
from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.crypto import decryptor_from_environ
from qscript.connectors.rest.decode import decode_csv, decode_json, detect_response_type
from qscript.connectors.rest.decode_xml import decode_xml
from qscript.connectors.rest.flatten import master_table
from qscript.connectors.rest.request import RestRequest, build_request
from qscript.connectors.rest.transport import RestResponse, Transport
from qscript.errors import WrongFormatError
from qscript.redact import Redactor
from qscript.script.nodes import SelectTable, SqlSelect

#: How much of an error response's body an error message quotes.
BODY_EXCERPT = 200

RESPONSE_HEADER_TABLE = "_response_header"
RESPONSE_HEADERS_DENIED = (
    "Response headers are denied by the current connection. "
    "Please edit your connection in order to enable response headers loading."
)


def _selects_table(table: SelectTable, name: str) -> bool:
    return any(child.name == name or _selects_table(child, name) for child in table.children)


class RestConnector:
    """An open REST connection: its configuration and one HTTP session."""

    def __init__(
        self,
        name: str,
        config: RestConfig,
        *,
        redactor: Redactor,
        log: Callable[[str], None],
        sleep: Callable[[float], None],
    ) -> None:
        self.name = name
        self.config = config
        self.redact = redactor
        redactor.add(config.secrets())
        self.log = log
        self.sleep = sleep
        self.transport = Transport(config, name, redactor, sleep=sleep, log=log)
        self._decrypt = decryptor_from_environ(os.environ)

    def decrypt(self, token: str) -> str:
        """Decrypt an encrypted header value, and from now on redact the plain value too."""
        value = self._decrypt(token)
        self.redact.add([value])
        return value

    def close(self) -> None:
        self.transport.close()

    def _fail(self, request: RestRequest, what: str) -> WrongFormatError:
        return WrongFormatError(
            f"connection '{self.name}': {request.method} {self.redact.url(request.url)}: {self.redact(what)}"
        )

    def select(self, statement: SqlSelect) -> SelectResult:
        wants_headers = _selects_table(statement.root, RESPONSE_HEADER_TABLE)
        if wants_headers and not self.config.allow_response_headers:
            raise WrongFormatError(RESPONSE_HEADERS_DENIED)
        request = build_request(self.config, statement.with_connection, self.name, self.decrypt)
        response = self.transport.send(request)
        if not response.ok:
            raise self._fail(request, f"HTTP {response.status} {response.reason}: {_excerpt(response.body)}")
        document = self._decode(request, response, statement)
        names, columns, length = master_table(
            document,
            statement.root,
            statement.format,
            self.config.key_generation,
            response_headers=dict(response.headers) if wants_headers else None,
        )
        self.log(
            f"{request.method} {self.redact.url(request.url)} -> HTTP {response.status}, {length} rows, "
            f"{len(response.body)} bytes, {response.elapsed:.2f} s"
        )
        return SelectResult(names, columns, length)

    def _decode(self, request: RestRequest, response: RestResponse, statement: SqlSelect) -> object:
        fmt = statement.format
        detected = detect_response_type(
            response.header("Content-Type"), response.body, self.config.response_type,
            self.config.auto_detect_response_type,
        )
        if detected != fmt.kind and detected in ("json", "xml") and fmt.kind != "csv":
            raise self._fail(request, f"the response is {detected.upper()} but the SELECT reads "
                                      f"{fmt.kind.upper()}: {_excerpt(response.body)}")
        try:
            if fmt.kind == "json":
                return decode_json(response.body)
            if fmt.kind == "xml":
                return decode_xml(response.body, self.config.xml_dtd)
            return decode_csv(response.body, fmt.header, fmt.delimiter, fmt.quote)
        except WrongFormatError as exc:
            raise self._fail(request, f"{exc.message}: {_excerpt(response.body)}") from None


def _excerpt(body: bytes) -> str:
    text = body[:BODY_EXCERPT].decode("utf-8", errors="replace").replace("\n", " ").strip()
    return repr(text + ("..." if len(body) > BODY_EXCERPT else ""))
