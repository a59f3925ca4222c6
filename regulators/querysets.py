"""Scoped querysets for regulator agencies and their staff, and the rules every regulator
scope is built from: which agencies a user acts through, what the state agency sees, and who
the state administrator is."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from core.scoping import grants

from .roles import ACTION_PERMISSIONS, EDT, STATE_ADMINISTRATOR_PERMISSION


@dataclass(frozen=True)
class AgencyScope:
    """The agencies a user acts through for one action: their primary keys, and whether one
    of them is the state agency, whose jurisdiction is the whole state."""

    pks: tuple[int, ...] = ()
    statewide: bool = False

    def __bool__(self) -> bool:
        return bool(self.pks)


def _regulator_model():
    from .models import Regulator

    return Regulator


def agency_scope(user, action: str) -> AgencyScope:
    """The agencies on which ``user`` holds the staff permission for ``action``, from the
    request's grants (``core.scoping.grants``: one query per request). An action that means
    nothing to regulator staff gives no agency."""
    codename = ACTION_PERMISSIONS.get(action)
    if codename is None:
        return AgencyScope()
    held = grants(user)
    Regulator = _regulator_model()
    return AgencyScope(
        pks=held.pks(Regulator, codename), statewide=bool(held.flagged(Regulator, codename))
    )


def acts_for_agency(user, action: str, regulator) -> bool:
    """Whether ``user`` holds the staff permission for ``action`` at ``regulator`` (from the
    request's grants, no query of its own once they are read)."""
    return regulator.pk in agency_scope(user, action).pks


def regulators_with(user, action: str) -> models.QuerySet:
    """Regulator agencies on which the user holds the staff permission for ``action``, as a
    queryset filtered by their primary keys (none, without a query, when there are none)."""
    pks = agency_scope(user, action).pks
    Regulator = _regulator_model()
    return Regulator.objects.filter(pk__in=pks) if pks else Regulator.objects.none()


def state_agencies_administered(user) -> models.QuerySet:
    """The state agencies at which ``user`` is an administrator (one query when read; none
    when the request's grants say there are none)."""
    Regulator = _regulator_model()
    pks = grants(user).flagged(Regulator, STATE_ADMINISTRATOR_PERMISSION)
    return Regulator.objects.filter(pk__in=pks) if pks else Regulator.objects.none()


def is_state_administrator(user) -> bool:
    """Whether ``user`` is the state administrator: an administrator of the state agency.

    The one definition: the largest organizations, organization merges and the libraries are
    theirs. An EDT service account, an inactive or anonymous user never is. Answered from the
    request's grants.
    """
    return bool(grants(user).flagged(_regulator_model(), STATE_ADMINISTRATOR_PERMISSION))


def is_state_edt_administrator(user) -> bool:
    """Whether ``user`` decides on EDT access statewide: the state administrator, or the
    state agency's EDT administrator (whose role exists for exactly these decisions).
    Answered from the request's grants."""
    held = grants(user)
    Regulator = _regulator_model()
    return bool(
        held.flagged(Regulator, STATE_ADMINISTRATOR_PERMISSION) or held.flagged(Regulator, EDT)
    )


class RegulatorQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Agencies on which ``user`` holds the staff permission for ``action``."""
        return self.filter(pk__in=agency_scope(user, action).pks)

    def serving(self, zip_code: str):
        """The agencies with a service area at ``zip_code`` (for any element), and the state
        agency, whose area is the whole state."""
        from .models import Regulator

        return self.filter(
            models.Q(areas__zip_code=zip_code) | models.Q(kind=Regulator.Kind.STATE)
        ).distinct()

    def statewide(self):
        """The state agency (Cal/EPA), whose jurisdiction is the whole state."""
        from .models import Regulator

        return self.filter(kind=Regulator.Kind.STATE)


class StaffMembershipQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Staff memberships of the agencies ``user`` may act on with ``action``."""
        return self.filter(regulator_id__in=agency_scope(user, action).pks)

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
        return self.filter(regulator_id__in=agency_scope(user, action).pks)

    def in_jurisdiction(self, regulator):
        """The agency's own invitations."""
        return self.filter(regulator=regulator)

    def pending(self):
        return self.filter(status="pending")


class StaffAccessRequestQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "manage_staff"):
        """Requests to join an agency's staff that ``user`` may act on: ``"mine"``, their own
        (nobody else's); any other action, those of the agencies on which they hold its
        permission (``"manage_staff"`` to list and decide them)."""
        if action == "mine":
            if not user.is_authenticated:
                return self.none()
            return self.filter(user=user)
        return self.filter(regulator_id__in=agency_scope(user, action).pks)

    def in_jurisdiction(self, regulator):
        """The agency's own requests: every agency, the state agency included, decides only
        who joins its own staff."""
        return self.filter(regulator=regulator)

    def pending(self):
        return self.filter(status="pending")

    def decided(self):
        """Approved or declined: what the agency acted on (a withdrawn one it never did)."""
        return self.filter(status__in=("approved", "declined"))
