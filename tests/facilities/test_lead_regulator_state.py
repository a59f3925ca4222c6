"""The largest organizations are led by the state agency: automatically from the threshold
(CERS_LARGE_ORGANIZATION_THRESHOLD) as facilities come and go, or by the state
administrator's take-over, which holds until released."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEvent
from facilities import services
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def threshold(settings):
    """Three facilities make an organization one of the largest."""
    settings.CERS_LARGE_ORGANIZATION_THRESHOLD = 3
    return 3


def _lead_code(organization):
    organization.refresh_from_db()
    return organization.lead_regulator.code if organization.lead_regulator else None


def _move(cast, facility, to_organization):
    return services.move_facility(
        actor=cast.state_admin,
        facility=facility,
        to_organization=to_organization,
        reason="The business asked",
        letter=SimpleUploadedFile("request.pdf", PDF, content_type="application/pdf"),
    )


def test_it_makes_the_state_lead_when_an_organization_reaches_the_threshold(cast, threshold):
    assert _lead_code(cast.org) == "1001"  # two facilities: below the threshold
    factories.make_facility(cast.org, zip_code="95616", city="Davis")
    assert cast.org.facilities.count() == threshold
    assert _lead_code(cast.org) == "1000"
    assert cast.org.lead_regulator_pinned is False


def test_one_facility_below_the_threshold_keeps_the_majority_cupa(cast, settings):
    settings.CERS_LARGE_ORGANIZATION_THRESHOLD = 4
    factories.make_facility(cast.org, zip_code="95616", city="Davis")
    assert _lead_code(cast.org) == "1002"  # two Yolo facilities, one Sacramento


def test_dropping_below_the_threshold_gives_the_lead_back_to_the_majority_cupa(cast, threshold):
    third = factories.make_facility(cast.org, zip_code="95616", city="Davis")
    assert _lead_code(cast.org) == "1000"

    _move(cast, third, cast.other_org)

    assert _lead_code(cast.org) == "1001"  # one Sacramento, one Yolo: the tie goes to 1001
    assert _lead_code(cast.other_org) == "1002"


def test_a_merge_that_reaches_the_threshold_hands_the_organization_to_the_state(cast, threshold):
    services.merge_organizations(
        actor=cast.state_admin, source=cast.other_org, target=cast.org, reason="Same business"
    )
    assert _lead_code(cast.org) == "1000"


def test_the_state_administrator_takes_over_an_organization(cast):
    organization = services.take_over_organization(actor=cast.state_admin, organization=cast.org)

    assert organization.lead_regulator == cast.state
    cast.org.refresh_from_db()
    assert cast.org.lead_regulator == cast.state
    assert cast.org.lead_regulator_pinned is True
    event = AuditEvent.objects.get(action="organization.taken_over")
    assert event.actor == cast.state_admin
    assert event.organization == cast.org
    assert event.regulator == cast.state
    assert event.before == {"lead_regulator": "1001", "pinned": False}
    assert event.after == {"lead_regulator": "1000", "pinned": True}


def test_a_taken_over_organization_stays_with_the_state_as_facilities_move(cast):
    services.take_over_organization(actor=cast.state_admin, organization=cast.other_org)

    factories.make_facility(cast.other_org, zip_code="95814")
    _move(cast, cast.facility_yolo, cast.other_org)
    assert _lead_code(cast.other_org) == "1000"
    _move(cast, cast.other_facility, cast.org)
    services.merge_organizations(
        actor=cast.state_admin, source=cast.org, target=cast.other_org, reason="Same business"
    )

    assert _lead_code(cast.other_org) == "1000"
    assert cast.other_org.lead_regulator_pinned is True


def test_release_gives_the_lead_back_to_the_majority_cupa(cast):
    services.take_over_organization(actor=cast.state_admin, organization=cast.org)

    organization = services.release_organization(actor=cast.state_admin, organization=cast.org)

    assert organization.lead_regulator == cast.cupa
    assert _lead_code(cast.org) == "1001"
    assert cast.org.lead_regulator_pinned is False
    event = AuditEvent.objects.get(action="organization.released")
    assert event.before == {"lead_regulator": "1000", "pinned": True}
    assert event.after == {"lead_regulator": "1001", "pinned": False}
    assert event.organization == cast.org


def test_release_of_an_organization_over_the_threshold_keeps_the_state(cast, threshold):
    services.take_over_organization(actor=cast.state_admin, organization=cast.org)
    factories.make_facility(cast.org, zip_code="95616", city="Davis")

    services.release_organization(actor=cast.state_admin, organization=cast.org)

    assert _lead_code(cast.org) == "1000"
    assert cast.org.lead_regulator_pinned is False
    _move(cast, cast.facility, cast.other_org)  # back below: the automatic rule applies
    assert _lead_code(cast.org) == "1002"


def test_it_refuses_to_take_over_an_organization_twice(cast):
    services.take_over_organization(actor=cast.state_admin, organization=cast.org)
    with pytest.raises(ValidationError, match="already managed by the state"):
        services.take_over_organization(actor=cast.state_admin, organization=cast.org)
    assert AuditEvent.objects.filter(action="organization.taken_over").count() == 1


def test_it_refuses_to_release_an_organization_not_taken_over(cast, threshold):
    factories.make_facility(cast.org, zip_code="95616", city="Davis")
    with pytest.raises(ValidationError, match="was not taken over"):
        services.release_organization(actor=cast.state_admin, organization=cast.org)
    assert _lead_code(cast.org) == "1000"
    assert not AuditEvent.objects.filter(action="organization.released").exists()


@pytest.fixture
def not_the_state_administrator(cast):
    """Everyone who may not take over: a CUPA's administrator, a viewer at the state agency,
    a CUPA reviewer, a business Lead User."""
    cupa_admin = factories.make_user("admin@sac-cupa.example")
    factories.add_staff(cast.cupa, cupa_admin, "administrator")
    state_viewer = factories.make_user("viewer@calepa.example")
    factories.add_staff(cast.state, state_viewer, "viewer")
    return [cupa_admin, state_viewer, cast.cupa_reviewer, cast.lead]


def test_only_the_state_administrator_takes_over_or_releases(cast, not_the_state_administrator):
    for actor in not_the_state_administrator:
        with pytest.raises(PermissionDenied):
            services.take_over_organization(actor=actor, organization=cast.org)
    assert _lead_code(cast.org) == "1001"
    services.take_over_organization(actor=cast.state_admin, organization=cast.org)
    for actor in not_the_state_administrator:
        with pytest.raises(PermissionDenied):
            services.release_organization(actor=actor, organization=cast.org)
    assert _lead_code(cast.org) == "1000"
    assert cast.org.lead_regulator_pinned is True
    assert AuditEvent.objects.filter(action="organization.taken_over").count() == 1
    assert not AuditEvent.objects.filter(action="organization.released").exists()
