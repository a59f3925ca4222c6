"""The element rows of facilities (``FacilityRegulator``) are locked by three writers: EDT
Facility Metadata, a due date set in the portal, and the due dates many acceptances set at
once. Each locks them through ``lock_element_rows``, in one order (facility, then element),
and locks only them: two writers wait for each other rather than each holding a row the
other needs, and an upload's transaction does not hold the agency's own row."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from facilities import services
from facilities.models import FacilityRegulator
from tests.edt.conftest import make_edt_account

FI, APSA = 1, 9


def test_the_rows_are_locked_alone_by_facility_then_element(cast):
    query = services.lock_element_rows([cast.facility.pk], "regulator", "facility").query
    assert query.select_for_update
    assert query.select_for_update_of == ("self",)
    assert query.order_by == ("facility_id", "element")


def test_the_rows_come_in_that_order(cast):
    facilities = [cast.facility.pk, cast.facility_yolo.pk]
    rows = list(services.lock_element_rows(facilities))
    keys = [(row.facility_id, row.element) for row in rows]
    assert keys == sorted(keys)
    assert len(keys) == FacilityRegulator.objects.filter(facility_id__in=facilities).count()


@pytest.fixture
def locks():
    with mock.patch.object(services, "lock_element_rows", wraps=services.lock_element_rows) as spy:
        yield spy


def test_facility_metadata_locks_through_it(cast, locks):
    account = make_edt_account("1001", "sac_edt", "1-6", "both")
    with transaction.atomic():
        services.apply_facility_metadata(
            actor=account.user, facility=cast.facility, details={"local_facility_id": "X"}
        )
    locks.assert_called_once_with([cast.facility.pk], "regulator")


def test_a_due_date_set_in_the_portal_locks_through_it(cast, locks):
    services.set_element_requirement(
        actor=cast.cupa_reviewer,
        facility=cast.facility,
        element=APSA,
        reporting_requirement=None,
        next_due_date=timezone.localdate() + timedelta(days=90),
    )
    locks.assert_called_once_with([cast.facility.pk], "regulator", "facility")


def test_due_dates_set_at_once_lock_through_it(cast, locks):
    account = make_edt_account("1001", "sac_edt", "1-6", "both")
    due = timezone.localdate() + timedelta(days=30)
    with transaction.atomic():
        services.set_next_due_dates(actor=account.user, due_dates={(cast.facility.pk, FI): due})
    locks.assert_called_once_with({cast.facility.pk}, "facility")
