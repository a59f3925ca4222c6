"""Business portal pages for the current organization's facilities.

Every queryset starts from ``Facility.objects.for_user(user, "view")`` and is narrowed to the
organization the user is working in (``OrganizationScopedMixin``), so a facility of any other
organization answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView

from core.elements import SubmittalElement
from core.forms import add_service_errors
from core.pagination import paginate, search_filter
from core.views import BusinessPortalMixin, OrganizationScopedMixin

from ..forms import FacilityForm
from ..models import Facility, FacilityRegulator
from ..schedule import attach_status_grids
from ..services import create_facility

SEARCH_FIELDS = ["name", "street", "city"]
SEARCH_EXACT_INT_FIELDS = ["cers_id"]


def element_regulators(facility: Facility) -> list[tuple[str, object]]:
    """Each submittal element with the regulator handling it (None when unassigned).

    Reads ``facility.regulators`` as prefetched (with ``regulator``), so it issues no query.
    """
    by_element = {row.element: row.regulator for row in facility.regulators.all()}
    return [(element.label, by_element.get(element)) for element in SubmittalElement]


def with_element_regulators(queryset):
    """Prefetch each facility's per-element regulators in one query."""
    return queryset.prefetch_related(
        Prefetch("regulators", queryset=FacilityRegulator.objects.select_related("regulator"))
    )


class OrganizationActionRequiredMixin:
    """403 unless the user may do ``required_action`` (``core.access``) to the current
    organization.

    Sits after ``BusinessPortalMixin`` in the bases, so ``self.organization`` is already set.
    """

    required_action: str = ""
    refused_message: str = ""

    def dispatch(self, request, *args, **kwargs):
        self.require(self.required_action, message=self.refused_message)
        return super().dispatch(request, *args, **kwargs)


class OrganizationFacilitiesMixin(OrganizationScopedMixin):
    """The facilities of the organization the user is working in, as far as they may see."""

    model = Facility
    lookup_field = "cers_id"
    not_found_message = "No such facility in this organization."


class FacilityListView(OrganizationFacilitiesMixin, TemplateView):
    """The organization's facilities: searchable by name, CERS ID, street and city; each with
    its status grid in short (the elements it must report, their status and due dates)."""

    template_name = "facilities/business_list.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        facilities = search_filter(
            with_element_regulators(self.get_queryset()),
            query,
            SEARCH_FIELDS,
            SEARCH_EXACT_INT_FIELDS,
        )
        page = paginate(self.request, facilities)
        page.object_list = attach_status_grids(page.object_list, include_drafts=True)
        return super().get_context_data(
            organization=self.organization,
            page=page,
            q=query,
            can_add=self.can("facilities.create"),
            **kwargs,
        )


class FacilityDetailView(OrganizationFacilitiesMixin, TemplateView):
    """One facility: its CERS ID, organization, address and status grid (per element: must
    it be reported, its last submittal or draft, its next due date, its regulator)."""

    template_name = "facilities/business_detail.html"

    def get_context_data(self, **kwargs):
        facility = self.get_object(
            with_element_regulators(self.get_queryset().select_related("organization"))
        )
        attach_status_grids([facility], include_drafts=True)
        return super().get_context_data(
            facility=facility,
            element_regulators=element_regulators(facility),
            **kwargs,
        )


class FacilityCreateView(BusinessPortalMixin, OrganizationActionRequiredMixin, FormView):
    """Add a facility to the current organization (Lead Users)."""

    template_name = "facilities/business_form.html"
    form_class = FacilityForm
    required_action = "facilities.create"
    refused_message = "Only the organization's Lead Users add facilities."

    def get_context_data(self, **kwargs):
        return super().get_context_data(organization=self.organization, **kwargs)

    def form_valid(self, form):
        try:
            facility = create_facility(
                actor=self.request.user, organization=self.organization, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request, f"Facility {facility.name} added with CERS ID {facility.cers_id}."
        )
        return redirect("business:facility", cers_id=facility.cers_id)
