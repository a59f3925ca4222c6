"""Sign-in, sign-out, throttling, and EDT service accounts kept out of the portals."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from accounts.models import User
from accounts.services import activation_url
from tests import factories

LOGIN = reverse("accounts:login")
GENERIC = "The e-mail address or the password is not correct."
CONFIRM_FIRST = "confirm your e-mail address first"
SERVICE = "EDT service accounts cannot sign in to the portals"
DISABLED = "This account is disabled"


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_login_labels_the_username_field_as_email_address(client, db):
    response = client.get(LOGIN)

    assert response.context["form"].fields["username"].label == "E-mail address"
    assertContains(response, "E-mail address")


def test_login_works_and_goes_home(client, user, password):
    response = client.post(LOGIN, {"username": "Alice@Example.com", "password": password})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user_id(client) == str(user.pk)


def test_login_follows_a_safe_next(client, user, password):
    response = client.post(
        f"{LOGIN}?next=/invitations/abc/", {"username": user.email, "password": password}
    )

    assert response.url == "/invitations/abc/"


def test_login_ignores_a_next_that_leaves_the_site(client, user, password):
    response = client.post(
        LOGIN,
        {"username": user.email, "password": password, "next": "https://evil.example/"},
    )

    assert response.url == reverse("home")


def test_login_refuses_a_wrong_password_with_a_generic_message(client, user):
    response = client.post(LOGIN, {"username": user.email, "password": "not-the-password"})

    assert response.status_code == 200
    assertContains(response, GENERIC)
    assert signed_in_user_id(client) is None


def test_login_answers_an_unknown_address_like_a_wrong_password(client, db, password):
    response = client.post(LOGIN, {"username": "nobody@example.com", "password": password})

    assertContains(response, GENERIC)


def test_login_tells_an_unactivated_account_to_confirm_its_email(client, inactive_user, password):
    response = client.post(LOGIN, {"username": inactive_user.email, "password": password})

    assert response.status_code == 200
    assertContains(response, CONFIRM_FIRST)
    assert signed_in_user_id(client) is None


def test_login_does_not_reveal_an_unactivated_account_without_its_password(client, inactive_user):
    response = client.post(LOGIN, {"username": inactive_user.email, "password": "wrong-guess"})

    assertContains(response, GENERIC)
    assertNotContains(response, CONFIRM_FIRST)


def test_login_tells_a_disabled_account_it_is_disabled_not_to_confirm_again(client, db, password):
    user = factories.make_user("dora@example.com")
    user.is_active = False  # disabled by an operator
    user.save()

    response = client.post(LOGIN, {"username": user.email, "password": password})

    assert response.status_code == 200
    assertContains(response, DISABLED)
    assertNotContains(response, CONFIRM_FIRST)
    assert signed_in_user_id(client) is None
    wrong = client.post(LOGIN, {"username": user.email, "password": "wrong-guess"})
    assertContains(wrong, GENERIC)
    assertNotContains(wrong, DISABLED)


def test_login_works_after_activation(client, inactive_user, password):
    client.get(urlsplit(activation_url(inactive_user)).path)

    response = client.post(LOGIN, {"username": inactive_user.email, "password": password})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user_id(client) == str(inactive_user.pk)


def test_a_service_account_cannot_log_in(client, service_account, password):
    response = client.post(LOGIN, {"username": service_account.email, "password": password})

    assert response.status_code == 200
    assertContains(response, SERVICE)
    assert signed_in_user_id(client) is None


def test_a_service_account_with_a_wrong_password_gets_the_generic_message(client, service_account):
    response = client.post(LOGIN, {"username": service_account.email, "password": "wrong-guess"})

    assertContains(response, GENERIC)
    assertNotContains(response, SERVICE)


@pytest.mark.urls("tests.accounts.urls")
def test_a_portal_page_admits_a_signed_in_user(client, user):
    client.force_login(user)

    response = client.get(reverse("portal_probe"))

    assertContains(response, f"portal page for {user.email}")


@pytest.mark.urls("tests.accounts.urls")
def test_a_service_account_session_cannot_reach_a_portal_page(client, service_account):
    client.force_login(service_account)

    response = client.get(reverse("portal_probe"))

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_logout_requires_post(client, user):
    client.force_login(user)

    response = client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert signed_in_user_id(client) == str(user.pk)


def test_logout_signs_out_and_goes_to_the_login_page(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response.url == LOGIN
    assert signed_in_user_id(client) is None


def test_a_signed_in_user_visiting_login_is_sent_on(client, user):
    client.force_login(user)

    response = client.get(LOGIN)

    assert response.status_code == 302


class TestThrottling:
    """django-axes locks the pair (e-mail address, IP address) after five failures."""

    IP = "192.0.2.10"
    OTHER_IP = "198.51.100.20"

    def fail(self, client, email, times, ip=IP):
        for _ in range(times):
            client.post(LOGIN, {"username": email, "password": "wrong-guess"}, REMOTE_ADDR=ip)

    def test_four_failures_do_not_lock(self, client, user, password):
        self.fail(client, user.email, 4)

        response = client.post(
            LOGIN, {"username": user.email, "password": password}, REMOTE_ADDR=self.IP
        )

        assert response.status_code == 302
        assert signed_in_user_id(client) == str(user.pk)

    def test_five_failures_lock_that_email_and_ip_even_with_the_right_password(
        self, client, user, password
    ):
        self.fail(client, user.email, 5)

        response = client.post(
            LOGIN, {"username": user.email, "password": password}, REMOTE_ADDR=self.IP
        )

        assert response.status_code == 429
        assertTemplateUsed(response, "accounts/locked_out.html")
        assertContains(response, "Try again in 15 minutes", status_code=429)
        assert signed_in_user_id(client) is None

    def test_failures_count_for_the_address_whatever_its_case(self, client, user, password):
        self.fail(client, "ALICE@example.com", 3)
        self.fail(client, "alice@EXAMPLE.com", 2)

        response = client.post(
            LOGIN, {"username": user.email, "password": password}, REMOTE_ADDR=self.IP
        )

        assert response.status_code == 429

    def test_the_same_email_from_another_ip_is_not_locked(self, client, user, password):
        self.fail(client, user.email, 5)

        other = Client()
        response = other.post(
            LOGIN, {"username": user.email, "password": password}, REMOTE_ADDR=self.OTHER_IP
        )

        assert response.status_code == 302
        assert signed_in_user_id(other) == str(user.pk)

    def test_another_email_from_the_same_ip_is_not_locked(self, client, user, password):
        self.fail(client, user.email, 5)
        bob = User.objects.create_user("bob@example.com", password, is_active=True)

        response = client.post(
            LOGIN, {"username": bob.email, "password": password}, REMOTE_ADDR=self.IP
        )

        assert response.status_code == 302
