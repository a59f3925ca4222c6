"""The regulator portal: the agency's home, switching agency, organizations in jurisdiction."""

import pytest
from django.urls import reverse

from core.views import REGULATOR_SESSION_KEY
from portal.services import refresh_summaries
from tests.factories import add_staff

HOME_URL = reverse("regulator:home")
SWITCH_URL = reverse("regulator:switch_agency")
ORGANIZATIONS_URL = reverse("regulator:organizations")


def organization_url(organization):
    return reverse("regulator:organization", args=[organization.code])


def counts(response) -> dict[str, int]:
    return {org.name: org.facility_count for org in response.context["page"]}


def test_home_shows_the_agency_the_role_and_the_jurisdiction(cast, client):
    refresh_summaries()  # the beat's count of every agency's dashboard
    client.force_login(cast.cupa2_reviewer)
    response = client.get(HOME_URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Yolo County CUPA" in page
    assert "<dd>1002</dd>" in page
    assert "<dd>CUPA</dd>" in page
    assert "<dd>Reviewer / inspector</dd>" in page
    assert response.context["facility_count"] == 2
    assert response.context["organization_count"] == 2
    assert reverse("regulator:facilities") in page
    assert ORGANIZATIONS_URL in page


def test_home_counts_every_facility_for_the_state(cast, client):
    refresh_summaries()  # the beat's count of every agency's dashboard
    client.force_login(cast.state_admin)
    response = client.get(HOME_URL)
    assert response.context["facility_count"] == 3
    assert "<dd>Administrator</dd>" in response.content.decode()


def test_the_pa_home_counts_the_facility_whose_ust_it_regulates(cast, client):
    refresh_summaries()  # the beat's count of every agency's dashboard
    client.force_login(cast.pa_viewer)
    response = client.get(HOME_URL)
    assert response.context["facility_count"] == 1
    assert "<dd>Participating Agency</dd>" in response.content.decode()


@pytest.mark.parametrize("persona", ["lead", "viewer", "outsider"])
def test_business_users_get_403_on_regulator_pages(cast, client, persona):
    client.force_login(getattr(cast, persona))
    for url in (HOME_URL, ORGANIZATIONS_URL, organization_url(cast.org)):
        assert client.get(url).status_code == 403, url
    assert client.post(SWITCH_URL, {"regulator": cast.cupa.pk}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(cast, client):
    response = client.get(HOME_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_switching_to_an_agency_you_are_not_staff_of_answers_404(cast, client):
    client.force_login(cast.cupa_reviewer)
    client.get(HOME_URL)
    response = client.post(SWITCH_URL, {"regulator": cast.cupa2.pk})
    assert response.status_code == 404
    assert client.session[REGULATOR_SESSION_KEY] == cast.cupa.pk
    assert client.get(HOME_URL).context["regulator"] == cast.cupa


@pytest.mark.parametrize("value", ["", "abc", "999999"])
def test_switching_to_nonsense_answers_404(cast, client, value):
    client.force_login(cast.cupa_reviewer)
    assert client.post(SWITCH_URL, {"regulator": value}).status_code == 404


def test_switching_agency_changes_the_agency_you_work_for(cast, client):
    add_staff(cast.cupa2, cast.cupa_reviewer, "viewer")
    refresh_summaries()
    client.force_login(cast.cupa_reviewer)
    response = client.post(SWITCH_URL, {"regulator": cast.cupa2.pk})
    assert response.status_code == 302
    assert response.url == HOME_URL
    home = client.get(HOME_URL)
    assert home.context["regulator"] == cast.cupa2
    assert "<dd>Viewer</dd>" in home.content.decode()
    assert client.post(SWITCH_URL, {"regulator": cast.cupa.pk}).status_code == 302
    assert client.get(HOME_URL).context["regulator"] == cast.cupa


def test_switch_agency_takes_only_post(cast, client):
    client.force_login(cast.cupa_reviewer)
    assert client.get(SWITCH_URL).status_code == 405


def test_a_cupa_lists_the_organizations_with_facilities_in_its_jurisdiction(cast, client):
    client.force_login(cast.cupa2_reviewer)
    response = client.get(ORGANIZATIONS_URL)
    assert counts(response) == {"Acme Fuels": 1, "Other Co": 1}
    assert organization_url(cast.org) in response.content.decode()


def test_the_facility_count_is_of_the_agencys_own_facilities(cast, client):
    client.force_login(cast.cupa_reviewer)
    assert counts(client.get(ORGANIZATIONS_URL)) == {"Acme Fuels": 1}
    client.force_login(cast.pa_viewer)
    assert counts(client.get(ORGANIZATIONS_URL)) == {"Acme Fuels": 1}


def test_the_state_lists_every_organization(cast, client):
    client.force_login(cast.state_admin)
    assert counts(client.get(ORGANIZATIONS_URL)) == {"Acme Fuels": 2, "Other Co": 1}


def test_organizations_search_by_name_and_code(cast, client):
    client.force_login(cast.state_admin)
    assert counts(client.get(ORGANIZATIONS_URL, {"q": "other"})) == {"Other Co": 1}
    assert counts(client.get(ORGANIZATIONS_URL, {"q": str(cast.org.code)})) == {"Acme Fuels": 2}


def test_the_organization_page_lists_its_facilities_in_jurisdiction(cast, client):
    client.force_login(cast.cupa_reviewer)
    response = client.get(organization_url(cast.org))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme Fuels" in page
    assert str(cast.org.code) in page
    assert [f.cers_id for f in response.context["page"]] == [cast.facility.cers_id]
    assert cast.facility_yolo.name not in page


def test_the_organization_page_answers_404_outside_jurisdiction(cast, client):
    client.force_login(cast.cupa_reviewer)
    assert client.get(organization_url(cast.other_org)).status_code == 404
    client.force_login(cast.pa_viewer)
    assert client.get(organization_url(cast.other_org)).status_code == 404


def test_the_state_sees_every_organization_page(cast, client):
    client.force_login(cast.state_admin)
    response = client.get(organization_url(cast.org))
    assert {f.cers_id for f in response.context["page"]} == {
        cast.facility.cers_id,
        cast.facility_yolo.cers_id,
    }
    assert client.get(organization_url(cast.other_org)).status_code == 200


def test_staff_of_two_agencies_see_the_current_agencys_organizations(cast, client):
    add_staff(cast.cupa2, cast.cupa_reviewer, "viewer")
    refresh_summaries()
    client.force_login(cast.cupa_reviewer)
    client.post(SWITCH_URL, {"regulator": cast.cupa.pk})
    assert counts(client.get(ORGANIZATIONS_URL)) == {"Acme Fuels": 1}
    assert client.get(organization_url(cast.other_org)).status_code == 404
    home = client.get(HOME_URL)
    assert (home.context["facility_count"], home.context["organization_count"]) == (1, 1)
    client.post(SWITCH_URL, {"regulator": cast.cupa2.pk})
    assert counts(client.get(ORGANIZATIONS_URL)) == {"Acme Fuels": 1, "Other Co": 1}
    assert client.get(organization_url(cast.other_org)).status_code == 200
    home = client.get(HOME_URL)
    assert (home.context["facility_count"], home.context["organization_count"]) == (2, 2)
