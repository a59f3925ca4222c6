"""The facility's CUPA keeps its own facility ID, its data system's key, the EPA ID and the
geographic point in the regulator portal (what EDT Facility Metadata sets)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from core.elements import SubmittalElement
from core.models import AuditEvent
from facilities.models import FacilityRegulator
from facilities.services import set_facility_details

pytestmark = pytest.mark.django_db

GOOD = {
    "local_facility_id": "SAC-000123",
    "regulator_key": "envision-77",
    "epa_id": "CAD000111222",
    "latitude": "38.58157200",
    "longitude": "-121.49440100",
    "horizontal_accuracy": "5",
    "horizontal_reference_datum": "NAD83",
    "location_collected_on": "2026-11-02",
}


def url(facility):
    return reverse("regulator:facility_details", args=[facility.cers_id])


def test_a_cupa_reviewer_sets_the_facility_id_and_location(client, cast):
    client.force_login(cast.cupa_reviewer)
    assertContains(
        client.get(reverse("regulator:facility", args=[cast.facility.cers_id])), url(cast.facility)
    )

    response = client.post(url(cast.facility), GOOD)

    assert response.status_code == 302
    cast.facility.refresh_from_db()
    assert cast.facility.local_facility_id == "SAC-000123"
    assert cast.facility.regulator_key == "envision-77"
    assert cast.facility.latitude == Decimal("38.58157200")
    assert cast.facility.horizontal_reference_datum == "NAD83"
    event = AuditEvent.objects.get(action="facility.metadata_changed")
    assert event.actor_id == cast.cupa_reviewer.pk
    assert event.regulator_id == cast.cupa.pk
    assert event.after["local_facility_id"] == "SAC-000123"
    page = client.get(reverse("regulator:facility", args=[cast.facility.cers_id]))
    assertContains(page, "SAC-000123")


def test_the_pa_sees_the_facility_but_may_not_set_them(client, cast):
    client.force_login(cast.pa_viewer)
    page = client.get(reverse("regulator:facility", args=[cast.facility.cers_id]))
    assertNotContains(page, url(cast.facility))

    assert client.post(url(cast.facility), GOOD).status_code == 403
    with pytest.raises(PermissionDenied):
        set_facility_details(actor=cast.pa_viewer, facility=cast.facility, details={"epa_id": "X"})
    cast.facility.refresh_from_db()
    assert cast.facility.local_facility_id == ""


def test_another_agency_gets_404_and_business_users_are_refused(client, cast):
    client.force_login(cast.cupa2_reviewer)
    assert client.post(url(cast.facility), GOOD).status_code == 404
    with pytest.raises(PermissionDenied):
        set_facility_details(actor=cast.cupa2_reviewer, facility=cast.facility, details={})
    with pytest.raises(PermissionDenied):
        set_facility_details(actor=cast.lead, facility=cast.facility, details={})


def test_a_pa_reviewer_may_not_either(cast):
    from tests.factories import add_staff, make_user

    pa_reviewer = make_user("reviewer@sac-pa.example")
    add_staff(cast.pa, pa_reviewer, "reviewer")

    with pytest.raises(PermissionDenied):
        set_facility_details(actor=pa_reviewer, facility=cast.facility, details={"epa_id": "X"})


def test_bad_values_are_refused_beside_their_fields(client, cast):
    client.force_login(cast.cupa_reviewer)

    response = client.post(
        url(cast.facility), {**GOOD, "latitude": "123", "local_facility_id": "X" * 14}
    )
    one_half = client.post(url(cast.facility), {**GOOD, "longitude": ""})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"latitude", "local_facility_id"}
    assert one_half.context["form"].errors["longitude"] == [
        "Give both the latitude and the longitude, or neither."
    ]
    cast.facility.refresh_from_db()
    assert cast.facility.latitude is None
    assert not AuditEvent.objects.filter(action="facility.metadata_changed").exists()


def test_a_facility_nobody_handles_is_refused_with_a_message(cast):
    FacilityRegulator.objects.filter(
        facility=cast.facility, element=SubmittalElement.FACILITY_INFORMATION
    ).delete()

    with pytest.raises(ValidationError):
        set_facility_details(actor=cast.state_admin, facility=cast.facility, details={})


def test_the_facility_page_shows_the_location_codes_by_their_labels(client, cast):
    """The collection method and reference point (set by EDT Facility Metadata) read from
    core.code_lists on the facility's page, and their codes come back unchanged."""
    from core.code_lists import FACILITY_LOCATION_CODES
    from facilities.models import Facility

    Facility.objects.filter(pk=cast.facility.pk).update(
        latitude=Decimal("38.5"),
        longitude=Decimal("-121.5"),
        horizontal_collection_method=104,
        geographic_reference_point=102,
    )
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:facility", args=[cast.facility.cers_id]))
    assertContains(page, "<dt>Collection method</dt><dd>Code 104 (meaning not published)</dd>")
    assertContains(page, "<dt>Reference point</dt><dd>Code 102 (meaning not published)</dd>")
    facility = Facility.objects.get(pk=cast.facility.pk)
    assert (facility.horizontal_collection_method, facility.geographic_reference_point) == (
        104,
        102,
    )
    assert (
        facility.get_horizontal_collection_method_display()
        == (FACILITY_LOCATION_CODES["21.0004"]["104"])
    )


def test_the_location_codes_are_the_schemas_and_each_has_a_label_that_is_not_bare():
    """Every schema that carries the point allows exactly the codes the model offers."""
    from pathlib import Path

    from django.conf import settings
    from lxml import etree

    from facilities.models import Facility

    xs = "{http://www.w3.org/2001/XMLSchema}"
    tags = {
        "HorizontalCollectionMethod": "horizontal_collection_method",
        "GeographicReferencePoint": "geographic_reference_point",
    }
    schema = {name: set() for name in tags.values()}
    for path in Path(settings.BASE_DIR, "edt", "schemas").rglob("*.xsd"):
        for element in etree.parse(str(path)).iter(f"{xs}element"):
            if element.get("name") in tags:
                schema[tags[element.get("name")]].add(
                    frozenset(int(e.get("value")) for e in element.iter(f"{xs}enumeration"))
                )
    for name, code_sets in schema.items():
        assert len(code_sets) == 1, (name, code_sets)
        codes = set(next(iter(code_sets)))
        choices = dict(Facility._meta.get_field(name).choices)
        assert set(choices) == codes
        for code, label in choices.items():
            assert label != str(code) and any(ch.isalpha() for ch in label)
