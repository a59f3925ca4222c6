"""Every CME write: one transaction and one audit event each.

The audit events are the records' history: each carries the values before and after the
change. Each write asks ``core.access.require(actor, "cme.record", CmeWork(...))`` (the rule
is in ``cme.rules``): the actor records for ``regulator``, a portal user holding
``record_cme`` there or an EDT account of that agency (or of its CUPA), and the agency
handles, at the facility, a submittal element the program element covers (the state agency
may record for any facility). ``actor`` None is the system itself (data loads). A refusal
raises ``PermissionDenied``; bad input raises ``ValidationError`` naming the field and stores
nothing.

Each function is one transaction of its own, or part of its caller's when called inside one.
Records are added by one function, ``record_cme_batch``, for one record or many: the portal's
``record_inspection`` and ``add_violation`` are batches of one, the spreadsheet upload
(``record_cme_upload``) adds every new inspection and violation of a file at once, all or
nothing, and the EDT CME submit (``edt.processors.cme``) adds its new inspections, violations,
enforcement actions and links a chunk of the document at a time, within the upload's one
transaction. A batch checks each record as a single record is checked and gives each its own
audit event, with the same action and snapshot; the rule is asked once per agency, facility and
program element, for all of them in one query (``cme.rules.refusals``), the rows go in together
with their EDT keys (by COPY on PostgreSQL, from their values) and so do the events: a few
statements whatever the size, where one record at a time took some ten each. Changes of fields
are made the same way by one function, ``update_cme_batch``: the portal's
``update_inspection``, ``update_violation`` and ``update_enforcement`` (but for a new list of
violations, which changes one action at a time) are batches of one, and the EDT CME submit
changes a chunk of records at a time, each checked as a single change is and audited with its
snapshots before and after, the stored rows locked in one statement per model and written with
their EDT keys in one more (``core.services.update_rows``). Deletes are made by one function
too, ``delete_cme_batch``: the portal's ``delete_inspection`` and the EDT submit's single
``delete_violation`` and ``delete_enforcement`` are batches of one, and the EDT CME submit
deletes a chunk of records at a time, each with the rule and the audit events (an inspection's
violations with it) of a single delete, the rows locked in one statement per model and deleted
in one more; the links it deletes too (``delete_link``, a batch of one, takes a violation off
its action's list as ``update_enforcement`` does, with the same checks, rule and event, each
link of a batch in turn). The EDT keys of the links it sends again or takes over from the
portal are written by ``update_cme_batch`` (``update_link_keys``, a batch of one). The portal
changes an action's list of violations through ``update_enforcement``, one action at a time.

The ``clean_*`` functions hold every input rule, so the portal forms and the spreadsheet
upload (``cme.upload``) check a record the same way. Rules taken from the CME submit rules:

- inspection, violation and enforcement dates fall between 1 October 1980 and today;
- a violation's type exists in the violation library, is valid on the violation date and fits
  the inspection's program element;
- each violation has a scheduled or an actual return-to-compliance (RTC) date; the actual RTC
  date and its qualifier come together (a qualifier says how the return was established, so it
  needs the date) and the actual date falls between the violation date and today; a scheduled
  RTC date is not before the violation date; the date all of an inspection's violations
  returned to compliance (917) is not before the inspection;
- an enforcement action links only violations of its own facility and occurs on or after the
  latest of them.

Rules of this project for the enforcement fields the submit rules leave open: a red tag's
number, reason and dates (913c-913f) need "red tag issued" (913b) to be Yes, the number is up
to five digits stored zero-padded, and it is removed on or after the day it was affixed; the
case settled/dropped date (917a) and the docket number (918) belong to a formal action (916),
the former on or after the action; fines and SEP amounts (919, 920) are whole dollars of at
most eight digits.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from core.access import require
from core.clock import california_today
from core.events import changes as event_changes
from core.models import AuditEvent
from core.services import (
    as_text,
    audit_event,
    audit_value,
    insert_rows,
    insert_values,
    object_event,
    queue_emails,
    record_event,
    record_events,
    update_rows,
)
from libraries.models import ViolationType
from regulators.models import Regulator, StaffMembership
from regulators.roles import StaffRole
from submittals.data import row_fingerprint

from . import deadlines
from .models import (
    PROGRAM_ELEMENT_VIOLATION_ELEMENTS,
    DeadlineReminder,
    Enforcement,
    EnforcementType,
    EnforcementViolation,
    FormalEnforcementType,
    Inspection,
    InspectionType,
    OperationalCompliance,
    ProgramElement,
    RedTagReason,
    RTCQualifier,
    Violation,
    ViolationClass,
    YesNo,
)
from .rules import NO_CME_ROLE, CmeWork, refusals

EARLIEST_DATE = datetime.date(1980, 10, 1)
COMMENT_MAX_LENGTH = 1000
INSPECTOR_NAME_MAX_LENGTH = 200
DOCKET_NUMBER_MAX_LENGTH = 20
RED_TAG_NUMBER_LENGTH = 5
AMOUNT_MAX = 99_999_999  # fields 919 and 920: whole dollars, at most eight digits

INSPECTION_FIELDS = (
    "program_element",
    "inspection_type",
    "occurred_on",
    "inspector_name",
    "ust_operational_compliance",
    "violations_rtc_on",
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
ENFORCEMENT_FIELDS = (
    "enforcement_type",
    "formal_type",
    "occurred_on",
    "red_tag_issued",
    "red_tag_number",
    "red_tag_reason",
    "red_tag_affixed_on",
    "red_tag_removed_on",
    "case_settled_on",
    "docket_number",
    "fine_amount",
    "sep_amount",
    "comments",
)


def _require_cme(actor, regulator: Regulator, facility, program_element: str | None) -> None:
    require(actor, "cme.record", CmeWork(regulator, facility, program_element), NO_CME_ROLE)


# -- checks shared by every record -------------------------------------------------------------


def _add(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _check_date(errors: dict, field: str, label: str, value, today: datetime.date) -> None:
    if value is None:
        return
    if value < EARLIEST_DATE:
        _add(errors, field, f"The {label} cannot be before 1 October 1980.")
    elif value > today:
        _add(errors, field, f"The {label} cannot be in the future.")


def _check_not_before(errors: dict, field: str, label: str, value, earliest, what: str) -> None:
    if value is not None and earliest is not None and value < earliest:
        _add(errors, field, f"The {label} cannot be before the {what}.")


def _check_choice(errors: dict, field: str, label: str, value, choices, required=True) -> None:
    if value in (None, ""):
        if required:
            _add(errors, field, f"Choose the {label}.")
    elif value not in _codes(choices):
        _add(errors, field, f"Choose one of the {label} codes.")


@functools.cache
def _codes(choices) -> frozenset:
    """The codes of a choice list, once (``choices.values`` builds a new list each time it
    is read, and a batch checks thousands of records)."""
    return frozenset(choices.values)


def _check_length(errors: dict, field: str, label: str, value: str, limit: int) -> None:
    if len(value) > limit:
        _add(errors, field, f"The {label} has at most {limit} characters (it has {len(value)}).")


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# -- history snapshots -------------------------------------------------------------------------


def _snapshot_values(obj, fields) -> dict[str, Any]:
    """A record's current values, as the ``clean_*`` functions take them."""
    return {name: getattr(obj, name) for name in fields}


def _inspection_snapshot(inspection: Inspection) -> dict[str, Any]:
    return _inspection_after(
        inspection.facility, inspection.regulator, _snapshot_values(inspection, INSPECTION_FIELDS)
    )


def _inspection_after(facility, regulator: Regulator, values: Mapping[str, Any]) -> dict[str, Any]:
    """An inspection's snapshot from its values (``INSPECTION_FIELDS``), as
    ``_inspection_snapshot`` takes it of a row."""
    return {
        "facility": facility.cers_id,
        "regulator": regulator.code,
        **{name: audit_value(values[name]) for name in INSPECTION_FIELDS},
    }


def _violation_snapshot(violation: Violation) -> dict[str, Any]:
    return _violation_after(
        violation.inspection_id,
        violation.violation_type,
        _snapshot_values(violation, VIOLATION_FIELDS),
    )


def _violation_after(inspection_id, violation_type: ViolationType, values) -> dict[str, Any]:
    """A violation's snapshot from its values (``_inspection_after``)."""
    return {
        "inspection": inspection_id,
        "violation_type": violation_type.type_number,
        **{name: audit_value(values[name]) for name in VIOLATION_FIELDS},
    }


def _enforcement_snapshot(enforcement: Enforcement, violations=None) -> dict[str, Any]:
    """``violations``, the keys of the linked violations, when known (a batch knows them);
    else they are read."""
    if violations is None:
        violations = enforcement.violations.values_list("pk", flat=True)
    return _enforcement_after(
        enforcement.facility,
        enforcement.regulator,
        _snapshot_values(enforcement, ENFORCEMENT_FIELDS),
        violations,
    )


def _enforcement_after(facility, regulator: Regulator, values, violations) -> dict[str, Any]:
    """An enforcement action's snapshot from its values (``_inspection_after``)."""
    return {
        "facility": facility.cers_id,
        "regulator": regulator.code,
        **{name: audit_value(values[name]) for name in ENFORCEMENT_FIELDS},
        "violations": sorted(violations),
    }


# -- two editors on one record -----------------------------------------------------------------


class StaleRecord(ValidationError):
    """A change made from a page drawn before someone else changed the record: refused, its
    message naming who changed what and when (``record_seen``)."""


def _seen_of(snapshot: Mapping[str, Any]) -> str:
    return row_fingerprint(dict(snapshot))


def record_seen(record) -> str:
    """A digest of an inspection, violation or enforcement action (its links included) as its
    edit page draws it: its audit snapshot. The page sends it back (``seen`` of the
    ``update_*`` services), and a change made from an older state is refused."""
    if isinstance(record, Inspection):
        return _seen_of(_inspection_snapshot(record))
    if isinstance(record, Violation):
        return _seen_of(_violation_snapshot(record))
    return _seen_of(_enforcement_snapshot(record))


# How far back the refusal looks in a record's history for the state the page was drawn from.
STALE_HISTORY = 20


def _stale(row, what: str, seen: str) -> StaleRecord:
    """The refusal of a change made from state ``seen`` of ``row``: who changed what since,
    read from the record's audit events (newest first, back to the one that left it as
    seen)."""
    events = (
        AuditEvent.objects.filter(object_type=row._meta.label_lower, object_id=str(row.pk))
        .select_related("actor")
        .order_by("-created_at", "-id")[:STALE_HISTORY]
    )
    since = []
    for event in events:
        if event.after is not None and _seen_of(event.after) == seen:
            break
        since.append(event)
    else:
        since = since[:1]  # the state seen is not in the recent history: name the last change
    again = (
        "Nothing of yours was saved: your values are still in the form; save it again to "
        "apply them over that change, or leave the page to keep it."
    )
    if not since:
        return StaleRecord(f"This {what} was changed while you had it open. {again}")
    who = list(dict.fromkeys(str(event.actor) if event.actor else "someone" for event in since))
    now: dict[str, str | None] = {}  # each field changed, its value now (the newest event's)
    for event in since:
        for label, _before, after in event_changes(event):
            now.setdefault(label, after)
    at = timezone.localtime(since[0].created_at)
    what_changed = (
        " (" + "; ".join(f"{label}, now {_shown(value)}" for label, value in now.items()) + ")"
        if now
        else ""
    )
    return StaleRecord(
        f"{' and '.join(who)} changed this {what}{what_changed} at {at:%Y-%m-%d %H:%M} "
        f"while you had it open. {again}"
    )


def _shown(value: str | None, longest: int = 80) -> str:
    """A value as a refusal quotes it: empty said so, a long one cut."""
    if value in (None, ""):
        return "empty"
    return f"“{Truncator(value).chars(longest)}”"


# -- inspections -------------------------------------------------------------------------------


def clean_inspection(raw: Mapping[str, Any], today: datetime.date | None = None) -> dict[str, Any]:
    """Check an inspection's values (``INSPECTION_FIELDS``; missing ones are blank) and
    return them ready to store. Raises ``ValidationError`` with every problem by field.
    ``today`` (the agency's date, ``timezone.localdate``) when a batch has read it once."""
    today = today or timezone.localdate()
    values = {name: raw.get(name) for name in INSPECTION_FIELDS}
    values["inspector_name"] = as_text(values["inspector_name"])
    values["ust_operational_compliance"] = values["ust_operational_compliance"] or ""
    values["comments"] = as_text(values["comments"], strip=False)
    errors: dict[str, list[str]] = {}
    program_element, occurred_on = values["program_element"], values["occurred_on"]
    _check_choice(errors, "program_element", "program element", program_element, ProgramElement)
    _check_choice(
        errors, "inspection_type", "inspection type", values["inspection_type"], InspectionType
    )
    if occurred_on is None:
        _add(errors, "occurred_on", "Enter the inspection date.")
    _check_date(errors, "occurred_on", "inspection date", occurred_on, today)
    if not values["inspector_name"]:
        _add(errors, "inspector_name", "Enter the inspector's name.")
    _check_length(
        errors,
        "inspector_name",
        "inspector's name",
        values["inspector_name"],
        INSPECTOR_NAME_MAX_LENGTH,
    )
    compliance = values["ust_operational_compliance"]
    _check_choice(
        errors,
        "ust_operational_compliance",
        "UST operational compliance",
        compliance,
        OperationalCompliance,
        required=False,
    )
    if compliance and program_element != ProgramElement.UST:
        _add(
            errors,
            "ust_operational_compliance",
            "UST operational compliance applies to UST inspections only.",
        )
    label = "date the violations returned to compliance"
    _check_date(errors, "violations_rtc_on", label, values["violations_rtc_on"], today)
    _check_not_before(
        errors, "violations_rtc_on", label, values["violations_rtc_on"], occurred_on, "inspection"
    )
    _check_length(errors, "comments", "comment", values["comments"], COMMENT_MAX_LENGTH)
    _raise(errors)
    return values


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
    violations_rtc_on: datetime.date | None = None,
    comments: str = "",
) -> Inspection:
    """Record an inspection of one program element at ``facility`` for ``regulator``: a
    batch of one (``record_cme_batch``)."""
    item = NewInspection(
        regulator=regulator,
        facility=facility,
        model=True,
        values={
            "program_element": program_element,
            "inspection_type": inspection_type,
            "occurred_on": occurred_on,
            "inspector_name": inspector_name,
            "ust_operational_compliance": ust_operational_compliance,
            "violations_rtc_on": violations_rtc_on,
            "comments": comments,
        },
    )
    return _one(item, actor=actor, inspections=[item])


def update_inspection(
    *, actor, regulator: Regulator, inspection: Inspection, seen: str | None = None, **changes
) -> Inspection:
    """Change an inspection's fields (any of ``INSPECTION_FIELDS``); the audit event keeps
    the values before and after. Moving it to another program element needs the right to
    record both, and an inspection without violations. ``seen``: the inspection as the
    editor's page drew it (``record_seen``); a change made from an older state is refused
    (``StaleRecord``). A batch of one (``update_cme_batch``)."""
    item = ChangedInspection(regulator=regulator, inspection=inspection, changes=changes, seen=seen)
    return _one(item, actor=actor, service=update_cme_batch, inspections=[item])


def delete_inspection(*, actor, regulator: Regulator, inspection: Inspection) -> None:
    """Delete an inspection with its violations and their enforcement links (enforcement
    actions themselves stay). Each deleted record gets its own audit event. A batch of one
    (``delete_cme_batch``)."""
    item = DeletedInspection(regulator=regulator, inspection=inspection)
    _one(item, actor=actor, service=delete_cme_batch, inspections=[item])


# -- violations --------------------------------------------------------------------------------


def violation_library(type_numbers: Iterable[str]) -> dict[str, ViolationType]:
    """The library entries of ``type_numbers``, by number, in one query (for bulk checks)."""
    numbers = {str(n).strip() for n in type_numbers if n}
    return {t.type_number: t for t in ViolationType.objects.filter(type_number__in=numbers)}


def clean_violation(
    inspection: Inspection,
    raw: Mapping[str, Any],
    library: Mapping[str, ViolationType] | None = None,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """Check a violation's values for ``inspection`` (``type_number``, the library number,
    and ``VIOLATION_FIELDS``) and return them ready to store, the type resolved.

    ``inspection`` may be unsaved: only its program element is read. ``library`` (from
    ``violation_library``) saves a query per violation when many are checked. Raises
    ``ValidationError`` with every problem by field (the type's under ``violation_type``).
    ``today`` as ``clean_inspection`` takes it.
    """
    today = today or timezone.localdate()
    values = {name: raw.get(name) for name in VIOLATION_FIELDS}
    values["rtc_qualifier"] = values["rtc_qualifier"] or None
    values["comments"] = as_text(values["comments"], strip=False)
    errors: dict[str, list[str]] = {}
    number = as_text(raw.get("type_number"))
    violation_type = None
    if not number:
        _add(errors, "violation_type", "Enter the violation type number.")
    else:
        if library is None:
            violation_type = ViolationType.objects.filter(type_number=number).first()
        else:
            violation_type = library.get(number)
        if violation_type is None:
            _add(errors, "violation_type", f"No violation type {number} in the violation library.")
    occurred_on = values["occurred_on"]
    fits = PROGRAM_ELEMENT_VIOLATION_ELEMENTS.get(inspection.program_element)
    if violation_type is not None and fits is not None:
        if violation_type.program_element not in fits:
            _add(
                errors,
                "violation_type",
                f"Violation type {number} is a {violation_type.get_program_element_display()} "
                f"violation; it does not fit a {inspection.get_program_element_display()} "
                "inspection.",
            )
        if occurred_on is not None and not violation_type.valid_on(occurred_on):
            _add(
                errors,
                "violation_type",
                f"Violation type {number} was not in the library on {occurred_on.isoformat()}.",
            )
    _check_choice(
        errors, "violation_class", "violation class", values["violation_class"], ViolationClass
    )
    if occurred_on is None:
        _add(errors, "occurred_on", "Enter the violation date.")
    _check_date(errors, "occurred_on", "violation date", occurred_on, today)
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
        _add(
            errors,
            "return_to_compliance_on",
            "Enter the return-to-compliance date, or the scheduled one if it has not returned yet.",
        )
    if qualifier and actual is None:
        _add(
            errors,
            "return_to_compliance_on",
            "Enter the return-to-compliance date: the qualifier says it has returned.",
        )
    if actual is not None and not qualifier:
        _add(errors, "rtc_qualifier", "Choose how the return to compliance was established.")
    _check_date(errors, "return_to_compliance_on", "return-to-compliance date", actual, today)
    _check_not_before(
        errors,
        "return_to_compliance_on",
        "return-to-compliance date",
        actual,
        occurred_on,
        "violation date",
    )
    _check_not_before(
        errors,
        "scheduled_rtc_on",
        "scheduled return-to-compliance date",
        scheduled,
        occurred_on,
        "violation date",
    )
    _check_length(errors, "comments", "comment", values["comments"], COMMENT_MAX_LENGTH)
    _raise(errors)
    return values | {"violation_type": violation_type}


def add_violation(
    *,
    actor,
    regulator: Regulator,
    inspection: Inspection,
    library: Mapping[str, ViolationType] | None = None,
    **fields,
) -> Violation:
    """Record a violation found at ``inspection``, typed by its violation library number:
    ``fields`` are ``type_number`` and any of ``VIOLATION_FIELDS`` (``violation_class`` and
    ``occurred_on`` are required). ``library`` (from ``violation_library``) saves a query per
    violation when many are stored. A batch of one (``record_cme_batch``)."""
    unknown = set(fields) - {*VIOLATION_FIELDS, "type_number"}
    if unknown:
        raise TypeError(f"Not violation fields: {sorted(unknown)}")
    item = NewViolation(regulator=regulator, inspection=inspection, values=fields, model=True)
    return _one(item, actor=actor, violations=[item], library=library)


def update_violation(
    *, actor, regulator: Regulator, violation: Violation, seen: str | None = None, **changes
) -> Violation:
    """Change a violation: any of ``VIOLATION_FIELDS`` and ``type_number``, typically to
    record its return to compliance. The audit event keeps before and after. ``seen`` as
    ``update_inspection`` takes it. A batch of one (``update_cme_batch``)."""
    item = ChangedViolation(regulator=regulator, violation=violation, changes=changes, seen=seen)
    return _one(item, actor=actor, service=update_cme_batch, violations=[item])


def delete_violation(*, actor, regulator: Regulator, violation: Violation) -> None:
    """Delete a violation with its enforcement links (the EDT CME submit deletes records one
    by one; the portal deletes whole inspections). The audit event keeps its values and the
    enforcement actions it was linked to. A batch of one (``delete_cme_batch``)."""
    item = DeletedViolation(regulator=regulator, violation=violation)
    _one(item, actor=actor, service=delete_cme_batch, violations=[item])


# -- enforcement actions -----------------------------------------------------------------------


def clean_enforcement(
    raw: Mapping[str, Any], facility, violations, today: datetime.date | None = None
) -> dict[str, Any]:
    """Check an enforcement action's values (``ENFORCEMENT_FIELDS``; missing ones are blank)
    at ``facility``, linking ``violations`` (with their inspections loaded), and return them
    ready to store. Raises ``ValidationError`` with every problem by field. ``today`` as
    ``clean_inspection`` takes it."""
    today = today or timezone.localdate()
    values = {name: raw.get(name) for name in ENFORCEMENT_FIELDS}
    for name in ("formal_type", "red_tag_issued", "red_tag_number", "docket_number"):
        values[name] = as_text(values[name])
    values["comments"] = as_text(values["comments"], strip=False)
    values["red_tag_reason"] = values["red_tag_reason"] or None
    errors: dict[str, list[str]] = {}
    occurred_on, formal = values["occurred_on"], values["formal_type"]
    _check_choice(
        errors, "enforcement_type", "enforcement type", values["enforcement_type"], EnforcementType
    )
    _check_choice(
        errors, "formal_type", "formal enforcement type", formal, FormalEnforcementType, False
    )
    if occurred_on is None:
        _add(errors, "occurred_on", "Enter the enforcement date.")
    _check_date(errors, "occurred_on", "enforcement date", occurred_on, today)
    if any(v.inspection.facility_id != facility.pk for v in violations):
        _add(
            errors, "violations", "An enforcement action links only violations of its own facility."
        )
    elif occurred_on is not None and any(v.occurred_on > occurred_on for v in violations):
        _add(
            errors,
            "occurred_on",
            "The enforcement date cannot be before a linked violation's date.",
        )

    # The red tag (913b-913f).
    _check_choice(
        errors, "red_tag_issued", "red tag issued", values["red_tag_issued"], YesNo, False
    )
    _check_choice(
        errors, "red_tag_reason", "red tag reason", values["red_tag_reason"], RedTagReason, False
    )
    number = values["red_tag_number"]
    if number:
        if not (number.isascii() and number.isdigit()) or len(number) > RED_TAG_NUMBER_LENGTH:
            _add(errors, "red_tag_number", "The red tag number has at most five digits.")
        else:
            values["red_tag_number"] = number.zfill(RED_TAG_NUMBER_LENGTH)
    affixed, removed = values["red_tag_affixed_on"], values["red_tag_removed_on"]
    details = (number, values["red_tag_reason"], affixed, removed)
    if values["red_tag_issued"] != YesNo.YES and any(v not in (None, "") for v in details):
        _add(
            errors,
            "red_tag_issued",
            "Set “red tag issued” to Yes to record the red tag's number, reason or dates.",
        )
    _check_date(errors, "red_tag_affixed_on", "date the red tag was affixed", affixed, today)
    _check_date(errors, "red_tag_removed_on", "date the red tag was removed", removed, today)
    if removed is not None and affixed is None:
        _add(errors, "red_tag_affixed_on", "Enter the date the red tag was affixed.")
    _check_not_before(
        errors, "red_tag_removed_on", "red tag removal", removed, affixed, "day it was affixed"
    )

    # The case of a formal action (917a, 918) and the amounts (919, 920).
    settled = values["case_settled_on"]
    label = "case settled or dropped date"
    _check_date(errors, "case_settled_on", label, settled, today)
    _check_not_before(errors, "case_settled_on", label, settled, occurred_on, "enforcement date")
    _check_length(
        errors, "docket_number", "docket number", values["docket_number"], DOCKET_NUMBER_MAX_LENGTH
    )
    if not formal:
        if settled is not None:
            _add(errors, "formal_type", "A case settled or dropped date needs a formal type.")
        if values["docket_number"]:
            _add(errors, "formal_type", "A docket number needs a formal type.")
    for name, label in (("fine_amount", "fine assessed"), ("sep_amount", "SEP amount")):
        amount = values[name]
        if amount is not None and (
            isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= AMOUNT_MAX
        ):
            _add(errors, name, f"The {label} is a whole number of dollars, 0 to {AMOUNT_MAX:,}.")
    _check_length(errors, "comments", "comment", values["comments"], COMMENT_MAX_LENGTH)
    _raise(errors)
    return values


def _linked_violations(violations) -> list[Violation]:
    return list(
        Violation.objects.select_related("inspection").filter(pk__in=[v.pk for v in violations])
    )


def _require_enforcement_rights(actor, regulator: Regulator, facility, violations) -> None:
    """The actor records CME for each linked violation's program element, and for an agency
    regulating the facility."""
    for program_element in sorted({v.inspection.program_element for v in violations}):
        _require_cme(actor, regulator, facility, program_element)
    _require_cme(actor, regulator, facility, None)


@transaction.atomic
def record_enforcement(
    *, actor, regulator: Regulator, facility, violations=(), **fields
) -> Enforcement:
    """Record an enforcement action at ``facility`` for ``violations`` (of that facility);
    ``fields`` are ``ENFORCEMENT_FIELDS`` (``enforcement_type`` and ``occurred_on`` are
    required). The actor must be allowed to record CME for each violation's program
    element."""
    unknown = set(fields) - set(ENFORCEMENT_FIELDS)
    if unknown:
        raise TypeError(f"Not enforcement fields: {sorted(unknown)}")
    linked = _linked_violations(violations)
    values = clean_enforcement(fields, facility, linked)
    _require_enforcement_rights(actor, regulator, facility, linked)
    enforcement = Enforcement.objects.create(
        facility=facility, regulator=regulator, created_by=actor, **values
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


def update_enforcement(
    *, actor, regulator: Regulator, enforcement: Enforcement, seen: str | None = None, **changes
) -> Enforcement:
    """Change an enforcement action: any of ``ENFORCEMENT_FIELDS`` and ``violations`` (the
    complete new list of linked violations). The actor must be allowed to record CME for the
    program elements of the violations linked before and after. The audit event keeps the
    values, links included, before and after. ``seen`` as ``update_inspection`` takes it (the
    links are part of it). Without ``violations``, a batch of one (``update_cme_batch``)."""
    if "violations" not in changes:
        item = ChangedEnforcement(
            regulator=regulator, enforcement=enforcement, changes=changes, seen=seen
        )
        return _one(item, actor=actor, service=update_cme_batch, enforcements=[item])
    return _update_enforcement_list(
        actor=actor, regulator=regulator, enforcement=enforcement, seen=seen, **changes
    )


@transaction.atomic
def _update_enforcement_list(
    *, actor, regulator: Regulator, enforcement: Enforcement, seen: str | None, **changes
) -> Enforcement:
    """``update_enforcement`` with a new list of violations: the links change with the
    fields, one action at a time."""
    unknown = set(changes) - {*ENFORCEMENT_FIELDS, "violations"}
    if unknown:
        raise TypeError(f"Not enforcement fields: {sorted(unknown)}")
    enforcement = (
        Enforcement.objects.select_for_update()
        .select_related("facility", "regulator")
        .get(pk=enforcement.pk)
    )
    before = _enforcement_snapshot(enforcement)
    current = list(enforcement.violations.select_related("inspection"))
    if seen is not None and _seen_of(before) != seen:
        _require_enforcement_rights(actor, regulator, enforcement.facility, current)
        raise _stale(enforcement, "enforcement action", seen)
    linked = _linked_violations(changes.pop("violations"))
    raw = _snapshot_values(enforcement, ENFORCEMENT_FIELDS) | changes
    values = clean_enforcement(raw, enforcement.facility, linked)
    _require_enforcement_rights(actor, regulator, enforcement.facility, [*current, *linked])
    enforcement.violations.set(linked)
    for name, value in values.items():
        setattr(enforcement, name, value)
    enforcement.save()
    record_event(
        actor,
        "cme.enforcement.updated",
        enforcement,
        before=before,
        after=_enforcement_snapshot(enforcement),
        regulator=regulator,
    )
    return enforcement


def delete_enforcement(*, actor, regulator: Regulator, enforcement: Enforcement) -> None:
    """Delete an enforcement action with its violation links (the violations stay), with the
    rights ``update_enforcement`` asks. The audit event keeps its values, links included. A
    batch of one (``delete_cme_batch``)."""
    item = DeletedEnforcement(regulator=regulator, enforcement=enforcement)
    _one(item, actor=actor, service=delete_cme_batch, enforcements=[item])


def delete_link(*, actor, regulator: Regulator, link: EnforcementViolation) -> None:
    """Delete an enforcement-violation link: its violation taken off its action's list, as
    ``update_enforcement`` takes it off (the same checks of the action with the violations it
    keeps, the same rule and the same audit event). A batch of one (``delete_cme_batch``)."""
    item = DeletedLink(regulator=regulator, link=link)
    _one(item, actor=actor, service=delete_cme_batch, links=[item])


# -- many records at once ---------------------------------------------------------------------


@dataclass(eq=False, kw_only=True)
class BatchItem:
    """One record of a batch (``record_cme_batch``, ``update_cme_batch``, ``delete_cme_batch``)
    for ``regulator``, the agency acting. ``tag`` is the caller's own name for it, given back
    with its refusal; ``written`` is the row once the batch has stored, changed or deleted it."""

    regulator: Regulator
    tag: Any = None
    written: Any = None


@dataclass(eq=False, kw_only=True)
class NewRecord(BatchItem):
    """A record to add in a batch (``record_cme_batch``), with its EDT keys when it comes
    from an agency's system. ``model``: its ``written`` is to be the model object (as the
    single services return it) rather than ``Written``."""

    regulator_key: str = ""
    regulator_action_at: datetime.datetime | None = None
    model: bool = False


class Written(NamedTuple):
    """A record ``record_cme_batch`` wrote from its values, no model object built: its
    primary key and CERS unique key (what an EDT answer and a link to it need)."""

    pk: int
    cers_key: uuid.UUID


@dataclass(eq=False, kw_only=True)
class NewInspection(NewRecord):
    """``values``: ``INSPECTION_FIELDS`` as ``record_inspection`` takes them."""

    facility: Any
    values: Mapping[str, Any]


@dataclass(eq=False, kw_only=True)
class NewViolation(NewRecord):
    """``values``: ``type_number`` and ``VIOLATION_FIELDS`` as ``add_violation`` takes them;
    ``inspection`` is stored, or a ``NewInspection`` of the same batch."""

    inspection: Inspection | NewInspection
    values: Mapping[str, Any]


@dataclass(eq=False, kw_only=True)
class NewEnforcement(NewRecord):
    """``values``: ``ENFORCEMENT_FIELDS`` as ``record_enforcement`` takes them; its violations
    are linked by ``NewLink`` records."""

    facility: Any
    values: Mapping[str, Any]


@dataclass(eq=False, kw_only=True)
class NewLink(NewRecord):
    """A violation newly linked to an enforcement action, each stored or new in the batch:
    the change ``update_enforcement`` makes when it adds one violation to the list."""

    enforcement: Enforcement | NewEnforcement
    violation: Violation | NewViolation


class RecordsRefused(ValidationError):
    """Records of a batch refused (``record_cme_batch``, ``update_cme_batch``,
    ``delete_cme_batch``): ``refused`` lists each item with its ``ValidationError`` or
    ``PermissionDenied``, in the batch's order. Nothing was stored."""

    def __init__(self, refused: list[tuple[Any, Exception]]):
        self.refused = refused
        messages: list[str] = []
        for _record, error in refused:
            if isinstance(error, ValidationError):
                messages += error.messages
            else:
                messages.append(str(error) or "Not allowed.")
        super().__init__(messages)


def _key_of(record) -> Any:
    """A record of a batch, new (the item itself) or stored (its class and key)."""
    return record if isinstance(record, NewRecord) else (type(record), record.pk)


# The columns ``record_cme_batch`` writes of each new record: its EDT keys (the CERS unique
# key first), its parent (or its facility, agency and author) and its fields.
EDT_COLUMNS = ("cers_key", "regulator_key", "regulator_action_at")
INSPECTION_COLUMNS = (
    *EDT_COLUMNS,
    "facility_id",
    "regulator_id",
    "created_by_id",
    "created_at",
    *INSPECTION_FIELDS,
)
VIOLATION_COLUMNS = (*EDT_COLUMNS, "inspection_id", "violation_type_id", *VIOLATION_FIELDS)
ENFORCEMENT_COLUMNS = (
    *EDT_COLUMNS,
    "facility_id",
    "regulator_id",
    "created_by_id",
    "created_at",
    *ENFORCEMENT_FIELDS,
)


@transaction.atomic
def record_cme_batch(
    *,
    actor,
    inspections: Iterable[NewInspection] = (),
    violations: Iterable[NewViolation] = (),
    enforcements: Iterable[NewEnforcement] = (),
    links: Iterable[NewLink] = (),
    library: Mapping[str, ViolationType] | None = None,
) -> None:
    """Add many CME records at once, as ``record_inspection``, ``add_violation``,
    ``record_enforcement`` and ``update_enforcement`` (a violation added to an action's list)
    add them one by one: the same checks (``clean_*``, the rule of ``cme.rules``), the same
    rows and the same audit event for each record, with its snapshot; but a few statements
    for the whole batch rather than some ten per record. The rule is asked once per agency,
    facility and program element, for all of them in one query (``cme.rules.refusals``);
    stored parents are locked in one statement each; the rows are inserted together, their
    EDT keys with them, and the events written at once (``core.services.record_events``).

    Inspections, violations and enforcement actions are written from their checked values
    (``core.services.insert_values``), their events too: a model object is built only for a
    record another of the batch belongs to (its checks read it) or one whose item asks for it
    (``model``). Every record is checked before anything is written: a record whose parent in
    the batch was refused is not checked (its parent's refusal says enough). Any refusal
    raises ``RecordsRefused`` with all of them, and nothing is stored. ``library`` (from
    ``violation_library``) saves its query when the caller has it. Each item's ``written`` is
    its row afterwards: the model object if one was built, else ``Written``.
    """
    inspections, violations = list(inspections), list(violations)
    enforcements, links = list(enforcements), list(links)
    refused: dict[NewRecord, Exception] = {}
    skipped: set[NewRecord] = set()  # a parent in the batch was refused or skipped
    works: dict[NewRecord, list[CmeWork]] = {}
    checked: dict[NewRecord, dict[str, Any]] = {}  # each record's values, checked
    parents: dict[NewViolation, Inspection] = {}  # each violation's inspection
    built: dict[NewRecord, Any] = {}  # the model objects built (``model_of``)
    now = timezone.now()
    today = timezone.localdate(now)  # every record's dates checked against one day
    actor_id = getattr(actor, "pk", None)
    alias = transaction.get_connection().alias

    def refuse(item: NewRecord, error: Exception) -> None:
        refused[item] = error

    def out(parent) -> bool:
        return isinstance(parent, NewRecord) and (parent in refused or parent in skipped)

    def model_of(item: NewRecord):
        """The model object of a checked new record, built once, as its row will be."""
        if item not in built:
            keys = {
                "regulator_key": item.regulator_key,
                "regulator_action_at": item.regulator_action_at,
            }
            if isinstance(item, NewInspection):
                row = Inspection(
                    facility=item.facility,
                    regulator=item.regulator,
                    created_by=actor,
                    created_at=now,
                    **keys,
                    **checked[item],
                )
            elif isinstance(item, NewViolation):
                row = Violation(inspection=parents[item], **keys, **checked[item])
            else:
                row = Enforcement(
                    facility=item.facility,
                    regulator=item.regulator,
                    created_by=actor,
                    created_at=now,
                    **keys,
                    **checked[item],
                )
            built[item] = row
        return built[item]

    for item in inspections:
        try:
            values = clean_inspection(item.values, today)
        except ValidationError as error:
            refuse(item, error)
            continue
        checked[item] = values
        works[item] = [CmeWork(item.regulator, item.facility, values["program_element"])]

    # Stored parents are locked, as the single services lock them, and read as they are now.
    stored_inspections = (
        Inspection.objects.select_for_update()
        .select_related("facility", "regulator")
        .in_bulk({v.inspection.pk for v in violations if isinstance(v.inspection, Inspection)})
    )
    if library is None:
        library = violation_library(item.values.get("type_number") for item in violations)
    for item in violations:
        if out(item.inspection):
            skipped.add(item)
            continue
        if isinstance(item.inspection, NewRecord):
            inspection = model_of(item.inspection)
        else:
            inspection = stored_inspections.get(item.inspection.pk)
            if inspection is None:
                refuse(item, ValidationError("Its inspection no longer exists."))
                continue
        unknown = set(item.values) - {*VIOLATION_FIELDS, "type_number"}
        if unknown:
            raise TypeError(f"Not violation fields: {sorted(unknown)}")
        try:
            values = clean_violation(inspection, item.values, library, today)
        except ValidationError as error:
            refuse(item, error)
            continue
        checked[item], parents[item] = values, inspection
        works[item] = [CmeWork(item.regulator, inspection.facility, inspection.program_element)]

    for item in enforcements:
        try:
            values = clean_enforcement(item.values, item.facility, [], today)
        except ValidationError as error:
            refuse(item, error)
            continue
        checked[item] = values
        works[item] = [CmeWork(item.regulator, item.facility, None)]

    # A link is checked as ``update_enforcement`` checks the action's new list: its values
    # with every violation linked so far, the rights for each of their program elements.
    stored_enforcements = (
        Enforcement.objects.select_for_update()
        .select_related("facility", "regulator")
        .in_bulk({k.enforcement.pk for k in links if isinstance(k.enforcement, Enforcement)})
    )
    stored_violations = Violation.objects.select_related("inspection").in_bulk(
        {k.violation.pk for k in links if isinstance(k.violation, Violation)}
    )
    linked: dict[Any, list[Violation]] = {}
    for pair in EnforcementViolation.objects.filter(
        enforcement__in=list(stored_enforcements)
    ).select_related("violation__inspection"):
        linked.setdefault((Enforcement, pair.enforcement_id), []).append(pair.violation)
    before_batch = {key: [v.pk for v in found] for key, found in linked.items()}
    ends: dict[NewLink, tuple[Enforcement, Violation]] = {}
    for item in links:
        if out(item.enforcement) or out(item.violation):
            skipped.add(item)
            continue
        enforcement = (
            model_of(item.enforcement)
            if isinstance(item.enforcement, NewRecord)
            else stored_enforcements.get(item.enforcement.pk)
        )
        violation = (
            model_of(item.violation)
            if isinstance(item.violation, NewRecord)
            else stored_violations.get(item.violation.pk)
        )
        if enforcement is None or violation is None:
            refuse(item, ValidationError("Its enforcement action or violation no longer exists."))
            continue
        ends[item] = (enforcement, violation)
    # The program elements each action may come to link: every link to it asks all of them.
    elements_of: dict[Any, set[str]] = {
        key: {v.inspection.program_element for v in found} for key, found in linked.items()
    }
    for item, (_enforcement, violation) in ends.items():
        elements_of.setdefault(_key_of(item.enforcement), set()).add(
            violation.inspection.program_element
        )
    for item, (enforcement, _violation) in ends.items():
        elements = sorted(elements_of[_key_of(item.enforcement)])
        works[item] = [CmeWork(item.regulator, enforcement.facility, e) for e in elements]
        works[item].append(CmeWork(item.regulator, enforcement.facility, None))

    denied = refusals(actor, [work for asked in works.values() for work in asked])

    def refusal_of(works_asked) -> Exception | None:
        return next((denied[work] for work in works_asked if work in denied), None)

    for item in [*inspections, *violations, *enforcements]:
        if out(getattr(item, "inspection", None)):
            refused.pop(item, None)  # its parent's refusal says enough
            skipped.add(item)
            continue
        if item in refused or item in skipped:
            continue
        if denied:
            refusal = refusal_of(works[item])
            if refusal is not None:
                refuse(item, refusal)
    for item in links:
        if item not in ends:
            continue
        if out(item.enforcement) or out(item.violation):
            skipped.add(item)
            continue
        enforcement, violation = ends[item]
        current = linked.setdefault(_key_of(item.enforcement), [])
        if any(v is violation or (v.pk is not None and v.pk == violation.pk) for v in current):
            refuse(item, ValidationError("The enforcement action already links this violation."))
            continue
        values = {name: getattr(enforcement, name) for name in ENFORCEMENT_FIELDS}
        try:
            clean_enforcement(values, enforcement.facility, [*current, violation], today)
        except ValidationError as error:
            refuse(item, error)
            continue
        elements = {v.inspection.program_element for v in [*current, violation]}
        needed = [CmeWork(item.regulator, enforcement.facility, e) for e in sorted(elements)]
        refusal = refusal_of([*needed, CmeWork(item.regulator, enforcement.facility, None)])
        if refusal is not None:
            refuse(item, refusal)
            continue
        current.append(violation)
    if refused:
        every = [*inspections, *violations, *enforcements, *links]
        raise RecordsRefused([(item, refused[item]) for item in every if item in refused])

    # Everything checked: the rows, parents first, then one audit event each.
    for item in [*inspections, *violations, *enforcements]:
        if item.model:
            model_of(item)
    events = []
    for kind, model, items, columns in (
        ("inspection", Inspection, inspections, INSPECTION_COLUMNS),
        ("violation", Violation, violations, VIOLATION_COLUMNS),
        ("enforcement", Enforcement, enforcements, ENFORCEMENT_COLUMNS),
    ):
        rows = [_new_row(item, checked[item], built.get(item), actor_id, now) for item in items]
        keys = insert_values(model, columns, rows)
        for item, row, key in zip(items, rows, keys, strict=True):
            obj = built.get(item)
            if obj is None:
                item.written = Written(key, row[0])
            else:  # as ``insert_rows`` leaves the objects it writes
                obj._prepare_related_fields_for_save(operation_name="record_cme_batch")
                obj.pk, obj._state.adding, obj._state.db = key, False, alias
                item.written = obj
            events.append(_recorded_event(actor, kind, item, checked[item], key))
    for item in links:
        enforcement, violation = ends[item]
        item.written = EnforcementViolation(
            enforcement=enforcement,
            violation=violation,
            regulator_key=item.regulator_key,
            regulator_action_at=item.regulator_action_at,
        )
    insert_rows([item.written for item in links])
    # Each link is recorded as the change of its action's list, one violation at a time.
    lists = {key: list(pks) for key, pks in before_batch.items()}
    for item in links:
        enforcement = item.written.enforcement
        pks = lists.setdefault((Enforcement, enforcement.pk), [])
        before = _enforcement_snapshot(enforcement, pks)
        pks.append(item.written.violation_id)
        events.append(
            audit_event(
                actor,
                "cme.enforcement.updated",
                enforcement,
                before=before,
                after=_enforcement_snapshot(enforcement, pks),
                regulator=item.regulator,
            )
        )
    if events:
        record_events(events)


def _new_row(item: NewRecord, values: Mapping[str, Any], obj, actor_id, now) -> tuple:
    """The values of a new record's row, in the order of its model's ``*_COLUMNS``: its CERS
    unique key the model object's when one was built (``obj``)."""
    keys = (
        obj.cers_key if obj is not None else uuid.uuid4(),
        item.regulator_key,
        item.regulator_action_at,
    )
    if isinstance(item, NewViolation):
        inspection = item.inspection
        parent = inspection.written.pk if isinstance(inspection, NewRecord) else inspection.pk
        head = (*keys, parent, values["violation_type"].pk)
        fields = VIOLATION_FIELDS
    else:
        head = (*keys, item.facility.pk, item.regulator.pk, actor_id, now)
        fields = INSPECTION_FIELDS if isinstance(item, NewInspection) else ENFORCEMENT_FIELDS
    return (*head, *(values[name] for name in fields))


def _recorded_event(actor, kind: str, item: NewRecord, values: Mapping[str, Any], key):
    """The audit event of a new record written from ``values``: the event the single service
    records of its row (``_*_snapshot``, the model's ``str``)."""
    if isinstance(item, NewInspection):
        model, after = Inspection, _inspection_after(item.facility, item.regulator, values)
        text = Inspection.describe(values["program_element"], values["occurred_on"])
    elif isinstance(item, NewViolation):
        violation_type = values["violation_type"]
        inspection = item.inspection
        parent = inspection.written.pk if isinstance(inspection, NewRecord) else inspection.pk
        model, after = Violation, _violation_after(parent, violation_type, values)
        text = Violation.describe(violation_type.type_number, values["occurred_on"])
    else:
        model, after = Enforcement, _enforcement_after(item.facility, item.regulator, values, [])
        text = Enforcement.describe(values["enforcement_type"], values["occurred_on"])
    return object_event(
        actor, f"cme.{kind}.recorded", model, key, text, after=after, regulator=item.regulator
    )


def _one(item, *, service=record_cme_batch, **batch):
    """Add (or change, or delete) one record through ``record_cme_batch`` (``service``:
    ``update_cme_batch``, ``delete_cme_batch``): its refusal raised as it came (a
    ``ValidationError`` by field, which a form shows on its fields, or ``PermissionDenied``)."""
    try:
        service(**batch)
    except RecordsRefused as refused:
        [(_item, error)] = refused.refused
        raise error from None
    return item.written


@dataclass(eq=False, kw_only=True)
class ChangedRecord(BatchItem):
    """A stored record to change in a batch (``update_cme_batch``): ``changes`` are the fields
    as the single ``update_*`` service takes them. ``regulator_key`` (with
    ``regulator_action_at``), when given, is written with the change: the EDT keys of the
    agency's system. ``seen``, when given, is the record as the editor's page drew it
    (``record_seen``): a change made from an older state is refused (``StaleRecord``). The
    agency's system sends none: CalEPA's rule for its updates (a later action time) stands."""

    changes: Mapping[str, Any]
    regulator_key: str | None = None
    regulator_action_at: datetime.datetime | None = None
    seen: str | None = None


@dataclass(eq=False, kw_only=True)
class ChangedInspection(ChangedRecord):
    """``changes``: any of ``INSPECTION_FIELDS``, as ``update_inspection`` takes them."""

    inspection: Inspection


@dataclass(eq=False, kw_only=True)
class ChangedViolation(ChangedRecord):
    """``changes``: any of ``VIOLATION_FIELDS`` and ``type_number``, as ``update_violation``
    takes them."""

    violation: Violation


@dataclass(eq=False, kw_only=True)
class ChangedEnforcement(ChangedRecord):
    """``changes``: any of ``ENFORCEMENT_FIELDS``; its list of violations changes through
    ``update_enforcement``, one action at a time."""

    enforcement: Enforcement


@dataclass(eq=False, kw_only=True)
class ChangedLink(ChangedRecord):
    """A stored enforcement-violation link whose EDT keys are written (``regulator_key`` and
    ``regulator_action_at``): sent again by the agency's system, or made in the portal (no
    key) and taken over by it. A link has no fields of its own: its pair never changes (an
    action's list of violations changes through ``update_enforcement``), so ``changes`` stays
    empty; its event, ``cme.link.keyed``, holds the keys before and after."""

    link: EnforcementViolation
    changes: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def _locked(model, items, attribute: str, *related: str) -> dict[int, Any]:
    """The stored rows ``items`` change, locked in one statement, in the order of their keys
    (two batches locking some of the same rows wait for each other rather than deadlock)."""
    keys = {getattr(item, attribute).pk for item in items}
    if not keys:
        return {}
    found = model.objects.select_for_update().select_related(*related).filter(pk__in=keys)
    return {row.pk: row for row in found.order_by("pk")}


@transaction.atomic
def update_cme_batch(
    *,
    actor,
    inspections: Iterable[ChangedInspection] = (),
    violations: Iterable[ChangedViolation] = (),
    enforcements: Iterable[ChangedEnforcement] = (),
    links: Iterable[ChangedLink] = (),
    library: Mapping[str, ViolationType] | None = None,
) -> None:
    """Change many stored CME records at once, as ``update_inspection``, ``update_violation``,
    ``update_enforcement`` (its fields, not its list of violations) and ``update_link_keys``
    change them one by one: the same checks (``clean_*``; the rule for the program element
    before and after, or of each linked violation; no new program element for an inspection
    with violations), the same row values and the same audit event for each record, with its
    snapshots before and after (a link's, its keys: see ``ChangedLink``); but a few
    statements for the whole batch rather than some ten per record. The stored rows are
    locked in one statement per model, the rule is asked once for all
    (``cme.rules.refusals``), the rows are written with their EDT keys in one statement per
    model and the events at once (``core.services.record_events``).

    Each record is checked as if the batch's inspections were changed first, then its
    violations, then its enforcement actions (the order the single services would be called
    in): a violation is checked against its inspection's new program element, an enforcement
    action against its linked violations' new dates. A record that depends on a change of
    the batch that was refused is not checked (that refusal says enough). Any refusal raises
    ``RecordsRefused`` with all of them, in the batch's order, and nothing is written.
    ``library`` (from ``violation_library``) saves its query when the caller has it; it holds
    every type number the violations will have. Each item's ``written`` is its row afterwards.
    A record may be changed once per batch. A link's keys (``links``) are written after the
    records, in one statement: each link must still be stored, be one its agency may record
    (the rule for its action's facility and its violation's program element), and be free of
    another key, one a link before it in the batch gives it included (a link named again under
    another key is refused, as ``update_link_keys`` refuses it after the first).
    """
    inspections, violations = list(inspections), list(violations)
    enforcements, links = list(enforcements), list(links)
    for items, allowed, what in (
        (inspections, set(INSPECTION_FIELDS), "inspection"),
        (violations, {*VIOLATION_FIELDS, "type_number"}, "violation"),
        (enforcements, set(ENFORCEMENT_FIELDS), "enforcement"),
        (links, set(), "link"),
    ):
        for item in items:
            unknown = set(item.changes) - allowed
            if unknown:
                raise TypeError(f"Not {what} fields: {sorted(unknown)}")
    refused: dict[ChangedRecord, Exception] = {}
    depends: dict[ChangedRecord, list[ChangedRecord]] = {}  # on the batch's other changes
    works: dict[ChangedRecord, list[CmeWork]] = {}
    rows: dict[ChangedRecord, Any] = {}
    before: dict[ChangedRecord, dict[str, Any]] = {}
    values_of: dict[ChangedRecord, dict[str, Any]] = {}
    # Changes made from a page drawn before the record last changed (``seen``), by their
    # records' names; refused once the rule has been asked of the record as it is.
    stale: dict[ChangedRecord, str] = {}

    def is_stale(item: ChangedRecord, what: str) -> bool:
        if item.seen is None or _seen_of(before[item]) == item.seen:
            return False
        stale[item] = what
        return True

    def found(items, stored: dict, attribute: str, what: str, seen: dict | None):
        """Each item with its locked row, in order: an item whose row is gone is refused; a
        row changed twice in the batch is the caller's error (``seen``, the rows so far, or
        None when the caller decides)."""
        for item in items:
            row = stored.get(getattr(item, attribute).pk)
            if row is None:
                refused[item] = ValidationError(f"This {what} no longer exists.")
                continue
            if seen is not None:
                if row.pk in seen:
                    raise ValueError(f"The {what} {row.pk} is changed twice in one batch.")
                seen[row.pk] = item
            rows[item] = row
            yield item, row

    stored = _locked(Inspection, inspections, "inspection", "facility", "regulator")
    changed_inspections: dict[int, ChangedInspection] = {}
    for item, row in found(inspections, stored, "inspection", "inspection", changed_inspections):
        before[item] = _inspection_snapshot(row)
        if is_stale(item, "inspection"):
            works[item] = [CmeWork(item.regulator, row.facility, row.program_element)]
            continue
        try:
            values_of[item] = clean_inspection(
                _snapshot_values(row, INSPECTION_FIELDS) | dict(item.changes)
            )
        except ValidationError as error:
            refused[item] = error
            continue
        works[item] = [
            CmeWork(item.regulator, row.facility, program_element)
            for program_element in (row.program_element, values_of[item]["program_element"])
        ]
    moving = [
        rows[item].pk
        for item in inspections
        if item in values_of and values_of[item]["program_element"] != rows[item].program_element
    ]
    with_violations = (
        set(Violation.objects.filter(inspection__in=moving).values_list("inspection", flat=True))
        if moving
        else set()
    )

    def inspection_now(inspection: Inspection) -> Inspection:
        """The inspection as the batch leaves it: changed by it, or as stored."""
        item = changed_inspections.get(inspection.pk)
        if item is None or item not in values_of:
            return inspection
        row = rows[item]
        now = Inspection(pk=row.pk, facility=row.facility, regulator=row.regulator)
        for name, value in (_snapshot_values(row, INSPECTION_FIELDS) | values_of[item]).items():
            setattr(now, name, value)
        return now

    stored = _locked(Violation, violations, "violation", "inspection__facility", "violation_type")
    changed_violations: dict[int, ChangedViolation] = {}
    raws: dict[ChangedViolation, dict[str, Any]] = {}
    for item, row in found(violations, stored, "violation", "violation", changed_violations):
        before[item] = _violation_snapshot(row)
        if is_stale(item, "violation"):
            inspection = row.inspection
            works[item] = [CmeWork(item.regulator, inspection.facility, inspection.program_element)]
            continue
        raw = _snapshot_values(row, VIOLATION_FIELDS)
        raw["type_number"] = row.violation_type.type_number
        raws[item] = raw | dict(item.changes)
    if library is None:
        library = violation_library(raw.get("type_number") for raw in raws.values())
    for item, raw in raws.items():
        row = rows[item]
        parent = changed_inspections.get(row.inspection_id)
        depends[item] = [parent] if parent is not None else []
        inspection = inspection_now(row.inspection)
        try:
            values_of[item] = clean_violation(inspection, raw, library)
        except ValidationError as error:
            refused[item] = error
            continue
        works[item] = [CmeWork(item.regulator, inspection.facility, inspection.program_element)]

    def violation_now(violation: Violation) -> Violation:
        """The violation as the batch leaves it, with its inspection."""
        item = changed_violations.get(violation.pk)
        if item is not None and item in values_of:
            now = Violation(pk=violation.pk, inspection_id=violation.inspection_id)
            for name, value in values_of[item].items():
                setattr(now, name, value)
        else:
            now = violation
        now.inspection = inspection_now(violation.inspection)
        return now

    stored = _locked(Enforcement, enforcements, "enforcement", "facility", "regulator")
    linked: dict[int, list[Violation]] = {}
    if stored:
        for pair in (
            EnforcementViolation.objects.filter(enforcement__in=list(stored))
            .select_related("violation__inspection")
            .order_by("pk")
        ):
            linked.setdefault(pair.enforcement_id, []).append(pair.violation)
    changed_enforcements: dict[int, ChangedEnforcement] = {}
    for item, row in found(
        enforcements, stored, "enforcement", "enforcement action", changed_enforcements
    ):
        linked_now = linked.get(row.pk, [])
        before[item] = _enforcement_snapshot(row, [v.pk for v in linked_now])
        depends[item] = [
            parent
            for violation in linked_now
            for parent in (
                changed_violations.get(violation.pk),
                changed_inspections.get(violation.inspection_id),
            )
            if parent is not None
        ]
        now = [violation_now(v) for v in linked_now]
        if is_stale(item, "enforcement action"):
            elements = sorted({v.inspection.program_element for v in linked_now})
            works[item] = [CmeWork(item.regulator, row.facility, e) for e in elements]
            works[item].append(CmeWork(item.regulator, row.facility, None))
            continue
        try:
            values_of[item] = clean_enforcement(
                _snapshot_values(row, ENFORCEMENT_FIELDS) | dict(item.changes), row.facility, now
            )
        except ValidationError as error:
            refused[item] = error
            continue
        elements = sorted({v.inspection.program_element for v in now})
        works[item] = [CmeWork(item.regulator, row.facility, e) for e in elements]
        works[item].append(CmeWork(item.regulator, row.facility, None))

    stored = _locked(
        EnforcementViolation,
        links,
        "link",
        "enforcement__facility",
        "violation__inspection",
    )
    # Each link's key as the links before it in the batch leave it: a link named again under
    # another key (sent again beside a new key for its pair) is refused as ``update_link_keys``
    # refuses it after the first.
    keyed_as: dict[int, str] = {}
    for item, row in found(links, stored, "link", "enforcement-violation link", None):
        key = keyed_as.get(row.pk, row.regulator_key)
        if key not in ("", item.regulator_key):
            refused[item] = ValidationError(
                f"Enforcement {row.enforcement.regulator_key} already links violation "
                f"{row.violation.regulator_key} under the key {key}."
            )
            continue
        if row.pk in keyed_as:
            raise ValueError(
                f"The enforcement-violation link {row.pk} is changed twice in one batch."
            )
        keyed_as[row.pk] = item.regulator_key
        # The pair stays, but the agency must be one that may record the link: the rule for
        # its action's facility and its violation's program element.
        facility = row.enforcement.facility
        works[item] = [
            CmeWork(item.regulator, facility, row.violation.inspection.program_element),
            CmeWork(item.regulator, facility, None),
        ]

    denied = refusals(actor, [work for asked in works.values() for work in asked])
    skipped: set[ChangedRecord] = set()
    every = [*inspections, *violations, *enforcements, *links]
    for item in every:
        if any(parent in refused or parent in skipped for parent in depends.get(item, ())):
            refused.pop(item, None)  # a change it depends on was refused: that says enough
            skipped.add(item)
            continue
        if item in refused:
            continue
        refusal = next((denied[work] for work in works[item] if work in denied), None)
        if refusal is not None:
            refused[item] = refusal
        elif item in stale:
            refused[item] = _stale(rows[item], stale[item], item.seen)
        elif isinstance(item, ChangedInspection) and rows[item].pk in with_violations:
            refused[item] = ValidationError(
                {"program_element": "Remove the violations before changing the program element."}
            )
    if refused:
        raise RecordsRefused([(item, refused[item]) for item in every if item in refused])

    # Everything checked: the rows, each model's in one statement, then one event each.
    events = []
    for items, fields, kind, after_of in (
        (inspections, INSPECTION_FIELDS, "inspection", _inspection_snapshot),
        (violations, (*VIOLATION_FIELDS, "violation_type"), "violation", _violation_snapshot),
        (
            enforcements,
            ENFORCEMENT_FIELDS,
            "enforcement",
            lambda row: _enforcement_snapshot(row, [v.pk for v in linked.get(row.pk, [])]),
        ),
    ):
        keyed = []
        for item in items:
            row = rows[item]
            for name, value in values_of[item].items():
                setattr(row, name, value)
            if item.regulator_key is not None:
                row.regulator_key = item.regulator_key
                row.regulator_action_at = item.regulator_action_at
                keyed.append(row)
            item.written = row
        unkeyed = [rows[item] for item in items if item.regulator_key is None]
        for written, names in (
            (unkeyed, fields),
            (keyed, [*fields, "regulator_key", "regulator_action_at"]),
        ):
            update_rows(written, names)
        events += [
            audit_event(
                actor,
                f"cme.{kind}.updated",
                item.written,
                before=before[item],
                after=after_of(item.written),
                regulator=item.regulator,
            )
            for item in items
        ]
    for item in links:
        row = item.written = rows[item]
        before = _link_keys(row)
        row.regulator_key = item.regulator_key
        row.regulator_action_at = item.regulator_action_at
        events.append(
            audit_event(
                actor,
                "cme.link.keyed",
                row,
                before=before,
                after=_link_keys(row),
                regulator=item.regulator,
            )
        )
    update_rows([item.written for item in links], ["regulator_key", "regulator_action_at"])
    if events:
        record_events(events)


def _link_keys(link: EnforcementViolation) -> dict[str, str]:
    """A link's EDT keys, as its ``cme.link.keyed`` event records them before and after."""
    at = link.regulator_action_at
    return {
        "regulator_key": link.regulator_key,
        "regulator_action_at": at.isoformat() if at else "",
    }


def update_link_keys(
    *,
    actor,
    regulator: Regulator,
    link: EnforcementViolation,
    regulator_key: str,
    regulator_action_at: datetime.datetime | None,
) -> EnforcementViolation:
    """Write an enforcement-violation link's EDT keys: the link sent again by the agency's
    system, or made in the portal and taken over by it (refused if another key has it). A
    batch of one (``update_cme_batch``)."""
    item = ChangedLink(
        regulator=regulator,
        link=link,
        regulator_key=regulator_key,
        regulator_action_at=regulator_action_at,
    )
    return _one(item, actor=actor, service=update_cme_batch, links=[item])


@dataclass(eq=False, kw_only=True)
class DeletedRecord(BatchItem):
    """A stored record to delete in a batch (``delete_cme_batch``); ``written`` is the row as
    it was when deleted (its key and CERS unique key kept)."""


@dataclass(eq=False, kw_only=True)
class DeletedInspection(DeletedRecord):
    """An inspection to delete with its violations, as ``delete_inspection`` deletes it;
    ``cascaded`` is, once deleted, the keys of the violations deleted with it (those the
    batch did not delete itself)."""

    inspection: Inspection
    cascaded: list[int] = dataclasses.field(default_factory=list)


@dataclass(eq=False, kw_only=True)
class DeletedViolation(DeletedRecord):
    """A violation to delete, as ``delete_violation`` deletes it."""

    violation: Violation


@dataclass(eq=False, kw_only=True)
class DeletedEnforcement(DeletedRecord):
    """An enforcement action to delete, as ``delete_enforcement`` deletes it."""

    enforcement: Enforcement


@dataclass(eq=False, kw_only=True)
class DeletedLink(DeletedRecord):
    """An enforcement-violation link to delete, as ``delete_link`` deletes it: its violation
    taken off its action's list, as ``update_enforcement`` takes it off."""

    link: EnforcementViolation


# The keys of one DELETE of ``delete_cme_batch``, within the limits of every database's
# parameters (SQLite's 32,766, PostgreSQL's 65,535).
DELETE_KEYS = 30_000


def _delete_rows(queryset, keys) -> None:
    """Delete the rows of ``keys`` in ``queryset``'s model, one statement per ``DELETE_KEYS``
    keys: no ``Collector``, which would read each row and its children again (the caller
    deletes the children first)."""
    keys = sorted(keys)
    for start in range(0, len(keys), DELETE_KEYS):
        rows = queryset.filter(pk__in=keys[start : start + DELETE_KEYS])
        rows._raw_delete(rows.db)


@transaction.atomic
def delete_cme_batch(
    *,
    actor,
    inspections: Iterable[DeletedInspection] = (),
    violations: Iterable[DeletedViolation] = (),
    enforcements: Iterable[DeletedEnforcement] = (),
    links: Iterable[DeletedLink] = (),
) -> None:
    """Delete many stored CME records at once, as ``delete_link``, ``delete_violation``,
    ``delete_enforcement`` and ``delete_inspection`` delete them one by one, in that order:
    the same rule for each (the program element of a violation or an inspection; an action's
    facility and the program elements of the violations it still links; a link's action's
    facility and the program elements of every violation it links before), the same checks
    (a link's action is checked with the violations it keeps, as ``update_enforcement``
    checks a new list), the same audit events (a link's as the change of its action's list,
    one violation at a time; an inspection's violations deleted with it, each with its own
    event, then the inspection's, each event with its snapshot and the links it had), the
    same rows gone (the links of every violation and action deleted; the actions of a
    violation stay); but a few statements for the whole batch rather than some ten per
    record. The rows are locked in one statement per model in the order of their keys (the
    violations named with those of the inspections named, the actions named with those of
    the links), the rule is asked once for all (``cme.rules.refusals``), the events are
    written at once (``core.services.record_events``) and the rows deleted by one ``DELETE``
    per model, children before parents.

    A link is checked with its action's list as the links before it in the batch leave it.
    An action linking a violation whose delete the batch refused, or whose link's delete it
    refused, is not checked (that refusal says enough). Any refusal raises
    ``RecordsRefused`` with all of them, in the batch's order (links, violations, actions,
    inspections), and nothing is deleted. A record may be deleted once per batch.
    """
    inspections, violations = list(inspections), list(violations)
    enforcements, links = list(enforcements), list(links)
    refused: dict[DeletedRecord, Exception] = {}
    works: dict[DeletedRecord, list[CmeWork]] = {}
    depends: dict[DeletedRecord, list[DeletedRecord]] = {}
    rows: dict[DeletedRecord, Any] = {}

    def take(item, row, what: str, taken: set) -> bool:
        if row is None:
            refused[item] = ValidationError(f"This {what} no longer exists.")
            return False
        if row.pk in taken:
            raise ValueError(f"{what.capitalize()} {row.pk} is deleted twice in one batch.")
        taken.add(row.pk)
        rows[item] = row
        return True

    # The locks, in the order ``update_cme_batch`` takes them.
    stored_inspections = _locked(Inspection, inspections, "inspection", "facility", "regulator")
    named = {item.violation.pk for item in violations}
    stored_violations: dict[int, Violation] = {}
    if named or stored_inspections:
        found = (
            Violation.objects.select_for_update()
            .select_related("inspection__facility", "violation_type")
            .filter(Q(pk__in=named) | Q(inspection__in=list(stored_inspections)))
        )
        stored_violations = {row.pk: row for row in found.order_by("pk")}
    # The actions of the links deleted are locked with those deleted, as ``update_enforcement``
    # locks an action whose list it changes; then their lists are read as they are now.
    link_actions = (
        dict(
            EnforcementViolation.objects.filter(
                pk__in={item.link.pk for item in links}
            ).values_list("pk", "enforcement_id")
        )
        if links
        else {}
    )
    named = {item.enforcement.pk for item in enforcements} | set(link_actions.values())
    locked_actions: dict[int, Enforcement] = {}
    if named:
        found = (
            Enforcement.objects.select_for_update()
            .select_related("facility", "regulator")
            .filter(pk__in=named)
        )
        locked_actions = {row.pk: row for row in found.order_by("pk")}
    stored_enforcements = {
        pk: row
        for pk, row in locked_actions.items()
        if pk in {item.enforcement.pk for item in enforcements}
    }
    lists: dict[int, list[EnforcementViolation]] = {}  # the lists the links change
    if links:
        for pair in (
            EnforcementViolation.objects.filter(enforcement__in=set(link_actions.values()))
            .select_related("violation__inspection")
            .order_by("pk")
        ):
            lists.setdefault(pair.enforcement_id, []).append(pair)
    unlinked = {item.link.pk for item in links}
    # Every link of the violations and actions deleted (but those the batch deletes itself);
    # a violation's actions in the order ``violation.enforcements`` reads them (the actions'
    # own order, the newest first).
    enforcements_of: dict[int, list[int]] = {}
    violations_of: dict[int, list[tuple[int, str]]] = {}
    if stored_violations or stored_enforcements:
        pairs = (
            EnforcementViolation.objects.filter(
                Q(violation__in=list(stored_violations))
                | Q(enforcement__in=list(stored_enforcements))
            )
            .exclude(pk__in=unlinked)
            .order_by("-enforcement__occurred_on", "-enforcement_id")
            .values_list("enforcement_id", "violation_id", "violation__inspection__program_element")
        )
        for enforcement_pk, violation_pk, program_element in pairs:
            enforcements_of.setdefault(violation_pk, []).append(enforcement_pk)
            violations_of.setdefault(enforcement_pk, []).append((violation_pk, program_element))

    # A link asks the rule for every program element its action links (before the batch's
    # links change the list, any of them may still be there when it is deleted).
    ends: dict[DeletedLink, EnforcementViolation] = {}
    unlinked_by: dict[int, list[DeletedLink]] = {}  # an action's deleted links
    taken: set[int] = set()
    for item in links:
        action = locked_actions.get(link_actions.get(item.link.pk))
        found = lists.get(action.pk, ()) if action is not None else ()
        row = next((pair for pair in found if pair.pk == item.link.pk), None)
        if not take(item, row, "enforcement-violation link", taken):
            continue
        row.enforcement = action
        ends[item] = row
        unlinked_by.setdefault(action.pk, []).append(item)
        elements = sorted({p.violation.inspection.program_element for p in lists[action.pk]})
        works[item] = [CmeWork(item.regulator, action.facility, e) for e in elements]
        works[item].append(CmeWork(item.regulator, action.facility, None))

    taken: set[int] = set()
    deleted_violations: dict[int, DeletedViolation] = {}
    for item in violations:
        row = stored_violations.get(item.violation.pk)
        if take(item, row, "violation", taken):
            deleted_violations[row.pk] = item
            inspection = row.inspection
            works[item] = [CmeWork(item.regulator, inspection.facility, inspection.program_element)]
    taken = set()
    linked: dict[DeletedEnforcement, list[int]] = {}  # the violations it links when deleted
    for item in enforcements:
        row = stored_enforcements.get(item.enforcement.pk)
        if not take(item, row, "enforcement action", taken):
            continue
        pairs = violations_of.get(row.pk, [])
        depends[item] = [deleted_violations[v] for v, _e in pairs if v in deleted_violations]
        depends[item] += unlinked_by.get(row.pk, [])
        remaining = [(v, e) for v, e in pairs if v not in deleted_violations]
        linked[item] = [v for v, _e in remaining]
        works[item] = [
            CmeWork(item.regulator, row.facility, e) for e in sorted({e for _v, e in remaining})
        ]
        works[item].append(CmeWork(item.regulator, row.facility, None))
    taken = set()
    for item in inspections:
        row = stored_inspections.get(item.inspection.pk)
        if take(item, row, "inspection", taken):
            works[item] = [CmeWork(item.regulator, row.facility, row.program_element)]

    denied = refusals(actor, [work for asked in works.values() for work in asked])

    def refusal_of(works_asked) -> Exception | None:
        return next((denied[work] for work in works_asked if work in denied), None)

    # Each link in turn, as ``update_enforcement`` takes its violation off the list the links
    # before it left: the action checked with the violations it keeps, then the rule for the
    # program elements of those it linked.
    current = {pk: [pair.violation for pair in found] for pk, found in lists.items()}
    originals = {pk: _snapshot_values(locked_actions[pk], ENFORCEMENT_FIELDS) for pk in lists}
    snapshots: dict[DeletedLink, tuple[dict, dict]] = {}
    for item in links:
        if item in refused:
            continue
        row = ends[item]
        action = row.enforcement
        now = current[action.pk]
        remaining = [v for v in now if v.pk != row.violation_id]
        try:
            values = clean_enforcement(
                _snapshot_values(action, ENFORCEMENT_FIELDS), action.facility, remaining
            )
        except ValidationError as error:
            refused[item] = error
            continue
        elements = sorted({v.inspection.program_element for v in now})
        needed = [CmeWork(item.regulator, action.facility, e) for e in elements]
        refusal = refusal_of([*needed, CmeWork(item.regulator, action.facility, None)])
        if refusal is not None:
            refused[item] = refusal
            continue
        before = _enforcement_snapshot(action, [v.pk for v in now])
        for name, value in values.items():
            setattr(action, name, value)
        snapshots[item] = (before, _enforcement_snapshot(action, [v.pk for v in remaining]))
        current[action.pk] = remaining

    every = [*links, *violations, *enforcements, *inspections]
    for item in every:
        if isinstance(item, DeletedLink):
            continue  # checked above
        if any(parent in refused for parent in depends.get(item, ())):
            continue  # a delete it depends on was refused: that says enough
        if item in refused:
            continue
        refusal = refusal_of(works[item])
        if refusal is not None:
            refused[item] = refusal
    if refused:
        raise RecordsRefused([(item, refused[item]) for item in every if item in refused])

    # Everything checked: one event each, in the order the single services write them.
    events = []
    for item in links:
        item.written = ends[item]
        before, after = snapshots[item]
        events.append(
            audit_event(
                actor,
                "cme.enforcement.updated",
                item.written.enforcement,
                before=before,
                after=after,
                regulator=item.regulator,
            )
        )
    for item in violations:
        row = item.written = rows[item]
        before = _violation_snapshot(row) | {"enforcements": enforcements_of.get(row.pk, [])}
        events.append(
            audit_event(
                actor, "cme.violation.deleted", row, before=before, regulator=item.regulator
            )
        )
    for item in enforcements:
        row = item.written = rows[item]
        events.append(
            audit_event(
                actor,
                "cme.enforcement.deleted",
                row,
                before=_enforcement_snapshot(row, linked[item]),
                regulator=item.regulator,
            )
        )
    gone_actions = {rows[item].pk for item in enforcements}
    children: dict[int, list[Violation]] = {}
    for violation in sorted(stored_violations.values(), key=lambda v: (v.occurred_on, v.pk)):
        if violation.pk not in deleted_violations:
            children.setdefault(violation.inspection_id, []).append(violation)
    for item in inspections:
        row = item.written = rows[item]
        found = children.get(row.pk, [])
        for violation in found:
            actions = [e for e in enforcements_of.get(violation.pk, []) if e not in gone_actions]
            events.append(
                audit_event(
                    actor,
                    "cme.violation.deleted",
                    violation,
                    before=_violation_snapshot(violation) | {"enforcements": actions},
                    regulator=item.regulator,
                )
            )
        item.cascaded = [violation.pk for violation in found]
        events.append(
            audit_event(
                actor,
                "cme.inspection.deleted",
                row,
                before=_inspection_snapshot(row) | {"violations": item.cascaded},
                regulator=item.regulator,
            )
        )
    if events:
        record_events(events)
    # The rows, children first: links, violations (those named and those of the inspections),
    # actions, inspections; and the fields of an action whose list a link left, were its
    # stored values not as its check leaves them (``update_enforcement`` saves them).
    update_rows(
        [
            locked_actions[pk]
            for pk, was in originals.items()
            if pk not in gone_actions
            and was != _snapshot_values(locked_actions[pk], ENFORCEMENT_FIELDS)
        ],
        ENFORCEMENT_FIELDS,
    )
    if links:
        _delete_rows(EnforcementViolation.objects.all(), [item.written.pk for item in links])
    if stored_violations or gone_actions:
        EnforcementViolation.objects.filter(
            Q(violation__in=list(stored_violations)) | Q(enforcement__in=list(gone_actions))
        )._raw_delete(EnforcementViolation.objects.db)
    _delete_rows(Violation.objects.all(), stored_violations)
    _delete_rows(Enforcement.objects.all(), gone_actions)
    _delete_rows(Inspection.objects.all(), [rows[item].pk for item in inspections])


# -- the spreadsheet upload --------------------------------------------------------------------


@transaction.atomic
def record_cme_upload(*, actor, regulator: Regulator, inspections, file_name: str = "") -> dict:
    """Store the records of a checked upload (see ``cme.upload``) in one transaction.

    ``inspections`` is a list of ``(facility, inspection values, [violation values, ...])``,
    the values as ``record_inspection`` and ``add_violation`` take them. Every record is
    checked again as manual entry checks it and gets its own audit event
    (``record_cme_batch``); one more event records the upload. Any refusal raises, and
    nothing is stored.
    """
    new_inspections, new_violations = [], []
    for facility, raw_inspection, violations in inspections:
        parent = NewInspection(
            regulator=regulator,
            facility=facility,
            values={name: raw_inspection.get(name) for name in INSPECTION_FIELDS},
        )
        new_inspections.append(parent)
        new_violations += [
            NewViolation(
                regulator=regulator,
                inspection=parent,
                values={name: raw.get(name) for name in ("type_number", *VIOLATION_FIELDS)},
            )
            for raw in violations
        ]
    record_cme_batch(actor=actor, inspections=new_inspections, violations=new_violations)
    counts = {"inspections": len(new_inspections), "violations": len(new_violations)}
    record_event(
        actor,
        "cme.upload.imported",
        regulator,
        after={"file_name": file_name, **counts},
        regulator=regulator,
    )
    return counts


# --- The reporting deadline's reminder ------------------------------------------------------

# Days before a quarter's CME data are due to CERS when each agency's administrators are
# reminded (once; a run missed on that day sends it on a later one, up to the due date).
DEADLINE_REMINDER_DAYS = 7


def send_deadline_reminders(*, today: datetime.date | None = None) -> int:
    """E-mail each CUPA's and PA's administrators that the CME data of the quarter being
    reported (``deadlines.reporting_quarter``, on California's date) are due to CERS, from
    ``DEADLINE_REMINDER_DAYS`` days before the due date to the date itself: one e-mail each
    through the outbox, and a ``DeadlineReminder`` in the same transaction, whose unique
    constraint means an agency is reminded once a quarter, however often or concurrently
    this runs. The state agency reports no CME data of its own. Run by the Celery beat
    (``cme.tasks``); answers how many agencies were reminded."""
    today = today or california_today()
    quarter = deadlines.reporting_quarter(today)
    if not 0 <= quarter.days_left <= DEADLINE_REMINDER_DAYS:
        return 0
    reminded = DeadlineReminder.objects.filter(due_date=quarter.due).values("regulator_id")
    agencies = list(
        Regulator.objects.exclude(kind=Regulator.Kind.STATE).exclude(pk__in=reminded).order_by("pk")
    )
    if not agencies:
        return 0
    administrators: dict[int, list[str]] = {}
    rows = (
        StaffMembership.objects.filter(
            regulator__in=agencies, role=StaffRole.ADMINISTRATOR, user__is_active=True
        )
        .order_by("regulator_id", "user__email")
        .values_list("regulator_id", "user__email")
    )
    for regulator_id, email in rows:
        administrators.setdefault(regulator_id, []).append(email)
    link = settings.SITE_URL + reverse("regulator:cme_inspections")
    return sum(
        _remind_deadline(agency, quarter, administrators.get(agency.pk, []), link)
        for agency in agencies
    )


def _remind_deadline(
    agency: Regulator, quarter: deadlines.ReportingQuarter, to: list[str], link: str
) -> bool:
    """Record and queue one agency's reminder in one transaction; False when another run
    sent it."""
    context = {"regulator": agency, "quarter": quarter, "link": link}
    try:
        with transaction.atomic():
            reminder = DeadlineReminder.objects.create(
                regulator=agency, due_date=quarter.due, recipients=len(to)
            )
            queue_emails([([address], "cme/email/deadline_reminder", context) for address in to])
            record_event(
                None,
                "cme.deadline_reminder_sent",
                reminder,
                after={"due_date": quarter.due.isoformat(), "recipients": len(to)},
                regulator=agency,
            )
    except IntegrityError:
        return False
    return True
