"""``update_cme_batch``: many stored records changed at once, written and audited exactly as
the single ``update_*`` services change them, the rule asked for all of them at once, all or
nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cme import services
from cme.models import Enforcement, Inspection, Violation
from core.models import AuditEvent
from tests import factories

from .helpers import DAY, enforcement, inspection, violation

LATER = DAY + datetime.timedelta(days=5)
INSPECTION_FIELDS = (*services.INSPECTION_FIELDS, "regulator_key", "regulator_action_at")
VIOLATION_FIELDS = (*services.VIOLATION_FIELDS, "violation_type_id")
ENFORCEMENT_FIELDS = services.ENFORCEMENT_FIELDS
# The changes of each kind, one per record of the world (``_world``).
INSPECTION_CHANGES = [
    {"inspection_type": "b", "comments": "Follow-up."},
    {"occurred_on": LATER, "violations_rtc_on": LATER},
    {"program_element": "e", "comments": ""},  # it has no violation: it may move
]
VIOLATION_CHANGES = [
    {"return_to_compliance_on": LATER, "rtc_qualifier": 1},
    {"type_number": "1010002", "violation_class": 2},
    {"comments": "Seen again.", "scheduled_rtc_on": LATER},
]
ENFORCEMENT_CHANGES = [
    {"fine_amount": 12500, "comments": "Fined."},
    {"enforcement_type": "c", "formal_type": "a", "docket_number": "AEO-1"},
    {"red_tag_issued": "Y", "red_tag_number": "12", "red_tag_affixed_on": LATER},
]


def _world(cast, actor):
    """Three inspections (two with a violation), three violations, three enforcement actions
    (two linking violations), recorded by ``actor``."""
    parents = [inspection(cast, actor=actor, comments=f"Visit {n}.") for n in range(3)]
    found = [violation(cast, parents[n // 2], actor=actor) for n in range(3)]
    actions = [
        enforcement(cast, violations=found[n : n + 1] if n < 2 else (), actor=actor)
        for n in range(3)
    ]
    return parents, found, actions


def _events(actor):
    """The CME update events ``actor`` caused, without what differs between worlds (keys)."""
    found = []
    for event in AuditEvent.objects.filter(actor=actor, action__endswith=".updated").order_by("pk"):
        before, after = dict(event.before), dict(event.after)
        for values in (before, after):
            values.pop("inspection", None)
            if "violations" in values:
                values["violations"] = len(values["violations"])
        found.append(
            (event.action, event.object_type, event.object_repr, event.regulator_id, before, after)
        )
    return found


def _rows(model, rows, fields):
    return [
        tuple(getattr(row, name) for name in fields)
        for row in model.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
    ]


@pytest.mark.django_db
def test_a_batch_changes_and_audits_as_the_single_services_do(cast):
    one, other = cast.cupa_reviewer, factories.make_user("second@sac-cupa.example")
    factories.add_staff(cast.cupa, other, "reviewer")
    single, batch = _world(cast, one), _world(cast, one)
    kwargs = {"actor": one, "regulator": cast.cupa}
    for row, changes in zip(single[0], INSPECTION_CHANGES, strict=True):
        services.update_inspection(inspection=row, **kwargs, **changes)
    for row, changes in zip(single[1], VIOLATION_CHANGES, strict=True):
        services.update_violation(violation=row, **kwargs, **changes)
    for row, changes in zip(single[2], ENFORCEMENT_CHANGES, strict=True):
        services.update_enforcement(enforcement=row, **kwargs, **changes)

    inspections = [
        services.ChangedInspection(regulator=cast.cupa, inspection=row, changes=changes)
        for row, changes in zip(batch[0], INSPECTION_CHANGES, strict=True)
    ]
    violations = [
        services.ChangedViolation(regulator=cast.cupa, violation=row, changes=changes)
        for row, changes in zip(batch[1], VIOLATION_CHANGES, strict=True)
    ]
    enforcements = [
        services.ChangedEnforcement(regulator=cast.cupa, enforcement=row, changes=changes)
        for row, changes in zip(batch[2], ENFORCEMENT_CHANGES, strict=True)
    ]
    services.update_cme_batch(
        actor=other, inspections=inspections, violations=violations, enforcements=enforcements
    )

    for model, fields, n in (
        (Inspection, INSPECTION_FIELDS, 0),
        (Violation, VIOLATION_FIELDS, 1),
        (Enforcement, ENFORCEMENT_FIELDS, 2),
    ):
        assert _rows(model, batch[n], fields) == _rows(model, single[n], fields)
    assert _rows(Inspection, batch[0], ["program_element"])[2] == ("e",)
    assert _rows(Enforcement, batch[2], ["red_tag_number"])[2] == ("00012",)
    assert [item.written.pk for item in violations] == [row.pk for row in batch[1]]
    assert _events(other) == _events(one)
    assert [e[0] for e in _events(other)] == ["cme.inspection.updated"] * 3 + [
        "cme.violation.updated"
    ] * 3 + ["cme.enforcement.updated"] * 3
    first = AuditEvent.objects.filter(actor=other).order_by("pk").first()
    assert first.before["inspection_type"] == "a" and first.after["inspection_type"] == "b"


@pytest.mark.django_db
def test_the_edt_keys_are_written_with_the_change(cast):
    parent = inspection(cast)
    at = timezone.now().replace(microsecond=0)
    item = services.ChangedInspection(
        regulator=cast.cupa,
        inspection=parent,
        changes={"comments": "Sent again."},
        regulator_key="I-7",
        regulator_action_at=at,
    )
    services.update_cme_batch(actor=cast.cupa_reviewer, inspections=[item])
    stored = Inspection.objects.get(pk=parent.pk)
    assert (stored.comments, stored.regulator_key, stored.regulator_action_at) == (
        "Sent again.",
        "I-7",
        at,
    )
    # Without keys the change leaves them as stored (the portal's).
    services.update_inspection(
        actor=cast.cupa_reviewer, regulator=cast.cupa, inspection=parent, comments="Edited."
    )
    assert Inspection.objects.filter(pk=parent.pk, regulator_key="I-7").exists()


@pytest.mark.django_db
def test_an_action_is_checked_against_its_violations_change_in_the_batch(cast):
    """As if the single services were called in the batch's order (inspections, violations,
    actions): an action is checked against its linked violation's new date."""
    parent = inspection(cast)
    found = violation(cast, parent)
    action = enforcement(cast, violations=[found], occurred_on=DAY + datetime.timedelta(days=2))
    later = DAY + datetime.timedelta(days=3)
    moved = services.ChangedViolation(
        regulator=cast.cupa,
        violation=found,
        changes={"occurred_on": later, "scheduled_rtc_on": later},
    )
    kept = services.ChangedEnforcement(
        regulator=cast.cupa, enforcement=action, changes={"comments": "Unchanged date."}
    )
    with pytest.raises(services.RecordsRefused) as refused:
        services.update_cme_batch(actor=cast.cupa_reviewer, violations=[moved], enforcements=[kept])
    [(item, error)] = refused.value.refused
    assert item is kept
    assert error.message_dict == {
        "occurred_on": ["The enforcement date cannot be before a linked violation's date."]
    }


@pytest.mark.django_db
def test_every_refusal_is_listed_and_nothing_is_written(cast):
    """A check of the values, the jurisdiction (the CUPA does not handle the UST program at
    this facility: its PA does) and the rule of an inspection with violations, each listed
    with the error the single service raises; a violation of a refused inspection change is
    not checked; nothing is written."""
    bad_date, to_ust, with_violations, fine = (inspection(cast) for _ in range(4))
    child = violation(cast, with_violations)
    action = enforcement(cast)
    items = [
        services.ChangedInspection(
            regulator=cast.cupa,
            inspection=bad_date,
            changes={"occurred_on": datetime.date(1979, 1, 1)},
        ),
        services.ChangedInspection(
            regulator=cast.cupa, inspection=to_ust, changes={"program_element": "c"}
        ),
        services.ChangedInspection(
            regulator=cast.cupa, inspection=with_violations, changes={"program_element": "e"}
        ),
        services.ChangedInspection(regulator=cast.cupa, inspection=fine, changes={"comments": "x"}),
    ]
    of_refused = services.ChangedViolation(
        regulator=cast.cupa, violation=child, changes={"scheduled_rtc_on": None}
    )
    bad_amount = services.ChangedEnforcement(
        regulator=cast.cupa, enforcement=action, changes={"fine_amount": -1}
    )
    with pytest.raises(services.RecordsRefused) as refused:
        services.update_cme_batch(
            actor=cast.cupa_reviewer,
            inspections=items,
            violations=[of_refused],
            enforcements=[bad_amount],
        )
    reasons = refused.value.refused
    assert [item for item, _error in reasons] == [*items[:3], bad_amount]
    errors = [error for _item, error in reasons]
    assert errors[0].message_dict == {
        "occurred_on": ["The inspection date cannot be before 1 October 1980."]
    }
    assert isinstance(errors[1], PermissionDenied)
    assert "does not regulate the Underground Storage Tanks" in str(errors[1])
    assert errors[2].message_dict == {
        "program_element": ["Remove the violations before changing the program element."]
    }
    assert list(errors[3].message_dict) == ["fine_amount"]
    # Each is the error the single service raises for the same change.
    for item, error in reasons[:3]:
        with pytest.raises((ValidationError, PermissionDenied)) as single:
            services.update_inspection(
                actor=cast.cupa_reviewer,
                regulator=cast.cupa,
                inspection=item.inspection,
                **item.changes,
            )
        assert type(single.value) is type(error) and str(single.value) == str(error)
    assert not AuditEvent.objects.filter(action__endswith=".updated").exists()
    assert set(Inspection.objects.values_list("program_element", "comments")) == {("a", "")}
    assert Violation.objects.get().scheduled_rtc_on is not None
    assert Enforcement.objects.get().fine_amount is None


@pytest.mark.django_db
def test_the_single_services_refuse_as_before(cast):
    """Batches of one, their refusal raised as it came: by field for a form, or the rule's."""
    parent = inspection(cast)
    violation(cast, parent)
    kwargs = {"actor": cast.cupa_reviewer, "regulator": cast.cupa, "inspection": parent}
    with pytest.raises(ValidationError) as refused:
        services.update_inspection(**kwargs, program_element="e")
    assert refused.value.message_dict == {
        "program_element": ["Remove the violations before changing the program element."]
    }
    with pytest.raises(PermissionDenied):
        services.update_inspection(**kwargs | {"actor": cast.outsider}, comments="x")
    with pytest.raises(TypeError):
        services.update_inspection(**kwargs, facility=cast.facility)
    assert not AuditEvent.objects.filter(action__endswith=".updated").exists()


@pytest.mark.django_db
def test_a_batch_of_changes_costs_the_same_queries_whatever_its_size(cast):
    facilities = [factories.make_facility(cast.org) for _ in range(4)]

    def queries(count: int) -> int:
        parents = [inspection(cast, facility=facilities[n % 4]) for n in range(count)]
        found = [violation(cast, parent) for parent in parents]
        actions = [
            enforcement(cast, violations=[v], facility=facilities[n % 4])
            for n, v in enumerate(found)
        ]
        with CaptureQueriesContext(connection) as captured:
            services.update_cme_batch(
                actor=cast.cupa_reviewer,
                inspections=[
                    services.ChangedInspection(
                        regulator=cast.cupa, inspection=p, changes={"comments": "c"}
                    )
                    for p in parents
                ],
                violations=[
                    services.ChangedViolation(
                        regulator=cast.cupa, violation=v, changes={"comments": "c"}
                    )
                    for v in found
                ],
                enforcements=[
                    services.ChangedEnforcement(
                        regulator=cast.cupa, enforcement=a, changes={"comments": "c"}
                    )
                    for a in actions
                ],
            )
        assert (
            AuditEvent.objects.filter(
                action="cme.violation.updated", object_id__in=[str(v.pk) for v in found]
            ).count()
            == count
        )
        return len(captured)

    assert queries(3) == queries(12)
