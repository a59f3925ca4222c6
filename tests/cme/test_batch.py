"""``record_cme_batch``: many records at once, stored and audited exactly as the single
services store them, the rule asked for all of them at once, all or nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cme import rules, services
from cme.models import Enforcement, EnforcementViolation, Inspection, Violation
from core import services as core_services
from core.access import can
from core.models import AuditEvent
from tests import factories

from .helpers import DAY, HMBP_TYPE, UST_TYPE

INSPECTION = {
    "program_element": "a",
    "inspection_type": "a",
    "occurred_on": DAY,
    "inspector_name": "Rita Reviewer",
    "comments": "Routine.",
}
VIOLATION = {
    "type_number": HMBP_TYPE,
    "violation_class": 9,
    "occurred_on": DAY,
    "scheduled_rtc_on": DAY + datetime.timedelta(days=30),
}
ENFORCEMENT = {"enforcement_type": "a", "occurred_on": DAY + datetime.timedelta(days=3)}


def _events(actor):
    """The CME events ``actor`` caused, without what differs between two runs (keys)."""
    found = []
    for event in AuditEvent.objects.filter(actor=actor, action__startswith="cme.").order_by("pk"):
        after = dict(event.after or {})
        before = dict(event.before or {})
        for values in (before, after):
            values.pop("inspection", None)
            if "violations" in values:
                values["violations"] = len(values["violations"])
        found.append((event.action, event.object_type, event.object_repr, before, after))
    return found


def _rows(actor):
    """The CME rows ``actor`` recorded, field by field, without what differs between two runs
    (keys, times, the author) and with each parent by its position among the actor's."""
    inspections = list(Inspection.objects.filter(created_by=actor).order_by("pk"))
    actions = list(Enforcement.objects.filter(created_by=actor).order_by("pk"))
    violations = list(Violation.objects.filter(inspection__in=inspections).order_by("pk"))
    position = {
        (type(row), row.pk): n
        for rows in (inspections, violations, actions)
        for n, row in enumerate(rows)
    }
    skipped = {"id", "cers_key", "created_at", "created_by", "regulator_key"}
    parents = {"inspection", "violation", "enforcement"}

    def values(row):
        return {
            field.name: position[field.related_model, value] if field.name in parents else value
            for field in row._meta.concrete_fields
            if field.name not in skipped
            for value in [getattr(row, field.attname)]
        }

    links = EnforcementViolation.objects.filter(enforcement__in=actions).order_by("pk")
    return [values(row) for row in [*inspections, *violations, *actions, *links]]


def _single(cast, actor):
    """One inspection, two violations, an action linking both, through the single services
    (the links as the portal adds them, one at a time)."""
    kwargs = {"actor": actor, "regulator": cast.cupa}
    inspection = services.record_inspection(facility=cast.facility, **kwargs, **INSPECTION)
    found = [services.add_violation(inspection=inspection, **kwargs, **VIOLATION) for _ in "ab"]
    action = services.record_enforcement(facility=cast.facility, **kwargs, **ENFORCEMENT)
    for n in range(len(found)):
        services.update_enforcement(enforcement=action, violations=found[: n + 1], **kwargs)


def _batch(cast, actor):
    inspection = services.NewInspection(
        regulator=cast.cupa, facility=cast.facility, values=INSPECTION, regulator_key="I"
    )
    found = [
        services.NewViolation(regulator=cast.cupa, inspection=inspection, values=VIOLATION)
        for _ in "ab"
    ]
    action = services.NewEnforcement(
        regulator=cast.cupa, facility=cast.facility, values=ENFORCEMENT
    )
    links = [services.NewLink(regulator=cast.cupa, enforcement=action, violation=v) for v in found]
    services.record_cme_batch(
        actor=actor, inspections=[inspection], violations=found, enforcements=[action], links=links
    )
    return inspection, found, action, links


@pytest.mark.django_db
@pytest.mark.parametrize("copy_from", [core_services.COPY_FROM, 2])
def test_a_batch_stores_and_audits_as_the_single_services_do(cast, monkeypatch, copy_from):
    """Also with rows and events written by COPY (PostgreSQL, past ``COPY_FROM`` rows)."""
    monkeypatch.setattr(core_services, "COPY_FROM", copy_from)
    other = factories.make_user("second@sac-cupa.example")
    factories.add_staff(cast.cupa, other, "reviewer")
    _single(cast, cast.cupa_reviewer)
    inspection, found, action, links = _batch(cast, other)

    assert _events(other) == _events(cast.cupa_reviewer)
    assert _rows(other) == _rows(cast.cupa_reviewer)
    assert len(_rows(other)) == 6
    # Each record's event names it and keeps its values as its row, read back, gives them.
    for model, snapshot_of in (
        (Inspection, services._inspection_snapshot),
        (Violation, services._violation_snapshot),
        (Enforcement, lambda row: services._enforcement_snapshot(row, [])),
    ):
        kind = model._meta.model_name
        for event in AuditEvent.objects.filter(action=f"cme.{kind}.recorded"):
            row = model.objects.get(pk=event.object_id)
            assert (event.object_repr, event.after) == (str(row), snapshot_of(row))
    assert [e[0] for e in _events(other)] == [
        "cme.inspection.recorded",
        "cme.violation.recorded",
        "cme.violation.recorded",
        "cme.enforcement.recorded",
        "cme.enforcement.updated",
        "cme.enforcement.updated",
    ]
    stored = Inspection.objects.get(pk=inspection.written.pk)
    assert (stored.regulator_key, stored.created_by, stored.comments) == ("I", other, "Routine.")
    assert list(stored.violations.order_by("pk")) == [v.written for v in found]
    assert list(Enforcement.objects.get(pk=action.written.pk).violations.order_by("pk")) == [
        v.written for v in found
    ]
    assert {link.written.pk for link in links} == set(
        EnforcementViolation.objects.filter(enforcement=action.written).values_list("pk", flat=True)
    )
    updates = AuditEvent.objects.filter(actor=other, action="cme.enforcement.updated")
    assert [(e.before["violations"], e.after["violations"]) for e in updates.order_by("pk")] == [
        ([], [found[0].written.pk]),
        ([found[0].written.pk], [found[0].written.pk, found[1].written.pk]),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("copy_from", [core_services.COPY_FROM, 2])
def test_records_no_other_belongs_to_are_written_from_their_values(cast, monkeypatch, copy_from):
    """No model object built (``written`` is ``Written``): the same rows and events still."""
    monkeypatch.setattr(core_services, "COPY_FROM", copy_from)
    other = factories.make_user("second@sac-cupa.example")
    factories.add_staff(cast.cupa, other, "reviewer")
    late = INSPECTION | {"inspection_type": "b", "occurred_on": DAY + datetime.timedelta(days=1)}
    place = {"regulator": cast.cupa, "facility": cast.facility}
    for actor in (cast.cupa_reviewer, other):
        kwargs = {"actor": actor, "regulator": cast.cupa}
        first = services.record_inspection(facility=cast.facility, **kwargs, **INSPECTION)
        if actor == cast.cupa_reviewer:
            services.record_inspection(actor=actor, **place, **late)
            services.add_violation(inspection=first, **kwargs, **VIOLATION)
            services.record_enforcement(facility=cast.facility, **kwargs, **ENFORCEMENT)
            continue
        items = (
            services.NewInspection(values=late, regulator_key="I-2", **place),
            services.NewViolation(regulator=cast.cupa, inspection=first, values=VIOLATION),
            services.NewEnforcement(
                regulator=cast.cupa, facility=cast.facility, values=ENFORCEMENT
            ),
        )
        services.record_cme_batch(
            actor=actor, inspections=items[:1], violations=items[1:2], enforcements=items[2:]
        )

    assert _events(other) == _events(cast.cupa_reviewer)
    assert _rows(other) == _rows(cast.cupa_reviewer)
    assert len(_rows(other)) == 4
    for item, model in zip(items, (Inspection, Violation, Enforcement), strict=True):
        assert isinstance(item.written, services.Written)
        row = model.objects.get(pk=item.written.pk)
        assert row.cers_key == item.written.cers_key
        event = AuditEvent.objects.get(
            action=f"cme.{model._meta.model_name}.recorded", object_id=str(row.pk)
        )
        assert (event.actor, event.object_repr) == (other, str(row))
    assert Inspection.objects.get(pk=items[0].written.pk).regulator_key == "I-2"


@pytest.mark.django_db
def test_a_link_to_stored_records_is_recorded_as_the_actions_change(cast):
    from .helpers import enforcement, inspection, violation

    parent = inspection(cast)
    first, second = violation(cast, parent), violation(cast, parent)
    action = enforcement(cast, violations=[first])
    link = services.NewLink(regulator=cast.cupa, enforcement=action, violation=second)
    services.record_cme_batch(actor=cast.cupa_reviewer, links=[link])
    assert sorted(action.violations.values_list("pk", flat=True)) == [first.pk, second.pk]
    event = AuditEvent.objects.filter(action="cme.enforcement.updated").get()
    assert (event.before["violations"], event.after["violations"]) == (
        [first.pk],
        sorted([first.pk, second.pk]),
    )


@pytest.mark.django_db
def test_every_refusal_is_listed_and_nothing_is_stored(cast):
    early = DAY - datetime.timedelta(days=10)
    good = services.NewInspection(regulator=cast.cupa, facility=cast.facility, values=INSPECTION)
    ust = services.NewInspection(  # the PA handles the UST program at this facility
        regulator=cast.cupa, facility=cast.facility, values=INSPECTION | {"program_element": "c"}
    )
    wrong_type = services.NewViolation(
        regulator=cast.cupa, inspection=good, values=VIOLATION | {"type_number": UST_TYPE}
    )
    orphan = services.NewViolation(regulator=cast.cupa, inspection=ust, values=VIOLATION)
    fine = services.NewViolation(regulator=cast.cupa, inspection=good, values=VIOLATION)
    action = services.NewEnforcement(
        regulator=cast.cupa, facility=cast.facility, values=ENFORCEMENT | {"occurred_on": early}
    )
    too_early = services.NewLink(regulator=cast.cupa, enforcement=action, violation=fine)
    with pytest.raises(services.RecordsRefused) as refused:
        services.record_cme_batch(
            actor=cast.cupa_reviewer,
            inspections=[good, ust],
            violations=[wrong_type, orphan, fine],
            enforcements=[action],
            links=[too_early],
        )
    reasons = dict(refused.value.refused)
    assert list(reasons) == [ust, wrong_type, too_early]  # the orphan goes with its parent
    assert isinstance(reasons[ust], PermissionDenied)
    assert "does not fit" in str(reasons[wrong_type].messages)
    assert "linked violation" in str(reasons[too_early].messages)
    assert not Inspection.objects.exists() and not Violation.objects.exists()
    assert not Enforcement.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="cme.").exists()


@pytest.mark.django_db
def test_the_batch_rule_answers_as_the_single_rule(cast):
    """``rules.refusals`` refuses exactly the works ``may_record_cme`` refuses, with its
    reason, for staff of each agency, an outsider and the system."""
    yolo = cast.facility_yolo
    works = [
        rules.CmeWork(agency, facility, element)
        for agency in (cast.cupa, cast.pa, cast.state)
        for facility in (cast.facility, yolo)
        for element in ("a", "c", "e", None)
    ]
    for actor in (cast.cupa_reviewer, cast.pa_viewer, cast.outsider, None):
        denied = rules.refusals(actor, works)
        for work in works:
            assert (work not in denied) == can(actor, "cme.record", work), (actor, work)
            if work in denied:
                with pytest.raises(PermissionDenied) as single:
                    rules.may_record_cme(actor, work)
                assert str(single.value) == str(denied[work])


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_whatever_its_size(cast):
    facilities = [factories.make_facility(cast.org) for _ in range(6)]

    def queries(count: int) -> int:
        inspections = [
            services.NewInspection(
                regulator=cast.cupa, facility=facilities[n % len(facilities)], values=INSPECTION
            )
            for n in range(count)
        ]
        found = [
            services.NewViolation(regulator=cast.cupa, inspection=i, values=VIOLATION)
            for i in inspections
        ]
        actions = [
            services.NewEnforcement(regulator=cast.cupa, facility=i.facility, values=ENFORCEMENT)
            for i in inspections
        ]
        links = [
            services.NewLink(regulator=cast.cupa, enforcement=a, violation=v)
            for a, v in zip(actions, found, strict=True)
        ]
        with CaptureQueriesContext(connection) as captured:
            services.record_cme_batch(
                actor=cast.cupa_reviewer,
                inspections=inspections,
                violations=found,
                enforcements=actions,
                links=links,
            )
        assert Violation.objects.filter(pk__in=[v.written.pk for v in found]).count() == count
        return len(captured)

    assert queries(3) == queries(30)
