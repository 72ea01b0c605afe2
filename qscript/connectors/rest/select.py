"""A REST SELECT end to end: request -> transport -> decode -> flatten -> master table.

Any failure (HTTP status outside 2xx, timeout, undecodable body, a body of the wrong
format) is ScriptError 12 whose message names the connection, the URL (redacted), the
HTTP status and the first bytes of the body; no partial table is returned.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from qscript.connectors.base import SelectResult
from qscript.connectors.rest.config import RestConfig
from qscript.connectors.rest.crypto import decryptor_from_environ
from qscript.connectors.rest.decode import decode_csv, decode_json, detect_response_type
from qscript.connectors.rest.decode_xml import decode_xml
from qscript.connectors.rest.flatten import master_table
from qscript.connectors.rest.paging import Paginator, page_records, paginator_for
from qscript.connectors.rest.request import RestRequest, build_request
from qscript.connectors.rest.transport import RestResponse, Transport
from qscript.errors import WrongFormatError
from qscript.expr.column import Column
from qscript.redact import Redactor, basic_credential
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
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.redact = redactor
        redactor.add(config.secrets())
        pairs = [(config.auth.username, config.auth.password)] if config.auth.schema == "basic" else []
        if config.proxy is not None and config.proxy.username:
            pairs.append((config.proxy.username, config.proxy.password))
        redactor.add(basic_credential(user, password) for user, password in pairs if password)
        self.log = log
        self.sleep = sleep
        self.progress = progress
        self.transport = Transport(config, name, redactor, sleep=sleep, log=log)
        self._decrypt = decryptor_from_environ(os.environ, config)

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
        """Run the SELECT, page by page as the connection's pagination says."""
        wants_headers = _selects_table(statement.root, RESPONSE_HEADER_TABLE)
        if wants_headers and not self.config.allow_response_headers:
            raise WrongFormatError(RESPONSE_HEADERS_DENIED)
        paging = self.config.pagination
        paginator = paginator_for(self.config)
        request = paginator.first(build_request(self.config, statement.with_connection, self.name, self.decrypt))
        pages: list[tuple[list[str], dict[str, Column], int]] = []
        counters: dict = {}  # sequence keys keep counting across the pages of one SELECT
        seen = {_page_identity(request)}
        records = size = 0
        started = time.perf_counter()
        while True:
            response = self.transport.send(request)
            if not response.ok:
                raise self._fail(request, f"HTTP {response.status} {response.reason}: {_excerpt(response.body)}")
            document = self._decode(request, response, statement)
            names, columns, length = master_table(
                document, statement.root, statement.format, self.config.key_generation,
                response_headers=dict(response.headers) if wants_headers else None,
                sequence_start=counters,
            )
            pages.append((names, columns, length))
            in_page = page_records(document, statement.root, statement.format.wrap) if statement.format.kind != "csv" \
                else length
            records += in_page
            size += len(response.body)
            self.log(
                f"page {len(pages)}: {request.method} {self.redact.url(request.url)} -> HTTP {response.status}, "
                f"{length} rows, {len(response.body)} bytes, {response.elapsed:.2f} s"
            )
            if self.progress is not None:
                self.progress(f"{self.name}: page {len(pages)}, {records} records")
            paginator.update(response, document, in_page)
            if self._stop(paginator, in_page, len(pages), records):
                break
            following = paginator.next(request)
            if following is None:
                break
            identity = _page_identity(following)
            if identity in seen:
                raise self._fail(following, f"pagination repeats a page it already loaded "
                                            f"({paging.type}: {self.redact.url(following.url)}); stopped")
            seen.add(identity)
            self.transport.policy.check_redirect(request.url, following.url)
            request = following
        names, columns, length = _stack(pages)
        if len(pages) > 1 or paging.type != "none":
            self.log(f"SELECT on '{self.name}': {len(pages)} pages, {length} rows, {size} bytes, "
                     f"{time.perf_counter() - started:.2f} s")
        return SelectResult(names, columns, length)

    def _stop(self, paginator: Paginator, in_page: int, pages: int, records: int) -> bool:
        """The safety stops every pagination type shares."""
        paging = self.config.pagination
        if paging.type in ("none", "custom"):
            return True
        if in_page == 0 and paging.stop_on_empty_page:
            return True
        expected = paginator.page_size()
        if paging.stop_on_short_page and expected is not None and in_page < expected:
            return True
        if pages >= paging.max_pages:
            self.log(f"SELECT on '{self.name}': stopped at pagination.max_pages = {paging.max_pages}")
            return True
        if records >= paging.max_records:
            self.log(f"SELECT on '{self.name}': stopped at pagination.max_records = {paging.max_records}")
            return True
        return False

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


def _page_identity(request: RestRequest) -> tuple[str, tuple[tuple[str, str], ...]]:
    return request.url, request.headers


def _stack(pages: list[tuple[list[str], dict[str, Column], int]]) -> tuple[list[str], dict[str, Column], int]:
    """The pages of one SELECT as one table: fields in first-seen order, missing ones NULL."""
    if len(pages) == 1:
        return pages[0]
    names: list[str] = []
    for page_names, _, _ in pages:
        names += [n for n in page_names if n not in names]
    columns = {
        name: Column.concat([cols.get(name) or Column.nulls(length) for _, cols, length in pages]) for name in names
    }
    return names, columns, sum(length for _, _, length in pages)


def _excerpt(body: bytes) -> str:
    text = body[:BODY_EXCERPT].decode("utf-8", errors="replace").replace("\n", " ").strip()
    return repr(text + ("..." if len(body) > BODY_EXCERPT else ""))
