"""EDT account states are told only to whoever holds the credential: a disabled account with a
wrong secret answers exactly as a name no account has (CalEPA's code 3), so guessing never
shows which accounts exist but are disabled; with the right secret it says disabled (5)."""

from __future__ import annotations

import pytest

from edt.access import services
from edt.credentials import AuthResult, authenticate, legacy_value
from edt.models import EdtTransaction
from tests.edt.conftest import SECRET, legacy_header, make_edt_account

RAT = "/EDT/Regulator/Authenticate?regulatorCode=1001"


def header(username: str, secret: str) -> str:
    return f"user {username}:{legacy_value(secret)}"


def result(value: str | None) -> AuthResult:
    return authenticate(value, environment="production", tier=1, regulator_code="1001").result


@pytest.fixture
def account(cast):
    return make_edt_account("1001", "sac_edt", "1-6", "both")


@pytest.fixture
def disabled(cast, account):
    return services.set_account_active(actor=cast.state_admin, account=account, active=False)


def answer(client, value: str, **extra):
    response = client.get(RAT, HTTP_AUTHORIZATION=value, **extra)
    return (
        response.status_code,
        response.content,
        response["X-CERS-Authentication-Result"],
        response["WWW-Authenticate"],
        response["Content-Type"],
    )


def test_a_disabled_account_with_a_wrong_secret_is_code_3(disabled):
    assert result(header("sac_edt", "wrong")) == AuthResult.UNKNOWN_USERNAME
    # The secret itself instead of its SHA-1 is wrong too.
    assert result(f"user sac_edt:{SECRET}") == AuthResult.UNKNOWN_USERNAME


def test_a_disabled_account_with_the_right_secret_says_disabled(disabled):
    assert result(header("sac_edt", SECRET)) == AuthResult.ACCOUNT_DISABLED


def test_an_account_whose_user_is_inactive_answers_the_same(cast, account):
    account.user.is_active = False
    account.user.save(update_fields=["is_active"])

    assert result(header("sac_edt", "wrong")) == AuthResult.UNKNOWN_USERNAME
    assert result(header("sac_edt", SECRET)) == AuthResult.ACCOUNT_DISABLED


def test_an_active_account_with_a_wrong_secret_is_still_code_4(account):
    assert result(header("sac_edt", "wrong")) == AuthResult.INCORRECT_PASSWORD


@pytest.mark.parametrize("as_json", [False, True])
def test_the_service_answers_a_disabled_account_as_an_unknown_name(client, disabled, as_json):
    extra = {"HTTP_ACCEPT": "application/json"} if as_json else {}

    unknown = answer(client, header("nobody", "wrong"), **extra)
    disabled_wrong = answer(client, header("sac_edt", "wrong"), **extra)

    assert disabled_wrong == unknown
    assert disabled_wrong[0] == 401
    assert disabled_wrong[2] == "3"


def test_the_service_tells_the_right_secret_that_the_account_is_disabled(client, disabled):
    response = client.get(RAT, **legacy_header(disabled))

    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "5"


def test_the_agencys_log_still_names_its_disabled_account(client, disabled):
    client.get(RAT, HTTP_AUTHORIZATION=header("sac_edt", "wrong"))

    row = EdtTransaction.objects.get()
    assert row.authentication_result == AuthResult.UNKNOWN_USERNAME
    assert row.account == disabled
    assert row.regulator == disabled.regulator


def test_a_token_of_a_disabled_account_says_disabled(cast, account):
    from datetime import timedelta

    from django.utils import timezone

    _, plain = services.issue_token(
        actor=cast.state_admin,
        account=account,
        name="Nightly sync",
        expires_at=timezone.now() + timedelta(days=30),
        environments=["production"],
        tiers=[1],
    )
    assert result(f"Bearer {plain}") == AuthResult.AUTHORIZED
    services.set_account_active(actor=cast.state_admin, account=account, active=False)

    # Only the holder of the account's credential can have sent a token that exists.
    assert result(f"Bearer {plain}") == AuthResult.ACCOUNT_DISABLED
    assert result("Bearer cers_not-a-token") == AuthResult.UNKNOWN_USERNAME
