"""Regulator portal pages for EDT access: the agency's grants, vendor, EDT accounts and
requests; the state administrator's decisions, grants, vendors and announcements; the
implementers' list.

An agency's EDT pages are for its administrators and EDT administrators
(``services.can_administer``); its other staff get 403 (the agency is their own, so that tells
them nothing). Lists and details start from the ``for_user`` querysets of
``edt.access.querysets`` and are narrowed to the agency the user works for now, except for the
state administrator, who sees every agency's; anything else answers 404. Every write calls
``edt.access.services``; a service's ``ValidationError`` is shown on the page and nothing is
written.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from core.forms import add_service_errors
from core.models import AuditEvent
from core.pagination import paginate
from core.views import AgencyScopedMixin, RegulatorPortalMixin
from regulators.models import StaffMembership
from regulators.querysets import is_state_edt_administrator

from ... import credentials
from ...models import (
    AccessRequest,
    AgencyVendor,
    ApiToken,
    EdtAccount,
    Subscriber,
    TierGrant,
    Vendor,
)
from ...tiers import Environment, Tier
from .. import services
from ..forms import (
    AccessRequestForm,
    AgencyVendorForm,
    AnnouncementForm,
    DecisionForm,
    GrantChangeForm,
    SubscriberForm,
    TokenForm,
    VendorForm,
    VendorTiersForm,
    tiers_for,
)

Status = TierGrant.Status


def grant_table(grants) -> list[dict]:
    """Rows of the environment x tier table: per tier, the current grant in each environment
    (the live one when there is one, else the latest), or None where nothing was asked."""
    current: dict[tuple[str, int], TierGrant] = {}
    for grant in sorted(grants, key=lambda g: g.pk):
        held = current.get((grant.environment, grant.tier))
        if held is None or held.status not in TierGrant.LIVE_STATUSES:
            current[(grant.environment, grant.tier)] = grant
    return [
        {"tier": tier, "cells": [current.get((env, tier.value)) for env in Environment.values]}
        for tier in Tier
    ]


def _environment_order(grant: TierGrant) -> tuple[int, int]:
    return Environment.values.index(grant.environment), grant.tier


def with_pending(queryset):
    """Annotate ``pending``: at least one of the request's grants awaits a decision."""
    return queryset.annotate(
        pending=Exists(TierGrant.objects.filter(request=OuterRef("pk"), status=Status.REQUESTED))
    )


class _CheckAccess:
    """Runs the view's ``check_access`` after the portal mixin has found the user's agency
    (and sent anonymous visitors to sign in), before any handler."""

    def dispatch(self, request, *args, **kwargs):
        self.check_access()
        return super().dispatch(request, *args, **kwargs)


class EdtMixin(AgencyScopedMixin, _CheckAccess):
    """An EDT page of the agency the user works for: its administrators and EDT
    administrators, and the state administrator. Lists and details are narrowed to the
    agency (``AgencyScopedMixin``); working for the state agency, to every agency's."""

    @cached_property
    def is_state_admin(self) -> bool:
        return is_state_edt_administrator(self.request.user)

    def check_access(self) -> None:
        if not services.can_administer(self.request.user, self.regulator):
            raise PermissionDenied("Only the agency's administrators manage its EDT access.")

    def accounts(self):
        return self.scoped(EdtAccount, "manage")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            regulator=self.regulator, is_state_admin=self.is_state_admin, **kwargs
        )


class StateAdminMixin(EdtMixin):
    """A page for the state administrator only; other staff get 403."""

    def check_access(self) -> None:
        if not self.is_state_admin:
            raise PermissionDenied("Only the state administrator manages that.")


# --- the agency's EDT access -------------------------------------------------------------


class EdtHomeView(EdtMixin, TemplateView):
    """The agency's EDT access: grants by environment and tier, its vendor (with a form to
    change it), its EDT accounts and its latest requests. POST changes the vendor."""

    template_name = "edt/home.html"

    def get_context_data(self, **kwargs):
        user, regulator = self.request.user, self.regulator
        agency_vendor = (
            AgencyVendor.objects.filter(regulator=regulator).select_related("vendor").first()
        )
        if "vendor_form" not in kwargs:
            initial = None
            if agency_vendor is not None:
                initial = "own" if agency_vendor.own_system else str(agency_vendor.vendor_id)
            kwargs["vendor_form"] = AgencyVendorForm(initial={"vendor": initial})
        requests = AccessRequest.objects.for_user(user).filter(regulator=regulator)
        pending = with_pending(AccessRequest.objects.for_user(user)).filter(pending=True)
        return super().get_context_data(
            statewide=regulator.is_statewide,
            environments=Environment.choices,
            grant_rows=grant_table(TierGrant.objects.for_user(user).filter(regulator=regulator)),
            agency_vendor=agency_vendor,
            accounts=EdtAccount.objects.for_user(user).filter(regulator=regulator),
            requests=requests.select_related("filed_by").prefetch_related("grants")[:5],
            request_count=requests.count(),
            pending_count=pending.count() if self.is_state_admin else None,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if self.regulator.is_statewide:
            messages.error(request, "The state agency names no EDT vendor.")
            return redirect("regulator:edt_home")
        form = AgencyVendorForm(request.POST)
        if form.is_valid():
            vendor, own_system = form.cleaned_data["vendor"]
            try:
                services.set_agency_vendor(
                    actor=request.user,
                    regulator=self.regulator,
                    vendor=vendor,
                    own_system=own_system,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "The agency's vendor is saved.")
                return redirect("regulator:edt_home")
        return self.render_to_response(self.get_context_data(vendor_form=form))


# --- access requests ---------------------------------------------------------------------


class EdtRequestListView(EdtMixin, TemplateView):
    """The agency's access requests (every agency's for the state administrator), pending
    first, filterable by pending or decided."""

    template_name = "edt/request_list.html"
    FILTERS = {"pending": True, "decided": False}

    def get_context_data(self, **kwargs):
        requests = with_pending(self.scoped(AccessRequest)).select_related("regulator", "filed_by")
        shown = self.request.GET.get("status", "")
        if shown in self.FILTERS:
            requests = requests.filter(pending=self.FILTERS[shown])
        requests = requests.prefetch_related("grants").order_by("-pending", "-filed_at", "-id")
        return super().get_context_data(
            page=paginate(self.request, requests), status=shown, **kwargs
        )


class EdtRequestNewView(EdtMixin, TemplateView):
    """File an access request for the agency. A first request names EDT administrators, the
    new EDT account and the vendor; a follow-up shows what is granted or asked and only asks
    for more tiers."""

    template_name = "edt/request_form.html"

    def form_kwargs(self) -> dict:
        regulator, user = self.regulator, self.request.user
        live = set(
            TierGrant.objects.for_user(user)
            .filter(regulator=regulator, status__in=TierGrant.LIVE_STATUSES)
            .values_list("environment", "tier")
        )
        # A tier already asked for or held in both environments has nothing left to ask.
        tiers = [
            t for t in tiers_for(regulator) if any((e, t) not in live for e in Environment.values)
        ]
        first = not AccessRequest.objects.for_user(user).filter(regulator=regulator).exists()
        has_account = self.accounts().filter(regulator=regulator, is_active=True).exists()
        has_vendor = AgencyVendor.objects.filter(regulator=regulator).exists()
        staff = (
            get_user_model()
            .objects.filter(
                Exists(StaffMembership.objects.filter(user=OuterRef("pk"), regulator=regulator)),
                is_active=True,
                is_service_account=False,
            )
            .order_by("email")
        )
        return {
            "regulator": regulator,
            "tiers": tiers,
            "staff": staff,
            "ask_administrators": first,
            "ask_account": first or not has_account,
            "account_required": not has_account,
            "ask_vendor": first or not has_vendor,
            "vendor_required": not has_vendor,
        }

    def render_page(self, form=None):
        kwargs = self.form_kwargs()
        statewide = self.regulator.is_statewide
        if form is None and kwargs["tiers"] and not statewide:
            form = AccessRequestForm(**kwargs)
        grants = TierGrant.objects.for_user(self.request.user).filter(regulator=self.regulator)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                statewide=statewide,
                environments=Environment.choices,
                grant_rows=grant_table(grants),
                follow_up=not kwargs["ask_administrators"],
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render_page()

    def post(self, request, *args, **kwargs):
        form = AccessRequestForm(request.POST, **self.form_kwargs())
        if form.is_valid():
            data = form.cleaned_data
            vendor, own_system = data.get("vendor") or (None, False)
            new_account = None
            if data.get("account_email"):
                new_account = services.NewAccount(
                    email=data["account_email"].strip(), username=data["account_username"].strip()
                )
            try:
                access_request = services.file_access_request(
                    actor=request.user,
                    regulator=self.regulator,
                    environments=data["environments"],
                    tiers=data["tiers"],
                    authority_confirmed=data["authority_confirmed"],
                    terms_version=data["terms_version"] if data["terms_accepted"] else None,
                    edt_administrators=data.get("edt_administrators") or (),
                    new_account=new_account,
                    vendor=vendor,
                    own_system=own_system,
                    note=data["note"].strip(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Request #{access_request.pk} is filed; the state administrator decides "
                    "on each tier, and you will hear by e-mail.",
                )
                return redirect("regulator:edt_request", pk=access_request.pk)
        return self.render_page(form)


class EdtRequestDetailView(EdtMixin, TemplateView):
    """One access request: what was asked, each grant's status and reason, the history, and
    for the state administrator the decision form."""

    template_name = "edt/request_detail.html"

    def get_access_request(self) -> AccessRequest:
        return self.get_object(
            self.scoped(AccessRequest)
            .select_related("regulator", "filed_by", "edt_account", "vendor")
            .prefetch_related("edt_administrators"),
            message="No such EDT access request for this agency.",
        )

    def history(self, access_request, grants) -> list[AuditEvent]:
        about = Q(object_type="edt.accessrequest", object_id=str(access_request.pk)) | Q(
            object_type="edt.tiergrant", object_id__in=[str(g.pk) for g in grants]
        )
        if access_request.edt_account_id:
            about |= Q(object_type="edt.edtaccount", object_id=str(access_request.edt_account_id))
        return list(
            AuditEvent.objects.filter(about).select_related("actor").order_by("-created_at", "-id")
        )

    def render_page(self, access_request, decision_form=None):
        grants = sorted(access_request.grants.select_related("decided_by"), key=_environment_order)
        requested = [g for g in grants if g.status == Status.REQUESTED]
        if decision_form is None and self.is_state_admin and requested:
            decision_form = DecisionForm(grants=requested)
        return self.render_to_response(
            self.get_context_data(
                access_request=access_request,
                grants=grants,
                history=self.history(access_request, grants),
                decision_form=decision_form,
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render_page(self.get_access_request())


class EdtRequestDecideView(EdtRequestDetailView):
    """The state administrator's decisions on one request, all or nothing (POST only)."""

    http_method_names = ["post"]

    def check_access(self) -> None:
        if not self.is_state_admin:
            raise PermissionDenied("Only the state administrator decides on EDT access.")

    def post(self, request, *args, **kwargs):
        access_request = self.get_access_request()
        requested = [g for g in access_request.grants.all() if g.status == Status.REQUESTED]
        form = DecisionForm(request.POST, grants=sorted(requested, key=_environment_order))
        if form.is_valid():
            decisions = [
                services.Decision(grant_id=pk, approve=approve, reason=reason)
                for pk, approve, reason in form.decisions()
            ]
            try:
                decided = services.decide_access_request(
                    actor=request.user, access_request=access_request, decisions=decisions
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"{len(decided)} decision{'s' if len(decided) != 1 else ''} recorded; the "
                    "agency is told by e-mail.",
                )
                return redirect("regulator:edt_request", pk=access_request.pk)
        return self.render_page(access_request, decision_form=form)


# --- grants ------------------------------------------------------------------------------


class EdtGrantListView(StateAdminMixin, TemplateView):
    """Every agency's grants, filterable by agency code, status and environment, with the
    suspend, reinstate and revoke forms."""

    template_name = "edt/grant_list.html"

    def get_context_data(self, **kwargs):
        grants = TierGrant.objects.for_user(self.request.user).select_related(
            "regulator", "decided_by"
        )
        filters = {
            name: self.request.GET.get(name, "").strip()
            for name in ("agency", "status", "environment")
        }
        if filters["agency"]:
            grants = grants.filter(regulator__code=filters["agency"])
        if filters["status"] in Status.values:
            grants = grants.filter(status=filters["status"])
        if filters["environment"] in Environment.values:
            grants = grants.filter(environment=filters["environment"])
        grants = grants.order_by("regulator__code", "environment", "tier", "-pk")
        return super().get_context_data(
            page=paginate(self.request, grants),
            filters=filters,
            statuses=Status.choices,
            environments=Environment.choices,
            **kwargs,
        )


class EdtGrantChangeView(StateAdminMixin, TemplateView):
    """Suspend, reinstate or revoke one grant with a reason; answers with the grants page.
    Suspending and revoking first answer a confirmation page that says what stops."""

    http_method_names = ["post"]
    template_name = "edt/grant_confirm.html"
    CHANGES = {
        "suspend": (services.suspend_grant, "suspended"),
        "reinstate": (services.reinstate_grant, "reinstated"),
        "revoke": (services.revoke_grant, "revoked"),
    }
    # The changes that stop the agency's calls ask for confirmation first (no script needed).
    CONFIRMED = {"suspend": "Suspend", "revoke": "Revoke"}

    def post(self, request, pk):
        grant = get_object_or_404(
            TierGrant.objects.for_user(request.user).select_related("regulator"), pk=pk
        )
        back = reverse("regulator:edt_grants") + f"?agency={grant.regulator.code}"
        form = GrantChangeForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose suspend, reinstate or revoke.")
            return redirect(back)
        action = form.cleaned_data["action"]
        change, done = self.CHANGES[action]
        if (
            action in self.CONFIRMED
            and form.cleaned_data["reason"].strip()
            and not form.cleaned_data["confirmed"]
        ):
            return self.render_to_response(
                self.get_context_data(
                    grant=grant,
                    action=action,
                    verb=self.CONFIRMED[action],
                    reason=form.cleaned_data["reason"].strip(),
                    back=back,
                ),
            )
        try:
            change(actor=request.user, grant=grant, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"{grant.regulator.name}: tier {grant.tier} in {grant.environment} {done}.",
            )
        return redirect(back)


# --- EDT accounts and tokens -------------------------------------------------------------


class AccountMixin(EdtMixin):
    def get_account(self) -> EdtAccount:
        return self.get_object(
            self.accounts().select_related("regulator", "user"),
            message="No such EDT account for this agency.",
        )


def _secret_page(response):
    """A page that shows a secret once: never kept by a browser or a proxy."""
    add_never_cache_headers(response)  # Expires in the past, for old caches
    response["Cache-Control"] = "no-store"
    return response


class EdtAccountView(AccountMixin, TemplateView):
    """An EDT account: status, when its secret was set, its API tokens, and the buttons."""

    template_name = "edt/account_detail.html"

    def get_context_data(self, **kwargs):
        account = self.get_account()
        return super().get_context_data(
            account=account,
            tokens=account.tokens.select_related("created_by"),
            **kwargs,
        )


class EdtAccountSecretView(AccountMixin, TemplateView):
    """Generate or rotate the account's secret (POST) and show it this once, with the legacy
    header computed from it. Nothing shown here is stored."""

    template_name = "edt/account_secret.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        account = self.get_account()
        secret = services.set_account_secret(actor=request.user, account=account)
        header = f"Authorization: user {account.username}:{credentials.legacy_value(secret)}"
        response = self.render_to_response(
            self.get_context_data(account=account, secret=secret, header=header)
        )
        return _secret_page(response)


class EdtAccountActiveView(AccountMixin, View):
    """Enable or disable the account (POST ``active`` = 1 or 0)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        account = self.get_account()
        active = request.POST.get("active") == "1"
        services.set_account_active(actor=request.user, account=account, active=active)
        messages.success(
            request, f"EDT account {account.username} is {'enabled' if active else 'disabled'}."
        )
        return redirect("regulator:edt_account", pk=account.pk)


class EdtTokenNewView(AccountMixin, TemplateView):
    """Issue an API token for the account; the token is shown this once."""

    template_name = "edt/token_form.html"

    def get(self, request, *args, **kwargs):
        account = self.get_account()
        form = TokenForm(regulator=account.regulator)
        return self.render_to_response(self.get_context_data(account=account, form=form))

    def post(self, request, *args, **kwargs):
        account = self.get_account()
        form = TokenForm(request.POST, regulator=account.regulator)
        if form.is_valid():
            try:
                token, plain = services.issue_token(
                    actor=request.user,
                    account=account,
                    name=form.cleaned_data["name"],
                    expires_at=form.expires_at(),
                    environments=form.cleaned_data["environments"],
                    tiers=form.cleaned_data["tiers"],
                )
            except ValidationError as error:
                add_service_errors(form, error, {"expires_at": "expires_on"})
            else:
                response = self.response_class(
                    request=request,
                    template="edt/token_issued.html",
                    context=self.get_context_data(account=account, token=token, plain=plain),
                )
                return _secret_page(response)
        return self.render_to_response(self.get_context_data(account=account, form=form))


class EdtTokenRevokeView(EdtMixin, View):
    """Revoke one of the agency's API tokens (POST)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        token = get_object_or_404(
            ApiToken.objects.filter(account__in=self.accounts()).select_related(
                "account__regulator"
            ),
            pk=pk,
        )
        services.revoke_token(actor=request.user, token=token)
        messages.success(request, f"Token {token.name} ({token.prefix}...) is revoked.")
        return redirect("regulator:edt_account", pk=token.account_id)


# --- vendors and announcements (the state administrator) ---------------------------------


class EdtVendorListView(StateAdminMixin, TemplateView):
    """The vendor registry: each vendor's authorized tiers and how many agencies use it.
    (Vendors are not any agency's records: the registry is public, the page is the state
    administrator's.)"""

    template_name = "edt/vendor_list.html"

    def get_context_data(self, **kwargs):
        vendors = (
            Vendor.objects.annotate(agency_count=Count("agencies"))
            .prefetch_related("authorizations")
            .order_by("name")
        )
        return super().get_context_data(page=paginate(self.request, vendors), **kwargs)


class EdtVendorNewView(StateAdminMixin, TemplateView):
    """Register a vendor."""

    template_name = "edt/vendor_form.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=VendorForm()))

    def post(self, request, *args, **kwargs):
        form = VendorForm(request.POST)
        if form.is_valid():
            try:
                vendor = services.register_vendor(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{vendor.name} is registered; authorize its tiers.")
                return redirect("regulator:edt_vendor", pk=vendor.pk)
        return self.render_to_response(self.get_context_data(form=form))


class EdtVendorView(StateAdminMixin, TemplateView):
    """One vendor: its authorized tiers (POST sets them) and the agencies that use it."""

    template_name = "edt/vendor_detail.html"

    def render_page(self, vendor, form=None):
        if form is None:
            form = VendorTiersForm(initial={"tiers": vendor.authorized_tiers()})
        agencies = AgencyVendor.objects.filter(vendor=vendor).select_related("regulator")
        return self.render_to_response(
            self.get_context_data(
                vendor=vendor,
                form=form,
                agencies=agencies.order_by("regulator__code"),
            )
        )

    def get_vendor(self) -> Vendor:
        return get_object_or_404(
            Vendor.objects.prefetch_related("authorizations"), pk=self.kwargs["pk"]
        )

    def get(self, request, *args, **kwargs):
        return self.render_page(self.get_vendor())

    def post(self, request, *args, **kwargs):
        vendor = self.get_vendor()
        form = VendorTiersForm(request.POST)
        if form.is_valid():
            try:
                tiers = services.set_vendor_tiers(
                    actor=request.user, vendor=vendor, tiers=form.cleaned_data["tiers"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                shown = ", ".join(map(str, tiers)) or "none"
                messages.success(request, f"{vendor.name} is authorized for tiers: {shown}.")
                return redirect("regulator:edt_vendor", pk=vendor.pk)
        return self.render_page(vendor, form)


class EdtAnnouncementNewView(StateAdminMixin, TemplateView):
    """Post an announcement to the implementers' list (one e-mail per subscriber)."""

    template_name = "edt/announcement_form.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=AnnouncementForm()))

    def post(self, request, *args, **kwargs):
        form = AnnouncementForm(request.POST)
        if form.is_valid():
            try:
                announcement = services.post_announcement(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Announcement posted to {announcement.recipients} subscriber"
                    f"{'s' if announcement.recipients != 1 else ''}.",
                )
                return redirect("edt_program:announcement", pk=announcement.pk)
        return self.render_to_response(self.get_context_data(form=form))


class EdtImplementersView(RegulatorPortalMixin, TemplateView):
    """The implementers' list in the regulator portal: staff join or leave it with their own
    account's address (confirmed at once); the state administrator also sees who is on it,
    confirmed or waiting, adds vendor contacts (who are sent a link to confirm) and removes
    anyone. Each change is a POST with ``action`` = subscribe, unsubscribe, add or remove."""

    template_name = "edt/implementers.html"

    @cached_property
    def is_state_admin(self) -> bool:
        return is_state_edt_administrator(self.request.user)

    def own_subscription(self):
        return Subscriber.objects.filter(email__iexact=self.request.user.email).first()

    def get_context_data(self, **kwargs):
        page = counts = None
        if self.is_state_admin:
            subscribers = Subscriber.objects.select_related("vendor").order_by("email")
            page = paginate(self.request, subscribers)
            counts = Subscriber.objects.aggregate(
                confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)),
                waiting=Count("pk", filter=Q(confirmed_at__isnull=True)),
            )
            kwargs.setdefault("add_form", SubscriberForm())
        return super().get_context_data(
            subscription=self.own_subscription(),
            is_state_admin=self.is_state_admin,
            page=page,
            counts=counts,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        user = request.user
        try:
            if action == "subscribe":
                services.subscribe(actor=user, email=user.email, name=user.get_full_name())
                messages.success(request, "You are on the EDT implementers' list.")
            elif action == "unsubscribe":
                subscription = self.own_subscription()
                if subscription is not None:
                    services.unsubscribe(actor=user, subscriber=subscription)
                messages.success(request, "You have left the EDT implementers' list.")
            elif action == "add" and self.is_state_admin:
                form = SubscriberForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(add_form=form))
                subscriber = services.subscribe(actor=user, **form.cleaned_data)
                messages.success(
                    request,
                    f"{subscriber.email} was sent a link to confirm; announcements reach it "
                    "once it is followed.",
                )
            elif action == "remove" and self.is_state_admin:
                wanted = request.POST.get("subscriber", "")
                subscriber = get_object_or_404(
                    Subscriber, pk=int(wanted) if wanted.isdecimal() else 0
                )
                services.unsubscribe(actor=user, subscriber=subscriber)
                messages.success(request, f"{subscriber.email} was removed from the list.")
            else:
                messages.error(request, "Choose what to do.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("regulator:edt_implementers")


# --- the transaction log -------------------------------------------------------------------


class EdtTransactionListView(EdtMixin, TemplateView):
    """Every call the agency's EDT accounts made (every agency's for the state administrator),
    newest first, filterable by endpoint, environment and status."""

    template_name = "edt/transaction_list.html"

    def get_context_data(self, **kwargs):
        from ...api.catalogue import ENDPOINTS
        from ...models import EdtTransaction

        rows = self.scoped(EdtTransaction).select_related("regulator", "account")
        chosen = {}
        for name, choices in (
            ("endpoint", [e.acronym for e in ENDPOINTS]),
            ("environment", Environment.values),
            ("status", [str(v) for v in EdtTransaction.Status.values]),
        ):
            value = self.request.GET.get(name, "")
            if value in choices:
                rows = rows.filter(**{name: value})
                chosen[name] = value
        return super().get_context_data(
            page=paginate(self.request, rows.defer("result_xml", "arguments")),
            endpoints=ENDPOINTS,
            environments=Environment.choices,
            statuses=EdtTransaction.Status.choices,
            chosen=chosen,
            **kwargs,
        )


class EdtTransactionDetailView(EdtMixin, TemplateView):
    """One transaction: what was asked, how it ended, every guidance message, the keys it
    created (paged), and the progress of queued work."""

    template_name = "edt/transaction_detail.html"

    def get_context_data(self, **kwargs):
        from ... import uploads
        from ...models import EdtTransaction

        row = get_object_or_404(
            self.scoped(EdtTransaction).select_related("regulator", "account"),
            key=kwargs["key"],
        )
        progress = uploads.progress_of(row)
        return super().get_context_data(
            row=row,
            # The keys of what the upload stored, a page at a time: a large upload has many.
            page=paginate(self.request, row.entity_keys.order_by("position", "pk")),
            position=uploads.queue_position(row),
            progress=progress,
            percent=int(100 * progress[0] / progress[1]) if progress and progress[1] else None,
            **kwargs,
        )
