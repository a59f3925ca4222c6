"""Every write to EDT access: one transaction and one audit event each, e-mail through the
outbox.

The journey: an agency administrator files an ``AccessRequest`` (``file_access_request``),
which creates one requested ``TierGrant`` per environment and tier; the state administrator
approves or declines each (``decide_access_request``); approved grants can be suspended,
reinstated or revoked. Vendors are registered and authorized per tier by the state
administrator; an agency works with one vendor at a time, or runs its own system.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.services import queue_email, queue_emails, record_event
from regulators.models import Regulator, StaffMembership
from regulators.querysets import is_state_edt_administrator
from regulators.roles import EDT_ADMINISTRATION_PERMISSIONS, StaffRole, role_grants

from .. import credentials
from ..models import (
    AccessRequest,
    AgencyVendor,
    Announcement,
    ApiToken,
    EdtAccount,
    Subscriber,
    TierGrant,
    Vendor,
    VendorAuthorization,
)
from ..tiers import PA_HIGHEST_TIER, Environment, Tier
from .querysets import edt_agencies

Status = TierGrant.Status


# --- who may -----------------------------------------------------------------------------


def can_administer(user, regulator: Regulator) -> bool:
    """The agency's administrators and EDT administrators (and the state administrator)."""
    return edt_agencies(user).filter(pk=regulator.pk).exists()


def _require_agency_admin(actor, regulator: Regulator) -> None:
    """``actor`` None is the system itself (management commands)."""
    if actor is not None and not can_administer(actor, regulator):
        raise PermissionDenied("Only the agency's administrators manage its EDT access.")


def _require_state_admin(actor) -> None:
    if actor is not None and not is_state_edt_administrator(actor):
        raise PermissionDenied("Only the state administrator decides on EDT access.")


# --- e-mail ------------------------------------------------------------------------------

# The staff roles that administer an agency's EDT access (``StaffMembership.administers_edt``),
# read from the roles' permissions: who hears about it, at the agency and at the state agency.
EDT_ADMINISTRATOR_ROLES = [
    role
    for role in StaffRole
    if any(role_grants(role, permission) for permission in EDT_ADMINISTRATION_PERMISSIONS)
]


def agency_contacts(regulator: Regulator, access_request: AccessRequest | None = None) -> list:
    """The agency's administrators and EDT administrators (and the request's named EDT
    administrators): who hears about each step of its EDT access."""
    emails = set(
        StaffMembership.objects.filter(
            regulator=regulator, role__in=EDT_ADMINISTRATOR_ROLES
        ).values_list("user__email", flat=True)
    )
    if access_request is not None:
        emails.update(u.email for u in access_request.edt_administrators.all())
    return sorted(emails)


def _state_contacts() -> list[str]:
    """The state agency's administrators and EDT administrators: who decides on EDT access
    statewide (``regulators.querysets.is_state_edt_administrator``), so who hears of a new
    request."""
    return sorted(
        set(
            StaffMembership.objects.filter(
                regulator__in=Regulator.objects.statewide(),
                role__in=EDT_ADMINISTRATOR_ROLES,
            ).values_list("user__email", flat=True)
        )
    )


def _notify(to: list[str], template: str, context: dict) -> None:
    if to:
        queue_email(to, f"edt/email/{template}", {"site_url": settings.SITE_URL, **context})


# --- the access request ------------------------------------------------------------------


@dataclass
class NewAccount:
    """The dedicated EDT account a first request creates."""

    email: str
    username: str


def _check_tiers_and_environments(regulator, tiers, environments) -> tuple[list, list]:
    errors: dict[str, str] = {}
    tiers = sorted({int(t) for t in tiers})
    environments = [e for e in Environment.values if e in set(environments)]
    if not environments:
        errors["environments"] = "Choose the environment(s): testing, production, or both."
    if not tiers:
        errors["tiers"] = "Choose at least one tier."
    elif any(t not in Tier.values for t in tiers):
        errors["tiers"] = "The tiers are 1 to 6."
    elif regulator.kind == Regulator.Kind.PA and max(tiers) > PA_HIGHEST_TIER:
        errors["tiers"] = (
            f"A Participating Agency may use tiers 1 and 2 only; tier {max(tiers)} is for "
            "CUPAs. Ask your CUPA to exchange that data."
        )
    elif regulator.is_statewide:
        errors["tiers"] = "EDT access is for CUPAs and Participating Agencies."
    if errors:
        raise ValidationError(errors)
    return tiers, environments


def _check_administrators(regulator, administrators) -> list:
    administrators = list(administrators)
    staff_ids = set(
        StaffMembership.objects.filter(regulator=regulator).values_list("user_id", flat=True)
    )
    for user in administrators:
        if user.is_service_account or user.pk not in staff_ids or not user.is_active:
            raise ValidationError(
                {
                    "edt_administrators": (
                        f"{user.email} has no rights to {regulator.name}'s data: an EDT "
                        "administrator must be on the agency's staff. Add them on the Staff "
                        "page first."
                    )
                }
            )
    return administrators


def _check_new_account(account: NewAccount) -> None:
    email = User.objects.normalize_email(account.email).lower().strip()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {
                "account_email": (
                    f"{email} belongs to an existing CERS account. The EDT account must be a "
                    "new account with its own e-mail address, used for nothing but EDT."
                )
            }
        )
    try:
        EdtAccount.username.field.run_validators(account.username)
    except ValidationError as error:
        raise ValidationError({"account_username": error.messages}) from None
    if EdtAccount.objects.filter(username__iexact=account.username).exists():
        raise ValidationError(
            {"account_username": f"The EDT username {account.username} is taken."}
        )


def _create_account(actor, regulator: Regulator, account: NewAccount) -> EdtAccount:
    user = User(
        email=User.objects.normalize_email(account.email).lower().strip(),
        is_service_account=True,
        first_name="EDT",
        last_name=account.username,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    edt_account = EdtAccount.objects.create(
        user=user, regulator=regulator, username=account.username
    )
    record_event(
        actor,
        "edt.account_created",
        edt_account,
        after={"username": account.username, "email": user.email},
        regulator=regulator,
    )
    return edt_account


def _set_agency_vendor(actor, regulator, vendor: Vendor | None, own_system: bool) -> None:
    current = AgencyVendor.objects.filter(regulator=regulator).first()
    before = (
        None
        if current is None
        else {"vendor": str(current.vendor or ""), "own_system": current.own_system}
    )
    AgencyVendor.objects.update_or_create(
        regulator=regulator, defaults={"vendor": vendor, "own_system": own_system}
    )
    after = {"vendor": str(vendor or ""), "own_system": own_system}
    if before != after:
        record_event(
            actor,
            "edt.agency_vendor_set",
            regulator,
            before=before,
            after=after,
            regulator=regulator,
        )


def _check_vendor_tiers(regulator, vendor, own_system: bool, tiers, environments) -> None:
    """A request for production tiers is refused when filed if the vendor it names (or, naming
    none, the agency's vendor) is not authorized for each of them: the state administrator
    could only decline them. Testing is how a vendor earns a tier, so it is never refused."""
    if Environment.PRODUCTION not in environments or own_system:
        return
    if vendor is None:
        current = AgencyVendor.objects.select_related("vendor").filter(regulator=regulator).first()
        vendor = current.vendor if current is not None and not current.own_system else None
    if vendor is None:
        return
    authorized = set(vendor.authorized_tiers())
    missing = [tier for tier in tiers if tier not in authorized]
    if missing:
        held = ", ".join(str(t) for t in sorted(authorized)) or "none"
        raise ValidationError(
            {
                "vendor": (
                    f"{vendor.name} is not authorized for tier{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(str(t) for t in missing)} in production (its tiers: {held}). "
                    "Ask for production only in the tiers it holds, ask for testing alone, or "
                    "choose a vendor the vendor list shows authorized for these tiers."
                )
            }
        )


@transaction.atomic(durable=True)
def file_access_request(
    *,
    actor,
    regulator: Regulator,
    environments: Iterable[str],
    tiers: Iterable[int],
    authority_confirmed: bool,
    terms_version: str | None,
    edt_administrators: Iterable = (),
    new_account: NewAccount | None = None,
    vendor: Vendor | None = None,
    own_system: bool = False,
    note: str = "",
) -> AccessRequest:
    """File an EDT access request for ``regulator``.

    A first request names everything CalEPA's procedure asks for: EDT administrators, a new
    dedicated EDT account, and the vendor (or the agency's own system). A follow-up asks for more
    tiers; what it leaves out stays as it is.
    """
    _require_agency_admin(actor, regulator)
    regulator = Regulator.objects.select_for_update().get(pk=regulator.pk)
    tiers, environments = _check_tiers_and_environments(regulator, tiers, environments)
    if not authority_confirmed:
        raise ValidationError(
            {"authority_confirmed": "Confirm that you have authority to commit the agency."}
        )
    if terms_version != settings.EDT_TERMS_VERSION:
        raise ValidationError(
            {
                "terms_accepted": (
                    f"Accept the EDT Terms of Use (version {settings.EDT_TERMS_VERSION}) to "
                    "request access."
                )
            }
        )
    first = not AccessRequest.objects.filter(regulator=regulator).exists()
    administrators = _check_administrators(regulator, edt_administrators)
    if first and not administrators:
        raise ValidationError(
            {"edt_administrators": "Name at least one EDT administrator from the agency's staff."}
        )
    if vendor is not None and own_system:
        raise ValidationError(
            {"vendor": "Choose a vendor, or say the agency runs its own system, not both."}
        )
    has_vendor_record = AgencyVendor.objects.filter(regulator=regulator).exists()
    if vendor is None and not own_system and not has_vendor_record:
        raise ValidationError(
            {"vendor": "Name the data services vendor the agency works with, or its own system."}
        )
    _check_vendor_tiers(regulator, vendor, own_system, tiers, environments)
    has_account = EdtAccount.objects.filter(regulator=regulator, is_active=True).exists()
    if new_account is None and not has_account:
        raise ValidationError(
            {"account_email": "The agency has no EDT account yet: give the new account's e-mail."}
        )
    if new_account is not None:
        _check_new_account(new_account)
        if any(u.email.lower() == new_account.email.lower() for u in administrators):
            raise ValidationError(
                {"account_email": "The EDT account needs an e-mail address of its own."}
            )

    live = set(
        TierGrant.objects.filter(
            regulator=regulator, status__in=TierGrant.LIVE_STATUSES
        ).values_list("environment", "tier", "status")
    )
    already = sorted(
        f"tier {t} in {e} ({s})" for e, t, s in live if e in environments and t in tiers
    )
    if already:
        raise ValidationError(
            {"tiers": "Already requested or granted: " + ", ".join(already) + "."}
        )

    edt_account = _create_account(actor, regulator, new_account) if new_account else None
    if vendor is not None or own_system:
        _set_agency_vendor(actor, regulator, vendor, own_system)
    access_request = AccessRequest.objects.create(
        regulator=regulator,
        filed_by=actor,
        authority_confirmed=True,
        terms_version=terms_version,
        edt_account=edt_account,
        vendor=vendor,
        own_system=own_system,
        note=note,
    )
    access_request.edt_administrators.set(administrators)
    TierGrant.objects.bulk_create(
        TierGrant(regulator=regulator, request=access_request, environment=e, tier=t)
        for e in environments
        for t in tiers
    )
    record_event(
        actor,
        "edt.access_requested",
        access_request,
        after={
            "environments": environments,
            "tiers": tiers,
            "terms_version": terms_version,
            "edt_administrators": [u.email for u in administrators],
            "edt_account": edt_account.username if edt_account else None,
            "vendor": str(vendor or ""),
            "own_system": own_system,
        },
        regulator=regulator,
    )
    context = {"request": access_request, "tiers": tiers, "environments": environments}
    _notify(agency_contacts(regulator, access_request), "request_filed", context)
    _notify(_state_contacts(), "request_pending", context)
    return access_request


# --- decisions ---------------------------------------------------------------------------


@dataclass
class Decision:
    """The state administrator's answer for one requested grant."""

    grant_id: int
    approve: bool
    reason: str = ""


def _check_production(grant: TierGrant) -> None:
    if grant.environment != Environment.PRODUCTION:
        return
    agency_vendor = (
        AgencyVendor.objects.select_related("vendor").filter(regulator=grant.regulator).first()
    )
    if agency_vendor is None:
        raise ValidationError(
            f"Tier {grant.tier} in production: the agency has named no vendor or own system."
        )
    if not agency_vendor.authorizes(grant.tier):
        raise ValidationError(
            f"Tier {grant.tier} in production: the agency's vendor, {agency_vendor.vendor}, is "
            f"not authorized for tier {grant.tier}. Authorize the vendor for it first, or "
            "decline this tier."
        )


@transaction.atomic(durable=True)
def decide_access_request(
    *, actor, access_request: AccessRequest, decisions: Iterable[Decision]
) -> list[TierGrant]:
    """Approve or decline requested grants of one request, all or nothing."""
    _require_state_admin(actor)
    decisions = list(decisions)
    grants = {
        g.pk: g
        for g in TierGrant.objects.select_for_update()
        .select_related("regulator")
        .filter(request=access_request, pk__in=[d.grant_id for d in decisions])
    }
    if not decisions:
        raise ValidationError("Decide on at least one tier.")
    now = timezone.now()
    decided = []
    for decision in decisions:
        grant = grants.get(decision.grant_id)
        if grant is None:
            raise ValidationError("That tier is not part of this request.")
        label = f"Tier {grant.tier} in {grant.environment}"
        if grant.status != Status.REQUESTED:
            raise ValidationError(f"{label} was already decided ({grant.get_status_display()}).")
        reason = decision.reason.strip()
        if decision.approve:
            if grant.regulator.kind == Regulator.Kind.PA and grant.tier > PA_HIGHEST_TIER:
                raise ValidationError(f"{label}: a Participating Agency holds tiers 1-2 only.")
            _check_production(grant)
        elif not reason:
            raise ValidationError(f"{label}: give the reason for declining.")
        grant.status = Status.APPROVED if decision.approve else Status.DECLINED
        grant.reason, grant.decided_by, grant.decided_at = reason, actor, now
        grant.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        record_event(
            actor,
            "edt.grant_approved" if decision.approve else "edt.grant_declined",
            grant,
            before={"status": Status.REQUESTED},
            after={"status": grant.status, "reason": reason},
            regulator=grant.regulator,
        )
        decided.append(grant)
    _notify(
        agency_contacts(access_request.regulator, access_request),
        "request_decided",
        {"request": access_request, "grants": decided},
    )
    return decided


def _change_grant(actor, grant: TierGrant, *, allowed_from, to: str, reason: str, action: str):
    _require_state_admin(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason; the agency is told."})
    grant = TierGrant.objects.select_for_update().select_related("regulator").get(pk=grant.pk)
    if grant.status not in allowed_from:
        raise ValidationError(
            f"Tier {grant.tier} in {grant.environment} is {grant.get_status_display().lower()}; "
            "that change does not apply."
        )
    if to == Status.APPROVED:
        _check_production(grant)
    before = grant.status
    grant.status, grant.reason = to, reason
    grant.decided_by, grant.decided_at = actor, timezone.now()
    grant.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    record_event(
        actor,
        action,
        grant,
        before={"status": before},
        after={"status": to, "reason": reason},
        regulator=grant.regulator,
    )
    _notify(
        agency_contacts(grant.regulator, grant.request),
        "grant_changed",
        {"grant": grant, "before": before},
    )
    return grant


@transaction.atomic(durable=True)
def suspend_grant(*, actor, grant: TierGrant, reason: str) -> TierGrant:
    """Put an approved grant on hold: calls to the tier fail until it is reinstated."""
    return _change_grant(
        actor,
        grant,
        allowed_from=[Status.APPROVED],
        to=Status.SUSPENDED,
        reason=reason,
        action="edt.grant_suspended",
    )


@transaction.atomic(durable=True)
def reinstate_grant(*, actor, grant: TierGrant, reason: str) -> TierGrant:
    return _change_grant(
        actor,
        grant,
        allowed_from=[Status.SUSPENDED],
        to=Status.APPROVED,
        reason=reason,
        action="edt.grant_reinstated",
    )


@transaction.atomic(durable=True)
def revoke_grant(*, actor, grant: TierGrant, reason: str) -> TierGrant:
    """End a grant for good; the agency may request the tier again later."""
    return _change_grant(
        actor,
        grant,
        allowed_from=[Status.APPROVED, Status.SUSPENDED],
        to=Status.REVOKED,
        reason=reason,
        action="edt.grant_revoked",
    )


# --- vendors -----------------------------------------------------------------------------


@transaction.atomic(durable=True)
def register_vendor(
    *, actor, name: str, contact_name: str = "", contact_email: str = "", website: str = ""
) -> Vendor:
    _require_state_admin(actor)
    vendor = Vendor(
        name=name.strip(), contact_name=contact_name, contact_email=contact_email, website=website
    )
    vendor.full_clean()
    try:
        with transaction.atomic():
            vendor.save()
    except IntegrityError:  # the same name registered at the same moment (a double click)
        raise ValidationError(
            {"name": f"A vendor named {vendor.name} is already registered."}
        ) from None
    record_event(actor, "edt.vendor_registered", vendor, after={"name": vendor.name})
    return vendor


@transaction.atomic(durable=True)
def set_vendor_tiers(*, actor, vendor: Vendor, tiers: Iterable[int]) -> list[int]:
    """Make the vendor's production authorizations exactly ``tiers``. Withdrawing a tier does
    not touch grants already made; the state administrator reviews those separately."""
    _require_state_admin(actor)
    wanted = sorted({int(t) for t in tiers})
    if any(t not in Tier.values for t in wanted):
        raise ValidationError("The tiers are 1 to 6.")
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    before = vendor.authorized_tiers()
    VendorAuthorization.objects.filter(vendor=vendor).exclude(tier__in=wanted).delete()
    for tier in set(wanted) - set(before):
        VendorAuthorization.objects.create(vendor=vendor, tier=tier, authorized_by=actor)
    if before != wanted:
        record_event(
            actor,
            "edt.vendor_tiers_set",
            vendor,
            before={"tiers": before},
            after={"tiers": wanted},
        )
    return wanted


@transaction.atomic(durable=True)
def set_agency_vendor(*, actor, regulator: Regulator, vendor: Vendor | None, own_system: bool):
    """Name the one vendor the agency works with (or its own system)."""
    _require_agency_admin(actor, regulator)
    if (vendor is None) == (not own_system):
        raise ValidationError("Choose a vendor, or say the agency runs its own system.")
    _set_agency_vendor(actor, regulator, vendor, own_system)


# --- EDT accounts and credentials --------------------------------------------------------


@transaction.atomic(durable=True)
def set_account_secret(*, actor, account: EdtAccount, secret: str | None = None) -> str:
    """Generate (or, for operators, set) the account's secret and return it: it is shown once
    and never stored, only the keyed hash of the value legacy clients send."""
    _require_agency_admin(actor, account.regulator)
    account = EdtAccount.objects.select_for_update().get(pk=account.pk)
    if secret is None:
        secret = credentials.generate_secret()
    elif len(secret) < 16:
        raise ValidationError("A secret has at least 16 characters; leave it out to generate one.")
    first = not account.has_secret
    account.legacy_digest = credentials.legacy_digest(credentials.legacy_value(secret))
    account.secret_set_at = timezone.now()
    account.save(update_fields=["legacy_digest", "secret_set_at"])
    record_event(
        actor,
        "edt.secret_set" if first else "edt.secret_rotated",
        account,
        after={"username": account.username},
        regulator=account.regulator,
    )
    return secret


@transaction.atomic(durable=True)
def set_account_active(*, actor, account: EdtAccount, active: bool) -> EdtAccount:
    _require_agency_admin(actor, account.regulator)
    account = EdtAccount.objects.select_for_update().get(pk=account.pk)
    if account.is_active != active:
        account.is_active = active
        account.save(update_fields=["is_active"])
        record_event(
            actor,
            "edt.account_enabled" if active else "edt.account_disabled",
            account,
            before={"is_active": not active},
            after={"is_active": active},
            regulator=account.regulator,
        )
    return account


MAX_TOKEN_DAYS = 366


@transaction.atomic(durable=True)
def issue_token(
    *,
    actor,
    account: EdtAccount,
    name: str,
    expires_at: datetime,
    environments: Iterable[str],
    tiers: Iterable[int],
) -> tuple[ApiToken, str]:
    """Issue a scoped API token; returns the row and the token, which is shown once."""
    _require_agency_admin(actor, account.regulator)
    name = name.strip()
    tiers, environments = _check_tiers_and_environments(account.regulator, tiers, environments)
    now = timezone.now()
    if not name:
        raise ValidationError({"name": "Name the token, e.g. after the system that uses it."})
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if (expires_at - now).days > MAX_TOKEN_DAYS:
        raise ValidationError({"expires_at": "A token lasts at most a year; issue a new one then."})
    plain = credentials.generate_token()
    token = ApiToken.objects.create(
        account=account,
        name=name,
        prefix=plain[: len(credentials.TOKEN_PREFIX) + 6],
        token_hash=credentials.token_hash(plain),
        environments=environments,
        tiers=tiers,
        created_by=actor,
        expires_at=expires_at,
    )
    record_event(
        actor,
        "edt.token_issued",
        token,
        after={
            "account": account.username,
            "name": name,
            "environments": environments,
            "tiers": tiers,
            "expires_at": expires_at.isoformat(),
        },
        regulator=account.regulator,
    )
    return token, plain


@transaction.atomic(durable=True)
def revoke_token(*, actor, token: ApiToken) -> ApiToken:
    _require_agency_admin(actor, token.account.regulator)
    token = (
        ApiToken.objects.select_for_update().select_related("account__regulator").get(pk=token.pk)
    )
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(
            actor,
            "edt.token_revoked",
            token,
            after={"name": token.name},
            regulator=token.account.regulator,
        )
    return token


@transaction.atomic(durable=True)
def create_edt_account(
    *,
    actor,
    regulator: Regulator,
    username: str,
    email: str | None = None,
    tiers: Iterable[int],
    environments: Iterable[str],
    secret: str | None = None,
) -> tuple[EdtAccount, str]:
    """Create an EDT account with approved grants directly (operators and tests), bypassing
    the request; the PA rule still holds. Returns the account and its secret."""
    _require_state_admin(actor)
    tiers, environments = _check_tiers_and_environments(regulator, tiers, environments)
    new = NewAccount(email=email or f"{username.lower()}@edt.invalid", username=username)
    _check_new_account(new)
    account = _create_account(actor, regulator, new)
    now = timezone.now()
    for environment in environments:
        for tier in tiers:
            grant, _ = TierGrant.objects.get_or_create(
                regulator=regulator,
                environment=environment,
                tier=tier,
                status__in=TierGrant.LIVE_STATUSES,
                defaults={"status": Status.APPROVED, "decided_by": actor, "decided_at": now},
            )
            if grant.status != Status.APPROVED:
                raise ValidationError(
                    f"Tier {tier} in {environment} is {grant.get_status_display().lower()} for "
                    f"{regulator.code}; decide it in the portal first."
                )
    record_event(
        actor,
        "edt.grants_set_directly",
        account,
        after={"tiers": tiers, "environments": environments},
        regulator=regulator,
    )
    # set_account_secret is durable; the same steps inline, inside this transaction.
    secret = secret or credentials.generate_secret()
    if len(secret) < 16:
        raise ValidationError("A secret has at least 16 characters; leave it out to generate one.")
    account.legacy_digest = credentials.legacy_digest(credentials.legacy_value(secret))
    account.secret_set_at = now
    account.save(update_fields=["legacy_digest", "secret_set_at"])
    return account, secret


# --- the implementers' list ----------------------------------------------------------------
#
# Double opt-in: an address receives announcements only once its owner has confirmed it,
# through a signed link e-mailed to it (staff joining with their own account's address, which
# their account already proved, are confirmed at once). Every message to the list carries a
# signed link that removes the address in one click, without signing in. Asking to join
# answers the same whatever the list holds, so the form tells nobody who is on it.

CONFIRMATION_MAX_AGE = timedelta(days=7)
_CONFIRM_SALT = "edt.implementers.confirm"
_UNSUBSCRIBE_SALT = "edt.implementers.unsubscribe"


class InvalidLink(Exception):
    """A confirmation or unsubscribe link that is damaged, forged or (confirmation) too old."""


def confirmation_token(subscriber: Subscriber) -> str:
    return signing.dumps([subscriber.pk, subscriber.email], salt=_CONFIRM_SALT, compress=True)


def unsubscribe_token(subscriber: Subscriber) -> str:
    """Never expires, and carries no time: every message to an address has the same link, and
    the one in an old announcement still works."""
    signer = signing.Signer(salt=_UNSUBSCRIBE_SALT)
    return signer.sign_object([subscriber.pk, subscriber.email], compress=True)


def _links(subscriber: Subscriber) -> dict[str, str]:
    return {
        "unsubscribe_url": settings.SITE_URL
        + reverse("edt_program:implementers_unsubscribe", args=[unsubscribe_token(subscriber)]),
    }


def subscriber_for_link(token: str, *, purpose: str) -> Subscriber | None:
    """The subscriber a link names (``purpose``: "confirm" or "unsubscribe"); None when the
    address has left the list since; ``InvalidLink`` for a link CERS did not write, or a
    confirmation link older than ``CONFIRMATION_MAX_AGE``."""
    try:
        if purpose == "confirm":
            pk, email = signing.loads(token, salt=_CONFIRM_SALT, max_age=CONFIRMATION_MAX_AGE)
        else:
            pk, email = signing.Signer(salt=_UNSUBSCRIBE_SALT).unsign_object(token)
    except signing.SignatureExpired:
        raise InvalidLink(
            "This confirmation link has expired. Ask to join the list again to get a new one."
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidLink(
            "This link is not one CERS sent, or it was cut short. Open the whole link from the "
            "e-mail, or copy it into the address bar in one piece."
        ) from None
    if not isinstance(pk, int) or not isinstance(email, str):
        raise InvalidLink("This link is not one CERS sent.")
    return Subscriber.objects.filter(pk=pk, email__iexact=email).first()


def _send_confirmation(subscriber: Subscriber) -> None:
    confirm_url = settings.SITE_URL + reverse(
        "edt_program:implementers_confirm", args=[confirmation_token(subscriber)]
    )
    _notify(
        [subscriber.email],
        "subscription_confirm",
        {
            "subscriber": subscriber,
            "confirm_url": confirm_url,
            "days": CONFIRMATION_MAX_AGE.days,
            **_links(subscriber),
        },
    )


@transaction.atomic(durable=True)
def request_subscription(*, email: str, name: str = "", actor=None) -> None:
    """Someone, signed in or not, asks to add ``email`` to the list: a new or unconfirmed
    address is sent a link to confirm it; a confirmed one is sent nothing. The caller learns
    nothing either way."""
    email = User.objects.normalize_email(email).strip().lower()
    subscriber = Subscriber.objects.select_for_update().filter(email__iexact=email).first()
    if subscriber is None:
        subscriber = Subscriber(email=email, name=name.strip()[:200])
        subscriber.full_clean()
        try:
            with transaction.atomic():
                subscriber.save()
        except IntegrityError:  # the same address asked twice at once: one row is enough
            return
    elif subscriber.confirmed_at is not None:
        return
    record_event(actor, "edt.subscription_requested", subscriber, after={"email": email})
    _send_confirmation(subscriber)


@transaction.atomic(durable=True)
def confirm_subscription(*, token: str) -> Subscriber | None:
    """The owner of the address followed the link: from now on it receives announcements.
    None when the address left the list since the link was sent."""
    subscriber = subscriber_for_link(token, purpose="confirm")
    if subscriber is None:
        return None
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["confirmed_at"])
        record_event(
            None, "edt.subscription_confirmed", subscriber, after={"email": subscriber.email}
        )
    return subscriber


@transaction.atomic(durable=True)
def unsubscribe_by_link(*, token: str) -> str | None:
    """Remove the address a message's unsubscribe link names; the address, or None when it
    had already left the list."""
    subscriber = subscriber_for_link(token, purpose="unsubscribe")
    if subscriber is None:
        return None
    record_event(None, "edt.unsubscribed", subscriber, before={"email": subscriber.email})
    subscriber.delete()
    return subscriber.email


@transaction.atomic(durable=True)
def subscribe(*, actor, email: str, name: str = "", vendor: Vendor | None = None) -> Subscriber:
    """Add someone to the implementers' list: signed-in staff add themselves (confirmed: their
    account proved the address); the state administrator adds vendor contacts, who are sent a
    link to confirm before anything else reaches them."""
    email = User.objects.normalize_email(email).strip().lower()
    own = actor is not None and actor.email.lower() == email
    if not own:
        _require_state_admin(actor)
    existing = Subscriber.objects.select_for_update().filter(email__iexact=email).first()
    if existing is not None and own and existing.confirmed_at is None:
        # asked through the public form and never confirmed: the account proves the address
        existing.confirmed_at, existing.user = timezone.now(), actor
        existing.save(update_fields=["confirmed_at", "user"])
        record_event(actor, "edt.subscription_confirmed", existing, after={"email": email})
        return existing
    if existing is not None:
        raise ValidationError(f"{email} is already on the implementers' list.")
    subscriber = Subscriber(
        email=email,
        name=name,
        vendor=vendor,
        user=actor if own else None,
        confirmed_at=timezone.now() if own else None,
    )
    subscriber.full_clean()
    try:
        with transaction.atomic():
            subscriber.save()
    except IntegrityError:
        raise ValidationError(f"{email} is already on the implementers' list.") from None
    record_event(actor, "edt.subscribed", subscriber, after={"email": email, "confirmed": own})
    if not own:
        _send_confirmation(subscriber)
    return subscriber


def follow_account_address(user, old_email: str, new_email: str) -> None:
    """``accounts.hooks.email_changed``: a subscription made with the account (staff joining
    with their own address) moves with the account to its new address, confirmed, as the
    account has just proved it. Where the new address is on the list already, that row becomes
    the account's and the old one goes. An address put on the list through the public form,
    not by the account, stays with its address (its messages' links still remove it). Runs in
    the address change's transaction."""
    moving = list(Subscriber.objects.select_for_update().filter(user=user, email__iexact=old_email))
    if not moving:
        return
    [subscriber] = moving  # one row per address
    there = (
        Subscriber.objects.select_for_update()
        .filter(email__iexact=new_email)
        .exclude(pk=subscriber.pk)
        .first()
    )
    if there is not None:
        subscriber.delete()
        subscriber = there
    subscriber.email, subscriber.user = new_email, user
    subscriber.confirmed_at = subscriber.confirmed_at or timezone.now()
    subscriber.save(update_fields=["email", "user", "confirmed_at"])
    record_event(
        user,
        "edt.subscription_moved",
        subscriber,
        before={"email": old_email},
        after={"email": new_email},
    )


@transaction.atomic(durable=True)
def unsubscribe(*, actor, subscriber: Subscriber) -> None:
    if actor is None or actor.email.lower() != subscriber.email.lower():
        _require_state_admin(actor)
    record_event(actor, "edt.unsubscribed", subscriber, before={"email": subscriber.email})
    subscriber.delete()


@transaction.atomic(durable=True)
def post_announcement(*, actor, subject: str, body: str) -> Announcement:
    """Post to the implementers' list: one e-mail per confirmed subscriber, each with its own
    unsubscribe link, and the public archive."""
    _require_state_admin(actor)
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise ValidationError("An announcement needs a subject and a message.")
    recipients = list(Subscriber.objects.confirmed().only("pk", "email").order_by("pk"))
    announcement = Announcement.objects.create(
        subject=subject, body=body, posted_by=actor, recipients=len(recipients)
    )
    # one message each, with the link that takes that address (and no other) off the list
    queue_emails(
        [
            (
                [subscriber.email],
                "edt/email/announcement",
                {"site_url": settings.SITE_URL, "announcement": announcement, **_links(subscriber)},
            )
            for subscriber in recipients
        ]
    )
    record_event(
        actor,
        "edt.announcement_posted",
        announcement,
        after={"subject": subject, "recipients": len(recipients)},
    )
    return announcement
