"""Every write to regulator agencies and their staff: one transaction and one audit event each."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.access import require
from core.elements import SubmittalElement
from core.services import queue_email, record_event, set_object_permissions

from .models import (
    LOCAL_REQUIREMENT_MAX_LENGTH,
    STAFF_REQUEST_MESSAGE_MAX_LENGTH,
    LocalRequirement,
    Regulator,
    StaffAccessRequest,
    StaffInvitation,
    StaffMembership,
    validate_reminder_days,
)
from .roles import ALL_PERMISSIONS, STAFF_ROLE_PERMISSIONS, StaffRole


def _grant_role(user, regulator: Regulator, role: str) -> None:
    """Make the user's object permissions on ``regulator`` exactly those of ``role``."""
    set_object_permissions(user, regulator, STAFF_ROLE_PERMISSIONS[role], ALL_PERMISSIONS)


def _require_staff_admin(actor, regulator: Regulator) -> None:
    """``actor`` None is the system itself (management commands, demo data), which the rule
    (``regulators.rules``) lets through."""
    require(actor, "regulators.manage_staff", regulator)


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


def _lock(regulator: Regulator) -> Regulator:
    """Lock the agency's row: staff changes of one agency run one at a time, so two
    administrators demoting each other cannot leave it without one."""
    return Regulator.objects.select_for_update().get(pk=regulator.pk)


def _administrator_count(regulator: Regulator) -> int:
    return StaffMembership.objects.filter(regulator=regulator, role=StaffRole.ADMINISTRATOR).count()


LAST_ADMINISTRATOR = (
    "This is the agency's only administrator. Make another staff member an administrator first."
)


def _refuse_losing_last_administrator(membership: StaffMembership, regulator: Regulator) -> None:
    """An agency always keeps at least one administrator to manage its staff."""
    if membership.role == StaffRole.ADMINISTRATOR and _administrator_count(regulator) == 1:
        raise ValidationError(LAST_ADMINISTRATOR)


def _check_new_staff(actor, regulator: Regulator, user, role: str) -> None:
    """The courtesy checks before the agency's lock; the rule is asked again under it
    (``_lock_as_admin``)."""
    if role not in StaffRole.values:
        raise ValidationError({"role": "Choose one of the staff roles."})
    if user.is_service_account:
        raise ValidationError({"user": "An EDT service account cannot be agency staff."})
    _require_staff_admin(actor, regulator)


def _lock_as_admin(actor, regulator: Regulator) -> Regulator:
    """Lock the agency, then ask the rule again: an administrator taken off the staff by
    another while this request waited for the lock changes nothing."""
    regulator = _lock(regulator)
    _require_staff_admin(actor, regulator)
    return regulator


def _grant_staff_role(actor, regulator: Regulator, membership: StaffMembership, *, before):
    """Give the member the permissions of their (new) role and audit it: adding someone
    and changing a role are the same event, ``before`` None for a newcomer."""
    _grant_role(membership.user, regulator, membership.role)
    record_event(
        actor,
        "regulator.staff_role_set",
        membership,
        before={"role": before},
        after={"user": membership.user.email, "role": membership.role},
        regulator=regulator,
    )


def _refuse_existing_staff(regulator: Regulator, user) -> None:
    existing = StaffMembership.objects.filter(regulator=regulator, user=user).first()
    if existing is not None:
        raise ValidationError(
            f"{user.email} is already on the staff as {existing.get_role_display()}; "
            "nothing was changed."
        )


def _add_staff_member(actor, regulator: Regulator, user, role: str) -> StaffMembership:
    """The membership and its permissions, in the caller's transaction, the agency locked.
    A request of the person's to join this staff still waiting (they joined another way,
    an invitation accepted) is answered with the role they got."""
    _refuse_existing_staff(regulator, user)
    membership = StaffMembership.objects.create(regulator=regulator, user=user, role=role)
    _grant_staff_role(actor, regulator, membership, before=None)
    waiting = StaffAccessRequest.objects.select_for_update().filter(
        regulator=regulator, user=user, status=StaffAccessRequest.Status.PENDING
    )
    for staff_request in waiting:
        staff_request.status = StaffAccessRequest.Status.APPROVED
        staff_request.granted_role = role
        staff_request.decided_by = actor
        staff_request.answered_at = timezone.now()
        staff_request.save(update_fields=["status", "granted_role", "decided_by", "answered_at"])
        record_event(
            actor,
            "regulator.staff_request_approved",
            staff_request,
            before={"status": StaffAccessRequest.Status.PENDING},
            after={
                "user": user.email,
                "status": staff_request.status,
                "granted_role": role,
                "decision_reason": "",
            },
            regulator=regulator,
        )
    return membership


@transaction.atomic(durable=True)
def add_staff(*, actor, regulator: Regulator, user, role: str) -> StaffMembership:
    """Add ``user`` to the agency's staff with ``role`` at once. Someone already on the staff
    is refused and keeps their role (changing a role is ``set_staff_role``).

    The staff page does not call this: it invites (``invite_staff``), and the membership is
    made when the person accepts. This is for the system itself (``actor`` None).
    """
    _check_new_staff(actor, regulator, user, role)
    return _add_staff_member(actor, _lock_as_admin(actor, regulator), user, role)


@transaction.atomic(durable=True)
def invite_staff(*, actor, regulator: Regulator, user, role: str) -> StaffInvitation:
    """Invite an existing, active account to the agency's staff with ``role`` and e-mail
    them the link; nothing is granted until they accept (``accept_staff_invitation``)."""
    _check_new_staff(actor, regulator, user, role)
    if not user.is_active:
        raise ValidationError({"user": "Only an active account can be invited to the staff."})
    regulator = _lock_as_admin(actor, regulator)
    _refuse_existing_staff(regulator, user)
    waiting = StaffInvitation.objects.filter(
        regulator=regulator, user=user, status=StaffInvitation.Status.PENDING
    ).first()
    if waiting is not None:
        raise ValidationError(
            f"{user.email} is already invited as {waiting.get_role_display()} and has not "
            "answered yet; cancel that invitation to invite them with another role."
        )
    invitation = StaffInvitation.objects.create(
        regulator=regulator, user=user, role=role, invited_by=actor
    )
    record_event(
        actor,
        "regulator.staff_invited",
        invitation,
        after={"user": user.email, "role": role},
        regulator=regulator,
    )
    queue_email(
        [user.email],
        "regulators/email/staff_invitation",
        {
            "invitation": invitation,
            "regulator": regulator,
            "inviter": actor,
            "role": invitation.get_role_display(),
            "url": settings.SITE_URL + reverse("staff_invitation", args=[invitation.pk]),
        },
    )
    return invitation


def _lock_pending(invitation: StaffInvitation) -> tuple[Regulator, StaffInvitation]:
    regulator = _lock(invitation.regulator)
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != StaffInvitation.Status.PENDING:
        raise ValidationError(
            f"This invitation was already {invitation.get_status_display().lower()}."
        )
    return regulator, invitation


def _answer(invitation: StaffInvitation, status: str) -> None:
    invitation.status = status
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])


def _require_invitee(user, invitation: StaffInvitation) -> None:
    if invitation.user_id != getattr(user, "pk", None):
        raise PermissionDenied("Only the person invited answers an invitation.")


@transaction.atomic(durable=True)
def accept_staff_invitation(*, user, invitation: StaffInvitation) -> StaffMembership:
    """The invited user joins the staff with the invitation's role and its permissions."""
    _require_invitee(user, invitation)
    regulator, invitation = _lock_pending(invitation)
    if user.is_service_account or not user.is_active:
        raise ValidationError("An EDT service account cannot be agency staff.")
    _answer(invitation, StaffInvitation.Status.ACCEPTED)
    record_event(
        user,
        "regulator.staff_invitation_accepted",
        invitation,
        after={"user": user.email, "role": invitation.role},
        regulator=regulator,
    )
    return _add_staff_member(user, regulator, user, invitation.role)


@transaction.atomic(durable=True)
def decline_staff_invitation(*, user, invitation: StaffInvitation) -> StaffInvitation:
    """The invited user says no; nothing is granted."""
    _require_invitee(user, invitation)
    regulator, invitation = _lock_pending(invitation)
    _answer(invitation, StaffInvitation.Status.DECLINED)
    record_event(
        user,
        "regulator.staff_invitation_declined",
        invitation,
        before={"user": user.email, "role": invitation.role},
        regulator=regulator,
    )
    return invitation


@transaction.atomic(durable=True)
def cancel_staff_invitation(*, actor, invitation: StaffInvitation) -> StaffInvitation:
    """An administrator withdraws an invitation that was not answered yet."""
    _require_staff_admin(actor, invitation.regulator)
    regulator, invitation = _lock_pending(invitation)
    _require_staff_admin(actor, regulator)
    _answer(invitation, StaffInvitation.Status.CANCELLED)
    record_event(
        actor,
        "regulator.staff_invitation_cancelled",
        invitation,
        before={"user": invitation.user.email, "role": invitation.role},
        regulator=regulator,
    )
    return invitation


# --- Requests to join an agency's staff -----------------------------------------------------


def _administrator_emails(regulator: Regulator) -> list[str]:
    """Who answers a request to join the agency's staff: its active administrators."""
    return list(
        StaffMembership.objects.filter(
            regulator=regulator, role=StaffRole.ADMINISTRATOR, user__is_active=True
        )
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def _staff_requests_url() -> str:
    return settings.SITE_URL + reverse("regulator:staff") + "#staff-requests"


@transaction.atomic(durable=True)
def request_staff_access(
    *, user, regulator: Regulator, role: str, message: str = ""
) -> StaffAccessRequest:
    """``user`` asks to join the agency's staff with ``role``; its administrators are
    e-mailed and decide (``decide_staff_request``). Nothing is granted until one approves.

    Refused, saying why: someone already on the staff, a request of theirs already waiting,
    an invitation of theirs waiting for their own answer, an agency with no administrator to
    answer. The agency's row is locked first, so a request sent twice at once (a double click)
    is made once and the second is told the first waits.
    """
    require(user, "regulators.request_staff_access", regulator)
    if role not in StaffRole.values:
        raise ValidationError({"role": "Choose one of the staff roles."})
    message = message.strip()
    if len(message) > STAFF_REQUEST_MESSAGE_MAX_LENGTH:
        raise ValidationError(
            {"message": f"At most {STAFF_REQUEST_MESSAGE_MAX_LENGTH:,} characters, please."}
        )
    regulator = _lock(regulator)
    existing = StaffMembership.objects.filter(regulator=regulator, user=user).first()
    if existing is not None:
        raise ValidationError(
            f"You are already on the staff of {regulator.name}, as "
            f"{existing.get_role_display()}; nothing was sent."
        )
    if StaffAccessRequest.objects.pending().filter(regulator=regulator, user=user).exists():
        raise ValidationError(
            f"You already asked to join the staff of {regulator.name}; its administrators "
            "will answer. Withdraw that request to ask for another role."
        )
    if StaffInvitation.objects.pending().filter(regulator=regulator, user=user).exists():
        raise ValidationError(
            f"{regulator.name} has already invited you to its staff: accept or decline the "
            "invitation e-mailed to you."
        )
    recipients = _administrator_emails(regulator)
    if not recipients:
        raise ValidationError(
            f"{regulator.name} has no administrator in CERS to answer a request; contact "
            "the agency directly (its public contact is in the regulator directory)."
        )
    staff_request = StaffAccessRequest.objects.create(
        regulator=regulator, user=user, role=role, message=message
    )
    record_event(
        user,
        "regulator.staff_access_requested",
        staff_request,
        after={"user": user.email, "role": role, "message": message},
        regulator=regulator,
    )
    queue_email(
        recipients,
        "regulators/email/staff_request",
        {
            "staff_request": staff_request,
            "regulator": regulator,
            "requester": user,
            "role": staff_request.get_role_display(),
            "message": message,
            "url": _staff_requests_url(),
        },
    )
    return staff_request


def _lock_pending_request(
    staff_request: StaffAccessRequest,
) -> tuple[Regulator, StaffAccessRequest]:
    """Lock the agency, then the request's row (always in this order: a decision and a
    withdrawal at once queue, never deadlock); refuse one no longer waiting."""
    regulator = _lock(staff_request.regulator)
    staff_request = (
        StaffAccessRequest.objects.select_for_update()
        .select_related("user")
        .get(pk=staff_request.pk)
    )
    if staff_request.status != StaffAccessRequest.Status.PENDING:
        raise ValidationError(
            f"This request to join the staff was already "
            f"{staff_request.get_status_display().lower()}; nothing was changed."
        )
    return regulator, staff_request


@transaction.atomic(durable=True)
def decide_staff_request(
    *,
    actor,
    staff_request: StaffAccessRequest,
    approve: bool,
    role: str | None = None,
    reason: str = "",
) -> StaffAccessRequest:
    """An administrator of the agency approves a pending request, with ``role`` (the role
    asked for when None), which makes the membership with its permissions as an accepted
    invitation does; or declines it, saying why. The person is e-mailed either way.

    The agency and then the request are locked, and the rule asked again under the lock: of
    two decisions at once (a double click, two administrators), the second is told the
    request was already answered, and an administrator removed meanwhile decides nothing.
    """
    _require_staff_admin(actor, staff_request.regulator)
    reason = reason.strip()
    role = role or staff_request.role
    if approve and role not in StaffRole.values:
        raise ValidationError({"role": "Choose one of the staff roles."})
    if not approve and not reason:
        raise ValidationError(
            {"reason": "Say why the request is declined: the person who asked is told."}
        )
    regulator, staff_request = _lock_pending_request(staff_request)
    _require_staff_admin(actor, regulator)
    user = staff_request.user
    membership = None
    if approve:
        if not user.is_active or user.is_service_account:
            raise ValidationError(
                f"{user.email}'s account is no longer active; decline the request instead."
            )
        membership = StaffMembership.objects.filter(regulator=regulator, user=user).first()
    staff_request.status = (
        StaffAccessRequest.Status.APPROVED if approve else StaffAccessRequest.Status.DECLINED
    )
    staff_request.granted_role = (membership.role if membership else role) if approve else ""
    staff_request.decided_by = actor
    staff_request.decision_reason = reason
    staff_request.answered_at = timezone.now()
    staff_request.save(
        update_fields=["status", "granted_role", "decided_by", "decision_reason", "answered_at"]
    )
    record_event(
        actor,
        "regulator.staff_request_approved" if approve else "regulator.staff_request_declined",
        staff_request,
        before={"status": StaffAccessRequest.Status.PENDING},
        after={
            "user": user.email,
            "status": staff_request.status,
            "granted_role": staff_request.granted_role,
            "decision_reason": reason,
        },
        regulator=regulator,
    )
    if approve and membership is None:
        # Joined meanwhile (an invitation accepted): they keep the role they have.
        membership = _add_staff_member(actor, regulator, user, role)
    queue_email(
        [user.email],
        "regulators/email/staff_request_decision",
        {
            "staff_request": staff_request,
            "regulator": regulator,
            "approved": approve,
            "role": membership.get_role_display() if membership else "",
            "reason": reason,
            "url": settings.SITE_URL
            + (reverse("regulator:home") if approve else reverse("regulator_directory")),
        },
    )
    return staff_request


@transaction.atomic(durable=True)
def withdraw_staff_request(*, user, staff_request: StaffAccessRequest) -> StaffAccessRequest:
    """The person who asked takes back a request that is still waiting."""
    require(user, "regulators.withdraw_staff_request", staff_request)
    regulator, staff_request = _lock_pending_request(staff_request)
    staff_request.status = StaffAccessRequest.Status.WITHDRAWN
    staff_request.answered_at = timezone.now()
    staff_request.save(update_fields=["status", "answered_at"])
    record_event(
        user,
        "regulator.staff_request_withdrawn",
        staff_request,
        before={"status": StaffAccessRequest.Status.PENDING},
        after={"user": user.email, "status": staff_request.status},
        regulator=regulator,
    )
    return staff_request


@transaction.atomic(durable=True)
def set_staff_role(*, actor, regulator: Regulator, user, role: str) -> StaffMembership:
    """Add ``user`` to the agency's staff with ``role``, or change their role.

    Never demotes the agency's last administrator.
    """
    _check_new_staff(actor, regulator, user, role)
    regulator = _lock_as_admin(actor, regulator)
    membership = (
        StaffMembership.objects.select_for_update().filter(regulator=regulator, user=user).first()
    )
    before = membership.role if membership else None
    if membership is None:
        membership = StaffMembership.objects.create(regulator=regulator, user=user, role=role)
    elif before != role:
        _refuse_losing_last_administrator(membership, regulator)
        membership.role = role
        membership.save(update_fields=["role"])
    _grant_staff_role(actor, regulator, membership, before=before)
    return membership


@transaction.atomic(durable=True)
def remove_staff(*, actor, membership: StaffMembership) -> None:
    """Take a user off the agency's staff, with all their permissions on it.

    Never removes the agency's last administrator.
    """
    _require_staff_admin(actor, membership.regulator)
    regulator = _lock_as_admin(actor, membership.regulator)
    locked = (
        StaffMembership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None:
        raise ValidationError(
            f"{membership.user.email} is no longer on the staff: another administrator "
            "removed them meanwhile."
        )
    membership = locked
    _refuse_losing_last_administrator(membership, regulator)
    set_object_permissions(membership.user, regulator, (), ALL_PERMISSIONS)
    record_event(
        actor,
        "regulator.staff_removed",
        membership,
        before={"user": membership.user.email, "role": membership.role},
        regulator=regulator,
    )
    membership.delete()


@transaction.atomic(durable=True)
def set_reminder_days(*, actor, regulator: Regulator, days: list[int]) -> Regulator:
    """Set the days before a due date when the businesses are reminded of the elements the
    agency handles (each once; the overdue reminder follows the date). Administrators only."""
    require(actor, "regulators.set_reminders", regulator)
    days = sorted(set(days), reverse=True) if isinstance(days, list) else days
    validate_reminder_days(days)
    regulator = Regulator.objects.select_for_update().get(pk=regulator.pk)
    before = list(regulator.reminder_days)
    regulator.reminder_days = days
    regulator.save(update_fields=["reminder_days"])
    record_event(
        actor,
        "regulators.reminder_days_set",
        regulator,
        before={"reminder_days": before},
        after={"reminder_days": days},
        regulator=regulator,
    )
    return regulator


@transaction.atomic(durable=True)
def set_local_requirements(*, actor, regulator: Regulator, texts: dict[int, str]) -> int:
    """Write the agency's local requirements, element by element (``texts``: element code to
    text; an empty text removes the element's). Administrators only. Each element changed is
    one audit event; returns how many changed."""
    require(actor, "regulators.set_local_requirements", regulator)
    problems = {}
    for element, text in texts.items():
        if element not in SubmittalElement.values:
            problems[f"element_{element}"] = f"{element} is not a submittal element code (1-10)."
        elif len(text.strip()) > LOCAL_REQUIREMENT_MAX_LENGTH:
            problems[f"element_{element}"] = (
                f"At most {LOCAL_REQUIREMENT_MAX_LENGTH:,} characters: shorten the text, or "
                "point to a page of the agency's web site."
            )
    if problems:
        raise ValidationError(problems)
    regulator = Regulator.objects.select_for_update().get(pk=regulator.pk)
    current = {row.element: row for row in regulator.local_requirements.all()}
    changed = 0
    for element, text in sorted(texts.items()):
        text = text.strip()
        row = current.get(element)
        before = row.text if row else ""
        if text == before:
            continue
        if not text:
            row.delete()
            row = LocalRequirement(regulator=regulator, element=element)
        elif row is None:
            row = LocalRequirement.objects.create(
                regulator=regulator, element=element, text=text, updated_by=actor
            )
        else:
            row.text = text
            row.updated_by = actor
            row.save(update_fields=["text", "updated_by", "updated_at"])
        record_event(
            actor,
            "regulators.local_requirements_set",
            regulator,
            before={"element": element, "text": before},
            after={"element": element, "text": text},
            regulator=regulator,
        )
        changed += 1
    return changed


CONTACT_FIELDS = ("email", "phone", "website")


@transaction.atomic(durable=True)
def set_contact(*, actor, regulator: Regulator, email: str, phone: str, website: str) -> Regulator:
    """The agency's public contact, shown in the regulator directory; the e-mail address also
    receives the notices sent to the agency (a facility closed or reopened). Administrators
    only."""
    require(actor, "regulators.set_contact", regulator)
    regulator = Regulator.objects.select_for_update().get(pk=regulator.pk)
    before = {name: getattr(regulator, name) for name in CONTACT_FIELDS}
    regulator.email = email.strip().lower()
    regulator.phone = phone.strip()
    regulator.website = website.strip()
    regulator.full_clean(
        exclude=[field.name for field in Regulator._meta.fields if field.name not in CONTACT_FIELDS]
    )
    after = {name: getattr(regulator, name) for name in CONTACT_FIELDS}
    if after != before:
        regulator.save(update_fields=list(CONTACT_FIELDS))
        record_event(
            actor,
            "regulators.contact_changed",
            regulator,
            before=before,
            after=after,
            regulator=regulator,
        )
    return regulator
