"""Uploads over HTTP: checked in the request, processed all or nothing, answered with the
response envelope; resubmissions, queued work, the status query, hostile input."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from lxml import etree

from core.models import AuditEvent
from core.services import record_event
from core.xmlsafe import GuidanceMessage
from edt import uploads
from edt.models import EdtTransaction
from edt.uploads import UploadRejected

from .conftest import assert_valid, content, legacy_header

CME_NS = "http://cersservices.calepa.ca.gov/Schemas/RegulatorCMESubmit/1/05/"
URL = "/EDT/Regulator/CME/Submit?regulatorCode=1001"


def cme_document(client_key: str = "", body: str = "") -> bytes:
    key = f"<RegulatorTransactionKey>{client_key}</RegulatorTransactionKey>" if client_key else ""
    return (
        f'<?xml version="1.0"?><cers:CMESubmittals xmlns:cers="{CME_NS}">{key}{body}'
        "</cers:CMESubmittals>"
    ).encode()


@pytest.fixture
def processed(monkeypatch):
    """A stand-in CME processor that stores one audit event per call: what it stored shows
    whether a transaction was kept or rolled back."""
    calls = []

    def processor(context):
        calls.append(context.edt_transaction.key)
        record_event(context.actor, "test.stored", context.regulator, regulator=context.regulator)
        context.entity("CMEI", "5c8f4f63-2d77-4a1f-9d3c-6d0d5e0a1b2c", "INSP-1")
        if context.root.findtext("RegulatorTransactionKey") == "bad":
            raise UploadRejected(
                [GuidanceMessage(1050, "Required", "Violation type 123 does not exist.")]
            )
        if context.root.findtext("RegulatorTransactionKey") == "boom":
            raise RuntimeError("disk on fire")

    monkeypatch.setitem(uploads.PROCESSORS, "RCMES", processor)
    return calls


def post(client, account, body: bytes, url: str = URL, **extra):
    return client.post(url, body, content_type="text/xml", **legacy_header(account), **extra)


def stored():
    return AuditEvent.objects.filter(action="test.stored").count()


def parse(response):
    return assert_valid(content(response), "cers3", "RegulatorCMESubmitResponse.xsd")


def test_an_accepted_upload_is_stored_and_answered_with_the_envelope(
    client, edt_account, processed
):
    response = post(client, edt_account, cme_document("client-1"))
    assert response.status_code == 200
    root = parse(response)
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert root.findtext("Transaction/RegulatorTransactionKey") == "client-1"
    assert root.findtext("EntityKeys/EntityKey/RegulatorKey") == "INSP-1"
    assert stored() == 1
    row = EdtTransaction.objects.get(key=root.findtext("Transaction/TransactionKey"))
    assert (row.status, row.schema_version, row.endpoint) == (2, "1/05", "RCMES")


def test_one_bad_record_rejects_the_whole_upload_and_stores_nothing(client, edt_account, processed):
    response = post(client, edt_account, cme_document("bad"))
    root = parse(response)
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    message = root.find("GuidanceMessages/GuidanceMessage")
    assert (message.get("guidanceCode"), message.get("level")) == ("1050", "Required")
    assert "Violation type 123 does not exist." in message.text
    assert stored() == 0


def test_a_processing_failure_is_error_processing_and_stores_nothing(
    client, edt_account, processed
):
    root = parse(post(client, edt_account, cme_document("boom")))
    assert root.findtext("Transaction/TransactionStatus") == "ErrorProcessing"
    assert "nothing was stored" in root.findtext("GuidanceMessages/GuidanceMessage")
    assert stored() == 0


def test_the_testing_environment_processes_then_rolls_back(client, edt_account, processed):
    staging = "/Staging/Regulator/CME/Submit?regulatorCode=1001"
    root = parse(post(client, edt_account, cme_document("try"), url=staging))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert len(processed) == 1
    assert stored() == 0


def test_the_same_client_key_twice_is_processed_once(client, edt_account, processed):
    first = parse(post(client, edt_account, cme_document("same-key")))
    again = post(client, edt_account, cme_document("same-key"))
    assert again["X-CERS-Replayed"] == "true"
    second = parse(again)
    assert len(processed) == 1
    assert stored() == 1
    assert second.findtext("Transaction/TransactionKey") == first.findtext(
        "Transaction/TransactionKey"
    )
    assert second.findtext("Transaction/TransactionStatus") == "Accepted"


def test_the_same_key_with_other_content_is_processed_on_its_own(client, edt_account, processed):
    first = parse(post(client, edt_account, cme_document("same-key")))
    other = post(client, edt_account, cme_document("same-key") + b"\n")  # one byte more
    assert "X-CERS-Replayed" not in other
    second = parse(other)
    assert len(processed) == 2
    assert stored() == 2
    assert second.findtext("Transaction/TransactionKey") != first.findtext(
        "Transaction/TransactionKey"
    )
    assert second.findtext("Transaction/RegulatorTransactionKey") == "same-key"
    rows = EdtTransaction.objects.filter(client_key="same-key")
    assert len({row.content_hash for row in rows}) == 2


def test_a_rejected_upload_corrected_under_the_same_key_gets_its_own_answer(
    client, edt_account, processed
):
    first = parse(post(client, edt_account, cme_document("bad")))
    assert first.findtext("Transaction/TransactionStatus") == "Rejected"
    retried = parse(post(client, edt_account, cme_document("bad")))  # a retry: the same answer
    assert retried.findtext("Transaction/TransactionKey") == first.findtext(
        "Transaction/TransactionKey"
    )
    assert len(processed) == 1

    corrected = cme_document("bad").replace(b'<?xml version="1.0"?>', b"")
    answer = parse(post(client, edt_account, corrected))
    assert len(processed) == 2  # processed, not answered with the old rejection
    assert answer.findtext("Transaction/TransactionKey") != first.findtext(
        "Transaction/TransactionKey"
    )


def test_the_same_upload_from_another_account_or_environment_is_processed_on_its_own(
    client, edt_account, processed
):
    from .conftest import make_edt_account

    body = cme_document("shared-key")
    parse(post(client, edt_account, body))
    colleague = make_edt_account("1001", "sac_edt_two", "1-6", "both")
    assert "X-CERS-Replayed" not in post(client, colleague, body)
    staging = "/Staging/Regulator/CME/Submit?regulatorCode=1001"
    assert "X-CERS-Replayed" not in post(client, edt_account, body, url=staging)
    assert len(processed) == 3
    assert post(client, colleague, body)["X-CERS-Replayed"] == "true"  # its own retry
    assert len(processed) == 3


def test_two_identical_uploads_arriving_together_are_processed_once(
    client, edt_account, processed, monkeypatch
):
    """The second retry looks before the first is stored (both requests check at once): the
    database's constraint on the retried upload stops it, and it answers with the first."""
    body = cme_document("together")
    first = parse(post(client, edt_account, body))
    looked = []

    def not_yet_stored(edt_transaction, upload):
        if not looked:
            looked.append(upload)
            return None
        return first_of(edt_transaction, upload)

    first_of = uploads._first_of
    monkeypatch.setattr(uploads, "_first_of", not_yet_stored)
    again = post(client, edt_account, body)
    assert looked  # the early look missed the first upload
    assert again["X-CERS-Replayed"] == "true"
    assert parse(again).findtext("Transaction/TransactionKey") == first.findtext(
        "Transaction/TransactionKey"
    )
    assert len(processed) == 1
    assert stored() == 1


def test_a_large_upload_is_queued_and_its_status_answered_later(
    client, edt_account, processed, settings, monkeypatch
):
    settings.EDT_INLINE_MAX_BYTES = 10

    enqueued = []
    monkeypatch.setattr(uploads, "publish_on_commit", lambda task, model, pks: enqueued.extend(pks))
    root = parse(post(client, edt_account, cme_document("big")))
    status = root.find("Transaction/TransactionStatus")
    assert (status.text, status.get("queuePosition")) == ("Queued", "1")
    assert processed == [] and len(enqueued) == 1
    detail = root.findtext("Transaction/DetailUri")
    assert "/EDT/Regulator/CME/Submit/" in detail

    path = detail.split("testserver", 1)[1]
    queued = parse(client.get(path, **legacy_header(edt_account)))
    assert queued.findtext("Transaction/TransactionStatus") == "Queued"

    uploads.process(enqueued[0])  # what the worker does
    uploads.process(enqueued[0])  # a redelivered message does nothing
    done = parse(client.get(path, **legacy_header(edt_account)))
    assert done.findtext("Transaction/TransactionStatus") == "Accepted"
    assert len(processed) == 1


def test_another_agency_cannot_read_a_transactions_status(client, cast, edt_account, processed):
    from .conftest import make_edt_account

    root = parse(post(client, edt_account, cme_document("mine")))
    key = root.findtext("Transaction/TransactionKey")
    other = make_edt_account("1002", "yolo_edt", "1-6", "both")
    response = client.get(
        f"/EDT/Regulator/CME/Submit/{key}?regulatorCode=1002", **legacy_header(other)
    )
    assert response.status_code == 404


def test_the_sweep_re_enqueues_a_stranded_upload(client, edt_account, processed, monkeypatch):
    from edt import tasks

    monkeypatch.setattr(uploads, "publish_on_commit", lambda task, model, pks: None)
    import django.conf

    monkeypatch.setattr(django.conf.settings, "EDT_INLINE_MAX_BYTES", 0)
    post(client, edt_account, cme_document("lost"))
    row = EdtTransaction.objects.get(client_key="lost")
    assert uploads.sweep() == 0  # not stranded yet
    EdtTransaction.objects.filter(pk=row.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    sent = []
    monkeypatch.setattr(tasks.process_upload, "delay", sent.append)
    assert uploads.sweep() == 1
    assert sent == [row.pk]


# --- refused in the request: nothing stored -------------------------------------------------

HOSTILE = {
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + f'<cers:CMESubmittals xmlns:cers="{CME_NS}"><RegulatorTransactionKey>&e;'.encode()
        + b"</RegulatorTransactionKey></cers:CMESubmittals>"
    ),
    "entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + f'<cers:CMESubmittals xmlns:cers="{CME_NS}"><RegulatorTransactionKey>&b;'.encode()
        + b"</RegulatorTransactionKey></cers:CMESubmittals>"
    ),
    "deep nesting": cme_document(body="<a>" * 300 + "</a>" * 300),
    "wrong namespace": b'<CMESubmittals xmlns="http://example.com/other/"/>',
    "not well formed": cme_document()[:-5],
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_refused_with_a_message_and_nothing_stored(
    client, edt_account, processed, name
):
    response = post(client, edt_account, HOSTILE[name])
    assert response.status_code == 200
    root = parse(response)
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert root.findtext("GuidanceMessages/GuidanceMessage")
    assert processed == []
    row = EdtTransaction.objects.get()
    assert not row.payload
    assert b"root:" not in content(response)  # /etc/passwd was never read


def test_a_schema_invalid_document_lists_its_errors_with_lines(client, edt_account, processed):
    body = cme_document(body="<Inspections><Nonsense/></Inspections>")
    root = parse(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    message = root.find("GuidanceMessages/GuidanceMessage")
    assert message.get("guidanceCode") == "1066"
    assert "Nonsense" in message.text and "line 1" in message.text


def test_a_body_over_the_limit_is_413_and_nothing_stored(client, edt_account, processed, settings):
    settings.EDT_MAX_XML_BYTES = 1000
    response = post(client, edt_account, cme_document(body=" " * 5000))
    assert response.status_code == 413
    assert b"larger than the limit" in content(response)
    assert EdtTransaction.objects.get().status == EdtTransaction.Status.REJECTED
    assert processed == []


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


RFS_NS = "http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilitySubmittal/1/10/"
RFS_URL = "/EDT/Regulator/FacilitySubmittal/Submit?regulatorCode=1001"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"../data.xml": b"<x/>"}, "with a path"),
        ({"docs/a.pdf": b"%PDF", "data.xml": b"<x/>"}, "sub directories"),
        ({"other.xml": b"<x/>"}, "data.xml"),
        (
            {
                "data.xml": f'<cers:RegulatorFacilitySubmittals xmlns:cers="{RFS_NS}"/>'.encode(),
                "extra.pdf": b"%PDF-1.4",
            },
            "not referenced",
        ),
    ],
)
def test_a_bad_zip_package_is_rejected(client, edt_account, files, message):
    response = client.post(
        RFS_URL, _zip(files), content_type="application/zip", **legacy_header(edt_account)
    )
    root = assert_valid(content(response), "cers3", "RegulatorFacilitySubmittalResponse.xsd")
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert message in root.findtext("GuidanceMessages/GuidanceMessage")
    assert not EdtTransaction.objects.get().payload


def test_a_zip_bomb_is_refused(client, edt_account):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.xml", b"<x/>")
        archive.writestr("bomb.txt", b"\0" * (30 * 1024 * 1024))
    response = client.post(
        RFS_URL, buffer.getvalue(), content_type="application/zip", **legacy_header(edt_account)
    )
    root = etree.fromstring(content(response))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert not EdtTransaction.objects.get().payload
