"""RFSDQ over HTTP: the bytes of one uploaded document, by the CERS unique key RFSQ lists.

The cast's facility is in ZIP 95814: Facility Information goes to the Sacramento County CUPA
(1001), Underground Storage Tanks to the City PA (1101).
"""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import etree

from edt.models import EdtTransaction
from submittals import documents, services
from tests.submittals.data import answer_required_documents, complete_data

from .conftest import legacy_header, make_edt_account

URL = "/EDT/Regulator/FacilitySubmittal/Query/Document/"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FI_SLOT = "FacilityInformationLocallyCollectedDocuments"
UST_SLOT = "USTLocallyCollectedDocuments"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def draft_with_upload(cast, element, slot, name="plan.pdf"):
    from tests.submittals.data import complete_facility_information

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=element)
    data = complete_facility_information() if element == 1 else complete_data(element)
    record = services.save_draft_data(actor=cast.editor, record=record, data=data)
    answer_required_documents(cast.editor, record)
    upload = documents.add_document_file(
        actor=cast.editor,
        record=record,
        slot=slot,
        uploaded_file=SimpleUploadedFile(name, PDF),
        title="Plan",
    )
    return record, upload


def submitted_uploads(cast):
    """Facility Information and Underground Storage Tanks submitted, each with a PDF."""
    fi, fi_upload = draft_with_upload(cast, 1, FI_SLOT)
    ust, ust_upload = draft_with_upload(cast, 4, UST_SLOT, name="tank-test.pdf")
    services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[fi, ust],
        certifier_name="Bob Approver",
        certifier_title="Manager",
    )
    return fi_upload, ust_upload


def download(client, account, key, **extra):
    return client.get(f"{URL}{key}", **legacy_header(account), **extra)


def test_it_answers_the_bytes_of_the_document_rfsq_lists(client, cast, edt_account):
    fi_upload, _ust_upload = submitted_uploads(cast)
    listing = client.get(
        "/EDT/Regulator/FacilitySubmittal/Query?regulatorCode=1001", **legacy_header(edt_account)
    )
    root = etree.fromstring(b"".join(listing.streaming_content))
    (key,) = [key.text for key in root.iterfind(".//Attachment/CERSUniqueKey")]
    assert key == str(fi_upload.key)

    response = download(client, edt_account, key)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert 'filename="plan.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    logged = EdtTransaction.objects.filter(endpoint="RFSDQ").get()
    assert (logged.status, logged.result_count) == (EdtTransaction.Status.ACCEPTED, 1)
    assert response["X-CERS-Transaction-Key"] == str(logged.key)


def test_a_key_in_braces_names_the_same_document(client, cast, edt_account):
    fi_upload, _ = submitted_uploads(cast)
    response = download(client, edt_account, f"{{{fi_upload.key}}}")
    assert b"".join(response.streaming_content) == PDF


def test_an_unknown_key_answers_404_saying_so(client, cast, edt_account):
    key = uuid.uuid4()
    response = download(client, edt_account, key)
    assert response.status_code == 404
    assert response.content.decode() == f"No document has the CERSUniqueKey {key}."


def test_a_missing_or_malformed_key_is_refused_with_400(client, cast, edt_account):
    malformed = download(client, edt_account, "not-a-key")
    missing = client.get(URL.rstrip("/"), **legacy_header(edt_account))
    for response in (malformed, missing):
        assert response.status_code == 400
        assert b"CERSUniqueKey" in response.content


def test_another_cupa_is_not_authorized_to_download_it(client, cast):
    fi_upload, _ = submitted_uploads(cast)
    yolo = make_edt_account("1002", "yolo_edt", "1-2", "production")
    response = download(client, yolo, fi_upload.key)
    assert response.status_code == 401
    assert response.content == b"Account is not authorized to download this document."
    logged = EdtTransaction.objects.get()
    assert (logged.status, logged.http_status) == (EdtTransaction.Status.REJECTED, 401)


def test_a_pa_downloads_the_documents_of_its_elements_only(client, cast, pa_edt_account):
    fi_upload, ust_upload = submitted_uploads(cast)
    assert b"".join(download(client, pa_edt_account, ust_upload.key).streaming_content) == PDF
    assert download(client, pa_edt_account, fi_upload.key).status_code == 401


def test_the_cupa_is_not_authorized_for_its_pas_element(client, cast, edt_account):
    _fi_upload, ust_upload = submitted_uploads(cast)
    assert download(client, edt_account, ust_upload.key).status_code == 401


def test_a_draft_document_is_never_handed_out(client, cast, edt_account):
    _record, upload = draft_with_upload(cast, 1, FI_SLOT)
    response = download(client, edt_account, upload.key)
    assert response.status_code == 401


def test_without_tier_2_the_account_is_refused_with_code_8(client, cast):
    fi_upload, _ = submitted_uploads(cast)
    account = make_edt_account("1001", "library_only", "1", "production")
    response = download(client, account, fi_upload.key)
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"


def test_a_file_missing_from_storage_answers_404(client, cast, edt_account):
    fi_upload, _ = submitted_uploads(cast)
    fi_upload.file.storage.delete(fi_upload.file.name)
    response = download(client, edt_account, fi_upload.key)
    assert response.status_code == 404
    assert b"missing from storage" in response.content


def test_errors_are_json_when_json_is_asked_for(client, cast, edt_account):
    key = uuid.uuid4()
    response = download(client, edt_account, key, HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json() == {"error": f"No document has the CERSUniqueKey {key}.", "status": 404}
