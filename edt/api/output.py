"""Writing EDT answers: XML in CalEPA's shape, streamed; JSON derived from the same elements.

A query's records are produced one lxml element at a time and written through
``lxml.etree.xmlfile`` (or, from RFSQ, RFQ and RCMEQ, as the XML text of each record, written
as lxml would write its element); the response starts with the first batch and memory stays
flat however many records follow. JSON is built from the very same elements
(``element_to_json``; those written as text read back from it), so the two formats can never
disagree about content.

CalEPA's schemas are ``elementFormDefault="unqualified"``: only the root element is in the
schema's namespace. The root is written with the prefix ``cers`` and the children unprefixed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from itertools import chain

from django.http import StreamingHttpResponse
from django.utils import timezone
from lxml import etree

from core.xmlsafe import NOT_XML_CHARACTER

from .catalogue import schema_namespace

FLUSH_BYTES = 64 * 1024
log = logging.getLogger(__name__)


class _Sink:
    """A file-like object ``xmlfile`` writes into; drained between records."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def readable(value: str) -> str:
    """Text the server writes for people from what people typed (an action item's summary),
    with each character XML cannot carry (a control character pasted in) replaced by U+FFFD:
    one person's text must not stop an answer listing everyone's. Data a record carries is
    not changed so: its answer fails instead (``submittal_query.escaped``)."""
    return NOT_XML_CHARACTER.sub("\ufffd", value)


def text(value) -> str:
    """CERS text for a value: dates ISO, booleans true/false, Decimals without exponent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def sub(parent: etree._Element, tag: str, value=None, **attributes) -> etree._Element | None:
    """Append ``<tag>value</tag>``; nothing for an empty value (CERS omits empty elements)."""
    if (value is None or value == "") and not attributes:
        return None
    element = etree.SubElement(parent, tag, {k: text(v) for k, v in attributes.items() if v != ""})
    if value is not None and value != "":
        element.text = text(value)
    return element


def stream_xml(
    schema: str,
    version: str,
    root: str,
    attributes: dict,
    records: Iterable[etree._Element | str],
) -> Iterator[bytes]:
    """Yield a whole XML document in chunks: the root with ``attributes``, then ``records``:
    elements, or a record's XML text as a writer that writes text gives it (well-formed, in
    no namespace, as lxml would write the element)."""
    sink = _Sink()
    namespace = schema_namespace(schema, version)
    with etree.xmlfile(sink, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(
            f"{{{namespace}}}{root}",
            {k: text(v) for k, v in attributes.items()},
            nsmap={"cers": namespace},
        ):
            xf.flush()  # libxml2 buffers its output: the root goes out now, before any row
            yield sink.take()
            buffered = False  # an element written is held in libxml2's buffer until a flush
            for record in records:
                if isinstance(record, str):
                    if buffered:
                        xf.flush()
                        buffered = False
                    sink.write(record.encode())
                else:
                    xf.write(record)
                    buffered = True
                if sink.size >= FLUSH_BYTES:
                    yield sink.take()
        # Closed only after the last record: an answer whose records fail is left open.
    yield sink.take()


def document(schema: str, version: str, root: str, attributes: dict, records) -> bytes:
    """The same document in one piece (small answers, tests)."""
    return b"".join(stream_xml(schema, version, root, attributes, records))


# Containers whose children repeat: always lists in JSON, even with a single child.
def _is_list_container(element: etree._Element) -> bool:
    children = list(element)
    if not children:
        return False
    tags = {etree.QName(c).localname for c in children}
    if len(tags) != 1:
        return False
    (child,) = tags
    name = etree.QName(element).localname
    plurals = {child + "s", child + "es"}
    if child.endswith("y"):
        plurals.add(child[:-1] + "ies")  # Facilities/Facility
    return name in plurals or len(children) > 1


def element_to_json(element: etree._Element):
    """An element as JSON: attributes as "@name", a leaf as its text, a container of repeated
    children (Violations/Violation) as a list, any other child as a key."""
    children = list(element)
    if not children and not element.attrib:
        return element.text or ""
    if _is_list_container(element) and not element.attrib:
        return [element_to_json(c) for c in children]
    result: dict = {f"@{k}": v for k, v in element.attrib.items()}
    if not children:
        result["#text"] = element.text or ""
        return result
    repeated: set[str] = set()
    for child in children:
        name = etree.QName(child).localname
        value = element_to_json(child)
        if name not in result:
            result[name] = value
        elif name in repeated:
            result[name].append(value)
        else:
            result[name] = [result[name], value]
            repeated.add(name)
    return result


def json_items(elements) -> Iterator[str]:
    """Each element as JSON (``element_to_json``), comma-separated: the inside of a JSON list."""
    for index, element in enumerate(elements):
        yield ("," if index else "") + json.dumps(element_to_json(element))


def in_chunks(pieces) -> Iterator[bytes]:
    """Text pieces joined into chunks of about ``FLUSH_BYTES``, encoded: a streamed answer
    written in few, large writes, whatever the size of its records."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= FLUSH_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def stream_json(
    schema: str, version: str, root: str, attributes: dict, record_name: str, records
) -> Iterator[bytes]:
    """Yield ``{"schema": ..., "version": ..., <attributes>, record_name: [records...]}``."""
    head = {"schema": schema, "version": version, "root": root}
    head.update({k: text(v) for k, v in attributes.items()})
    opening = json.dumps(head)[:-1] + f', "{record_name}": ['
    yield opening.encode()  # at once: the first byte does not wait for the first records
    yield from in_chunks(chain(json_items(records), ["]}"]))


STREAM_FAILED = (
    "The answer failed while it was being written and was cut off, unterminated; "
    "ask again. CERS logged the error."
)


def guarded(chunks: Iterable[bytes], call) -> Iterator[bytes]:
    """``chunks`` as they come; if producing one fails, the error is logged, the call's
    transaction row says so (Error Processing), and the exception goes on up.

    An answer that fails mid-way must not look complete. The closing tags (or ``]}``) are only
    written after the last record, so what was sent is an unterminated document; and the
    exception reaches the WSGI server, which then drops the connection without the last chunk
    of its chunked encoding, so the client sees a broken transfer, not a short answer."""
    try:
        yield from chunks
    except Exception:
        transaction = getattr(call, "transaction", None)
        log.exception(
            "EDT %s answer failed mid-stream (transaction %s): cut off unterminated",
            getattr(getattr(call, "endpoint", None), "acronym", "query"),
            getattr(transaction, "key", None),
        )
        if transaction is not None:
            _record_failure(transaction)
        raise


def _record_failure(transaction) -> None:
    from django.db import DatabaseError

    from ..models import EdtTransaction

    try:
        EdtTransaction.objects.filter(pk=transaction.pk).update(
            status=EdtTransaction.Status.ERROR_PROCESSING,
            http_status=500,
            messages=[{"level": "Required", "message": STREAM_FAILED}],
            completed_at=timezone.now(),
        )
    except DatabaseError:  # the failure may be the database's own: the log has it
        log.exception("EDT transaction %s: could not record the failed answer", transaction.key)


def streaming_answer(call, body: Iterable[bytes], content_type: str) -> StreamingHttpResponse:
    """A streamed answer (``guarded``) with the call's transaction key in its headers."""
    response = StreamingHttpResponse(guarded(body, call), content_type=content_type)
    if getattr(call, "transaction", None) is not None:
        response["X-CERS-Transaction-Key"] = str(call.transaction.key)
    return response


def query_response(
    call,
    *,
    schema: str,
    version: str,
    root: str,
    attributes: dict,
    record_name: str,
    records: Callable[[], Iterable[etree._Element]] | Iterable[etree._Element],
) -> StreamingHttpResponse:
    """A streamed answer in the format the client asked for."""
    items = records() if callable(records) else records
    if call.wants_json:
        body = stream_json(schema, version, root, attributes, record_name, items)
        content_type = "application/json"
    else:
        body = stream_xml(schema, version, root, attributes, items)
        content_type = "text/xml; charset=utf-8"
    return streaming_answer(call, body, content_type)
