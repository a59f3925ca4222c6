"""A person's side of a request to join an agency's staff: ask, see it waiting, withdraw it.

Outside the regulator portal, since the person is not staff of the agency yet (and the
portal refuses anyone who is staff of none). The agency is found by its code, as the public
regulator directory names it, so nothing is learned here that the directory does not say.
The person's own requests are read from ``StaffAccessRequest.objects.for_user(user, "mine")``;
anyone else's answers 404. The agency's administrators decide in the regulator portal
(``regulators.views.regulator``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views import View

from core.forms import add_service_errors
from core.ratelimit import by_address, by_user, rate_limited
from core.views import ScopedQuerysetMixin

from .. import services
from ..forms import STAFF_ROLE_DESCRIPTIONS, StaffRequestForm
from ..models import Regulator, StaffAccessRequest, StaffInvitation, StaffMembership
from ..roles import StaffRole


class StaffRequestView(LoginRequiredMixin, View):
    """GET: the agency named, and either the form (role wanted, message), the person's
    request waiting (with Withdraw), their invitation waiting, or that they are on its staff
    already. POST: send the request; each e-mails the agency's administrators, so it counts
    against the limit of requests to join, per client address and per user."""

    template_name = "regulators/staff_request.html"

    @cached_property
    def regulator(self) -> Regulator:
        code = self.kwargs["code"]
        found = Regulator.objects.filter(code=code).first() if code.isdecimal() else None
        if found is None:
            raise Http404("No agency has that code in the regulator directory.")
        return found

    def render_page(self, form=None, status: int = 200):
        user = self.request.user
        membership = StaffMembership.objects.filter(regulator=self.regulator, user=user).first()
        pending = (
            StaffAccessRequest.objects.for_user(user, "mine")
            .pending()
            .filter(regulator=self.regulator)
            .first()
        )
        invitation = (
            StaffInvitation.objects.for_user(user, "answer")
            .filter(regulator=self.regulator)
            .first()
        )
        return render(
            self.request,
            self.template_name,
            {
                "regulator": self.regulator,
                "membership": membership,
                "pending": pending,
                "invitation": invitation,
                "form": form or StaffRequestForm(),
                # The form is offered to someone neither on the staff, nor asking, nor invited;
                # to the others the page says which, and a refused form's errors stand above.
                "show_form": not (membership or pending or invitation),
                "role_descriptions": [
                    (role.label, STAFF_ROLE_DESCRIPTIONS[role]) for role in StaffRole
                ],
            },
            status=status,
        )

    def get(self, request, code):
        return self.render_page()

    @method_decorator(
        rate_limited("ask to join the staff of an agency", ("join", by_address), ("join", by_user))
    )
    def post(self, request, code):
        form = StaffRequestForm(request.POST)
        if form.is_valid():
            try:
                services.request_staff_access(
                    user=request.user,
                    regulator=self.regulator,
                    role=form.cleaned_data["role"],
                    message=form.cleaned_data["message"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"Your request to join the staff of {self.regulator.name} is sent to its "
                    "administrators; their answer comes by e-mail.",
                )
                return redirect("staff_request_create", code=self.regulator.code)
        return self.render_page(form, status=400)


class StaffRequestWithdrawView(LoginRequiredMixin, ScopedQuerysetMixin, View):
    """POST: the person who asked withdraws their request while it waits; anyone else's, or
    one already answered, answers 404."""

    http_method_names = ["post"]
    model = StaffAccessRequest
    scope_action = "mine"
    not_found_message = "No such request of yours is waiting."

    def post(self, request, pk):
        staff_request = self.get_object(self.get_queryset().pending().select_related("regulator"))
        try:
            services.withdraw_staff_request(user=request.user, staff_request=staff_request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"You withdrew your request to join the staff of {staff_request.regulator.name}.",
            )
        return redirect("staff_request_create", code=staff_request.regulator.code)
