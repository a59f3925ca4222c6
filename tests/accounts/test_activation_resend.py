"""Sending the activation link again."""

from django.core import mail
from django.urls import reverse

from accounts.models import User
from core.models import OutboundEmail
from tests import factories

from .helpers import link_path

RESEND = reverse("accounts:activation_resend")


def resend(client, django_capture_on_commit_callbacks, email):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(RESEND, {"email": email})


def test_an_inactive_account_gets_a_new_link_that_activates_it(
    client, db, django_capture_on_commit_callbacks
):
    user = factories.make_user("waiting@example.com", is_active=False)

    response = resend(client, django_capture_on_commit_callbacks, "Waiting@Example.com")

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:signup_done")
    assert [m.to for m in mail.outbox] == [["waiting@example.com"]]
    client.get(link_path(mail.outbox[0].body))
    user.refresh_from_db()
    assert user.is_active


def test_the_answer_is_the_same_for_an_unknown_or_active_address(
    client, db, django_capture_on_commit_callbacks
):
    factories.make_user("active@example.com")
    factories.make_user("edt@example.com", is_active=False, is_service_account=True)

    for email in ("nobody@example.com", "active@example.com", "edt@example.com"):
        response = resend(client, django_capture_on_commit_callbacks, email)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:signup_done")

    assert mail.outbox == []
    assert not OutboundEmail.objects.exists()


def test_an_address_that_is_not_one_is_explained(client, db):
    response = client.post(RESEND, {"email": "not-an-address"})

    assert response.status_code == 400
    assert b"Enter the e-mail address you signed up with." in response.content
    assert User.objects.count() == 0


def test_an_account_an_operator_disabled_is_not_activated_again_by_its_owner(
    client, db, django_capture_on_commit_callbacks
):
    """Activation confirms an address once: an account that was active and was then disabled
    (an operator unticked "active") is not an account waiting for its link. Neither asking
    for a new link nor signing up again sends one, and the first link stays spent."""
    signup = {
        "email": "mallory@example.com",
        "first_name": "Mallory",
        "last_name": "Example",
        "password1": "a-long-new-password-7",
        "password2": "a-long-new-password-7",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), signup)
    first_link = link_path(mail.outbox[-1].body)
    client.get(first_link)
    user = User.objects.get(email="mallory@example.com")
    assert user.is_active
    user.is_active = False  # disabled by an operator (the Django admin)
    user.save()
    mail.outbox.clear()

    response = resend(client, django_capture_on_commit_callbacks, "mallory@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:signup_done")
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(reverse("accounts:signup"), signup)
    assert again.status_code == 302
    reused = client.get(first_link)

    assert reused.status_code == 400
    assert not any("/accounts/activate/" in m.body for m in mail.outbox)
    user.refresh_from_db()
    assert not user.is_active
