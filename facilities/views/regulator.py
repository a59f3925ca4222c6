"""Regulator portal pages for the facilities in the current agency's jurisdiction.

Every queryset starts from ``Facility.objects.for_user(user, "view")`` (all the agencies the
user is staff of) and is narrowed to the agency the user is working for, so a facility outside
that agency's jurisdiction answers 404.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.pagination import paginate, search_filter
from core.views import RegulatorPortalMixin, ScopedQuerysetMixin
from regulators.models import Regulator

from ..models import Facility, FacilityRegulator
from .business import element_regulators, with_element_regulators

SEARCH_FIELDS = ["name", "street", "city", "organization__name"]
SEARCH_EXACT_INT_FIELDS = ["cers_id"]


def facilities_in_jurisdiction(queryset, regulator: Regulator):
    """Narrow a facility queryset to ``regulator``'s jurisdiction: the facilities for which
    it handles at least one submittal element; every facility for the state agency."""
    if regulator.kind == Regulator.Kind.STATE:
        return queryset
    return queryset.filter(
        Exists(FacilityRegulator.objects.filter(facility=OuterRef("pk"), regulator=regulator))
    )


def with_agency_elements(queryset, regulator: Regulator):
    """Prefetch, as ``agency_elements``, the element rows ``regulator`` handles (one query)."""
    return queryset.prefetch_related(
        Prefetch(
            "regulators",
            queryset=FacilityRegulator.objects.filter(regulator=regulator),
            to_attr="agency_elements",
        )
    )


class JurisdictionFacilitiesMixin(RegulatorPortalMixin, ScopedQuerysetMixin):
    """The facilities in the jurisdiction of the agency the user is working for."""

    model = Facility

    def get_queryset(self):
        return facilities_in_jurisdiction(super().get_queryset(), self.regulator)

    def agency_context(self) -> dict:
        return {
            "regulator": self.regulator,
            "statewide": self.regulator.kind == Regulator.Kind.STATE,
            "element_count": len(SubmittalElement),
        }


class FacilityListView(JurisdictionFacilitiesMixin, TemplateView):
    """The agency's facilities: searchable by name, CERS ID, street, city and organization."""

    template_name = "facilities/regulator_list.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        facilities = search_filter(
            self.get_queryset().select_related("organization"),
            query,
            SEARCH_FIELDS,
            SEARCH_EXACT_INT_FIELDS,
        )
        facilities = with_agency_elements(facilities, self.regulator)
        return super().get_context_data(
            page=paginate(self.request, facilities), q=query, **self.agency_context(), **kwargs
        )


class FacilityDetailView(JurisdictionFacilitiesMixin, TemplateView):
    """One facility in the agency's jurisdiction, its organization and its regulators."""

    template_name = "facilities/regulator_detail.html"

    def get_context_data(self, **kwargs):
        queryset = with_element_regulators(
            self.get_queryset().select_related("organization__lead_regulator")
        )
        facility = queryset.filter(cers_id=self.kwargs["cers_id"]).first()
        if facility is None:
            raise Http404("No such facility in this agency's jurisdiction.")
        return super().get_context_data(
            facility=facility,
            element_regulators=element_regulators(facility),
            **self.agency_context(),
            **kwargs,
        )
