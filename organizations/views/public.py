"""Accepting an invitation from its e-mailed link."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views import View

from core.views import ORGANIZATION_SESSION_KEY

from .. import services


class InvitationView(View):
    """Shows the invitation a link carries; a signed-in user with the invited address accepts.

    An unknown, used or expired token answers 404 with a page that says so.
    """

    template_name = "organizations/invitation.html"

    def get(self, request, token):
        invitation = services.find_invitation(token)
        if invitation is None:
            return render(request, "organizations/invitation_invalid.html", status=404)
        return render(request, self.template_name, {"invitation": invitation, "token": token})

    def post(self, request, token):
        if not request.user.is_authenticated:
            return redirect(f"{request.path}")
        try:
            membership = services.accept_invitation(user=request.user, token=token)
        except ValidationError as exc:
            invitation = services.find_invitation(token)
            if invitation is None:
                return render(request, "organizations/invitation_invalid.html", status=404)
            return render(
                request,
                self.template_name,
                {"invitation": invitation, "token": token, "errors": exc.messages},
                status=400,
            )
        request.session[ORGANIZATION_SESSION_KEY] = membership.organization_id
        messages.success(
            request,
            f"You joined {membership.organization.name} as {membership.get_role_display()}.",
        )
        return redirect("business:home")
