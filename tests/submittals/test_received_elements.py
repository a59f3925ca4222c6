"""``store_submitted_elements``: the submittal an agency's system hands over (the EDT Facility
Submittal Submit) is stored only for an account of the agency handling the facility's Facility
Information, routed, and audited.

The cast's facility is in ZIP 95814: the Sacramento County CUPA (1001) handles every element
except element 4 (UST), which its City PA (1101) handles.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.elements import SubmittalElement
from core.models import AuditEvent
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from submittals.services import ReceivedElement, store_submitted_elements
from tests.edt.conftest import make_edt_account

FI = SubmittalElement.FACILITY_INFORMATION
UST = SubmittalElement.UST
PASS_THROUGH = 2


def received(submitted_at):
    return [
        ReceivedElement(
            element=element,
            data={"20.0004": f"key-{int(element)}"},
            submittal_type=PASS_THROUGH,
            submitted_at=submitted_at,
        )
        for element in (FI, UST)
    ]


def store(actor, facility, submitted_at=None):
    submitted_at = submitted_at or timezone.now() - timedelta(hours=1)
    return store_submitted_elements(
        actor=actor,
        facility=facility,
        elements=received(submitted_at),
        submitted_at=submitted_at,
        certifier_name=" Ann Submitter ",
    )


def test_the_cupas_account_stores_the_elements_routed_and_audited(cast):
    account = make_edt_account("1001", "sac_edt", "1-6", "both").user
    submitted_at = timezone.now() - timedelta(hours=1)
    group, records = store(account, cast.facility, submitted_at)

    assert group.status == FacilitySubmittal.Status.SUBMITTED
    assert group.created_by == account
    assert group.certifier_name == "Ann Submitter"
    assert [r.element for r in records] == [FI, UST]
    by_element = {r.element: r for r in records}
    assert by_element[FI].regulator == cast.cupa
    assert by_element[UST].regulator == cast.pa  # routed to the agency handling it
    for record in records:
        assert record.status == ElementStatus.SUBMITTED
        assert record.created_by == account
        assert record.submittal_type == PASS_THROUGH
        assert record.submitted_at == submitted_at
        assert record.facility_submittal == group

    event = AuditEvent.objects.get(action="submittal.received", object_id=str(group.pk))
    assert event.actor == account
    assert event.organization == cast.org
    assert event.after == {
        "elements": {str(r.element): str(r.key) for r in records},
        "via": "EDT",
    }


@pytest.mark.parametrize(
    ("code", "username", "tiers"),
    [
        ("1002", "yolo_edt", "1-6"),  # another agency's account
        ("1101", "pa_edt", "1-2"),  # the PA's account: no tier 6, not the CUPA
        ("1001", "sac_edt", "1-5"),  # the CUPA's account without tier 6
    ],
)
def test_other_accounts_store_nothing(cast, code, username, tiers):
    account = make_edt_account(code, username, tiers, "both").user
    with pytest.raises(PermissionDenied):
        store(account, cast.facility)
    assert not FacilitySubmittal.objects.filter(facility=cast.facility, created_by=account).exists()
    assert not SubmittalElementRecord.objects.filter(created_by=account).exists()
    assert not AuditEvent.objects.filter(action="submittal.received").exists()


def test_portal_users_who_may_not_submit_store_nothing(cast):
    for actor in (cast.editor, cast.outsider, cast.cupa_reviewer):
        with pytest.raises(PermissionDenied):
            store(actor, cast.facility)
    assert not AuditEvent.objects.filter(action="submittal.received").exists()
