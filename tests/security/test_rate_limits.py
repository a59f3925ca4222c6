"""Rate limits on what anyone can submit over and over (sign-up, a new activation link,
password reset, join by organization code) and on the EDT calls nobody vouches for.

Past a limit a page answers 429 with ``Retry-After`` and a page that says when to try again;
an EDT call answers 429 with ``Retry-After`` in the service's error answer, and a refused burst
leaves one row in the transaction log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertTemplateUsed

from accounts.models import User
from core.models import OutboundEmail
from core.ratelimit import hit, parse_rate
from organizations.models import JoinRequest
from tests import factories

SIGNUP = reverse("accounts:signup")
RESET = reverse("accounts:password_reset")
RESEND = reverse("accounts:activation_resend")
JOIN = reverse("business:join_request_create")
PROXY = "10.0.0.1"


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.CERS_RATE_LIMITS = {
            "signup": None,
            "password_reset": None,
            "email": None,
            "join": None,
            **rates,
        }

    return set_rates


def signup_data(n: int, email: str | None = None) -> dict:
    return {
        "email": email or f"new{n}@example.com",
        "first_name": "New",
        "last_name": f"Person {n}",
        "password1": "a-long-new-password-7",
        "password2": "a-long-new-password-7",
    }


def assert_refused(response, what: str):
    assert response.status_code == 429
    assertTemplateUsed(response, "rate_limited.html")
    assertContains(response, f"tried to {what} too many times", status_code=429)
    assertContains(response, "Try again in", status_code=429)
    assert 0 < int(response["Retry-After"]) <= 3600


def test_the_default_rates_are_set(settings):
    assert settings.CERS_RATE_LIMITS == {
        "signup": "10/hour",
        "password_reset": "10/hour",
        "email": "5/hour",
        "join": "20/hour",
    }


# -- the counter ----------------------------------------------------------------------------


def test_a_rate_is_parsed_as_drf_writes_it():
    assert parse_rate("10/hour") == parse_rate("10/h")
    assert parse_rate("3/minute").seconds == 60
    assert parse_rate("") is None
    assert parse_rate(None) is None
    with pytest.raises(ValueError, match="N/second"):
        parse_rate("ten a day")


def test_a_window_allows_its_count_then_says_how_long_to_wait():
    rate = parse_rate("2/minute")
    now = 6000.0 + 15  # 15 seconds into a window
    assert hit("test", "a", rate, now) is None
    assert hit("test", "a", rate, now) is None
    assert hit("test", "a", rate, now) == 45
    assert hit("test", "b", rate, now) is None  # another key counts on its own
    assert hit("test", "a", rate, now + 45) is None  # the next window


# -- sign-up --------------------------------------------------------------------------------


def test_sign_up_is_limited_per_client_address(client, db, rates):
    rates(signup="2/hour")
    for n in range(2):
        assert client.post(SIGNUP, signup_data(n)).status_code == 302

    response = client.post(SIGNUP, signup_data(3))

    assert_refused(response, "sign up")
    assert not User.objects.filter(email="new3@example.com").exists()
    # The form is still shown (GET is not counted), and another address may sign up.
    assert client.get(SIGNUP).status_code == 200
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert other.post(SIGNUP, signup_data(4)).status_code == 302


def test_sign_up_behind_a_trusted_proxy_counts_each_client(db, rates, settings):
    rates(signup="1/hour")
    settings.CERS_TRUSTED_PROXIES = 1
    first = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    second = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert first.post(SIGNUP, signup_data(1)).status_code == 302
    assert first.post(SIGNUP, signup_data(2)).status_code == 429
    assert second.post(SIGNUP, signup_data(3)).status_code == 302


def test_without_trusted_proxies_a_changed_header_does_not_escape(db, rates):
    rates(signup="1/hour")
    Client(HTTP_X_FORWARDED_FOR="198.51.100.7").post(SIGNUP, signup_data(1))

    response = Client(HTTP_X_FORWARDED_FOR="198.51.100.8").post(SIGNUP, signup_data(2))

    assert response.status_code == 429


# -- password reset -------------------------------------------------------------------------


def test_password_reset_is_limited_per_client_address(client, db, rates):
    rates(password_reset="2/hour")
    for n in range(2):
        assert client.post(RESET, {"email": f"someone{n}@example.com"}).status_code == 302

    assert_refused(client.post(RESET, {"email": "someone9@example.com"}), "reset a password")


def test_password_reset_is_limited_per_e_mail_address_from_any_address(db, rates):
    rates(email="2/hour")
    user = factories.make_user("alice@example.com")
    for n in range(2):
        client = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert client.post(RESET, {"email": user.email}).status_code == 302

    response = Client(REMOTE_ADDR="203.0.113.9").post(RESET, {"email": "ALICE@example.com "})

    assert_refused(response, "reset a password")
    assert OutboundEmail.objects.filter(to=[user.email]).count() == 2
    # Someone else's reset is not held up.
    other = Client(REMOTE_ADDR="203.0.113.9").post(RESET, {"email": "bob@example.com"})
    assert other.status_code == 302


# -- a new activation link ------------------------------------------------------------------


def test_a_new_activation_link_is_limited_like_sign_up(client, db, rates):
    rates(signup="1/hour")
    assert client.post(RESEND, {"email": "ivan@example.com"}).status_code == 302

    assert_refused(client.post(RESEND, {"email": "ivan@example.com"}), "get a new activation link")


# -- join by organization code --------------------------------------------------------------


@pytest.fixture
def joiner(db):
    return factories.make_user("joiner@example.com")


def test_join_by_code_is_limited_per_client_address(client, joiner, rates):
    rates(join="2/hour")
    client.force_login(joiner)
    for code in (10000001, 10000002):
        assert client.post(JOIN, {"code": code, "kind": "organization"}).status_code == 200

    response = client.post(JOIN, {"code": 10000003, "kind": "organization"})

    assert_refused(response, "ask to join an organization")


def test_join_by_code_is_limited_per_user_from_any_address(joiner, rates):
    rates(join="2/hour")
    for n in range(2):
        client = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        client.force_login(joiner)
        client.post(JOIN, {"code": 10000001 + n, "kind": "organization"})

    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(joiner)
    organization = factories.make_organization(factories.make_user("lead@example.com"), "Co")

    response = client.post(JOIN, {"code": organization.code, "kind": "organization"})

    assert response.status_code == 429
    assert not JoinRequest.objects.exists()


def test_a_join_within_the_limit_goes_through(client, joiner, rates):
    rates(join="2/hour")
    organization = factories.make_organization(factories.make_user("lead@example.com"), "Co")
    client.force_login(joiner)

    response = client.post(JOIN, {"code": organization.code, "kind": "organization"})

    assert response.status_code == 302
    assert JoinRequest.objects.filter(user=joiner, organization=organization).exists()


def test_an_empty_rate_turns_a_limit_off(client, db, rates):
    rates()
    for n in range(12):
        assert client.post(SIGNUP, signup_data(n)).status_code == 302
