"""Shared builders for the CME tests: records made through the services, as the portal does."""

import datetime

from cme import services
from core.models import AuditEvent
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


def named_events(actor, world: dict, ending: str) -> list[tuple]:
    """The events ``actor`` caused whose action ends with ``ending``, in order: each one's
    record, and every record its snapshots name, given by its name in ``world`` (twin worlds
    then compare equal though their keys differ)."""
    names = {(type(row)._meta.label_lower, row.pk): name for name, row in world.items()}

    def renamed(values):
        if not values:
            return values
        values = dict(values)
        if "inspection" in values:
            values["inspection"] = names["cme.inspection", values["inspection"]]
        for key, model in (("violations", "violation"), ("enforcements", "enforcement")):
            if key in values:
                values[key] = [names[f"cme.{model}", pk] for pk in values[key]]
        return values

    return [
        (
            event.action,
            names[event.object_type, int(event.object_id)],
            event.object_repr,
            event.regulator_id,
            renamed(event.before),
            renamed(event.after),
        )
        for event in AuditEvent.objects.filter(actor=actor, action__endswith=ending).order_by("pk")
    ]
