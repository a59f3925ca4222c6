"""Moving or merging a facility is for its CUPA's administrators and the state administrator.
A PA handling one of its elements sees the facility (so 403, not 404) but moves nothing."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.access import can
from core.models import AuditEvent
from facilities import services
from facilities.models import Facility, FacilityRegulator, FacilityTransfer
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PAGES = ("regulator:facility_move", "regulator:facility_merge")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def letter():
    return SimpleUploadedFile("request.pdf", PDF, content_type="application/pdf")


@pytest.fixture
def duplicate(cast):
    """A second Acme facility in Sacramento: the PA handles its underground tanks too."""
    facility = factories.make_facility(cast.org, name="Acme Depot (again)", zip_code="95814")
    assert FacilityRegulator.objects.filter(facility=facility, regulator=cast.pa).exists()
    return facility


def unchanged(cast, duplicate):
    cast.facility.refresh_from_db()
    return (
        cast.facility.organization_id == cast.org.pk
        and Facility.objects.filter(pk=duplicate.pk).exists()
        and not FacilityTransfer.objects.exists()
        and not AuditEvent.objects.filter(action__in=["facility.moved", "facility.merged"]).exists()
    )


# --- refused: the PA ------------------------------------------------------------------------


def test_a_pa_administrator_may_not_move_or_merge(cast, pa_admin, duplicate):
    assert not can(pa_admin, "facilities.transfer", cast.facility)
    with pytest.raises(PermissionDenied):
        services.move_facility(
            actor=pa_admin,
            facility=cast.facility,
            to_organization=cast.other_org,
            reason="Sold",
            letter=letter(),
        )
    with pytest.raises(PermissionDenied):
        services.merge_facilities(
            actor=pa_admin, duplicate=duplicate, survivor=cast.facility, reason="Same site"
        )
    assert unchanged(cast, duplicate)


@pytest.mark.parametrize("name", PAGES)
def test_a_pa_administrator_gets_403_on_the_pages_and_their_posts(
    cast, client, pa_admin, duplicate, name
):
    client.force_login(pa_admin)
    url = reverse(name, args=[cast.facility.cers_id])
    data = {
        "organization_code": cast.other_org.code,
        "cers_id": duplicate.cers_id,
        "reason": "Sold",
        "letter": letter(),
    }
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    assert unchanged(cast, duplicate)


def test_the_pa_sees_the_facility_without_the_transfer_buttons(cast, client, pa_admin):
    client.force_login(pa_admin)
    response = client.get(reverse("regulator:facility", args=[cast.facility.cers_id]))
    assert response.status_code == 200
    page = response.content.decode()
    for name in PAGES:
        assert reverse(name, args=[cast.facility.cers_id]) not in page


def test_another_cupas_administrator_gets_404(cast, client, cupa2_admin):
    client.force_login(cupa2_admin)
    for name in PAGES:
        assert client.get(reverse(name, args=[cast.facility.cers_id])).status_code == 404


# --- allowed: the CUPA and the state administrator ----------------------------------------------


def test_the_cupas_administrator_sees_the_buttons_and_moves_the_facility(cast, client, cupa_admin):
    client.force_login(cupa_admin)
    page = client.get(reverse("regulator:facility", args=[cast.facility.cers_id])).content
    for name in PAGES:
        assert reverse(name, args=[cast.facility.cers_id]).encode() in page
    url = reverse("regulator:facility_move", args=[cast.facility.cers_id])
    response = client.post(
        url, {"organization_code": cast.other_org.code, "reason": "Sold", "letter": letter()}
    )
    assert response.status_code == 302
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.other_org


def test_the_cupas_administrator_merges(cast, client, cupa_admin, duplicate):
    client.force_login(cupa_admin)
    url = reverse("regulator:facility_merge", args=[duplicate.cers_id])
    response = client.post(url, {"cers_id": cast.facility.cers_id, "reason": "Same site"})
    assert response.status_code == 302
    assert not Facility.objects.filter(pk=duplicate.pk).exists()


def test_the_state_administrator_moves_and_merges(cast, duplicate):
    assert can(cast.state_admin, "facilities.transfer", cast.facility)
    services.merge_facilities(
        actor=cast.state_admin, duplicate=duplicate, survivor=cast.facility, reason="Same site"
    )
    services.move_facility(
        actor=cast.state_admin,
        facility=cast.facility,
        to_organization=cast.other_org,
        reason="Sold",
        letter=letter(),
    )
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.other_org
    assert not Facility.objects.filter(pk=duplicate.pk).exists()
