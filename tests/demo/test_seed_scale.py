"""``manage.py seed_scale``: the synthetic state-sized data set, on PostgreSQL only.

The fast suite runs on SQLite, where the command must refuse with a clear message; the
suite's PostgreSQL pass runs the command itself (300 facilities) and checks that every persona
sees through ``for_user`` what the routing gives its agency.
"""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from guardian.shortcuts import get_perms

from cme.models import Inspection, Violation
from facilities.models import Facility, FacilityRegulator
from facilities.services import default_regulators, refresh_lead_regulator
from organizations.models import Organization
from organizations.roles import ROLE_PERMISSIONS, Role
from regulators.models import Regulator
from regulators.roles import STAFF_ROLE_PERMISSIONS, StaffRole
from submittals.models import ElementStatus, SubmittalElementRecord
from tests.portal.test_summaries import recount, stored


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_scale", *args, stdout=out)
    return out.getvalue()


def test_seed_scale(cast):
    before = Facility.objects.count()
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL's COPY.*this database is sqlite"):
            seed("--facilities", "300", "--force")
        assert Facility.objects.count() == before
        return

    # The cast's facilities are real data: refused without --force, and nothing is added.
    with pytest.raises(CommandError, match=f"already holds {before} facilities.*--force"):
        seed("--facilities", "300")
    assert Facility.objects.count() == before

    output = seed("--facilities", "300", "--force")
    assert "300 facilities" in output
    new = Facility.objects.filter(zip_code__startswith="90")
    assert new.count() == 300 == Facility.objects.count() - before

    # Every element of every facility routed as facilities.services would route it.
    routed = {}
    for facility_id, element, regulator_id, zip_code in FacilityRegulator.objects.filter(
        facility__in=new
    ).values_list("facility_id", "element", "regulator_id", "facility__zip_code"):
        routed.setdefault(facility_id, {})[element] = (regulator_id, zip_code)
    assert len(routed) == 300
    for rows in routed.values():
        zip_code = next(iter(rows.values()))[1]
        expected = {e: r.pk for e, r in default_regulators(zip_code).items()}
        assert {e: r for e, (r, _z) in rows.items()} == expected

    # Every organization's lead regulator is the one refresh_lead_regulator keeps.
    organizations = Organization.objects.filter(facilities__in=new).distinct()
    assert 80 <= organizations.count() <= 100
    for organization in organizations:
        lead = organization.lead_regulator_id
        assert lead is not None
        assert refresh_lead_regulator(organization).pk == lead

    # A year of submittals in every status, and CME records.
    statuses = Counter(
        SubmittalElementRecord.objects.filter(facility__in=new).values_list("status", flat=True)
    )
    assert set(statuses) == set(ElementStatus)
    assert Inspection.objects.filter(facility__in=new).exists()
    assert Violation.objects.filter(inspection__facility__in=new).exists()

    # The personas, with exactly their roles' permissions, see their agency's share.
    from accounts.models import User

    def persona(handle):
        return User.objects.get(email=f"{handle}@scale.cers.example")

    cupa = Regulator.objects.get(code="3001")
    pa = Regulator.objects.get(code="4002")
    reviewer, admin = persona("cupa-reviewer"), persona("cupa-admin")
    pa_reviewer, state_admin, lead = persona("pa-reviewer"), persona("state-admin"), persona("lead")
    assert set(get_perms(reviewer, cupa)) == STAFF_ROLE_PERMISSIONS[StaffRole.REVIEWER]
    assert set(get_perms(admin, cupa)) == STAFF_ROLE_PERMISSIONS[StaffRole.ADMINISTRATOR]
    assert set(get_perms(pa_reviewer, pa)) == STAFF_ROLE_PERMISSIONS[StaffRole.REVIEWER]

    def share(regulator):
        return set(
            FacilityRegulator.objects.filter(regulator=regulator).values_list(
                "facility_id", flat=True
            )
        )

    cupa_share, pa_share = share(cupa), share(pa)
    assert cupa_share and pa_share and pa_share < cupa_share
    for user, expected in ((reviewer, cupa_share), (admin, cupa_share), (pa_reviewer, pa_share)):
        assert set(Facility.objects.for_user(user).values_list("pk", flat=True)) == expected
    assert Facility.objects.for_user(state_admin).count() == Facility.objects.count()
    assert not Facility.objects.for_user(reviewer).exclude(pk__in=new).exists()
    assert not Facility.objects.for_user(cast.cupa_reviewer).filter(pk__in=new).exists()

    [membership] = lead.memberships.all()
    assert membership.role == Role.LEAD
    assert set(get_perms(lead, membership.organization)) == ROLE_PERMISSIONS[Role.LEAD]
    assert Facility.objects.for_user(lead).count() == 300 // 20
    assert membership.organization.facilities.count() == 300 // 20

    queue = SubmittalElementRecord.objects.for_user(reviewer, "review").awaiting_review()
    assert queue.exists()
    assert set(queue.values_list("regulator_id", flat=True)) == {cupa.pk}

    # The dashboards were counted at the end: each holds what its agency's lists hold.
    assert "agency dashboards" in output
    state = Regulator.objects.get(pk=state_admin.staff_memberships.get().regulator_id)
    for user, agency in ((reviewer, cupa), (pa_reviewer, pa), (state_admin, state)):
        assert stored(agency) == recount(user, agency), agency.name
    assert stored(cupa)["awaiting_review_count"] == queue.count()
