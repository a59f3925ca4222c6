"""Scoped querysets for organizations and memberships."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.scoping import grants
from regulators.querysets import agency_scope

from . import hooks
from .roles import ACTION_PERMISSIONS


def organization_ids(user, action: str) -> tuple[int, ...]:
    """The primary keys of the organizations on which ``user`` holds the business permission
    for ``action``, from the request's grants (``core.scoping.grants``: one query per
    request). An action that has no business meaning gives none."""
    from .models import Organization

    codename = ACTION_PERMISSIONS.get(action)
    if codename is None:
        return ()
    return grants(user).pks(Organization, codename)


def organizations_with(user, action: str) -> models.QuerySet:
    """Organizations on which the user holds the business permission for ``action``, as a
    queryset filtered by their primary keys (none, without a query, when there are none)."""
    from .models import Organization

    pks = organization_ids(user, action)
    return Organization.objects.filter(pk__in=pks) if pks else Organization.objects.none()


def regulated_by(agency_pks) -> Q:
    """The organizations the agencies ``agency_pks`` regulate something of, as one condition:
    what the apps above register into ``hooks.regulated_by`` (facilities: their
    jurisdiction)."""
    condition = Q(pk__in=[])
    for condition_of in hooks.regulated_by:
        condition |= condition_of(agency_pks)
    return condition


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Organizations ``user`` may act on: through a membership whose role grants
        ``action``, or, for regulator staff, by regulating one of the organization's
        facilities (every organization for the state agency)."""
        agencies = agency_scope(user, action)
        if agencies.statewide:
            return self.all()
        own = organization_ids(user, action)
        if not own and not agencies:
            return self.none()
        condition = Q(pk__in=[])
        if own:
            condition |= Q(pk__in=own)
        if agencies:
            condition |= regulated_by(agencies.pks)  # the facilities' jurisdiction
        return self.filter(condition)

    def in_jurisdiction(self, regulator):
        """The organizations with at least one facility in ``regulator``'s jurisdiction;
        every organization for the state agency."""
        if regulator.is_statewide:
            return self
        return self.filter(regulated_by([regulator.pk]))


class MembershipQuerySet(models.QuerySet):
    # The organizations of an agency's jurisdiction are in the scope of anyone acting for it
    # (``OrganizationQuerySet.for_user``: those it regulates something of), so their people
    # are too (core.views.AgencyScopedMixin.scoped; tests/cme/test_jurisdiction_scope.py).
    jurisdiction_within_agency_scope = True

    def for_user(self, user, action: str = "view"):
        """Memberships of the organizations ``user`` may act on with ``action``."""
        return self.filter(organization__in=_organizations_for(user, action))

    def in_jurisdiction(self, regulator):
        """The people of the organizations in ``regulator``'s jurisdiction
        (``OrganizationQuerySet.in_jurisdiction``); everyone's for the state agency."""
        from .models import Organization

        if regulator.is_statewide:
            return self
        return self.filter(
            organization__in=Organization.objects.filter(regulated_by([regulator.pk])).values("pk")
        )


class InvitationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Invitations of the organizations ``user`` may act on with ``action``."""
        return self.filter(organization__in=_organizations_for(user, action))


class JoinRequestQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "manage_users"):
        """Requests to join the organizations ``user`` may act on with ``action``."""
        return self.filter(organization__in=_organizations_for(user, action))


def _organizations_for(user, action: str):
    """The organizations ``user`` may act on with ``action``, for a filter on their rows: a
    plain list of primary keys when the user acts through organizations only, else the
    scoped queryset as a sub-query (every organization for the state agency)."""
    from .models import Organization

    if not agency_scope(user, action):
        return list(organization_ids(user, action))
    return Organization.objects.for_user(user, action).values("pk")
