"""The sign-in lock-out counts three ways (the pair of e-mail address and client address, the
client address across accounts, the account across addresses), each with its own limit, and
counts by the client's own address: behind trusted proxies read from X-Forwarded-For, never
from a header the client could choose."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.urls import reverse

from core.net import client_address
from tests import factories

LOGIN = reverse("accounts:login")
PROXY = "10.0.0.1"


@pytest.fixture
def limits(settings):
    """Small limits, in the order the defaults keep: pair < address, pair < account."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.CERS_SIGNIN_FAILURES_PER_ADDRESS = 6
    settings.CERS_SIGNIN_FAILURES_PER_ACCOUNT = 8
    return settings


@pytest.fixture
def users(db):
    return [factories.make_user(f"user{n}@example.com") for n in range(6)]


def sign_in(email, password="wrong-guess", ip="192.0.2.10", forwarded=None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    client = Client()
    response = client.post(LOGIN, {"username": email, "password": password}, **extra)
    return response, client


def fail(email, times, **where):
    """``times`` failed sign-ins (the one that reaches a limit already answers 429)."""
    for _ in range(times):
        assert sign_in(email, **where)[0].status_code in (200, 429)


def succeeds(response, client) -> bool:
    return response.status_code == 302 and client.session.get("_auth_user_id") is not None


def test_the_default_limits_stop_spraying_before_an_account_locks(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.CERS_SIGNIN_FAILURES_PER_ADDRESS == 20
    assert settings.CERS_SIGNIN_FAILURES_PER_ACCOUNT == 50
    assert settings.CERS_TRUSTED_PROXIES == 0
    assert settings.AXES_CLIENT_IP_CALLABLE == "core.net.client_address"


# -- per (account, address) -----------------------------------------------------------------


def test_the_pair_locks_at_its_limit_even_with_the_right_password(limits, users, password):
    fail(users[0].email, 3)

    response, client = sign_in(users[0].email, password)

    assert response.status_code == 429
    assert not succeeds(response, client)


# -- per address, across accounts (password spraying) ---------------------------------------


def test_one_address_failing_on_many_accounts_is_locked_out(limits, users, password):
    for user in users[:3]:
        fail(user.email, 2)  # below the pair's limit each time: 6 failures from the address

    response, client = sign_in(users[4].email, password)

    assert response.status_code == 429
    assert not succeeds(response, client)
    # Another address signs in to the same account.
    assert succeeds(*sign_in(users[4].email, password, ip="198.51.100.20"))


def test_below_the_address_limit_spraying_is_not_locked(limits, users, password):
    for user in users[:5]:
        fail(user.email, 1)  # 5 failures from the address

    assert succeeds(*sign_in(users[5].email, password))


def test_signing_in_to_an_own_account_does_not_reset_the_address_count(limits, users, password):
    for user in users[:5]:
        fail(user.email, 1)
    assert succeeds(*sign_in(users[5].email, password))  # the sprayer's own account

    fail(users[0].email, 1)  # the sixth failure from the address

    assert sign_in(users[1].email, password)[0].status_code == 429


def test_signing_in_resets_the_failures_of_its_own_pair(limits, users, password):
    fail(users[0].email, 2)
    assert succeeds(*sign_in(users[0].email, password))

    fail(users[0].email, 2)  # 2, not 4: the pair's count started again

    assert succeeds(*sign_in(users[0].email, password))


# -- per account, across addresses ----------------------------------------------------------


def test_many_addresses_guessing_one_account_lock_it(limits, users, password):
    for n in range(4):
        fail(users[0].email, 2, ip=f"203.0.113.{n + 1}")  # 8 failures on the account

    response, client = sign_in(users[0].email, password, ip="198.51.100.99")

    assert response.status_code == 429
    assert not succeeds(response, client)
    assert succeeds(*sign_in(users[1].email, password, ip="198.51.100.99"))


def test_one_address_alone_cannot_lock_an_account_for_everyone(limits, users, password):
    for _ in range(12):  # locked after 3; the rest must not count toward the account's 8
        sign_in(users[0].email)

    assert sign_in(users[0].email, password)[0].status_code == 429
    assert succeeds(*sign_in(users[0].email, password, ip="198.51.100.20"))


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CERS_SIGNIN_FAILURES_PER_ACCOUNT", "5"), ("CERS_TRUSTED_PROXIES", "-1")],
)
def test_settings_that_would_defeat_the_limits_stop_start_up(variable, value):
    """An account limit at or below the pair's would let one client lock an account out."""
    env = {**os.environ, variable: value}
    result = subprocess.run(
        [sys.executable, "-c", "import cers.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


# -- the client's address behind proxies ----------------------------------------------------


def test_without_trusted_proxies_x_forwarded_for_is_ignored(limits, users, password):
    for n in range(3):  # a client changing the header at every try is still one client
        fail(users[0].email, 1, forwarded=f"203.0.113.{n + 1}")

    response, _ = sign_in(users[0].email, password, forwarded="203.0.113.50")

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}


def test_behind_one_trusted_proxy_each_client_is_counted_on_its_own(limits, users, password):
    limits.CERS_TRUSTED_PROXIES = 1
    fail(users[0].email, 3, ip=PROXY, forwarded="198.51.100.7")

    locked, _ = sign_in(users[0].email, password, ip=PROXY, forwarded="198.51.100.7")
    other = sign_in(users[0].email, password, ip=PROXY, forwarded="198.51.100.8")

    assert locked.status_code == 429
    assert succeeds(*other)  # another client behind the same proxy is not locked out
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"


def test_behind_a_trusted_proxy_a_spoofed_entry_does_not_escape_the_lock(limits, users, password):
    limits.CERS_TRUSTED_PROXIES = 1
    fail(users[0].email, 3, ip=PROXY, forwarded="198.51.100.7")

    # The client sends its own X-Forwarded-For; the proxy appends the real address after it.
    response, _ = sign_in(users[0].email, password, ip=PROXY, forwarded="192.0.2.99, 198.51.100.7")

    assert response.status_code == 429


def test_spraying_behind_a_trusted_proxy_locks_the_client_not_the_proxy(limits, users, password):
    limits.CERS_TRUSTED_PROXIES = 1
    for user in users[:3]:
        fail(user.email, 2, ip=PROXY, forwarded="198.51.100.7")

    assert sign_in(users[4].email, password, ip=PROXY, forwarded="198.51.100.7")[0].status_code == (
        429
    )
    assert succeeds(*sign_in(users[4].email, password, ip=PROXY, forwarded="198.51.100.8"))


class TestClientAddress:
    def request(self, forwarded=None, remote="10.0.0.2"):
        extra = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            extra["HTTP_X_FORWARDED_FOR"] = forwarded
        return RequestFactory().get("/", **extra)

    def test_without_proxies_it_is_remote_addr(self, settings):
        settings.CERS_TRUSTED_PROXIES = 0
        assert client_address(self.request("198.51.100.7")) == "10.0.0.2"

    def test_with_n_proxies_it_is_the_nth_entry_from_the_right(self, settings):
        forwarded = "192.0.2.1, 198.51.100.7, 10.0.0.9"
        settings.CERS_TRUSTED_PROXIES = 1
        assert client_address(self.request(forwarded)) == "10.0.0.9"
        settings.CERS_TRUSTED_PROXIES = 2
        assert client_address(self.request(forwarded)) == "198.51.100.7"

    def test_fewer_entries_than_proxies_read_the_leftmost(self, settings):
        settings.CERS_TRUSTED_PROXIES = 3
        assert client_address(self.request("198.51.100.7")) == "198.51.100.7"

    def test_no_header_or_a_bad_entry_falls_back_to_remote_addr(self, settings):
        settings.CERS_TRUSTED_PROXIES = 1
        assert client_address(self.request()) == "10.0.0.2"
        assert client_address(self.request("unknown")) == "10.0.0.2"
        assert client_address(self.request(", ")) == "10.0.0.2"

    def test_a_port_is_dropped(self, settings):
        settings.CERS_TRUSTED_PROXIES = 1
        assert client_address(self.request("198.51.100.7:4711")) == "198.51.100.7"
        assert client_address(self.request("[2001:db8::1]:4711")) == "2001:db8::1"
        assert client_address(self.request("2001:db8::1")) == "2001:db8::1"
