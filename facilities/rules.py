"""Who may add facilities, change what a regulator keeps about a facility's elements, move
facilities between organizations, manage an agency's facilities and manage organizations
statewide (``core.access``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from core.access import acting_agency, is_service_account, rule
from core.elements import SubmittalElement
from organizations.models import Organization
from organizations.roles import MANAGE_FACILITIES
from regulators.models import Regulator
from regulators.querysets import is_state_administrator, regulators_with
from regulators.roles import MANAGE_FACILITIES as MANAGE_AGENCY_FACILITIES

from .models import Facility, FacilityRegulator


def agency_and_pas(agency) -> frozenset[int]:
    """The primary keys of ``agency`` and its Participating Agencies: what a CUPA's system
    reports for (a PA has none). Kept on the agency object, which a service account's
    resolver keeps for the whole upload."""
    family = getattr(agency, "_agency_and_pas", None)
    if family is None:
        family = frozenset({agency.pk, *agency.participating_agencies.values_list("pk", flat=True)})
        agency._agency_and_pas = family
    return family


@rule("facilities.set_due_dates", FacilityRegulator)
def may_set_due_dates(actor, row: FacilityRegulator) -> bool:
    """An element's next due date and reporting requirement are its regulator's to set:
    through EDT, an account of the CUPA handling the element or of the CUPA of the PA handling
    it; in the portal, staff who review for either (Reviewers and Administrators), or for the
    state agency, who review anywhere (as ``submittals.review`` lets them accept an element,
    which sets its due date)."""
    agency = acting_agency(actor, "facilities.set_due_dates")
    if agency is None:
        if actor is None or is_service_account(actor):
            return False
        return (
            regulators_with(actor, "review")
            .filter(
                Q(pk=row.regulator_id)
                | Q(participating_agencies=row.regulator_id)
                | Q(kind=Regulator.Kind.STATE)
            )
            .exists()
        )
    if row.regulator_id not in agency_and_pas(agency):
        raise PermissionDenied(
            f"Element {row.element} of CERS ID {row.facility.cers_id} is not handled by "
            f"{agency.name} or its PAs."
        )
    return True


@rule("facilities.set_metadata", Facility)
def may_set_metadata(actor, facility: Facility) -> bool:
    """A facility's local keys, location and element regulators are its CUPA's to keep:
    through EDT (facility create and metadata), an account of the agency handling the
    facility's Facility Information; in the portal (its local keys and location only), staff
    who review for that agency (Reviewers and Administrators), or for the state agency."""
    agency = acting_agency(actor, "facilities.set_metadata")
    if agency is None:
        if actor is None or is_service_account(actor):
            return False
        handles_fi = FacilityRegulator.objects.filter(
            facility=facility, element=SubmittalElement.FACILITY_INFORMATION
        ).values("regulator_id")
        if (
            not regulators_with(actor, "review")
            .filter(Q(pk__in=handles_fi) | Q(kind=Regulator.Kind.STATE))
            .exists()
        ):
            raise PermissionDenied(
                "Only staff reviewing for the agency handling the facility's Facility "
                "Information set its facility ID and location."
            )
        return True
    if not FacilityRegulator.objects.filter(
        facility=facility, element=SubmittalElement.FACILITY_INFORMATION, regulator=agency
    ).exists():
        raise PermissionDenied(f"CERS ID {facility.cers_id} is not in {agency}'s jurisdiction.")
    return True


@rule("facilities.create", Organization)
def may_create(actor, organization: Organization) -> bool:
    """Add a facility to the organization: one of its Lead Users, or an EDT account for its
    CUPA (facility create, tier 5), whose jurisdiction the facility's address must be in
    (the service checks the address)."""
    if acting_agency(actor, "facilities.create") is not None:
        return True
    if actor is None or not actor.has_perm(f"organizations.{MANAGE_FACILITIES}", organization):
        raise PermissionDenied("Only the organization's Lead Users add facilities.")
    return True


@rule("facilities.upkeep", Facility)
def may_keep_up(actor, facility: Facility) -> bool:
    """Editing a facility's name and address, closing it and asking its regulator to move it
    to another organization: the Lead Users of the organization it belongs to (the people
    who add its facilities)."""
    if not hasattr(actor, "has_perm") or not actor.has_perm(
        f"organizations.{MANAGE_FACILITIES}", facility.organization
    ):
        raise PermissionDenied(
            "Only the organization's Lead Users edit, close or ask to transfer a facility."
        )
    return True


@rule("facilities.reopen", Facility)
def may_reopen(actor, facility: Facility) -> bool:
    """Reopening a closed facility: those who may close it (the Lead Users of its
    organization, ``facilities.upkeep``), the administrators of an agency handling one of its
    elements (a CUPA or a PA, who learned of the closing and know the site), and the state
    administrator."""
    if not hasattr(actor, "has_perm"):
        return False
    if actor.has_perm(f"organizations.{MANAGE_FACILITIES}", facility.organization):
        return True
    if is_state_administrator(actor):
        return True
    return FacilityRegulator.objects.filter(
        facility=facility, regulator__in=regulators_with(actor, "manage")
    ).exists()


@rule("facilities.transfer", Facility)
def may_transfer(actor, facility: Facility) -> bool:
    """Moving a facility to another organization, or merging it with a duplicate, is for the
    administrators (manage_facilities) of the facility's CUPA (a CUPA among its element
    regulators), and for the state administrator, whatever the facility. A PA handling some
    of its elements sees the facility but does not move the CUPA's elements with it. (Not
    ``Facility.objects.for_user``: that also admits Lead Users and PAs.)"""
    if is_state_administrator(actor):
        return True
    return FacilityRegulator.objects.filter(
        facility=facility,
        regulator__kind=Regulator.Kind.CUPA,
        regulator__in=regulators_with(actor, "manage"),
    ).exists()


@rule("facilities.manage_statewide", Organization)
def may_manage_statewide(actor, organization: Organization) -> bool:
    """Taking an organization over, releasing it and merging organizations are the state
    administrator's alone: they change who leads an organization, whatever the agencies
    regulating its facilities."""
    return is_state_administrator(actor)


@rule("facilities.manage", Regulator)
def may_manage_for(actor, regulator: Regulator) -> bool:
    """Manage facilities for the agency (move, merge, import legacy facilities): its
    administrators. The portal's pages ask it of the agency the user works for; which
    facility may be moved is ``facilities.transfer``'s to say."""
    return actor is not None and actor.has_perm(f"regulators.{MANAGE_AGENCY_FACILITIES}", regulator)
