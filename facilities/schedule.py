"""What a facility must report, by when, and how it stands: the reporting requirement of each
submittal element, its next due date and the status grid the facility pages show.

The requirement follows CERS, and ``requirement_of`` is its one home: a regulator's setting
(``FacilityRegulator.reporting_requirement``, from the portal or EDT Facility Metadata) wins;
without one, Facility Information always applies, and the Business Activities answers that
count (of the latest submitted, under review or accepted Facility Information) switch the
other elements on (``ELEMENTS_BY_ACTIVITY``). Whether an element was ever submitted does not
enter it. The status grid, the regulator's facility list (``FacilityQuerySet.must_report``,
the rule in SQL), RFQ's ReportingRequirement (``stated_requirement``), the reminders and the
lists of what is due (``services.due_elements``, through ``required_rows``) all ask it. Which
answers count, and what was submitted, the submittals app tells through
``hooks.element_submittals`` and ``hooks.counted_activities``: facilities stand below
submittals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from core.elements import SubmittalElement as E

from . import hooks
from .models import Facility, ReportingRequirement

# Business Activities answers (data dictionary numbers of the Facility Information element)
# and the elements a "Yes" makes the facility report. The hazardous waste generator (9) and
# household hazardous waste collection (14b) questions have no element of their own: they
# are reported in Facility Information. A RCRA large quantity generator (14a) keeps a
# contingency plan, reported in the Emergency Response and Training Plans element.
ELEMENTS_BY_ACTIVITY: dict[str, tuple[E, ...]] = {
    "4": (E.HAZARDOUS_MATERIALS_INVENTORY, E.EMERGENCY_RESPONSE),  # hazardous materials on site
    "4a": (E.CALARP,),  # CalARP regulated substances
    "5": (E.UST,),  # owns or operates underground storage tanks
    "8": (E.APSA,),  # owns or operates aboveground petroleum storage tanks
    "10": (E.RECYCLABLE_MATERIALS,),  # recycles excluded or exempt materials
    "11": (E.TIERED_PERMITTING,),  # treats hazardous waste on site
    "12": (E.TIERED_PERMITTING,),  # financial assurance for closure of a treatment unit
    "13": (E.REMOTE_WASTE_CONSOLIDATION,),  # remote waste consolidation site
    "14": (E.HW_TANK_CLOSURE,),  # hazardous waste tank closure
    "14a": (E.EMERGENCY_RESPONSE,),  # RCRA large quantity generator
}

# A required element is "due soon" this many days before its next due date.
DUE_SOON_DAYS = 30

# Statuses of the last submittal that mean the business has done its part for now.
AWAITING_REVIEW = frozenset({"Submitted", "Under Review"})


def elements_required_by(activities: Mapping | None) -> frozenset[int]:
    """The elements the Business Activities answers ``activities`` (values by data dictionary
    number, "Y" or "N") make the facility report; Facility Information always."""
    required = {int(E.FACILITY_INFORMATION)}
    for number, elements in ELEMENTS_BY_ACTIVITY.items():
        if (activities or {}).get(number) == "Y":
            required.update(int(element) for element in elements)
    return frozenset(required)


def anniversary(day: date) -> date:
    """The same day a year later (29 February: the 28th)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


@dataclass(frozen=True)
class ElementSubmittal:
    """The last submitted element (or the draft) of one element of a facility."""

    pk: int
    status: str  # the status label: Draft, Submitted, Under Review, Accepted, Not Accepted...
    submitted_at: datetime | None


@dataclass
class FacilitySubmittals:
    """What the submittals app tells of one facility (``hooks.element_submittals``)."""

    activities: dict | None = None  # the Business Activities answers that count
    last: dict[int, ElementSubmittal] = field(default_factory=dict)  # per element
    drafts: dict[int, ElementSubmittal] = field(default_factory=dict)  # per element


@dataclass(frozen=True)
class GridRow:
    """One element of a facility's status grid."""

    element: int
    label: str
    regulator: object  # the Regulator handling it, or None
    required: bool
    requirement: str  # "Required" / "Not required"
    source: str  # why: the Business Activities, always, or the regulator's setting
    last: ElementSubmittal | None
    draft: ElementSubmittal | None
    next_due_date: date | None
    mark: str  # "overdue", "due soon" or ""
    regulator_row: object  # the FacilityRegulator row, or None


@dataclass(frozen=True)
class Setting:
    """A regulator's setting alone (``reporting_requirement``, or None), for ``requirement_of``
    where the element row itself was not read."""

    reporting_requirement: int | None


def requirement_of(element: int, row, derived: frozenset[int]) -> tuple[bool, str]:
    """Whether a facility must report ``element``, and why: the one rule. The regulator's
    setting on its element row ``row`` (anything with a ``reporting_requirement``, or None)
    wins (Applicable or Always Applicable: yes; Not Applicable: no); without one, Facility
    Information always, any other element when the facility's Business Activities answers
    that count switch it on (``derived``, ``elements_required_by``)."""
    setting = row.reporting_requirement if row is not None else None
    if setting is not None:
        return setting != ReportingRequirement.NOT_APPLICABLE, (
            f"Set by the regulator: {ReportingRequirement(setting).label}"
        )
    if element == E.FACILITY_INFORMATION:
        return True, "Always"
    return element in derived, "Business Activities"


def stated_requirement(element: int, row, derived: frozenset[int]) -> ReportingRequirement:
    """The reporting requirement (CDR 20.0088) as EDT states it: the regulator's setting when
    there is one, else Applicable or Not Applicable as ``requirement_of`` says."""
    setting = row.reporting_requirement if row is not None else None
    if setting is not None:
        return ReportingRequirement(setting)
    required, _source = requirement_of(element, row, derived)
    return ReportingRequirement.APPLICABLE if required else ReportingRequirement.NOT_APPLICABLE


def required_by_answers(facility_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """For many facilities at once: the elements each one's Business Activities answers that
    count switch on (``elements_required_by``; Facility Information for one without answers),
    read in one query whatever their number (``hooks.counted_activities``)."""
    facility_ids = list(dict.fromkeys(facility_ids))
    answers: dict[int, dict] = {}
    if facility_ids:
        for function in hooks.counted_activities:
            answers.update(function(facility_ids))
    return {pk: elements_required_by(answers.get(pk)) for pk in facility_ids}


def required_rows(rows: Iterable) -> list:
    """Of element rows ``rows`` (``FacilityRegulator``, of any facilities), those whose
    facility must report their element (``requirement_of``), in their order: the answers read
    once for them all (``required_by_answers``)."""
    rows = list(rows)
    asked = required_by_answers(
        row.facility_id
        for row in rows
        if row.reporting_requirement is None and row.element != E.FACILITY_INFORMATION
    )
    none: frozenset[int] = frozenset()
    return [
        row for row in rows if requirement_of(row.element, row, asked.get(row.facility_id, none))[0]
    ]


def mark_of(
    required: bool, due: date | None, last: ElementSubmittal | None, today: date, closed=False
) -> str:
    """ "overdue" once a required element's due date has passed, "due soon" within
    ``DUE_SOON_DAYS`` of it; nothing while its last submittal waits for review or once that
    submittal reported for the date (``hooks.reports_for``, as the reminders ask, whatever the
    review said), nor for a ``closed`` facility, which no longer reports."""
    if closed or not required or due is None:
        return ""
    if last is not None and last.status in AWAITING_REVIEW:
        return ""
    if (
        last is not None
        and last.submitted_at is not None
        and hooks.reports_for(due, timezone.localdate(last.submitted_at))
    ):
        return ""
    if due < today:
        return "overdue"
    if due <= today + timedelta(days=DUE_SOON_DAYS):
        return "due soon"
    return ""


def submittals_of(facility_ids: list[int], include_drafts: bool) -> dict[int, FacilitySubmittals]:
    """Ask the app registered on ``hooks.element_submittals`` (nothing submitted when none)."""
    found: dict[int, FacilitySubmittals] = {}
    for function in hooks.element_submittals:
        found.update(function(facility_ids, include_drafts))
    return found


def local_today() -> date:
    """Today where the agencies are (the marks' clock; tests pin it)."""
    return timezone.localdate()


def attach_status_grids(
    facilities: Iterable[Facility], *, include_drafts: bool, today: date | None = None
) -> list[Facility]:
    """Set ``facility.status_grid`` (a ``GridRow`` per element) on each of ``facilities``,
    whose ``regulators`` were prefetched with their regulator: a fixed number of queries
    whatever their number. ``include_drafts``: the business's own pages, where a draft's
    Business Activities answers count and the draft is shown."""
    facilities = list(facilities)
    today = today or local_today()
    submittals = submittals_of([facility.pk for facility in facilities], include_drafts)
    for facility in facilities:
        known = submittals.get(facility.pk) or FacilitySubmittals()
        derived = elements_required_by(known.activities)
        rows = {row.element: row for row in facility.regulators.all()}
        grid = []
        for element in E:
            row = rows.get(element)
            required, source = requirement_of(element, row, derived)
            last = known.last.get(element)
            due = row.next_due_date if row is not None else None
            grid.append(
                GridRow(
                    element=int(element),
                    label=element.label,
                    regulator=row.regulator if row is not None else None,
                    required=required,
                    requirement="Required" if required else "Not required",
                    source=source,
                    last=last,
                    draft=known.drafts.get(element),
                    next_due_date=due,
                    mark=mark_of(required, due, last, today, closed=facility.is_closed),
                    regulator_row=row,
                )
            )
        facility.status_grid = grid
        facility.marks = {row.mark for row in grid if row.mark}
        facility.status_summary = summary_of(facility)
    return facilities


@dataclass(frozen=True)
class StatusSummary:
    """A facility's status grid in a few words (the regulator's facility list): how many of
    its required elements are overdue and due soon."""

    overdue: int
    due_soon: int
    closed: bool

    @property
    def text(self) -> str:
        if self.closed:
            return "Closed: no longer reports"
        parts = [
            f"{count} {label}"
            for count, label in ((self.overdue, "overdue"), (self.due_soon, "due soon"))
            if count
        ]
        return ", ".join(parts) or "Up to date"

    @property
    def up_to_date(self) -> bool:
        return not (self.closed or self.overdue or self.due_soon)


def summary_of(facility: Facility) -> StatusSummary:
    """``facility``'s ``status_grid`` (``attach_status_grids``) counted by mark."""
    marks = [row.mark for row in facility.status_grid]
    return StatusSummary(
        overdue=marks.count("overdue"),
        due_soon=marks.count("due soon"),
        closed=facility.is_closed,
    )
