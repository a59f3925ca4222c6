"""Who sees which EDT access records.

An agency's EDT records are visible to its administrators and EDT administrators; whoever
decides on EDT access statewide (``regulators.querysets.is_state_edt_administrator``: the state
administrator or the state agency's EDT administrator) sees every agency's.
"""

from __future__ import annotations

from django.db import models

from regulators.querysets import is_state_edt_administrator, regulators_with


def edt_agencies(user) -> models.QuerySet:
    """The agencies whose EDT access ``user`` may see and manage."""
    from regulators.models import Regulator

    if is_state_edt_administrator(user):
        return Regulator.objects.all()
    own = regulators_with(user, "manage_staff") | regulators_with(user, "edt")
    return Regulator.objects.filter(pk__in=own.values("pk"))


class AgencyRecordQuerySet(models.QuerySet):
    """Records that belong to one agency (``regulator``)."""

    def for_user(self, user, action: str = "view"):
        """The records of the agencies whose EDT access ``user`` may see and manage."""
        return self.filter(regulator__in=edt_agencies(user))

    def in_jurisdiction(self, regulator):
        """The records of ``regulator``; every agency's for the state agency, which decides
        on everyone's EDT access."""
        if regulator.is_statewide:
            return self
        return self.filter(regulator=regulator)


class AccessRequestQuerySet(AgencyRecordQuerySet):
    pass


class TierGrantQuerySet(AgencyRecordQuerySet):
    def approved(self):
        return self.filter(status="approved")


class EdtAccountQuerySet(AgencyRecordQuerySet):
    pass


class EdtTransactionQuerySet(AgencyRecordQuerySet):
    pass
