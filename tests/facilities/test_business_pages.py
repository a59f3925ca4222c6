"""The business portal's facility list and facility page."""

import pytest
from django.urls import reverse

from core.views import ORGANIZATION_SESSION_KEY
from tests.facilities.bulk import bulk_facilities
from tests.factories import make_facility, make_organization

LIST_URL = reverse("business:facilities")


def facility_url(facility):
    return reverse("business:facility", args=[facility.cers_id])


def work_in(client, organization):
    """Make ``organization`` the one the signed-in user works in (what switching does)."""
    session = client.session
    session[ORGANIZATION_SESSION_KEY] = organization.pk
    session.save()


def listed(response) -> set[int]:
    return {facility.cers_id for facility in response.context["page"]}


def test_the_list_shows_the_organizations_facilities_only(cast, client):
    client.force_login(cast.viewer)
    response = client.get(LIST_URL)
    assert listed(response) == {cast.facility.cers_id, cast.facility_yolo.cers_id}
    page = response.content.decode()
    assert cast.facility.street in page
    assert "Davis" in page
    assert cast.other_facility.name not in page


def test_the_list_shows_only_the_current_organization_of_a_member_of_two(cast, client):
    second_org = make_organization(cast.lead, "Acme Logistics")
    elsewhere = make_facility(second_org, street="5 Harbor Road")
    client.force_login(cast.lead)
    work_in(client, cast.org)
    assert listed(client.get(LIST_URL)) == {cast.facility.cers_id, cast.facility_yolo.cers_id}
    work_in(client, second_org)
    assert listed(client.get(LIST_URL)) == {elsewhere.cers_id}


def test_the_add_button_shows_only_with_manage_facilities(cast, client):
    add_url = reverse("business:facility_create")
    client.force_login(cast.lead)
    assert add_url in client.get(LIST_URL).content.decode()
    client.force_login(cast.approver)
    assert add_url not in client.get(LIST_URL).content.decode()


def test_search_by_name(cast, client):
    client.force_login(cast.viewer)
    response = client.get(LIST_URL, {"q": "davis yard"})
    assert listed(response) == {cast.facility_yolo.cers_id}


def test_search_by_cers_id(cast, client):
    client.force_login(cast.viewer)
    response = client.get(LIST_URL, {"q": str(cast.facility.cers_id)})
    assert listed(response) == {cast.facility.cers_id}


def test_a_cers_id_finds_that_facility_alone(cast, client):
    number = str(cast.facility.cers_id)
    namesake = make_facility(cast.org, name=f"Namesake {number}")
    client.force_login(cast.viewer)
    assert listed(client.get(LIST_URL, {"q": number})) == {cast.facility.cers_id}
    assert listed(client.get(LIST_URL, {"q": f"namesake {number}"})) == {namesake.cers_id}


def test_search_by_city(cast, client):
    client.force_login(cast.viewer)
    response = client.get(LIST_URL, {"q": "sacramento"})
    assert listed(response) == {cast.facility.cers_id}


def test_search_by_street(cast, client):
    lane = make_facility(cast.org, street="77 Sunflower Lane")
    client.force_login(cast.viewer)
    response = client.get(LIST_URL, {"q": "sunflower"})
    assert listed(response) == {lane.cers_id}


def test_search_does_not_reach_other_organizations(cast, client):
    client.force_login(cast.viewer)
    response = client.get(LIST_URL, {"q": str(cast.other_facility.cers_id)})
    assert listed(response) == set()


def test_the_list_is_paginated(cast, client):
    bulk_facilities([cast.org], 30, cast.cupa)  # 32 in all: 25 on page 1, 7 on page 2
    client.force_login(cast.viewer)
    first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"page": 2})
    assert len(first.context["page"]) == 25
    assert len(second.context["page"]) == 7
    assert second.context["page"].number == 2
    assert not listed(first) & listed(second)
    assert "?page=2" in first.content.decode()


def test_the_facility_page_shows_its_facts_and_regulators(cast, client):
    client.force_login(cast.viewer)
    response = client.get(facility_url(cast.facility))
    page = response.content.decode()
    assert response.status_code == 200
    assert str(cast.facility.cers_id) in page
    assert "Acme Fuels" in page
    assert cast.facility.address in page
    rows = dict(response.context["element_regulators"])
    assert rows["Underground Storage Tanks"] == cast.pa
    assert rows["Facility Information"] == cast.cupa
    assert rows["Hazardous Materials Inventory"] == cast.cupa
    assert "Sacramento City Fire PA" in page


@pytest.mark.parametrize("persona", ["lead", "approver", "editor", "viewer"])
def test_every_role_sees_every_facility_of_the_organization(cast, client, persona):
    client.force_login(getattr(cast, persona))
    assert client.get(facility_url(cast.facility)).status_code == 200
    assert client.get(facility_url(cast.facility_yolo)).status_code == 200


def test_an_outsider_gets_404_on_another_organizations_facility(cast, client):
    client.force_login(cast.outsider)
    assert client.get(facility_url(cast.facility)).status_code == 404
    assert client.get(facility_url(cast.other_facility)).status_code == 200


def test_an_unknown_cers_id_answers_404(cast, client):
    client.force_login(cast.lead)
    assert client.get(reverse("business:facility", args=[99_999_999])).status_code == 404


def test_a_facility_of_another_of_the_users_organizations_opens_in_that_organization(cast, client):
    """The pages show the organization the user is working in: a link to a facility of
    another of theirs (an e-mail's, the notifications page's) moves them to that one first,
    and the list shows that organization's facilities from then on."""
    second_org = make_organization(cast.lead, "Acme Logistics")
    elsewhere = make_facility(second_org, street="5 Harbor Road")
    client.force_login(cast.lead)
    work_in(client, cast.org)
    assert client.get(LIST_URL).context["organization"] == cast.org
    response = client.get(facility_url(elsewhere))
    assert response.status_code == 302
    assert response.url == facility_url(elsewhere)
    assert client.get(facility_url(elsewhere)).context["facility"] == elsewhere
    assert client.get(LIST_URL).context["organization"] == second_org


def test_signed_out_visitors_are_sent_to_sign_in(cast, client):
    response = client.get(facility_url(cast.facility))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
