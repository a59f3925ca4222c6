"""Who sees which EDT access records.

An agency's EDT records are visible to its administrators and EDT administrators; whoever
decides on EDT access statewide (``regulators.querysets.is_state_edt_administrator``: the state
administrator or the state agency's EDT administrator) sees every agency's.
"""

from __future__ import annotations

from django.db import models

from regulators.querysets import agency_scope, is_state_edt_administrator


def _own_agency_pks(user) -> list[int] | None:
    """The primary keys of the agencies whose EDT access ``user`` may see and manage, from
    the request's grants; None for every agency."""
    if is_state_edt_administrator(user):
        return None
    own = set(agency_scope(user, "manage_staff").pks) | set(agency_scope(user, "edt").pks)
    return sorted(own)


def edt_agencies(user) -> models.QuerySet:
    """The agencies whose EDT access ``user`` may see and manage."""
    from regulators.models import Regulator

    pks = _own_agency_pks(user)
    if pks is None:
        return Regulator.objects.all()
    return Regulator.objects.filter(pk__in=pks) if pks else Regulator.objects.none()


class AgencyRecordQuerySet(models.QuerySet):
    """Records that belong to one agency (``regulator``)."""

    def for_user(self, user, action: str = "view"):
        """The records of the agencies whose EDT access ``user`` may see and manage."""
        pks = _own_agency_pks(user)
        if pks is None:
            return self.filter(regulator__isnull=False)
        return self.filter(regulator_id__in=pks) if pks else self.none()

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
