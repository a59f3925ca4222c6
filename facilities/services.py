"""Every write to facilities: one transaction and one audit event each."""

from __future__ import annotations

import re
from collections import Counter

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.elements import SubmittalElement
from core.scoping import regulators_with
from core.services import next_value, record_event
from organizations.models import Membership, Organization
from organizations.roles import MANAGE_FACILITIES, Role
from regulators.models import Regulator, ServiceArea

from .models import CERS_ID_FIRST, Facility, FacilityRegulator, FacilityTransfer

# USPS street suffix and direction abbreviations most often written out in full.
_ABBREVIATIONS = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "BOULEVARD": "BLVD",
    "ROAD": "RD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "HIGHWAY": "HWY",
    "PARKWAY": "PKWY",
    "CIRCLE": "CIR",
    "SUITE": "STE",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
}


def address_key(street: str, city: str, zip_code: str) -> str:
    """A comparable form of an address: upper case, punctuation dropped, common words
    abbreviated the USPS way, 5-digit ZIP."""

    def fold(text: str) -> str:
        words = re.sub(r"[^A-Z0-9 ]", " ", text.upper()).split()
        return " ".join(_ABBREVIATIONS.get(word, word) for word in words)

    return f"{fold(street)}|{fold(city)}|{zip_code.strip()[:5]}"


def check_duplicate_address(organization: Organization, street: str, city: str, zip_code: str):
    """Raise ValidationError naming the facility that already has this address."""
    key = address_key(street, city, zip_code)
    existing = Facility.objects.filter(address_key=key).select_related("organization")
    same = next((f for f in existing if f.organization_id == organization.pk), None)
    if same is not None:
        raise ValidationError(
            f"This organization already has a facility at this address: {same.name} "
            f"(CERS ID {same.cers_id})."
        )
    other = next(iter(existing), None)
    if other is not None:
        raise ValidationError(
            f"A facility at this address is already reported in CERS (CERS ID {other.cers_id}) "
            "by another organization. If it is the same site, ask to join that organization "
            "with that CERS ID, or ask your regulator to transfer the facility."
        )


def assign_jurisdiction(facility: Facility) -> list[FacilityRegulator]:
    """Assign each submittal element of a new facility to its regulator, from the ZIP code's
    service areas: the PA serving that element there if any, else the CUPA. Facility
    Information always goes to the CUPA."""
    zip5 = facility.zip_code[:5]
    areas = list(ServiceArea.objects.filter(zip_code=zip5).select_related("regulator"))
    cupa = next(
        (a.regulator for a in areas if a.regulator.kind == Regulator.Kind.CUPA and not a.element),
        None,
    )
    rows = []
    for element in SubmittalElement:
        regulator = cupa
        if element != SubmittalElement.FACILITY_INFORMATION:
            pa = next(
                (
                    a.regulator
                    for a in areas
                    if a.regulator.kind == Regulator.Kind.PA and a.element in (None, element)
                ),
                None,
            )
            regulator = pa or cupa
        if regulator is not None:
            rows.append(FacilityRegulator(facility=facility, element=element, regulator=regulator))
    return FacilityRegulator.objects.bulk_create(rows)


def refresh_lead_regulator(organization: Organization) -> Regulator | None:
    """Set the organization's lead regulator: the CUPA holding most of its facilities
    (ties go to the lower regulator code). Returns the new lead."""
    counts = Counter(
        FacilityRegulator.objects.filter(
            facility__organization=organization,
            element=SubmittalElement.FACILITY_INFORMATION,
            regulator__kind=Regulator.Kind.CUPA,
        ).values_list("regulator_id", "regulator__code")
    )
    lead_id = None
    if counts:
        (lead_id, _code), _n = min(counts.items(), key=lambda item: (-item[1], item[0][1]))
    if organization.lead_regulator_id != lead_id:
        Organization.objects.filter(pk=organization.pk).update(lead_regulator_id=lead_id)
        organization.lead_regulator_id = lead_id
    return organization.lead_regulator


@transaction.atomic(durable=True)
def create_facility(**fields) -> Facility:
    """Add a facility to an organization: refuse a duplicate address, allocate the next CERS
    ID, assign its regulators, and keep the organization's lead regulator right.

    Its own transaction; ``add_facility`` is the same inside a caller's transaction (the
    legacy import adds many facilities in one)."""
    return add_facility(**fields)


def add_facility(
    *,
    actor,
    organization: Organization,
    name: str,
    street: str,
    city: str,
    zip_code: str,
    county: str = "",
    state: str = "CA",
) -> Facility:
    """``create_facility`` without a transaction of its own: call it inside one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("add_facility must run inside a transaction.")
    if actor is not None and not actor.has_perm(f"organizations.{MANAGE_FACILITIES}", organization):
        raise PermissionDenied("Only the organization's Lead Users add facilities.")
    if not re.fullmatch(r"\d{5}(-\d{4})?", zip_code.strip()):
        raise ValidationError({"zip_code": "Enter a ZIP code of 5 digits, or ZIP+4."})
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    check_duplicate_address(organization, street, city, zip_code)
    facility = Facility(
        cers_id=next_value("cers_id", CERS_ID_FIRST),
        organization=organization,
        name=name.strip(),
        street=street.strip(),
        city=city.strip(),
        state=state,
        zip_code=zip_code.strip(),
        county=county.strip(),
        address_key=address_key(street, city, zip_code),
    )
    facility.full_clean()
    facility.save()
    assign_jurisdiction(facility)
    refresh_lead_regulator(organization)
    record_event(
        actor,
        "facility.created",
        facility,
        after={"cers_id": facility.cers_id, "name": facility.name, "address": facility.address},
        organization=organization,
    )
    return facility


# --- Transfers: moving facilities and merging facilities or organizations (regulators) ---

LETTER_MAX_BYTES = 10 * 1024 * 1024
_LETTER_SIGNATURES = (b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.APPROVER: 2, Role.LEAD: 3}


def _regulator_may_manage(actor, facility: Facility) -> bool:
    """Whether ``actor`` holds manage_facilities on an agency regulating ``facility`` or on
    the state agency. (Not ``Facility.objects.for_user``: that also admits Lead Users.)"""
    agencies = regulators_with(actor, "manage")
    if agencies.filter(kind=Regulator.Kind.STATE).exists():
        return True
    return FacilityRegulator.objects.filter(facility=facility, regulator__in=agencies).exists()


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for this change."})
    return reason


def check_letter(letter) -> None:
    """Refuse a missing letter, one over 10 MB, or one that is not a PDF, PNG or JPEG (by its
    first bytes, not by its name)."""
    if not letter:
        raise ValidationError({"letter": "Attach the business's request on its letterhead."})
    if letter.size > LETTER_MAX_BYTES:
        raise ValidationError({"letter": "The letter must be 10 MB or smaller."})
    letter.seek(0)
    head = letter.read(8)
    letter.seek(0)
    if not any(head.startswith(signature) for signature in _LETTER_SIGNATURES):
        raise ValidationError({"letter": "The letter must be a PDF, PNG or JPEG file."})


def _lock_organizations(*organizations: Organization) -> dict[int, Organization]:
    """Lock the organizations' rows in primary-key order, so concurrent transfers queue."""
    pks = sorted({o.pk for o in organizations})
    locked = Organization.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    return {o.pk: o for o in locked}


def _record_on_both(actor, action, obj, transfer, before, after) -> None:
    """One audit event on each organization the change touches (one if they are the same)."""
    organizations = {transfer.from_organization_id: transfer.from_organization}
    organizations.setdefault(transfer.to_organization_id, transfer.to_organization)
    for organization in organizations.values():
        record_event(
            actor,
            action,
            obj,
            before=before,
            after={**after, "transfer": transfer.pk},
            organization=organization,
        )


@transaction.atomic(durable=True)
def move_facility(
    *, actor, facility: Facility, to_organization: Organization, reason: str, letter
) -> FacilityTransfer:
    """Move a facility to another organization at the business's written request. The
    facility keeps its CERS ID, its submittals and its regulators; both organizations' lead
    regulators are recomputed."""
    if not _regulator_may_manage(actor, facility):
        raise PermissionDenied("Only administrators of the facility's regulators move it.")
    reason = _require_reason(reason)
    check_letter(letter)
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if facility.organization_id == to_organization.pk:
        raise ValidationError(
            {"organization_code": "The facility already belongs to that organization."}
        )
    locked = _lock_organizations(facility.organization, to_organization)
    source, target = locked[facility.organization_id], locked[to_organization.pk]
    facility.organization = target
    facility.save(update_fields=["organization"])
    transfer = FacilityTransfer.objects.create(
        kind=FacilityTransfer.Kind.MOVE,
        facility=facility,
        facility_cers_id=facility.cers_id,
        facility_name=facility.name,
        from_organization=source,
        from_organization_code=source.code,
        from_organization_name=source.name,
        to_organization=target,
        reason=reason,
        letter=letter,
        performed_by=actor,
    )
    refresh_lead_regulator(source)
    refresh_lead_regulator(target)
    _record_on_both(
        actor,
        "facility.moved",
        facility,
        transfer,
        before={"organization": source.code},
        after={"organization": target.code, "reason": reason},
    )
    return transfer


@transaction.atomic(durable=True)
def merge_facilities(
    *, actor, duplicate: Facility, survivor: Facility, reason: str
) -> FacilityTransfer:
    """Merge a duplicate facility into the one that stays: its submittals move to the
    survivor, then the duplicate and its jurisdiction rows are deleted. Refused while either
    facility has a draft in progress, which would clash with the other's drafts."""
    from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord

    if duplicate.pk == survivor.pk:
        raise ValidationError({"cers_id": "A facility cannot be merged into itself."})
    if not (_regulator_may_manage(actor, duplicate) and _regulator_may_manage(actor, survivor)):
        raise PermissionDenied("Only administrators regulating both facilities merge them.")
    reason = _require_reason(reason)
    facilities = {
        f.pk: f
        for f in Facility.objects.select_for_update()
        .filter(pk__in=sorted([duplicate.pk, survivor.pk]))
        .order_by("pk")
    }
    duplicate, survivor = facilities[duplicate.pk], facilities[survivor.pk]
    drafting = list(
        SubmittalElementRecord.objects.filter(
            facility__in=[duplicate, survivor], status=ElementStatus.DRAFT
        )
        .values_list("facility__cers_id", flat=True)
        .distinct()
    )
    if drafting:
        ids = ", ".join(str(cers_id) for cers_id in sorted(drafting))
        raise ValidationError(
            f"A draft submittal is in progress for CERS ID {ids}. Ask the business to submit "
            "or discard it before the facilities are merged."
        )
    locked = _lock_organizations(duplicate.organization, survivor.organization)
    source, target = locked[duplicate.organization_id], locked[survivor.organization_id]
    # Empty draft groups hold nothing; one would clash with the survivor's own draft group.
    FacilitySubmittal.objects.filter(
        facility=duplicate, status=FacilitySubmittal.Status.DRAFT
    ).delete()
    moved_submittals = FacilitySubmittal.objects.filter(facility=duplicate).update(
        facility=survivor
    )
    moved_elements = SubmittalElementRecord.objects.filter(facility=duplicate).update(
        facility=survivor
    )
    transfer = FacilityTransfer.objects.create(
        kind=FacilityTransfer.Kind.MERGE_FACILITY,
        facility=duplicate,
        facility_cers_id=duplicate.cers_id,
        facility_name=duplicate.name,
        from_organization=source,
        from_organization_code=source.code,
        from_organization_name=source.name,
        to_organization=target,
        merged_into_facility=survivor,
        reason=reason,
        performed_by=actor,
    )
    _record_on_both(
        actor,
        "facility.merged",
        duplicate,
        transfer,
        before={"cers_id": duplicate.cers_id, "name": duplicate.name, "organization": source.code},
        after={
            "merged_into": survivor.cers_id,
            "organization": target.code,
            "submittals_moved": moved_submittals,
            "elements_moved": moved_elements,
            "reason": reason,
        },
    )
    FacilityRegulator.objects.filter(facility=duplicate).delete()
    duplicate.delete()
    refresh_lead_regulator(source)
    refresh_lead_regulator(target)
    return transfer


@transaction.atomic(durable=True)
def merge_organizations(
    *, actor, source: Organization, target: Organization, reason: str
) -> FacilityTransfer:
    """Merge one organization into another (state staff only): every facility and member of
    ``source`` moves to ``target`` (a member of both keeps the higher role), its audit history
    is filed under ``target``, and ``source`` is deleted."""
    from core.models import AuditEvent
    from organizations.services import _grant_role

    agencies = regulators_with(actor, "manage")
    if not agencies.filter(kind=Regulator.Kind.STATE).exists():
        raise PermissionDenied("Only state administrators merge organizations.")
    if source.pk == target.pk:
        raise ValidationError({"organization_code": "Choose another organization."})
    reason = _require_reason(reason)
    locked = _lock_organizations(source, target)
    source, target = locked[source.pk], locked[target.pk]
    cers_ids = list(source.facilities.order_by("cers_id").values_list("cers_id", flat=True))
    source.facilities.update(organization=target)

    in_target = {m.user_id: m for m in Membership.objects.filter(organization=target)}
    roles = {}
    for membership in Membership.objects.filter(organization=source).select_related("user"):
        kept = in_target.get(membership.user_id)
        if kept is None:
            membership.organization = target
            membership.save(update_fields=["organization"])
            roles[membership.user] = membership.role
            continue
        if _ROLE_RANK[membership.role] > _ROLE_RANK[kept.role]:
            kept.role = membership.role
            kept.save(update_fields=["role"])
        roles[membership.user] = kept.role
        membership.delete()
    for user, role in roles.items():
        _grant_role(user, target, role)

    transfer = FacilityTransfer.objects.create(
        kind=FacilityTransfer.Kind.MERGE_ORGANIZATION,
        from_organization=source,
        from_organization_code=source.code,
        from_organization_name=source.name,
        to_organization=target,
        reason=reason,
        performed_by=actor,
    )
    _record_on_both(
        actor,
        "organization.merged",
        source,
        transfer,
        before={"code": source.code, "name": source.name},
        after={
            "merged_into": target.code,
            "facilities": cers_ids,
            "members": sorted(user.email for user in roles),
            "reason": reason,
        },
    )
    # Keep the merged organization's history: file its audit events under the target.
    AuditEvent.objects.filter(organization=source).update(organization=target)
    FacilityTransfer.objects.filter(to_organization=source).update(to_organization=target)
    refresh_lead_regulator(target)
    source.delete()
    return transfer
