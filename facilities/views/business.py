"""Business portal pages for the current organization's facilities.

Every queryset starts from ``Facility.objects.for_user(user, "view")`` and is narrowed to the
organization the user is working in (``OrganizationScopedMixin``), so a facility of any other
organization answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView, TemplateView

from core.elements import SubmittalElement
from core.forms import add_service_errors
from core.pagination import paginate
from core.views import BusinessPortalMixin, OrganizationScopedMixin

from .. import services
from ..forms import FacilityCloseForm, FacilityForm, FacilityReopenForm, TransferRequestForm
from ..models import Facility, FacilityClosure, FacilityRegulator, FacilityTransferRequest
from ..schedule import attach_status_grids
from ..services import create_facility

SEARCH_FIELDS = ["name", "street", "city"]


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


class FacilityInUrlMixin:
    """A business page whose URL names a facility by its CERS ID: opened from a link while
    the user works in another of their organizations, it opens in the facility's
    (``BusinessPortalMixin.organization_in_url``)."""

    def organization_in_url(self) -> int | None:
        cers_id = self.kwargs.get("cers_id")
        if cers_id is None:
            return None
        return (
            Facility.objects.for_user(self.request.user, "view")
            .filter(cers_id=cers_id)
            .values_list("organization_id", flat=True)
            .first()
        )


class OrganizationFacilitiesMixin(FacilityInUrlMixin, OrganizationScopedMixin):
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
        facilities = with_element_regulators(self.get_queryset()).search(query, SEARCH_FIELDS)
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
        transfer_requests = list(
            organization_requests(self.request.user, self.organization)
            .filter(facility=facility)
            .select_related("requested_by")
            .order_by("-requested_at", "-pk")
        )
        return super().get_context_data(
            facility=facility,
            element_regulators=element_regulators(facility),
            can_upkeep=not facility.is_closed and self.can(UPKEEP, facility),
            can_withdraw=self.can(UPKEEP, facility),
            can_reopen=facility.is_closed and self.can(REOPEN, facility),
            transfer_requests=transfer_requests,
            transfer_pending=any(request.is_pending for request in transfer_requests),
            closures=closures_of(facility),
            **kwargs,
        )


def organization_requests(user, organization):
    """The transfer requests ``organization`` made that ``user`` sees (those of its facilities
    since moved elsewhere included; never another organization's)."""
    return FacilityTransferRequest.objects.for_user(user, "view").filter(
        from_organization=organization
    )


def closures_of(facility: Facility):
    """The facility's closings and reopenings, newest first (one query)."""
    return FacilityClosure.objects.filter(facility=facility).select_related(
        "closed_by", "reopened_by"
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


# --- Upkeep by the business's Lead Users: edit, close, ask for a transfer ---

UPKEEP = "facilities.upkeep"
REOPEN = "facilities.reopen"


class FacilityUpkeepView(OrganizationFacilitiesMixin, FormView):
    """A form about one facility of the organization, for its Lead Users: 404 outside the
    organization, 403 for the other roles (``facilities.upkeep``, the service's own rule)."""

    def get_facility(self) -> Facility:
        if not hasattr(self, "facility"):
            self.facility = self.get_object(self.get_queryset().select_related("organization"))
            self.require(UPKEEP, self.facility, services.UPKEEP_REFUSED)
        return self.facility

    def get(self, request, *args, **kwargs):
        self.get_facility()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.get_facility()
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(facility=self.get_facility(), **kwargs)

    def form_valid(self, form):
        try:
            message = self.perform(self.get_facility(), form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, message)
        return redirect("business:facility", cers_id=self.facility.cers_id)


class FacilityEditView(FacilityUpkeepView):
    """Correct the facility's name and address."""

    template_name = "facilities/business_edit.html"
    form_class = FacilityForm

    def get_initial(self):
        facility = self.get_facility()
        return {
            "name": facility.name,
            "street": facility.street,
            "city": facility.city,
            "zip_code": facility.zip_code,
            "county": facility.county,
        }

    def perform(self, facility, data) -> str:
        services.edit_facility(actor=self.request.user, facility=facility, **data)
        return "The facility's details were saved."


class FacilityCloseView(FacilityUpkeepView):
    """Close the facility: it no longer reports; its regulators are told."""

    template_name = "facilities/business_close.html"
    form_class = FacilityCloseForm

    def perform(self, facility, data) -> str:
        services.close_facility(actor=self.request.user, facility=facility, reason=data["reason"])
        return f"{facility.name} is closed. Its regulators were told by e-mail."


class FacilityTransferRequestView(FacilityUpkeepView):
    """Ask the facility's regulator to move it to another organization."""

    template_name = "facilities/business_transfer_request.html"
    form_class = TransferRequestForm

    def perform(self, facility, data) -> str:
        services.request_transfer(actor=self.request.user, facility=facility, **data)
        return (
            "Your request was sent to the facility's regulator, who moves the facility to the "
            "other organization."
        )


class FacilityReopenView(FacilityUpkeepView):
    """Reopen a closed facility: it reports again; its regulators are told. The Lead Users,
    who may close it (``facilities.reopen``)."""

    template_name = "facilities/business_reopen.html"
    form_class = FacilityReopenForm

    def get_facility(self) -> Facility:
        if not hasattr(self, "facility"):
            self.facility = self.get_object(self.get_queryset().select_related("organization"))
            self.require(REOPEN, self.facility, services.REOPEN_REFUSED)
        return self.facility

    def perform(self, facility, data) -> str:
        services.reopen_facility(actor=self.request.user, facility=facility, reason=data["reason"])
        return f"{facility.name} is open again and reports again. Its regulators were told."


class TransferRequestWithdrawView(OrganizationFacilitiesMixin, View):
    """POST: withdraw the organization's pending request to transfer the facility (those who
    may ask for it: 403 for the other roles; 404 for another organization's)."""

    http_method_names = ["post"]

    def post(self, request, cers_id, pk):
        facility = self.get_object(self.get_queryset().select_related("organization"))
        transfer_request = (
            organization_requests(request.user, self.organization)
            .filter(facility=facility, pk=pk)
            .select_related("facility__organization")
            .first()
        )
        if transfer_request is None:
            raise Http404("No such transfer request of this facility.")
        self.require(UPKEEP, facility, services.UPKEEP_REFUSED)
        try:
            services.withdraw_transfer_request(
                actor=request.user, transfer_request=transfer_request
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Your transfer request was withdrawn.")
        return redirect("business:facility", cers_id=facility.cers_id)
