"""Regulators move facilities between organizations, merge duplicate facilities and merge
organizations; each change keeps history, writes audit events and keeps lead regulators right."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.models import AuditEvent
from facilities import services
from facilities.models import Facility, FacilityRegulator, FacilityTransfer
from organizations.models import Membership, Organization
from submittals.models import FacilitySubmittal
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _letter(content=PDF, name="request.pdf"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _submit_facility_information(cast, facility):
    """Submit Facility Information for ``facility`` (a member of cast.org); return it."""
    from submittals import services as submittals
    from tests.submittals.data import answer_required_documents, complete_facility_information

    record = submittals.start_draft(actor=cast.editor, facility=facility, element=1)
    record = submittals.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    answer_required_documents(cast.editor, record)
    submittals.submit(
        actor=cast.approver,
        facility=facility,
        elements=[record],
        certifier_name="Bob Approver",
        certifier_title="Manager",
    )
    record.refresh_from_db()
    return record


def _lead_code(organization):
    organization.refresh_from_db()
    return organization.lead_regulator.code if organization.lead_regulator else None


# --- Moving a facility -----------------------------------------------------------------


def test_it_moves_a_facility_and_recomputes_both_lead_regulators(cast, cupa_admin):
    # Acme: one Sacramento and one Yolo facility (tie -> 1001). Other Co: one Yolo (1002).
    assert (_lead_code(cast.org), _lead_code(cast.other_org)) == ("1001", "1002")
    factories.make_facility(cast.other_org, zip_code="95814")  # Other Co: tie -> 1001
    factories.make_facility(cast.other_org, zip_code="95616")  # Other Co: Yolo majority
    assert _lead_code(cast.other_org) == "1002"

    transfer = services.move_facility(
        actor=cupa_admin,
        facility=cast.facility,
        to_organization=cast.other_org,
        reason="Sold to Other Co",
        letter=_letter(),
    )

    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.other_org
    assert _lead_code(cast.org) == "1002"  # only the Yolo facility is left
    assert _lead_code(cast.other_org) == "1001"  # now 2 Sacramento, 2 Yolo: tie -> 1001
    assert transfer.kind == FacilityTransfer.Kind.MOVE
    assert transfer.letter.name.startswith("facility-transfers/")


def test_it_keeps_the_cers_id_and_submittals_of_a_moved_facility(cast, cupa_admin):
    cers_id = cast.facility.cers_id
    record = _submit_facility_information(cast, cast.facility)

    services.move_facility(
        actor=cupa_admin,
        facility=cast.facility,
        to_organization=cast.other_org,
        reason="Sold",
        letter=_letter(),
    )

    facility = Facility.objects.get(pk=cast.facility.pk)
    assert facility.cers_id == cers_id
    assert list(facility.submittal_elements.all()) == [record]
    assert FacilitySubmittal.objects.filter(facility=facility).count() == 1
    assert FacilityRegulator.objects.filter(facility=facility).count() > 0


def test_it_writes_an_audit_event_on_both_organizations(cast, cupa_admin):
    services.move_facility(
        actor=cupa_admin,
        facility=cast.facility,
        to_organization=cast.other_org,
        reason="Sold",
        letter=_letter(),
    )

    events = AuditEvent.objects.filter(action="facility.moved", object_id=str(cast.facility.pk))
    assert {e.organization for e in events} == {cast.org, cast.other_org}
    assert all(e.actor == cupa_admin for e in events)


@pytest.mark.parametrize(
    ("reason", "letter", "field"),
    [
        ("", _letter, "reason"),
        ("Sold", lambda: None, "letter"),
        ("Sold", lambda: _letter(b"MZ\x90\x00 not a pdf", "request.pdf"), "letter"),
    ],
)
def test_it_refuses_a_move_without_reason_or_letter(cast, cupa_admin, reason, letter, field):
    with pytest.raises(ValidationError) as excinfo:
        services.move_facility(
            actor=cupa_admin,
            facility=cast.facility,
            to_organization=cast.other_org,
            reason=reason,
            letter=letter(),
        )

    assert field in excinfo.value.message_dict
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.org
    assert not FacilityTransfer.objects.exists()
    assert not AuditEvent.objects.filter(action="facility.moved").exists()


def test_it_refuses_a_letter_over_10_mb(cast, cupa_admin):
    big = _letter(PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError):
        services.move_facility(
            actor=cupa_admin,
            facility=cast.facility,
            to_organization=cast.other_org,
            reason="Sold",
            letter=big,
        )


def test_it_refuses_a_move_by_a_lead_user_or_a_reviewer(cast):
    for actor in (cast.lead, cast.cupa_reviewer):
        with pytest.raises(PermissionDenied):
            services.move_facility(
                actor=actor,
                facility=cast.facility,
                to_organization=cast.other_org,
                reason="Sold",
                letter=_letter(),
            )


def test_the_move_page_moves_the_facility(cast, cupa_admin, client):
    client.force_login(cupa_admin)
    url = reverse("regulator:facility_move", args=[cast.facility.cers_id])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {"organization_code": cast.other_org.code, "reason": "Sold", "letter": _letter()},
    )

    assert response.status_code == 302
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.other_org


def test_the_move_page_shows_errors_and_changes_nothing(cast, cupa_admin, client):
    client.force_login(cupa_admin)
    url = reverse("regulator:facility_move", args=[cast.facility.cers_id])

    response = client.post(url, {"organization_code": cast.other_org.code, "reason": "Sold"})
    unknown = client.post(url, {"organization_code": 1, "reason": "Sold", "letter": _letter()})

    assert response.status_code == 200 and response.context["form"].errors["letter"]
    assert unknown.status_code == 200 and unknown.context["form"].errors["organization_code"]
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.org


def test_the_detail_page_offers_transfers_to_administrators_only(cast, cupa_admin, client):
    url = reverse("regulator:facility", args=[cast.facility.cers_id])
    move_url = reverse("regulator:facility_move", args=[cast.facility.cers_id])
    client.force_login(cupa_admin)
    assert move_url in client.get(url).content.decode()
    client.force_login(cast.cupa_reviewer)
    assert move_url not in client.get(url).content.decode()


def test_a_reviewer_gets_403_on_the_transfer_pages(cast, client):
    client.force_login(cast.cupa_reviewer)
    for name in ("regulator:facility_move", "regulator:facility_merge"):
        assert client.get(reverse(name, args=[cast.facility.cers_id])).status_code == 403


def test_an_administrator_of_another_cupa_gets_404(cast, cupa2_admin, client):
    client.force_login(cupa2_admin)  # cast.facility is in Sacramento
    for name in ("regulator:facility_move", "regulator:facility_merge"):
        response = client.post(
            reverse(name, args=[cast.facility.cers_id]),
            {"organization_code": cast.other_org.code, "cers_id": 1, "reason": "x"},
        )
        assert response.status_code == 404
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.org


# --- Merging facilities ----------------------------------------------------------------


def test_it_merges_a_duplicate_and_repoints_its_submittals(cast, cupa_admin):
    duplicate = factories.make_facility(cast.org, name="Acme Depot (dup)", zip_code="95814")
    record = _submit_facility_information(cast, duplicate)
    group = record.facility_submittal

    transfer = services.merge_facilities(
        actor=cupa_admin, duplicate=duplicate, survivor=cast.facility, reason="Same site"
    )

    assert not Facility.objects.filter(pk=duplicate.pk).exists()
    assert not FacilityRegulator.objects.filter(facility_id=duplicate.pk).exists()
    record.refresh_from_db()
    group.refresh_from_db()
    assert record.facility == cast.facility and group.facility == cast.facility
    assert transfer.facility_cers_id == duplicate.cers_id
    assert transfer.merged_into_facility == cast.facility
    event = AuditEvent.objects.get(action="facility.merged")
    assert event.before["cers_id"] == duplicate.cers_id
    assert event.after["merged_into"] == cast.facility.cers_id


def test_it_refuses_to_merge_while_a_draft_is_in_progress(cast, cupa_admin):
    from submittals import services as submittals

    duplicate = factories.make_facility(cast.org, zip_code="95814")
    submittals.start_draft(actor=cast.editor, facility=cast.facility, element=1)

    with pytest.raises(ValidationError, match="draft submittal is in progress"):
        services.merge_facilities(
            actor=cupa_admin, duplicate=duplicate, survivor=cast.facility, reason="Same site"
        )
    assert Facility.objects.filter(pk=duplicate.pk).exists()
    assert not FacilityTransfer.objects.exists()


def test_the_merge_page_merges_into_a_facility_of_the_jurisdiction(cast, cupa_admin, client):
    duplicate = factories.make_facility(cast.other_org, zip_code="95814")
    client.force_login(cupa_admin)
    url = reverse("regulator:facility_merge", args=[duplicate.cers_id])

    outside = client.post(url, {"cers_id": cast.facility_yolo.cers_id, "reason": "Same"})
    response = client.post(url, {"cers_id": cast.facility.cers_id, "reason": "Same site"})

    assert outside.status_code == 200 and outside.context["form"].errors["cers_id"]
    assert response.status_code == 302
    assert not Facility.objects.filter(pk=duplicate.pk).exists()
    assert _lead_code(cast.other_org) == "1002"


# --- Merging organizations -------------------------------------------------------------


def test_it_merges_organizations_keeping_the_higher_role(cast):
    # The viewer of Acme is also the approver of Other Co; the editor of Acme is not there.
    factories.add_member(cast.other_org, cast.viewer, "approver")
    other_facility = cast.other_facility

    services.merge_organizations(
        actor=cast.state_admin, source=cast.other_org, target=cast.org, reason="Acquired"
    )

    assert not Organization.objects.filter(pk=cast.other_org.pk).exists()
    other_facility.refresh_from_db()
    assert other_facility.organization == cast.org
    roles = dict(
        Membership.objects.filter(organization=cast.org).values_list("user__email", "role")
    )
    assert roles[cast.viewer.email] == "approver"
    assert roles[cast.outsider.email] == "lead"
    assert roles[cast.editor.email] == "editor"
    assert cast.viewer.has_perm("organizations.submit_submittals", cast.org)
    assert cast.outsider.has_perm("organizations.manage_users", cast.org)
    assert not cast.editor.has_perm("organizations.submit_submittals", cast.org)
    assert _lead_code(cast.org) == "1002"  # now 1 Sacramento, 2 Yolo
    assert AuditEvent.objects.filter(action="organization.merged", organization=cast.org).count()


def test_only_state_staff_merge_organizations(cast, cupa_admin, client):
    with pytest.raises(PermissionDenied):
        services.merge_organizations(
            actor=cupa_admin, source=cast.other_org, target=cast.org, reason="Acquired"
        )
    client.force_login(cupa_admin)
    url = reverse("regulator:organization_merge", args=[cast.org.code])
    assert client.get(url).status_code == 403


def test_the_organization_merge_page_merges(cast, client):
    client.force_login(cast.state_admin)
    url = reverse("regulator:organization_merge", args=[cast.other_org.code])

    response = client.post(url, {"organization_code": cast.org.code, "reason": "Acquired"})

    assert response.status_code == 302
    assert not Organization.objects.filter(pk=cast.other_org.pk).exists()


# --- The business portal ---------------------------------------------------------------


def test_lead_users_see_the_transfer_on_the_business_home(cast, cupa_admin, client):
    services.move_facility(
        actor=cupa_admin,
        facility=cast.facility,
        to_organization=cast.other_org,
        reason="Sold to Other Co",
        letter=_letter(),
    )

    for user in (cast.lead, cast.outsider):
        client.force_login(user)
        page = client.get(reverse("business:home")).content.decode()
        assert "Sold to Other Co" in page and str(cast.facility.cers_id) in page
    client.force_login(cast.viewer)
    assert "Sold to Other Co" not in client.get(reverse("business:home")).content.decode()


def test_the_organization_page_offers_the_merge_only_to_state_administrators(cast, client):
    from django.urls import reverse

    merge_url = reverse("regulator:organization_merge", args=[cast.org.code])
    page = reverse("regulator:organization", args=[cast.org.code])
    client.force_login(cast.state_admin)
    assert merge_url in client.get(page).content.decode()
    client.force_login(cast.cupa_reviewer)
    assert merge_url not in client.get(page).content.decode()


@pytest.mark.parametrize("kind", [FacilityTransfer.Kind.MOVE, FacilityTransfer.Kind.MERGE_FACILITY])
def test_a_move_or_facility_merge_cannot_lose_its_cers_id(cast, cupa_admin, kind):
    """EDT answers a listed transfer with its CERS ID, which the schemas require: the database
    refuses a move or a facility merge without one, and not an organization merge."""
    moved = services.move_facility(
        actor=cupa_admin,
        facility=cast.facility,
        to_organization=cast.other_org,
        reason="Sold",
        letter=_letter(),
    )
    rows = FacilityTransfer.objects.filter(pk=moved.pk)
    rows.update(kind=kind)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(facility_cers_id=None)
    rows.update(kind=FacilityTransfer.Kind.MERGE_ORGANIZATION, facility_cers_id=None)
    assert rows.get().facility_cers_id is None
