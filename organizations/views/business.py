"""The business portal's organization pages: getting started (create or join an
organization), switching organization, people and roles, and requests to join. The
organization's home page shows its facilities as well and lives in ``portal.views.business``.

Access is decided by ``BusinessPortalMixin`` (signed in, the current organization) and by
starting every queryset from a ``for_user`` queryset, narrowed to the current organization
(``OrganizationScopedMixin``), so another organization's objects answer 404. Writes call
``organizations.services``; a ``ValidationError`` from a service becomes a message on the page
and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from core.forms import add_service_errors
from core.pagination import paginate
from core.ratelimit import by_address, by_field, by_user, rate_limited
from core.views import ORGANIZATION_SESSION_KEY, BusinessPortalMixin, OrganizationScopedMixin

from .. import services
from ..forms import (
    InvitationForm,
    JoinDecisionForm,
    JoinRequestForm,
    OrganizationEditForm,
    OrganizationForm,
    RoleForm,
)
from ..models import Invitation, JoinRequest, Membership
from ..roles import ROLE_DESCRIPTIONS, Role


def _redirect_back(request, default: str, *args):
    """Redirect to a same-site ``next`` from the form, or to the named ``default`` URL."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        # An address, never a view's name (``redirect`` would look one up: a server error).
        return HttpResponseRedirect(target)
    return redirect(default, *args)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


LEAD_USERS_ONLY = "Only the organization's Lead Users manage its people."


class OrganizationPageMixin(OrganizationScopedMixin):
    """A page about the current organization, with whether the user manages its people."""

    @cached_property
    def can_manage_people(self) -> bool:
        return self.can("organizations.manage_people")

    def require_manage_people(self) -> None:
        """403 unless the user manages the current organization's people (its Lead Users).

        (The organization is the user's own, so a 403 tells them nothing new.)
        """
        if not self.can_manage_people:
            raise PermissionDenied(LEAD_USERS_ONLY)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            organization=self.organization,
            membership=self.membership,
            can_manage_users=self.can_manage_people,
        )
        return context


class OrganizationEditView(OrganizationPageMixin, TemplateView):
    """The organization's name and headquarters, corrected by its Lead Users (others: 403)."""

    template_name = "organizations/business_edit.html"
    refused = "Only the organization's Lead Users change its name and headquarters."

    def get(self, request):
        self.require("organizations.edit", message=self.refused)
        initial = {"name": self.organization.name, "headquarters": self.organization.headquarters}
        return self.render_to_response(self.get_context_data(form=OrganizationEditForm(initial)))

    def post(self, request):
        self.require("organizations.edit", message=self.refused)
        form = OrganizationEditForm(request.POST)
        if form.is_valid():
            try:
                services.update_organization(
                    actor=request.user, organization=self.organization, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The organization's details are saved.")
                return redirect("business:home")
        return self.render_to_response(self.get_context_data(form=form))


class StartPageMixin(BusinessPortalMixin):
    """The getting-started page: create an organization or ask to join one. Usable without
    an organization; a user who has some can still create or join another."""

    requires_organization = False
    template_name = "organizations/start.html"

    def start_context(self, **forms):
        # The user's pending requests are not listed: the page would tell which codes name
        # an organization. The requests and their answers go by e-mail.
        return {
            "create_form": forms.get("create_form") or OrganizationForm(),
            "join_form": forms.get("join_form") or JoinRequestForm(),
            "memberships": self.memberships,
        }

    def render_start(self, status: int = 200, **forms):
        return render(self.request, self.template_name, self.start_context(**forms), status=status)


class StartView(StartPageMixin, View):
    def get(self, request):
        return self.render_start()


class StartFormView(StartPageMixin, View):
    """POST: one of the start page's two forms. On success ``save`` answers; otherwise the
    page comes back with that form and its errors (the service's errors at its top)."""

    form_class = None
    form_name = ""

    def get(self, request):
        return self.render_start()

    def save(self, form):
        raise NotImplementedError

    def post(self, request):
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                return self.save(form)
            except ValidationError as exc:
                form.add_error(None, exc)
        return self.render_start(**{self.form_name: form})


class OrganizationCreateView(StartFormView):
    """Create an organization; its creator becomes its Lead User and works in it next."""

    form_class = OrganizationForm
    form_name = "create_form"

    def save(self, form):
        organization = services.create_organization(
            actor=self.request.user,
            name=form.cleaned_data["name"],
            headquarters=form.cleaned_data["headquarters"],
        )
        self.request.session[ORGANIZATION_SESSION_KEY] = organization.pk
        messages.success(
            self.request,
            f"{organization.name} is created, with organization code "
            f"{organization.code}. You are its Lead User.",
        )
        return redirect("business:home")


JOIN_REQUEST_SENT = (
    "Your request is on its way. If the code is right, the organization's Lead Users decide "
    "and you get an e-mail with their answer; if it cannot be sent, an e-mail tells you why."
)


@method_decorator(
    rate_limited("ask to join an organization", ("join", by_address), ("join", by_user)),
    name="post",
)
class JoinRequestCreateView(StartFormView):
    """Ask the Lead Users of an organization to let the user join. Rate-limited per client
    address and per user, so organization codes cannot be guessed by trying them all."""

    form_class = JoinRequestForm
    form_name = "join_form"

    def save(self, form):
        # The same answer whether or not the code names an organization: what happened goes
        # to the requester's e-mail address.
        services.request_to_join(
            user=self.request.user,
            code=form.cleaned_data["code"],
            kind=form.cleaned_data["kind"],
            message=form.cleaned_data["message"],
        )
        messages.success(self.request, JOIN_REQUEST_SENT)
        return redirect("business:start")


class SwitchOrganizationView(BusinessPortalMixin, View):
    """Work in another of the user's organizations (a consultant has several)."""

    http_method_names = ["post"]

    def post(self, request):
        wanted = request.POST.get("organization", "")
        membership = next(
            (m for m in self.memberships if str(m.organization_id) == wanted.strip()), None
        )
        if membership is None:
            raise Http404("You are not a member of that organization.")
        request.session[ORGANIZATION_SESSION_KEY] = membership.organization_id
        messages.info(request, f"You are now working in {membership.organization.name}.")
        return _redirect_back(request, "business:home")


# Anyone with an account may found an organization and invite from it: each invitation
# e-mails the address typed, with text its inviter chose. Limited per user, and per address
# written to (with the other pages that e-mail an address someone types).
INVITE_LIMIT = rate_limited("invite someone", ("invite", by_user), ("email", by_field("email")))


@method_decorator(INVITE_LIMIT, name="post")
class PeopleView(OrganizationPageMixin, TemplateView):
    """The members of the current organization and the pending invitations. Lead Users also
    invite (the POST of this page), change roles, remove members and revoke invitations."""

    template_name = "organizations/people.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        members = self.scoped(Membership).select_related("user").order_by("user__email", "pk")
        context.update(
            page=paginate(self.request, members),
            invitations=self.scoped(Invitation)
            .filter(
                status=Invitation.Status.PENDING,
                expires_at__gt=timezone.now(),
            )
            .select_related("invited_by")
            .order_by("email"),
            roles=Role.choices,
            role_descriptions=[(role.label, ROLE_DESCRIPTIONS[role]) for role in Role],
        )
        if context["can_manage_users"]:
            context.setdefault("invite_form", InvitationForm())
        return context

    def post(self, request):
        self.require_manage_people()
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invite(
                    actor=request.user,
                    organization=self.organization,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                    phone=form.cleaned_data["phone"],
                    title=form.cleaned_data["title"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"An invitation to join as {invitation.get_role_display()} was sent to "
                    f"{invitation.email}.",
                )
                return redirect("business:people")
        return self.render_to_response(self.get_context_data(invite_form=form))


class MemberChangeMixin(OrganizationPageMixin):
    """A POST about one member of the current organization; answers with the people page."""

    http_method_names = ["post"]
    model = Membership
    not_found_message = "No such member of this organization."

    def get_membership(self, pk: int) -> Membership:
        user = self.request.user
        if self.membership.pk == pk and self.allow_self:
            scoped = self.get_queryset().filter(user=user)
        else:
            self.require_manage_people()
            scoped = self.get_queryset("manage_users")
        return self.get_object(scoped.select_related("user", "organization"))


class MemberRoleView(MemberChangeMixin, View):
    """Change a member's role (Lead Users)."""

    allow_self = False

    def post(self, request, pk):
        membership = self.get_membership(pk)
        form = RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose one of the roles.")
            return _redirect_back(request, "business:people")
        try:
            membership = services.change_role(
                actor=request.user, membership=membership, role=form.cleaned_data["role"]
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display()}."
            )
        return _redirect_back(request, "business:people")


class MemberRemoveView(MemberChangeMixin, View):
    """Remove a member (Lead Users), or leave the organization (any member, for oneself)."""

    allow_self = True

    def post(self, request, pk):
        membership = self.get_membership(pk)
        leaving = membership.user_id == request.user.pk
        try:
            services.remove_member(actor=request.user, membership=membership)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return _redirect_back(request, "business:people")
        if leaving:
            request.session.pop(ORGANIZATION_SESSION_KEY, None)
            messages.success(request, f"You left {membership.organization.name}.")
            return redirect("business:home")
        messages.success(
            request, f"{membership.user.email} was removed from {membership.organization.name}."
        )
        return _redirect_back(request, "business:people")


class InvitationRevokeView(OrganizationPageMixin, View):
    """Revoke a pending invitation (Lead Users)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        self.require_manage_people()
        invitation = self.get_object(
            self.scoped(Invitation, "manage_users").select_related("organization"),
            message="No such invitation of this organization.",
        )
        try:
            services.revoke_invitation(actor=request.user, invitation=invitation)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"The invitation of {invitation.email} is revoked.")
        return _redirect_back(request, "business:people")


class JoinRequestListView(OrganizationPageMixin, TemplateView):
    """Pending requests to join the current organization (Lead Users)."""

    template_name = "organizations/join_requests.html"

    def get(self, request, *args, **kwargs):
        self.require_manage_people()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pending = (
            self.scoped(JoinRequest, "manage_users")
            .filter(status=JoinRequest.Status.PENDING)
            .select_related("user")
            .order_by("created_at", "pk")
        )
        context.update(
            page=paginate(self.request, pending),
            roles=Role.choices,
            role_descriptions=[(role.label, ROLE_DESCRIPTIONS[role]) for role in Role],
        )
        return context


class JoinRequestDecideView(OrganizationPageMixin, View):
    """Approve (with a role) or decline a request to join (Lead Users)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        self.require_manage_people()
        join_request = self.get_object(
            self.scoped(JoinRequest, "manage_users").select_related("user", "organization"),
            message="No such request to join this organization.",
        )
        form = JoinDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
            return _redirect_back(request, "business:join_requests")
        try:
            services.decide_join_request(
                actor=request.user,
                join_request=join_request,
                approve=form.approve,
                role=form.cleaned_data["role"] or Role.VIEWER,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            who = join_request.user.email
            if form.approve:
                role = Role(form.cleaned_data["role"]).label
                messages.success(request, f"{who} joined {self.organization.name} as {role}.")
            else:
                messages.success(request, f"You declined the request of {who}.")
        return _redirect_back(request, "business:join_requests")
