"""Scoped querysets for facilities."""

import re

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q

from core.pagination import search_filter
from organizations.querysets import organization_ids
from regulators.querysets import agency_scope


def facilities_regulated_by(agency_pks):
    """The primary keys of the facilities for which one of the agencies ``agency_pks``
    handles an element, as a sub-query (read from the index on
    ``(regulator_id, facility_id)``)."""
    from .models import FacilityRegulator

    return FacilityRegulator.objects.filter(regulator_id__in=agency_pks).values("facility_id")


def local_requirement(facility_id: int, element: int, regulator_id: int | None = None):
    """The local requirements (``regulators.LocalRequirement``) a business reads for one
    element of a facility: those of ``regulator_id`` when given (the agency a submitted element
    went to), else of the agency handling the element for the facility now. None when that
    agency wrote none. One query."""
    from regulators.models import LocalRequirement

    rows = LocalRequirement.objects.filter(element=element).select_related("regulator")
    if regulator_id is not None:
        rows = rows.filter(regulator_id=regulator_id)
    else:
        rows = rows.filter(
            regulator__facility_elements__facility_id=facility_id,
            regulator__facility_elements__element=element,
        )
    return rows.first()


class FacilityQuerySet(models.QuerySet):
    # in_jurisdiction(agency) lies inside for_user of anyone acting for the agency
    # (core.views.AgencyScopedMixin.scoped).
    jurisdiction_within_agency_scope = True

    def for_user(self, user, action: str = "view"):
        """Facilities ``user`` may act on with ``action``.

        Business users: the facilities of organizations where their role grants the action.
        Regulator staff: facilities for which their agency regulates at least one element
        (so a PA sees a facility when it handles one of its elements); the state agency's
        staff see every facility. The agencies and organizations come from the request's
        grants, as lists of primary keys; no sub-query reads the permissions.
        """
        agencies = agency_scope(user, action)
        if agencies.statewide:
            return self.all()
        organizations = organization_ids(user, action)
        if not organizations and not agencies:
            return self.none()
        condition = Q(pk__in=[])
        if organizations:
            condition |= Q(organization_id__in=organizations)
        if agencies:
            condition |= Q(pk__in=facilities_regulated_by(agencies.pks))
        return self.filter(condition)

    def in_jurisdiction(self, regulator):
        """The facilities in ``regulator``'s jurisdiction: those for which it handles at least
        one submittal element; every facility for the state agency."""
        from .models import FacilityRegulator

        if regulator.is_statewide:
            return self
        return self.filter(
            Exists(FacilityRegulator.objects.filter(facility=OuterRef("pk"), regulator=regulator))
        )

    def search(self, text: str, fields: list[str]):
        """The facilities matching ``text``: every word in one of ``fields`` or equal to the
        CERS ID (``core.pagination.search_filter``). A query that is a CERS ID and nothing
        else (8 or 9 digits in the range they are allocated from) finds that facility by its
        unique key: no name or street holds such a number, and the key is read from its index
        instead of matching every row of the scope against each field."""
        from .models import CERS_ID_FIRST, CERS_ID_LAST

        text = text.strip()
        if re.fullmatch(r"[0-9]{8,9}", text) and CERS_ID_FIRST <= int(text) <= CERS_ID_LAST:
            return self.filter(cers_id=int(text))
        return search_filter(self, text, fields, ["cers_id"])

    def reporting(self):
        """The facilities that still report: every one but those their business closed. What
        is due or overdue is asked of these only."""
        return self.filter(closed_at__isnull=True)

    def overdue(self, now=None):
        """The facilities whose Facility Information is overdue: none was submitted in the
        last year (``hooks.FACILITY_INFORMATION_OVERDUE_AFTER`` before ``now``), or none ever.
        A closed facility is never overdue (``reporting``), nor one that need not report
        Facility Information (``must_report``: its row set Not Applicable). The submittals,
        which stand above facilities, answer it (``hooks.overdue_facilities``)."""
        from core.elements import SubmittalElement

        from . import hooks

        reporting = self.reporting().must_report(SubmittalElement.FACILITY_INFORMATION)
        return hooks.narrow_to_overdue(reporting, now)

    def must_report(self, element: int):
        """The facilities that must report ``element``, as their status grid says
        (``schedule.requirement_of``): the regulator's setting on the element's row wins
        (Applicable or Always Applicable: yes; Not Applicable: no, whatever the answers);
        without one, Facility Information always, any other element when the Business
        Activities answers that count say Yes to a question that switches it on
        (``schedule.ELEMENTS_BY_ACTIVITY``; ``hooks.answered_yes``).

        On PostgreSQL each set of keys is read once and hashed (the settings from
        ``element_requirement_set``, the few rows holding one; the answers from the
        submittals' GIN index), and each facility of the scope is probed in the hashes: no
        sub-query runs per facility. (A semi-join on the union of the two sets was planned as
        a nested loop over the list's order, quadratic on a state-sized list: see
        docs/benchmarks.md.)"""
        from core.elements import SubmittalElement

        from . import hooks
        from .models import FacilityRegulator, ReportingRequirement
        from .schedule import ELEMENTS_BY_ACTIVITY

        element = SubmittalElement(element)
        rows = FacilityRegulator.objects.filter(element=element)
        if element == SubmittalElement.FACILITY_INFORMATION:
            exempt = rows.filter(
                facility=OuterRef("pk"), reporting_requirement=ReportingRequirement.NOT_APPLICABLE
            )
            return self.filter(~Exists(exempt))
        set_required = rows.filter(
            reporting_requirement__in=[
                ReportingRequirement.APPLICABLE,
                ReportingRequirement.ALWAYS_APPLICABLE,
            ]
        ).values("facility_id")
        questions = [
            number for number, elements in ELEMENTS_BY_ACTIVITY.items() if element in elements
        ]
        if not questions:
            return self.filter(pk__in=set_required)
        unset = ~Exists(rows.filter(facility=OuterRef("pk"), reporting_requirement__isnull=False))
        answered = hooks.facilities_answering_yes(questions)
        return self.filter(Q(pk__in=set_required) | (Q(pk__in=answered) & unset))

    def answered_yes(self, number: str):
        """The facilities whose Business Activities answers that count (those the status
        grid reads) answer question ``number`` Yes (``hooks.answered_yes``)."""
        from . import hooks

        return self.filter(pk__in=hooks.facilities_answering_yes([number]))

    def with_agency_elements(self, regulator):
        """Prefetch, as ``agency_elements``, the element rows ``regulator`` handles (one
        query)."""
        from .models import FacilityRegulator

        return self.prefetch_related(
            Prefetch(
                "regulators",
                queryset=FacilityRegulator.objects.filter(regulator=regulator),
                to_attr="agency_elements",
            )
        )


class FacilityRegulatorQuerySet(models.QuerySet):
    """The element rows of facilities: which agency handles each element, its due date."""

    def for_user(self, user, action: str = "view"):
        """The element rows of the facilities ``user`` may act on with ``action``
        (``Facility.objects.for_user``)."""
        from .models import Facility

        return self.filter(facility__in=Facility.objects.for_user(user, action).values("pk"))

    def in_jurisdiction(self, regulator):
        """The elements ``regulator`` handles (a PA: its own, not its CUPA's); every element
        row for the state agency."""
        if regulator.is_statewide:
            return self
        return self.filter(regulator=regulator)

    def overdue(self, today):
        """The elements whose next due date, set by their regulator, is before ``today``."""
        return self.filter(next_due_date__lt=today)

    def must_report(self):
        """The element rows whose facility must report their element, as the status grid says
        (``schedule.requirement_of``, the one rule): the row's setting wins (Applicable or
        Always Applicable: yes; Not Applicable: no); without one, Facility Information always,
        any other element when the facility's Business Activities answers that count switch it
        on (``hooks.answered_yes``). One sub-query per element the answers switch on, none
        correlated to the row: each set of facilities is read once and hashed (as
        ``FacilityQuerySet.must_report``)."""
        from core.elements import SubmittalElement

        from . import hooks
        from .models import ReportingRequirement
        from .schedule import ELEMENTS_BY_ACTIVITY

        switched_on = Q(element=SubmittalElement.FACILITY_INFORMATION)
        for element in SubmittalElement:
            questions = [
                number for number, elements in ELEMENTS_BY_ACTIVITY.items() if element in elements
            ]
            if questions:
                answered = hooks.facilities_answering_yes(questions)
                switched_on |= Q(element=element, facility_id__in=answered)
        set_required = Q(
            reporting_requirement__in=[
                ReportingRequirement.APPLICABLE,
                ReportingRequirement.ALWAYS_APPLICABLE,
            ]
        )
        return self.filter(set_required | (Q(reporting_requirement__isnull=True) & switched_on))

    def count_required(self) -> dict[int, int]:
        """How many of these element rows' facilities must report their element
        (``schedule.requirement_of``, the one rule), per element: what ``must_report`` would
        count, with only the answers of the facilities that need them read.

        The rows the rule decides without answers (a setting, or Facility Information) are
        counted in SQL, grouped by element and setting; the others are grouped by facility,
        their elements as one number (a bit per element), and the answers of just those
        facilities are read once (``schedule.required_by_answers``). The rule is then asked
        once per distinct elements and answers, however many facilities share them.
        (``must_report`` as a filter reads every answering facility of the state once per
        element the answers switch on: some ten hashed sub-queries, a second at 50,000
        facilities; docs/benchmarks.md.)"""
        from collections import Counter

        from django.db.models import Case, Count, F, IntegerField, Sum, Value, When

        from core.elements import SubmittalElement

        from .schedule import Setting, required_by_answers, requirement_of

        by_answers = Q(reporting_requirement__isnull=True) & ~Q(
            element=SubmittalElement.FACILITY_INFORMATION
        )
        bits = Case(
            *(When(element=element, then=Value(1 << element)) for element in SubmittalElement),
            default=Value(0),
            output_field=IntegerField(),
        )
        key = IntegerField()
        # One pass: the rows decided without answers grouped by (element, setting), the
        # others by facility, with their elements as bits.
        groups = (
            self.order_by()
            .annotate(
                asked_facility=Case(
                    When(by_answers, then=F("facility_id")), default=None, output_field=key
                ),
                decided_element=Case(
                    When(by_answers, then=Value(0)), default=F("element"), output_field=key
                ),
            )
            .values("asked_facility", "decided_element", "reporting_requirement")
            .annotate(elements=Sum(bits), n=Count("pk"))
            .values_list(
                "asked_facility", "decided_element", "reporting_requirement", "elements", "n"
            )
        )
        counts: Counter[int] = Counter()
        asked = []
        nothing: frozenset[int] = frozenset()
        for facility_id, element, setting, elements, n in groups:
            if facility_id is not None:
                asked.append((facility_id, elements))
            elif requirement_of(element, Setting(setting), nothing)[0]:
                counts[element] += n
        derived = required_by_answers(facility_id for facility_id, _elements in asked)
        shared = Counter((elements, derived[facility_id]) for facility_id, elements in asked)
        for (elements, required), n in shared.items():
            for element in SubmittalElement:
                if elements & (1 << element) and requirement_of(element, None, required)[0]:
                    counts[element] += n
        return dict(counts)


def with_jurisdiction_facility_count(organizations, regulator):
    """Annotate each of ``organizations`` with ``facility_count``: its facilities in
    ``regulator``'s jurisdiction, as one subquery in the list's own query. (It lives with the
    facilities: organizations stand below them and never look at them.)"""
    from django.db.models import Count, Subquery
    from django.db.models.functions import Coalesce

    from .models import Facility

    counts = (
        Facility.objects.filter(organization=OuterRef("pk"))
        .in_jurisdiction(regulator)
        .order_by()
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return organizations.annotate(facility_count=Coalesce(Subquery(counts), 0))


def organizations_regulated_by(agency_pks) -> Q:
    """The organizations with a facility for which one of the agencies ``agency_pks`` handles
    an element, as a condition on an organization queryset: their staff see those
    organizations (registered into ``organizations.hooks.regulated_by``, as organizations
    stand below facilities)."""
    from .models import Facility

    return Q(
        pk__in=Facility.objects.filter(pk__in=facilities_regulated_by(agency_pks))
        .order_by()
        .values("organization_id")
    )
