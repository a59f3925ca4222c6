"""Regulator portal: the agency's home (with its dashboard, ``dashboard.py``), switching
agency, the organizations in the agency's jurisdiction, the state administrator's largest
organizations, and the agency's staff.

The portal works for one agency at a time (``RegulatorPortalMixin`` sets ``self.regulator``);
a user who is staff of several switches between them. Every list starts from a ``for_user``
queryset and is narrowed to the current agency (``AgencyScopedMixin``), so anything outside it
answers 404. Staff changes call ``regulators.services``; a ``ValidationError`` from a service
becomes a message and nothing is written.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.pagination import paginate, search_filter
from core.views import REGULATOR_SESSION_KEY, AgencyScopedMixin, RegulatorPortalMixin
from facilities import services as facility_services
from facilities.models import Facility
from organizations.models import Organization

from .. import services
from ..forms import STAFF_ROLE_DESCRIPTIONS, StaffAddForm, StaffRoleForm
from ..models import StaffMembership
from ..roles import MANAGE_FACILITIES, MANAGE_STAFF, StaffRole
from .dashboard import dashboard_context

ORGANIZATION_SEARCH_FIELDS = ["name"]
ORGANIZATION_SEARCH_EXACT_INT_FIELDS = ["code"]


class AgencyHomeView(AgencyScopedMixin, TemplateView):
    """The agency the user works for, their role there, the size of its jurisdiction, and
    its dashboard: what needs action, submittals by status over time, open violations by
    program element."""

    template_name = "regulators/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            regulator=self.regulator,
            staff=self.staff,
            facility_count=self.scoped(Facility).count(),
            organization_count=self.scoped(Organization).count(),
            **dashboard_context(self.request.user, self.regulator),
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


class JurisdictionOrganizationsMixin(AgencyScopedMixin):
    """The organizations with facilities in the current agency's jurisdiction."""

    model = Organization
    lookup_field = "code"
    not_found_message = "No such organization in this agency's jurisdiction."


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
        organizations = organizations.with_jurisdiction_facility_count(self.regulator)
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
        organization = self.get_object(self.get_queryset().select_related("lead_regulator"))
        facilities = (
            self.scoped(Facility)
            .filter(organization=organization)
            .with_agency_elements(self.regulator)
        )
        return super().get_context_data(
            regulator=self.regulator,
            statewide=self.regulator.is_statewide,
            can_manage_facilities=self.agency_grants(MANAGE_FACILITIES),
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

    template_name = "regulators/large_organizations.html"

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
        organizations = organizations.with_jurisdiction_facility_count(self.regulator)
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


NO_SUCH_ACCOUNT = "No CERS account has that e-mail address; ask them to create one first."


class StaffPageMixin(AgencyScopedMixin):
    """A page about the current agency's staff, with whether the user may manage it."""

    model = StaffMembership
    not_found_message = "No such staff member of this agency."

    @cached_property
    def can_manage_staff(self) -> bool:
        return self.agency_grants(MANAGE_STAFF)

    def require_manage_staff(self) -> None:
        """403 unless the user administers the current agency's staff.

        (The agency is the user's own, so a 403 tells them nothing new.)
        """
        if not self.can_manage_staff:
            raise PermissionDenied("Only the agency's administrators manage its staff.")


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class StaffListView(StaffPageMixin, TemplateView):
    """The current agency's staff and their roles. Administrators also add people who have
    a CERS account, change roles and remove staff (each a POST to its own view)."""

    template_name = "regulators/staff.html"

    def get_context_data(self, **kwargs):
        staff = self.get_queryset().select_related("user").order_by("user__email", "pk")
        return super().get_context_data(
            regulator=self.regulator,
            page=paginate(self.request, staff),
            can_manage_staff=self.can_manage_staff,
            add_form=StaffAddForm() if self.can_manage_staff else None,
            roles=StaffRole.choices,
            role_descriptions=[(role.label, STAFF_ROLE_DESCRIPTIONS[role]) for role in StaffRole],
            **kwargs,
        )


class StaffAddView(StaffPageMixin, View):
    """Add an existing, active CERS account to the agency's staff (administrators). Accounts
    are never created here: the person signs up first. Answers with the staff page and a
    message saying what happened."""

    http_method_names = ["post"]

    def post(self, request):
        self.require_manage_staff()
        form = StaffAddForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Enter an e-mail address and choose one of the staff roles.")
            return redirect("regulator:staff")
        user = (
            get_user_model()
            .objects.filter(email__iexact=form.cleaned_data["email"].strip(), is_active=True)
            .first()
        )
        if user is None:
            messages.error(request, NO_SUCH_ACCOUNT)
            return redirect("regulator:staff")
        try:
            membership = services.add_staff(
                actor=request.user,
                regulator=self.regulator,
                user=user,
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request, f"{user.email} joined the staff as {membership.get_role_display()}."
            )
        return redirect("regulator:staff")


class StaffChangeMixin(StaffPageMixin):
    """A POST about one staff membership of the current agency (administrators); answers
    with the staff page."""

    http_method_names = ["post"]

    def get_membership(self, pk: int) -> StaffMembership:
        self.require_manage_staff()
        return self.get_object(
            self.get_queryset("manage_staff").select_related("user", "regulator")
        )


class StaffRoleView(StaffChangeMixin, View):
    """Change a staff member's role (administrators)."""

    def post(self, request, pk):
        membership = self.get_membership(pk)
        form = StaffRoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose one of the staff roles.")
            return redirect("regulator:staff")
        if form.cleaned_data["role"] == membership.role:
            messages.info(
                request, f"{membership.user.email} is already {membership.get_role_display()}."
            )
            return redirect("regulator:staff")
        try:
            membership = services.set_staff_role(
                actor=request.user,
                regulator=membership.regulator,
                user=membership.user,
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display()}."
            )
        return redirect("regulator:staff")


class StaffRemoveView(StaffChangeMixin, View):
    """Take someone off the agency's staff (administrators)."""

    def post(self, request, pk):
        membership = self.get_membership(pk)
        try:
            services.remove_staff(actor=request.user, membership=membership)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request,
                f"{membership.user.email} was removed from the staff of "
                f"{membership.regulator.name}.",
            )
        return redirect("regulator:staff")
