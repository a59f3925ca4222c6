"""Regulator portal: the agency's home, switching agency, and the organizations in the
agency's jurisdiction.

The portal works for one agency at a time (``RegulatorPortalMixin`` sets ``self.regulator``);
a user who is staff of several switches between them. Every list starts from a ``for_user``
queryset and is narrowed to the current agency, so anything outside it answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.pagination import paginate, search_filter
from core.views import REGULATOR_SESSION_KEY, RegulatorPortalMixin, ScopedQuerysetMixin
from facilities.models import Facility, FacilityRegulator
from facilities.views.regulator import facilities_in_jurisdiction, with_agency_elements
from organizations.models import Organization

from ..models import Regulator

ORGANIZATION_SEARCH_FIELDS = ["name"]
ORGANIZATION_SEARCH_EXACT_INT_FIELDS = ["code"]


def organizations_in_jurisdiction(queryset, regulator: Regulator):
    """Narrow an organization queryset to those with at least one facility in
    ``regulator``'s jurisdiction; every organization for the state agency."""
    if regulator.kind == Regulator.Kind.STATE:
        return queryset
    return queryset.filter(
        Exists(
            FacilityRegulator.objects.filter(
                facility__organization=OuterRef("pk"), regulator=regulator
            )
        )
    )


def with_jurisdiction_facility_count(queryset, regulator: Regulator):
    """Annotate ``facility_count``: the organization's facilities in ``regulator``'s
    jurisdiction, as one subquery in the list's own query."""
    counts = (
        facilities_in_jurisdiction(Facility.objects.filter(organization=OuterRef("pk")), regulator)
        .order_by()
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(facility_count=Coalesce(Subquery(counts), 0))


class AgencyHomeView(RegulatorPortalMixin, TemplateView):
    """The agency the user works for, their role there, and the size of its jurisdiction."""

    template_name = "regulators/home.html"

    def get_context_data(self, **kwargs):
        facilities = facilities_in_jurisdiction(
            Facility.objects.for_user(self.request.user, "view"), self.regulator
        )
        organizations = organizations_in_jurisdiction(
            Organization.objects.for_user(self.request.user, "view"), self.regulator
        )
        return super().get_context_data(
            regulator=self.regulator,
            staff=self.staff,
            facility_count=facilities.count(),
            organization_count=organizations.count(),
            **kwargs,
        )


class SwitchAgencyView(RegulatorPortalMixin, View):
    """Work for another agency the user is staff of; any other agency answers 404."""

    http_method_names = ["post"]

    def post(self, request):
        wanted = request.POST.get("regulator", "")
        staff = next(
            (s for s in self.staff_memberships if str(s.regulator_id) == wanted.strip()), None
        )
        if staff is None:
            raise Http404("You are not on the staff of that agency.")
        request.session[REGULATOR_SESSION_KEY] = staff.regulator_id
        messages.success(request, f"You are now working for {staff.regulator.name}.")
        return redirect("regulator:home")


class JurisdictionOrganizationsMixin(RegulatorPortalMixin, ScopedQuerysetMixin):
    """The organizations with facilities in the current agency's jurisdiction."""

    model = Organization

    def get_queryset(self):
        return organizations_in_jurisdiction(super().get_queryset(), self.regulator)


class OrganizationListView(JurisdictionOrganizationsMixin, TemplateView):
    """Organizations in the agency's jurisdiction, searchable by name and code, with how many
    of their facilities the agency regulates."""

    template_name = "regulators/organization_list.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        organizations = search_filter(
            self.get_queryset().select_related("lead_regulator"),
            query,
            ORGANIZATION_SEARCH_FIELDS,
            ORGANIZATION_SEARCH_EXACT_INT_FIELDS,
        )
        organizations = with_jurisdiction_facility_count(organizations, self.regulator)
        return super().get_context_data(
            regulator=self.regulator,
            page=paginate(self.request, organizations),
            q=query,
            **kwargs,
        )


class OrganizationDetailView(JurisdictionOrganizationsMixin, TemplateView):
    """One organization and its facilities in the agency's jurisdiction."""

    template_name = "regulators/organization_detail.html"

    def get_context_data(self, **kwargs):
        organization = (
            self.get_queryset()
            .select_related("lead_regulator")
            .filter(code=self.kwargs["code"])
            .first()
        )
        if organization is None:
            raise Http404("No such organization in this agency's jurisdiction.")
        facilities = facilities_in_jurisdiction(
            Facility.objects.for_user(self.request.user, "view").filter(organization=organization),
            self.regulator,
        )
        facilities = with_agency_elements(facilities, self.regulator)
        return super().get_context_data(
            regulator=self.regulator,
            statewide=self.regulator.kind == Regulator.Kind.STATE,
            element_count=len(SubmittalElement),
            organization=organization,
            page=paginate(self.request, facilities),
            **kwargs,
        )
