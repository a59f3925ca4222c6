"""The upload endpoints' HTTP side: receive, answer with CalEPA's response envelope, and the
transaction status query (GET on the endpoint's path with the transaction key).

What each upload does lives in its processor (``edt.uploads.processes``); this module only
speaks the protocol, so every upload endpoint answers the same way.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from itertools import chain

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from core import xmlsafe

from .. import uploads
from ..models import EdtEntityKey, EdtTransaction
from .base import EdtCall, EdtError, EndpointView, row_batches
from .catalogue import SCHEMA_VERSIONS, schema_namespace
from .output import element_to_json, guarded, in_chunks, stream_xml, sub, text
from .registry import serves
from .renderers import EdtDocument

ENTITY_KEYS = "EntityKeys"
ENTITY_KEY_BATCH = 1000

# endpoint -> (response schema, root element, style). "guidance": Summary, EntityKeys and
# GuidanceMessages (CME and facility submittal responses); "messages": Messages/Message@type
# (facility create and metadata responses).
RESPONSES = {
    "RCMES": ("RegulatorCMESubmitResponse", "CMESubmittalResponse", "guidance"),
    "RFSAN": (
        "RegulatorFacilitySubmittalResponse",
        "RegulatorFacilitySubmittalResponse",
        "guidance",
    ),
    "RFS": ("RegulatorFacilitySubmittalResponse", "RegulatorFacilitySubmittalResponse", "guidance"),
    "RFC": ("RegulatorFacilityCreateResponse", "RegulatorFacilityCreateResponse", "messages"),
    "RFMS": ("RegulatorFacilityMetadataResponse", "RegulatorFacilityMetadataResponse", "messages"),
}
STATUS_WORDS = {
    EdtTransaction.Status.QUEUED: "Queued",
    EdtTransaction.Status.IN_PROCESS: "Queued",  # the schemas have no InProcess
    EdtTransaction.Status.ACCEPTED: "Accepted",
    EdtTransaction.Status.REJECTED: "Rejected",
    EdtTransaction.Status.ERROR_PROCESSING: "ErrorProcessing",
}


def response_version(response_schema: str, input_version: str) -> str:
    """Answer in the version the client used where the response schema has it, else the
    newest response version of that generation."""
    versions = SCHEMA_VERSIONS[response_schema]
    return input_version if input_version in versions else versions[-1]


def _summary(parent, edt_transaction, messages) -> None:
    levels = {"Required": 0, "Warning": 0, "Advisory": 0}
    for message in messages:
        levels[message["level"]] = levels.get(message["level"], 0) + 1
    summary = etree.SubElement(parent, "Summary")
    if edt_transaction.completed_at and edt_transaction.status == EdtTransaction.Status.ACCEPTED:
        sub(summary, "DataProcessedOn", edt_transaction.completed_at)
    if edt_transaction.status == EdtTransaction.Status.ERROR_PROCESSING:
        sub(summary, "ErrorSummary", "Processing failed on CERS's side; nothing was stored.")
    for level in ("Required", "Warning", "Advisory"):
        if levels[level]:
            sub(summary, f"{level}Summary", f"{levels[level]} {level.lower()} message(s).")


def envelope(call: EdtCall, edt_transaction: EdtTransaction, input_version: str):
    """CalEPA's response envelope for an upload transaction, as an lxml element, but for its
    entity keys: an accepted upload's guidance answer has an empty ``EntityKeys`` element
    where they go, filled from the table as the answer is written (``answer_chunks``)."""
    schema, root_name, style = RESPONSES[call.endpoint.acronym]
    version = response_version(schema, input_version)
    namespace = schema_namespace(schema, version)
    root = etree.Element(
        f"{{{namespace}}}{root_name}",
        {"timeStamp": text(timezone.now())},
        nsmap={"cers": namespace},
    )
    txn = etree.SubElement(root, "Transaction")
    if call.endpoint.acronym == "RFC" and (mode := request_mode(edt_transaction)):
        txn.set("mode", mode)  # RFC echoes whether the request was a Trial or a Commit
    sub(txn, "TransactionKey", edt_transaction.key)
    sub(txn, "RegulatorTransactionKey", edt_transaction.client_key)
    sub(txn, "TransactionReceived", edt_transaction.received_at)
    status = sub(txn, "TransactionStatus", STATUS_WORDS[edt_transaction.status])
    position = uploads.queue_position(edt_transaction)
    if position is not None:
        status.set("queuePosition", str(position))
    if style == "guidance":
        sub(txn, "DetailUri", status_url(call, edt_transaction))
    messages = [m for m in edt_transaction.messages if m.get("code", 0) > 0]
    result = [
        etree.fromstring(f"<r>{edt_transaction.result_xml}</r>")
        if edt_transaction.result_xml
        else None
    ]
    parts = list(result[0]) if result[0] is not None else []
    if style == "guidance":
        _summary(root, edt_transaction, messages)
        if edt_transaction.status == EdtTransaction.Status.ACCEPTED:
            # Where the keys go, filled as the answer is written (``entity_key_records``).
            etree.SubElement(root, ENTITY_KEYS)
        if messages:
            block = etree.SubElement(root, "GuidanceMessages")
            for message in messages:
                attributes = {"guidanceCode": str(message["code"]), "level": message["level"]}
                for attribute, name in (
                    ("entityResource", "entity_resource"),
                    ("regulatorKey", "regulator_key"),
                    ("cersUniqueKey", "cers_unique_key"),
                ):
                    if message.get(name):
                        attributes[attribute] = message[name]
                item = etree.SubElement(block, "GuidanceMessage", attributes)
                location = message.get("location")
                item.text = f"{message['message']} [{location}]" if location else message["message"]
        root.extend(parts)
    else:
        root.extend(parts)
        if messages:
            block = etree.SubElement(root, "Messages")
            for message in messages:
                kind = "Error" if message["level"] == "Required" else "Warning"
                item = etree.SubElement(block, "Message", type=kind)
                location = message.get("location")
                item.text = f"{message['message']} [{location}]" if location else message["message"]
    return root, schema, version


def request_mode(edt_transaction: EdtTransaction) -> str:
    """The root's ``mode`` attribute of the request ("" when nothing was stored); read from the
    stored document for transactions recorded before the mode was kept on the row."""
    if edt_transaction.mode:
        return edt_transaction.mode
    if not edt_transaction.payload:
        return ""
    try:
        with edt_transaction.payload.open("rb") as stored:
            return xmlsafe.parse_document(stored.read()).root.get("mode", "")
    except (OSError, xmlsafe.XmlRejected):
        return ""


def status_url(call: EdtCall, edt_transaction: EdtTransaction) -> str:
    namespace = "edt" if call.environment == "production" else "edt_staging"
    name = f"{namespace}:{call.endpoint.acronym.lower()}_one"
    url = reverse(name, kwargs={call.endpoint.path_argument: str(edt_transaction.key)})
    return call.request.build_absolute_uri(f"{url}?regulatorCode={edt_transaction.regulator.code}")


def entity_key_records(edt_transaction: EdtTransaction) -> Iterator[etree._Element | str]:
    """The answer's ``EntityKeys`` block, as ``stream_xml`` takes records: its tags as text
    around an element per key, read from the table in batches (``row_batches``, one query
    however many). Nothing when the upload has no keys, as CalEPA's answer has no empty
    block."""
    rows = EdtEntityKey.objects.filter(transaction_id=edt_transaction.pk).order_by("position")
    opened = False
    for batch in row_batches(
        rows.values_list("resource", "regulator_key", "cers_unique_key"), ENTITY_KEY_BATCH
    ):
        if not opened:
            yield f"<{ENTITY_KEYS}>"
            opened = True
        for resource, regulator_key, cers_unique_key in batch:
            item = etree.Element("EntityKey")
            sub(item, "EntityResource", resource)
            sub(item, "RegulatorKey", regulator_key)
            sub(item, "CERSUniqueKey", cers_unique_key)
            yield item
    if opened:
        yield f"</{ENTITY_KEYS}>"


def answer_chunks(
    edt_transaction: EdtTransaction, root, schema: str, version: str, as_json: bool
) -> Iterator[bytes]:
    """The envelope (``envelope``), its entity keys read as it is written, in the bytes the
    whole tree would render to (``XmlRenderer``, ``JsonRenderer``): XML through ``stream_xml``,
    the parts before and after the keys as they are; JSON as ``EdtDocument.as_json``, its
    ``EntityKeys`` list written an item at a time between the text before and after it."""
    children = list(root)
    for child in children:  # detached: written alone, without the root's namespace
        root.remove(child)
    keys = (
        entity_key_records(edt_transaction)
        if any(child.tag == ENTITY_KEYS for child in children)
        else iter(())
    )
    if not as_json:
        records = chain.from_iterable(
            keys if child.tag == ENTITY_KEYS else (child,) for child in children
        )
        name = etree.QName(root).localname
        yield from stream_xml(schema, version, name, dict(root.attrib), records)
        return
    first = next(keys, None)  # the opening tag, when there are keys
    mark = f"entity-keys-{uuid.uuid4()}"  # the list's place: text no answer holds
    for child in children:
        if child.tag != ENTITY_KEYS:
            root.append(child)
        elif first is not None:
            etree.SubElement(root, ENTITY_KEYS).text = mark
    data = json.dumps(EdtDocument(root, schema, version).as_json(), cls=DjangoJSONEncoder)
    if first is None:
        yield data.encode()
        return
    before, after = data.split(json.dumps(mark))
    items = (
        ("" if index == 0 else ", ") + json.dumps(element_to_json(item), cls=DjangoJSONEncoder)
        for index, item in enumerate(key for key in keys if not isinstance(key, str))
    )
    yield from in_chunks(chain([before, "["], items, ["]", after]))


def render(
    call: EdtCall,
    edt_transaction: EdtTransaction,
    input_version: str,
    *,
    replayed=False,
    status_query=False,
):
    """The envelope, streamed: XML, or JSON from the same elements, as negotiated. An answer
    that fails mid-way is cut off (``guarded``); a status query's own transaction row says so
    (the upload's row keeps what its processing gave)."""
    root, schema, version = envelope(call, edt_transaction, input_version)
    body = answer_chunks(edt_transaction, root, schema, version, call.wants_json)
    content_type = "application/json" if call.wants_json else "text/xml; charset=utf-8"
    response = StreamingHttpResponse(
        guarded(body, call if status_query else None), content_type=content_type
    )
    response["X-CERS-Transaction-Key"] = str(edt_transaction.key)
    if replayed:
        response["X-CERS-Replayed"] = "true"
    return response


class UploadView(EndpointView):
    """POST: receive an upload. GET with a transaction key: the transaction's status."""

    def answer(self, call: EdtCall, argument: str | None = None):
        schema = call.endpoint.input_schema
        if argument is not None:
            return self.status(call, argument)
        try:
            received = uploads.receive(call, schema, SCHEMA_VERSIONS[schema][-1])
        except uploads.Refused as refused:
            raise EdtError(refused.message, refused.status) from None
        return render(call, received.edt_transaction, received.version, replayed=received.replayed)

    def status(self, call: EdtCall, argument: str):
        """The transaction status query: only the agency's own transactions of this endpoint."""
        try:
            key = uuid.UUID(argument.strip("{}"))
        except ValueError:
            raise EdtError(f"'{argument}' is not a transaction key (a GUID).") from None
        found = EdtTransaction.objects.filter(
            key=key,
            endpoint=call.endpoint.acronym,
            environment=call.environment,
            regulator=call.regulator,
        ).first()
        if found is None:
            raise EdtError("There is no transaction of yours with that key here.", 404)
        self.accepted(call)
        return render(
            call,
            found,
            found.schema_version or SCHEMA_VERSIONS[call.endpoint.input_schema][-1],
            status_query=True,
        )


for _acronym in RESPONSES:
    serves(_acronym)(type(f"{_acronym}UploadView", (UploadView,), {"__module__": __name__}))
