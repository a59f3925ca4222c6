"""Sign-up and e-mail activation."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import User
from accounts.views import SIGNUP_PREFILL_SESSION_KEY
from core.models import AuditEvent, OutboundEmail
from core.services import REDACTED
from tests import factories

from .helpers import link_path, link_url

SIGNUP = reverse("accounts:signup")


@pytest.fixture
def form(db, password):
    return {
        "email": "  New.Person@Example.COM ",
        "first_name": "Nina",
        "last_name": "Newton",
        "phone": "916-555-0100",
        "title": "EHS manager",
        "password1": password,
        "password2": password,
    }


def sign_up(client, django_capture_on_commit_callbacks, data, url=SIGNUP):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url, data)


def test_signup_creates_an_inactive_user_and_emails_a_link_that_activates_it(
    client, django_capture_on_commit_callbacks, form, password
):
    response = sign_up(client, django_capture_on_commit_callbacks, form)

    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_done")
    user = User.objects.get()
    assert user.email == "new.person@example.com"
    assert (user.first_name, user.last_name, user.phone, user.title) == (
        "Nina",
        "Newton",
        "916-555-0100",
        "EHS manager",
    )
    assert not user.is_active
    assert user.check_password(password)

    outbound = OutboundEmail.objects.get()
    assert outbound.to == ["new.person@example.com"]
    assert outbound.status == OutboundEmail.Status.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    # Once sent, the outbox keeps the message without its activation link.
    assert outbound.body == mail.outbox[0].body.replace(link_url(mail.outbox[0].body), REDACTED)

    assertContains(client.get(response.url), "new.person@example.com")

    response = client.get(link_path(mail.outbox[0].body))

    assert response.status_code == 302
    assert urlsplit(response.url).path == reverse("accounts:login")
    user.refresh_from_db()
    assert user.is_active
    assertContains(client.get(response.url), "is confirmed")


def test_signup_starts_from_the_details_the_session_holds(client, db):
    """An invitation page leaves the invited person's details in the session for sign-up."""
    session = client.session
    session[SIGNUP_PREFILL_SESSION_KEY] = {"email": "invited@example.com", "first_name": "Ina"}
    session.save()
    response = client.get(SIGNUP)

    assert response.context["form"]["email"].value() == "invited@example.com"
    assertContains(response, 'value="invited@example.com"')
    assertContains(response, 'value="Ina"')


def test_signup_reads_no_details_from_the_address(client, db):
    """A person's details never travel in a URL (logs, history, Referer): the query string
    prefills nothing."""
    response = client.get(SIGNUP, {"email": "someone@example.com", "first_name": "Sam"})

    assert not response.context["form"]["email"].value()
    assertNotContains(response, "someone@example.com")


def test_signup_carries_next_to_the_login_page_after_activation(
    client, django_capture_on_commit_callbacks, form
):
    sign_up(client, django_capture_on_commit_callbacks, form, f"{SIGNUP}?next=/invitations/abc/")

    response = client.get(link_path(mail.outbox[0].body))

    query = parse_qs(urlsplit(response.url).query)
    assert query["next"] == ["/invitations/abc/"]
    assert query["email"] == ["new.person@example.com"]


def test_signup_drops_a_next_that_leaves_the_site(client, django_capture_on_commit_callbacks, form):
    sign_up(
        client, django_capture_on_commit_callbacks, form, f"{SIGNUP}?next=https://evil.example/"
    )

    response = client.get(link_path(mail.outbox[0].body))

    assert response.status_code == 302
    assert "next" not in parse_qs(urlsplit(response.url).query)


def test_signup_with_an_existing_email_answers_as_usual_and_tells_the_owner(
    client, django_capture_on_commit_callbacks, form
):
    # Issue 12: the page no longer says the address has an account; its owner is e-mailed.
    owner = factories.make_user("new.person@example.com")

    response = sign_up(
        client, django_capture_on_commit_callbacks, {**form, "email": "NEW.person@example.com"}
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_done")
    assert User.objects.count() == 1
    owner.refresh_from_db()
    assert owner.is_active
    assert [m.to for m in mail.outbox] == [["new.person@example.com"]]
    assert "already has an account" in mail.outbox[0].body
    assert reverse("accounts:password_reset") in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="account.signup_repeated").count() == 1


def test_signup_refuses_a_weak_password(client, django_capture_on_commit_callbacks, form):
    response = sign_up(
        client,
        django_capture_on_commit_callbacks,
        {**form, "password1": "12345678", "password2": "12345678"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["password1"]
    assert "This password is entirely numeric." in errors
    assert any("too short" in error for error in errors)
    assertContains(response, "This password is entirely numeric.")
    assert not User.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_signup_refuses_a_password_confirmation_that_differs(
    client, django_capture_on_commit_callbacks, form, password
):
    response = sign_up(
        client, django_capture_on_commit_callbacks, {**form, "password2": password + "x"}
    )

    assert response.context["form"].errors["password2"] == ["The two passwords do not match."]
    assert not User.objects.exists()


def test_signup_requires_a_name_and_a_valid_email(client, django_capture_on_commit_callbacks, form):
    response = sign_up(
        client,
        django_capture_on_commit_callbacks,
        {**form, "email": "not-an-address", "first_name": "", "last_name": ""},
    )

    errors = response.context["form"].errors
    assert set(errors) == {"email", "first_name", "last_name"}
    assertContains(response, "Enter a valid email address.")
    assert not User.objects.exists()


def test_signup_sends_a_signed_in_user_home(client, user):
    client.force_login(user)

    response = client.get(SIGNUP)

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_an_invalid_activation_link_changes_nothing(client, inactive_user):
    uid = urlsafe_base64_encode(force_bytes(inactive_user.pk))

    response = client.get(reverse("accounts:activate", args=[uid, "bad-token"]))

    assert response.status_code == 400
    assertContains(response, "not valid", status_code=400)
    inactive_user.refresh_from_db()
    assert not inactive_user.is_active
    assert not AuditEvent.objects.filter(action="account.activated").exists()


def test_an_activation_link_naming_no_user_answers_400(client, db):
    response = client.get(reverse("accounts:activate", args=["garbage", "bad-token"]))

    assert response.status_code == 400


def test_an_activation_link_stops_working_after_the_first_sign_in(
    client, django_capture_on_commit_callbacks, form, password
):
    sign_up(client, django_capture_on_commit_callbacks, form)
    link = link_path(mail.outbox[0].body)
    client.get(link)
    client.post(
        reverse("accounts:login"), {"username": "new.person@example.com", "password": password}
    )
    client.logout()

    response = client.get(link)

    assert response.status_code == 400
    assertNotContains(response, "is confirmed", status_code=400)
