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

Processing (``process``) happens exactly once. A short transaction claims the row (Queued, or
InProcess by a claim that died) and counts the attempt; then one transaction holds the row's
lock (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL) while the endpoint's processor runs
and the final status is written: the effects and the status commit together or not at all. A
worker that dies leaves only its counted attempt, and its lock dies with its connection, so a
redelivered message or the sweep takes the upload at once; after ``EDT_MAX_ATTEMPTS`` such
deaths it ends ErrorProcessing. One bad record rejects the whole upload with every guidance
message (Rejected: the data); an error in CERS's code is ErrorProcessing; an error of the
infrastructure (the database connection, the broker, the cache) is never final: the attempt is
given back and the upload is tried again. In the testing environment the processed changes are
rolled back and the outcome reported as it would be in production.

A client's own ``RegulatorTransactionKey`` is recorded with the transaction and echoed in its
answer; it is not a reason to answer another document. Only a retry, the same account sending
the same key with the same body (SHA-256, so the same mode and version) to the same endpoint in
the same environment, gets the first transaction's answer and is not processed again; two such
retries arriving together are processed once (a unique constraint on that tuple). A document
that differs in anything (a Commit after its Trial, a corrected upload, another facility) is
processed on its own, whatever key it carries.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from lxml import etree

from core import xmlsafe
from core.services import insert_values
from core.tasks import (
    BROKER_ERRORS,
    CLAIM_GRACE,
    has_row_locks,
    lost_messages,
    publish,
    publish_on_commit,
)
from core.xmlsafe import GuidanceLevel, GuidanceMessage

from . import zips
from .models import EdtEntityKey, EdtTransaction

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


ENTITY_KEYS_PER_CHUNK = 1000


class EntityKeys:
    """An upload's entity keys (``EdtEntityKey``), written ``ENTITY_KEYS_PER_CHUNK`` at a time
    as the processor reports them (``core.services.insert_values``, from their values: COPY
    on PostgreSQL), so the upload never holds more than one chunk of them, however many
    records it stores.

    They are written inside the processor's savepoint: an upload rejected, or failing, rolls
    them back with everything else, so only an accepted upload has keys, as its answer says.
    In the testing environment that savepoint is rolled back even on success, yet the answer
    still names what would have been stored: there the chunks go to a temporary file instead
    (``spooled``) and are written from it after the rollback (``settle``)."""

    def __init__(self, edt_transaction: EdtTransaction, *, spooled: bool = False):
        self.transaction_id = edt_transaction.pk
        self.buffer: list[tuple[str, str, str]] = []
        self.count = 0
        # Closed by ``close`` when the upload's run ends (``_run``), whatever its outcome.
        spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8") if spooled else None  # noqa: SIM115
        self._spool = spool

    def add(self, resource: str, cers_unique_key, regulator_key: str = "") -> None:
        self.buffer.append((resource, regulator_key or "", str(cers_unique_key)))
        if len(self.buffer) >= ENTITY_KEYS_PER_CHUNK:
            self.flush()

    def flush(self) -> None:
        """Write the keys held (to the spool, when spooled)."""
        if not self.buffer:
            return
        if self._spool is not None:
            self._spool.write(json.dumps(self.buffer) + "\n")
        else:
            self._insert(self.buffer)
        self.buffer = []

    def settle(self) -> None:
        """After the savepoint, for an accepted upload: write the spooled keys, a chunk at a
        time (nothing to do when they were written as they came)."""
        self.flush()
        if self._spool is None:
            return
        self._spool.seek(0)
        for line in self._spool:
            self._insert(json.loads(line))
        self.close()

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def _insert(self, chunk) -> None:
        start, self.count = self.count, self.count + len(chunk)
        insert_values(
            EdtEntityKey,
            ENTITY_KEY_COLUMNS,
            (
                (self.transaction_id, position, resource, regulator_key, cers_unique_key)
                for position, (resource, regulator_key, cers_unique_key) in enumerate(chunk, start)
            ),
            keys=False,
        )


# The columns ``EntityKeys`` writes of a key, from its values (no model object built).
ENTITY_KEY_COLUMNS = ("transaction_id", "position", "resource", "regulator_key", "cers_unique_key")


@dataclass
class UploadContext:
    """What a processor gets: the document (``data``, its bytes, checked when it was received;
    ``root``, the tree, parsed when first asked for: a processor that streams ``data`` never
    holds it), the caller, and where to report."""

    edt_transaction: EdtTransaction
    data: bytes
    version: str
    documents: dict[str, bytes]
    account: object
    regulator: object
    environment: str
    messages: list[GuidanceMessage] = field(default_factory=list)  # warnings, advisories
    result: list[etree._Element] = field(default_factory=list)  # endpoint-specific response
    keys: EntityKeys | None = field(default=None, repr=False)  # the answer's entity keys
    _root: etree._Element | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.keys is None:
            self.keys = EntityKeys(self.edt_transaction, spooled=self.environment == "testing")

    @property
    def root(self) -> etree._Element:
        if self._root is None:
            self._root = xmlsafe.parse_document(self.data).root
        return self._root

    @property
    def actor(self):
        """Audit events of an EDT upload name the EDT account's user."""
        return self.account.user

    def progress(self, done: int, total: int) -> None:
        """Report progress of a long upload (read by the transaction log page). The report is
        a hint beside the processing, not part of it: a cache that is down is logged and
        ignored, never a reason to fail the upload."""
        try:
            cache.set(progress_key(self.edt_transaction.key), (done, total), timeout=3600)
        except Exception as error:  # the cache backend's own errors: Redis down, timeouts
            log.warning(
                "progress of EDT upload %s not reported: %s", self.edt_transaction.key, error
            )

    def warn(self, message: str, *, code: int, level: str = GuidanceLevel.WARNING, **keys):
        self.messages.append(GuidanceMessage(code=code, level=level, message=message, **keys))

    def entity(self, resource: str, cers_unique_key, regulator_key: str = "") -> None:
        """One record the upload stored, for the answer's EntityKeys (``EntityKeys.add``)."""
        self.keys.add(resource, cers_unique_key, regulator_key)


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
    try:
        return cache.get(progress_key(edt_transaction.key))
    except Exception as error:  # the cache is down: no progress to show
        log.warning("progress of EDT upload %s not read: %s", edt_transaction.key, error)
        return None


def _forget_progress(key) -> None:
    if key is None:
        return
    try:
        cache.delete(progress_key(key))
    except Exception as error:
        log.warning("progress of EDT upload %s not cleared: %s", key, error)


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


def _refuse_wrapped(request) -> None:
    """Refuse, before reading it, a body that wraps the document rather than being it: a
    compressed body (IIS, CalEPA's server, does not uncompress one either) or a form whose part
    holds the file (``curl -F``). A body merely labelled a form is read: ``curl -d @data.xml``
    sends the file itself as ``application/x-www-form-urlencoded``."""
    encoding = request.headers.get("Content-Encoding", "").strip()
    if encoding.lower() not in ("", "identity"):
        raise Refused(
            f"The body is sent with Content-Encoding: {encoding}, which CERS does not "
            "uncompress: send the XML document as it is (documents, and a large document, in "
            "a ZIP package as application/zip). Nothing was stored.",
            415,
        )
    if (request.content_type or "").lower().startswith("multipart/"):
        raise Refused(
            "The body is a form (multipart/form-data, as curl -F sends) with the document as "
            "one of its parts: send the XML document itself as the body, with Content-Type: "
            "text/xml (curl --data-binary @data.xml -H 'Content-Type: text/xml'), or a ZIP "
            "package as application/zip. Nothing was stored.",
            415,
        )


def _body(request):
    """What to read the body from. A body sent in chunks (``Transfer-Encoding: chunked``: Java's
    and .NET's clients streaming a document of unknown length, Python's ``requests`` given a
    generator) has no Content-Length, and Django reads a body only as far as that says, so
    nothing. Servers that put the chunks together (gunicorn) say so with
    ``wsgi.input_terminated``: their input is then read to its end, bounded by the size limit
    as any body. A server that cannot (Django's own development server) leaves the chunks
    unread: the client is asked for a Content-Length rather than answered about an empty
    document."""
    meta = request.META
    if meta.get("CONTENT_LENGTH"):
        return request
    if meta.get("wsgi.input_terminated") and meta.get("wsgi.input") is not None:
        return meta["wsgi.input"]
    if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise Refused(
            "The body was sent in chunks (Transfer-Encoding: chunked), which this server "
            "cannot read: send it with a Content-Length header. Nothing was stored.",
            411,
        )
    return request


_UTF16 = (b"\xff\xfe", b"\xfe\xff")  # byte order marks


def _looks_like_zip(request, head: bytes) -> bool:
    """A ZIP package by its bytes, as CalEPA's server sniffs it: a body labelled a ZIP that
    begins as XML does (a vendor's label reused for every upload) is read as the XML it is."""
    if head.startswith(b"PK\x03\x04"):
        return True
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in ("application/zip", "application/x-zip-compressed"):
        return False
    return not (head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or head.startswith(_UTF16))


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
    _refuse_wrapped(request)
    declared = request.headers.get("Content-Length")
    # 0-9 only: str.isdigit() holds for "²" too, which int() refuses.
    declared = int(declared) if declared and declared.isascii() and declared.isdigit() else None
    # Past every limit the endpoint has, refused before a byte is read: a client waiting for
    # "100 Continue" hears the answer without sending its body.
    largest = max(zip_limit, xml_limit) if call.endpoint.accepts_zip else xml_limit
    if declared is not None and declared > largest:
        raise Refused(xmlsafe.TooLarge(largest).args[0] + " Nothing was stored.", 413)
    stream = _body(request)
    head = stream.read(4) if hasattr(stream, "read") else b""
    is_zip = call.endpoint.accepts_zip and _looks_like_zip(request, head)
    limit = zip_limit if is_zip else xml_limit
    if declared is not None and declared > limit:
        raise Refused(xmlsafe.TooLarge(limit).args[0] + " Nothing was stored.", 413)
    try:
        body = head + xmlsafe.read_limited(stream, limit - len(head))
    except xmlsafe.TooLarge as error:
        raise Refused(f"{error} Nothing was stored.", 413) from None
    if not body:
        message = (
            "The request has no body: send the XML document (or the ZIP package) as the body "
            "of the POST."
        )
        return _reject(edt_transaction, [_required(message)], default_version)

    if not is_zip:
        # Stored as it reads: the processing, later, has no Content-Type to go by.
        settled = xmlsafe.settle_encoding(body, request.content_params.get("charset"))
        if len(settled) > xml_limit:
            # A single-byte encoding written out in UTF-8 grows (an accented letter takes
            # two bytes): the limit holds for what is stored and processed.
            raise Refused(
                f"{xmlsafe.TooLarge(xml_limit)} The document is {len(body)} bytes as sent and "
                f"{len(settled)} bytes in UTF-8, as it is stored. Nothing was stored.",
                413,
            )
        body = settled
    data = body
    try:
        if is_zip:
            package = zips.open_package(body, max_total=zip_limit)
            data = xmlsafe.settle_encoding(package.xml)
            if len(data) > xml_limit:
                raise Refused(f"{xmlsafe.TooLarge(xml_limit)} (data.xml) Nothing was stored.", 413)
        parsed = xmlsafe.check_document(data, expected_schema=input_schema, collect=_read_aside)
        file_names = [text for kind, text in parsed.collected if kind == "file"]
        if is_zip:
            zips.check_references(package, file_names)
    except zips.PackageRejected as error:
        return _reject(edt_transaction, [_required(str(error.args[0]))], default_version)
    except xmlsafe.XmlRejected as error:
        return _reject(edt_transaction, [error.as_guidance()], default_version)
    if not is_zip and file_names:
        message = "The XML references documents; send them in a ZIP package with data.xml."
        return _reject(edt_transaction, [_required(message)], parsed.version)

    if parsed.problems:
        return _reject(edt_transaction, parsed.problems, parsed.version)

    keys = [text for kind, text in parsed.collected if kind == "key"]
    client_key = (keys[0] if keys else "").strip()[:36]
    upload = {
        "client_key": client_key,
        "content_hash": hashlib.sha256(body).hexdigest(),
        "mode": next((text for kind, text in parsed.collected if kind == "mode"), "")[:6],
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

            publish_on_commit(process_upload, EdtTransaction, [edt_transaction.pk])
    except IntegrityError:
        # The same upload arrived concurrently: answer with the one that got in first.
        first = _first_of(edt_transaction, upload)
        _mark_replay(edt_transaction, first)
        return Received(first, first.schema_version or parsed.version, replayed=True)

    if len(body) <= settings.EDT_INLINE_MAX_BYTES:
        process(edt_transaction.pk)
    edt_transaction.refresh_from_db()
    return Received(edt_transaction, parsed.version)


def _read_aside(element: etree._Element) -> tuple[str, str] | None:
    """What ``receive`` needs from the document besides its validity, read while it streams
    past: the names of the documents it references (``zips.referenced_file_names``: every
    element whose name ends in ``FileName``) and the client's ``RegulatorTransactionKey`` (a
    child of the root), and the root's ``mode`` attribute."""
    tag = element.tag
    if not isinstance(tag, str):
        return None
    if element.getparent() is None:
        return ("mode", element.get("mode", ""))
    if tag.endswith("FileName") and (element.text or "").strip():
        return ("file", element.text.strip())
    if tag == "RegulatorTransactionKey" and element.getparent().getparent() is None:
        return ("key", element.text or "")
    return None


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


# Errors of the infrastructure, not of the upload's data or CERS's code: the database
# connection or the broker failed. They never end an upload; it is tried again.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, *BROKER_ERRORS)


def _claimable(now):
    """An upload that may be taken: queued, or in process by a claim that died. On PostgreSQL a
    live claim holds the row's lock (skipped), so any claim found unlocked is dead; without row
    locks (SQLite) a claim older than ``EDT_CLAIM_LEASE`` is taken to be."""
    if has_row_locks():
        return Q(status=Status.QUEUED) | Q(status=Status.IN_PROCESS)
    lease = timedelta(seconds=settings.EDT_CLAIM_LEASE)
    return Q(status=Status.QUEUED) | Q(status=Status.IN_PROCESS, started_at__lt=now - lease)


def _locked(queryset):
    """Lock the transaction rows only (not the account or agency joined to them)."""
    if has_row_locks():
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def claim(pk: int) -> int | None:
    """Take an upload for processing and count the attempt (committed at once, so a worker that
    dies still used it). Returns the attempt number, the claim's token; None if another worker
    holds it, it is done, or it ends here as a poison upload after ``EDT_MAX_ATTEMPTS``."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            _locked(EdtTransaction.objects.filter(_claimable(now), pk=pk))
            .only("pk", "key", "status", "attempts")
            .first()
        )
        if row is None:
            return None
        if row.attempts >= settings.EDT_MAX_ATTEMPTS:
            log.error("EDT upload %s stopped %s times: given up", row.key, row.attempts)
            _finish(
                pk,
                Status.ERROR_PROCESSING,
                [
                    _required(
                        f"Processing was started {row.attempts} times and stopped each time "
                        "before it finished (the worker was stopped or ran out of memory); "
                        "nothing was stored. Resending the same document will most likely stop "
                        f"again: quote transaction key {row.key} to support."
                    )
                ],
            )
            return None
        attempt = row.attempts + 1
        EdtTransaction.objects.filter(pk=pk).update(
            status=Status.IN_PROCESS, started_at=now, attempts=attempt
        )
    return attempt


def process(pk: int) -> str:
    """Process one upload, all or nothing, exactly once. Safe to call any number of times.

    The processing and the final status commit in one transaction that holds the upload's row
    lock: a worker that dies leaves nothing but its counted attempt, and its lock dies with its
    connection, so the next call (a redelivered task, the sweep) takes the upload at once.
    Returns "done", "skipped" (not claimable: done, or held by a live worker) or "retry" (an
    infrastructure error: the attempt is given back and the upload is queued again; or the
    upload is still Queued but its row was held for a moment by another transaction, such as
    the request that queued it or another worker's claim: it is tried again shortly rather
    than left to the sweep).
    """
    attempt = claim(pk)
    if attempt is None:
        if EdtTransaction.objects.filter(pk=pk, status=Status.QUEUED).exists():
            log.info("EDT upload %s: its row was held elsewhere at the claim; tried again", pk)
            return "retry"
        return "skipped"
    key = None
    fault_point("claimed", pk)
    try:
        with transaction.atomic():
            edt_transaction = (
                _locked(
                    EdtTransaction.objects.filter(pk=pk, status=Status.IN_PROCESS, attempts=attempt)
                )
                .select_related("account__user", "account__regulator", "regulator")
                .first()
            )
            if edt_transaction is None:  # taken over between the claim and this lock
                return "skipped"
            key = edt_transaction.key
            status, messages, context = _run(edt_transaction)
            fields = {}
            if context is not None and context.result:
                fields["result_xml"] = "".join(
                    etree.tostring(element, encoding="unicode") for element in context.result
                )
            _finish(pk, status, messages, **fields)
            fault_point("before-commit", pk)
        fault_point("after-commit", pk)
    except INFRASTRUCTURE_ERRORS as error:
        log.warning("EDT upload %s: infrastructure error, retried later: %s", key or pk, error)
        _give_back(pk, attempt)
        return "retry"
    _forget_progress(key)
    return "done"


@functools.cache
def fault_points(value: str) -> dict[str, float]:
    """``CERS_FAULT_HOOK``'s "point=seconds,..." as a dict (malformed entries are ignored)."""
    points = {}
    for item in value.split(","):
        name, _, seconds = item.partition("=")
        try:
            points[name.strip()] = float(seconds)
        except ValueError:
            continue
    return points


def fault_point(name: str, pk: int) -> None:
    """Test-only: inert unless ``CERS_FAULT_HOOK`` names this point ("claimed", after the claim
    committed; "before-commit", the effects and the final status written but not committed;
    "after-commit", committed but the task not yet acknowledged). Then it logs that the point
    was reached, with the process id, and sleeps, so a fault harness (tools/faults.py) can kill
    the worker exactly there."""
    seconds = fault_points(settings.CERS_FAULT_HOOK).get(name) if settings.CERS_FAULT_HOOK else 0
    if seconds:
        log.warning("fault point %s reached: upload %s, process %s", name, pk, os.getpid())
        time.sleep(seconds)


def _run(edt_transaction) -> tuple[int, list[GuidanceMessage], UploadContext | None]:
    """Run the processor in a savepoint of the caller's transaction; return the outcome.
    Infrastructure errors propagate (the caller rolls everything back and retries). The
    entity keys are written with the effects (``EntityKeys``): the last chunk before the
    savepoint ends, so a rejected upload leaves none."""
    processor = PROCESSORS.get(edt_transaction.endpoint)
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
                context.keys.flush()
                if edt_transaction.environment == "testing":
                    raise _RollBack
        except _RollBack:
            pass
        with transaction.atomic():  # the testing environment's keys, kept aside from the rollback
            context.keys.settle()
        return Status.ACCEPTED, context.messages, context
    except UploadRejected as rejected:
        messages = [*(context.messages if context else []), *rejected.messages]
        if context is not None:
            context.result = rejected.result
        return Status.REJECTED, messages, context
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception:
        log.exception("EDT upload %s failed", edt_transaction.key)
        message = (
            "CERS could not process this transaction because of an error in CERS itself; "
            "nothing was stored. Resending the same document will not help until it is "
            f"corrected: quote transaction key {edt_transaction.key} to support."
        )
        return Status.ERROR_PROCESSING, [_required(message)], None
    finally:
        if context is not None:
            context.keys.close()


def _finish(pk: int, status: int, messages: list[GuidanceMessage], **fields) -> None:
    EdtTransaction.objects.filter(pk=pk).update(
        status=status,
        completed_at=timezone.now(),
        messages=[message_dict(m) for m in messages],
        **fields,
    )


def _give_back(pk: int, attempt: int) -> None:
    """After an infrastructure error: queue the upload again without counting the attempt.
    Best effort: with the database gone too, the claim stays and the sweep recovers it."""
    try:
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()  # a connection the error broke goes
        EdtTransaction.objects.filter(pk=pk, status=Status.IN_PROCESS, attempts=attempt).update(
            status=Status.QUEUED, attempts=attempt - 1
        )
    except INFRASTRUCTURE_ERRORS as error:
        log.warning("EDT upload %s: could not queue it again (the sweep will): %s", pk, error)


def _context(edt_transaction: EdtTransaction) -> UploadContext:
    with edt_transaction.payload.open("rb") as stored:
        body = stored.read()
    documents: dict[str, bytes] = {}
    data = body
    if edt_transaction.is_zip:
        package = zips.open_package(body, max_total=settings.EDT_MAX_ZIP_BYTES)
        data, documents = xmlsafe.settle_encoding(package.xml), package.documents
    return UploadContext(
        edt_transaction=edt_transaction,
        data=data,
        version=xmlsafe.document_version(data),
        documents=documents,
        account=edt_transaction.account,
        regulator=edt_transaction.regulator,
        environment=edt_transaction.environment,
        messages=xmlsafe.misdeclared_utf8(data),
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


def _queued_stranded() -> timedelta:
    """A queued upload whose message left this long ago is published again whatever the
    broker's queue holds (a long queue, or a broker that cannot be asked)."""
    return timedelta(seconds=settings.EDT_QUEUED_STRANDED)


def _dead_claims(now) -> list[int]:
    """Uploads in process whose worker died: on PostgreSQL, those nobody holds the lock of
    (after a grace covering the moment between a claim and its lock); elsewhere, after the
    lease."""
    if has_row_locks():
        rows = EdtTransaction.objects.select_for_update(skip_locked=True).filter(
            status=Status.IN_PROCESS, started_at__lt=now - CLAIM_GRACE
        )
    else:
        lease = timedelta(seconds=settings.EDT_CLAIM_LEASE)
        rows = EdtTransaction.objects.filter(status=Status.IN_PROCESS, started_at__lt=now - lease)
    return list(rows.values_list("pk", flat=True)[:1000])


def sweep() -> int:
    """Re-enqueue uploads stranded by a dead worker, a lost message or a broker that was down;
    the claim ends one that keeps killing its worker (``EDT_MAX_ATTEMPTS``). A queued upload's
    message is taken to be lost as ``core.tasks.lost_messages`` says: the broker's queue empty
    and the message published more than ``CERS_MESSAGE_GRACE`` ago, or published more than
    ``EDT_QUEUED_STRANDED`` ago, or never published. Returns how many were enqueued. Run by
    celery beat every ``CERS_SWEEP_SECONDS``, and when a worker starts."""
    from .tasks import process_upload

    now = timezone.now()
    with transaction.atomic():
        dead = _dead_claims(now)
    queued = lost_messages(
        process_upload,
        EdtTransaction.objects.filter(status=Status.QUEUED).exclude(payload=""),
        published_since="received_at",
        stranded=_queued_stranded(),
    )
    # The broker down: what was not published is tried again by the next sweep.
    return len(publish(process_upload, EdtTransaction, [*dead, *queued]))
