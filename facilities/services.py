"""Every write to facilities: one transaction and one audit event each."""

from __future__ import annotations

import re
from collections import Counter

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.elements import SubmittalElement
from core.services import next_value, record_event
from organizations.models import Organization
from organizations.roles import MANAGE_FACILITIES
from regulators.models import Regulator, ServiceArea

from .models import CERS_ID_FIRST, Facility, FacilityRegulator

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
def create_facility(
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
    """Add a facility to an organization: refuse a duplicate address, allocate the next CERS
    ID, assign its regulators, and keep the organization's lead regulator right."""
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
