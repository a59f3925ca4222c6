"""Every write to facilities: one transaction and one audit event each."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.access import acting_agency, can, require
from core.elements import SubmittalElement
from core.keys import fits
from core.services import (
    audit_event,
    next_value,
    queue_emails,
    record_event,
    record_events,
    serialize_on,
)
from organizations.models import Membership, Organization
from organizations.roles import Role
from regulators.models import DEFAULT_REMINDER_DAYS, Regulator, ServiceArea
from regulators.querysets import (
    state_agencies_administered,
)

from . import hooks
from .models import (
    CERS_ID_FIRST,
    HMBP_ELEMENTS,
    DueDateRule,
    DueReminder,
    Facility,
    FacilityClosure,
    FacilityRegulator,
    FacilityTransfer,
    FacilityTransferRequest,
    ReportingRequirement,
)
from .schedule import anniversary, required_rows

# USPS street suffix and direction abbreviations most often written out in full.
_ABBREVIATIONS = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "BOULEVARD": "BLVD",
    "ROAD": "RD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "HIGHWAY": "HWY",
    "PARKWAY": "PKWY",
    "CIRCLE": "CIR",
    "SUITE": "STE",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
}


def address_key(street: str, city: str, zip_code: str) -> str:
    """A comparable form of an address: upper case, punctuation dropped, common words
    abbreviated the USPS way, 5-digit ZIP."""

    def fold(text: str) -> str:
        words = re.sub(r"[^A-Z0-9 ]", " ", text.upper()).split()
        return " ".join(_ABBREVIATIONS.get(word, word) for word in words)

    return f"{fold(street)}|{fold(city)}|{zip_code.strip()[:5]}"


def check_duplicate_address(
    organization: Organization,
    street: str,
    city: str,
    zip_code: str,
    visible=None,
    *,
    exclude: Facility | None = None,
    member=None,
):
    """Raise ValidationError naming the facility that already has this address. Only a
    facility in ``visible`` (a Facility queryset: what the caller may see; every facility when
    None) is named; of any other, the caller learns only that it exists in another
    jurisdiction. ``exclude`` is the facility being edited, which may keep its own address.
    ``member``: the business user asking, told to switch to the facility's organization when
    it is one of theirs rather than to ask to join it."""
    key = address_key(street, city, zip_code)
    # Two facilities added at one address at once (two businesses, or a double click): the
    # second waits for the first to commit and finds it.
    serialize_on("facility-address", key)
    existing = Facility.objects.filter(address_key=key)
    if exclude is not None:
        existing = existing.exclude(pk=exclude.pk)
    existing = list(existing.select_related("organization").order_by("cers_id"))
    if not existing:
        return
    if visible is not None:
        seen = set(visible.filter(pk__in=[f.pk for f in existing]).values_list("pk", flat=True))
        existing = [f for f in existing if f.pk in seen]
    if not existing:
        raise ValidationError(
            "A facility at this address is already reported in CERS, in another jurisdiction. "
            "If it is the same site, the CUPA of that jurisdiction can move it to this "
            "organization."
        )
    same = next((f for f in existing if f.organization_id == organization.pk), None)
    if same is not None:
        raise ValidationError(
            f"This organization already has a facility at this address: {same.name} "
            f"(CERS ID {same.cers_id})."
        )
    theirs = (
        next(
            (f for f in existing if f.organization.memberships.filter(user=member).exists()),
            None,
        )
        if member is not None
        else None
    )
    if theirs is not None:
        name = theirs.organization.name
        raise ValidationError(
            f"A facility at this address is already reported in CERS (CERS ID {theirs.cers_id}) "
            f"by {name}, another of your organizations. If it is the same site, switch to "
            f"{name} to work on it, or ask your regulator to transfer the facility."
        )
    raise ValidationError(
        f"A facility at this address is already reported in CERS (CERS ID {existing[0].cers_id}) "
        "by another organization. If it is the same site, ask to join that organization "
        "with that CERS ID, or ask your regulator to transfer the facility."
    )


def jurisdiction_problem(agency: Regulator, zip_code: str) -> str:
    """Why ``agency`` may not add a facility in ``zip_code`` ("" when it may): the one rule of
    EDT Facility Create and the legacy import. A facility is added by the CUPA that will
    handle its Facility Information there; the state agency's jurisdiction is the whole
    state."""
    if agency.is_statewide:
        return ""
    handling = default_regulators(zip_code).get(SubmittalElement.FACILITY_INFORMATION)
    if handling is not None and handling.pk == agency.pk:
        return ""
    return f"ZIP code {zip_code.strip()} is outside the jurisdiction of {agency}" + (
        f"; {handling} handles it." if handling else "; no CUPA serves it."
    )


def assign_jurisdiction(facility: Facility) -> list[FacilityRegulator]:
    """Assign each submittal element of a new facility to its regulator, from the ZIP code's
    service areas: the PA serving that element there if any, else the CUPA. Facility
    Information always goes to the CUPA."""
    rows = [
        FacilityRegulator(facility=facility, element=element, regulator=regulator)
        for element, regulator in default_regulators(facility.zip_code).items()
    ]
    return FacilityRegulator.objects.bulk_create(rows)


def default_regulators(zip_code: str) -> dict[int, Regulator]:
    """The regulator of each submittal element of a new facility in ``zip_code``, as
    ``assign_jurisdiction`` assigns them (elements no agency serves there are left out)."""
    zip5 = zip_code.strip()[:5]
    areas = list(ServiceArea.objects.filter(zip_code=zip5).select_related("regulator"))
    cupa = next(
        (a.regulator for a in areas if a.regulator.kind == Regulator.Kind.CUPA and not a.element),
        None,
    )
    regulators = {}
    for element in SubmittalElement:
        regulator = cupa
        if element != SubmittalElement.FACILITY_INFORMATION:
            pa = next(
                (
                    a.regulator
                    for a in areas
                    if a.regulator.kind == Regulator.Kind.PA and a.element in (None, element)
                ),
                None,
            )
            regulator = pa or cupa
        if regulator is not None:
            regulators[element] = regulator
    return regulators


def _state_agency() -> Regulator | None:
    """The state agency (Cal/EPA): the lowest-coded agency of kind "state", if any."""
    return Regulator.objects.statewide().order_by("code").first()


def is_large_organization(facility_count: int) -> bool:
    """Whether an organization with ``facility_count`` facilities is one of the largest,
    which the state administrator manages (``CERS_LARGE_ORGANIZATION_THRESHOLD`` or more)."""
    return facility_count >= settings.CERS_LARGE_ORGANIZATION_THRESHOLD


def refresh_lead_regulator(organization: Organization) -> Regulator | None:
    """Set the organization's lead regulator, and return it.

    - Taken over by the state administrator (``lead_regulator_pinned``): left as it is.
    - One of the largest organizations (``is_large_organization``): the state agency.
    - Otherwise the CUPA holding most of its facilities (ties go to the lower regulator code).

    Called whenever facilities are added, moved or merged, so the lead follows them both ways
    across the threshold. ``organization`` must be freshly read (callers hold its row lock).
    """
    if organization.lead_regulator_pinned:
        return organization.lead_regulator
    lead_id = None
    if is_large_organization(organization.facilities.count()):
        state = _state_agency()
        lead_id = state.pk if state else None
    if lead_id is None:
        counts = Counter(
            FacilityRegulator.objects.filter(
                facility__organization=organization,
                element=SubmittalElement.FACILITY_INFORMATION,
                regulator__kind=Regulator.Kind.CUPA,
            ).values_list("regulator_id", "regulator__code")
        )
        if counts:
            (lead_id, _code), _n = min(counts.items(), key=lambda item: (-item[1], item[0][1]))
    if organization.lead_regulator_id != lead_id:
        Organization.objects.filter(pk=organization.pk).update(lead_regulator_id=lead_id)
        organization.lead_regulator_id = lead_id
    return organization.lead_regulator


def _require_state_administrator(actor, organization: Organization) -> Regulator:
    """The state agency ``actor`` administers, which leads what it takes over; PermissionDenied
    unless ``actor`` may manage ``organization`` statewide (``facilities.rules``)."""
    require(
        actor,
        "facilities.manage_statewide",
        organization,
        "Only the state administrator takes over organizations.",
    )
    return state_agencies_administered(actor).order_by("code").first()


def _lead_code(organization: Organization) -> str | None:
    return organization.lead_regulator.code if organization.lead_regulator_id else None


@transaction.atomic(durable=True)
def take_over_organization(*, actor, organization: Organization) -> Organization:
    """The state administrator takes an organization over: the state agency becomes its lead
    regulator and stays so (pinned) whatever its facilities do, until released."""
    state = _require_state_administrator(actor, organization)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.lead_regulator_pinned:
        raise ValidationError(f"{organization.name} is already managed by the state.")
    before = {"lead_regulator": _lead_code(organization), "pinned": False}
    organization.lead_regulator = state
    organization.lead_regulator_pinned = True
    organization.save(update_fields=["lead_regulator", "lead_regulator_pinned"])
    record_event(
        actor,
        "organization.taken_over",
        organization,
        before=before,
        after={"lead_regulator": state.code, "pinned": True},
        organization=organization,
        regulator=state,
    )
    return organization


@transaction.atomic(durable=True)
def release_organization(*, actor, organization: Organization) -> Organization:
    """Undo a take-over: the organization's lead regulator follows the automatic rule again
    (the state agency while it is one of the largest, else the majority CUPA)."""
    state = _require_state_administrator(actor, organization)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if not organization.lead_regulator_pinned:
        raise ValidationError(
            f"{organization.name} was not taken over; its lead regulator already follows "
            "the automatic rule."
        )
    before = {"lead_regulator": _lead_code(organization), "pinned": True}
    organization.lead_regulator_pinned = False
    organization.save(update_fields=["lead_regulator_pinned"])
    refresh_lead_regulator(organization)
    record_event(
        actor,
        "organization.released",
        organization,
        before=before,
        after={"lead_regulator": _lead_code(organization), "pinned": False},
        organization=organization,
        regulator=state,
    )
    return organization


@transaction.atomic(durable=True)
def create_facility(**fields) -> Facility:
    """Add a facility to an organization: refuse a duplicate address, allocate the next CERS
    ID, assign its regulators, and keep the organization's lead regulator right.

    Its own transaction; ``add_facility`` is the same inside a caller's transaction (the
    legacy import adds many facilities in one)."""
    return add_facility(**fields)


def add_facility(
    *,
    actor,
    organization: Organization,
    name: str,
    street: str,
    city: str,
    zip_code: str,
    county: str = "",
    state: str = "CA",
    allow_duplicate_address: bool = False,
    comments: str = "",
    details: dict | None = None,
    importing_agency: Regulator | None = None,
) -> Facility:
    """``create_facility`` without a transaction of its own: call it inside one.

    ``actor`` must be allowed ``facilities.create`` on the organization: one of its Lead
    Users, or an EDT account, whose CUPA adds the facility (EDT facility create); no actor is
    the system itself (the legacy import, for ``importing_agency`` when an agency's
    administrator runs it). An agency's address must be in its jurisdiction
    (``jurisdiction_problem``), and a duplicate address names only a facility the agency sees.
    A CUPA's system alone may add a facility at an address another facility has
    (``allow_duplicate_address``; the audit event names those facilities and keeps the CUPA's
    ``comments`` on why), and set the ``details`` only regulators set (``METADATA_FIELDS``)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("add_facility must run inside a transaction.")
    details = _check_details(details or {})
    regulator = None
    if actor is not None:
        require(actor, "facilities.create", organization)
        regulator = acting_agency(actor, "facilities.create")
    if not is_zip_code(zip_code):
        raise ValidationError({"zip_code": "Enter a ZIP code of 5 digits, or ZIP+4."})
    agency = regulator or importing_agency
    if agency is not None and (problem := jurisdiction_problem(agency, zip_code)):
        raise ValidationError({"zip_code": problem})
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    duplicates = []
    if regulator is None or not allow_duplicate_address:
        visible = Facility.objects.in_jurisdiction(agency) if agency is not None else None
        check_duplicate_address(
            organization, street, city, zip_code, visible, member=None if agency else actor
        )
    else:
        duplicates = list(
            Facility.objects.filter(address_key=address_key(street, city, zip_code))
            .order_by("cers_id")
            .values_list("cers_id", flat=True)
        )
    facility = Facility(
        cers_id=next_value("cers_id", CERS_ID_FIRST),
        organization=organization,
        name=name.strip(),
        street=street.strip(),
        city=city.strip(),
        state=state,
        zip_code=zip_code.strip(),
        county=county.strip(),
        address_key=address_key(street, city, zip_code),
        **details,
    )
    facility.full_clean()
    facility.save()
    assign_jurisdiction(facility)
    refresh_lead_regulator(organization)
    after = {"cers_id": facility.cers_id, "name": facility.name, "address": facility.address}
    after.update(_jsonable(details))
    if duplicates:
        after.update(same_address_as=duplicates, comments=comments.strip())
    record_event(
        actor,
        "facility.created",
        facility,
        after=after,
        organization=organization,
        regulator=regulator,
    )
    return facility


def is_zip_code(zip_code: str) -> bool:
    """A ZIP code of 5 digits, or ZIP+4."""
    return bool(re.fullmatch(r"\d{5}(-\d{4})?", zip_code.strip()))


# --- What the facility's CUPA sets: local keys, location, element regulators and schedule ---

# The facility fields only its CUPA sets (EDT facility create and metadata).
METADATA_FIELDS = (
    "local_facility_id",
    "regulator_key",
    "epa_id",
    "latitude",
    "longitude",
    "horizontal_accuracy",
    "horizontal_collection_method",
    "geographic_reference_point",
    "horizontal_reference_datum",
    "location_collected_on",
)


def _check_details(details: dict) -> dict:
    unknown = sorted(set(details) - set(METADATA_FIELDS))
    if unknown:
        raise ValueError(f"Not facility metadata fields: {', '.join(unknown)}.")
    return details


def _jsonable(values: dict) -> dict:
    """Audit events are JSON: dates and decimals are written as text."""
    return {
        name: str(value) if isinstance(value, date | Decimal) else value
        for name, value in values.items()
    }


@dataclass(frozen=True)
class ElementChange:
    """What a CUPA changes about one submittal element of a facility; None leaves it as is."""

    regulator: Regulator | None = None
    reporting_requirement: int | None = None
    next_due_date: date | None = None


def element_regulator_problem(cupa: Regulator, element: int, regulator: Regulator) -> str:
    """Why ``cupa`` may not give ``element`` to ``regulator`` ("" when it may): Facility
    Information stays with the CUPA; another element goes to the CUPA itself or to one of its
    Participating Agencies that serves that element."""
    if regulator.pk == cupa.pk:
        return ""
    label = SubmittalElement(element).label
    if element == SubmittalElement.FACILITY_INFORMATION:
        return f"{label} is always handled by the CUPA, {cupa}."
    if regulator.kind != Regulator.Kind.PA or regulator.parent_id != cupa.pk:
        return f"{regulator} is not a Participating Agency under {cupa}."
    serves = ServiceArea.objects.filter(regulator=regulator).filter(
        Q(element__isnull=True) | Q(element=element)
    )
    if not serves.exists():
        return f"{regulator} does not handle {label}."
    return ""


# A next due date is one EDT answers can carry (CalEPA's Date type, its 2024 placeholder
# ceiling lifted as the EDT schemas are): a date outside it would make the facility query's
# answers invalid, and a day a reporting period before year 1 does not exist.
EARLIEST_DUE_DATE = date(1985, 1, 1)
LATEST_DUE_DATE = date(2099, 12, 31)


def due_date_problem(day: date | None) -> str:
    """Why ``day`` cannot be a next due date ("" when it can, or when it is None)."""
    if day is None or EARLIEST_DUE_DATE <= day <= LATEST_DUE_DATE:
        return ""
    return (
        f"The next due date must be between {EARLIEST_DUE_DATE} and {LATEST_DUE_DATE}; "
        f"{day.isoformat()} is not."
    )


def element_change_problems(cupa: Regulator, element: int, change: ElementChange) -> list[str]:
    """Every reason ``change`` of ``element`` by ``cupa`` is refused (empty when it is not)."""
    problems = []
    if due_date_problem(change.next_due_date):
        problems.append(due_date_problem(change.next_due_date))
    if change.regulator is not None:
        problem = element_regulator_problem(cupa, element, change.regulator)
        if problem:
            problems.append(problem)
    if (
        element == SubmittalElement.FACILITY_INFORMATION
        and change.reporting_requirement == ReportingRequirement.NOT_APPLICABLE
    ):
        problems.append("Facility Information always applies; it cannot be Not Applicable.")
    return problems


def _element_state(row: FacilityRegulator) -> dict:
    return {
        "regulator": row.regulator.code,
        "reporting_requirement": row.reporting_requirement,
        "next_due_date": row.next_due_date.isoformat() if row.next_due_date else None,
    }


def apply_facility_metadata(
    *,
    actor,
    facility: Facility,
    details: dict | None = None,
    elements: dict[int, ElementChange] | None = None,
) -> Facility:
    """A CUPA changes what it keeps about one of its facilities (EDT facility metadata, and
    the element settings of EDT facility create), inside the caller's transaction.

    ``actor`` must be allowed ``facilities.set_metadata`` on the facility (its agency is the
    CUPA handling the facility's Facility Information), and that CUPA is the one whose rules
    the changes follow and whose audit events they are.

    ``details``: ``METADATA_FIELDS`` values. ``elements``: per element code, its regulator,
    reporting requirement or next due date (``element_change_problems`` says what is
    refused). One audit event for the facility's fields and one for its elements, each with
    before and after of what changed; then the organization's lead regulator is refreshed.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_facility_metadata must run inside a transaction.")
    details, elements = _check_details(details or {}), elements or {}
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    rows = {row.element: row for row in lock_element_rows([facility.pk], "regulator")}
    require(actor, "facilities.set_metadata", facility)
    regulator = rows[SubmittalElement.FACILITY_INFORMATION].regulator
    problems = [
        problem
        for element, change in sorted(elements.items())
        for problem in element_change_problems(regulator, element, change)
    ]
    if problems:
        raise ValidationError(problems)

    before = {name: getattr(facility, name) for name in details}
    changed = {name: value for name, value in details.items() if before[name] != value}
    if changed:
        for name, value in changed.items():
            setattr(facility, name, value)
        facility.full_clean()
        facility.save(update_fields=list(changed))
        record_event(
            actor,
            "facility.metadata_changed",
            facility,
            before=_jsonable({name: before[name] for name in changed}),
            after=_jsonable(changed),
            organization=facility.organization,
            regulator=regulator,
        )

    change_elements(
        actor=actor,
        facility=facility,
        rows=rows,
        changes={
            element: {
                name: value
                for name, value in (
                    ("regulator", change.regulator),
                    ("reporting_requirement", change.reporting_requirement),
                    ("next_due_date", change.next_due_date),
                )
                if value is not None
            }
            for element, change in elements.items()
        },
        regulator=regulator,
    )
    refresh_lead_regulator(
        Organization.objects.select_for_update().get(pk=facility.organization_id)
    )
    return facility


# What the portal's form sets of ``METADATA_FIELDS`` (the collection method and reference point
# are codes no source available names, ``core.code_lists.FACILITY_LOCATION_CODES``: EDT
# Facility Metadata sets them, and the facility's page shows them).
PORTAL_METADATA_FIELDS = (
    "local_facility_id",
    "regulator_key",
    "epa_id",
    "latitude",
    "longitude",
    "horizontal_accuracy",
    "horizontal_reference_datum",
    "location_collected_on",
)


@transaction.atomic(durable=True)
def set_facility_details(*, actor, facility: Facility, details: dict) -> Facility:
    """The facility's CUPA keeps, in the regulator portal, what EDT Facility Metadata sets:
    its own facility ID, its data system's key, the EPA ID and the geographic point. The
    same rule (``facilities.set_metadata``), checks and audit event as EDT."""
    unknown = sorted(set(details) - set(PORTAL_METADATA_FIELDS))
    if unknown:
        raise ValueError(f"Not set in the portal: {', '.join(unknown)}.")
    latitude, longitude = details.get("latitude"), details.get("longitude")
    if (latitude is None) != (longitude is None):
        raise ValidationError(
            {
                "latitude" if latitude is None else "longitude": (
                    "Give both the latitude and the longitude, or neither."
                )
            }
        )
    if not FacilityRegulator.objects.filter(
        facility=facility, element=SubmittalElement.FACILITY_INFORMATION
    ).exists():
        raise ValidationError(
            "No agency handles this facility's Facility Information, so none keeps its details."
        )
    return apply_facility_metadata(actor=actor, facility=facility, details=details)


def change_elements(
    *, actor, facility: Facility, rows: dict[int, FacilityRegulator], changes: dict, regulator
) -> None:
    """Write what a regulator sets about a facility's elements, inside the caller's
    transaction, after it checked the actor and the changes: EDT Facility Metadata
    (``apply_facility_metadata``) and the regulator portal (``set_element_requirement``).

    ``rows``: the facility's element rows, locked. ``changes``: per element code, the values
    to set among ``regulator``, ``reporting_requirement`` and ``next_due_date`` (a name left
    out is left as is; None clears the requirement or the date). One
    ``facility.elements_changed`` audit event for the facility, with the before and after of
    each element that changed; ``regulator`` is the agency it is recorded for.
    """
    elements_before, elements_after = {}, {}
    for element, change in sorted(changes.items()):
        row = rows.get(element)
        old = _element_state(row) if row else None
        if row is None:  # no agency served it: the CUPA takes it unless given to a PA
            row = FacilityRegulator(facility=facility, element=element, regulator=regulator)
        for name, value in change.items():
            setattr(row, name, value)
        new = _element_state(row)
        if new != old:
            row.save()
            elements_before[str(element)], elements_after[str(element)] = old, new
    if elements_after:
        record_event(
            actor,
            "facility.elements_changed",
            facility,
            before=elements_before,
            after=elements_after,
            organization=facility.organization,
            regulator=regulator,
        )


@transaction.atomic(durable=True)
def set_element_requirement(
    *,
    actor,
    facility: Facility,
    element: int,
    reporting_requirement: int | None,
    next_due_date: date | None,
) -> FacilityRegulator:
    """The regulator of one element of a facility sets, in the portal, whether the facility
    must report it (``reporting_requirement``; None: as its Business Activities say) and when
    it is next due (None: no date). The same rule as EDT (``facilities.set_due_dates``: staff
    reviewing for the agency handling the element, or for the CUPA of its PA) and the same
    writing and audit event as EDT Facility Metadata (``change_elements``)."""
    facility = Facility.objects.select_related("organization").get(pk=facility.pk)
    rows = {row.element: row for row in lock_element_rows([facility.pk], "regulator", "facility")}
    row = rows.get(element)
    if row is None:
        raise ValidationError(f"No agency handles {SubmittalElement(element).label} here.")
    require(actor, "facilities.set_due_dates", row)
    errors = {}
    if due_date_problem(next_due_date):
        errors["next_due_date"] = [due_date_problem(next_due_date)]
    change = ElementChange(reporting_requirement=reporting_requirement)
    problems = element_change_problems(row.regulator, element, change)
    if problems:
        errors[NON_FIELD_ERRORS] = problems
    if errors:
        raise ValidationError(errors)
    change_elements(
        actor=actor,
        facility=facility,
        rows=rows,
        changes={
            element: {
                "reporting_requirement": reporting_requirement,
                "next_due_date": next_due_date,
            }
        },
        regulator=row.regulator,
    )
    return row


def due_date_rules(regulator_ids) -> dict[int, DueDateRule]:
    """The due date rule of each agency (an unsaved default for one without its own)."""
    regulator_ids = set(regulator_ids)
    found = {
        rule.regulator_id: rule
        for rule in DueDateRule.objects.filter(regulator_id__in=regulator_ids)
    }
    return {pk: found.get(pk) or DueDateRule(regulator_id=pk) for pk in regulator_ids}


@transaction.atomic(durable=True)
def set_due_date_rule(*, actor, regulator: Regulator, hmbp_yearly: bool) -> DueDateRule:
    """An agency's administrator sets how the agency schedules due dates on acceptance
    (``facilities.manage`` on the agency), audited with the value before and after."""
    require(actor, "facilities.manage", regulator)
    rule = due_date_rules([regulator.pk])[regulator.pk]
    before = {"hmbp_yearly": rule.hmbp_yearly}
    if rule.hmbp_yearly == hmbp_yearly and rule.pk is not None:
        return rule
    rule.hmbp_yearly = hmbp_yearly
    rule.save()
    record_event(
        actor,
        "regulator.due_date_rule_changed",
        regulator,
        before=before,
        after={"hmbp_yearly": hmbp_yearly},
        regulator=regulator,
    )
    return rule


def schedule_after_acceptance(
    *,
    actor,
    accepted: Iterable[tuple[int, int, int, date]],
    due_dates: Mapping[tuple[int, int], date] | None = None,
) -> int:
    """The review service's call after a review, inside its transaction: ``accepted`` names
    each element accepted by ``(facility id, element, regulator id, accepted on)``. Where the
    agency's rule (``DueDateRule``; by default the HMBP elements are due yearly) schedules the
    element, its next due date becomes the anniversary of its acceptance; ``due_dates`` (by
    ``(facility id, element)``: the dates the reviewer gave, as an EDT action notification
    does) win over the rule. Written through ``set_next_due_dates`` (its rule and one audit
    event per facility). Returns how many rows changed."""
    accepted = list(accepted)
    rules = due_date_rules(regulator for _, _, regulator, _ in accepted) if accepted else {}
    wanted = {
        (facility, element): anniversary(accepted_on)
        for facility, element, regulator, accepted_on in accepted
        if element in HMBP_ELEMENTS and rules[regulator].hmbp_yearly
    }
    wanted.update(due_dates or {})
    if not wanted:
        return 0
    return set_next_due_dates(actor=actor, due_dates=wanted)


def lock_element_rows(facility_ids, *related: str):
    """The element rows (``FacilityRegulator``) of ``facility_ids``, locked in the one order
    every service locks them in, facility then element: two writers of the same rows (EDT
    Facility Metadata, a due date set in the portal, due dates set by many acceptances at
    once, in batches of facilities taken in order) wait for each other instead of each
    holding a row the other needs. Only these rows are locked: the agency and facility rows
    read with them (``related``) are not, so an agency's other work does not wait for an
    upload's transaction."""
    rows = FacilityRegulator.objects.select_for_update(of=("self",)).filter(
        facility_id__in=facility_ids
    )
    if related:
        rows = rows.select_related(*related)
    return rows.order_by("facility_id", "element")


# Element rows locked, checked and updated per query when many due dates are set at once.
DUE_DATE_BATCH = 1000


@transaction.atomic
def set_next_due_dates(*, actor, due_dates: Mapping[tuple[int, int], date]) -> int:
    """Set the next due date of facilities' elements, ``due_dates`` naming each by
    ``(facility id, element code)``: an agency's system (EDT action notifications and facility
    submittals) says when the business must report the element next.

    Each element row is locked and the actor must be allowed to set its date
    (``facilities.set_due_dates``); rows already holding the date are left alone. Each facility
    whose dates change gets one ``facility.elements_changed`` audit event with the dates
    before and after, as facility metadata records its element changes. Nested in a caller's
    transaction (an upload) it is part of it. Returns how many rows changed.
    """
    wanted = dict(due_dates)
    changed: dict[tuple[int, date], list[int]] = defaultdict(list)
    before: dict[int, dict[str, str | None]] = defaultdict(dict)
    after: dict[int, dict[str, str | None]] = defaultdict(dict)
    facilities: dict[int, Facility] = {}
    keys = sorted(wanted)
    for start in range(0, len(keys), DUE_DATE_BATCH):
        batch = keys[start : start + DUE_DATE_BATCH]
        rows = lock_element_rows({facility for facility, _ in batch}, "facility")
        for row in rows:
            due = wanted.get((row.facility_id, row.element))
            if due is None:
                continue
            require(actor, "facilities.set_due_dates", row)
            if row.next_due_date == due:
                continue
            changed[row.element, due].append(row.pk)
            element = str(row.element)
            old = row.next_due_date.isoformat() if row.next_due_date else None
            before[row.facility_id][element] = old
            after[row.facility_id][element] = due.isoformat()
            facilities[row.facility_id] = row.facility
    for (_element, due), pks in changed.items():
        for start in range(0, len(pks), DUE_DATE_BATCH):
            FacilityRegulator.objects.filter(pk__in=pks[start : start + DUE_DATE_BATCH]).update(
                next_due_date=due
            )
    organizations = Organization.objects.in_bulk(
        {facility.organization_id for facility in facilities.values()}
    )
    record_events(
        [
            audit_event(
                actor,
                "facility.elements_changed",
                facility,
                before={element: {"next_due_date": value} for element, value in before[pk].items()},
                after={element: {"next_due_date": value} for element, value in after[pk].items()},
                organization=organizations.get(facility.organization_id),
            )
            for pk, facility in facilities.items()
        ]
    )
    return sum(len(pks) for pks in changed.values())


# --- Locking what a page showed: the row as it is now, or why it is gone ---


def gone_facility_message(facility: Facility) -> str:
    """Why ``facility``, shown to someone a moment ago, has no row any more: a regulator
    merged it into another facility (the one way a facility goes)."""
    merge = (
        FacilityTransfer.objects.filter(
            kind=FacilityTransfer.Kind.MERGE_FACILITY, facility_cers_id=facility.cers_id
        )
        .select_related("merged_into_facility")
        .order_by("-pk")
        .first()
    )
    survivor = merge.merged_into_facility if merge is not None else None
    if survivor is not None:
        return (
            f"{facility.name} (CERS ID {facility.cers_id}) was merged into {survivor.name} "
            f"(CERS ID {survivor.cers_id}) meanwhile: continue with that facility."
        )
    return f"{facility.name} (CERS ID {facility.cers_id}) was merged into another facility."


def lock_facility_row(facility: Facility) -> Facility:
    """Reload and lock the facility's row, with its organization as it is now (a transfer may
    have moved it since the caller read it: ask the rules of the row returned). A facility
    merged away meanwhile is refused with a message naming the one it was merged into."""
    locked = (
        Facility.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(pk=facility.pk)
        .first()
    )
    if locked is None:
        raise ValidationError(gone_facility_message(facility))
    return locked


def gone_organization_message(organization: Organization) -> str:
    """Why ``organization`` has no row any more: the state merged it into another."""
    merge = (
        FacilityTransfer.objects.filter(
            kind=FacilityTransfer.Kind.MERGE_ORGANIZATION,
            from_organization_code=organization.code,
        )
        .select_related("to_organization")
        .order_by("-pk")
        .first()
    )
    target = merge.to_organization if merge is not None else None
    if target is not None:
        return (
            f"{organization.name} (code {organization.code}) was merged into {target.name} "
            f"(code {target.code}) meanwhile."
        )
    return f"{organization.name} (code {organization.code}) was merged into another organization."


# --- Upkeep by the business: edit, close, ask for a transfer (Lead Users) ---

UPKEEP_REFUSED = "Only the organization's Lead Users edit, close or ask to transfer a facility."


def _lock_open_facility(actor, facility: Facility, doing: str) -> Facility:
    """Lock the facility's row, then check ``facilities.upkeep`` on it (its organization as it
    is now); a closed facility is refused (it no longer reports and is kept as it was
    closed)."""
    facility = lock_facility_row(facility)
    require(actor, "facilities.upkeep", facility, UPKEEP_REFUSED)
    if facility.is_closed:
        raise ValidationError(f"{facility.name} is closed: it can no longer be {doing}.")
    return facility


@transaction.atomic(durable=True)
def edit_facility(
    *, actor, facility: Facility, name: str, street: str, city: str, zip_code: str, county: str = ""
) -> Facility:
    """A Lead User corrects the facility's name and address. A changed address passes the
    duplicate-address check of ``add_facility`` (the same rule, the facility itself left
    out); a ZIP code another CUPA serves is refused, as moving the facility between
    jurisdictions is the regulators' to do."""
    facility = _lock_open_facility(actor, facility, "edited")
    if not is_zip_code(zip_code):
        raise ValidationError({"zip_code": "Enter a ZIP code of 5 digits, or ZIP+4."})
    new_key = address_key(street, city, zip_code)
    if zip_code.strip()[:5] != facility.zip_code.strip()[:5]:
        current = (
            FacilityRegulator.objects.filter(
                facility=facility, element=SubmittalElement.FACILITY_INFORMATION
            )
            .values_list("regulator_id", flat=True)
            .first()
        )
        serving = default_regulators(zip_code).get(SubmittalElement.FACILITY_INFORMATION)
        if serving is None or serving.pk != current:
            raise ValidationError(
                {
                    "zip_code": f"ZIP code {zip_code.strip()} is outside the jurisdiction of "
                    "this facility's CUPA. If the facility has moved, ask your regulator to "
                    "update it."
                }
            )
    if new_key != facility.address_key:
        check_duplicate_address(
            facility.organization, street, city, zip_code, exclude=facility, member=actor
        )
    fields = {
        "name": name.strip(),
        "street": street.strip(),
        "city": city.strip(),
        "zip_code": zip_code.strip(),
        "county": county.strip(),
        "address_key": new_key,
    }
    before = {key: getattr(facility, key) for key in fields if key != "address_key"}
    changed = [key for key, value in fields.items() if getattr(facility, key) != value]
    if not changed:
        return facility
    for key in changed:
        setattr(facility, key, fields[key])
    facility.full_clean()
    facility.save(update_fields=changed)
    shown = [key for key in changed if key != "address_key"]
    record_event(
        actor,
        "facility.edited",
        facility,
        before={key: before[key] for key in shown},
        after={key: fields[key] for key in shown},
        organization=facility.organization,
    )
    return facility


def regulator_recipients(regulator: Regulator) -> list[str]:
    """Where a message to an agency goes: its public contact address, else its
    administrators' addresses."""
    from regulators.roles import StaffRole

    if regulator.email:
        return [regulator.email]
    return sorted(
        regulator.staff.filter(role=StaffRole.ADMINISTRATOR, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )


@transaction.atomic(durable=True)
def close_facility(*, actor, facility: Facility, reason: str) -> Facility:
    """A Lead User closes the facility: it no longer reports (nothing is due of it and no
    draft can be started), and it stays, with its submittals, as history. Every agency
    regulating one of its elements is told by e-mail (the outbox). The closing is kept
    (``FacilityClosure``) for when the facility reopens."""
    facility = _lock_open_facility(actor, facility, "closed again")
    reason = _require_reason(reason)
    facility.closed_at = timezone.now()
    facility.closed_reason = reason
    facility.save(update_fields=["closed_at", "closed_reason"])
    FacilityClosure.objects.create(
        facility=facility, closed_at=facility.closed_at, closed_by=actor, reason=reason
    )
    record_event(
        actor,
        "facility.closed",
        facility,
        before={"closed_at": None},
        after={"closed_at": facility.closed_at.isoformat(), "reason": reason},
        organization=facility.organization,
    )
    _tell_regulators(
        facility, "facilities/email/closed", {"reason": reason, "actor": actor}, skip=None
    )
    return facility


def _tell_regulators(facility: Facility, template: str, context: dict, skip) -> None:
    """Queue ``template`` to each agency regulating one of ``facility``'s elements (its
    contact address, else its administrators), but ``skip`` (the agency that acted)."""
    regulators = {
        row.regulator.pk: row.regulator
        for row in FacilityRegulator.objects.filter(facility=facility).select_related("regulator")
    }
    messages = [
        (to, template, {"facility": facility, "regulator": regulator, **context})
        for regulator in sorted(regulators.values(), key=lambda r: r.code)
        if regulator.pk != skip and (to := regulator_recipients(regulator))
    ]
    if messages:
        queue_emails(messages)


def _tell_business(facility: Facility, template: str, context: dict) -> None:
    """Queue ``template`` to each Lead User and Approver of ``facility``'s organization (the
    people told of its due dates), one e-mail each."""
    from organizations.services import submitter_emails_by_organization

    organization = facility.organization
    to = submitter_emails_by_organization([organization.pk]).get(organization.pk, [])
    context = {"facility": facility, "organization": organization, **context}
    if to:
        queue_emails([([address], template, context) for address in to])


REOPEN_REFUSED = (
    "Only the organization's Lead Users, the administrators of an agency regulating the "
    "facility and the state administrator reopen it."
)


@transaction.atomic(durable=True)
def reopen_facility(*, actor, facility: Facility, reason: str, regulator=None) -> Facility:
    """Reopen a closed facility (``facilities.reopen``): its business's Lead User, or an
    administrator of an agency regulating it (``regulator``: the agency they act for). It
    reports again: its due dates and overdue marks count again and drafts may be started. Its
    closing stays in the history (``FacilityClosure``, completed here). Every agency regulating
    one of its elements is e-mailed, but the one that reopened it; when staff reopen it, the
    organization's Lead Users and Approvers are told as well."""
    facility = lock_facility_row(facility)
    require(actor, "facilities.reopen", facility, REOPEN_REFUSED)
    if not facility.is_closed:
        raise ValidationError(f"{facility.name} is not closed: it reports already.")
    reason = _require_reason(reason)
    closed_at, closed_reason = facility.closed_at, facility.closed_reason
    now = timezone.now()
    closure = FacilityClosure.objects.select_for_update().filter(
        facility=facility, reopened_at__isnull=True
    ).first() or FacilityClosure(facility=facility, closed_at=closed_at, reason=closed_reason)
    closure.reopened_at = now
    closure.reopened_by = actor
    closure.reopen_reason = reason
    closure.save()
    facility.closed_at = None
    facility.closed_reason = ""
    facility.save(update_fields=["closed_at", "closed_reason"])
    by_business = can(actor, "facilities.upkeep", facility)
    if by_business:
        regulator = None
    record_event(
        actor,
        "facility.reopened",
        facility,
        before={"closed_at": closed_at.isoformat(), "reason": closed_reason},
        after={"closed_at": None, "reason": reason},
        organization=facility.organization,
        regulator=regulator,
    )
    context = {"reason": reason, "actor": actor, "closed_at": closed_at, "by": regulator}
    skip = regulator.pk if regulator is not None else None
    _tell_regulators(facility, "facilities/email/reopened", context, skip=skip)
    if not by_business:
        _tell_business(facility, "facilities/email/reopened_for_business", context)
    return facility


@transaction.atomic(durable=True)
def request_transfer(
    *, actor, facility: Facility, to_organization_code: int, reason: str
) -> FacilityTransferRequest:
    """A Lead User asks the facility's CUPA to move it to another organization (a sale, a new
    operator). The request stands for the business's letter: the CUPA's move page starts
    from it, and the move answers it. One request waits per facility at a time."""
    facility = _lock_open_facility(actor, facility, "transferred")
    reason = _require_reason(reason)
    if to_organization_code == facility.organization.code:
        raise ValidationError(
            {"to_organization_code": "The facility already belongs to this organization."}
        )
    if not fits(
        to_organization_code, FacilityTransferRequest._meta.get_field("to_organization_code")
    ):
        raise ValidationError(
            {
                "to_organization_code": f"No organization has code {to_organization_code}; "
                "ask the receiving organization for its code."
            }
        )
    if FacilityTransferRequest.objects.filter(facility=facility).pending().exists():
        raise ValidationError(
            "A transfer of this facility is already requested; its regulator has not answered "
            "it yet."
        )
    transfer_request = FacilityTransferRequest.objects.create(
        facility=facility,
        from_organization=facility.organization,
        to_organization_code=to_organization_code,
        reason=reason,
        requested_by=actor,
    )
    record_event(
        actor,
        "facility.transfer_requested",
        facility,
        after={"to_organization": to_organization_code, "reason": reason},
        organization=facility.organization,
    )
    return transfer_request


def _lock_pending_request(transfer_request: FacilityTransferRequest) -> FacilityTransferRequest:
    """Lock the request's row; one already answered (moved, declined, withdrawn) is refused."""
    locked = (
        FacilityTransferRequest.objects.select_for_update(of=("self",))
        .select_related("facility__organization", "from_organization")
        .get(pk=transfer_request.pk)
    )
    if not locked.is_pending:
        raise ValidationError(
            f"This transfer request was already answered: {locked.get_status_display().lower()}."
        )
    return locked


@transaction.atomic(durable=True)
def withdraw_transfer_request(
    *, actor, transfer_request: FacilityTransferRequest
) -> FacilityTransferRequest:
    """The business withdraws its pending request (those who may ask for it,
    ``facilities.upkeep``): the regulator no longer sees it waiting, and the business may ask
    again."""
    require(actor, "facilities.upkeep", transfer_request.facility, UPKEEP_REFUSED)
    transfer_request = _lock_pending_request(transfer_request)
    transfer_request.status = FacilityTransferRequest.Status.WITHDRAWN
    transfer_request.answered_by = actor
    transfer_request.answered_at = timezone.now()
    transfer_request.save(update_fields=["status", "answered_by", "answered_at"])
    record_event(
        actor,
        "facility.transfer_request_withdrawn",
        transfer_request.facility,
        before={"status": FacilityTransferRequest.Status.PENDING.label},
        after={"status": transfer_request.get_status_display(), "request": transfer_request.pk},
        organization=transfer_request.from_organization,
    )
    return transfer_request


DECLINE_REFUSED = (
    "Only administrators of the facility's CUPA, or the state administrator, answer its "
    "transfer requests."
)


@transaction.atomic(durable=True)
def decline_transfer_request(
    *, actor, transfer_request: FacilityTransferRequest, reason: str, regulator=None
) -> FacilityTransferRequest:
    """The regulator declines a business's pending transfer request, with a reason: those who
    would move the facility (``facilities.transfer``). The reason is e-mailed to the
    requesting organization's Lead Users and Approvers (the outbox)."""
    require(actor, "facilities.transfer", transfer_request.facility, DECLINE_REFUSED)
    reason = _require_reason(reason)
    transfer_request = _lock_pending_request(transfer_request)
    transfer_request.status = FacilityTransferRequest.Status.DECLINED
    transfer_request.answered_by = actor
    transfer_request.answered_at = timezone.now()
    transfer_request.answer = reason
    transfer_request.save(update_fields=["status", "answered_by", "answered_at", "answer"])
    record_event(
        actor,
        "facility.transfer_request_declined",
        transfer_request.facility,
        before={"status": FacilityTransferRequest.Status.PENDING.label},
        after={
            "status": transfer_request.get_status_display(),
            "request": transfer_request.pk,
            "reason": reason,
        },
        organization=transfer_request.from_organization,
        regulator=regulator,
    )
    _tell_business(
        transfer_request.facility,
        "facilities/email/transfer_declined",
        {
            "transfer_request": transfer_request,
            "regulator": regulator,
            "reason": reason,
            "link": settings.SITE_URL
            + reverse("business:facility", args=[transfer_request.facility.cers_id]),
        },
    )
    return transfer_request


# --- Transfers: moving facilities and merging facilities or organizations (regulators) ---

LETTER_MAX_BYTES = 10 * 1024 * 1024
_LETTER_SIGNATURES = (b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.APPROVER: 2, Role.LEAD: 3}


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for this change."})
    return reason


def check_letter(letter) -> None:
    """Refuse a missing letter, one over 10 MB, or one that is not a PDF, PNG or JPEG (by its
    first bytes, not by its name)."""
    if not letter:
        raise ValidationError({"letter": "Attach the business's request on its letterhead."})
    if letter.size > LETTER_MAX_BYTES:
        raise ValidationError({"letter": "The letter must be 10 MB or smaller."})
    letter.seek(0)
    head = letter.read(8)
    letter.seek(0)
    if not any(head.startswith(signature) for signature in _LETTER_SIGNATURES):
        raise ValidationError({"letter": "The letter must be a PDF, PNG or JPEG file."})


def _lock_organizations(*organizations: Organization) -> dict[int, Organization]:
    """Lock the organizations' rows in primary-key order, so concurrent transfers queue."""
    pks = sorted({o.pk for o in organizations})
    locked = Organization.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    return {o.pk: o for o in locked}


def _record_on_both(actor, action, obj, transfer, before, after) -> None:
    """One audit event on each organization the change touches (one if they are the same)."""
    organizations = {transfer.from_organization_id: transfer.from_organization}
    organizations.setdefault(transfer.to_organization_id, transfer.to_organization)
    for organization in organizations.values():
        record_event(
            actor,
            action,
            obj,
            before=before,
            after={**after, "transfer": transfer.pk},
            organization=organization,
        )


def _record_transfer(
    kind, actor, source, target, reason: str, *, facility=None, **extra
) -> FacilityTransfer:
    """The ``FacilityTransfer`` of a move or merge: the facility's and the source
    organization's identity are copied, so the record reads the same after later changes."""
    if facility is not None:
        extra |= {
            "facility": facility,
            "facility_cers_id": facility.cers_id,
            "facility_name": facility.name,
        }
    return FacilityTransfer.objects.create(
        kind=kind,
        from_organization=source,
        from_organization_code=source.code,
        from_organization_name=source.name,
        to_organization=target,
        reason=reason,
        performed_by=actor,
        **extra,
    )


@transaction.atomic(durable=True)
def move_facility(
    *,
    actor,
    facility: Facility,
    to_organization: Organization,
    reason: str,
    letter=None,
    transfer_request: FacilityTransferRequest | None = None,
) -> FacilityTransfer:
    """Move a facility to another organization at the business's written request: a letter,
    or a Lead User's request in the portal (``transfer_request``, which the move answers; the
    letter is then optional). The facility keeps its CERS ID, its submittals and its
    regulators; both organizations' lead regulators are recomputed."""
    reason = _require_reason(reason)
    facility = lock_facility_row(facility)
    require(
        actor,
        "facilities.transfer",
        facility,
        "Only administrators of the facility's CUPA, or the state administrator, move it.",
    )
    if transfer_request is not None:
        transfer_request = (
            FacilityTransferRequest.objects.select_for_update()
            .filter(pk=transfer_request.pk, facility=facility)
            .pending()
            .first()
        )
        if transfer_request is None:
            raise ValidationError("This transfer request was already answered.")
    if letter or transfer_request is None:
        check_letter(letter)
    if facility.organization_id == to_organization.pk:
        raise ValidationError(
            {"organization_code": "The facility already belongs to that organization."}
        )
    locked = _lock_organizations(facility.organization, to_organization)
    if to_organization.pk not in locked:
        raise ValidationError({"organization_code": gone_organization_message(to_organization)})
    source, target = locked[facility.organization_id], locked[to_organization.pk]
    facility.organization = target
    facility.save(update_fields=["organization"])
    transfer = _record_transfer(
        FacilityTransfer.Kind.MOVE,
        actor,
        source,
        target,
        reason,
        facility=facility,
        letter=letter or "",
    )
    if transfer_request is not None:
        transfer_request.transfer = transfer
        transfer_request.status = FacilityTransferRequest.Status.DONE
        transfer_request.answered_by = actor
        transfer_request.answered_at = transfer.performed_at
        transfer_request.save(update_fields=["transfer", "status", "answered_by", "answered_at"])
    refresh_lead_regulator(source)
    refresh_lead_regulator(target)
    _record_on_both(
        actor,
        "facility.moved",
        facility,
        transfer,
        before={"organization": source.code},
        after={
            "organization": target.code,
            "reason": reason,
            **({"request": transfer_request.pk} if transfer_request else {}),
        },
    )
    return transfer


@transaction.atomic(durable=True)
def merge_facilities(
    *, actor, duplicate: Facility, survivor: Facility, reason: str
) -> FacilityTransfer:
    """Merge a duplicate facility into the one that stays: its submittals move to the
    survivor, then the duplicate and its jurisdiction rows are deleted. Refused while either
    facility has a draft in progress, which would clash with the other's drafts. (Submittals
    stand above facilities: they refuse and move through ``facilities.hooks``.)"""
    if duplicate.pk == survivor.pk:
        raise ValidationError({"cers_id": "A facility cannot be merged into itself."})
    reason = _require_reason(reason)
    facilities = {
        f.pk: f
        for f in Facility.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(pk__in=sorted([duplicate.pk, survivor.pk]))
        .order_by("pk")
    }
    for facility in (duplicate, survivor):
        if facility.pk not in facilities:
            raise ValidationError(gone_facility_message(facility))
    duplicate, survivor = facilities[duplicate.pk], facilities[survivor.pk]
    for facility in (duplicate, survivor):
        require(
            actor,
            "facilities.transfer",
            facility,
            "Only administrators of both facilities' CUPA, or the state administrator, merge them.",
        )
    # The records kept about a facility belong to the apps above this one (submittals...):
    # each may refuse the merge, then moves its own rows (facilities.hooks).
    for refusal in hooks.merge_refusals:
        if message := refusal(duplicate, survivor):
            raise ValidationError(message)
    locked = _lock_organizations(duplicate.organization, survivor.organization)
    source, target = locked[duplicate.organization_id], locked[survivor.organization_id]
    moved = {}
    for move in hooks.merge_moves:
        moved.update(move(duplicate, survivor))
    transfer = _record_transfer(
        FacilityTransfer.Kind.MERGE_FACILITY,
        actor,
        source,
        target,
        reason,
        facility=duplicate,
        merged_into_facility=survivor,
    )
    _record_on_both(
        actor,
        "facility.merged",
        duplicate,
        transfer,
        before={"cers_id": duplicate.cers_id, "name": duplicate.name, "organization": source.code},
        after={
            "merged_into": survivor.cers_id,
            "organization": target.code,
            **moved,
            "reason": reason,
        },
    )
    FacilityRegulator.objects.filter(facility=duplicate).delete()
    duplicate.delete()
    refresh_lead_regulator(source)
    refresh_lead_regulator(target)
    return transfer


@transaction.atomic(durable=True)
def merge_organizations(
    *, actor, source: Organization, target: Organization, reason: str
) -> FacilityTransfer:
    """Merge one organization into another (state staff only): every facility and member of
    ``source`` moves to ``target`` (a member of both keeps the higher role), its audit history
    is filed under ``target``, and ``source`` is deleted."""
    from core.models import AuditEvent
    from organizations.services import grant_role

    require(
        actor,
        "facilities.manage_statewide",
        source,
        "Only state administrators merge organizations.",
    )
    if source.pk == target.pk:
        raise ValidationError({"organization_code": "Choose another organization."})
    reason = _require_reason(reason)
    # The facilities first, then the organizations: the order of every other facility change
    # (a move or a facility merge locks its facilities, then their organizations), so a move
    # and this merge at once queue instead of deadlocking. A facility moved into ``source``
    # while this waits is not committed yet, so the update below leaves it alone, and its
    # move then finds ``source`` merged away.
    list(
        Facility.objects.select_for_update(of=("self",))
        .filter(organization=source)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = _lock_organizations(source, target)
    for organization in (source, target):
        if organization.pk not in locked:
            raise ValidationError(gone_organization_message(organization))
    source, target = locked[source.pk], locked[target.pk]
    cers_ids = list(source.facilities.order_by("cers_id").values_list("cers_id", flat=True))
    source.facilities.update(organization=target)

    in_target = {m.user_id: m for m in Membership.objects.filter(organization=target)}
    roles = {}
    for membership in Membership.objects.filter(organization=source).select_related("user"):
        kept = in_target.get(membership.user_id)
        if kept is None:
            membership.organization = target
            membership.save(update_fields=["organization"])
            roles[membership.user] = membership.role
            continue
        if _ROLE_RANK[membership.role] > _ROLE_RANK[kept.role]:
            kept.role = membership.role
            kept.save(update_fields=["role"])
        roles[membership.user] = kept.role
        membership.delete()
    for user, role in roles.items():
        grant_role(user, target, role)

    transfer = _record_transfer(
        FacilityTransfer.Kind.MERGE_ORGANIZATION, actor, source, target, reason
    )
    _record_on_both(
        actor,
        "organization.merged",
        source,
        transfer,
        before={"code": source.code, "name": source.name},
        after={
            "merged_into": target.code,
            "facilities": cers_ids,
            "members": sorted(user.email for user in roles),
            "reason": reason,
        },
    )
    # Keep the merged organization's history: file its audit events under the target.
    AuditEvent.objects.filter(organization=source).update(organization=target)
    FacilityTransfer.objects.filter(to_organization=source).update(to_organization=target)
    refresh_lead_regulator(target)
    source.delete()
    return transfer


# --- due date reminders ----------------------------------------------------------------------

# Elements read per query while reminders are looked for.
REMINDER_BATCH = 500


def reminder_kind(days_left: int, thresholds) -> str | None:
    """The reminder an element due in ``days_left`` days gets under the agency's
    ``thresholds``: the tightest threshold reached ("7" at 5 days left, not "60" and "30"
    as well), "overdue" once the date has passed, None before the first threshold."""
    if days_left < 0:
        return DueReminder.OVERDUE
    reached = [days for days in thresholds if days_left <= days]
    return str(min(reached)) if reached else None


def reminder_thresholds() -> dict[int, list[int]]:
    """Each agency's reminder days (``Regulator.reminder_days``), by its primary key."""
    return {
        regulator.pk: regulator.reminder_days or list(DEFAULT_REMINDER_DAYS)
        for regulator in Regulator.objects.only("pk", "reminder_days")
    }


def due_elements(rows, today: date, thresholds: dict[int, list[int]] | None = None):
    """Of the facility elements ``rows`` (a ``FacilityRegulator`` queryset), those that need
    reporting soon or are overdue, with the reminder each gets today (``reminder_kind``):
    a next due date within the agency's first threshold or past, of an element the facility
    must report (``schedule.requirement_of``, the status grid's rule: a row set Not Applicable,
    or one whose Business Activities answers no longer switch it on, is not due), of a
    facility that still reports (not closed), and not already reported for that date
    (``hooks.reported_elements``). The one rule of what is due, for the reminders and for the
    pages that list what is due. A list of ``(row, kind)`` in ``rows``' order; the answers are
    read once for all the rows (``schedule.required_rows``)."""
    thresholds = reminder_thresholds() if thresholds is None else thresholds
    horizon = max((max(days) for days in thresholds.values()), default=0)
    rows = (
        rows.filter(
            next_due_date__isnull=False,
            next_due_date__lte=today + timedelta(days=horizon),
            facility__closed_at__isnull=True,
        )
        .exclude(reporting_requirement=ReportingRequirement.NOT_APPLICABLE)
        .select_related("facility__organization", "regulator")
    )
    wanted = []
    for row in rows:
        days = thresholds.get(row.regulator_id) or list(DEFAULT_REMINDER_DAYS)
        kind = reminder_kind((row.next_due_date - today).days, days)
        if kind is not None:
            wanted.append((row, kind))
    required = {row.pk for row in required_rows(row for row, _kind in wanted)}
    wanted = [(row, kind) for row, kind in wanted if row.pk in required]
    reported = set()
    for find in hooks.reported_elements:
        reported |= find([row for row, _ in wanted])
    return [(row, kind) for row, kind in wanted if (row.facility_id, row.element) not in reported]


def send_due_reminders(*, today: date | None = None) -> int:
    """E-mail the reminders due today: each facility element ``due_elements`` lists is
    reminded when its agency's thresholds (``Regulator.reminder_days``) are reached and once
    when it is overdue. Each reminder goes to the organization's Approvers and Lead Users,
    one e-mail each through the outbox, and is written as a ``DueReminder`` in the same
    transaction; its unique constraint means a reminder is never sent twice, however often
    or concurrently this runs. Run by the Celery beat (``facilities.tasks``); answers how
    many reminders were sent.
    """
    from organizations.services import submitter_emails_by_organization

    today = today or timezone.localdate()
    thresholds = reminder_thresholds()
    horizon = today + timedelta(days=max((max(days) for days in thresholds.values()), default=0))
    sent = 0
    last_pk = 0
    while True:
        pks = list(
            FacilityRegulator.objects.filter(pk__gt=last_pk, next_due_date__lte=horizon)
            .exclude(reporting_requirement=ReportingRequirement.NOT_APPLICABLE)
            .order_by("pk")
            .values_list("pk", flat=True)[:REMINDER_BATCH]
        )
        if not pks:
            return sent
        last_pk = pks[-1]
        wanted = due_elements(
            FacilityRegulator.objects.filter(pk__in=pks).order_by("pk"), today, thresholds
        )
        if not wanted:
            continue
        done = set(
            DueReminder.objects.filter(
                facility_element__in=[row.pk for row, _ in wanted]
            ).values_list("facility_element_id", "due_date", "kind")
        )
        wanted = [
            (row, kind) for row, kind in wanted if (row.pk, row.next_due_date, kind) not in done
        ]
        emails = submitter_emails_by_organization(
            {row.facility.organization_id for row, _ in wanted}
        )
        for row, kind in wanted:
            if _remind(row, kind, today, emails.get(row.facility.organization_id, [])):
                sent += 1


def _remind(row: FacilityRegulator, kind: str, today: date, to: list[str]) -> bool:
    """Record and queue one reminder in one transaction; False when another run sent it."""
    facility = row.facility
    context = {
        "facility": facility,
        "organization": facility.organization,
        "element": row.get_element_display(),
        "regulator": row.regulator,
        "due_date": row.next_due_date,
        "days_left": (row.next_due_date - today).days,
        "overdue": kind == DueReminder.OVERDUE,
        "link": settings.SITE_URL + reverse("business:submittals", args=[facility.cers_id]),
    }
    try:
        with transaction.atomic():
            reminder = DueReminder.objects.create(
                facility_element=row, due_date=row.next_due_date, kind=kind, recipients=len(to)
            )
            queue_emails([([address], "facilities/email/due_reminder", context) for address in to])
            record_event(
                None,
                "facility.due_reminder_sent",
                reminder,
                after={
                    "element": row.element,
                    "due_date": row.next_due_date.isoformat(),
                    "kind": kind,
                    "recipients": len(to),
                },
                organization=facility.organization,
                regulator=row.regulator,
            )
    except IntegrityError:
        return False
    return True
