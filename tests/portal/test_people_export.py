"""The e-mail addresses of the business users of the organizations in an agency's
jurisdiction, as CSV and XLSX: the organization list's scope (a PA only its own) and search,
columns in words, business users and other agencies kept out, queries that do not grow with
the list."""

import pytest
from django.urls import reverse

from accounts.models import User
from core import exports
from organizations.models import Membership
from regulators.models import ServiceArea
from tests import factories
from tests.facilities.test_export import csv_rows, xlsx_rows

URL = reverse("regulator:organization_people_export")
HEADER = ["Organization code", "Organization name", "First name", "Last name", "E-mail", "Role"]
ACME = ["lead@acme.example", "approver@acme.example", "editor@acme.example", "viewer@acme.example"]


def emails(rows) -> list[str]:
    return [row[4] for row in rows[1:]]


@pytest.fixture
def cupa_only(cast):
    """An organization whose one facility is in the Sacramento CUPA's jurisdiction (ZIP
    95820, every element) and not in its PA's (UST in ZIP 95814 only)."""
    ServiceArea.objects.create(regulator=cast.cupa, zip_code="95820")
    lead = factories.make_user("lead@south.example", first_name="Sue", last_name="South")
    organization = factories.make_organization(lead, "South Side Fuel")
    factories.make_facility(organization, zip_code="95820")
    return organization


def test_csv_lists_each_person_of_the_agencys_organizations(cast, client, cupa_only):
    client.force_login(cast.cupa_reviewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="organization-people-1001-'
    )
    rows = csv_rows(response)
    assert rows[0] == HEADER
    # Organizations by name, people by e-mail; Other Co (Yolo only) is not the CUPA's.
    assert emails(rows) == sorted(ACME) + ["lead@south.example"]
    assert rows[1] == [str(cast.org.code), "Acme Fuels", "Bob", "Approver", ACME[1], "Approver"]
    assert rows[-1] == [
        str(cupa_only.code),
        "South Side Fuel",
        "Sue",
        "South",
        "lead@south.example",
        "Lead User",
    ]


def test_a_pa_gets_its_own_jurisdiction_only(cast, client, cupa_only):
    client.force_login(cast.pa_viewer)
    rows = csv_rows(client.get(URL))
    assert emails(rows) == sorted(ACME)


def test_another_cupa_and_the_state(cast, client, cupa_only):
    client.force_login(cast.cupa2_reviewer)
    rows = xlsx_rows(client.get(URL, {"format": "xlsx"}))
    assert rows[0] == HEADER
    assert [row[4] for row in rows[1:]] == [*sorted(ACME), "outsider@other.example"]
    client.force_login(cast.state_admin)
    rows = csv_rows(client.get(URL))
    assert set(emails(rows)) == {*ACME, "outsider@other.example", "lead@south.example"}


def test_the_xlsx_download(cast, client):
    client.force_login(cast.cupa_reviewer)
    response = client.get(URL, {"format": "xlsx"})
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    assert response["Content-Disposition"].startswith(
        'attachment; filename="organization-people-1001-'
    )
    assert xlsx_rows(response)[1] == [
        cast.org.code,
        "Acme Fuels",
        "Bob",
        "Approver",
        "approver@acme.example",
        "Approver",
    ]


def test_the_lists_search_applies(cast, client, cupa_only):
    client.force_login(cast.cupa_reviewer)
    assert emails(csv_rows(client.get(URL, {"q": "south"}))) == ["lead@south.example"]
    assert emails(csv_rows(client.get(URL, {"q": str(cast.org.code)}))) == sorted(ACME)


def test_disabled_accounts_are_left_out(cast, client):
    cast.viewer.is_active = False
    cast.viewer.save()
    client.force_login(cast.cupa_reviewer)
    assert "viewer@acme.example" not in emails(csv_rows(client.get(URL)))


def test_the_organization_list_links_it_with_its_search(cast, client):
    client.force_login(cast.pa_viewer)
    response = client.get(reverse("regulator:organizations"), {"q": "Acme", "page": "1"})
    assert f"{URL}?q=Acme&amp;format=csv".encode() in response.content
    assert f"{URL}?q=Acme&amp;format=xlsx".encode() in response.content


def test_business_users_get_none(cast, client):
    """A Lead User, who sees their own organization's people, is not regulator staff."""
    client.force_login(cast.lead)
    assert client.get(URL).status_code == 403
    client.force_login(cast.outsider)
    assert client.get(URL).status_code == 403


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_an_unknown_format_is_not_found(cast, client):
    client.force_login(cast.cupa_reviewer)
    assert client.get(URL, {"format": "pdf"}).status_code == 404


def test_formulas_are_neutralised(cast, client):
    cast.lead.first_name = "=HYPERLINK(1)"
    cast.lead.save()
    client.force_login(cast.cupa_reviewer)
    rows = csv_rows(client.get(URL))
    assert [row[2] for row in rows if row[4] == "lead@acme.example"] == ["'=HYPERLINK(1)"]


def _read(response) -> int:
    return sum(chunk.count(b"\n") for chunk in response.streaming_content)


def test_queries_do_not_grow_with_the_list(cast, client, django_assert_num_queries):
    """Session, user, staff memberships, the user's grants, then the rows (one query, read a
    chunk at a time): the same with a few people or hundreds."""
    client.force_login(cast.cupa_reviewer)
    _read(client.get(URL))  # the session learns the agency; content types are cached
    for count in (5, 300):
        # Rows alone (no permissions): the download reads memberships, not grants.
        users = User.objects.bulk_create(
            User(email=f"person{count}-{n}@acme.example") for n in range(count)
        )
        Membership.objects.bulk_create(
            Membership(user=user, organization=cast.org, role="viewer") for user in users
        )
        with django_assert_num_queries(5):
            lines = _read(client.get(URL))
        assert lines > count
