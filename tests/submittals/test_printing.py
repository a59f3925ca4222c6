"""The printable submittal: a submitted Hazardous Materials Business Plan and its receipt as
PDFs, for the business and for the regulators of its elements; opened here with pypdf."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from submittals import documents, services
from submittals.forms import CERTIFICATION
from submittals.inventory import add_material
from submittals.models import HazardousMaterial
from tests.submittals.data import answer_required_documents, complete_facility_information

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SLOT = "FacilityInformationLocallyCollectedDocuments"
MATERIALS = ("Diesel", "Sulfuric Acid", "Propane")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _submit_plan(cast):
    """Facility Information with an uploaded document, and an inventory of three materials,
    submitted together: the facility submittal."""
    facility_information = services.start_draft(
        actor=cast.editor, facility=cast.facility, element=1
    )
    facility_information = services.save_draft_data(
        actor=cast.editor, record=facility_information, data=complete_facility_information()
    )
    documents.add_document_file(
        actor=cast.editor,
        record=facility_information,
        slot=SLOT,
        uploaded_file=SimpleUploadedFile("site.pdf", PDF, content_type="application/pdf"),
        title="Locally required site notes",
    )
    answer_required_documents(cast.editor, facility_information)
    inventory = services.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    for name in MATERIALS:
        add_material(
            actor=cast.editor,
            record=inventory,
            values={"207": name, "208": "N", "214": "b", "218": "500", "221": "a"},
        )
    answer_required_documents(cast.editor, inventory)
    return services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[facility_information, inventory],
        certifier_name="Bob Approver",
        certifier_title="Operations Manager",
    )


def _text(response) -> tuple[str, int]:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split()), len(reader.pages)


def _assert_plan(text, cast, group):
    assert "Hazardous Materials Business Plan" in text
    assert cast.facility.name in text and str(cast.facility.cers_id) in text
    for name in MATERIALS:
        assert name in text
    assert "Locally required site notes" in text and "site.pdf" in text
    assert " ".join(CERTIFICATION.split()[:12]) in text
    assert "Bob Approver, Operations Manager" in text
    assert "Facility Information" in text and "Hazardous Materials Inventory" in text


def test_the_business_prints_the_submitted_plan(cast, client):
    group = _submit_plan(cast)
    client.force_login(cast.viewer)
    response = client.get(reverse("business:submittal_pdf", args=[group.pk]))
    assert response.status_code == 200
    text, _pages = _text(response)
    _assert_plan(text, cast, group)
    # A document slot the business answered without a file is listed with its answer.
    assert "Stored at facility" in text


def test_the_receipt_prints(cast, client):
    group = _submit_plan(cast)
    client.force_login(cast.lead)
    receipt = client.get(reverse("business:submittal_receipt", args=[group.pk]))
    assert reverse("business:submittal_receipt_pdf", args=[group.pk]) in receipt.content.decode()
    response = client.get(reverse("business:submittal_receipt_pdf", args=[group.pk]))
    text, _pages = _text(response)
    assert "Submittal receipt" in text and str(cast.facility.cers_id) in text
    assert cast.facility.name in text and "Sacramento County CUPA" in text
    assert " ".join(CERTIFICATION.split()[:12]) in text


def test_the_regulator_of_the_elements_prints_it(cast, client):
    group = _submit_plan(cast)
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:submittal_pdf", args=[group.pk]))
    assert response.status_code == 200
    _assert_plan(_text(response)[0], cast, group)


def test_a_long_inventory_runs_over_several_pages(cast, client):
    group = _submit_plan(cast)
    inventory = group.elements.get(element=2)
    HazardousMaterial.objects.bulk_create(
        HazardousMaterial(record=inventory, position=n, common_name=f"Material number {n}")
        for n in range(4, 304)
    )
    client.force_login(cast.lead)
    text, pages = _text(client.get(reverse("business:submittal_pdf", args=[group.pk])))
    assert pages >= 6
    for n in (4, 150, 303):
        assert f"Material number {n}" in text
    # The table's headings are printed again on each page it runs onto.
    assert text.count("Common name") >= 4


def test_outsiders_and_other_agencies_get_404(cast, client):
    group = _submit_plan(cast)
    for user, name in (
        (cast.outsider, "business:submittal_pdf"),
        (cast.outsider, "business:submittal_receipt_pdf"),
        (cast.cupa2_reviewer, "regulator:submittal_pdf"),
        (cast.pa_viewer, "regulator:submittal_pdf"),  # the PA handles none of its elements
    ):
        client.force_login(user)
        assert client.get(reverse(name, args=[group.pk])).status_code == 404, (user, name)


def test_a_draft_is_not_printed(cast, client):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    client.force_login(cast.lead)
    url = reverse("business:submittal_pdf", args=[record.facility_submittal_id])
    assert client.get(url).status_code == 404
