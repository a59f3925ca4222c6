"""Who sees which EDT access records.

An agency's EDT records are visible to its administrators and EDT administrators; the state
administrator (an administrator or EDT administrator of the state agency) sees every agency's.
"""

from __future__ import annotations

from django.db import models

from core.scoping import regulators_with


def edt_agencies(user) -> models.QuerySet:
    """The agencies whose EDT access ``user`` may see and manage."""
    from regulators.models import Regulator

    if is_state_administrator(user):
        return Regulator.objects.all()
    own = regulators_with(user, "manage_staff") | regulators_with(user, "edt")
    return Regulator.objects.filter(pk__in=own.values("pk"))


def is_state_administrator(user) -> bool:
    """Administrators and EDT administrators of the state agency decide on EDT access."""
    from regulators.models import Regulator

    return (
        (regulators_with(user, "manage_staff") | regulators_with(user, "edt"))
        .filter(kind=Regulator.Kind.STATE)
        .exists()
    )


class AccessRequestQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        return self.filter(regulator__in=edt_agencies(user))


class TierGrantQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        return self.filter(regulator__in=edt_agencies(user))

    def approved(self):
        return self.filter(status="approved")


class EdtAccountQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        return self.filter(regulator__in=edt_agencies(user))


class EdtTransactionQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        return self.filter(regulator__in=edt_agencies(user))
