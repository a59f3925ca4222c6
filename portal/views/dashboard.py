"""The regulator home page's dashboard: what needs the agency's action, and two charts.

The numbers are read from the agency's summary (``portal.models.AgencySummary``), counted for
every agency at once by ``portal.services.refresh_summaries`` every ``CERS_SUMMARY_SECONDS``:
one query, however large the jurisdiction, and the page says how old the counts are. Each
count is what the list it links to held then (the querysets' ``in_jurisdiction``); the lists
themselves are read live. The CME reporting deadline depends on the date alone
(``cme.deadlines``), so it is worked out on each view, on California's date, not counted.
The charts are drawn here, server-side, as inline SVG and plain HTML bars: no JavaScript and
no chart library.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.views.generic import TemplateView

from cme import deadlines
from cme.models import ProgramElement, Violation
from core.clock import california_today
from core.pagination import paginate
from core.views import AgencyScopedMixin
from portal.counts import CHART_MONTHS, months_back
from portal.models import AgencySummary
from portal.services import COUNT_FIELDS, month_key, refresh_summaries
from regulators.models import Regulator
from submittals.models import ElementStatus, SubmittalElementRecord

# --- the lists behind the counts -----------------------------------------------------------


def agency_elements(user, regulator: Regulator):
    """The submitted elements of the agency's review queue (``ReviewQueueView``)."""
    return SubmittalElementRecord.objects.for_user(user, "view").in_jurisdiction(regulator)


def agency_violations(user, regulator: Regulator):
    """The violations of the inspections on the agency's CME list (``InspectionListView``)."""
    return Violation.objects.for_user(user, "view").in_jurisdiction(regulator)


def past_rtc(violations, today: datetime.date):
    """Of ``violations``, the open ones whose scheduled return to compliance is before
    ``today``: no actual return-to-compliance date recorded yet."""
    return violations.filter(scheduled_rtc_on__lt=today, return_to_compliance_on__isnull=True)


def violations_past_rtc(user, regulator: Regulator, today: datetime.date):
    """The agency's open violations past their scheduled return to compliance."""
    return past_rtc(agency_violations(user, regulator), today)


# --- chart 1: submittals by status per month (stacked bars, SVG) --------------------------

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


def summary_counts_by_month(summary: AgencySummary | None, months) -> dict:
    """The summary's submitted elements as ``{(month, status): count}`` for ``months``."""
    stored = summary.submittals_by_month if summary else {}
    return {
        (month, int(status)): n
        for month in months
        for status, n in stored.get(month_key(month), {}).items()
    }


def submittals_by_status(counts: dict, months: list[datetime.date]) -> StatusChart:
    """Chart ``counts`` (``{(month, status): count}``) over ``months``, oldest first: per
    month submitted, how many are in each status now."""
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


def open_violations_by_program_element(counts: dict[str, int]) -> list[ElementBar]:
    """Open violations (no actual return-to-compliance date) per inspected program element
    (field 905, ``{code: count}``), largest first; program elements without any are left
    out."""
    counts = {code: n for code, n in counts.items() if n}
    largest = max(counts.values(), default=1)
    bars = [
        ElementBar(code, ProgramElement(code).label, n, round(100 * n / largest))
        for code, n in counts.items()
    ]
    return sorted(bars, key=lambda bar: (-bar.count, bar.code))


def current_summary(user, regulator: Regulator) -> AgencySummary | None:
    """The agency's summary (one query). Where tasks run within the request (no broker: the
    embedded default), no beat counts either, so a summary missing or older than
    ``CERS_SUMMARY_SECONDS`` is counted here, as beat would have."""
    rows = AgencySummary.objects.for_user(user, "view").in_jurisdiction(regulator)
    summary = rows.first()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        due = timezone.now() - datetime.timedelta(seconds=settings.SUMMARY_SECONDS)
        if summary is None or summary.counted_at < due:
            refresh_summaries()
            summary = rows.first()
    return summary


def dashboard_context(user, regulator: Regulator) -> dict:
    """Everything the home page's dashboard shows, from the agency's summary (one query):
    the jurisdiction's size, three action counts, two charts, and when they were counted;
    with the CME reporting deadline of today, which no count holds. An agency not counted
    yet (created since the last refresh) shows zeros and says so."""
    summary = current_summary(user, regulator)
    counted_on = timezone.localdate(summary.counted_at) if summary else timezone.localdate()
    months = months_back(counted_on, CHART_MONTHS)
    counts = {field: getattr(summary, field) if summary else 0 for field in COUNT_FIELDS}
    return {
        "summary": summary,
        "summary_minutes": max(1, round(settings.SUMMARY_SECONDS / 60)),
        "cme_quarter": deadlines.reporting_quarter(california_today()),
        **counts,
        "status_chart": submittals_by_status(summary_counts_by_month(summary, months), months),
        "violation_bars": open_violations_by_program_element(
            summary.open_violations_by_program_element if summary else {}
        ),
    }


class ViolationsPastRTCView(AgencyScopedMixin, TemplateView):
    """The agency's open violations past their scheduled return to compliance, the longest
    overdue first (the dashboard's third action item)."""

    template_name = "portal/violations_past_rtc.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        violations = (
            past_rtc(self.scoped(Violation), today)
            .select_related("inspection__facility", "violation_type")
            .order_by("scheduled_rtc_on", "pk")
        )
        return super().get_context_data(
            regulator=self.regulator,
            # past_rtc leaves no violation without its scheduled date: the list seeks by it.
            page=paginate(self.request, violations, not_null=("scheduled_rtc_on",)),
            today=today,
            **kwargs,
        )
