"""The regulator home page's dashboard: what needs the agency's action, and two charts.

Every number starts from the same ``for_user`` queryset as the list it links to, narrowed to
the agency the user works for now in the same way (the querysets' ``in_jurisdiction``), so a
count never includes a row its list would not show. The charts are drawn here, server-side,
as inline SVG and plain HTML bars: no JavaScript and no chart library.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.views.generic import TemplateView

from cme.models import ProgramElement, Violation
from core.pagination import paginate
from core.views import RegulatorPortalMixin
from facilities.models import Facility
from regulators.models import Regulator
from submittals.models import ElementStatus, SubmittalElementRecord

# --- the action items ----------------------------------------------------------------------


def agency_elements(user, regulator: Regulator):
    """The submitted elements of the agency's review queue (``ReviewQueueView``)."""
    return SubmittalElementRecord.objects.for_user(user, "view").in_jurisdiction(regulator)


def awaiting_review(user, regulator: Regulator):
    """Elements waiting for the agency to act: the review queue's default filter."""
    return agency_elements(user, regulator).awaiting_review()


def agency_facilities(user, regulator: Regulator):
    """The facilities of the agency's facility list (``FacilityListView``)."""
    return Facility.objects.for_user(user, "view").in_jurisdiction(regulator)


def agency_violations(user, regulator: Regulator):
    """The violations of the inspections on the agency's CME list (``InspectionListView``)."""
    return Violation.objects.for_user(user, "view").in_jurisdiction(regulator)


def violations_past_rtc(user, regulator: Regulator, today: datetime.date):
    """Open violations whose scheduled return to compliance is before ``today``: no actual
    return-to-compliance date recorded yet."""
    return agency_violations(user, regulator).filter(
        scheduled_rtc_on__lt=today, return_to_compliance_on__isnull=True
    )


# --- chart 1: submittals by status per month (stacked bars, SVG) --------------------------

CHART_MONTHS = 12
# One colour per status a submitted element can have (drafts are never a regulator's).
STATUS_COLOURS = {
    ElementStatus.SUBMITTED: "#4f7cac",
    ElementStatus.UNDER_REVIEW: "#e0a526",
    ElementStatus.ACCEPTED: "#2e8b57",
    ElementStatus.NOT_ACCEPTED: "#c0392b",
    ElementStatus.NOT_APPLICABLE: "#9aa5b1",
}
# The drawing, in SVG user units.
PLOT_LEFT, PLOT_TOP, PLOT_HEIGHT = 36, 12, 160
BAR_WIDTH, BAR_GAP = 40, 14
LABEL_Y = PLOT_TOP + PLOT_HEIGHT + 18


@dataclass(frozen=True)
class Segment:
    """One status's share of a month's bar."""

    label: str
    count: int
    colour: str
    y: float
    height: float


@dataclass(frozen=True)
class MonthBar:
    """One month's stacked bar, with its segments bottom to top."""

    month: datetime.date
    label: str
    total: int
    x: int
    label_x: int
    top_y: float  # where the stack ends, for the total written above it
    segments: list[Segment]


@dataclass(frozen=True)
class StatusChart:
    """Submitted elements by month submitted and by their status now."""

    bars: list[MonthBar]
    legend: list[tuple[str, str]]  # (label, colour)
    max_total: int
    total: int
    width: int
    height: int
    axis_y: int
    label_y: int
    plot_left: int
    plot_top: int
    bar_width: int


def months_back(today: datetime.date, count: int) -> list[datetime.date]:
    """The first day of the ``count`` months ending with ``today``'s, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(datetime.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def counts_by_month_and_status(elements, months: list[datetime.date]) -> dict:
    """How many of ``elements`` were submitted in each of ``months`` (first days, oldest
    first), by their status now: ``{(month, status): count}``. One query."""
    start = timezone.make_aware(datetime.datetime.combine(months[0], datetime.time.min))
    rows = (
        elements.filter(submitted_at__gte=start)
        .annotate(month=TruncMonth("submitted_at"))
        .order_by()
        .values("month", "status")
        .annotate(n=Count("pk"))
    )
    counts: dict[tuple[datetime.date, int], int] = {}
    for row in rows:
        key = (timezone.localtime(row["month"]).date(), row["status"])
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def submittals_by_status(elements, today: datetime.date) -> StatusChart:
    """Chart ``elements`` (submitted ones) over the last 12 months, ``today``'s included:
    per month submitted, how many are in each status now. One query."""
    months = months_back(today, CHART_MONTHS)
    counts = counts_by_month_and_status(elements, months)
    totals = [sum(counts.get((m, s), 0) for s in STATUS_COLOURS) for m in months]
    max_total = max(totals) or 1
    scale = PLOT_HEIGHT / max_total
    axis_y = PLOT_TOP + PLOT_HEIGHT
    bars = []
    for i, (month, total) in enumerate(zip(months, totals, strict=True)):
        x = PLOT_LEFT + BAR_GAP + i * (BAR_WIDTH + BAR_GAP)
        segments, stacked = [], 0.0
        for status, colour in STATUS_COLOURS.items():
            count = counts.get((month, status), 0)
            if not count:
                continue
            height = count * scale
            stacked += height
            segments.append(
                Segment(
                    ElementStatus(status).label,
                    count,
                    colour,
                    round(axis_y - stacked, 2),
                    round(height, 2),
                )
            )
        bars.append(
            MonthBar(
                month=month,
                label=month.strftime("%b %y"),
                total=total,
                x=x,
                label_x=x + BAR_WIDTH // 2,
                top_y=round(axis_y - stacked, 2),
                segments=segments,
            )
        )
    return StatusChart(
        bars=bars,
        legend=[(ElementStatus(s).label, c) for s, c in STATUS_COLOURS.items()],
        max_total=max(totals),
        total=sum(totals),
        width=PLOT_LEFT + BAR_GAP + CHART_MONTHS * (BAR_WIDTH + BAR_GAP),
        height=LABEL_Y + 8,
        axis_y=axis_y,
        label_y=LABEL_Y,
        plot_left=PLOT_LEFT,
        plot_top=PLOT_TOP,
        bar_width=BAR_WIDTH,
    )


# --- chart 2: open violations by program element (HTML bars) -------------------------------


@dataclass(frozen=True)
class ElementBar:
    """Open violations of one program element; ``percent`` of the largest bar's length."""

    code: str
    label: str
    count: int
    percent: int


def open_violations_by_program_element(violations) -> list[ElementBar]:
    """Open violations (no actual return-to-compliance date) per inspected program element
    (field 905), largest first; program elements without any are left out. One query."""
    rows = (
        violations.filter(return_to_compliance_on__isnull=True)
        .order_by()
        .values("inspection__program_element")
        .annotate(n=Count("pk"))
    )
    counts = {row["inspection__program_element"]: row["n"] for row in rows}
    largest = max(counts.values(), default=1)
    bars = [
        ElementBar(code, ProgramElement(code).label, n, round(100 * n / largest))
        for code, n in counts.items()
    ]
    return sorted(bars, key=lambda bar: (-bar.count, bar.code))


def dashboard_context(user, regulator: Regulator) -> dict:
    """Everything the home page's dashboard shows: three counts and two charts."""
    today = timezone.localdate()
    violations = agency_violations(user, regulator)
    return {
        "awaiting_review_count": awaiting_review(user, regulator).count(),
        "overdue_facility_count": agency_facilities(user, regulator).overdue().count(),
        "past_rtc_count": violations_past_rtc(user, regulator, today).count(),
        "status_chart": submittals_by_status(agency_elements(user, regulator), today),
        "violation_bars": open_violations_by_program_element(violations),
    }


class ViolationsPastRTCView(RegulatorPortalMixin, TemplateView):
    """The agency's open violations past their scheduled return to compliance, the longest
    overdue first (the dashboard's third action item)."""

    template_name = "portal/violations_past_rtc.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        violations = (
            violations_past_rtc(self.request.user, self.regulator, today)
            .select_related("inspection__facility", "violation_type")
            .order_by("scheduled_rtc_on", "pk")
        )
        return super().get_context_data(
            regulator=self.regulator,
            page=paginate(self.request, violations),
            today=today,
            **kwargs,
        )
