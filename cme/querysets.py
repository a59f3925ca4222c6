"""Scoped querysets for CME records.

Regulator staff see the inspections of a program element at a facility when one of their
agencies handles a submittal element that program element covers there (a PA handling a
facility's UST sees its UST inspections, not its business plan ones); the state agency's
staff see every record. Business users have no CME access here.
"""

from collections import defaultdict

from django.db import models
from django.db.models import Exists, OuterRef, Q

from regulators.querysets import agency_scope


def program_element_groups() -> dict[frozenset[int], list[str]]:
    """The program elements (field 905) grouped by the submittal elements whose agency
    handles them at a facility: ``{submittal elements: [codes]}``; each code in one group."""
    from .models import PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS

    groups: dict[frozenset[int], list[str]] = defaultdict(list)
    for code, elements in PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS.items():
        groups[elements].append(code)
    return groups


def regulated_by(agency_pks, facility_path: str = "facility") -> Q:
    """Inspections whose program element, at their facility, is handled by one of the
    agencies ``agency_pks`` (primary keys). One filter, so no membership row can grant access
    through another's element."""
    from facilities.models import FacilityRegulator

    condition = Q(pk__in=[])
    for elements, codes in program_element_groups().items():
        # ``facility IN (the facilities where they handle these elements)`` rather than a
        # correlated EXISTS: under the OR, PostgreSQL reads each such set once into a hash
        # (a hashed sub-plan) instead of probing the element rows once per inspection.
        handled = FacilityRegulator.objects.filter(
            element__in=elements, regulator_id__in=agency_pks
        ).values("facility_id")
        condition |= Q(program_element__in=codes, **{f"{facility_path}__in": handled})
    return condition


class InspectionQuerySet(models.QuerySet):
    # in_jurisdiction(agency) lies inside for_user of anyone acting for the agency
    # (core.views.AgencyScopedMixin.scoped).
    jurisdiction_within_agency_scope = True

    def for_user(self, user, action: str = "view"):
        """Inspections ``user`` may act on with ``action`` through any of their agencies."""
        agencies = agency_scope(user, action)
        if agencies.statewide:
            return self.all()
        if not agencies:
            return self.none()
        return self.filter(regulated_by(agencies.pks))

    def in_jurisdiction(self, regulator):
        """The inspections of the program elements ``regulator`` handles at their facility
        (every one for the state agency): the agency the user works for now, or an EDT
        caller's agency."""
        if regulator.is_statewide:
            return self
        return self.filter(regulated_by([regulator.pk]))


class ViolationQuerySet(models.QuerySet):
    # in_jurisdiction(agency) lies inside for_user of anyone acting for the agency
    # (core.views.AgencyScopedMixin.scoped).
    jurisdiction_within_agency_scope = True

    def for_user(self, user, action: str = "view"):
        """Violations of the inspections ``user`` may act on."""
        from .models import Inspection

        return self.filter(inspection__in=Inspection.objects.for_user(user, action).values("pk"))

    def in_jurisdiction(self, regulator):
        """The violations of the inspections in ``regulator``'s jurisdiction."""
        from .models import Inspection

        return self.filter(
            inspection__in=Inspection.objects.in_jurisdiction(regulator).values("pk")
        )


class EnforcementQuerySet(models.QuerySet):
    # in_jurisdiction(agency) lies inside for_user of anyone acting for the agency
    # (core.views.AgencyScopedMixin.scoped).
    jurisdiction_within_agency_scope = True

    def for_user(self, user, action: str = "view"):
        """Enforcement actions recorded by one of the user's agencies, or linked to a
        violation the user may act on; every one for state staff."""
        from .models import Violation

        agencies = agency_scope(user, action)
        if agencies.statewide:
            return self.all()
        if not agencies:
            return self.none()
        violations = Violation.objects.for_user(user, action).filter(enforcements=OuterRef("pk"))
        return self.filter(Q(regulator_id__in=agencies.pks) | Q(Exists(violations)))

    def in_jurisdiction(self, regulator):
        """The enforcement actions in ``regulator``'s scope (every one for the state agency):
        those it recorded and those linked to a violation of an inspection in its
        jurisdiction."""
        from .models import Inspection

        if regulator.is_statewide:
            return self
        inspections = Inspection.objects.in_jurisdiction(regulator).values("pk")
        return self.recorded_or_linked([regulator.pk], inspections)

    def recorded_or_linked(self, agency_pks, inspections):
        """The enforcement actions recorded by one of the agencies ``agency_pks`` or linked to
        a violation of one of ``inspections`` (a query of inspection keys): with the agencies'
        inspections in jurisdiction, the union of their ``in_jurisdiction``, for a caller
        that has drawn those inspections once already (RCMEQ)."""
        from .models import EnforcementViolation

        # ``pk IN (the linked actions)`` rather than a correlated EXISTS: under the OR,
        # PostgreSQL reads the set once into a hash instead of probing the links once per
        # enforcement action (which, read through a cursor, it prefers for a fast start).
        linked = EnforcementViolation.objects.filter(violation__inspection__in=inspections).values(
            "enforcement_id"
        )
        return self.filter(Q(regulator_id__in=agency_pks) | Q(pk__in=linked))
