"""``facilities.services.set_next_due_dates``: the next due dates an agency's system sets
(EDT action notifications and facility submittals), each change audited, other agencies
refused."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.models import AuditEvent
from facilities.models import FacilityRegulator
from facilities.services import set_next_due_dates
from tests.edt.conftest import make_edt_account

FI, HMI, UST = 1, 2, 4


def due_date(facility, element) -> date | None:
    return FacilityRegulator.objects.get(facility=facility, element=element).next_due_date


def test_it_sets_the_dates_and_audits_each_facility_once(cast):
    account = make_edt_account("1001", "sac_edt", "1-6", "both")
    soon = timezone.localdate() + timedelta(days=30)
    later = timezone.localdate() + timedelta(days=365)
    with transaction.atomic():
        changed = set_next_due_dates(
            actor=account.user,
            due_dates={(cast.facility.pk, FI): later, (cast.facility.pk, UST): soon},
        )
    assert changed == 2
    assert (due_date(cast.facility, FI), due_date(cast.facility, UST)) == (later, soon)
    event = AuditEvent.objects.get(action="facility.elements_changed")
    assert (event.actor, event.object_id) == (account.user, str(cast.facility.pk))
    assert event.before == {"1": {"next_due_date": None}, "4": {"next_due_date": None}}
    assert event.after == {
        "1": {"next_due_date": later.isoformat()},
        "4": {"next_due_date": soon.isoformat()},
    }
    assert event.organization == cast.org


def test_a_date_already_set_writes_nothing(cast):
    account = make_edt_account("1001", "sac_edt", "1-6", "both")
    due = timezone.localdate() + timedelta(days=30)
    set_next_due_dates(actor=account.user, due_dates={(cast.facility.pk, HMI): due})
    assert set_next_due_dates(actor=account.user, due_dates={(cast.facility.pk, HMI): due}) == 0
    assert AuditEvent.objects.filter(action="facility.elements_changed").count() == 1


def test_another_agencys_account_and_staff_and_business_users_are_refused(cast):
    # The element's own reviewers may set it in the portal now (issue 16):
    # tests/facilities/test_requirements.py.
    yolo = make_edt_account("1002", "yolo_edt", "1-6", "both")
    due = timezone.localdate() + timedelta(days=30)
    for actor in (yolo.user, cast.cupa2_reviewer, cast.pa_viewer, cast.lead):
        with pytest.raises(PermissionDenied):
            set_next_due_dates(actor=actor, due_dates={(cast.facility.pk, FI): due})
    assert due_date(cast.facility, FI) is None
    assert not AuditEvent.objects.filter(action="facility.elements_changed").exists()
