"""Every write to regulator agencies and their staff: one transaction and one audit event each."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from core.services import record_event

from .models import Regulator, StaffMembership
from .roles import ALL_PERMISSIONS, MANAGE_STAFF, STAFF_ROLE_PERMISSIONS, StaffRole


def _grant_role(user, regulator: Regulator, role: str) -> None:
    wanted = STAFF_ROLE_PERMISSIONS[role]
    for codename in ALL_PERMISSIONS - wanted:
        remove_perm(f"regulators.{codename}", user, regulator)
    for codename in wanted:
        assign_perm(f"regulators.{codename}", user, regulator)


def _require_staff_admin(actor, regulator: Regulator) -> None:
    """``actor`` None is the system itself (management commands, demo data)."""
    if actor is not None and not actor.has_perm(f"regulators.{MANAGE_STAFF}", regulator):
        raise PermissionDenied("Only the agency's administrators manage its staff.")


@transaction.atomic(durable=True)
def create_regulator(
    *, actor, code: str, name: str, kind: str, county: str = "", parent: Regulator | None = None
) -> Regulator:
    """Register a regulator agency."""
    if kind == Regulator.Kind.PA and parent is None:
        raise ValidationError({"parent": "A Participating Agency works under a CUPA."})
    regulator = Regulator(code=code, name=name, kind=kind, county=county, parent=parent)
    regulator.full_clean()
    regulator.save()
    record_event(
        actor,
        "regulator.created",
        regulator,
        after={"code": code, "name": name, "kind": kind},
        regulator=regulator,
    )
    return regulator


@transaction.atomic(durable=True)
def set_staff_role(*, actor, regulator: Regulator, user, role: str) -> StaffMembership:
    """Add ``user`` to the agency's staff with ``role``, or change their role."""
    if role not in StaffRole.values:
        raise ValidationError({"role": "Choose one of the staff roles."})
    if user.is_service_account:
        raise ValidationError({"user": "An EDT service account cannot be agency staff."})
    _require_staff_admin(actor, regulator)
    membership = (
        StaffMembership.objects.select_for_update().filter(regulator=regulator, user=user).first()
    )
    before = membership.role if membership else None
    if membership is None:
        membership = StaffMembership.objects.create(regulator=regulator, user=user, role=role)
    elif before != role:
        membership.role = role
        membership.save(update_fields=["role"])
    _grant_role(user, regulator, role)
    record_event(
        actor,
        "regulator.staff_role_set",
        membership,
        before={"role": before},
        after={"user": user.email, "role": role},
        regulator=regulator,
    )
    return membership


@transaction.atomic(durable=True)
def remove_staff(*, actor, membership: StaffMembership) -> None:
    """Take a user off the agency's staff, with all their permissions on it."""
    regulator = membership.regulator
    _require_staff_admin(actor, regulator)
    for codename in ALL_PERMISSIONS:
        remove_perm(f"regulators.{codename}", membership.user, regulator)
    record_event(
        actor,
        "regulator.staff_removed",
        membership,
        before={"user": membership.user.email, "role": membership.role},
        regulator=regulator,
    )
    membership.delete()
