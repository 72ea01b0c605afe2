"""Safe XML decoding into the generic tree the JSON side gives (dicts, lists, text).

Safety. The body is parsed by lxml with ``resolve_entities=False, no_network=True,
load_dtd=False, huge_tree=False``: no external entity, DTD or schema is ever fetched (no file
or network access) and libxml2's limits on depth and entity amplification stay on. On top
of that, the ``DOCTYPE`` declaration is handled *before* parsing, according to the
connection's ``xml_dtd`` policy:

* ``prohibit``: a DOCTYPE is rejected with :class:`WrongFormatError`.
* ``internal`` / ``url``: the DOCTYPE is accepted but cut out of the body unread (line breaks
  are kept so error positions stay right). Nothing it declares is processed or fetched, so
  a reference to an entity it declares (XXE, "billion laughs") is an undefined entity and
  fails with a clear error instead of expanding. The two policies behave identically here.
* The cut works on ASCII-compatible encodings (UTF-8, Latin-1, ...). For a body it cannot
  read (UTF-16), the parsed document is checked instead: ``prohibit`` rejects any DOCTYPE
  and the other policies reject a DTD that declares entities (libxml2's amplification limit
  bounds what the parser did meanwhile).

Only the five predefined entities and character references (``&amp;``, ``&#233;``) are
replaced, as every XML parser must.

Shaping (the Qlik XML connector's rules as far as they are known; see
qlik-rest-connector.md §6.2):

* Names lose their namespace (``{uri}local`` and ``prefix:local`` both become ``local``).
* The document element is the root record.
* A *simple* element (no attributes, no child elements) is a field of its parent; its value
  is its text verbatim (``""`` when empty).
* An element with attributes or child elements is a table record (a dict): each attribute is
  a field named after the attribute, each child element is a field or nested table.
* When such an element also has text of its own (not only whitespace), the text is the field
  ``@Content``. For an element with child elements the text pieces around them are stripped
  and joined with one space; for an element with attributes only the text is kept verbatim.
* Child elements that occur more than once under one parent become a list (a nested table
  with one record per occurrence, in document order); a repeated simple element becomes a
  list of ``{"@Content": text}`` records.
* If a child element has the name of an attribute of the same element, the element wins.
* Comments and processing instructions are ignored. All values are text.
"""

from __future__ import annotations

from lxml import etree

from qscript.connectors.rest.decode import gc_paused
from qscript.errors import WrongFormatError

DTD_POLICIES = ("prohibit", "internal", "url")

_UTF8_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r\n"
_REASON_LIMIT = 160


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        attribute_defaults=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def decode_xml(body: bytes, dtd_policy: str) -> object:
    """The document element as a record (a dict), or its text when it is a simple element."""
    if dtd_policy not in DTD_POLICIES:
        raise ValueError(f"xml_dtd must be one of {', '.join(DTD_POLICIES)}, not {dtd_policy!r}")
    span = _doctype_span(body)
    if span is not None:
        if dtd_policy == "prohibit":
            raise WrongFormatError(_prohibited())
        start, end = span
        body = body[:start] + b"\n" * body.count(b"\n", start, end) + body[end:]
    if not body.strip(_BLANK):
        raise WrongFormatError("the response is not valid XML: the body is empty")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        reason = _reason(exc)
        if span is not None and "Entity" in reason:
            reason += " (entities declared in a DTD are never expanded)"
        raise WrongFormatError(f"the response is not valid XML: {reason}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        # The prolog scan missed a DOCTYPE (an encoding it cannot read): stay strict.
        if dtd_policy == "prohibit":
            raise WrongFormatError(_prohibited())
        dtd = docinfo.internalDTD
        if dtd is not None and any(True for _ in dtd.iterentities()):
            raise WrongFormatError("the XML declares entities in its DTD; entities are never expanded")
    with gc_paused():
        return _convert(root)


def _prohibited() -> str:
    return (
        "the response has a DOCTYPE, and a DTD is prohibited by the connection (xml_dtd = prohibit); "
        "set xml_dtd = internal to accept it unprocessed"
    )


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 3] + "..."


def _doctype_span(body: bytes) -> tuple[int, int] | None:
    """Byte range of the DOCTYPE declaration in the prolog, or None when there is none.

    Walks the prolog (XML declaration, comments, processing instructions, whitespace) of an
    ASCII-compatible body; the internal subset is skipped with its quoted literals, comments
    and processing instructions, so a ``]`` or ``>`` inside them does not end it.
    """
    n = len(body)
    i = 3 if body.startswith(_UTF8_BOM) else 0
    while i < n:
        while i < n and body[i] in _BLANK:
            i += 1
        if body.startswith(b"<?", i):
            i = _after(body, b"?>", i + 2)
        elif body.startswith(b"<!--", i):
            i = _after(body, b"-->", i + 4)
        elif body.startswith(b"<!DOCTYPE", i):
            return i, _doctype_end(body, i)
        else:
            return None
    return None


def _after(body: bytes, marker: bytes, start: int) -> int:
    end = body.find(marker, start)
    if end < 0:
        raise WrongFormatError("the response is not valid XML: unterminated markup in the prolog")
    return end + len(marker)


def _doctype_end(body: bytes, start: int) -> int:
    n = len(body)
    i = start + len(b"<!DOCTYPE")
    in_subset = False
    while i < n:
        c = body[i]
        if c in b"\"'":
            i = _after(body, bytes((c,)), i + 1)
            continue
        if in_subset and body.startswith(b"<!--", i):
            i = _after(body, b"-->", i + 4)
            continue
        if in_subset and body.startswith(b"<?", i):
            i = _after(body, b"?>", i + 2)
            continue
        if c == ord("["):
            in_subset = True
        elif c == ord("]"):
            in_subset = False
        elif c == ord(">") and not in_subset:
            return i + 1
        i += 1
    raise WrongFormatError("the response is not valid XML: unterminated DOCTYPE")


def _local(name: str) -> str:
    """``{uri}local`` or ``prefix:local`` -> ``local``."""
    return name.rpartition("}")[2].rpartition(":")[2]


def _convert(element: etree._Element) -> object:
    """One element as a field value (text) or a table record (dict); see the module docstring.

    One pass over the children (lxml creates a proxy object for every element touched, so
    touching each once is what keeps this fast); local names are cached per document.
    """
    names: dict[str, str] = {}

    def convert(element: etree._Element) -> object:
        text = element.text
        if not len(element):  # no children (len() creates no proxies)
            if not element.attrib:
                return text or ""
            record = {names.get(key) or _local(key): value for key, value in element.items()}
            if text and not text.isspace():
                record["@Content"] = text
            return record
        record = {names.get(key) or _local(key): value for key, value in element.items()}
        pieces = [text] if text and not text.isspace() else []
        repeated: dict[str, list | None] = {}  # element names seen; their list once repeated
        for child in element:
            tag = child.tag
            if tag.__class__ is not str:
                if tag is etree.Entity:
                    raise WrongFormatError(f"the XML has an entity reference {child.text}, which is never expanded")
                continue  # comments and processing instructions (normally removed by the parser)
            name = names.get(tag)
            if name is None:
                name = names[tag] = _local(tag)
            value = convert(child)
            tail = child.tail
            if tail and not tail.isspace():
                pieces.append(tail)
            if name not in repeated:
                repeated[name] = None
                record[name] = value  # an element beats an attribute of the same name
                continue
            items = repeated[name]
            if items is None:
                first = record[name]
                items = repeated[name] = [{"@Content": first} if first.__class__ is str else first]
                record[name] = items
            items.append({"@Content": value} if value.__class__ is str else value)
        if pieces:
            record["@Content"] = " ".join(piece.strip() for piece in pieces)
        return record

    return convert(element)
