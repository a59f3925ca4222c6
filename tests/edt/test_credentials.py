"""Checking an EDT request's credentials: CalEPA's result codes, one case each."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.core.management import call_command

from edt.access import services
from edt.credentials import AuthResult, authenticate, legacy_value
from edt.models import EdtAccount
from tests import factories

SECRET = "a-generated-secret-for-tests"


@pytest.fixture
def account(cast):
    call_command(
        "create_edt_account",
        "--regulator",
        "1001",
        "--username",
        "sac_edt",
        "--tiers",
        "1-2",
        "--environment",
        "testing",
        "--secret",
        SECRET,
    )
    return EdtAccount.objects.get(username="sac_edt")


def check(header, *, environment="testing", tier=1, regulator_code="1001"):
    return authenticate(
        header, environment=environment, tier=tier, regulator_code=regulator_code
    ).result


GOOD = f"user sac_edt:{legacy_value(SECRET)}"


def test_legacy_value_is_base64_of_the_raw_sha1_digest():
    # CalEPA's documented example: "password" -> W6ph5Mm5Pz8GgiULbPgzG37mj9g=
    assert legacy_value("password") == "W6ph5Mm5Pz8GgiULbPgzG37mj9g="
    digest = hashlib.sha1(SECRET.encode(), usedforsecurity=False).digest()
    assert legacy_value(SECRET) == base64.b64encode(digest).decode()


def test_it_authorizes_a_good_header(account):
    assert check(GOOD) == AuthResult.AUTHORIZED
    assert check(GOOD.replace("sac_edt", "SAC_EDT")) == AuthResult.AUTHORIZED


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_header_is_code_9(account, header):
    assert check(header) == AuthResult.MISSING_HEADER


@pytest.mark.parametrize("header", ["Basic abc", "user sac_edt", "user :x", "Bearer"])
def test_a_malformed_header_is_code_7(account, header):
    assert check(header) == AuthResult.FAILURE_UNKNOWN


def test_an_unknown_username_is_code_3(account):
    assert check(f"user nobody:{legacy_value(SECRET)}") == AuthResult.UNKNOWN_USERNAME
    assert check("Bearer cers_not-a-token") == AuthResult.UNKNOWN_USERNAME


def test_a_wrong_secret_is_code_4(account):
    assert check(f"user sac_edt:{legacy_value('wrong')}") == AuthResult.INCORRECT_PASSWORD
    # The plain secret instead of its SHA-1 is wrong too.
    assert check(f"user sac_edt:{SECRET}") == AuthResult.INCORRECT_PASSWORD


def test_a_disabled_account_is_code_5(cast, account):
    services.set_account_active(actor=cast.state_admin, account=account, active=False)
    assert check(GOOD) == AuthResult.ACCOUNT_DISABLED


def test_an_account_without_a_secret_is_code_6(cast, account):
    EdtAccount.objects.filter(pk=account.pk).update(legacy_digest="")
    assert check(GOOD) == AuthResult.ACCOUNT_NOT_ACTIVATED


def test_another_agency_code_is_code_2(cast, account):
    assert check(GOOD, regulator_code="1002") == AuthResult.NOT_AUTHORIZED_FOR_REGULATOR


def test_a_tier_or_environment_not_granted_is_code_8(account):
    assert check(GOOD, tier=3) == AuthResult.REGULATOR_NOT_AUTHORIZED
    assert check(GOOD, environment="production") == AuthResult.REGULATOR_NOT_AUTHORIZED


def test_library_calls_use_the_accounts_own_agency(account):
    assert check(GOOD, regulator_code=None) == AuthResult.AUTHORIZED


def test_a_portal_user_is_not_an_edt_account(cast):
    user = factories.make_user("someone@sac-cupa.example")
    factories.add_staff(cast.cupa, user, "administrator")
    assert check(f"user {user.email}:{legacy_value(factories.PASSWORD)}") == 3
