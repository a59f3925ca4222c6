"""``delete_cme_batch``: many stored records deleted at once, with the rule, the audit events
and the rows gone exactly as the single ``delete_*`` services delete them one by one, the rule
asked for all of them at once, all or nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cme import services
from cme.models import Enforcement, EnforcementViolation, Inspection, Violation
from core.models import AuditEvent
from tests import factories

from .helpers import DAY, UST_TYPE, enforcement, inspection, named_events, pa_reviewer, violation


def _world(cast, actor):
    """Records by name: inspection P1 with violations V1 and V2 (V1 found later), P2 with V3;
    action E1 links V1 and V3, E2 links V2, E3 (later than E1) links V3."""
    later = DAY + datetime.timedelta(days=3)
    p1, p2 = (inspection(cast, actor=actor, comments=f"Visit {n}.") for n in (1, 2))
    v1 = violation(cast, p1, actor=actor, occurred_on=later, scheduled_rtc_on=later)
    v2 = violation(cast, p1, actor=actor, comments="Second.")
    v3 = violation(cast, p2, actor=actor)
    e1 = enforcement(cast, violations=[v1, v3], actor=actor, occurred_on=later)
    e2 = enforcement(cast, violations=[v2], actor=actor, occurred_on=later)
    e3 = enforcement(
        cast, violations=[v3], actor=actor, occurred_on=later + datetime.timedelta(days=1)
    )
    return {"P1": p1, "P2": p2, "V1": v1, "V2": v2, "V3": v3, "E1": e1, "E2": e2, "E3": e3}


def _left(world):
    """The records of ``world`` still stored, and their links, by name."""
    names = {(type(row), row.pk): name for name, row in world.items()}
    rows = sorted(
        names[model, pk]
        for model in (Inspection, Violation, Enforcement)
        for pk in model.objects.filter(
            pk__in=[r.pk for r in world.values() if isinstance(r, model)]
        ).values_list("pk", flat=True)
    )
    links = sorted(
        (names[Enforcement, e], names[Violation, v])
        for e, v in EnforcementViolation.objects.filter(
            enforcement__in=[r.pk for r in world.values() if isinstance(r, Enforcement)]
        ).values_list("enforcement_id", "violation_id")
    )
    return rows, links


@pytest.mark.django_db
def test_a_batch_deletes_and_audits_as_the_single_services_do(cast):
    """V3 deleted on its own (linked to two actions), E2 deleted (it links V2), P1 deleted
    with V1 and V2 (V1 still linked to E1, V2's link gone with E2): the same events, with the
    same snapshots, links and agency, in the same order, and the same rows left."""
    one, other = cast.cupa_reviewer, factories.make_user("second@sac-cupa.example")
    factories.add_staff(cast.cupa, other, "reviewer")
    single, batch = _world(cast, one), _world(cast, one)
    kwargs = {"actor": one, "regulator": cast.cupa}
    services.delete_violation(violation=single["V3"], **kwargs)
    services.delete_enforcement(enforcement=single["E2"], **kwargs)
    services.delete_inspection(inspection=single["P1"], **kwargs)

    items = {
        "V3": services.DeletedViolation(regulator=cast.cupa, violation=batch["V3"]),
        "E2": services.DeletedEnforcement(regulator=cast.cupa, enforcement=batch["E2"]),
        "P1": services.DeletedInspection(regulator=cast.cupa, inspection=batch["P1"]),
    }
    services.delete_cme_batch(
        actor=other,
        inspections=[items["P1"]],
        violations=[items["V3"]],
        enforcements=[items["E2"]],
    )

    assert _left(batch) == _left(single) == (["E1", "E3", "P2"], [])
    events = named_events(other, batch, ".deleted")
    assert events == named_events(one, single, ".deleted")
    assert [(action, name) for action, name, *_rest in events] == [
        ("cme.violation.deleted", "V3"),
        ("cme.enforcement.deleted", "E2"),
        ("cme.violation.deleted", "V2"),  # P1's violations, in their order (date, key)
        ("cme.violation.deleted", "V1"),
        ("cme.inspection.deleted", "P1"),
    ]
    befores = {name: before for _a, name, _r, _g, before, _after in events}
    assert befores["V3"]["enforcements"] == ["E3", "E1"]  # the actions' order: newest first
    assert befores["E2"]["violations"] == ["V2"]
    assert befores["V2"]["enforcements"] == []  # E2 went before
    assert befores["V1"]["enforcements"] == ["E1"]
    assert befores["P1"]["violations"] == ["V2", "V1"]
    assert befores["P1"]["comments"] == "Visit 1." and befores["V1"]["inspection"] == "P1"
    assert {regulator for _a, _n, _r, regulator, _b, _after in events} == {cast.cupa.pk}
    assert items["P1"].cascaded == [batch["V2"].pk, batch["V1"].pk]
    assert items["V3"].written.pk == batch["V3"].pk


@pytest.mark.django_db
def test_every_refusal_is_listed_and_nothing_is_deleted(cast):
    """The CUPA does not handle the UST program at this facility (its PA does): deleting the
    PA's UST inspection or violation, or an action linking that violation, is refused with
    the error the single service raises; an action linking a violation whose delete was
    refused is not checked; a record gone is named; nothing is deleted."""
    pa = pa_reviewer(cast)
    ust = inspection(cast, program_element="c", actor=pa, regulator=cast.pa)
    ust_violation = violation(cast, ust, type_number=UST_TYPE, actor=pa, regulator=cast.pa)
    other_ust = violation(cast, ust, type_number=UST_TYPE, actor=pa, regulator=cast.pa)
    plan = inspection(cast)
    action = enforcement(cast, violations=[other_ust], regulator=cast.pa, actor=pa)
    of_refused = enforcement(cast, violations=[ust_violation], regulator=cast.pa, actor=pa)
    gone = inspection(cast)
    Inspection.objects.filter(pk=gone.pk).delete()
    cupa = {"regulator": cast.cupa}
    items = [
        services.DeletedViolation(violation=ust_violation, **cupa),
        services.DeletedEnforcement(enforcement=action, **cupa),
        services.DeletedEnforcement(enforcement=of_refused, **cupa),
        services.DeletedInspection(inspection=ust, **cupa),
        services.DeletedInspection(inspection=plan, **cupa),
        services.DeletedInspection(inspection=gone, **cupa),
    ]
    with pytest.raises(services.RecordsRefused) as refused:
        services.delete_cme_batch(
            actor=cast.cupa_reviewer,
            violations=items[:1],
            enforcements=items[1:3],
            inspections=items[3:],
        )
    reasons = refused.value.refused
    assert [item for item, _error in reasons] == [items[0], items[1], items[3], items[5]]
    errors = [error for _item, error in reasons]
    assert all(isinstance(error, PermissionDenied) for error in errors[:3])
    assert "does not regulate the Underground Storage Tanks" in str(errors[0])
    assert errors[3].messages == ["This inspection no longer exists."]
    # Each is the error the single service raises for the same delete.
    kwargs = {"actor": cast.cupa_reviewer, "regulator": cast.cupa}
    for call, error in (
        (lambda: services.delete_violation(violation=ust_violation, **kwargs), errors[0]),
        (lambda: services.delete_enforcement(enforcement=action, **kwargs), errors[1]),
        (lambda: services.delete_inspection(inspection=ust, **kwargs), errors[2]),
        (lambda: services.delete_inspection(inspection=gone, **kwargs), errors[3]),
    ):
        with pytest.raises((ValidationError, PermissionDenied)) as single:
            call()
        assert type(single.value) is type(error) and str(single.value) == str(error)
    assert not AuditEvent.objects.filter(action__endswith=".deleted").exists()
    assert Inspection.objects.count() == 2 and Violation.objects.count() == 2
    assert Enforcement.objects.count() == 2 and EnforcementViolation.objects.count() == 2


@pytest.mark.django_db
def test_a_record_deleted_twice_in_a_batch_is_a_mistake_of_the_caller(cast):
    parent = inspection(cast)
    twice = [services.DeletedInspection(regulator=cast.cupa, inspection=parent) for _ in "ab"]
    with pytest.raises(ValueError, match="deleted twice"):
        services.delete_cme_batch(actor=cast.cupa_reviewer, inspections=twice)
    assert Inspection.objects.filter(pk=parent.pk).exists()


@pytest.mark.django_db
def test_a_batch_of_deletes_costs_the_same_queries_whatever_its_size(cast):
    facilities = [factories.make_facility(cast.org) for _ in range(4)]

    def queries(count: int) -> int:
        parents = [inspection(cast, facility=facilities[n % 4]) for n in range(2 * count)]
        found = [violation(cast, parent) for parent in parents for _ in "ab"]
        actions = [
            enforcement(cast, violations=[v], facility=v.inspection.facility) for v in found[:count]
        ]
        with CaptureQueriesContext(connection) as captured:
            services.delete_cme_batch(
                actor=cast.cupa_reviewer,
                violations=[
                    services.DeletedViolation(regulator=cast.cupa, violation=v)
                    for v in found[count : 2 * count]
                ],
                enforcements=[
                    services.DeletedEnforcement(regulator=cast.cupa, enforcement=a) for a in actions
                ],
                inspections=[
                    services.DeletedInspection(regulator=cast.cupa, inspection=p) for p in parents
                ],
            )
        assert not Violation.objects.filter(pk__in=[v.pk for v in found]).exists()
        assert (
            AuditEvent.objects.filter(
                action="cme.violation.deleted", object_id__in=[str(v.pk) for v in found]
            ).count()
            == 4 * count
        )
        return len(captured)

    assert queries(3) == queries(12)
