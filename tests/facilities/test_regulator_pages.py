"""The regulator portal's facility list and facility page: the current agency's jurisdiction."""

import pytest
from django.urls import reverse

from tests.factories import add_staff, make_facility

LIST_URL = reverse("regulator:facilities")


def facility_url(facility):
    return reverse("regulator:facility", args=[facility.cers_id])


def listed(response) -> set[int]:
    return {facility.cers_id for facility in response.context["page"]}


def test_the_pa_sees_the_facility_whose_ust_it_regulates(cast, client):
    client.force_login(cast.pa_viewer)
    response = client.get(LIST_URL)
    assert listed(response) == {cast.facility.cers_id}
    [facility] = response.context["page"]
    assert [row.element for row in facility.agency_elements] == [4]
    assert 'title="Underground Storage Tanks">4</abbr>' in response.content.decode()
    assert client.get(facility_url(cast.facility)).status_code == 200


def test_the_pa_gets_404_outside_its_jurisdiction(cast, client):
    client.force_login(cast.pa_viewer)
    assert client.get(facility_url(cast.facility_yolo)).status_code == 404
    assert client.get(facility_url(cast.other_facility)).status_code == 404


def test_a_cupa_sees_its_facilities_across_organizations(cast, client):
    client.force_login(cast.cupa2_reviewer)
    response = client.get(LIST_URL)
    assert listed(response) == {cast.facility_yolo.cers_id, cast.other_facility.cers_id}
    page = response.content.decode()
    assert "Acme Fuels" in page
    assert "Other Co" in page
    assert "All elements" in page
    assert client.get(facility_url(cast.facility_yolo)).status_code == 200
    assert client.get(facility_url(cast.other_facility)).status_code == 200


def test_a_cupa_gets_404_on_a_facility_of_another_cupa(cast, client):
    client.force_login(cast.cupa2_reviewer)
    assert client.get(facility_url(cast.facility)).status_code == 404


def test_the_state_sees_every_facility(cast, client):
    client.force_login(cast.state_admin)
    response = client.get(LIST_URL)
    assert listed(response) == {
        cast.facility.cers_id,
        cast.facility_yolo.cers_id,
        cast.other_facility.cers_id,
    }
    for facility in (cast.facility, cast.facility_yolo, cast.other_facility):
        assert client.get(facility_url(facility)).status_code == 200


def test_the_facility_page_shows_organization_and_regulators(cast, client):
    client.force_login(cast.cupa_reviewer)
    response = client.get(facility_url(cast.facility))
    page = response.content.decode()
    assert str(cast.facility.cers_id) in page
    assert cast.facility.address in page
    assert "Acme Fuels" in page
    assert str(cast.org.code) in page
    assert response.context["facility"].organization.lead_regulator == cast.cupa
    rows = dict(response.context["element_regulators"])
    assert rows["Underground Storage Tanks"] == cast.pa
    assert rows["Facility Information"] == cast.cupa


def test_search_by_organization_name(cast, client):
    client.force_login(cast.state_admin)
    response = client.get(LIST_URL, {"q": "other co"})
    assert listed(response) == {cast.other_facility.cers_id}


def test_search_by_cers_id(cast, client):
    client.force_login(cast.state_admin)
    response = client.get(LIST_URL, {"q": str(cast.facility_yolo.cers_id)})
    assert listed(response) == {cast.facility_yolo.cers_id}


def test_a_cers_id_finds_that_facility_alone(cast, client):
    """A query that is a CERS ID is read by the key: another facility whose name or street
    holds the same digits is not listed."""
    number = str(cast.facility_yolo.cers_id)
    namesake = make_facility(cast.org, name=f"Namesake {number}", street=f"{number} Front Street")
    client.force_login(cast.state_admin)
    assert listed(client.get(LIST_URL, {"q": number})) == {cast.facility_yolo.cers_id}
    # Words beside it, or a number that cannot be a CERS ID, still search every field.
    assert listed(client.get(LIST_URL, {"q": f"namesake {number}"})) == {namesake.cers_id}
    assert listed(client.get(LIST_URL, {"q": number[:7]})) == {namesake.cers_id}


def test_search_by_city(cast, client):
    client.force_login(cast.state_admin)
    response = client.get(LIST_URL, {"q": "davis"})
    assert listed(response) == {cast.facility_yolo.cers_id}


def test_staff_of_two_agencies_see_the_current_agencys_facilities(cast, client):
    add_staff(cast.cupa2, cast.cupa_reviewer, "viewer")
    client.force_login(cast.cupa_reviewer)
    client.post(reverse("regulator:switch_agency"), {"regulator": cast.cupa.pk})
    assert listed(client.get(LIST_URL)) == {cast.facility.cers_id}
    assert client.get(facility_url(cast.facility_yolo)).status_code == 404
    client.post(reverse("regulator:switch_agency"), {"regulator": cast.cupa2.pk})
    assert listed(client.get(LIST_URL)) == {
        cast.facility_yolo.cers_id,
        cast.other_facility.cers_id,
    }
    assert client.get(facility_url(cast.facility_yolo)).status_code == 200


@pytest.mark.parametrize("persona", ["lead", "viewer", "outsider"])
def test_business_users_get_403_on_regulator_facility_pages(cast, client, persona):
    client.force_login(getattr(cast, persona))
    assert client.get(LIST_URL).status_code == 403
    assert client.get(facility_url(cast.facility)).status_code == 403


# --- The reporting status of each row ---


def test_each_row_says_how_its_status_grid_stands(cast, client):
    from datetime import timedelta

    from django.utils import timezone

    from facilities.models import FacilityRegulator, ReportingRequirement
    from facilities.services import close_facility

    today = timezone.localdate()
    rows = FacilityRegulator.objects.filter(facility=cast.facility)
    # Facility Information (always required) overdue; the inventory, set Applicable, due soon;
    # the UST element due long ago but not required: not counted.
    rows.filter(element=1).update(next_due_date=today - timedelta(days=1))
    rows.filter(element=2).update(
        next_due_date=today + timedelta(days=10),
        reporting_requirement=ReportingRequirement.APPLICABLE,
    )
    rows.filter(element=4).update(
        next_due_date=today - timedelta(days=90),
        reporting_requirement=ReportingRequirement.NOT_APPLICABLE,
    )
    quiet = make_facility(cast.org, name="Quiet Yard")
    closed = make_facility(cast.org, name="Closed Yard")
    FacilityRegulator.objects.filter(facility=closed, element=1).update(
        next_due_date=today - timedelta(days=1)
    )
    close_facility(actor=cast.lead, facility=closed, reason="Sold")

    client.force_login(cast.cupa_reviewer)
    response = client.get(LIST_URL)
    summaries = {f.cers_id: f.status_summary for f in response.context["page"]}
    assert summaries[cast.facility.cers_id].text == "1 overdue, 1 due soon"
    assert summaries[quiet.cers_id].text == "Up to date"
    # A closed facility is never overdue, whatever its due dates.
    assert summaries[closed.cers_id].text == "Closed: no longer reports"
    html = response.content.decode()
    assert '<span class="mark mark-overdue">1 overdue</span>' in html
    assert '<span class="mark mark-due-soon">1 due soon</span>' in html
    # The same count as the facility page's grid (one home: facilities.schedule).
    page = client.get(facility_url(cast.facility))
    marks = [row.mark for row in page.context["facility"].status_grid if row.mark]
    assert sorted(marks) == ["due soon", "overdue"]
