"""Rate limits on what anyone can submit over and over (sign-up, a new activation link,
password reset, join by organization code, the implementers' list, invitations) and on the EDT
calls nobody vouches for.

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
from edt.credentials import legacy_value
from edt.models import EdtTransaction
from organizations.models import JoinRequest
from tests import factories
from tests.edt.conftest import legacy_header, make_edt_account

SIGNUP = reverse("accounts:signup")
RESET = reverse("accounts:password_reset")
RESEND = reverse("accounts:activation_resend")
JOIN = reverse("business:join_request_create")
IMPLEMENTERS = reverse("edt_program:implementers")
PEOPLE = reverse("business:people")
NAMED = {"first_name": "Pat", "last_name": "Person"}  # the invite form asks for the name
RAT = "/EDT/Regulator/Authenticate?regulatorCode=1001"
PROXY = "10.0.0.1"


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.CERS_RATE_LIMITS = {
            "signup": None,
            "password_reset": None,
            "email": None,
            "join": None,
            "implementers": None,
            "invite": None,
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
        "implementers": "10/hour",
        "invite": "30/hour",
        "password_change": "10/hour",
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
        # Unknown codes: answered like known ones (the requester learns why by e-mail).
        assert client.post(JOIN, {"code": code, "kind": "organization"}).status_code == 302

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


def test_asking_to_join_an_agencys_staff_counts_with_the_requests_to_join(
    client, cast, joiner, rates
):
    """Each request e-mails the agency's administrators: limited per client address and per
    user, together with the requests to join an organization."""
    from regulators.models import StaffAccessRequest

    rates(join="2/hour")
    client.force_login(joiner)
    client.post(JOIN, {"code": 10000001, "kind": "organization"})
    staff_join = reverse("staff_request_create", args=[cast.state.code])
    assert client.post(staff_join, {"role": "viewer"}).status_code == 302
    assert client.get(staff_join).status_code == 200  # reading the page is not counted

    response = client.post(staff_join, {"role": "viewer"})

    assert_refused(response, "ask to join the staff of an agency")
    assert StaffAccessRequest.objects.filter(user=joiner).count() == 1


def test_a_cache_that_is_down_lets_the_page_work_uncounted(client, db, rates, monkeypatch):
    import redis.exceptions

    from core import ratelimit

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused")

    rates(signup="1/hour")
    monkeypatch.setattr(ratelimit, "hit", down)
    for n in range(3):
        response = client.post(SIGNUP, signup_data(n))
        assert response.status_code == 302  # signed up, not 429 nor 500
    assert User.objects.count() == 3


def test_an_empty_rate_turns_a_limit_off(client, db, rates):
    rates()
    for n in range(12):
        assert client.post(SIGNUP, signup_data(n)).status_code == 302


# -- the implementers' list ----------------------------------------------------------------


def test_asking_to_join_the_implementers_list_is_limited_per_client_address(client, db, rates):
    rates(implementers="2/hour")
    for n in range(2):
        response = client.post(IMPLEMENTERS, {"email": f"vendor{n}@example.com"})
        assert response.status_code == 302

    response = client.post(IMPLEMENTERS, {"email": "vendor9@example.com"})

    assert_refused(response, "join the list of EDT implementers")
    assert not OutboundEmail.objects.filter(to=["vendor9@example.com"]).exists()
    # The form is still shown, and another client may ask.
    assert client.get(IMPLEMENTERS).status_code == 200
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert other.post(IMPLEMENTERS, {"email": "vendor9@example.com"}).status_code == 302


def test_the_implementers_list_sends_one_address_no_more_than_its_e_mail_limit(db, rates):
    """An address not yet confirmed is sent a new link at each request: from many clients,
    no more than the per-address limit reaches it."""
    rates(email="2/hour")
    for n in range(2):
        client = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert client.post(IMPLEMENTERS, {"email": "victim@example.com"}).status_code == 302

    response = Client(REMOTE_ADDR="203.0.113.9").post(
        IMPLEMENTERS, {"email": " Victim@Example.com"}
    )

    assert_refused(response, "join the list of EDT implementers")
    assert OutboundEmail.objects.filter(to=["victim@example.com"]).count() == 2


# -- invitations ----------------------------------------------------------------------------
# Anyone with an account can found an organization and so invite: each invitation e-mails an
# address the inviter types, with the organization's name, which the inviter chose.


@pytest.fixture
def founder(db):
    user = factories.make_user("founder@example.com")
    factories.make_organization(user, "Anything At All")
    return user


def test_invitations_are_limited_per_user_from_any_address(founder, rates):
    rates(invite="2/hour")
    for n in range(2):
        client = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        client.force_login(founder)
        response = client.post(
            PEOPLE, {"email": f"person{n}@example.com", **NAMED, "role": "viewer"}
        )
        assert response.status_code == 302

    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(founder)
    response = client.post(PEOPLE, {"email": "person9@example.com", **NAMED, "role": "viewer"})

    assert_refused(response, "invite someone")
    assert not OutboundEmail.objects.filter(to=["person9@example.com"]).exists()
    assert client.get(PEOPLE).status_code == 200  # the page itself is not counted


def test_invitations_send_one_address_no_more_than_its_e_mail_limit(founder, client, rates):
    """Inviting an address again replaces its invitation with a new e-mail: no more than the
    per-address limit of them reaches it."""
    rates(email="2/hour")
    client.force_login(founder)
    for _ in range(2):
        response = client.post(PEOPLE, {"email": "victim@example.com", **NAMED, "role": "viewer"})
        assert response.status_code == 302

    response = client.post(PEOPLE, {"email": "Victim@example.com", **NAMED, "role": "viewer"})

    assert_refused(response, "invite someone")
    assert OutboundEmail.objects.filter(to=["victim@example.com"]).count() == 2


# -- EDT ------------------------------------------------------------------------------------


@pytest.fixture
def edt_rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"edt_anonymous": None, "edt_failed": None, **rates},
        }

    return set_rates


@pytest.fixture
def edt_account(cast):
    return make_edt_account("1001", "sac_edt", "1-6", "both")


WRONG = {"HTTP_AUTHORIZATION": f"user sac_edt:{legacy_value('wrong')}"}


def test_a_throttled_edt_call_answers_429_with_retry_after(client, edt_account, edt_rates):
    edt_rates(edt_failed="1/minute")
    assert client.get(RAT, **WRONG).status_code == 401

    response = client.get(RAT, **legacy_header(edt_account))

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.content.decode().startswith("Too many calls; try again in")
    as_json = client.get(RAT, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 429
    assert as_json.json()["status"] == 429
    assert as_json["Retry-After"]


def test_a_refused_burst_leaves_one_row_in_the_transaction_log(client, edt_account, edt_rates):
    edt_rates(edt_failed="1/minute")
    client.get(RAT, **WRONG)
    assert EdtTransaction.objects.count() == 1  # the refused credentials

    for _ in range(25):
        assert client.get(RAT, **WRONG).status_code == 429

    rows = EdtTransaction.objects.filter(http_status=429)
    assert EdtTransaction.objects.count() == 2
    row = rows.get()
    assert row.status == EdtTransaction.Status.REJECTED
    assert row.endpoint == "RAT"
    assert row.client_ip == "127.0.0.1"
    assert row.account is None  # nothing from the refused call is believed
    assert "Too many calls" in row.messages[0]["message"]


def test_a_new_burst_after_the_wait_leaves_a_new_row(client, edt_account, edt_rates):
    from django.core.cache import cache

    edt_rates(edt_anonymous="1/minute")
    client.get("/EDT/Regulator/Listing")
    client.get("/EDT/Regulator/Listing")
    client.get("/EDT/Regulator/Listing")
    assert EdtTransaction.objects.filter(http_status=429).count() == 1

    cache.clear()  # the minute has passed: counts and the burst's mark are gone
    client.get("/EDT/Regulator/Listing")
    client.get("/EDT/Regulator/Listing")

    assert EdtTransaction.objects.filter(http_status=429).count() == 2


def test_each_client_behind_a_trusted_proxy_has_its_own_edt_limit(edt_account, edt_rates, settings):
    edt_rates(edt_failed="1/minute")
    settings.CERS_TRUSTED_PROXIES = 1
    first = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    second = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert first.get(RAT, **WRONG).status_code == 401
    assert first.get(RAT, **legacy_header(edt_account)).status_code == 429
    assert second.get(RAT, **legacy_header(edt_account)).status_code == 200
    logged = EdtTransaction.objects.values_list("client_ip", flat=True)
    assert set(logged) == {"198.51.100.7", "198.51.100.8"}


def test_without_trusted_proxies_the_edt_limit_ignores_x_forwarded_for(edt_account, edt_rates):
    edt_rates(edt_failed="1/minute")
    Client(HTTP_X_FORWARDED_FOR="198.51.100.7").get(RAT, **WRONG)

    response = Client(HTTP_X_FORWARDED_FOR="198.51.100.8").get(RAT, **legacy_header(edt_account))

    assert response.status_code == 429
