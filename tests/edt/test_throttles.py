"""The EDT rate limits: calls to the open endpoints, and calls whose credentials were refused,
are counted per client address; past the rate the service answers 429 with Retry-After."""

from __future__ import annotations

import pytest

from edt.credentials import legacy_value
from edt.models import EdtTransaction

from .conftest import legacy_header

RAT = "/EDT/Regulator/Authenticate?regulatorCode=1001"


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"edt_anonymous": None, "edt_failed": None, **rates},
        }

    return set_rates


def test_refused_calls_are_limited_even_with_good_credentials_after(client, edt_account, rates):
    rates(edt_failed="2/minute")
    wrong = {"HTTP_AUTHORIZATION": f"user sac_edt:{legacy_value('wrong')}"}
    assert client.get(RAT, **wrong).status_code == 401
    assert client.get(RAT).status_code == 401  # no header: refused too
    response = client.get(RAT, **legacy_header(edt_account))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("Too many calls")
    # A throttled call is not looked at; the first refusal of a burst is logged, once.
    assert EdtTransaction.objects.count() == 3
    assert EdtTransaction.objects.filter(http_status=429, account=None).count() == 1
    assert client.get(RAT, **legacy_header(edt_account)).status_code == 429
    assert EdtTransaction.objects.count() == 3


def test_the_limit_answers_json_when_json_is_asked_for(client, edt_account, rates):
    rates(edt_failed="1/minute")
    client.get(RAT, HTTP_ACCEPT="application/json")
    response = client.get(RAT, HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    assert response.json()["status"] == 429
    assert response["Retry-After"]


def test_calls_with_working_credentials_are_not_counted(client, edt_account, rates):
    rates(edt_failed="1/minute", edt_anonymous="1/minute")
    for _ in range(5):
        assert client.get(RAT, **legacy_header(edt_account)).status_code == 200


def test_calls_to_the_open_endpoints_are_limited(client, cast, rates):
    rates(edt_anonymous="3/minute")
    for _ in range(3):
        assert client.get("/EDT/Regulator/Listing").status_code == 200
    response = client.get("/Staging/Regulator/Listing")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_the_default_rates_are_set(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["edt_anonymous"] and rates["edt_failed"]


def test_a_cache_that_is_down_lets_calls_through_and_still_refuses_bad_secrets(
    client, edt_account, rates, monkeypatch
):
    """Issue 17: Redis down is not a reason to fail an EDT call; the limit is not kept then."""
    import redis.exceptions
    from rest_framework.throttling import SimpleRateThrottle

    class DownCache:
        def get(self, *args, **kwargs):
            raise redis.exceptions.ConnectionError("Error 111 connecting. Connection refused.")

        set = get

    monkeypatch.setattr(SimpleRateThrottle, "cache", DownCache())
    rates(edt_failed="1/minute", edt_anonymous="1/minute")
    wrong = {"HTTP_AUTHORIZATION": f"user sac_edt:{legacy_value('wrong')}"}
    assert client.get(RAT, **wrong).status_code == 401
    assert client.get(RAT, **wrong).status_code == 401  # not counted: no 429
    assert client.get(RAT, **legacy_header(edt_account)).status_code == 200
    assert client.get("/EDT/Regulator/Listing").status_code == 200
    assert client.get("/EDT/Regulator/Listing").status_code == 200
