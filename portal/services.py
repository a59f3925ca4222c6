"""The dashboard's summaries: every agency's counts, recounted from scratch.

``refresh_summaries`` is the one writer of ``AgencySummary``. It counts every agency in a
handful of grouped queries (one pass over the elements, two over the facilities' element
rows, one per program element group over the open violations), whatever the number of
agencies, and writes all rows in one statement that replaces each agency's row whole: two
refreshes running at once each leave correct rows, and a reader never sees half of one.

What each count holds is what the agency's lists hold (the querysets' ``in_jurisdiction``,
the state agency: everything); ``tests/portal/test_summaries.py`` compares them row by row.

A refresh records no audit event: it is nobody's action and changes no record, only the
counts derived from them, every few minutes.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cme.models import Violation
from cme.querysets import program_element_groups
from facilities.models import Facility, FacilityRegulator
from organizations.models import Organization
from regulators.models import Regulator
from submittals.models import AWAITING_STATUSES, ElementStatus, SubmittalElementRecord

from .counts import CHART_MONTHS, month_start, months_back
from .models import AgencySummary

COUNT_FIELDS = [
    "facility_count",
    "organization_count",
    "element_count",
    "awaiting_review_count",
    "overdue_facility_count",
    "open_violation_count",
    "past_rtc_count",
]


def month_key(month: datetime.date) -> str:
    """How a month is named in ``AgencySummary.submittals_by_month``."""
    return month.strftime("%Y-%m")


class _Tally:
    """One agency's counts while they are added up."""

    def __init__(self):
        self.counts = dict.fromkeys(COUNT_FIELDS, 0)
        self.months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.program_elements: dict[str, int] = defaultdict(int)

    def summary(self, regulator: Regulator, counted_at) -> AgencySummary:
        return AgencySummary(
            regulator=regulator,
            counted_at=counted_at,
            submittals_by_month={m: dict(s) for m, s in sorted(self.months.items())},
            open_violations_by_program_element=dict(sorted(self.program_elements.items())),
            **self.counts,
        )


def refresh_summaries(now: datetime.datetime | None = None) -> int:
    """Count every agency's dashboard again, as of ``now``; returns how many agencies."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    agencies = list(Regulator.objects.order_by("pk"))
    tallies = {agency.pk: _Tally() for agency in agencies}
    states = [tallies[agency.pk] for agency in agencies if agency.is_statewide]

    def add(regulator_id, add_to):
        """``add_to`` the regulator's tally (none: an element routed nowhere) and every
        state agency's, whose jurisdiction is everything."""
        tally = tallies.get(regulator_id)
        for target in states if tally is None or tally in states else [tally, *states]:
            add_to(target)

    _count_elements(now, add)
    _count_facilities(now, tallies, states)
    _count_violations(today, tallies, states)

    rows = [tallies[agency.pk].summary(agency, now) for agency in agencies]
    with transaction.atomic():
        AgencySummary.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["regulator"],
            update_fields=[
                "counted_at",
                *COUNT_FIELDS,
                "submittals_by_month",
                "open_violations_by_program_element",
            ],
        )
    return len(rows)


def _count_elements(now, add) -> None:
    """Submitted elements by the agency they were routed to: how many, how many awaiting
    review, and those of the last twelve months by month submitted and status now."""
    submitted = SubmittalElementRecord.objects.exclude(status=ElementStatus.DRAFT).order_by()
    for row in submitted.values("regulator", "status").annotate(n=Count("pk")):

        def by_status(tally, row=row):
            tally.counts["element_count"] += row["n"]
            if row["status"] in AWAITING_STATUSES:
                tally.counts["awaiting_review_count"] += row["n"]

        add(row["regulator"], by_status)

    months = months_back(timezone.localdate(now), CHART_MONTHS)
    kept = {month_key(m) for m in months}
    recent = (
        submitted.filter(submitted_at__gte=month_start(months[0]))
        .annotate(month=TruncMonth("submitted_at"))
        .values("regulator", "month", "status")
        .annotate(n=Count("pk"))
    )
    for row in recent:
        key = month_key(timezone.localtime(row["month"]).date())
        if key not in kept:
            continue

        def by_month(tally, row=row, key=key):
            tally.months[key][str(row["status"])] += row["n"]

        add(row["regulator"], by_month)


def _count_facilities(now, tallies, states) -> None:
    """Facilities (and their organizations) for which each agency handles an element, and
    how many of those have overdue Facility Information; the state agency: all of them."""
    overdue = Facility.objects.overdue(now).values("pk")
    rows = (
        FacilityRegulator.objects.order_by()
        .values("regulator")
        .annotate(
            facilities=Count("facility", distinct=True),
            organizations=Count("facility__organization", distinct=True),
            overdue=Count("facility", distinct=True, filter=Q(facility__in=overdue)),
        )
    )
    for row in rows:
        tally = tallies.get(row["regulator"])
        if tally is not None and tally not in states:
            tally.counts["facility_count"] = row["facilities"]
            tally.counts["organization_count"] = row["organizations"]
            tally.counts["overdue_facility_count"] = row["overdue"]
    if states:
        everything = {
            "facility_count": Facility.objects.count(),
            "organization_count": Organization.objects.count(),
            "overdue_facility_count": Facility.objects.overdue(now).count(),
        }
        for tally in states:
            tally.counts.update(everything)


def _count_violations(today, tallies, states) -> None:
    """Open violations (no actual return to compliance) by program element, and those past
    their scheduled return to compliance, for the agency that handles the inspected program
    element at the facility (``cme.querysets.regulated_by``)."""
    late = Q(scheduled_rtc_on__lt=today)
    open_violations = Violation.objects.filter(return_to_compliance_on__isnull=True).order_by()

    def tally_rows(tally, rows):
        for row in rows:
            tally.program_elements[row["inspection__program_element"]] += row["n"]
            tally.counts["open_violation_count"] += row["n"]
            tally.counts["past_rtc_count"] += row["late"]

    for elements, codes in program_element_groups().items():
        # One join to the facility's element rows of the group; an agency handling two of
        # them still counts each violation once.
        rows = (
            open_violations.filter(
                inspection__program_element__in=codes,
                inspection__facility__regulators__element__in=elements,
            )
            .values("inspection__facility__regulators__regulator", "inspection__program_element")
            .annotate(n=Count("pk", distinct=True), late=Count("pk", distinct=True, filter=late))
        )
        by_agency = defaultdict(list)
        for row in rows:
            by_agency[row["inspection__facility__regulators__regulator"]].append(row)
        for regulator_id, agency_rows in by_agency.items():
            tally = tallies.get(regulator_id)
            if tally is not None and tally not in states:
                tally_rows(tally, agency_rows)
    if states:
        rows = list(
            open_violations.values("inspection__program_element").annotate(
                n=Count("pk"), late=Count("pk", filter=late)
            )
        )
        for tally in states:
            tally_rows(tally, rows)
