"""The invited person's side of a staff invitation: see it, accept it or decline it.

Outside the regulator portal, since the person is usually not staff of any agency yet. Only
the signed-in user the invitation is addressed to finds it (``StaffInvitation.objects.for_user(
user, "answer")``); anyone else, and any invitation already answered, gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views import View

from core.views import REGULATOR_SESSION_KEY, ScopedQuerysetMixin

from .. import services
from ..models import StaffInvitation


class StaffInvitationMixin(LoginRequiredMixin, ScopedQuerysetMixin):
    model = StaffInvitation
    scope_action = "answer"
    not_found_message = "No such invitation is waiting for your answer."

    def invitation(self) -> StaffInvitation:
        return self.get_object(
            self.get_queryset().select_related("regulator", "invited_by", "user")
        )


class StaffInvitationView(StaffInvitationMixin, View):
    """GET: the invitation, with its accept and decline buttons. POST: accept it."""

    template_name = "regulators/staff_invitation.html"

    def get(self, request, pk):
        return render(request, self.template_name, {"invitation": self.invitation()})

    def post(self, request, pk):
        invitation = self.invitation()
        try:
            membership = services.accept_staff_invitation(user=request.user, invitation=invitation)
        except ValidationError as exc:
            return render(
                request,
                self.template_name,
                {"invitation": invitation, "errors": exc.messages},
                status=400,
            )
        request.session[REGULATOR_SESSION_KEY] = membership.regulator_id
        messages.success(
            request,
            f"You joined the staff of {membership.regulator.name} as "
            f"{membership.get_role_display()}.",
        )
        return redirect("regulator:home")


class StaffInvitationDeclineView(StaffInvitationMixin, View):
    """POST: decline the invitation; nothing is granted."""

    http_method_names = ["post"]

    def post(self, request, pk):
        invitation = self.invitation()
        try:
            services.decline_staff_invitation(user=request.user, invitation=invitation)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"You declined to join the staff of {invitation.regulator.name}."
            )
        return redirect("home")
