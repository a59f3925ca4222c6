"""Accepting an invitation from its e-mailed link."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from accounts.views import SIGNUP_PREFILL_FIELDS, SIGNUP_PREFILL_SESSION_KEY
from core.views import ORGANIZATION_SESSION_KEY

from .. import services


class InvitationView(View):
    """Shows the invitation a link carries; a signed-in user with the invited address accepts.

    An unknown, used or expired token answers 404 with a page that says so.
    """

    template_name = "organizations/invitation.html"

    def context(self, request, invitation, token, **extra):
        # Sign-up starts with the address and the details the Lead User gave; they only fill
        # in a new account's form (an existing account keeps its own). They wait in the
        # session, never in the sign-up link's address.
        if not request.user.is_authenticated:
            request.session[SIGNUP_PREFILL_SESSION_KEY] = {
                name: getattr(invitation, name) for name in SIGNUP_PREFILL_FIELDS
            }
        return {
            "invitation": invitation,
            "token": token,
            "signup_url": f"{reverse('accounts:signup')}?{urlencode({'next': request.path})}",
            **extra,
        }

    def get(self, request, token):
        invitation = services.find_invitation(token)
        if invitation is None:
            return render(request, "organizations/invitation_invalid.html", status=404)
        return render(request, self.template_name, self.context(request, invitation, token))

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
                self.context(request, invitation, token, errors=exc.messages),
                status=400,
            )
        request.session[ORGANIZATION_SESSION_KEY] = membership.organization_id
        messages.success(
            request,
            f"You joined {membership.organization.name} as {membership.get_role_display()}.",
        )
        return redirect("business:home")
