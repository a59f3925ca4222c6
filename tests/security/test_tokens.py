"""Issue 12, item 6: each kind of e-mailed token works for its own purpose only, once, for
its own lifetime; the outbox keeps no working token once a message is sent."""

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.tokens import activation_tokens, password_reset_tokens
from core.models import OutboundEmail
from core.services import REDACTED, queue_email
from core.tasks import send_outbound_email
from tests import factories

SIGNUP = reverse("accounts:signup")
NEW_PASSWORD = "a-brand-new-passphrase-42"


def uid(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def reset_link(user, token) -> str:
    return reverse("accounts:password_reset_confirm", args=[uid(user), token])


def activation_link(user, token) -> str:
    return reverse("accounts:activate", args=[uid(user), token])


def reset_link_works(client, link) -> bool:
    return client.get(link, follow=True).context["validlink"]


@pytest.fixture
def active(db):
    return factories.make_user("alice@example.com")


@pytest.fixture
def inactive(db):
    return factories.make_user("ivan@example.com", is_active=False)


def test_an_activation_token_does_not_open_the_reset_form(client, active, inactive):
    for user in (active, inactive):
        token = activation_tokens.make_token(user)
        assert not reset_link_works(client, reset_link(user, token))
        response = client.post(
            reset_link(user, token),
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert response.status_code == 200  # the "not valid" page, nothing set
        user.refresh_from_db()
        assert not user.check_password(NEW_PASSWORD)


def test_the_emailed_activation_link_does_not_open_the_reset_form(
    client, db, django_capture_on_commit_callbacks, password
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            SIGNUP,
            {
                "email": "new@example.com",
                "first_name": "Nina",
                "last_name": "New",
                "password1": password,
                "password2": password,
            },
        )
    path = urlsplit(re.search(r"https?://\S+", mail.outbox[0].body).group(0)).path
    match = resolve(path)
    assert match.view_name == "accounts:activate"
    # The same uid and token, presented at the set-password form.
    reset_path = reverse("accounts:password_reset_confirm", kwargs=match.kwargs)
    assert not reset_link_works(client, reset_path)


def test_a_reset_token_does_not_activate_an_account(client, inactive):
    token = password_reset_tokens.make_token(inactive)

    response = client.get(activation_link(inactive, token))

    assert response.status_code == 400
    inactive.refresh_from_db()
    assert not inactive.is_active


def test_each_token_works_for_its_own_purpose(client, active, inactive):
    assert reset_link_works(client, reset_link(active, password_reset_tokens.make_token(active)))
    response = client.get(activation_link(inactive, activation_tokens.make_token(inactive)))
    assert response.status_code == 302
    inactive.refresh_from_db()
    assert inactive.is_active


def test_an_activation_link_works_once(client, inactive):
    link = activation_link(inactive, activation_tokens.make_token(inactive))
    assert client.get(link).status_code == 302

    again = client.get(link)

    assert again.status_code == 400
    assert b"not valid" in again.content


def later(monkeypatch, hours: float):
    """Both kinds of token read the clock as ``hours`` from now."""
    moved = datetime.now() + timedelta(hours=hours)
    for generator in (activation_tokens, password_reset_tokens):
        monkeypatch.setattr(generator, "_now", lambda: moved)


def test_each_kind_expires_on_its_own_setting(settings, monkeypatch, active, inactive):
    settings.CERS_ACTIVATION_TIMEOUT = 2 * 3600
    settings.PASSWORD_RESET_TIMEOUT = 5 * 3600
    activation = activation_tokens.make_token(inactive)
    reset = password_reset_tokens.make_token(active)

    later(monkeypatch, 1)
    assert activation_tokens.check_token(inactive, activation)
    assert password_reset_tokens.check_token(active, reset)

    later(monkeypatch, 3)  # past the activation link's 2 hours, within the reset link's 5
    assert not activation_tokens.check_token(inactive, activation)
    assert password_reset_tokens.check_token(active, reset)

    settings.CERS_ACTIVATION_TIMEOUT = 6 * 3600
    settings.PASSWORD_RESET_TIMEOUT = 2 * 3600  # the other way round
    assert activation_tokens.check_token(inactive, activation)
    assert not password_reset_tokens.check_token(active, reset)


def test_the_default_lifetimes(settings):
    assert settings.CERS_ACTIVATION_TIMEOUT == 72 * 3600
    assert settings.PASSWORD_RESET_TIMEOUT == 24 * 3600
    assert settings.CERS_EMAIL_CHANGE_TIMEOUT == 24 * 3600


def links_in(text: str) -> list[str]:
    return [urlsplit(url).path for url in re.findall(r"https?://\S+", text)]


def test_the_outbox_keeps_no_working_activation_token_once_sent(
    client, db, django_capture_on_commit_callbacks, password
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            SIGNUP,
            {
                "email": "new@example.com",
                "first_name": "Nina",
                "last_name": "New",
                "password1": password,
                "password2": password,
            },
        )
    row = OutboundEmail.objects.get()
    assert row.status == OutboundEmail.Status.SENT
    [sent] = mail.outbox
    [live] = links_in(sent.body)

    assert live not in row.body
    assert REDACTED in row.body
    assert row.redacted_body == ""
    # Nothing left in the row opens anything.
    for path in links_in(row.body):
        assert client.get(path).status_code in (302, 400, 404)
        assert resolve(path).view_name != "accounts:activate"
    # The sent link itself still works, once.
    assert client.get(live).status_code == 302


def test_the_outbox_keeps_no_working_reset_token_once_sent(
    client, active, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": active.email})
    row = OutboundEmail.objects.get()
    [live] = links_in(mail.outbox[0].body)

    assert row.status == OutboundEmail.Status.SENT
    assert live not in row.body
    assert all(
        resolve(p).view_name != "accounts:password_reset_confirm" for p in links_in(row.body)
    )
    assert reset_link_works(client, live)


def test_the_outbox_keeps_no_invitation_token_once_sent(
    client, cast, django_capture_on_commit_callbacks
):
    from organizations.services import invite

    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(
            actor=cast.lead, organization=cast.org, email="late@acme.example", role="viewer"
        )
    row = OutboundEmail.objects.filter(to=["late@acme.example"]).get()
    assert row.status == OutboundEmail.Status.SENT
    assert invitation.token not in row.body
    assert invitation.token in mail.outbox[-1].body


def test_a_message_given_up_keeps_no_token_either(db, settings):
    settings.CERS_EMAIL_MAX_ATTEMPTS = 1
    settings.MAILERS = {"default": {"BACKEND": "tests.core.test_outbox.RefusingBackend"}}
    row = queue_email(["x@example.com"], "accounts/email/activation", ACTIVATION, secret=("url",))
    assert "SECRET-TOKEN" in row.body  # needed until the message leaves

    assert send_outbound_email(row.pk) == "failed"

    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.FAILED
    assert "SECRET-TOKEN" not in row.body


def test_a_message_to_be_retried_keeps_its_token_until_sent(db, settings, mailoutbox):
    settings.CERS_EMAIL_MAX_ATTEMPTS = 3
    settings.MAILERS = {"default": {"BACKEND": "tests.core.test_outbox.RefusingBackend"}}
    row = queue_email(["x@example.com"], "accounts/email/activation", ACTIVATION, secret=("url",))

    assert send_outbound_email(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.QUEUED
    assert "SECRET-TOKEN" in row.body

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert send_outbound_email(row.pk) == "sent"
    row.refresh_from_db()
    assert "SECRET-TOKEN" not in row.body
    assert "SECRET-TOKEN" in mailoutbox[0].body


def test_a_message_without_secrets_is_kept_as_sent(db, mailoutbox):
    row = queue_email(["x@example.com"], "accounts/email/activation", ACTIVATION)

    send_outbound_email(row.pk)

    row.refresh_from_db()
    assert row.body == mailoutbox[0].body


class _User:
    def get_short_name(self):
        return "Ivan"


ACTIVATION = {"user": _User(), "url": "https://x.example/SECRET-TOKEN/", "valid_hours": 72}
