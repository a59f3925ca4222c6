"""EDT Facility Create (RFC) names only the potential duplicates in the calling CUPA's
jurisdiction. Of a facility elsewhere it says only that one exists in another jurisdiction:
not its name, CERS ID, organization or headquarters (a Trial used to give them all to any
agency). The duplicate check of the facilities service underneath follows the same rule."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from lxml import etree

from core.models import AuditEvent
from facilities.models import Facility, FacilityRegulator
from facilities.services import add_facility
from organizations.models import Organization
from tests import factories
from tests.edt import test_rfc as rfc
from tests.edt.conftest import make_edt_account, no_calls_counted  # noqa: F401 (autouse)

ELSEWHERE = "exists in another jurisdiction"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def edt_account(cast):
    """Sacramento County CUPA's EDT account: every tier, both environments."""
    return make_edt_account("1001", "sac_edt", "1-6", "both")


@pytest.fixture
def hidden(cast):
    """Other Co's facility in a Sacramento ZIP code that Yolo County CUPA handles (as after a
    service area changed hands): outside Sacramento County CUPA's jurisdiction."""
    facility = factories.make_facility(
        cast.other_org, name="Other Co Secret Yard", street="77 Quiet Lane", zip_code="95814"
    )
    FacilityRegulator.objects.filter(facility=facility).update(regulator=cast.cupa2)
    Organization.objects.filter(pk=cast.other_org.pk).update(headquarters="Hidden Valley")
    rfc.established(facility)
    return Facility.objects.select_related("organization").get(pk=facility.pk)


def reveals(root, facility) -> list[str]:
    """What of ``facility`` the answer gives away."""
    body = b"".join(etree.tostring(child) for child in root).decode()
    organization = facility.organization
    secrets = [
        facility.name,
        str(facility.cers_id),
        organization.name,
        str(organization.code),
        organization.headquarters,
    ]
    return [secret for secret in secrets if secret and secret in body]


def same_address(facility) -> dict:
    return {"site": facility.street, "city": facility.city, "zip_code": facility.zip_code[:5]}


# --- refused: nothing about a facility elsewhere ----------------------------------------------


def test_a_trial_outside_the_jurisdiction_names_no_other_facility(cast, client, edt_account):
    # Other Co Plant is in Yolo: Sacramento's Trial at its address learns only that it exists.
    rfc.established(cast.other_facility)
    other = Facility.objects.select_related("organization").get(pk=cast.other_facility.pk)
    before = (Facility.objects.count(), AuditEvent.objects.count())

    root = rfc.answer(
        rfc.post(client, edt_account, rfc.rfc_document("Trial", **same_address(other)))
    )

    # A Trial a Commit would reject is Rejected, with every message.
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert reveals(root, other) == []
    assert root.find("PotentialDuplicates") is None
    assert any(ELSEWHERE in text for text in rfc.messages(root, "Warning"))
    assert any("outside the jurisdiction" in text for text in rfc.messages(root, "Error"))
    assert (Facility.objects.count(), AuditEvent.objects.count()) == before


def test_a_commit_at_a_hidden_address_is_refused_without_naming_it(
    cast, client, edt_account, hidden
):
    before = (Facility.objects.count(), Organization.objects.count(), AuditEvent.objects.count())

    root = rfc.answer(rfc.post(client, edt_account, rfc.rfc_document(**same_address(hidden))))

    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    [error] = rfc.messages(root, "Error")
    assert "another jurisdiction" in error
    assert "IgnoreExactDuplicateAddressWarning" in error  # what to do
    assert reveals(root, hidden) == []
    assert rfc.stored_codes(root) == {1013}  # CalEPA's code, as for a named duplicate
    after = (Facility.objects.count(), Organization.objects.count(), AuditEvent.objects.count())
    assert after == before


def test_a_commit_ignoring_the_warning_creates_without_naming_it(cast, client, edt_account, hidden):
    body = rfc.rfc_document(**same_address(hidden), ignore="true", comments="Second tenant.")
    root = rfc.answer(rfc.post(client, edt_account, body))

    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    [warning] = rfc.messages(root, "Warning")
    assert "another jurisdiction" in warning
    assert root.find("PotentialDuplicates") is None
    created = int(root.findtext("Result/CERSID"))
    assert reveals(root, hidden) == []
    # The audit history, for CalEPA, still links the two.
    event = AuditEvent.objects.get(
        action="facility.created", object_id=str(Facility.objects.get(cers_id=created).pk)
    )
    assert event.after["same_address_as"] == [hidden.cers_id]


def test_the_service_names_only_what_the_agency_sees(cast, hidden):
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        add_facility(
            actor=None,
            organization=cast.org,
            name="Again",
            street=hidden.street,
            city=hidden.city,
            zip_code="95814",
            importing_agency=cast.cupa,
        )
    [message] = refused.value.messages
    assert "in another jurisdiction" in message
    assert str(hidden.cers_id) not in message and hidden.name not in message


# --- allowed: what the agency sees is named -------------------------------------------------


def test_a_trial_names_a_duplicate_in_the_jurisdiction(cast, client, edt_account, hidden):
    rfc.established(cast.facility)
    body = rfc.rfc_document("Trial", **same_address(cast.facility))
    root = rfc.answer(rfc.post(client, edt_account, body))

    [duplicate] = root.iterfind("PotentialDuplicates/PotentialDuplicate")
    assert duplicate.findtext("CERSID") == str(cast.facility.cers_id)
    assert duplicate.findtext("OrganizationName") == "Acme Fuels"
    assert not any(ELSEWHERE in text for text in rfc.messages(root, "Warning"))


def test_the_state_agency_sees_every_facility(cast, hidden):
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        add_facility(
            actor=None,
            organization=cast.org,
            name="Again",
            street=hidden.street,
            city=hidden.city,
            zip_code="95814",
            importing_agency=cast.state,
        )
    [message] = refused.value.messages
    assert f"CERS ID {hidden.cers_id}" in message
