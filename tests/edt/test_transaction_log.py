"""The agency's EDT transaction log in the regulator portal."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from edt.models import EdtTransaction

from .conftest import legacy_header, make_edt_account


@pytest.fixture
def calls(client, cast, edt_account):
    """One accepted call and one refused call of CUPA 1001's account; one call of Yolo's."""
    client.get("/EDT/Regulator/Authenticate?regulatorCode=1001", **legacy_header(edt_account))
    client.get("/EDT/Regulator/Authenticate?regulatorCode=1002", **legacy_header(edt_account))
    yolo = make_edt_account("1002", "yolo_edt", "1", "both")
    client.get("/EDT/Regulator/Authenticate?regulatorCode=1002", **legacy_header(yolo))
    client.logout()
    return EdtTransaction.objects.order_by("received_at")


def test_an_agency_administrator_sees_its_own_calls(client, cast, cupa_admin, calls):
    client.force_login(cupa_admin)
    response = client.get("/regulator/edt/transactions/")
    assert response.status_code == 200
    shown = list(response.context["page"])
    assert {row.regulator.code for row in shown} == {"1001"}
    assert len(shown) == 2

    rejected = client.get("/regulator/edt/transactions/?status=4")
    assert [row.http_status for row in rejected.context["page"]] == [401]


def test_a_call_of_another_agency_answers_404(client, cast, cupa_admin, calls):
    client.force_login(cupa_admin)
    yolo_call = calls.get(regulator=cast.cupa2)
    assert client.get(f"/regulator/edt/transactions/{yolo_call.key}/").status_code == 404
    own = calls.filter(regulator=cast.cupa).first()
    assert client.get(f"/regulator/edt/transactions/{own.key}/").status_code == 200


def test_other_staff_may_not_read_the_log(client, cast, calls):
    client.force_login(cast.cupa_reviewer)
    assert client.get("/regulator/edt/transactions/").status_code == 403


def test_the_state_administrator_sees_every_agencys_calls(client, cast, calls):
    client.force_login(cast.state_admin)
    response = client.get("/regulator/edt/transactions/")
    assert len(response.context["page"]) == 3


def test_queued_work_shows_its_progress(client, cast, cupa_admin, calls):
    row = calls.filter(regulator=cast.cupa).first()
    EdtTransaction.objects.filter(pk=row.pk).update(status=EdtTransaction.Status.IN_PROCESS)
    cache.set(f"edt:progress:{row.key}", (250, 1000))
    client.force_login(cupa_admin)
    response = client.get(f"/regulator/edt/transactions/{row.key}/")
    assert b"250 of 1000 records (25%)" in response.content
