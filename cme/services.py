"""Every CME write: one transaction and one audit event each.

The audit events are the records' history: each carries the values before and after the
change. ``actor`` None is the system itself (data loads); otherwise the actor must hold
``record_cme`` at ``regulator``, the agency they record for, and that agency must handle, at
the facility, a submittal element the program element covers (the state agency may record
for any facility). A refusal raises ``PermissionDenied``; bad input raises
``ValidationError`` naming the field and stores nothing.

Rules taken from the CME submit rules: inspection, violation and enforcement dates fall
between 1 October 1980 and today; a violation's type exists in the violation library, is
valid on the violation date and fits the inspection's program element; each violation has a
scheduled or an actual return-to-compliance (RTC) date; the actual RTC date and its qualifier
come together (a qualifier says how the return was established, so it needs the date) and the
actual date falls between the violation date and today; a scheduled RTC date is not before
the violation date; an enforcement action links only violations of its own facility and
occurs on or after the latest of them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.services import record_event
from facilities.models import FacilityRegulator
from libraries.models import ViolationType
from regulators.models import Regulator
from regulators.roles import CME

from .models import (
    PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS,
    PROGRAM_ELEMENT_VIOLATION_ELEMENTS,
    Enforcement,
    EnforcementType,
    FormalEnforcementType,
    Inspection,
    InspectionType,
    OperationalCompliance,
    ProgramElement,
    RTCQualifier,
    Violation,
    ViolationClass,
)

EARLIEST_DATE = datetime.date(1980, 10, 1)
INSPECTION_FIELDS = (
    "program_element",
    "inspection_type",
    "occurred_on",
    "inspector_name",
    "ust_operational_compliance",
    "comments",
)
VIOLATION_FIELDS = (
    "violation_class",
    "occurred_on",
    "scheduled_rtc_on",
    "return_to_compliance_on",
    "rtc_qualifier",
    "comments",
)


def _require_cme(actor, regulator: Regulator, facility, program_element: str) -> None:
    if actor is not None and not actor.has_perm(f"regulators.{CME}", regulator):
        raise PermissionDenied("Your role at this agency does not allow recording CME data.")
    if regulator.kind == Regulator.Kind.STATE:
        return
    handled = FacilityRegulator.objects.filter(
        facility=facility,
        regulator=regulator,
        element__in=PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS[program_element],
    ).exists()
    if not handled:
        raise PermissionDenied(
            f"{regulator.name} does not regulate the "
            f"{ProgramElement(program_element).label} program element at this facility."
        )


def _check_date(errors: dict, field: str, label: str, value) -> None:
    if value is None:
        return
    if value < EARLIEST_DATE:
        errors.setdefault(field, []).append(f"The {label} cannot be before 1 October 1980.")
    elif value > timezone.localdate():
        errors.setdefault(field, []).append(f"The {label} cannot be in the future.")


def _check_choice(errors: dict, field: str, label: str, value, choices, required=True) -> None:
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(f"Choose the {label}.")
    elif value not in choices.values:
        errors.setdefault(field, []).append(f"Choose one of the {label} codes.")


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _snapshot(obj, fields) -> dict[str, Any]:
    values = {}
    for name in fields:
        value = getattr(obj, name)
        values[name] = value.isoformat() if isinstance(value, datetime.date) else value
    return values


def _inspection_snapshot(inspection: Inspection) -> dict[str, Any]:
    return {
        "facility": inspection.facility.cers_id,
        "regulator": inspection.regulator.code,
        **_snapshot(inspection, INSPECTION_FIELDS),
    }


def _violation_snapshot(violation: Violation) -> dict[str, Any]:
    return {
        "inspection": violation.inspection_id,
        "violation_type": violation.violation_type.type_number,
        **_snapshot(violation, VIOLATION_FIELDS),
    }


def _enforcement_snapshot(enforcement: Enforcement) -> dict[str, Any]:
    return {
        "facility": enforcement.facility.cers_id,
        "regulator": enforcement.regulator.code,
        "enforcement_type": enforcement.enforcement_type,
        "formal_type": enforcement.formal_type,
        "occurred_on": enforcement.occurred_on.isoformat(),
        "comments": enforcement.comments,
        "violations": sorted(enforcement.violations.values_list("pk", flat=True)),
    }


def _validate_inspection(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    _check_choice(
        errors, "program_element", "program element", values["program_element"], ProgramElement
    )
    _check_choice(
        errors, "inspection_type", "inspection type", values["inspection_type"], InspectionType
    )
    if values["occurred_on"] is None:
        errors["occurred_on"] = ["Enter the inspection date."]
    _check_date(errors, "occurred_on", "inspection date", values["occurred_on"])
    if not (values["inspector_name"] or "").strip():
        errors["inspector_name"] = ["Enter the inspector's name."]
    compliance = values["ust_operational_compliance"]
    _check_choice(
        errors,
        "ust_operational_compliance",
        "UST operational compliance",
        compliance,
        OperationalCompliance,
        required=False,
    )
    if compliance and values["program_element"] != ProgramElement.UST:
        errors.setdefault("ust_operational_compliance", []).append(
            "UST operational compliance applies to UST inspections only."
        )
    _raise(errors)


@transaction.atomic(durable=True)
def record_inspection(
    *,
    actor,
    regulator: Regulator,
    facility,
    program_element: str,
    inspection_type: str,
    occurred_on: datetime.date,
    inspector_name: str,
    ust_operational_compliance: str = "",
    comments: str = "",
) -> Inspection:
    """Record an inspection of one program element at ``facility`` for ``regulator``."""
    values = {
        "program_element": program_element,
        "inspection_type": inspection_type,
        "occurred_on": occurred_on,
        "inspector_name": inspector_name.strip(),
        "ust_operational_compliance": ust_operational_compliance or "",
        "comments": comments,
    }
    _validate_inspection(values)
    _require_cme(actor, regulator, facility, program_element)
    inspection = Inspection.objects.create(
        facility=facility, regulator=regulator, created_by=actor, **values
    )
    record_event(
        actor,
        "cme.inspection.recorded",
        inspection,
        after=_inspection_snapshot(inspection),
        regulator=regulator,
    )
    return inspection


def _lock(inspection: Inspection) -> Inspection:
    return (
        Inspection.objects.select_for_update()
        .select_related("facility", "regulator")
        .get(pk=inspection.pk)
    )


@transaction.atomic(durable=True)
def update_inspection(
    *, actor, regulator: Regulator, inspection: Inspection, **changes
) -> Inspection:
    """Change an inspection's fields (any of ``INSPECTION_FIELDS``); the audit event keeps
    the values before and after. Moving it to another program element needs the right to
    record both."""
    unknown = set(changes) - set(INSPECTION_FIELDS)
    if unknown:
        raise TypeError(f"Not inspection fields: {sorted(unknown)}")
    inspection = _lock(inspection)
    before = _inspection_snapshot(inspection)
    values = {name: getattr(inspection, name) for name in INSPECTION_FIELDS} | changes
    values["inspector_name"] = (values["inspector_name"] or "").strip()
    values["ust_operational_compliance"] = values["ust_operational_compliance"] or ""
    _validate_inspection(values)
    _require_cme(actor, regulator, inspection.facility, inspection.program_element)
    _require_cme(actor, regulator, inspection.facility, values["program_element"])
    if values["program_element"] != inspection.program_element and inspection.violations.exists():
        raise ValidationError(
            {"program_element": "Remove the violations before changing the program element."}
        )
    for name, value in values.items():
        setattr(inspection, name, value)
    inspection.save()
    record_event(
        actor,
        "cme.inspection.updated",
        inspection,
        before=before,
        after=_inspection_snapshot(inspection),
        regulator=regulator,
    )
    return inspection


@transaction.atomic(durable=True)
def delete_inspection(*, actor, regulator: Regulator, inspection: Inspection) -> None:
    """Delete an inspection with its violations and their enforcement links (enforcement
    actions themselves stay). Each deleted record gets its own audit event."""
    inspection = _lock(inspection)
    _require_cme(actor, regulator, inspection.facility, inspection.program_element)
    violations = list(inspection.violations.select_related("violation_type"))
    for violation in violations:
        linked = list(violation.enforcements.values_list("pk", flat=True))
        record_event(
            actor,
            "cme.violation.deleted",
            violation,
            before=_violation_snapshot(violation) | {"enforcements": linked},
            regulator=regulator,
        )
    record_event(
        actor,
        "cme.inspection.deleted",
        inspection,
        before=_inspection_snapshot(inspection) | {"violations": [v.pk for v in violations]},
        regulator=regulator,
    )
    inspection.delete()  # cascades to the violations and their enforcement links


def _violation_type(type_number) -> ViolationType:
    number = str(type_number or "").strip()
    if not number:
        raise ValidationError({"violation_type": "Enter the violation type number."})
    found = ViolationType.objects.filter(type_number=number).first()
    if found is None:
        raise ValidationError(
            {"violation_type": f"No violation type {number} in the violation library."}
        )
    return found


def _validate_violation(inspection: Inspection, values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    violation_type: ViolationType = values["violation_type"]
    occurred_on = values["occurred_on"]
    fits = PROGRAM_ELEMENT_VIOLATION_ELEMENTS[inspection.program_element]
    if violation_type.program_element not in fits:
        errors["violation_type"] = [
            f"Violation type {violation_type.type_number} is a "
            f"{violation_type.get_program_element_display()} violation; it does not fit a "
            f"{inspection.get_program_element_display()} inspection."
        ]
    _check_choice(
        errors, "violation_class", "violation class", values["violation_class"], ViolationClass
    )
    if occurred_on is None:
        errors["occurred_on"] = ["Enter the violation date."]
    else:
        _check_date(errors, "occurred_on", "violation date", occurred_on)
        if not violation_type.valid_on(occurred_on):
            errors.setdefault("violation_type", []).append(
                f"Violation type {violation_type.type_number} was not in the library on "
                f"{occurred_on.isoformat()}."
            )
    scheduled, actual = values["scheduled_rtc_on"], values["return_to_compliance_on"]
    qualifier = values["rtc_qualifier"]
    _check_choice(
        errors,
        "rtc_qualifier",
        "return-to-compliance qualifier",
        qualifier,
        RTCQualifier,
        required=False,
    )
    if scheduled is None and actual is None:
        errors.setdefault("return_to_compliance_on", []).append(
            "Enter the return-to-compliance date, or the scheduled one if it has not returned yet."
        )
    if qualifier and actual is None:
        errors.setdefault("return_to_compliance_on", []).append(
            "Enter the return-to-compliance date: the qualifier says it has returned."
        )
    if actual is not None and not qualifier:
        errors.setdefault("rtc_qualifier", []).append(
            "Choose how the return to compliance was established."
        )
    _check_date(errors, "return_to_compliance_on", "return-to-compliance date", actual)
    if occurred_on is not None:
        if actual is not None and actual < occurred_on:
            errors.setdefault("return_to_compliance_on", []).append(
                "The return-to-compliance date cannot be before the violation date."
            )
        if scheduled is not None and scheduled < occurred_on:
            errors.setdefault("scheduled_rtc_on", []).append(
                "The scheduled return-to-compliance date cannot be before the violation date."
            )
    _raise(errors)


@transaction.atomic(durable=True)
def add_violation(
    *,
    actor,
    regulator: Regulator,
    inspection: Inspection,
    type_number: str,
    violation_class: int,
    occurred_on: datetime.date,
    scheduled_rtc_on: datetime.date | None = None,
    return_to_compliance_on: datetime.date | None = None,
    rtc_qualifier: int | None = None,
    comments: str = "",
) -> Violation:
    """Record a violation found at ``inspection``, typed by its violation library number."""
    inspection = _lock(inspection)
    values = {
        "violation_type": _violation_type(type_number),
        "violation_class": violation_class,
        "occurred_on": occurred_on,
        "scheduled_rtc_on": scheduled_rtc_on,
        "return_to_compliance_on": return_to_compliance_on,
        "rtc_qualifier": rtc_qualifier or None,
        "comments": comments,
    }
    _validate_violation(inspection, values)
    _require_cme(actor, regulator, inspection.facility, inspection.program_element)
    violation = Violation.objects.create(inspection=inspection, **values)
    record_event(
        actor,
        "cme.violation.recorded",
        violation,
        after=_violation_snapshot(violation),
        regulator=regulator,
    )
    return violation


@transaction.atomic(durable=True)
def update_violation(*, actor, regulator: Regulator, violation: Violation, **changes) -> Violation:
    """Change a violation: any of ``VIOLATION_FIELDS`` and ``type_number``, typically to
    record its return to compliance. The audit event keeps before and after."""
    unknown = set(changes) - {*VIOLATION_FIELDS, "type_number"}
    if unknown:
        raise TypeError(f"Not violation fields: {sorted(unknown)}")
    violation = (
        Violation.objects.select_for_update()
        .select_related("inspection__facility", "violation_type")
        .get(pk=violation.pk)
    )
    inspection = violation.inspection
    before = _violation_snapshot(violation)
    values = {name: getattr(violation, name) for name in VIOLATION_FIELDS}
    values["violation_type"] = violation.violation_type
    if "type_number" in changes:
        values["violation_type"] = _violation_type(changes.pop("type_number"))
    values |= changes
    values["rtc_qualifier"] = values["rtc_qualifier"] or None
    _validate_violation(inspection, values)
    _require_cme(actor, regulator, inspection.facility, inspection.program_element)
    for name, value in values.items():
        setattr(violation, name, value)
    violation.save()
    record_event(
        actor,
        "cme.violation.updated",
        violation,
        before=before,
        after=_violation_snapshot(violation),
        regulator=regulator,
    )
    return violation


@transaction.atomic(durable=True)
def record_enforcement(
    *,
    actor,
    regulator: Regulator,
    facility,
    enforcement_type: str,
    occurred_on: datetime.date,
    violations=(),
    formal_type: str = "",
    comments: str = "",
) -> Enforcement:
    """Record an enforcement action at ``facility`` for ``violations`` (of that facility);
    the actor must be allowed to record CME for each violation's program element."""
    errors: dict[str, list[str]] = {}
    _check_choice(errors, "enforcement_type", "enforcement type", enforcement_type, EnforcementType)
    _check_choice(
        errors,
        "formal_type",
        "formal enforcement type",
        formal_type,
        FormalEnforcementType,
        required=False,
    )
    if occurred_on is None:
        errors["occurred_on"] = ["Enter the enforcement date."]
    _check_date(errors, "occurred_on", "enforcement date", occurred_on)
    linked = list(
        Violation.objects.select_related("inspection").filter(pk__in=[v.pk for v in violations])
    )
    if any(v.inspection.facility_id != facility.pk for v in linked):
        errors.setdefault("violations", []).append(
            "An enforcement action links only violations of its own facility."
        )
    elif occurred_on is not None and any(v.occurred_on > occurred_on for v in linked):
        errors.setdefault("occurred_on", []).append(
            "The enforcement date cannot be before a linked violation's date."
        )
    _raise(errors)
    if actor is not None and not actor.has_perm(f"regulators.{CME}", regulator):
        raise PermissionDenied("Your role at this agency does not allow recording CME data.")
    for program_element in {v.inspection.program_element for v in linked}:
        _require_cme(actor, regulator, facility, program_element)
    if (
        regulator.kind != Regulator.Kind.STATE
        and not facility.regulators.filter(regulator=regulator).exists()
    ):
        raise PermissionDenied(f"{regulator.name} does not regulate this facility.")
    enforcement = Enforcement.objects.create(
        facility=facility,
        regulator=regulator,
        enforcement_type=enforcement_type,
        formal_type=formal_type or "",
        occurred_on=occurred_on,
        comments=comments,
        created_by=actor,
    )
    enforcement.violations.set(linked)
    record_event(
        actor,
        "cme.enforcement.recorded",
        enforcement,
        after=_enforcement_snapshot(enforcement),
        regulator=regulator,
    )
    return enforcement
