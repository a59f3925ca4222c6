"""Scoped queryset of the agencies' dashboard summaries."""

from __future__ import annotations

from django.db import models

from regulators.querysets import regulators_with


class AgencySummaryQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """The summaries of the agencies on which ``user`` holds the staff permission for
        ``action``: an agency's counts are its own staff's (the state agency's summary
        counts the whole state)."""
        return self.filter(regulator__in=regulators_with(user, action))

    def in_jurisdiction(self, regulator):
        """The summary of ``regulator`` itself: no agency reads another's counts, the
        state agency included (its own summary already counts everything)."""
        return self.filter(regulator=regulator)
