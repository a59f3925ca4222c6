"""Who may manage an agency's staff (``core.access``).

Staff roles act per agency, through django-guardian object permissions (``regulators.roles``):
the agency's administrators add staff, change their roles and remove them
(``regulators.manage_staff``). ``actor`` None is the system itself (management commands, the
demo data), which may.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from core.access import rule

from .models import Regulator
from .roles import MANAGE_STAFF


@rule("regulators.manage_staff", Regulator)
def may_manage_staff(actor, regulator: Regulator) -> bool:
    """Add, change and remove the agency's staff: its administrators."""
    if actor is not None and not actor.has_perm(f"regulators.{MANAGE_STAFF}", regulator):
        raise PermissionDenied("Only the agency's administrators manage its staff.")
    return True


@rule("regulators.set_reminders", Regulator)
def may_set_reminders(actor, regulator: Regulator) -> bool:
    """Choose when the businesses are reminded of the due dates of the elements the agency
    handles (``Regulator.reminder_days``): its administrators."""
    if actor is not None and not actor.has_perm(f"regulators.{MANAGE_STAFF}", regulator):
        raise PermissionDenied("Only the agency's administrators choose its reminder days.")
    return True


@rule("regulators.set_contact", Regulator)
def may_set_contact(actor, regulator: Regulator) -> bool:
    """Keep the agency's public contact (e-mail, phone, web site) of the regulator directory:
    its administrators."""
    if actor is not None and not actor.has_perm(f"regulators.{MANAGE_STAFF}", regulator):
        raise PermissionDenied("Only the agency's administrators change its public contact.")
    return True


@rule("regulators.set_local_requirements", Regulator)
def may_set_local_requirements(actor, regulator: Regulator) -> bool:
    """Write the local requirements businesses read for the elements the agency handles
    (``LocalRequirement``): its administrators."""
    if actor is not None and not actor.has_perm(f"regulators.{MANAGE_STAFF}", regulator):
        raise PermissionDenied("Only the agency's administrators write its local requirements.")
    return True
