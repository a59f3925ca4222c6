"""The submittal element status report of an agency: its submitted elements counted by
element and status, its overdue elements (next due date past, of an element the facility
must report: ``FacilityRegulatorQuerySet.count_required``, the status grid's rule) by element,
and its submittals by month over twelve months; on a page and as CSV or XLSX.

Each table is one grouped query, whatever the number of elements (the overdue table one more:
the Business Activities answers of the facilities whose overdue rows the answers decide).
Every count starts from the same ``for_user`` querysets as the lists it summarises (the review
queue, the facilities' element rows), narrowed to the agency the user works for now
(``in_jurisdiction``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.exports import Column, export_filename, export_links, export_response, requested_format
from core.views import RegulatorPortalMixin
from facilities.models import FacilityRegulator
from portal.counts import CHART_MONTHS, counts_by_month_and_status, months_back
from regulators.models import Regulator
from submittals.models import ElementStatus

from .dashboard import agency_elements

# The statuses a regulator sees (drafts are never theirs), in the order of the lifecycle.
REPORT_STATUSES = [status for status in ElementStatus if status != ElementStatus.DRAFT]


@dataclass(frozen=True)
class CountRow:
    """One row of a report table: its label and a count per column, with their total."""

    label: str
    counts: list[int]
    total: int


@dataclass(frozen=True)
class StatusReport:
    today: datetime.date
    statuses: list[str]  # column labels of the two status tables
    by_element: list[CountRow]
    by_element_total: CountRow
    overdue: list[CountRow]  # one count each: elements to report past their next due date
    overdue_total: int
    by_month: list[CountRow]
    by_month_total: CountRow


def _rows(keys_labels, counts: dict, columns: list) -> tuple[list[CountRow], CountRow]:
    rows = []
    for key, label in keys_labels:
        values = [counts.get((key, column), 0) for column in columns]
        rows.append(CountRow(label, values, sum(values)))
    totals = [sum(row.counts[i] for row in rows) for i in range(len(columns))]
    return rows, CountRow("Total", totals, sum(totals))


def status_report(user, regulator: Regulator, today: datetime.date) -> StatusReport:
    """The agency's report as of ``today``: three grouped queries and the answers the
    overdue table needs."""
    elements = agency_elements(user, regulator)
    statuses = [int(status) for status in REPORT_STATUSES]

    by_element = elements.order_by().values("element", "status").annotate(n=Count("pk"))
    counts = {(row["element"], row["status"]): row["n"] for row in by_element}
    element_rows, element_total = _rows(
        [(int(e), e.label) for e in SubmittalElement], counts, statuses
    )

    overdue = (
        FacilityRegulator.objects.for_user(user, "view")
        .in_jurisdiction(regulator)
        .overdue(today)
        .count_required()
    )
    overdue_counts = {(element, "overdue"): n for element, n in overdue.items()}
    overdue_rows, overdue_total = _rows(
        [(int(e), e.label) for e in SubmittalElement], overdue_counts, ["overdue"]
    )

    months = months_back(today, CHART_MONTHS)
    month_counts = counts_by_month_and_status(elements, months)
    month_rows, month_total = _rows(
        [(month, month.strftime("%B %Y")) for month in months], month_counts, statuses
    )

    return StatusReport(
        today=today,
        statuses=[status.label for status in REPORT_STATUSES],
        by_element=element_rows,
        by_element_total=element_total,
        overdue=overdue_rows,
        overdue_total=overdue_total.total,
        by_month=month_rows,
        by_month_total=month_total,
    )


class StatusReportView(RegulatorPortalMixin, TemplateView):
    """The agency's submittal element status report, with its downloads."""

    template_name = "portal/status_report.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            regulator=self.regulator,
            report=status_report(self.request.user, self.regulator, timezone.localdate()),
            export_links=export_links(reverse("regulator:status_report_export"), self.request.GET),
            **kwargs,
        )


# The download: one line per count, so a spreadsheet can pivot it as it likes.
REPORT_COLUMNS = [
    Column("Table", lambda line: line[0]),
    Column("Element", lambda line: line[1]),
    Column("Status", lambda line: line[2]),
    Column("Month", lambda line: line[3]),
    Column("Count", lambda line: line[4]),
]


def report_lines(report: StatusReport):
    """The report's counts as (table, element, status, month, count) lines, every cell
    included (zeros too), totals left to the spreadsheet."""
    for row in report.by_element:
        for status, count in zip(report.statuses, row.counts, strict=True):
            yield ("Elements by status", row.label, status, "", count)
    for row in report.overdue:
        yield (f"Past next due date on {report.today.isoformat()}", row.label, "", "", row.total)
    for row in report.by_month:
        for status, count in zip(report.statuses, row.counts, strict=True):
            yield ("Submitted by month (status now)", "", status, row.label, count)


class StatusReportExportView(RegulatorPortalMixin, View):
    """GET: the status report as CSV or XLSX (``?format=``)."""

    http_method_names = ["get"]

    def get(self, request):
        export_format = requested_format(request)
        report = status_report(request.user, self.regulator, timezone.localdate())
        return export_response(
            report_lines(report),
            REPORT_COLUMNS,
            format=export_format,
            filename=export_filename("element-status-report", self.regulator),
        )
