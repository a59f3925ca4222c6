"""Uploads to the EDT services: received and checked in the request, processed all or nothing.

In the request (``receive``): the body is read up to its size limit; a ZIP package is opened and
checked (names, types, sizes, ratio, references); the XML is parsed by the hardened parser, its
root namespace picks the schema version, and the document is validated against it. A document
that fails any of this is answered at once with the response envelope, status Rejected, listing
every guidance message; nothing is stored but the transaction log row. A document that passes is
written beside its transaction row (the row is the outbox: the database, not the broker, records
every upload), and a Celery task is enqueued after commit. Small uploads are processed within the
request, as CERS does; large ones answer Queued with the transaction key, and the status query
(GET on the endpoint's path with the key) answers later.

Processing (``process``): the row is claimed with a conditional UPDATE, so a message delivered
twice processes once; the endpoint's processor runs in one database transaction, and one bad
record rejects the whole upload with every guidance message. In the testing environment the
processed changes are rolled back and the outcome reported as it would be in production.

A client's own ``RegulatorTransactionKey`` is recorded with the transaction and echoed in its
answer; it is not a reason to answer another document. Only a retry, the same account sending
the same key with the same body (SHA-256, so the same mode and version) to the same endpoint in
the same environment, gets the first transaction's answer and is not processed again; two such
retries arriving together are processed once (a unique constraint on that tuple). A document
that differs in anything (a Commit after its Trial, a corrected upload, another facility) is
processed on its own, whatever key it carries.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from lxml import etree

from core import xmlsafe
from core.xmlsafe import GuidanceLevel, GuidanceMessage

from . import zips
from .models import EdtTransaction

log = logging.getLogger(__name__)
Status = EdtTransaction.Status


class UploadRejected(Exception):
    """A processor found records that cannot be stored: the whole upload is rejected.

    ``result``: endpoint-specific parts the answer carries even so (RFC's potential duplicates).
    """

    def __init__(self, messages: list[GuidanceMessage], result: list | None = None):
        super().__init__("; ".join(m.message for m in messages))
        self.messages = messages
        self.result = list(result or [])


@dataclass
class UploadContext:
    """What a processor gets: the parsed document, the caller, and where to report."""

    edt_transaction: EdtTransaction
    root: etree._Element
    version: str
    documents: dict[str, bytes]
    account: object
    regulator: object
    environment: str
    messages: list[GuidanceMessage] = field(default_factory=list)  # warnings, advisories
    entity_keys: list[dict] = field(default_factory=list)
    result: list[etree._Element] = field(default_factory=list)  # endpoint-specific response

    @property
    def actor(self):
        """Audit events of an EDT upload name the EDT account's user."""
        return self.account.user

    def progress(self, done: int, total: int) -> None:
        """Report progress of a long upload (read by the transaction log page)."""
        cache.set(progress_key(self.edt_transaction.key), (done, total), timeout=3600)

    def warn(self, message: str, *, code: int, level: str = GuidanceLevel.WARNING, **keys):
        self.messages.append(GuidanceMessage(code=code, level=level, message=message, **keys))

    def entity(self, resource: str, cers_unique_key, regulator_key: str = "") -> None:
        self.entity_keys.append(
            {
                "resource": resource,
                "regulator_key": regulator_key,
                "cers_unique_key": str(cers_unique_key),
            }
        )


Processor = Callable[[UploadContext], None]
PROCESSORS: dict[str, Processor] = {}


def processes(acronym: str):
    """Decorator: ``function(context)`` processes uploads to the endpoint ``acronym``; it raises
    ``UploadRejected`` with every problem found, or returns having stored everything."""

    def register(function: Processor) -> Processor:
        PROCESSORS[acronym] = function
        return function

    return register


def progress_key(key) -> str:
    return f"edt:progress:{key}"


def progress_of(edt_transaction: EdtTransaction) -> tuple[int, int] | None:
    return cache.get(progress_key(edt_transaction.key))


# --- receiving ---------------------------------------------------------------------------


@dataclass
class Received:
    """The outcome of checking an upload in the request."""

    edt_transaction: EdtTransaction
    version: str  # the input schema version, which picks the response version
    replayed: bool = False


class Refused(Exception):
    """Refused before any XML could be read (too large): a plain answer with ``status``."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message, self.status = message, status


def _looks_like_zip(request, head: bytes) -> bool:
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type in ("application/zip", "application/x-zip-compressed") or head.startswith(
        b"PK\x03\x04"
    )


def _reject(edt_transaction, messages: list[GuidanceMessage], version: str) -> Received:
    EdtTransaction.objects.filter(pk=edt_transaction.pk).update(
        status=Status.REJECTED,
        messages=[message_dict(m) for m in messages],
        schema_version=version,
        completed_at=timezone.now(),
    )
    edt_transaction.refresh_from_db()
    return Received(edt_transaction, version)


def message_dict(message: GuidanceMessage) -> dict:
    return {
        "code": message.code,
        "level": message.level,
        "message": message.message,
        "location": message.location,
        "entity_resource": message.entity_resource,
        "regulator_key": message.regulator_key,
        "cers_unique_key": message.cers_unique_key,
    }


def receive(call, input_schema: str, default_version: str) -> Received:
    """Check an upload in the request and queue it; see the module docstring."""
    edt_transaction = call.transaction
    request = call.request
    zip_limit, xml_limit = settings.EDT_MAX_ZIP_BYTES, settings.EDT_MAX_XML_BYTES
    declared = request.headers.get("Content-Length")
    head = request.read(4) if hasattr(request, "read") else b""
    is_zip = call.endpoint.accepts_zip and _looks_like_zip(request, head)
    limit = zip_limit if is_zip else xml_limit
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(xmlsafe.TooLarge(limit).args[0] + " Nothing was stored.", 413)
    try:
        body = head + xmlsafe.read_limited(request, limit - len(head))
    except xmlsafe.TooLarge as error:
        raise Refused(f"{error} Nothing was stored.", 413) from None

    data = body
    try:
        if is_zip:
            package = zips.open_package(body, max_total=zip_limit)
            data = package.xml
            if len(data) > xml_limit:
                raise Refused(f"{xmlsafe.TooLarge(xml_limit)} (data.xml) Nothing was stored.", 413)
        parsed = xmlsafe.parse_document(data, expected_schema=input_schema)
        if is_zip:
            zips.check_references(package, zips.referenced_file_names(parsed.root))
    except zips.PackageRejected as error:
        return _reject(edt_transaction, [_required(str(error.args[0]))], default_version)
    except xmlsafe.XmlRejected as error:
        return _reject(edt_transaction, [error.as_guidance()], default_version)
    if not is_zip and zips.referenced_file_names(parsed.root):
        message = "The XML references documents; send them in a ZIP package with data.xml."
        return _reject(edt_transaction, [_required(message)], parsed.version)

    problems = xmlsafe.validate(parsed, parsed.schema())
    if problems:
        return _reject(edt_transaction, problems, parsed.version)

    client_key = (parsed.root.findtext("RegulatorTransactionKey") or "").strip()[:36]
    upload = {
        "client_key": client_key,
        "content_hash": hashlib.sha256(body).hexdigest(),
        "mode": parsed.root.get("mode", "")[:6],
    }
    retry = client_key and edt_transaction.account_id is not None
    if retry and (first := _first_of(edt_transaction, upload)) is not None:
        _mark_replay(edt_transaction, first)
        return Received(first, first.schema_version or parsed.version, replayed=True)

    name = f"{edt_transaction.key}.{'zip' if is_zip else 'xml'}"
    try:
        with transaction.atomic():
            for attribute, value in upload.items():
                setattr(edt_transaction, attribute, value)
            edt_transaction.status = Status.QUEUED
            edt_transaction.schema_version = parsed.version
            edt_transaction.is_zip = is_zip
            edt_transaction.payload_bytes = len(body)
            edt_transaction.payload.save(name, ContentFile(body), save=False)
            edt_transaction.save(
                update_fields=[
                    *upload,
                    "status",
                    "schema_version",
                    "is_zip",
                    "payload",
                    "payload_bytes",
                ]
            )
            from .tasks import process_upload

            process_upload.delay_on_commit(edt_transaction.pk)
    except IntegrityError:
        # The same upload arrived concurrently: answer with the one that got in first.
        first = _first_of(edt_transaction, upload)
        _mark_replay(edt_transaction, first)
        return Received(first, first.schema_version or parsed.version, replayed=True)

    if len(body) <= settings.EDT_INLINE_MAX_BYTES:
        process(edt_transaction.pk)
    edt_transaction.refresh_from_db()
    return Received(edt_transaction, parsed.version)


def _first_of(edt_transaction, upload: dict) -> EdtTransaction | None:
    """The earlier transaction this upload retries, if any (see the module docstring)."""
    return (
        EdtTransaction.objects.filter(
            account_id=edt_transaction.account_id,
            endpoint=edt_transaction.endpoint,
            environment=edt_transaction.environment,
            **upload,
        )
        .exclude(pk=edt_transaction.pk)
        .order_by("received_at", "pk")
        .first()
    )


def _mark_replay(edt_transaction, first) -> None:
    EdtTransaction.objects.filter(pk=edt_transaction.pk).update(
        status=Status.REJECTED,
        completed_at=timezone.now(),
        messages=[
            {
                "code": 0,
                "level": GuidanceLevel.ADVISORY,
                "message": f"A resubmission of transaction {first.key}; answered with its result.",
            }
        ],
    )


def _required(message: str, code: int = xmlsafe.XML_SCHEMA_VALIDATION_ERROR) -> GuidanceMessage:
    return GuidanceMessage(code=code, level=GuidanceLevel.REQUIRED, message=message)


# --- processing ----------------------------------------------------------------------------


class _RollBack(Exception):
    """Raised to undo a testing-environment upload after it was processed successfully."""


def claim(pk: int) -> bool:
    """Take a queued upload for processing; False if another worker has it or it is done."""
    return bool(
        EdtTransaction.objects.filter(pk=pk, status=Status.QUEUED).update(
            status=Status.IN_PROCESS, started_at=timezone.now(), attempts=F("attempts") + 1
        )
    )


def process(pk: int) -> None:
    """Process one queued upload, all or nothing. Safe to call twice."""
    if not claim(pk):
        return
    edt_transaction = EdtTransaction.objects.select_related(
        "account__user", "account__regulator", "regulator"
    ).get(pk=pk)
    processor = PROCESSORS.get(edt_transaction.endpoint)
    status, messages, result = Status.ACCEPTED, [], []
    context = None
    try:
        if processor is None:
            raise UploadRejected(
                [_required(f"{edt_transaction.endpoint} uploads are not processed yet.")]
            )
        context = _context(edt_transaction)
        try:
            with transaction.atomic():
                processor(context)
                if edt_transaction.environment == "testing":
                    raise _RollBack
        except _RollBack:
            pass
        messages, result = context.messages, context.result
    except UploadRejected as rejected:
        status = Status.REJECTED
        messages = [*(context.messages if context else []), *rejected.messages]
        result = rejected.result
    except Exception:
        log.exception("EDT upload %s failed", edt_transaction.key)
        status = Status.ERROR_PROCESSING
        messages = [
            _required(
                "CERS could not process this transaction because of an error on its side; "
                f"nothing was stored. Quote transaction key {edt_transaction.key} to support."
            )
        ]
    fields = {
        "status": status,
        "completed_at": timezone.now(),
        "messages": [message_dict(m) for m in messages],
    }
    if status == Status.ACCEPTED and context is not None:
        fields["entity_keys"] = context.entity_keys
    if result:
        fields["result_xml"] = "".join(
            etree.tostring(element, encoding="unicode") for element in result
        )
    EdtTransaction.objects.filter(pk=pk).update(**fields)
    cache.delete(progress_key(edt_transaction.key))


def _context(edt_transaction: EdtTransaction) -> UploadContext:
    with edt_transaction.payload.open("rb") as stored:
        body = stored.read()
    documents: dict[str, bytes] = {}
    data = body
    if edt_transaction.is_zip:
        package = zips.open_package(body, max_total=settings.EDT_MAX_ZIP_BYTES)
        data, documents = package.xml, package.documents
    parsed = xmlsafe.parse_document(data)
    return UploadContext(
        edt_transaction=edt_transaction,
        root=parsed.root,
        version=parsed.version,
        documents=documents,
        account=edt_transaction.account,
        regulator=edt_transaction.regulator,
        environment=edt_transaction.environment,
    )


def queue_position(edt_transaction: EdtTransaction) -> int | None:
    if edt_transaction.status != Status.QUEUED:
        return None
    return (
        EdtTransaction.objects.filter(
            status=Status.QUEUED, received_at__lt=edt_transaction.received_at
        ).count()
        + 1
    )


# A queued upload whose message has not started it this long after arriving was lost; one in
# process longer than the task time limit belongs to a worker that died.
QUEUED_STRANDED = timedelta(minutes=2)
MAX_ATTEMPTS = 3


def _stale_claim() -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + timedelta(minutes=5)


def sweep() -> int:
    """Re-enqueue uploads stranded by a lost publish, a Redis restart or a dead worker; give up
    (ErrorProcessing) after ``MAX_ATTEMPTS``. Returns how many were re-enqueued."""
    from .tasks import process_upload

    now = timezone.now()
    stuck = EdtTransaction.objects.filter(
        status=Status.IN_PROCESS, started_at__lt=now - _stale_claim()
    )
    stuck.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=Status.ERROR_PROCESSING,
        completed_at=timezone.now(),
        messages=[
            message_dict(_required("Processing did not finish after several attempts; retry."))
        ],
    )
    stuck.filter(attempts__lt=MAX_ATTEMPTS).update(status=Status.QUEUED)
    queued = list(
        EdtTransaction.objects.filter(status=Status.QUEUED, received_at__lt=now - QUEUED_STRANDED)
        .exclude(payload="")
        .values_list("pk", flat=True)[:1000]
    )
    for pk in queued:
        process_upload.delay(pk)
    return len(queued)
