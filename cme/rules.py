"""Who may record CME (``core.access``): inspections, violations, enforcement actions.

The staff of an agency with the ``record_cme`` permission (reviewers / inspectors and
administrators) record for their agency; an EDT account records for its agency and, a CUPA's,
for the CUPA's PAs (tier 3). Either way the agency recorded for must handle, at the facility,
a submittal element the program element covers (the state agency may record for any
facility); an enforcement action needs an agency regulating the facility. ``actor`` None is
the system itself (data loads): only the jurisdiction is checked.

``refusals`` asks the same rule of many records at once (an upload's thousands): the agency
half once per agency, the jurisdiction half from one query for every agency and facility.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    may_record_for(actor, work.regulator)
    _in_jurisdiction(work, lambda: handled_elements([work])[work.regulator.pk, work.facility.pk])
    return True


def _in_jurisdiction(work: CmeWork, handled) -> None:
    """The jurisdiction half of ``may_record_cme``, for one work or many (``refusals``):
    ``handled()`` gives the submittal elements the agency handles at the facility, asked only
    of an agency that is not the state's."""
    regulator = work.regulator
    if regulator.is_statewide:
        return
    elements = handled()
    if work.program_element is None:
        if not elements:
            raise PermissionDenied(f"{regulator.name} does not regulate this facility.")
        return
    if not elements & PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS[work.program_element]:
        raise PermissionDenied(
            f"{regulator.name} does not regulate the "
            f"{ProgramElement(work.program_element).label} program element at this facility."
        )


def handled_elements(works: Iterable[CmeWork]) -> dict[tuple[int, int], frozenset[int]]:
    """The submittal elements each work's agency handles at its facility, by (agency key,
    facility key), in one query however many works (every pair is present, empty when the
    agency handles nothing there)."""
    pairs = {(work.regulator.pk, work.facility.pk) for work in works}
    found: dict[tuple[int, int], set[int]] = {pair: set() for pair in pairs}
    if pairs:
        rows = FacilityRegulator.objects.filter(  # each list as one array (``__any``)
            regulator__pk__any={regulator for regulator, _facility in pairs},
            facility__pk__any={facility for _regulator, facility in pairs},
        ).values_list("regulator_id", "facility_id", "element")
        for regulator, facility, element in rows:
            if (regulator, facility) in found:
                found[regulator, facility].add(element)
    return {pair: frozenset(elements) for pair, elements in found.items()}


def refusals(actor, works: Iterable[CmeWork]) -> dict[CmeWork, PermissionDenied]:
    """``may_record_cme`` asked of many works at once: the refusal of each work refused (none
    for those allowed). The agency half is asked once per agency, the jurisdiction half reads
    what every agency handles at every facility in one query (``handled_elements``): a batch
    of thousands of records costs a few queries, not one per record."""
    works = set(works)
    agencies = {work.regulator.pk: work.regulator for work in works}
    refused_agency: dict[int, PermissionDenied | None] = {}  # by the agency's key
    for key, regulator in agencies.items():
        try:
            may_record_for(actor, regulator)
        except PermissionDenied as refusal:
            refused_agency[key] = refusal
        else:
            refused_agency[key] = None
    found: dict[CmeWork, PermissionDenied] = {}
    asked = [w for w in works if refused_agency[w.regulator.pk] is None]
    handled = handled_elements(w for w in asked if not w.regulator.is_statewide)
    for work in works:
        refusal = refused_agency[work.regulator.pk]
        if refusal is None:
            try:
                _in_jurisdiction(
                    work, lambda work=work: handled[work.regulator.pk, work.facility.pk]
                )
            except PermissionDenied as error:
                refusal = error
        if refusal is not None:
            found[work] = refusal
    return found
