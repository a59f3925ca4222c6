"""What a person acts on may change between the page that shows it and the service that
changes it: another request moved the facility to another organization, merged it away, or
merged its organization into another. Each service checks its rule against the row it locked
(never the copy the page read) and answers a row that is gone with a message, never a server
error.

Each test hands the service the object as the page read it, after the other change was
committed: what a second request does when it gets the lock after the first one.
"""

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from facilities import services
from facilities.models import Facility, FacilityTransfer
from organizations.models import Organization
from submittals import services as submittals
from submittals.models import ElementStatus, SubmittalElementRecord
from tests import factories
from tests.submittals.data import answer_required_documents, complete_facility_information
from tests.submittals.test_certify_no_changes import accepted_elements

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _letter():
    return SimpleUploadedFile("request.pdf", PDF, content_type="application/pdf")


def _move(cast, cupa_admin, facility, to):
    services.move_facility(
        actor=cupa_admin, facility=facility, to_organization=to, reason="Sold", letter=_letter()
    )


# --- The facility moved to another organization meanwhile ------------------------------


def test_a_draft_cannot_be_submitted_for_a_facility_moved_away_meanwhile(cast, cupa_admin):
    draft = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    draft = submittals.save_draft_data(
        actor=cast.editor, record=draft, data=complete_facility_information()
    )
    answer_required_documents(cast.editor, draft)
    seen = copy.copy(cast.facility)  # the submit page, drawn while Acme owned the facility
    _move(cast, cupa_admin, cast.facility, cast.other_org)

    with pytest.raises(PermissionDenied):
        submittals.submit(
            actor=cast.approver,
            facility=seen,
            elements=[draft],
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )
    draft.refresh_from_db()
    assert draft.status == ElementStatus.DRAFT


def test_no_draft_is_started_for_a_facility_moved_away_meanwhile(cast, cupa_admin):
    seen = copy.copy(cast.facility)
    _move(cast, cupa_admin, cast.facility, cast.other_org)

    with pytest.raises(PermissionDenied):
        submittals.start_draft(actor=cast.editor, facility=seen, element=1)
    assert not SubmittalElementRecord.objects.filter(facility=cast.facility).exists()


def test_no_changes_are_certified_for_a_facility_moved_away_meanwhile(cast, cupa_admin):
    accepted_elements(cast, cast.facility)
    seen = copy.copy(cast.facility)
    _move(cast, cupa_admin, cast.facility, cast.other_org)
    before = SubmittalElementRecord.objects.count()

    with pytest.raises(PermissionDenied):
        submittals.certify_no_changes(
            actor=cast.approver,
            facilities=[seen],
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )
    assert SubmittalElementRecord.objects.count() == before


def test_a_facility_moved_away_meanwhile_is_not_closed_by_its_old_lead(cast, cupa_admin):
    seen = copy.copy(cast.facility)
    _move(cast, cupa_admin, cast.facility, cast.other_org)

    with pytest.raises(PermissionDenied):
        services.close_facility(actor=cast.lead, facility=seen, reason="Sold")
    cast.facility.refresh_from_db()
    assert not cast.facility.is_closed


def test_no_changes_are_certified_for_a_facility_closed_meanwhile(cast):
    accepted_elements(cast, cast.facility)
    seen = copy.copy(cast.facility)
    services.close_facility(actor=cast.lead, facility=cast.facility, reason="Shut down")
    before = SubmittalElementRecord.objects.count()

    with pytest.raises(ValidationError, match="no longer reports"):
        submittals.certify_no_changes(
            actor=cast.approver,
            facilities=[seen],
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )
    assert SubmittalElementRecord.objects.count() == before


# --- The facility merged away meanwhile ------------------------------------------------


@pytest.fixture
def merged_away(cast, cupa_admin):
    """A duplicate of the Sacramento depot as a page drew it, merged into the depot since."""
    duplicate = factories.make_facility(cast.org, name="Acme Depot (dup)", zip_code="95814")
    seen = copy.copy(duplicate)
    services.merge_facilities(
        actor=cupa_admin, duplicate=duplicate, survivor=cast.facility, reason="Same site"
    )
    return seen


def test_no_draft_is_started_for_a_facility_merged_away_meanwhile(cast, merged_away):
    with pytest.raises(ValidationError, match="merged"):
        submittals.start_draft(actor=cast.editor, facility=merged_away, element=1)


def test_no_changes_are_certified_for_a_facility_merged_away_meanwhile(cast, merged_away):
    with pytest.raises(ValidationError, match="merged"):
        submittals.certify_no_changes(
            actor=cast.approver,
            facilities=[merged_away],
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )


def test_a_facility_merged_away_meanwhile_is_neither_closed_nor_moved(
    cast, cupa_admin, merged_away
):
    with pytest.raises(ValidationError, match="merged"):
        services.close_facility(actor=cast.lead, facility=merged_away, reason="Shut down")
    with pytest.raises(ValidationError, match="merged"):
        _move(cast, cupa_admin, merged_away, cast.other_org)


def test_a_merge_sent_twice_merges_once(cast, cupa_admin, merged_away):
    with pytest.raises(ValidationError, match="merged"):
        services.merge_facilities(
            actor=cupa_admin, duplicate=merged_away, survivor=cast.facility, reason="Same site"
        )
    assert FacilityTransfer.objects.filter(kind=FacilityTransfer.Kind.MERGE_FACILITY).count() == 1


# --- The organization merged into another meanwhile ------------------------------------


def test_an_organization_merge_sent_twice_merges_once(cast):
    seen = copy.copy(cast.other_org)
    services.merge_organizations(
        actor=cast.state_admin, source=cast.other_org, target=cast.org, reason="Acquired"
    )

    with pytest.raises(ValidationError, match="merged"):
        services.merge_organizations(
            actor=cast.state_admin, source=seen, target=cast.org, reason="Acquired"
        )
    assert not Organization.objects.filter(pk=seen.pk).exists()
    kind = FacilityTransfer.Kind.MERGE_ORGANIZATION
    assert FacilityTransfer.objects.filter(kind=kind).count() == 1


def test_a_facility_is_not_moved_to_an_organization_merged_away_meanwhile(cast, cupa_admin):
    third = factories.make_organization(factories.make_user("third@example.com"), "Third Co")
    seen = copy.copy(third)
    services.merge_organizations(
        actor=cast.state_admin, source=third, target=cast.other_org, reason="Acquired"
    )

    with pytest.raises(ValidationError, match="merged"):
        _move(cast, cupa_admin, cast.facility, seen)
    assert Facility.objects.get(pk=cast.facility.pk).organization_id == cast.org.pk
