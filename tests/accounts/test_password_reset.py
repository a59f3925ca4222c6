"""Password reset: one e-mail through the outbox, a link that sets a new password once."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains

from accounts.tokens import password_reset_tokens
from core.models import OutboundEmail

from .helpers import link_path

RESET = reverse("accounts:password_reset")
NEW_PASSWORD = "a-brand-new-passphrase-42"


def ask_for_reset(client, django_capture_on_commit_callbacks, email):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(RESET, {"email": email})


def test_password_reset_emails_one_link_that_sets_a_new_password(
    client, django_capture_on_commit_callbacks, user, password
):
    response = ask_for_reset(client, django_capture_on_commit_callbacks, "ALICE@example.com")

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    outbound = OutboundEmail.objects.get()
    assert outbound.to == [user.email]
    assert outbound.status == OutboundEmail.Status.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert mail.outbox[0].subject == "Reset your CERS password"
    link = link_path(mail.outbox[0].body)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(password)
    assertContains(client.get(link, follow=True), "This reset link is not valid")


def test_password_reset_refuses_a_weak_new_password(
    client, django_capture_on_commit_callbacks, user, password
):
    ask_for_reset(client, django_capture_on_commit_callbacks, user.email)
    form_page = client.get(link_path(mail.outbox[0].body), follow=True)

    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "123", "new_password2": "123"}
    )

    assert response.status_code == 200
    assertContains(response, "This password is too short.")
    user.refresh_from_db()
    assert user.check_password(password)


@pytest.mark.parametrize("who", ["service_account", "inactive_user", "nobody"])
def test_password_reset_sends_no_link_to_service_inactive_or_unknown_accounts(
    client, django_capture_on_commit_callbacks, db, request, who
):
    # Issue 12: the address still gets one e-mail (so the outbox and the timing match a real
    # account's), saying no reset is possible; it carries no reset link.
    email = "nobody@example.com" if who == "nobody" else request.getfixturevalue(who).email

    response = ask_for_reset(client, django_capture_on_commit_callbacks, email)

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert OutboundEmail.objects.get().to == [email]
    [message] = mail.outbox
    assert message.to == [email]
    assert "No active account" in message.body
    assert "/accounts/reset/" not in message.body


def test_password_reset_shows_an_error_for_a_malformed_address(client, db):
    response = client.post(RESET, {"email": "not-an-address"})

    assert response.status_code == 200
    assertContains(response, "Enter a valid email address.")


def test_a_reset_link_for_a_service_account_is_refused(client, service_account, password):
    uid = urlsafe_base64_encode(force_bytes(service_account.pk))
    token = password_reset_tokens.make_token(service_account)
    link = reverse("accounts:password_reset_confirm", args=[uid, token])

    response = client.get(link, follow=True)

    assert not response.context["validlink"]
    client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    service_account.refresh_from_db()
    assert service_account.check_password(password)
