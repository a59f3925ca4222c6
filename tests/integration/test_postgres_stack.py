"""The web stack on PostgreSQL: the persona cast builds and scoping gives the same answers.

Small on purpose: in CI the whole ordinary suite also runs on PostgreSQL.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from facilities.models import Facility
from organizations.models import Organization

pytestmark = pytest.mark.integration


def test_the_cast_builds_and_scoping_holds_on_postgresql(cast):
    assert connection.vendor == "postgresql"

    assert set(Facility.objects.for_user(cast.lead)) == {cast.facility, cast.facility_yolo}
    assert set(Facility.objects.for_user(cast.viewer)) == {cast.facility, cast.facility_yolo}
    assert set(Facility.objects.for_user(cast.outsider)) == {cast.other_facility}
    assert set(Facility.objects.for_user(cast.pa_viewer)) == {cast.facility}
    assert set(Facility.objects.for_user(cast.cupa_reviewer)) == {cast.facility}
    assert set(Facility.objects.for_user(cast.cupa2_reviewer)) == {
        cast.facility_yolo,
        cast.other_facility,
    }
    assert Facility.objects.for_user(cast.state_admin).count() == 3
    assert not Facility.objects.for_user(cast.viewer, "manage").exists()
    assert set(Organization.objects.for_user(cast.outsider)) == {cast.other_org}


def test_email_addresses_are_unique_whatever_their_case(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="LEAD@ACME.EXAMPLE")
