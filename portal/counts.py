"""The months the regulator's charts cover, and the one grouped query that counts an agency's
submitted elements by month and status (the status report asks it live; the dashboard reads
the same counts from its summary, ``portal.services.refresh_summaries``)."""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

CHART_MONTHS = 12


def months_back(today: datetime.date, count: int) -> list[datetime.date]:
    """The first day of the ``count`` months ending with ``today``'s, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(datetime.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def month_start(month: datetime.date) -> datetime.datetime:
    """The first moment of ``month`` (a first day), in local time."""
    return timezone.make_aware(datetime.datetime.combine(month, datetime.time.min))


def counts_by_month_and_status(elements, months: list[datetime.date]) -> dict:
    """How many of ``elements`` were submitted in each of ``months`` (first days, oldest
    first), by their status now: ``{(month, status): count}``. One query."""
    rows = (
        elements.filter(submitted_at__gte=month_start(months[0]))
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
