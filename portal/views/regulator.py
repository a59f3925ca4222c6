"""Regulator portal pages that combine several apps: the agency's home (with its dashboard,
``dashboard.py``), the organizations in the agency's jurisdiction (and their people's e-mail
addresses, downloadable), and the state administrator's largest organizations.

The portal works for one agency at a time (``RegulatorPortalMixin`` sets ``self.regulator``).
Every list starts from a ``for_user`` queryset and is narrowed to the current agency
(``AgencyScopedMixin``), so anything outside it answers 404. Taking an organization over and
releasing it call ``facilities.services``; a ``ValidationError`` from a service becomes a
message and nothing is written.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.exports import (
    Column,
    export_filename,
    export_links,
    export_response,
    requested_format,
    rows_of,
)
from core.pagination import paginate, search_filter
from core.views import AgencyScopedMixin, RegulatorPortalMixin
from facilities import services as facility_services
from facilities.models import Facility
from facilities.querysets import with_jurisdiction_facility_count
from organizations.models import Membership, Organization
from regulators.models import StaffAccessRequest

from .dashboard import dashboard_context

ORGANIZATION_SEARCH_FIELDS = ["name"]
ORGANIZATION_SEARCH_EXACT_INT_FIELDS = ["code"]


class AgencyHomeView(AgencyScopedMixin, TemplateView):
    """The agency the user works for, their role there, the size of its jurisdiction, and
    its dashboard: what needs action (for its administrators, the requests to join its staff
    too), submittals by status over time, open violations by program element."""

    template_name = "portal/regulator_home.html"

    def get_context_data(self, **kwargs):
        # The requests to join the staff are few and for the administrators only: counted
        # live from their index, not in the agency's summary. Whether the user is one is read
        # from the staff membership the portal already loaded, as the state administrator's
        # link is; the staff page and the service ask ``regulators.manage_staff``.
        can_manage_staff = self.staff.manages_staff
        return super().get_context_data(
            regulator=self.regulator,
            staff=self.staff,
            can_manage_staff=can_manage_staff,
            staff_request_count=self.scoped(StaffAccessRequest, "manage_staff").pending().count()
            if can_manage_staff
            else 0,
            **dashboard_context(self.request.user, self.regulator),
            **kwargs,
        )


class JurisdictionOrganizationsMixin(AgencyScopedMixin):
    """The organizations with facilities in the current agency's jurisdiction."""

    model = Organization
    lookup_field = "code"
    not_found_message = "No such organization in this agency's jurisdiction."


class OrganizationListView(JurisdictionOrganizationsMixin, TemplateView):
    """Organizations in the agency's jurisdiction, searchable by name and code, with how many
    of their facilities the agency regulates."""

    template_name = "portal/organization_list.html"

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
            export_links=export_links(
                reverse("regulator:organization_people_export"), self.request.GET
            ),
            **kwargs,
        )


PEOPLE_COLUMNS = [
    Column("Organization code", lambda m: m.organization.code),
    Column("Organization name", lambda m: m.organization.name),
    Column("First name", lambda m: m.user.first_name),
    Column("Last name", lambda m: m.user.last_name),
    Column("E-mail", lambda m: m.user.email),
    Column("Role", lambda m: m.get_role_display()),
]


class OrganizationPeopleExportView(JurisdictionOrganizationsMixin, View):
    """GET: the business users of the organizations on the list (its search too), one row
    per person and organization with their e-mail address and role, as CSV or XLSX
    (``?format=``), read a chunk at a time whatever its length. Accounts an operator
    disabled are left out: they receive no e-mail."""

    http_method_names = ["get"]

    def get(self, request):
        export_format = requested_format(request)
        people = search_filter(
            self.scoped(Membership).filter(user__is_active=True),
            request.GET.get("q", "").strip(),
            [f"organization__{field}" for field in ORGANIZATION_SEARCH_FIELDS],
            [f"organization__{field}" for field in ORGANIZATION_SEARCH_EXACT_INT_FIELDS],
        )
        people = (
            people.select_related("organization", "user")
            .only(
                "role",
                "organization__code",
                "organization__name",
                "user__first_name",
                "user__last_name",
                "user__email",
            )
            .order_by("organization__name", "organization_id", "user__email", "pk")
        )
        return export_response(
            rows_of(people),
            PEOPLE_COLUMNS,
            format=export_format,
            filename=export_filename("organization-people", self.regulator),
        )


class OrganizationDetailView(JurisdictionOrganizationsMixin, TemplateView):
    """One organization and its facilities in the agency's jurisdiction."""

    template_name = "portal/organization_detail.html"

    def get_context_data(self, **kwargs):
        organization = self.get_object(self.get_queryset().select_related("lead_regulator"))
        facilities = (
            self.scoped(Facility)
            .filter(organization=organization)
            .with_agency_elements(self.regulator)
        )
        return super().get_context_data(
            regulator=self.regulator,
            statewide=self.regulator.is_statewide,
            can_manage_facilities=self.can("facilities.manage"),
            large_organization_threshold=settings.CERS_LARGE_ORGANIZATION_THRESHOLD,
            element_count=len(SubmittalElement),
            organization=organization,
            page=paginate(self.request, facilities),
            **kwargs,
        )


# --- The largest organizations: the state administrator's ---------------------------------


class StateAdministratorMixin(RegulatorPortalMixin):
    """A page of the state administrator's, working for the state agency: 403 for anyone
    else on the regulator staff.

    (Whether the user is the state administrator of the agency they work for tells them
    nothing new.)"""

    def require_state_administrator(self) -> None:
        if not self.staff.is_state_administrator:
            raise PermissionDenied(
                "Only the state administrator manages the largest organizations."
            )


class LargeOrganizationListView(StateAdministratorMixin, TemplateView):
    """Every organization, the largest (most facilities) first, with its lead regulator and
    whether the state manages it; searchable by name and code. Any of them can be taken over,
    and a taken-over one released."""

    template_name = "portal/large_organizations.html"

    def get(self, request, *args, **kwargs):
        self.require_state_administrator()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        organizations = search_filter(
            Organization.objects.for_user(self.request.user, "manage").select_related(
                "lead_regulator"
            ),
            query,
            ORGANIZATION_SEARCH_FIELDS,
            ORGANIZATION_SEARCH_EXACT_INT_FIELDS,
        )
        # The state's jurisdiction is every facility, so this counts all of them.
        organizations = with_jurisdiction_facility_count(organizations, self.regulator)
        organizations = organizations.order_by("-facility_count", "name", "pk")
        return super().get_context_data(
            regulator=self.regulator,
            page=paginate(self.request, organizations),
            q=query,
            threshold=settings.CERS_LARGE_ORGANIZATION_THRESHOLD,
            **kwargs,
        )


class OrganizationStateChangeView(StateAdministratorMixin, AgencyScopedMixin, View):
    """POST: take an organization over, or release it (the state administrator). An
    organization outside the current agency's jurisdiction answers 404, to anyone else on
    the staff 403. Answers with the organization's page, or the largest organizations' list
    when the form says ``return_to=list``."""

    http_method_names = ["post"]
    model = Organization
    lookup_field = "code"
    not_found_message = "No such organization in this agency's jurisdiction."

    def change(self, organization: Organization) -> Organization:
        """Make the change through ``facilities.services``."""
        raise NotImplementedError

    def done(self, organization: Organization) -> str:
        """The message saying what was done."""
        raise NotImplementedError

    def post(self, request, code):
        organization = self.get_object()
        self.require_state_administrator()
        try:
            organization = self.change(organization)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, self.done(organization))
        if request.POST.get("return_to") == "list":
            return redirect("regulator:large_organizations")
        return redirect("regulator:organization", organization.code)


class OrganizationTakeOverView(OrganizationStateChangeView):
    """Make the state agency the organization's lead regulator, whatever its facilities do."""

    def change(self, organization: Organization) -> Organization:
        return facility_services.take_over_organization(
            actor=self.request.user, organization=organization
        )

    def done(self, organization: Organization) -> str:
        return f"{organization.name} is now managed by the state: {organization.lead_regulator}."


class OrganizationReleaseView(OrganizationStateChangeView):
    """Give the organization's lead regulator back to the automatic rule."""

    def change(self, organization: Organization) -> Organization:
        return facility_services.release_organization(
            actor=self.request.user, organization=organization
        )

    def done(self, organization: Organization) -> str:
        lead = organization.lead_regulator or "none yet"
        return f"{organization.name} was released; its lead regulator is now {lead}."


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)
