"""The state administrator's page of the largest organizations, and taking organizations
over and releasing them from the regulator portal."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from facilities import services
from tests import factories
from tests.facilities.bulk import bulk_facilities, bulk_organizations

LIST_URL = reverse("regulator:large_organizations")


def take_over_url(organization):
    return reverse("regulator:organization_take_over", args=[organization.code])


def release_url(organization):
    return reverse("regulator:organization_release", args=[organization.code])


def listed(response) -> list[tuple[str, int]]:
    return [(org.name, org.facility_count) for org in response.context["page"]]


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def state_viewer(cast):
    user = factories.make_user("viewer@calepa.example")
    factories.add_staff(cast.state, user, "viewer")
    return user


def test_it_lists_organizations_the_largest_first(cast, client, settings):
    settings.CERS_LARGE_ORGANIZATION_THRESHOLD = 3
    big = factories.make_organization(factories.make_user("boss@big.example"), "Big Co")
    for _ in range(3):
        factories.make_facility(big, zip_code="95814")
    client.force_login(cast.state_admin)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert listed(response) == [("Big Co", 3), ("Acme Fuels", 2), ("Other Co", 1)]
    page = response.content.decode()
    assert "Automatically (3+ facilities)" in page
    assert "California Environmental Protection Agency (1000)" in page  # Big Co's lead
    assert "Sacramento County CUPA (1001)" in page  # Acme's lead
    assert take_over_url(cast.org) in page


def test_each_rows_button_says_which_organization_it_acts_on(cast, client):
    services.take_over_organization(actor=cast.state_admin, organization=cast.other_org)
    client.force_login(cast.state_admin)
    page = client.get(LIST_URL).content.decode()
    assert 'aria-label="Take over: Acme Fuels">Take over</button>' in page
    assert 'aria-label="Release: Other Co">Release</button>' in page


def test_the_list_paginates_and_searches(cast, client, settings):
    settings.CERS_PAGE_SIZE = 1
    client.force_login(cast.state_admin)
    assert listed(client.get(LIST_URL)) == [("Acme Fuels", 2)]
    assert listed(client.get(LIST_URL, {"page": 2})) == [("Other Co", 1)]
    assert listed(client.get(LIST_URL, {"q": "other"})) == [("Other Co", 1)]


def test_the_list_issues_the_same_queries_for_10_or_1000_facilities(
    cast, client, django_assert_num_queries
):
    bulk_facilities(bulk_organizations(1), 10, cast.cupa)
    client.force_login(cast.state_admin)
    client.get(LIST_URL)  # the first request settles the session
    with CaptureQueriesContext(connection) as few:
        client.get(LIST_URL)
    bulk_facilities(bulk_organizations(99), 990, cast.cupa)
    # Session, user, staff memberships (whose role says the user is the state administrator),
    # the user's grants (``core.scoping.grants``), the scoped count, the page with its lead
    # regulators and facility counts.
    with django_assert_num_queries(6):
        response = client.get(LIST_URL, {"page": 2})
    assert len(few) == 6
    assert response.context["page"].paginator.count == 2 + 1 + 99


def test_the_state_administrator_takes_over_from_the_list(cast, client):
    client.force_login(cast.state_admin)

    response = client.post(take_over_url(cast.org), {"return_to": "list"})

    assert response.status_code == 302
    assert response.url == LIST_URL
    cast.org.refresh_from_db()
    assert (cast.org.lead_regulator, cast.org.lead_regulator_pinned) == (cast.state, True)
    assert texts(response) == [
        "Acme Fuels is now managed by the state: California Environmental Protection Agency (1000)."
    ]
    assert "Taken over" in client.get(LIST_URL).content.decode()


def test_the_state_administrator_releases_from_the_organization_page(cast, client):
    services.take_over_organization(actor=cast.state_admin, organization=cast.org)
    client.force_login(cast.state_admin)
    page = client.get(reverse("regulator:organization", args=[cast.org.code])).content.decode()
    assert release_url(cast.org) in page

    response = client.post(release_url(cast.org))

    assert response.url == reverse("regulator:organization", args=[cast.org.code])
    cast.org.refresh_from_db()
    assert (cast.org.lead_regulator, cast.org.lead_regulator_pinned) == (cast.cupa, False)
    assert AuditEvent.objects.filter(action="organization.released").count() == 1


def test_releasing_an_organization_not_taken_over_says_so_and_writes_nothing(cast, client):
    client.force_login(cast.state_admin)

    response = client.post(release_url(cast.org))

    assert response.status_code == 302
    assert texts(response) == [
        "Acme Fuels was not taken over; its lead regulator already follows the automatic rule."
    ]
    assert not AuditEvent.objects.filter(action="organization.released").exists()


@pytest.mark.parametrize("persona", ["cupa_admin", "state_viewer"])
def test_other_regulator_staff_get_403(cast, client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(LIST_URL).status_code == 403
    assert client.post(take_over_url(cast.org)).status_code == 403
    cast.org.refresh_from_db()
    assert cast.org.lead_regulator_pinned is False
    assert not AuditEvent.objects.filter(action="organization.taken_over").exists()


def test_the_take_over_buttons_are_only_shown_to_the_state_administrator(
    cast, client, state_viewer
):
    url = reverse("regulator:organization", args=[cast.org.code])
    client.force_login(state_viewer)
    assert take_over_url(cast.org) not in client.get(url).content.decode()
    client.force_login(cast.cupa_reviewer)
    assert take_over_url(cast.org) not in client.get(url).content.decode()
    client.force_login(cast.state_admin)
    assert take_over_url(cast.org) in client.get(url).content.decode()
    assert LIST_URL in client.get(reverse("regulator:home")).content.decode()


def test_an_organization_outside_the_jurisdiction_answers_404(cast, client, cupa_admin):
    client.force_login(cupa_admin)
    assert client.post(take_over_url(cast.other_org)).status_code == 404
    assert client.post(release_url(cast.other_org)).status_code == 404


@pytest.mark.parametrize("persona", ["lead", "outsider"])
def test_business_users_get_403(cast, client, persona):
    client.force_login(getattr(cast, persona))
    assert client.get(LIST_URL).status_code == 403
    assert client.post(take_over_url(cast.org)).status_code == 403


def test_take_over_takes_only_post(cast, client):
    client.force_login(cast.state_admin)
    assert client.get(take_over_url(cast.org)).status_code == 405
    assert client.get(release_url(cast.org)).status_code == 405
