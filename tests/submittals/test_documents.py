"""Document slots of submittal elements: answers, uploads checked by content, downloads.

The cast's facility is in ZIP 95814: Facility Information (element 1) is routed to the
Sacramento County CUPA, never to the City PA, which handles only USTs (element 4).
"""

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from facilities.models import FacilityRegulator
from submittals import documents, services
from submittals.models import (
    DocumentFile,
    DocumentSource,
    ElementDocument,
    ElementStatus,
    FacilitySubmittal,
    SubmittalElementRecord,
)

FI = 1
SLOT = "FacilityInformationLocallyCollectedDocuments"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """A MEDIA_ROOT of the test's own, to see exactly what is written."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.fixture
def draft(cast):
    return services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def add_pdf(cast, record, name="site-map.pdf", content=PDF) -> DocumentFile:
    return documents.add_document_file(
        actor=cast.editor,
        record=record,
        slot=SLOT,
        uploaded_file=upload(name, content),
        title="Site map",
    )


def office_zip(*members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in members:
            archive.writestr(member, "<xml/>")
    return buffer.getvalue()


def submit_facility_information(cast, record) -> SubmittalElementRecord:
    """Mark the draft submitted and routed as ``services.submit`` does, without validating
    its data: what a complete Facility Information needs is tested elsewhere."""
    now = timezone.now()
    route = FacilityRegulator.objects.get(facility=record.facility, element=record.element)
    FacilitySubmittal.objects.filter(pk=record.facility_submittal_id).update(
        status=FacilitySubmittal.Status.SUBMITTED, submitted_at=now, submitted_by=cast.approver
    )
    SubmittalElementRecord.objects.filter(pk=record.pk).update(
        status=ElementStatus.SUBMITTED,
        regulator=route.regulator,
        submitted_at=now,
        submitted_by=cast.approver,
    )
    return SubmittalElementRecord.objects.get(pk=record.pk)


# --- answers ---------------------------------------------------------------------------------


TODAY = timezone.localdate()
# Resolved when the test runs, not when it is collected: a run may cross midnight.
TOMORROW = "tomorrow"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (
            {"source": DocumentSource.EXEMPT, "comment": "  No local documents required.  "},
            {"comment": "No local documents required."},
        ),
        (
            {"source": DocumentSource.PROVIDED_TO_REGULATOR, "date_provided": TODAY},
            {"date_provided": TODAY},
        ),
        (
            {
                "source": DocumentSource.PROVIDED_IN_OTHER_ELEMENT,
                "other_element": 2,
                "comment": "With the site map",
            },
            {"other_element": 2, "comment": "With the site map"},
        ),
        (
            {"source": DocumentSource.PUBLIC_URL, "url": "https://example.com/plan.pdf"},
            {"url": "https://example.com/plan.pdf"},
        ),
        ({"source": DocumentSource.STORED_AT_FACILITY, "comment": "ignored"}, {}),
    ],
    ids=["exempt", "provided-to-regulator", "other-element", "public-url", "stored-at-facility"],
)
def test_each_source_is_stored_with_only_what_it_needs(cast, draft, given, stored):
    answer = documents.set_document_answer(actor=cast.editor, record=draft, slot=SLOT, **given)

    answer = ElementDocument.objects.get(pk=answer.pk)
    expected = {"comment": "", "date_provided": None, "other_element": None, "url": ""}
    expected |= stored
    assert answer.source == given["source"]
    assert {name: getattr(answer, name) for name in expected} == expected
    event = AuditEvent.objects.get(action="submittal.document_answered")
    assert event.object_id == str(draft.pk)
    assert event.after["source"] == given["source"]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"source": DocumentSource.EXEMPT, "comment": "n/a "}, "comment"),
        ({"source": DocumentSource.EXEMPT, "comment": "x" * 501}, "comment"),
        (
            {
                "source": DocumentSource.PROVIDED_TO_REGULATOR,
                "date_provided": TOMORROW,
            },
            "date_provided",
        ),
        ({"source": DocumentSource.PROVIDED_TO_REGULATOR}, "date_provided"),
        (
            {"source": DocumentSource.PROVIDED_IN_OTHER_ELEMENT, "other_element": FI},
            "other_element",
        ),
        (
            {"source": DocumentSource.PROVIDED_IN_OTHER_ELEMENT, "other_element": 11},
            "other_element",
        ),
        ({"source": DocumentSource.PUBLIC_URL, "url": "www.example.com/plan"}, "url"),
        ({"source": DocumentSource.PUBLIC_URL, "url": "ftp://example.com/plan.pdf"}, "url"),
        ({"source": DocumentSource.PUBLIC_URL, "url": "https://example.com/" + "a" * 990}, "url"),
        ({"source": DocumentSource.UPLOAD}, "source"),
        ({"source": 9}, "source"),
    ],
    ids=[
        "short-exempt-comment",
        "long-exempt-comment",
        "future-date",
        "no-date",
        "own-element",
        "no-such-element",
        "url-without-scheme",
        "ftp-url",
        "url-over-1000",
        "upload-without-files",
        "no-such-source",
    ],
)
def test_an_answer_missing_what_its_source_needs_is_refused_and_nothing_stored(
    cast, draft, given, field
):
    if given.get("date_provided") == TOMORROW:
        given = {**given, "date_provided": timezone.localdate() + timedelta(days=1)}
    with pytest.raises(ValidationError) as caught:
        documents.set_document_answer(actor=cast.editor, record=draft, slot=SLOT, **given)

    assert field in caught.value.message_dict
    assert not ElementDocument.objects.exists()
    assert not AuditEvent.objects.filter(action="submittal.document_answered").exists()


def test_a_slot_the_element_does_not_have_is_refused(cast, draft):
    with pytest.raises(ValidationError):
        documents.set_document_answer(
            actor=cast.editor, record=draft, slot="SiteMapDocuments", source=6
        )
    assert not ElementDocument.objects.exists()


OTHER_SLOT = "FacilityInformationMiscellaneousStateRequiredDocuments"


def test_several_answers_are_stored_at_once_in_as_many_queries_as_one(cast, draft):
    answer = documents.DocumentAnswer
    stored_at_facility = answer(SLOT, DocumentSource.STORED_AT_FACILITY)
    public = answer(OTHER_SLOT, DocumentSource.PUBLIC_URL, url="https://example.com/plan.pdf")
    counts = []
    for answers in ([stored_at_facility], [stored_at_facility, public]):
        ElementDocument.objects.filter(record=draft).delete()
        with CaptureQueriesContext(connection) as queries:
            stored, errors = documents.set_document_answers(
                actor=cast.editor, record=draft, answers=answers
            )
        assert errors == {} and list(stored) == [a.slot for a in answers]
        counts.append(len(queries))
    assert counts[0] == counts[1]
    answered = dict(ElementDocument.objects.filter(record=draft).values_list("slot", "source"))
    assert answered == {
        SLOT: DocumentSource.STORED_AT_FACILITY,
        OTHER_SLOT: DocumentSource.PUBLIC_URL,
    }
    events = AuditEvent.objects.filter(action="submittal.document_answered", object_id=draft.pk)
    assert sorted(e.after["slot"] for e in events) == sorted([SLOT, SLOT, OTHER_SLOT])


def test_an_answer_refused_leaves_the_others_stored_and_names_its_slot(cast, draft):
    stored, errors = documents.set_document_answers(
        actor=cast.editor,
        record=draft,
        answers=[
            documents.DocumentAnswer(SLOT, DocumentSource.EXEMPT, comment="no"),
            documents.DocumentAnswer("Nope", DocumentSource.STORED_AT_FACILITY),
            documents.DocumentAnswer(OTHER_SLOT, DocumentSource.STORED_AT_FACILITY),
        ],
    )
    assert list(stored) == [OTHER_SLOT]
    assert list(errors) == [SLOT, "Nope"]
    assert errors[SLOT].message_dict == {
        "comment": ["Say why the document is exempt, in at least 5 characters."]
    }
    assert "has no document slot 'Nope'" in str(errors["Nope"])
    assert list(ElementDocument.objects.values_list("slot", flat=True)) == [OTHER_SLOT]
    assert AuditEvent.objects.filter(action="submittal.document_answered").count() == 1


def test_a_viewer_may_not_answer_and_a_submitted_element_cannot_change(cast, draft):
    with pytest.raises(PermissionDenied):
        documents.set_document_answer(actor=cast.viewer, record=draft, slot=SLOT, source=6)
    submitted = submit_facility_information(cast, draft)
    with pytest.raises(ValidationError, match="start a new draft"):
        documents.set_document_answer(actor=cast.editor, record=submitted, slot=SLOT, source=6)
    with pytest.raises(ValidationError, match="start a new draft"):
        add_pdf(cast, submitted)
    assert not ElementDocument.objects.exists()


def test_choosing_another_source_removes_the_uploaded_files(
    cast, draft, media, django_capture_on_commit_callbacks
):
    add_pdf(cast, draft)
    assert len(stored_files(media)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        documents.set_document_answer(actor=cast.editor, record=draft, slot=SLOT, source=6)

    answer = ElementDocument.objects.get(record=draft, slot=SLOT)
    assert answer.source == DocumentSource.STORED_AT_FACILITY
    assert not DocumentFile.objects.exists()
    assert stored_files(media) == []


# --- uploads ---------------------------------------------------------------------------------


def test_an_uploaded_pdf_is_recorded_and_the_answer_becomes_upload(cast, draft, media):
    documents.set_document_answer(
        actor=cast.editor, record=draft, slot=SLOT, source=1, comment="Exempt for now"
    )

    document_file = add_pdf(cast, draft, name="C:\\Users\\carol\\Site map.pdf")

    document_file.refresh_from_db()
    assert document_file.file_name == "Site map.pdf"
    assert document_file.size == len(PDF)
    assert document_file.content_type == "application/pdf"
    assert len(document_file.sha256) == 64
    assert (media / document_file.file.name).read_bytes() == PDF
    answer = document_file.document
    assert (answer.source, answer.comment) == (DocumentSource.UPLOAD, "")
    # Upload is now a valid answer: the slot has a file.
    documents.set_document_answer(actor=cast.editor, record=draft, slot=SLOT, source=5)
    assert AuditEvent.objects.filter(action="submittal.document_uploaded").count() == 1


def test_an_editor_uploads_a_pdf_on_the_page_and_downloads_the_same_bytes(cast, client, draft):
    client.force_login(cast.editor)
    response = client.post(
        reverse("business:document_upload", args=[draft.pk, SLOT]),
        {"file": upload("plan.pdf", PDF), "title": "Plan", "date_authored": "2024-05-01"},
    )
    assert response.status_code == 302
    document_file = DocumentFile.objects.get()
    assert str(document_file.date_authored) == "2024-05-01"

    response = client.get(reverse("business:document_download", args=[document_file.key]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="plan.pdf"' in response["Content-Disposition"]


def test_the_element_page_lists_the_slots_with_forms_for_editors_only(cast, client, draft):
    add_pdf(cast, draft)
    client.force_login(cast.editor)
    page = client.get(reverse("business:element", args=[draft.pk])).content.decode()
    assert "Facility information locally collected documents" in page
    assert "Facility information miscellaneous state required documents" in page
    assert reverse("business:document_upload", args=[draft.pk, SLOT]) in page
    assert "site-map.pdf" in page

    client.force_login(cast.viewer)
    page = client.get(reverse("business:element", args=[draft.pk])).content.decode()
    assert "site-map.pdf" in page
    assert reverse("business:document_upload", args=[draft.pk, SLOT]) not in page


def big_file(tmp_path, declared: bool) -> UploadedFile:
    """A 26 MB PDF as a sparse file on disk: the bytes are never held in memory."""
    path = tmp_path / "big.pdf"
    with path.open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(26 * 1024 * 1024)
    size = path.stat().st_size if declared else None
    return UploadedFile(file=path.open("rb"), name="big.pdf", size=size)


@pytest.mark.parametrize("declared", [True, False], ids=["size-declared", "size-counted"])
def test_a_26_mb_file_is_refused_with_a_way_forward(cast, draft, media, tmp_path, declared):
    uploaded = big_file(tmp_path, declared)
    try:
        with pytest.raises(ValidationError) as caught:
            documents.add_document_file(
                actor=cast.editor, record=draft, slot=SLOT, uploaded_file=uploaded, title="Big"
            )
    finally:
        uploaded.close()

    message = caught.value.message_dict["file"][0]
    assert "at most 25 MB" in message
    assert "Split it" in message and "another way" in message
    assert stored_files(media) == []
    assert not DocumentFile.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "report.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
            "program",
        ),
        ("report.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "program"),
        ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "program"),
        ("photo.png", b"This is only text, not a picture.\n", "not in PNG image format"),
        ("plan.docx", office_zip("[Content_Types].xml", "xl/workbook.xml"), "not in Word format"),
        ("plan.odt", office_zip("mimetype", "content.xml"), "not in OpenDocument text format"),
        ("sheet.xls", PDF, "not in Excel format"),
        ("page.html", b"Hello, no markup here", "not in HTML format"),
        ("data.csv", b"a,b\n1,\x00\x002\n", "not in CSV format"),
        ("data.txt", b"\xff\xfe" + b"\x01\x00\x02\x00\x03\x00", "not in plain text format"),
        ("plan.xml", "Hello, no markup".encode("utf-16"), "not in XML format"),
        ("odd.csv", b"\xff\xfea\x00,\x00b", "not in CSV format"),
    ],
    ids=[
        "windows-exe-as-pdf",
        "elf-as-pdf",
        "script-as-txt",
        "text-as-png",
        "docx-without-word-document",
        "odt-without-its-mimetype",
        "pdf-as-xls",
        "text-as-html",
        "binary-as-csv",
        "binary-behind-a-utf16-mark-as-txt",
        "utf16-text-as-xml",
        "utf16-cut-mid-character-as-csv",
    ],
)
def test_content_that_is_not_what_the_name_says_is_refused_and_nothing_stored(
    cast, draft, media, name, content, says
):
    with pytest.raises(ValidationError) as caught:
        add_pdf(cast, draft, name=name, content=content)

    message = caught.value.message_dict["file"][0]
    assert "is not what its name says" in message
    assert says in message
    assert stored_files(media) == []
    assert not ElementDocument.objects.exists()
    assert not AuditEvent.objects.filter(action="submittal.document_uploaded").exists()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        (
            "plan.docx",
            office_zip("[Content_Types].xml", "word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("photos.zip", office_zip("a.jpg"), "application/zip"),
        ("map.PNG", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png"),
        ("notes.txt", "Tank 3 — café".encode(), "text/plain; charset=utf-8"),
        ("legacy.csv", "caf\xe9,1\r\n".encode("latin-1"), "text/csv; charset=iso-8859-1"),
        ("map.svg", b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        ("letter.rtf", b"{\\rtf1\\ansi Hello}", "application/rtf"),
        # Excel's "Unicode Text" and Notepad's "Unicode": UTF-16 with its byte order mark
        ("inventory.txt", "Café\t12\r\n".encode("utf-16"), "text/plain; charset=utf-16"),
        (
            "tanks.csv",
            b"\xfe\xff" + "Tank,Gallons\r\n".encode("utf-16-be"),
            "text/csv; charset=utf-16",
        ),
        # .NET's XmlWriter with Encoding.Unicode
        (
            "plan.xml",
            '<?xml version="1.0" encoding="utf-16"?><plan/>'.encode("utf-16"),
            "application/xml; charset=utf-16",
        ),
    ],
)
def test_files_whose_content_matches_their_name_are_accepted(
    cast, draft, name, content, content_type
):
    document_file = add_pdf(cast, draft, name=name, content=content)
    assert document_file.content_type.startswith(content_type)


@pytest.mark.parametrize(
    ("name", "says"),
    [("setup.exe", ".exe files cannot be uploaded"), ("README", "without an extension")],
)
def test_extensions_outside_the_list_are_refused(cast, draft, media, name, says):
    with pytest.raises(ValidationError, match=says):
        add_pdf(cast, draft, name=name)
    assert stored_files(media) == []


def test_a_file_written_before_the_transaction_fails_is_deleted(cast, draft, media, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(documents, "record_event", fail)
    with pytest.raises(RuntimeError):
        add_pdf(cast, draft)

    assert stored_files(media) == []
    assert not DocumentFile.objects.exists()


def test_removing_the_last_file_leaves_the_slot_unanswered_and_deletes_it(
    cast, draft, media, django_capture_on_commit_callbacks
):
    document_file = add_pdf(cast, draft)

    with django_capture_on_commit_callbacks(execute=True):
        documents.remove_document_file(actor=cast.editor, file=document_file)

    assert not ElementDocument.objects.exists()
    assert stored_files(media) == []
    assert AuditEvent.objects.filter(action="submittal.document_removed").count() == 1


# --- who may do what -------------------------------------------------------------------------


def test_a_viewer_gets_403_on_every_write_and_changes_nothing(cast, client, draft):
    document_file = add_pdf(cast, draft)
    client.force_login(cast.viewer)

    writes = [
        (reverse("business:document_answer", args=[draft.pk, SLOT]), {"source": 6}),
        (
            reverse("business:document_upload", args=[draft.pk, SLOT]),
            {"file": upload("b.pdf", PDF), "title": "B"},
        ),
        (reverse("business:document_remove", args=[document_file.pk]), {}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url

    assert list(DocumentFile.objects.values_list("pk", flat=True)) == [document_file.pk]
    assert ElementDocument.objects.get().source == DocumentSource.UPLOAD
    # Reading is what a viewer may do.
    response = client.get(reverse("business:document_download", args=[document_file.key]))
    assert response.status_code == 200


def test_an_outsider_gets_404_on_everything_including_downloads(cast, client, draft):
    document_file = add_pdf(cast, draft)
    client.force_login(cast.outsider)

    posts = [
        (reverse("business:document_answer", args=[draft.pk, SLOT]), {"source": 6}),
        (
            reverse("business:document_upload", args=[draft.pk, SLOT]),
            {"file": upload("b.pdf", PDF), "title": "B"},
        ),
        (reverse("business:document_remove", args=[document_file.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    url = reverse("business:document_download", args=[document_file.key])
    assert client.get(url).status_code == 404
    assert DocumentFile.objects.count() == 1


def test_a_slot_the_element_does_not_have_answers_404(cast, client, draft):
    client.force_login(cast.editor)
    url = reverse("business:document_answer", args=[draft.pk, "SiteMapDocuments"])
    assert client.post(url, {"source": 6}).status_code == 404


def test_a_refused_upload_on_the_page_explains_and_stores_nothing(cast, client, draft, media):
    client.force_login(cast.editor)
    response = client.post(
        reverse("business:document_upload", args=[draft.pk, SLOT]),
        {"file": upload("report.pdf", b"MZ" + b"\x00" * 100), "title": "Report"},
        follow=True,
    )
    assert "is not what its name says" in response.content.decode()
    assert stored_files(media) == []


def test_the_cupa_reviewer_downloads_a_submitted_file_and_the_pa_viewer_gets_404(
    cast, client, draft
):
    document_file = add_pdf(cast, draft)
    record = submit_facility_information(cast, draft)
    assert record.regulator == cast.cupa
    url = reverse("regulator:document_download", args=[document_file.key])

    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:review", args=[record.pk])).content.decode()
    assert url in page
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["X-Content-Type-Options"] == "nosniff"

    client.force_login(cast.pa_viewer)
    assert client.get(url).status_code == 404
    client.force_login(cast.cupa2_reviewer)
    assert client.get(url).status_code == 404


def test_a_drafts_file_is_no_regulators_to_download(cast, client, draft):
    document_file = add_pdf(cast, draft)
    client.force_login(cast.state_admin)
    url = reverse("regulator:document_download", args=[document_file.key])
    assert client.get(url).status_code == 404


# --- starting from the last accepted element --------------------------------------------------


def test_start_from_last_accepted_copies_the_document_answers(
    cast, draft, media, django_capture_on_commit_callbacks
):
    original = add_pdf(cast, draft)
    other_slot = "FacilityInformationMiscellaneousStateRequiredDocuments"
    documents.set_document_answer(
        actor=cast.editor, record=draft, slot=other_slot, source=1, comment="Not required here"
    )
    accepted = submit_facility_information(cast, draft)
    services.review(actor=cast.cupa_reviewer, record=accepted, status=ElementStatus.ACCEPTED)

    new = services.start_draft(
        actor=cast.editor, facility=cast.facility, element=FI, from_last_accepted=True
    )

    answers = {answer.slot: answer for answer in new.documents.all()}
    assert answers[other_slot].source == DocumentSource.EXEMPT
    assert answers[other_slot].comment == "Not required here"
    copy = answers[SLOT].files.get()
    assert answers[SLOT].source == DocumentSource.UPLOAD
    assert copy.key != original.key
    assert copy.file.name == original.file.name
    assert (copy.file_name, copy.sha256, copy.title) == (
        original.file_name,
        original.sha256,
        original.title,
    )
    # The accepted element keeps its own rows; removing the copy keeps the shared file.
    assert DocumentFile.objects.filter(document__record=accepted).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        documents.remove_document_file(actor=cast.editor, file=copy)
    assert (media / original.file.name).read_bytes() == PDF


def test_discarding_a_draft_deletes_its_files_after_commit(
    cast, draft, media, django_capture_on_commit_callbacks
):
    add_pdf(cast, draft)
    assert len(stored_files(media)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.discard_draft(actor=cast.editor, record=draft)

    assert stored_files(media) == []
    assert not DocumentFile.objects.exists()
