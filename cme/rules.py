"""Who may record CME (``core.access``): inspections, violations, enforcement actions.

The staff of an agency with the ``record_cme`` permission (reviewers / inspectors and
administrators) record for their agency; an EDT account records for its agency and, a CUPA's,
for the CUPA's PAs (tier 3). Either way the agency recorded for must handle, at the facility,
a submittal element the program element covers (the state agency may record for any
facility); an enforcement action needs an agency regulating the facility. ``actor`` None is
the system itself (data loads): only the jurisdiction is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from core.access import acting_agency, is_service_account, rule
from facilities.models import Facility, FacilityRegulator
from facilities.rules import agency_and_pas
from regulators.models import Regulator
from regulators.roles import CME

from .models import PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS, ProgramElement

NO_CME_ROLE = "Your role at this agency does not allow recording CME data."


@dataclass(frozen=True)
class CmeWork:
    """What a CME write is about: the agency recording, the facility, and the program element
    of the inspection or violation (None for an enforcement action's own facility check)."""

    regulator: Regulator
    facility: Facility
    program_element: str | None = None


def recordable_program_elements(regulator: Regulator, facility: Facility) -> list[str]:
    """The program elements ``regulator`` may record CME for at ``facility``, in code order:
    those covering a submittal element it handles there (every one for the state agency).
    The forms offer these; ``may_record_cme`` holds the same rule for every write."""
    if regulator.is_statewide:
        return list(ProgramElement.values)
    handled = set(
        FacilityRegulator.objects.filter(facility=facility, regulator=regulator).values_list(
            "element", flat=True
        )
    )
    return [
        element
        for element in ProgramElement.values
        if handled & PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS[element]
    ]


@rule("cme.record", Regulator)
def may_record_for(actor, regulator: Regulator) -> bool:
    """Record CME for ``regulator`` somewhere (the spreadsheet upload asks before reading)."""
    if is_service_account(actor):
        agency = acting_agency(actor, "cme.record")
        if agency is None or regulator.pk not in agency_and_pas(agency):
            raise PermissionDenied(
                "This EDT account's agency does not record CME for "
                f"{regulator.name} ({regulator.code})."
            )
    elif actor is not None and not actor.has_perm(f"regulators.{CME}", regulator):
        raise PermissionDenied(NO_CME_ROLE)
    return True


@rule("cme.record", CmeWork)
def may_record_cme(actor, work: CmeWork) -> bool:
    """Record CME for ``work.regulator`` at ``work.facility``, of ``work.program_element``."""
    regulator, facility = work.regulator, work.facility
    may_record_for(actor, regulator)
    if regulator.is_statewide:
        return True
    if work.program_element is None:
        if not FacilityRegulator.objects.filter(facility=facility, regulator=regulator).exists():
            raise PermissionDenied(f"{regulator.name} does not regulate this facility.")
        return True
    handled = FacilityRegulator.objects.filter(
        facility=facility,
        regulator=regulator,
        element__in=PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS[work.program_element],
    ).exists()
    if not handled:
        raise PermissionDenied(
            f"{regulator.name} does not regulate the "
            f"{ProgramElement(work.program_element).label} program element at this facility."
        )
    return True
