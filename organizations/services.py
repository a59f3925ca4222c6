"""Every write to organizations, memberships, invitations and join requests.

Each public function is one transaction that also writes its audit event; e-mail is queued in
the outbox and sent after commit. ``actor`` is the user doing it, checked here as well as in
the view, so no caller can skip the rule.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.access import require
from core.services import (
    next_value,
    queue_email,
    record_event,
    set_object_permissions,
    snapshot,
)

from .models import Invitation, JoinRequest, Membership, Organization
from .roles import ALL_PERMISSIONS, ROLE_PERMISSIONS, SUBMIT, Role

ORGANIZATION_CODE_FIRST = 10_000_001
INVITATION_LIFETIME = timedelta(days=14)


def grant_role(user, organization: Organization, role: str) -> None:
    """Make the user's object permissions on ``organization`` exactly those of ``role``: for
    a service that has just set the membership's role, in its transaction (the organization
    merge moves members this way)."""
    set_object_permissions(user, organization, ROLE_PERMISSIONS[role], ALL_PERMISSIONS)


def _revoke_all(user, organization: Organization) -> None:
    set_object_permissions(user, organization, (), ALL_PERMISSIONS)


def _lead_count(organization: Organization) -> int:
    return organization.memberships.filter(role=Role.LEAD).count()


def _lock(organization: Organization) -> Organization:
    """Lock the organization row, so concurrent changes to its people (roles, removals,
    invitations, requests to join) see each other's result; one merged away meanwhile is
    refused."""
    locked = Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if locked is None:
        raise ValidationError(
            f"{organization.name} no longer exists: it was merged into another organization."
        )
    return locked


def lead_user_emails(organization: Organization) -> list[str]:
    return lead_user_emails_by_organization([organization.pk]).get(organization.pk, [])


def lead_user_emails_by_organization(organization_ids) -> dict[int, list[str]]:
    """The Lead Users' addresses of each organization, in one query."""
    return _emails_by_organization(organization_ids, [Role.LEAD])


def submitter_emails_by_organization(organization_ids) -> dict[int, list[str]]:
    """The addresses of each organization's people who may submit and certify (Approvers
    and Lead Users: the roles holding the submit permission), in one query."""
    roles = [role for role, permissions in ROLE_PERMISSIONS.items() if SUBMIT in permissions]
    return _emails_by_organization(organization_ids, roles)


def _emails_by_organization(organization_ids, roles) -> dict[int, list[str]]:
    emails: dict[int, list[str]] = {}
    ids = sorted(set(organization_ids))
    for start in range(0, len(ids), 1000):
        rows = (
            Membership.objects.filter(organization_id__in=ids[start : start + 1000], role__in=roles)
            .order_by("organization_id", "user__email")
            .values_list("organization_id", "user__email")
        )
        for organization_id, email in rows:
            emails.setdefault(organization_id, []).append(email)
    return emails


def _add_member(actor, organization: Organization, user, role: str, how: str) -> Membership:
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    grant_role(user, organization, role)
    record_event(
        actor,
        "organization.member_added",
        membership,
        after={"user": user.email, "role": role, "how": how},
        organization=organization,
    )
    return membership


@transaction.atomic(durable=True)
def create_organization(*, actor, name: str, headquarters: str = "") -> Organization:
    """Create an organization with ``actor`` as its first Lead User."""
    organization = add_organization(actor=actor, name=name, headquarters=headquarters)
    _add_member(actor, organization, actor, Role.LEAD, "created the organization")
    return organization


def add_organization(*, actor, name: str, headquarters: str = "", how: str = "") -> Organization:
    """Create an organization without members, inside the caller's transaction: the first
    step of ``create_organization``, and the whole of it when a regulator creates the
    organization (EDT facility create), whose people join later with its code. ``how`` says
    so in the audit event."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("add_organization must run inside a transaction.")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organization a name."})
    organization = Organization.objects.create(
        code=next_value("organization_code", ORGANIZATION_CODE_FIRST),
        name=name,
        headquarters=headquarters.strip(),
    )
    after = {"name": organization.name, "code": organization.code}
    if how:
        after["how"] = how
    record_event(
        actor, "organization.created", organization, after=after, organization=organization
    )
    return organization


@transaction.atomic(durable=True)
def update_organization(
    *, actor, organization: Organization, name: str, headquarters: str = ""
) -> Organization:
    """A Lead User corrects the organization's name and headquarters address (CERS's "My
    Business"). Its code, its facilities and its people stay as they are."""
    organization = _lock(organization)
    require(actor, "organizations.edit", organization)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organization a name."})
    fields = ("name", "headquarters")
    before = snapshot(organization, fields)
    organization.name = name
    organization.headquarters = headquarters.strip()
    after = snapshot(organization, fields)
    if after == before:
        return organization
    organization.save(update_fields=list(fields))
    record_event(
        actor,
        "organization.updated",
        organization,
        before=before,
        after=after,
        organization=organization,
    )
    return organization


def _lock_membership(membership: Membership) -> Membership:
    """Lock the member's row, inside the organization's lock; one removed meanwhile (a
    second click on Remove, or another Lead User) is refused."""
    locked = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None:
        raise ValidationError(
            f"{membership.user.email} is no longer a member of this organization: someone "
            "removed them meanwhile, or they left."
        )
    return locked


def _refuse_losing_last_lead(membership: Membership, organization: Organization) -> None:
    """An organization always keeps at least one Lead User to manage its members: the last
    one can be neither demoted, removed nor leave."""
    if membership.role == Role.LEAD and _lead_count(organization) == 1:
        raise ValidationError(
            "This is the organization's only Lead User. Make another member a Lead User first."
        )


@transaction.atomic(durable=True)
def change_role(*, actor, membership: Membership, role: str) -> Membership:
    """Change a member's role, and with it their permissions. Never removes the last Lead."""
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    organization = _lock(membership.organization)
    require(actor, "organizations.manage_people", organization)
    membership = _lock_membership(membership)
    before = membership.role
    if before == role:
        return membership
    _refuse_losing_last_lead(membership, organization)
    membership.role = role
    membership.save(update_fields=["role"])
    grant_role(membership.user, organization, role)
    record_event(
        actor,
        "organization.role_changed",
        membership,
        before={"role": before},
        after={"role": role},
        organization=organization,
    )
    return membership


@transaction.atomic(durable=True)
def remove_member(*, actor, membership: Membership) -> None:
    """Remove a member (a Lead User removing someone, or a member leaving).

    The last Lead User can be neither removed nor leave.
    """
    organization = _lock(membership.organization)
    if actor.pk != membership.user_id:
        require(actor, "organizations.manage_people", organization)
    membership = _lock_membership(membership)
    _refuse_losing_last_lead(membership, organization)
    _revoke_all(membership.user, organization)
    record_event(
        actor,
        "organization.member_removed",
        membership,
        before={"user": membership.user.email, "role": membership.role},
        organization=organization,
    )
    membership.delete()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic(durable=True)
def invite(
    *,
    actor,
    organization: Organization,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    title: str = "",
) -> Invitation:
    """Invite someone by e-mail to join with ``role``. A new invitation to the same address
    replaces a pending one.

    The person's name, phone and job title, when given, greet them in the e-mail and fill in
    the sign-up form if they create an account to accept; an existing account keeps its own.
    """
    require(actor, "organizations.manage_people", organization)
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    person = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "phone": phone.strip(),
        "title": title.strip(),
    }
    errors = {
        name: f"Use at most {Invitation._meta.get_field(name).max_length} characters."
        for name, value in person.items()
        if len(value) > Invitation._meta.get_field(name).max_length
    }
    if errors:
        raise ValidationError(errors)
    # Two invitations of one address at once (a double click) are made one after the other:
    # the second replaces the first, as any later one does. The rule is asked again under
    # the lock: a Lead User removed while waiting for it invites nobody.
    organization = _lock(organization)
    require(actor, "organizations.manage_people", organization)
    email = email.strip().lower()
    if organization.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of this organization."})
    organization.invitations.filter(email__iexact=email, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        **person,
        token_digest=_digest(token),
        invited_by=actor,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    record_event(
        actor,
        "organization.invited",
        invitation,
        after={"email": email, "role": role, **person},
        organization=organization,
    )
    queue_email(
        [email],
        "organizations/email/invitation",
        {
            "name": invitation.full_name,
            "organization": organization,
            "inviter": actor,
            "role": Role(role).label,
            "url": settings.SITE_URL + reverse("invitation", args=[token]),
            "expires_at": invitation.expires_at,
        },
        secret=("url",),
    )
    invitation.token = token  # shown to the caller once, never stored
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The pending, unexpired invitation for ``token``, or None."""
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(
            token_digest=_digest(token),
            status=Invitation.Status.PENDING,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


INVITATION_NOT_VALID = "This invitation is not valid: it was used, revoked or expired."


@transaction.atomic(durable=True)
def accept_invitation(*, user, token: str) -> Membership:
    """Join the organization an invitation was sent for, with its role."""
    invitation = find_invitation(token)
    if invitation is None:
        raise ValidationError(INVITATION_NOT_VALID)
    # The organization's lock first, as every service of its people takes it; then the
    # invitation is read again: it may have been revoked, replaced or used meanwhile.
    organization = _lock(invitation.organization)
    invitation = (
        Invitation.objects.select_for_update()
        .filter(pk=invitation.pk, status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        raise ValidationError(INVITATION_NOT_VALID)
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(
            f"This invitation was sent to {invitation.email}. Sign in with that address to "
            "accept it."
        )
    if organization.memberships.filter(user=user).exists():
        raise ValidationError("You are already a member of this organization.")
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_by = user
    invitation.save(update_fields=["status", "accepted_by"])
    return _add_member(user, organization, user, invitation.role, "accepted an invitation")


@transaction.atomic(durable=True)
def revoke_invitation(*, actor, invitation: Invitation) -> None:
    organization = _lock(invitation.organization)
    require(actor, "organizations.manage_people", organization)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError(
            "Only a pending invitation can be revoked; this one was "
            f"{invitation.get_status_display().lower()} meanwhile."
        )
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    record_event(
        actor,
        "organization.invitation_revoked",
        invitation,
        before={"email": invitation.email},
        organization=organization,
    )


JOIN_BY_ORGANIZATION = "organization"
JOIN_BY_FACILITY = "facility"


@transaction.atomic(durable=True)
def request_to_join(
    *, user, code: int, kind: str = JOIN_BY_ORGANIZATION, message: str = ""
) -> JoinRequest | None:
    """Ask to join an organization, found by its organization code (``kind``
    "organization") or by the CERS ID of one of its facilities (``kind`` "facility").

    The caller answers the same whatever happens here, so nobody learns from the page which
    codes exist: a request that goes ahead e-mails the organization's Lead Users; one that
    cannot (no such code, already a member, a request already waiting) e-mails the
    requester why. One e-mail either way. Returns the request made, or None.
    """
    if kind == JOIN_BY_FACILITY:
        organization = Organization.objects.filter(facilities__cers_id=code).first()
        problem = f"No facility has the CERS ID {code}."
    else:
        organization = Organization.objects.filter(code=code).first()
        problem = f"No organization has the code {code}."
    if organization is not None:
        # One request at a time per organization: a second one sent at once (a double click)
        # finds the first waiting.
        organization = _lock(organization)
        problem = ""
        if organization.memberships.filter(user=user).exists():
            problem = f"You are already a member of {organization.name}."
        elif organization.join_requests.filter(
            user=user, status=JoinRequest.Status.PENDING
        ).exists():
            problem = f"You already asked to join {organization.name}; its Lead Users will answer."
    recipients = lead_user_emails(organization) if organization is not None else []
    if problem or not recipients:
        record_event(user, "organization.join_not_sent", user, after={"kind": kind, "code": code})
        queue_email(
            [user.email],
            "organizations/email/join_not_sent",
            {
                "requester": user,
                "kind": "CERS ID" if kind == JOIN_BY_FACILITY else "organization code",
                "code": code,
                "problem": problem or "That organization has no Lead User to answer.",
                "url": settings.SITE_URL + reverse("business:start"),
            },
        )
        return None
    join_request = JoinRequest.objects.create(
        organization=organization, user=user, message=message.strip()
    )
    record_event(user, "organization.join_requested", join_request, organization=organization)
    queue_email(
        recipients,
        "organizations/email/join_request",
        {
            "organization": organization,
            "requester": user,
            "message": join_request.message,
            "url": settings.SITE_URL + reverse("business:join_requests"),
        },
    )
    return join_request


@transaction.atomic(durable=True)
def decide_join_request(
    *, actor, join_request: JoinRequest, approve: bool, role: str = Role.VIEWER, reason: str = ""
) -> JoinRequest:
    """Approve (with a role) or decline a pending request to join."""
    organization = _lock(join_request.organization)
    require(actor, "organizations.manage_people", organization)
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if join_request.status != JoinRequest.Status.PENDING:
        raise ValidationError("This request was already answered.")
    if approve and role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    join_request.status = JoinRequest.Status.APPROVED if approve else JoinRequest.Status.DECLINED
    join_request.decided_by = actor
    join_request.decided_at = timezone.now()
    join_request.decision_reason = reason.strip()
    join_request.save()
    record_event(
        actor,
        "organization.join_approved" if approve else "organization.join_declined",
        join_request,
        after={"role": role if approve else None, "reason": join_request.decision_reason},
        organization=organization,
    )
    if approve and not organization.memberships.filter(user=join_request.user).exists():
        _add_member(actor, organization, join_request.user, role, "join request approved")
    queue_email(
        [join_request.user.email],
        "organizations/email/join_decision",
        {
            "organization": organization,
            "approved": approve,
            "role": Role(role).label if approve else "",
            "reason": join_request.decision_reason,
            "url": settings.SITE_URL + reverse("home"),
        },
    )
    return join_request
