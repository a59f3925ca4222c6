"""Scoped querysets for organizations and memberships."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, Q

from core.scoping import organizations_with, regulators_with

from . import hooks


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Organizations ``user`` may act on: through a membership whose role grants
        ``action``, or, for regulator staff, by regulating one of the organization's
        facilities (statewide for the state agency)."""
        from regulators.models import Regulator

        condition = Q(pk__in=organizations_with(user, action).values("pk"))
        agencies = regulators_with(user, action)
        for regulated_by in hooks.regulated_by:  # the facilities' jurisdiction
            condition |= regulated_by(agencies)
        condition |= Q(Exists(agencies.filter(kind=Regulator.Kind.STATE)))
        return self.filter(condition)


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
