"""What the regulator's dashboard shows, counted ahead of time per agency.

Counting an agency's elements, facilities and violations on every view of its home page
scans its whole jurisdiction (seconds for a large CUPA or the state agency).
``services.refresh_summaries`` counts every agency at once, in a few grouped queries, and
writes one row per agency; the beat runs it every ``CERS_SUMMARY_SECONDS`` and the dashboard
reads the row and says how old it is. Counts that change with the date alone (overdue
Facility Information, violations past their return-to-compliance date) are as of
``counted_at``, like the rest.
"""

from __future__ import annotations

from django.db import models

from .querysets import AgencySummaryQuerySet


class AgencySummary(models.Model):
    """One agency's dashboard counts, as of ``counted_at``; each count is what the list it
    links to held then (the agency's ``in_jurisdiction`` rows)."""

    regulator = models.OneToOneField(
        "regulators.Regulator", on_delete=models.CASCADE, related_name="summary"
    )
    counted_at = models.DateTimeField()
    facility_count = models.PositiveIntegerField(default=0)
    organization_count = models.PositiveIntegerField(default=0)
    element_count = models.PositiveIntegerField(default=0)
    awaiting_review_count = models.PositiveIntegerField(default=0)
    overdue_facility_count = models.PositiveIntegerField(default=0)
    open_violation_count = models.PositiveIntegerField(default=0)
    past_rtc_count = models.PositiveIntegerField(default=0)
    # {"2026-05": {"1": 12, "3": 4}}: elements submitted in a month (local time) by their
    # status now, for the twelve months ending with counted_at's.
    submittals_by_month = models.JSONField(default=dict, blank=True)
    # {"a": 7}: open violations by the program element inspected (field 905).
    open_violations_by_program_element = models.JSONField(default=dict, blank=True)

    objects = AgencySummaryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "agency summaries"

    def __str__(self) -> str:
        return f"{self.regulator} as of {self.counted_at:%Y-%m-%d %H:%M}"
