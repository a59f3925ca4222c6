"""Regulator portal: switching agency, and the agency's staff.

The portal works for one agency at a time (``RegulatorPortalMixin`` sets ``self.regulator``);
a user who is staff of several switches between them. Every list starts from a ``for_user``
queryset and is narrowed to the current agency, so anything outside it answers 404. Staff
changes call ``regulators.services``; a ``ValidationError`` from a service becomes a message
and nothing is written. The agency's home page and the organizations in its jurisdiction
combine several apps and live in ``portal.views.regulator``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from core.forms import add_service_errors
from core.pagination import paginate
from core.views import REGULATOR_SESSION_KEY, AgencyScopedMixin, RegulatorPortalMixin

from .. import services
from ..forms import (
    STAFF_ROLE_DESCRIPTIONS,
    ContactForm,
    LocalRequirementsForm,
    ReminderDaysForm,
    StaffAddForm,
    StaffRequestDecisionForm,
    StaffRoleForm,
)
from ..models import StaffAccessRequest, StaffInvitation, StaffMembership
from ..roles import StaffRole


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


NO_SUCH_ACCOUNT = "No CERS account has that e-mail address; ask them to create one first."


class StaffPageMixin(AgencyScopedMixin):
    """A page about the current agency's staff, with whether the user may manage it."""

    model = StaffMembership
    not_found_message = "No such staff member of this agency."

    @cached_property
    def can_manage_staff(self) -> bool:
        return self.can("regulators.manage_staff")

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
        invitations = (
            self.scoped(StaffInvitation, "manage_staff")
            .pending()
            .select_related("user", "invited_by")
            .order_by("created_at", "pk")
            if self.can_manage_staff
            else StaffInvitation.objects.none()
        )
        staff_requests = (
            self.scoped(StaffAccessRequest, "manage_staff")
            .pending()
            .select_related("user")
            .order_by("created_at", "pk")
            if self.can_manage_staff
            else StaffAccessRequest.objects.none()
        )
        return super().get_context_data(
            regulator=self.regulator,
            page=paginate(self.request, staff),
            invitations=invitations,
            staff_requests=staff_requests,
            can_manage_staff=self.can_manage_staff,
            add_form=StaffAddForm() if self.can_manage_staff else None,
            roles=StaffRole.choices,
            role_descriptions=[(role.label, STAFF_ROLE_DESCRIPTIONS[role]) for role in StaffRole],
            **kwargs,
        )


class StaffAddView(StaffPageMixin, View):
    """Invite an existing, active CERS account to the agency's staff (administrators); they
    join when they accept. Accounts are never created here: the person signs up first.
    Answers with the staff page and a message saying what happened (administrators may
    learn that no account has an address)."""

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
            invitation = services.invite_staff(
                actor=request.user,
                regulator=self.regulator,
                user=user,
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request,
                f"{user.email} is invited to the staff as {invitation.get_role_display()}; "
                "they join once they accept the e-mailed invitation.",
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


class StaffInvitationCancelView(StaffPageMixin, View):
    """Withdraw a pending staff invitation of the current agency (administrators); another
    agency's, or one already answered, answers 404."""

    http_method_names = ["post"]

    def post(self, request, pk):
        self.require_manage_staff()
        invitation = self.get_object(
            self.scoped(StaffInvitation, "manage_staff").pending().select_related("user")
        )
        try:
            services.cancel_staff_invitation(actor=request.user, invitation=invitation)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"The invitation of {invitation.user.email} is cancelled.")
        return redirect("regulator:staff")


class StaffRequestDecideView(StaffPageMixin, View):
    """Approve (with a role) or decline (with a reason) a pending request to join the current
    agency's staff (administrators; other staff 403); another agency's, or one already
    answered, answers 404. A second click on a request answered meanwhile gets a message."""

    http_method_names = ["post"]

    def post(self, request, pk):
        self.require_manage_staff()
        staff_request = self.get_object(
            self.scoped(StaffAccessRequest, "manage_staff").select_related("user", "regulator"),
            message="No such request to join this agency's staff.",
        )
        form = StaffRequestDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose Approve with a staff role, or Decline with a reason.")
            return redirect("regulator:staff")
        who = staff_request.user.email
        try:
            staff_request = services.decide_staff_request(
                actor=request.user,
                staff_request=staff_request,
                approve=form.approve,
                role=form.cleaned_data["role"] or None,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, f"{who}: {_error_text(exc)}")
        else:
            if form.approve:
                messages.success(
                    request,
                    f"{who} is on the staff as {staff_request.get_granted_role_display()}; "
                    "they are told by e-mail.",
                )
            else:
                messages.success(
                    request, f"You declined the request of {who}; they are told by e-mail."
                )
        return redirect("regulator:staff")


class ReminderDaysView(RegulatorPortalMixin, TemplateView):
    """When the businesses are reminded of the due dates of the elements the agency handles:
    every staff member sees it; its administrators change it."""

    template_name = "regulators/reminder_days.html"

    def get_context_data(self, **kwargs):
        can_change = self.can("regulators.set_reminders")
        kwargs.setdefault(
            "form",
            ReminderDaysForm(
                initial={"days": ", ".join(str(d) for d in self.regulator.reminder_days)}
            )
            if can_change
            else None,
        )
        return super().get_context_data(regulator=self.regulator, can_change=can_change, **kwargs)

    def post(self, request, *args, **kwargs):
        self.require("regulators.set_reminders")
        form = ReminderDaysForm(request.POST)
        if form.is_valid():
            try:
                services.set_reminder_days(
                    actor=request.user, regulator=self.regulator, days=form.cleaned_data["days"]
                )
            except ValidationError as exc:
                form.add_error("days", exc)
            else:
                messages.success(request, "The reminder days are saved.")
                return redirect("regulator:reminder_days")
        return self.render_to_response(self.get_context_data(form=form))


class LocalRequirementsView(RegulatorPortalMixin, TemplateView):
    """The agency's local requirements, one text per submittal element, which businesses read
    on the element's page when the agency handles it for their facility: every staff member
    sees them; its administrators write them."""

    template_name = "regulators/local_requirements.html"

    def get_context_data(self, **kwargs):
        can_change = self.can("regulators.set_local_requirements")
        current = {row.element: row for row in self.regulator.local_requirements.all()}
        if can_change:
            kwargs.setdefault(
                "form",
                LocalRequirementsForm(
                    initial={f"element_{e}": row.text for e, row in current.items()}
                ),
            )
        return super().get_context_data(
            regulator=self.regulator,
            can_change=can_change,
            requirements=sorted(current.values(), key=lambda row: row.element),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        self.require("regulators.set_local_requirements")
        form = LocalRequirementsForm(request.POST)
        if form.is_valid():
            try:
                changed = services.set_local_requirements(
                    actor=request.user, regulator=self.regulator, texts=form.texts()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"The local requirements are saved ({changed} element"
                    f"{'' if changed == 1 else 's'} changed).",
                )
                return redirect("regulator:local_requirements")
        return self.render_to_response(self.get_context_data(form=form))


class ContactView(RegulatorPortalMixin, TemplateView):
    """The agency's public contact in the regulator directory: every staff member sees it; its
    administrators change it."""

    template_name = "regulators/contact.html"

    def get_context_data(self, **kwargs):
        can_change = self.can("regulators.set_contact")
        if can_change:
            kwargs.setdefault(
                "form",
                ContactForm(
                    initial={
                        name: getattr(self.regulator, name) for name in services.CONTACT_FIELDS
                    }
                ),
            )
        return super().get_context_data(regulator=self.regulator, can_change=can_change, **kwargs)

    def post(self, request, *args, **kwargs):
        self.require("regulators.set_contact")
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                services.set_contact(
                    actor=request.user, regulator=self.regulator, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The agency's public contact is saved.")
                return redirect("regulator:contact")
        return self.render_to_response(self.get_context_data(form=form))
