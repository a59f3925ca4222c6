"""Who may manage an agency's staff (``core.access``).

Staff roles act per agency, through django-guardian object permissions (``regulators.roles``):
the agency's administrators add staff, change their roles and remove them
(``regulators.manage_staff``), which includes deciding the requests people make to join it;
anyone signed in asks to join (``regulators.request_staff_access``) and withdraws their own
request (``regulators.withdraw_staff_request``). ``actor`` None is the system itself
(management commands, the demo data), which may manage staff.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from core.access import rule

from .models import Regulator, StaffAccessRequest
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


@rule("regulators.request_staff_access", Regulator)
def may_request_staff_access(actor, regulator: Regulator) -> bool:
    """Ask to join an agency's staff (``StaffAccessRequest``): any active person signed in
    with their own account; never an EDT service account, which has no portal. The agency's
    administrators decide (``regulators.manage_staff``)."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied("Sign in with your own CERS account to ask to join a staff.")
    if actor.is_service_account:
        raise PermissionDenied("An EDT service account cannot be agency staff.")
    return True


@rule("regulators.withdraw_staff_request", StaffAccessRequest)
def may_withdraw_staff_request(actor, staff_request: StaffAccessRequest) -> bool:
    """Withdraw a request to join a staff: the person who asked, only."""
    if actor is None or staff_request.user_id != getattr(actor, "pk", None):
        raise PermissionDenied("Only the person who asked withdraws a request to join a staff.")
    return True
