"""The user agreements of the business and the regulator portals: each portal asks a
signed-in person to accept its current agreement before its first page, keeps what they
accepted (version and time) and asks again when the version changes. The public pages,
the account pages and the EDT services never ask."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts import services
from accounts.agreements import AGREEMENTS, agreement_for, has_accepted
from accounts.backends import PortalBackend
from accounts.models import AgreementAcceptance
from core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def accept_url(portal: str, next_url: str | None = None) -> str:
    url = reverse("accounts:agreement_accept", args=[portal])
    return f"{url}?next={next_url}" if next_url is not None else url


def forget(user) -> None:
    """The person has accepted neither portal's agreement."""
    AgreementAcceptance.objects.filter(user=user).delete()


def next_of(response) -> str:
    """The ``next`` a redirect to an acceptance page carries."""
    return parse_qs(urlsplit(response.url).query)["next"][0]


def version(portal: str) -> str:
    return agreement_for(portal).version


# -- the two portals ask ------------------------------------------------------------------


def test_the_business_portal_asks_for_its_agreement_first(client, cast):
    forget(cast.editor)
    client.force_login(cast.editor)
    facilities = reverse("business:facilities")

    response = client.get(f"{facilities}?q=depot")

    assert response.status_code == 302
    assert urlsplit(response.url).path == reverse("accounts:agreement_accept", args=["business"])
    assert next_of(response) == f"{facilities}?q=depot"


def test_the_regulator_portal_asks_for_its_agreement_first(client, cast):
    forget(cast.cupa_reviewer)
    client.force_login(cast.cupa_reviewer)
    queue = reverse("regulator:review_queue")

    response = client.get(queue)

    assert response.status_code == 302
    assert urlsplit(response.url).path == reverse("accounts:agreement_accept", args=["regulator"])
    assert next_of(response) == queue


def test_each_portal_asks_for_its_own_agreement(client, cast):
    """A person who accepted the business agreement is still asked for the regulator's."""
    user = factories.make_user("both@sac-cupa.example", agreements=["business"])
    factories.add_member(cast.org, user, "viewer")
    factories.add_staff(cast.cupa, user, "viewer")
    client.force_login(user)

    assert client.get(reverse("business:home")).status_code == 200
    response = client.get(reverse("regulator:home"))
    assert urlsplit(response.url).path == accept_url("regulator")


def test_a_person_with_no_organization_is_asked_before_the_start_page(client, db):
    user = factories.make_user("new@example.com", agreements=())
    client.force_login(user)

    response = client.get(reverse("business:start"))

    assert urlsplit(response.url).path == accept_url("business")


def test_a_business_user_opening_the_regulator_portal_is_refused_not_asked(client, cast):
    forget(cast.editor)
    client.force_login(cast.editor)

    assert client.get(reverse("regulator:home")).status_code == 403


def test_a_form_posted_without_the_agreement_changes_nothing(client, cast):
    forget(cast.lead)
    client.force_login(cast.lead)
    name = cast.org.name

    response = client.post(reverse("business:organization_edit"), {"name": "Renamed"})

    assert urlsplit(response.url).path == accept_url("business")
    cast.org.refresh_from_db()
    assert cast.org.name == name


def test_an_htmx_request_is_sent_to_the_agreement_as_a_whole_page(client, cast):
    """A fragment swapped into a page would show the agreement inside it: htmx is told to
    load the acceptance page in place of the page."""
    forget(cast.editor)
    client.force_login(cast.editor)
    home = reverse("business:home")

    response = client.get(home, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert urlsplit(response["HX-Redirect"]).path == accept_url("business")


# -- who is never asked -------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in_not_to_an_agreement(client, db):
    for url in (reverse("business:home"), reverse("regulator:home")):
        response = client.get(url)
        assert urlsplit(response.url).path == reverse("accounts:login")


@pytest.mark.parametrize(
    "name",
    ["home", "accounts:profile", "accounts:password_change", "regulator_directory"],
)
def test_pages_outside_the_portals_never_ask(client, cast, name):
    forget(cast.editor)
    client.force_login(cast.editor)

    response = client.get(reverse(name))

    assert not (response.status_code == 302 and "/agreements/" in response.url)


@pytest.mark.parametrize("portal", sorted(AGREEMENTS))
def test_the_agreements_are_public(client, db, portal):
    response = client.get(reverse("accounts:agreement", args=[portal]))

    assertContains(response, f"Version {version(portal)}")
    assertContains(response, "password")
    assertNotContains(response, 'name="accept"')


def test_an_unknown_agreement_is_not_found(client, user):
    client.force_login(user)

    assert client.get("/accounts/agreements/edt/").status_code == 404
    assert client.get("/accounts/agreements/edt/accept/").status_code == 404


def test_a_person_who_has_not_accepted_can_still_sign_out(client, cast):
    forget(cast.editor)
    client.force_login(cast.editor)

    client.post(reverse("accounts:logout"))

    assert "_auth_user_id" not in client.session


# -- accepting ----------------------------------------------------------------------------


def test_the_acceptance_page_shows_the_text_a_checkbox_and_the_version(client, cast):
    forget(cast.editor)
    client.force_login(cast.editor)

    response = client.get(accept_url("business", "/business/facilities/"))

    assertContains(response, "Business portal user agreement")
    assertContains(response, f"version {version('business')}")
    assertContains(response, 'type="checkbox" name="accept"')
    assertContains(response, 'value="/business/facilities/"')


def test_accepting_records_the_version_and_time_with_an_audit_event(client, cast):
    forget(cast.editor)
    client.force_login(cast.editor)
    next_url = reverse("business:facilities")

    response = client.post(
        accept_url("business"),
        {"accept": "on", "version": version("business"), "next": next_url},
    )

    assert response.status_code == 302
    assert response.url == next_url
    acceptance = AgreementAcceptance.objects.get(user=cast.editor)
    assert (acceptance.portal, acceptance.version) == ("business", version("business"))
    assert acceptance.accepted_at is not None
    event = AuditEvent.objects.get(action="account.agreement_accepted")
    assert event.actor_id == cast.editor.pk
    assert event.after == {"portal": "business", "version": version("business")}
    assert client.get(next_url).status_code == 200


def test_accepting_the_regulator_agreement_opens_the_regulator_portal(client, cast):
    forget(cast.cupa_reviewer)
    client.force_login(cast.cupa_reviewer)

    response = client.post(
        accept_url("regulator"), {"accept": "on", "version": version("regulator")}
    )

    assert response.url == reverse("regulator:home")
    assert client.get(reverse("regulator:review_queue")).status_code == 200


def test_refusing_without_the_checkbox_says_what_to_do_and_writes_nothing(client, cast):
    forget(cast.editor)
    client.force_login(cast.editor)

    response = client.post(accept_url("business"), {"version": version("business")})

    assert response.status_code == 200
    assertContains(response, "Tick the box to accept the agreement")
    assertContains(response, 'aria-invalid="true"')
    assert not AgreementAcceptance.objects.filter(user=cast.editor).exists()
    assert not AuditEvent.objects.filter(action="account.agreement_accepted").exists()


def test_declining_leaves_the_person_signed_in_with_their_account_page(client, cast):
    forget(cast.editor)
    client.force_login(cast.editor)

    response = client.post(accept_url("business"), {"decline": "1"})

    assert response.url == PROFILE
    assert client.session["_auth_user_id"] == str(cast.editor.pk)
    assert not AgreementAcceptance.objects.filter(user=cast.editor).exists()
    page = client.get(PROFILE)
    assertContains(page, "You did not accept the business portal user agreement")
    home = client.get(reverse("business:home"))
    assert urlsplit(home.url).path == accept_url("business")
    assert client.get(reverse("accounts:agreement", args=["business"])).status_code == 200


def test_accepting_twice_keeps_one_acceptance_and_one_event(cast):
    forget(cast.editor)
    for _ in range(2):
        services.accept_agreement(actor=cast.editor, portal="business", version=version("business"))

    assert AgreementAcceptance.objects.filter(user=cast.editor).count() == 1
    assert AuditEvent.objects.filter(action="account.agreement_accepted").count() == 1


def test_an_agreement_changed_since_the_page_was_opened_is_not_accepted(client, cast):
    forget(cast.editor)
    client.force_login(cast.editor)

    response = client.post(accept_url("business"), {"accept": "on", "version": "1999-1"})

    assert response.status_code == 200
    assertContains(response, f"version {version('business')}")
    assertContains(response, "has changed since")
    assert not AgreementAcceptance.objects.filter(user=cast.editor).exists()


def test_the_service_refuses_an_edt_service_account(db):
    account = factories.make_user("edt@sac-cupa.example", is_service_account=True, agreements=())

    with pytest.raises(PermissionDenied):
        services.accept_agreement(actor=account, portal="regulator", version=version("regulator"))


def test_the_service_refuses_an_unknown_agreement(user):
    with pytest.raises(ValidationError):
        services.accept_agreement(actor=user, portal="edt", version="2026-1")


def test_a_person_who_accepted_is_not_asked_again(client, cast):
    client.force_login(cast.editor)

    response = client.get(accept_url("business", reverse("business:facilities")))

    assert response.url == reverse("business:facilities")


# -- a new version ------------------------------------------------------------------------


def test_a_new_version_asks_again_and_both_are_kept(client, cast):
    client.force_login(cast.editor)
    old = version("business")

    with override_settings(CERS_BUSINESS_AGREEMENT_VERSION="2099-1"):
        response = client.get(reverse("business:home"))
        assert urlsplit(response.url).path == accept_url("business")
        assertContains(client.get(response.url), "version 2099-1")
        client.post(accept_url("business"), {"accept": "on", "version": "2099-1"})
        assert client.get(reverse("business:home")).status_code == 200

    versions = set(
        AgreementAcceptance.objects.filter(user=cast.editor, portal="business").values_list(
            "version", flat=True
        )
    )
    assert versions == {old, "2099-1"}


def test_a_new_regulator_version_leaves_the_business_portal_open(client, cast):
    user = factories.make_user("both@sac-cupa.example")
    factories.add_member(cast.org, user, "viewer")
    factories.add_staff(cast.cupa, user, "viewer")
    client.force_login(user)

    with override_settings(CERS_REGULATOR_AGREEMENT_VERSION="2099-1"):
        assert client.get(reverse("business:home")).status_code == 200
        assert client.get(reverse("regulator:home")).status_code == 302


# -- where to go next, safely -------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/business/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "business/",
        "http://testserver/business/facilities/",
    ],
)
def test_only_a_path_of_this_site_is_followed_after_accepting(client, cast, next_url):
    forget(cast.editor)
    client.force_login(cast.editor)

    page = client.get(accept_url("business"), {"next": next_url})
    response = client.post(
        accept_url("business"),
        {"accept": "on", "version": version("business"), "next": next_url},
    )

    assertNotContains(page, "evil.example")
    assert response.url == reverse("business:home")


def test_a_person_who_accepted_is_sent_home_from_an_unsafe_next(client, cast):
    client.force_login(cast.editor)

    response = client.get(accept_url("business"), {"next": "https://evil.example/"})

    assert response.url == reverse("business:home")


# -- the account page ---------------------------------------------------------------------


def test_the_account_page_shows_what_was_accepted_and_when(client, cast):
    client.force_login(cast.cupa_reviewer)
    acceptance = AgreementAcceptance.objects.get(user=cast.cupa_reviewer, portal="regulator")

    response = client.get(PROFILE)

    assertContains(response, "Regulator portal user agreement")
    assertContains(response, f"Version {acceptance.version}")
    rows = response.context["acceptances"]
    assert acceptance in rows


def test_the_account_page_says_when_nothing_was_accepted(client, db):
    user = factories.make_user("new@example.com", agreements=())
    client.force_login(user)

    response = client.get(PROFILE)

    assertContains(response, "You have not accepted a portal's user agreement yet")


# -- what a request costs -----------------------------------------------------------------


def test_the_user_is_read_with_what_they_accepted(cast, django_assert_num_queries):
    """Whether the person accepted the current versions is read with the user's own row
    (the session's user, each request): asking it on a portal page costs no query more."""
    with django_assert_num_queries(1):
        user = PortalBackend().get_user(cast.editor.pk)
    with django_assert_num_queries(0):
        assert has_accepted(user, "business")
        assert has_accepted(user, "regulator")

    forget(cast.editor)
    user = PortalBackend().get_user(cast.editor.pk)
    with django_assert_num_queries(0):
        assert not has_accepted(user, "business")
        assert not has_accepted(user, "regulator")


def test_a_user_read_otherwise_is_asked_of_the_database(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert has_accepted(cast.editor, "business")
