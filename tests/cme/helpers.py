"""Shared builders for the CME tests: records made through the services, as the portal does."""

import datetime

from cme import services
from tests import factories

DAY = datetime.date(2024, 5, 1)
HMBP_TYPE = "1010001"  # seeded example: business plan
UST_TYPE = "2030002"  # seeded example: UST monitoring


def inspection(cast, program_element="a", actor=None, regulator=None, **extra):
    return services.record_inspection(
        actor=actor or cast.cupa_reviewer,
        regulator=regulator or cast.cupa,
        facility=extra.pop("facility", cast.facility),
        program_element=program_element,
        inspection_type="a",
        occurred_on=extra.pop("occurred_on", DAY),
        inspector_name="Rita Reviewer",
        **extra,
    )


def violation(cast, parent, type_number=HMBP_TYPE, actor=None, regulator=None, **extra):
    values = {"violation_class": 9, "occurred_on": DAY, "scheduled_rtc_on": DAY} | extra
    return services.add_violation(
        actor=actor or cast.cupa_reviewer,
        regulator=regulator or cast.cupa,
        inspection=parent,
        type_number=type_number,
        **values,
    )


def enforcement(cast, violations=(), actor=None, regulator=None, **extra):
    facility = extra.pop("facility", cast.facility)
    values = {"enforcement_type": "a", "occurred_on": DAY} | extra
    return services.record_enforcement(
        actor=actor or cast.cupa_reviewer,
        regulator=regulator or cast.cupa,
        facility=facility,
        violations=violations,
        **values,
    )


def pa_reviewer(cast):
    """A reviewer (who may record CME) at the PA, which handles cast.facility's UST."""
    user = factories.make_user("inspector@sac-pa.example", first_name="Pat")
    factories.add_staff(cast.pa, user, "reviewer")
    return user
