"""Scoped querysets for organizations and memberships."""

from __future__ import annotations

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from core.scoping import objects_with_permission
from regulators.querysets import regulators_with, statewide

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


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Organizations ``user`` may act on: through a membership whose role grants
        ``action``, or, for regulator staff, by regulating one of the organization's
        facilities (statewide for the state agency)."""
        from facilities.models import FacilityRegulator

        condition = Q(pk__in=organizations_with(user, action).values("pk"))
        agencies = regulators_with(user, action)
        condition |= Q(
            Exists(
                FacilityRegulator.objects.filter(
                    facility__organization=OuterRef("pk"), regulator__in=agencies
                )
            )
        )
        condition |= statewide(agencies)
        return self.filter(condition)

    def in_jurisdiction(self, regulator):
        """The organizations with at least one facility in ``regulator``'s jurisdiction;
        every organization for the state agency."""
        from facilities.models import FacilityRegulator

        if regulator.is_statewide:
            return self
        return self.filter(
            Exists(
                FacilityRegulator.objects.filter(
                    facility__organization=OuterRef("pk"), regulator=regulator
                )
            )
        )

    def with_jurisdiction_facility_count(self, regulator):
        """Annotate ``facility_count``: the organization's facilities in ``regulator``'s
        jurisdiction, as one subquery in the list's own query."""
        from facilities.models import Facility

        counts = (
            Facility.objects.filter(organization=OuterRef("pk"))
            .in_jurisdiction(regulator)
            .order_by()
            .values("organization")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(facility_count=Coalesce(Subquery(counts), 0))


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
