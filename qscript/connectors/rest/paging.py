"""Built-in pagination: one paginator object per connection type (after dlt's design).

A paginator is a small state machine: ``first(request)`` prepares the first request,
``update(response, document, records)`` reads what a page says about the next one, and
``next(request)`` gives the next request or ``None`` when paging is over. The loop in
select.py knows nothing of offsets, tokens or links; it owns the safety stops (repeated
next link or token, maximum pages and records, empty and short pages).

Paths into a response (``total_path``, ``token_path``, ``next_url_path``...) use the raw
source names, separated by ``/`` or ``.`` (``links/next/href`` or ``links.next.href``); a
leading ``root`` is ignored when the document has no such property, and a number steps
into an array. The records of a page are counted as: the length of the document when it
is an array, else the length of the first selected table of the root that is an array in
the document (``data`` in ``{"data": [...], "links": ...}``), else 1.
"""

from __future__ import annotations

from urllib.parse import urljoin

from qscript.connectors.rest.config import PaginationConfig, RestConfig
from qscript.connectors.rest.request import RestRequest, with_query
from qscript.connectors.rest.transport import RestResponse
from qscript.script.nodes import SelectTable


def value_at(document: object, path: str | None) -> object:
    """The value at a ``/``- or ``.``-separated path, or None when any step is missing."""
    if not path:
        return None
    steps = [s for s in (path.split("/") if "/" in path else path.split(".")) if s]
    if steps and steps[0] == "root" and not (isinstance(document, dict) and "root" in document):
        steps = steps[1:]
    current = document
    for step in steps:
        if isinstance(current, dict):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def page_records(document: object, root: SelectTable, wrap: bool) -> int:
    """How many records a page holds (see the module docstring)."""
    if not wrap and isinstance(document, dict):
        document = document.get(root.name)
    if isinstance(document, list):
        return len(document)
    if isinstance(document, dict):
        for child in root.children:
            value = document.get(child.name)
            if isinstance(value, list):
                return len(value)
        return 1 if document else 0
    return 0 if document is None else 1


def _text(value: object) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text or None


def _set_param(request: RestRequest, name: str, value: str, where: str) -> RestRequest:
    if where == "header":
        kept = tuple((k, v) for k, v in request.headers if k.lower() != name.lower())
        headers = (*kept, (name, value))
        return RestRequest(request.method, request.url, headers, request.body, request.credential_headers)
    return RestRequest(request.method, with_query(request.url, [(name, value)]), request.headers,
                       request.body, request.credential_headers)


class Paginator:
    """No paging: one request (types ``none`` and ``custom``)."""

    def __init__(self, config: RestConfig) -> None:
        self.config = config
        self.paging: PaginationConfig = config.pagination
        self.first_page_records: int | None = None
        self.last_records = 0

    def first(self, request: RestRequest) -> RestRequest:
        return request

    def update(self, response: RestResponse, document: object, records: int) -> None:
        if self.first_page_records is None:
            self.first_page_records = records
        self.last_records = records

    def next(self, request: RestRequest) -> RestRequest | None:
        return None

    def page_size(self) -> int | None:
        """The expected records per page, for the short-page stop."""
        return self.first_page_records


class OffsetPaginator(Paginator):
    """``start`` grows by ``count`` until an empty page or the total is reached."""

    def first(self, request: RestRequest) -> RestRequest:
        p = self.paging
        self.start = p.start_value
        self.total: int | None = None
        request = _set_param(request, p.start_param or "", str(self.start), p.start_in)
        return _set_param(request, p.count_param or "", str(p.count_value), p.start_in)

    def update(self, response: RestResponse, document: object, records: int) -> None:
        super().update(response, document, records)
        total = _text(value_at(document, self.paging.total_path))
        if total is not None and total.lstrip("-").isdigit():
            self.total = int(total)

    def next(self, request: RestRequest) -> RestRequest | None:
        p = self.paging
        self.start += p.count_value or 0
        if self.total is not None and self.start >= self.total:
            return None
        return _set_param(request, p.start_param or "", str(self.start), p.start_in)

    def page_size(self) -> int | None:
        return self.paging.count_value


class PageNumberPaginator(Paginator):
    """``page`` counts up from ``first_page`` until the total pages or the last-page flag."""

    def first(self, request: RestRequest) -> RestRequest:
        self.page = self.paging.first_page
        self.done = False
        return _set_param(request, self.paging.page_param or "", str(self.page), "query")

    def update(self, response: RestResponse, document: object, records: int) -> None:
        super().update(response, document, records)
        p = self.paging
        total = _text(value_at(document, p.total_pages_path))
        if total is not None and total.isdigit():
            last = p.first_page + int(total) - 1
            self.done = self.done or self.page >= last
        if p.last_page_path is not None:
            flag = _text(value_at(document, p.last_page_path))
            wanted = (p.last_page_value or "true").lower()
            self.done = self.done or (flag is not None and flag.lower() == wanted)

    def next(self, request: RestRequest) -> RestRequest | None:
        if self.done:
            return None
        self.page += 1
        return _set_param(request, self.paging.page_param or "", str(self.page), "query")


class TokenPaginator(Paginator):
    """A token from the body (or a response header) goes into the next request."""

    def update(self, response: RestResponse, document: object, records: int) -> None:
        super().update(response, document, records)
        p = self.paging
        raw = response.header(p.token_header) if p.token_header else value_at(document, p.token_path)
        self.token = _text(raw)

    def next(self, request: RestRequest) -> RestRequest | None:
        if not self.token:
            return None
        return _set_param(request, self.paging.token_param or "", self.token, self.paging.token_in)

    def identity(self) -> str | None:
        return self.token


class NextUrlPaginator(Paginator):
    """The next page's URL comes from the body or the Link header; relative URLs resolve
    against the request URL, and with ``add_missing_query_params`` the connection's query
    parameters are put back on links that dropped them."""

    def update(self, response: RestResponse, document: object, records: int) -> None:
        super().update(response, document, records)
        p = self.paging
        link = _link_next(response.header("Link")) if p.use_link_header else _text(value_at(document, p.next_url_path))
        self.link = link

    def next(self, request: RestRequest) -> RestRequest | None:
        if not self.link:
            return None
        url = urljoin(request.url, self.link)
        if self.config.add_missing_query_params:
            url = with_query(url, list(self.config.query.items()), only_missing=True)
        return RestRequest(request.method, url, request.headers, request.body, request.credential_headers)


def _link_next(header: str | None) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 Link header."""
    if not header:
        return None
    for part in header.split(","):
        target, _, params = part.partition(";")
        rels = [p.strip() for p in params.split(";")]
        if any(r.replace(" ", "").lower() in ('rel="next"', "rel=next") for r in rels):
            return target.strip().strip("<>")
    return None


PAGINATORS: dict[str, type[Paginator]] = {
    "none": Paginator,
    "custom": Paginator,
    "offset": OffsetPaginator,
    "next_page": PageNumberPaginator,
    "next_token": TokenPaginator,
    "next_url": NextUrlPaginator,
}


def paginator_for(config: RestConfig) -> Paginator:
    return PAGINATORS[config.pagination.type](config)
