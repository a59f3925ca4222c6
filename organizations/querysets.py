"""Scoped querysets for organizations and memberships."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.scoping import objects_with_permission
from regulators.querysets import regulators_with, statewide

from . import hooks
from .roles import ACTION_PERMISSIONS


def organizations_with(user, action: str) -> models.QuerySet:
    """Organizations on which the user holds the business permission for ``action``.

    An action that has no business meaning gives an empty queryset.
    """
    from .models import Organization

    codename = ACTION_PERMISSIONS.get(action)
    if codename is None:
        return Organization.objects.none()
    return objects_with_permission(user, f"organizations.{codename}", Organization.objects.all())


def regulated_by(agencies) -> Q:
    """The organizations ``agencies`` regulate something of, as one condition: what the apps
    above register into ``hooks.regulated_by`` (facilities: their jurisdiction)."""
    condition = Q(pk__in=[])
    for condition_of in hooks.regulated_by:
        condition |= condition_of(agencies)
    return condition


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Organizations ``user`` may act on: through a membership whose role grants
        ``action``, or, for regulator staff, by regulating one of the organization's
        facilities (statewide for the state agency)."""
        condition = Q(pk__in=organizations_with(user, action).values("pk"))
        agencies = regulators_with(user, action)
        condition |= regulated_by(agencies)  # the facilities' jurisdiction
        condition |= statewide(agencies)
        return self.filter(condition)

    def in_jurisdiction(self, regulator):
        """The organizations with at least one facility in ``regulator``'s jurisdiction;
        every organization for the state agency."""
        from regulators.models import Regulator

        if regulator.is_statewide:
            return self
        return self.filter(regulated_by(Regulator.objects.filter(pk=regulator.pk)))


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Memberships of the organizations ``user`` may act on with ``action``."""
        from .models import Organization

        return self.filter(organization__in=Organization.objects.for_user(user, action))


class InvitationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Invitations of the organizations ``user`` may act on with ``action``."""
        from .models import Organization

        return self.filter(organization__in=Organization.objects.for_user(user, action))


class JoinRequestQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "manage_users"):
        """Requests to join the organizations ``user`` may act on with ``action``."""
        from .models import Organization

        return self.filter(organization__in=Organization.objects.for_user(user, action))
