"""The portals' user agreements ask people at the portals' pages only: the EDT services, which
programs call with their own credentials and no session, never ask, nor do the EDT program's
public pages, whoever is signed in."""

import pytest
from django.urls import reverse

from accounts.models import AgreementAcceptance

from .conftest import legacy_header

RAT = "/EDT/Regulator/Authenticate?regulatorCode=1001"
RFQ = "/EDT/Regulator/Facility?regulatorCode=1001"


def test_an_edt_account_has_accepted_nothing_and_is_answered(client, edt_account):
    assert not AgreementAcceptance.objects.filter(user=edt_account.user).exists()

    assert client.get(RAT, **legacy_header(edt_account)).status_code == 200
    assert client.get(RFQ, **legacy_header(edt_account)).status_code == 200
    assert (
        client.get(RAT.replace("/EDT/", "/Staging/"), **legacy_header(edt_account)).status_code
        == 200
    )


@pytest.mark.parametrize(
    "url",
    [
        "/EDT/",
        "/EDT/Regulator/Listing",
        reverse("edt_program:terms"),
        reverse("edt_program:vendors"),
    ],
)
def test_the_open_edt_pages_ask_no_one_signed_in(client, cast, url):
    AgreementAcceptance.objects.filter(user=cast.cupa_reviewer).delete()
    client.force_login(cast.cupa_reviewer)

    assert client.get(url).status_code == 200


def test_a_session_does_not_stand_in_for_edt_credentials(client, cast):
    """A signed-in person who has accepted nothing calling a service gets the services' own
    refusal, never the portal's agreement page."""
    AgreementAcceptance.objects.filter(user=cast.cupa_reviewer).delete()
    client.force_login(cast.cupa_reviewer)

    response = client.get(RAT)

    assert response.status_code == 401
