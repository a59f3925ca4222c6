"""Who may change what a regulator keeps about a facility's elements, move facilities between
organizations and manage organizations statewide (``core.access``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from core.access import acting_agency, rule
from organizations.models import Organization
from regulators.querysets import is_state_administrator, regulators_with

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
    """An element's next due date (and reporting requirement) is the regulator's to set:
    through EDT, an account of the CUPA handling the element or of the CUPA of the PA handling
    it. The portal has no form for them."""
    agency = acting_agency(actor, "facilities.set_due_dates")
    if agency is None:
        return False
    if row.regulator_id not in agency_and_pas(agency):
        raise PermissionDenied(
            f"Element {row.element} of CERS ID {row.facility.cers_id} is not handled by "
            f"{agency.name} or its PAs."
        )
    return True


@rule("facilities.transfer", Facility)
def may_transfer(actor, facility: Facility) -> bool:
    """Moving a facility to another organization, or merging it with a duplicate, is for the
    administrators (manage_facilities) of an agency regulating it; the state administrator's
    for any facility, since the state agency sees everything. (Not
    ``Facility.objects.for_user``: that also admits Lead Users.)"""
    if is_state_administrator(actor):
        return True
    return FacilityRegulator.objects.filter(
        facility=facility, regulator__in=regulators_with(actor, "manage")
    ).exists()


@rule("facilities.manage_statewide", Organization)
def may_manage_statewide(actor, organization: Organization) -> bool:
    """Taking an organization over, releasing it and merging organizations are the state
    administrator's alone: they change who leads an organization, whatever the agencies
    regulating its facilities."""
    return is_state_administrator(actor)
