"""Scoped querysets for regulator agencies and their staff, and the rules every regulator
scope is built from: which agencies a user acts through, what the state agency sees, and who
the state administrator is."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, Q

from core.scoping import objects_with_permission

from .roles import ACTION_PERMISSIONS, EDT, STATE_ADMINISTRATOR_PERMISSION


def regulators_with(user, action: str) -> models.QuerySet:
    """Regulator agencies on which the user holds the staff permission for ``action``.

    An action that means nothing to regulator staff gives an empty queryset.
    """
    from .models import Regulator

    codename = ACTION_PERMISSIONS.get(action)
    if codename is None:
        return Regulator.objects.none()
    return objects_with_permission(user, f"regulators.{codename}", Regulator.objects.all())


def statewide(agencies) -> Q:
    """The state agency sees everything: a condition that holds for every row when one of
    ``agencies`` (the agencies a user acts through) is the state agency. Every ``for_user``
    that follows an agency's jurisdiction ORs it in, so the rule is written once."""
    return Q(Exists(agencies.statewide()))


def state_agencies_administered(user) -> models.QuerySet:
    """The state agencies at which ``user`` is an administrator (one query when read)."""
    from .models import Regulator

    return objects_with_permission(
        user, f"regulators.{STATE_ADMINISTRATOR_PERMISSION}", Regulator.objects.statewide()
    )


def is_state_administrator(user) -> bool:
    """Whether ``user`` is the state administrator: an administrator of the state agency.

    The one definition: the largest organizations, organization merges and the libraries are
    theirs. An EDT service account, an inactive or anonymous user never is.
    """
    return state_agencies_administered(user).exists()


def is_state_edt_administrator(user) -> bool:
    """Whether ``user`` decides on EDT access statewide: the state administrator, or the
    state agency's EDT administrator (whose role exists for exactly these decisions).
    One query."""
    from .models import Regulator

    return (
        state_agencies_administered(user)
        | objects_with_permission(user, f"regulators.{EDT}", Regulator.objects.statewide())
    ).exists()


class RegulatorQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Agencies on which ``user`` holds the staff permission for ``action``."""
        return self.filter(pk__in=regulators_with(user, action).values("pk"))

    def statewide(self):
        """The state agency (Cal/EPA), whose jurisdiction is the whole state."""
        from .models import Regulator

        return self.filter(kind=Regulator.Kind.STATE)


class StaffMembershipQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Staff memberships of the agencies ``user`` may act on with ``action``."""
        return self.filter(regulator__in=regulators_with(user, action))

    def in_jurisdiction(self, regulator):
        """The agency's own staff: every agency, the state agency included, sees only its
        own staff here."""
        return self.filter(regulator=regulator)


class StaffInvitationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Staff invitations ``user`` may act on: ``"answer"``, the pending invitations
        addressed to them (nobody else's); any other action, those of the agencies on which
        they hold its permission (``"manage_staff"`` to list and cancel them)."""
        if action == "answer":
            if not user.is_authenticated:
                return self.none()
            return self.pending().filter(user=user)
        return self.filter(regulator__in=regulators_with(user, action))

    def in_jurisdiction(self, regulator):
        """The agency's own invitations."""
        return self.filter(regulator=regulator)

    def pending(self):
        return self.filter(status="pending")
