"""When an agency's CME data are due to CERS: the one home of the reporting deadline.

A CUPA's (and its PAs') inspections, violations and enforcement actions of each quarter of the
state's fiscal year (July to June) are due within 30 days after the quarter ends: July to
September by 30 October, October to December by 30 January, January to March by 30 April,
April to June by 30 July. On any day the quarter being reported is the one whose due date
comes next: the quarter just ended, up to and including its due date, then the quarter in
progress. The dates are California's, whatever the server's clock says.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

# Days after a quarter's last day by which its CME data are due.
DAYS_TO_REPORT = 30
# The fiscal year starts in July: its first quarter is July to September.
FISCAL_YEAR_START_MONTH = 7


@dataclass(frozen=True)
class ReportingQuarter:
    """A quarter of the fiscal year whose CME data are due, as seen on ``today``."""

    fiscal_year: int  # the year the fiscal year starts in: 2025 for July 2025 to June 2026
    number: int  # 1 (July to September) to 4 (April to June)
    start: datetime.date
    end: datetime.date
    due: datetime.date
    today: datetime.date

    @property
    def fiscal_year_label(self) -> str:
        """``2025-26``, as the state writes its fiscal years."""
        return f"{self.fiscal_year}-{(self.fiscal_year + 1) % 100:02d}"

    @property
    def months_label(self) -> str:
        """``October to December 2025``: the quarter's months, as an e-mail's subject names
        them."""
        return f"{self.start:%B} to {self.end:%B %Y}"

    @property
    def days_left(self) -> int:
        """Whole days from ``today`` to the due date; 0 on the due date itself."""
        return (self.due - self.today).days

    @property
    def due_today(self) -> bool:
        return self.days_left == 0

    @property
    def in_progress(self) -> bool:
        """Whether the quarter has not ended yet (its records may still be added to)."""
        return self.today <= self.end


def _quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _quarter(start: datetime.date, today: datetime.date) -> ReportingQuarter:
    next_start = (
        datetime.date(start.year + 1, 1, 1)
        if start.month == 10
        else datetime.date(start.year, start.month + 3, 1)
    )
    end = next_start - datetime.timedelta(days=1)
    months_into_year = (start.month - FISCAL_YEAR_START_MONTH) % 12
    return ReportingQuarter(
        fiscal_year=start.year if start.month >= FISCAL_YEAR_START_MONTH else start.year - 1,
        number=months_into_year // 3 + 1,
        start=start,
        end=end,
        due=end + datetime.timedelta(days=DAYS_TO_REPORT),
        today=today,
    )


def reporting_quarter(today: datetime.date) -> ReportingQuarter:
    """The quarter whose CME data are due next on ``today`` (a California date,
    ``core.clock.california_today``): the last quarter ended while its due date is today or
    ahead, else the quarter in progress."""
    current = _quarter_start(today)
    last = _quarter(_quarter_start(current - datetime.timedelta(days=1)), today)
    return last if today <= last.due else _quarter(current, today)
