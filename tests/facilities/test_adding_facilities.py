"""Adding a facility in the business portal: CERS IDs, duplicate addresses, who may add."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.models import AuditEvent
from facilities.models import Facility
from tests.factories import make_facility

ADD_URL = reverse("business:facility_create")


def new_site(**overrides):
    data = {
        "name": "Acme Elk Grove Terminal",
        "street": "9000 Laguna Boulevard",
        "city": "Elk Grove",
        "zip_code": "95814",
        "county": "Sacramento",
    }
    data.update(overrides)
    return data


def test_cers_ids_are_allocated_in_order_from_10000001(cast):
    made = [cast.facility, cast.facility_yolo, cast.other_facility]
    made += [make_facility(cast.org) for _ in range(3)]
    assert [f.cers_id for f in made] == list(range(10_000_001, 10_000_007))


def test_cers_ids_are_unique(cast):
    clash = Facility(
        cers_id=cast.facility.cers_id,
        organization=cast.org,
        name="Clash",
        street="1 Other Road",
        city="Sacramento",
        zip_code="95814",
        address_key="1 OTHER RD|SACRAMENTO|95814",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()


def test_the_lead_adds_a_facility_and_sees_its_cers_id(cast, client):
    client.force_login(cast.lead)
    response = client.post(ADD_URL, new_site(), follow=True)
    facility = Facility.objects.get(name="Acme Elk Grove Terminal")
    assert facility.cers_id == 10_000_004
    assert facility.organization == cast.org
    assert response.redirect_chain == [(reverse("business:facility", args=[10_000_004]), 302)]
    assert "added with CERS ID 10000004" in response.content.decode()
    assert AuditEvent.objects.filter(action="facility.created", object_id=str(facility.pk)).exists()


def test_the_add_form_shows_its_fields_to_the_lead(cast, client):
    client.force_login(cast.lead)
    response = client.get(ADD_URL)
    assert response.status_code == 200
    for field in ("name", "street", "city", "zip_code", "county"):
        assert f'name="{field}"' in response.content.decode()


@pytest.mark.parametrize("persona", ["viewer", "editor", "approver"])
def test_members_without_manage_facilities_cannot_add(cast, client, persona):
    client.force_login(getattr(cast, persona))
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, new_site()).status_code == 403
    assert not Facility.objects.filter(name="Acme Elk Grove Terminal").exists()


def test_a_duplicate_address_in_the_same_organization_names_the_facility(cast, client):
    existing = cast.facility  # "<number> Main Street", Sacramento, 95814
    before_events = AuditEvent.objects.count()
    client.force_login(cast.lead)
    response = client.post(
        ADD_URL,
        new_site(
            street=existing.street.replace("Street", "St").upper(),
            city=existing.city.lower(),
            zip_code=existing.zip_code,
        ),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "already has a facility at this address" in page
    assert f"{existing.name} (CERS ID {existing.cers_id})" in page
    assert Facility.objects.count() == 3
    assert AuditEvent.objects.count() == before_events


def test_a_duplicate_address_in_another_organization_gives_its_cers_id(cast, client):
    existing = cast.facility
    client.force_login(cast.outsider)
    response = client.post(
        ADD_URL,
        new_site(street=existing.street, city=existing.city, zip_code=existing.zip_code),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert f"already reported in CERS (CERS ID {existing.cers_id})" in page
    assert Facility.objects.count() == 3


def test_a_duplicate_address_in_another_of_the_users_organizations_says_to_switch(cast, client):
    """A Lead User of two organizations adds, in one, a site the other already reports: the
    message names that organization as theirs and says to switch to it, not to ask to join
    it; nothing is added."""
    from core.views import ORGANIZATION_SESSION_KEY
    from tests.factories import add_member

    existing = cast.other_facility
    add_member(cast.other_org, cast.lead, "viewer")
    client.force_login(cast.lead)
    session = client.session
    session[ORGANIZATION_SESSION_KEY] = cast.org.pk
    session.save()
    response = client.post(
        ADD_URL,
        new_site(street=existing.street, city=existing.city, zip_code=existing.zip_code),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert f"(CERS ID {existing.cers_id})" in page
    assert "Other Co, another of your organizations" in page
    assert "switch to Other Co" in page
    assert "ask to join" not in page
    assert Facility.objects.count() == 3


def test_an_invalid_zip_code_is_refused(cast, client):
    client.force_login(cast.lead)
    response = client.post(ADD_URL, new_site(zip_code="9581"))
    assert response.status_code == 200
    assert "Enter a ZIP code of 5 digits, or ZIP+4." in response.content.decode()
    assert not Facility.objects.filter(name="Acme Elk Grove Terminal").exists()
