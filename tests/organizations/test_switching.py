"""A consultant in several organizations switches between them."""

import pytest
from django.urls import reverse

from core.views import ORGANIZATION_SESSION_KEY
from organizations.roles import Role
from tests import factories


def _consultant(cast):
    consultant = factories.make_user("casey@consult.example", first_name="Casey")
    own = factories.make_organization(consultant, "Zed Consulting")
    factories.add_member(cast.org, consultant, Role.EDITOR)
    return consultant, own


def test_a_consultant_switches_between_organizations(client, cast):
    consultant, own = _consultant(cast)
    client.force_login(consultant)
    home = client.get(reverse("business:home"))
    assert b"<h1>Acme Fuels</h1>" in home.content  # the first, by name
    assert b"Zed Consulting" in home.content  # in the switcher

    response = client.post(
        reverse("business:switch_organization"), {"organization": own.pk}, follow=True
    )
    assert response.redirect_chain == [(reverse("business:home"), 302)]
    assert b"<h1>Zed Consulting</h1>" in response.content
    assert b"Lead User" in response.content
    assert client.session[ORGANIZATION_SESSION_KEY] == own.pk

    client.post(reverse("business:switch_organization"), {"organization": cast.org.pk})
    assert b"<h1>Acme Fuels</h1>" in client.get(reverse("business:home")).content


def test_switching_to_an_organization_you_are_not_in_is_not_found(client, cast):
    client.force_login(cast.lead)
    client.get(reverse("business:home"))
    response = client.post(
        reverse("business:switch_organization"), {"organization": cast.other_org.pk}
    )
    assert response.status_code == 404
    assert client.session[ORGANIZATION_SESSION_KEY] == cast.org.pk
    assert b"<h1>Acme Fuels</h1>" in client.get(reverse("business:home")).content


def test_switching_answers_to_post_only(client, cast):
    client.force_login(cast.lead)
    url = reverse("business:switch_organization")
    assert client.get(url, {"organization": cast.org.pk}).status_code == 405


def test_switching_goes_back_to_a_safe_next_page(client, cast):
    consultant, own = _consultant(cast)
    client.force_login(consultant)
    url = reverse("business:switch_organization")
    people = reverse("business:people")
    response = client.post(url, {"organization": own.pk, "next": people})
    assert response.url == people
    response = client.post(url, {"organization": own.pk, "next": "https://evil.example/"})
    assert response.url == reverse("business:home")


def test_a_link_to_a_facility_of_another_of_your_organizations_opens_it_there(client, cast):
    """A consultant working in their own organization follows a link (a due date reminder's,
    the notifications page's) to a facility of another organization they belong to: the page
    opens, in that organization, and says so."""
    consultant, own = _consultant(cast)
    client.force_login(consultant)
    client.post(reverse("business:switch_organization"), {"organization": own.pk})
    for url in (
        reverse("business:submittals", args=[cast.facility.cers_id]),
        reverse("business:facility", args=[cast.facility.cers_id]),
    ):
        client.post(reverse("business:switch_organization"), {"organization": own.pk})
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert response.redirect_chain == [(url, 302)]
        assert cast.facility.name.encode() in response.content
        assert client.session[ORGANIZATION_SESSION_KEY] == cast.org.pk
        assert b"You are now working in Acme Fuels" in response.content


def test_a_facility_of_an_organization_you_are_not_in_stays_not_found(client, cast):
    consultant, own = _consultant(cast)
    client.force_login(consultant)
    client.post(reverse("business:switch_organization"), {"organization": own.pk})
    for url in (
        reverse("business:submittals", args=[cast.other_facility.cers_id]),
        reverse("business:facility", args=[cast.other_facility.cers_id]),
        reverse("business:facility", args=[99999999]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.session[ORGANIZATION_SESSION_KEY] == own.pk


def test_a_post_to_a_facility_of_another_organization_does_not_switch(client, cast):
    """A form posted from a page of another organization (a tab left open) changes nothing:
    only opening a page moves the user to its organization."""
    consultant, own = _consultant(cast)
    client.force_login(consultant)
    client.post(reverse("business:switch_organization"), {"organization": own.pk})
    url = reverse("business:draft_start", args=[cast.facility.cers_id])
    assert client.post(url, {"element": 1}).status_code == 404
    assert client.session[ORGANIZATION_SESSION_KEY] == own.pk


@pytest.mark.parametrize("target", ["9223372036854775808", "people"])
def test_a_next_that_names_no_page_is_followed_as_a_relative_address(client, cast, target):
    """``next`` is an address, never a view's name: one that is not a path is followed as the
    relative address it is (on this site), not looked up as a view (a server error)."""
    viewer = cast.org.memberships.get(user=cast.viewer)
    client.force_login(cast.lead)
    response = client.post(
        reverse("business:member_role", args=[viewer.pk]), {"role": "editor", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == target
