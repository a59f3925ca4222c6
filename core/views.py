"""Base views: where portal access and scoping are enforced, once.

Every business portal page derives from ``BusinessPortalMixin`` and every regulator portal
page from ``RegulatorPortalMixin``; list and detail pages add ``ScopedQuerysetMixin`` (the
regulator portal's ``AgencyScopedMixin``), which starts every queryset from
``Model.objects.for_user(user, action)``, so an object outside the user's scope answers 404.
Views name an action; the querysets hold the rules of scope, and ``core.access`` those of
roles: a page asks ``can`` (``require`` answers 403) with the action the service will ask.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views import View
from django.views.generic import RedirectView, TemplateView

from . import access, hooks
from .scoping import acts_through

ORGANIZATION_SESSION_KEY = "cers_organization_id"
REGULATOR_SESSION_KEY = "cers_regulator_id"

# A page's refusal when it names no reason of its own.
ORGANIZATION_ROLE_REFUSED = "Your role in this organization does not allow that."
AGENCY_ROLE_REFUSED = "Your role at this agency does not allow that."


def portal_entry_refused(request, portal: str):
    """What the apps above answer in place of a page of ``portal`` (``core.hooks.
    portal_entry``: the portal's user agreement not accepted), or None. One of them must
    answer the hook: without it the portals would open to anyone signed in."""
    if not len(hooks.portal_entry):
        raise ImproperlyConfigured("No app registered core.hooks.portal_entry.")
    for ask in hooks.portal_entry:
        response = ask(request, portal)
        if response is not None:
            return response
    return None


class BusinessPortalMixin(LoginRequiredMixin):
    """A business portal page. Sets ``self.membership`` and ``self.organization``: the
    organization the user is working in (a consultant switches between several).

    A user who belongs to no organization yet is sent to the start page, which guides them to
    create one or ask to join one, and sees nothing else until then. Before all of it, the
    portal's user agreement (``portal_entry_refused``).
    """

    requires_organization = True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        refused = portal_entry_refused(request, "business")
        if refused is not None:
            return refused
        memberships = list(request.user.memberships.select_related("organization"))
        wanted = request.session.get(ORGANIZATION_SESSION_KEY)
        current = next((m for m in memberships if m.organization_id == wanted), None)
        if current is None and memberships:
            current = memberships[0]
            request.session[ORGANIZATION_SESSION_KEY] = current.organization_id
        self.memberships = memberships
        self.membership = current
        self.organization = current.organization if current else None
        request.cers_portal = "business"
        request.cers_memberships = memberships
        request.cers_membership = current
        if current is None and self.requires_organization:
            return redirect("business:start")
        try:
            return super().dispatch(request, *args, **kwargs)
        except Http404:
            # A link (an e-mail's, the notifications page's) to a page of another of the
            # user's organizations: open it there rather than answer that it does not exist.
            # Only a page opened, never a form posted from a tab of another organization.
            other = self.membership_named_elsewhere() if request.method in ("GET", "HEAD") else None
            if other is None:
                raise
            request.session[ORGANIZATION_SESSION_KEY] = other.organization_id
            messages.info(request, f"You are now working in {other.organization.name}.")
            return redirect(request.get_full_path())

    def organization_in_url(self) -> int | None:
        """The primary key of the organization the page's URL names (a facility's, by its
        CERS ID) as far as the user may see it, or None: asked only when the page was not
        found in the organization the user works in."""
        return None

    def membership_named_elsewhere(self):
        """The user's membership of the organization the URL names, when it is not the one
        they work in now."""
        named = self.organization_in_url()
        if named is None or (self.membership and named == self.membership.organization_id):
            return None
        return next((m for m in self.memberships if m.organization_id == named), None)

    def can(self, action: str, obj=None) -> bool:
        """Whether the user may do ``action`` to ``obj`` (``core.access.can``), by default to
        the organization they work in (nothing while they have none)."""
        if obj is None:
            obj = self.organization
            if obj is None:
                return False
        return access.can(self.request.user, action, obj)

    def require(self, action: str, obj=None, message: str = ORGANIZATION_ROLE_REFUSED) -> None:
        """403 unless the user may do ``action`` to ``obj`` (the current organization by
        default).

        (The organization is the user's own, so a 403 tells them nothing new.)
        """
        if not self.can(action, obj):
            raise PermissionDenied(message)


class RegulatorPortalMixin(LoginRequiredMixin):
    """A regulator portal page, for staff of at least one agency. Sets ``self.staff`` and
    ``self.regulator``: the agency the user is working for. Staff are asked first to accept
    the portal's user agreement (``portal_entry_refused``); anyone else gets 403."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        staff = list(request.user.staff_memberships.select_related("regulator"))
        if not staff:
            raise PermissionDenied("The regulator portal is for regulator agency staff.")
        refused = portal_entry_refused(request, "regulator")
        if refused is not None:
            return refused
        wanted = request.session.get(REGULATOR_SESSION_KEY)
        current = next((s for s in staff if s.regulator_id == wanted), staff[0])
        if wanted != current.regulator_id:
            request.session[REGULATOR_SESSION_KEY] = current.regulator_id
        self.staff_memberships = staff
        self.staff = current
        self.regulator = current.regulator
        request.cers_portal = "regulator"
        request.cers_staff_memberships = staff
        request.cers_staff = current
        return super().dispatch(request, *args, **kwargs)

    def can(self, action: str, obj=None) -> bool:
        """Whether the user may do ``action`` to ``obj`` (``core.access.can``), by default to
        the agency they work for."""
        return access.can(self.request.user, action, self.regulator if obj is None else obj)

    def require(self, action: str, obj=None, message: str = AGENCY_ROLE_REFUSED) -> None:
        """403 unless the user may do ``action`` to ``obj`` (the agency they work for by
        default).

        (The agency is the user's own, so a 403 tells them nothing new.)
        """
        if not self.can(action, obj):
            raise PermissionDenied(message)


class ScopedQuerysetMixin:
    """A page's scope, declared: the view names an ``action`` and a ``model`` (or a
    ``queryset`` to start from), and every row it reads comes from
    ``Model.objects.for_user(user, action)``, where the rule lives. An object outside that
    scope answers 404 (``get_object``), so a page never says whether it exists.

    ``scope_queryset`` is where a portal narrows the scope further (the regulator portal
    to the agency the user works for, ``AgencyScopedMixin``).
    """

    scope_action = "view"
    model = None
    queryset = None
    lookup_field = "pk"
    lookup_url_kwarg = None
    not_found_message = "No such record."

    def get_base_queryset(self):
        if self.queryset is not None:
            return self.queryset.all()
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model or a queryset.")
        return self.model._default_manager.all()

    def scope_queryset(self, queryset):
        """Narrow the user's scope further; the whole ``for_user`` scope by default."""
        return queryset

    def get_queryset(self, action: str | None = None):
        """The rows the user may act on with ``action`` (the view's ``scope_action`` by
        default)."""
        return self.scoped(self.get_base_queryset(), action)

    def scoped(self, queryset, action: str | None = None):
        """Any model's rows (``queryset``: a model or a queryset) in the page's scope, for a
        page that reads more than its own model."""
        if not hasattr(queryset, "for_user"):
            queryset = queryset._default_manager.all()
        queryset = queryset.for_user(self.request.user, action or self.scope_action)
        return self.scope_queryset(queryset)

    def get_object(self, queryset=None, action: str | None = None, message: str | None = None):
        """The row named by the URL (``lookup_url_kwarg``, else ``lookup_field``) in the
        scope (``queryset``, or the view's own for ``action``); 404 outside it."""
        if queryset is None:
            queryset = self.get_queryset(action)
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        # No key holds a NUL, and PostgreSQL refuses one in a query (a %00 in the URL).
        if isinstance(value, str) and "\x00" in value:
            raise Http404(message or self.not_found_message)
        found = queryset.filter(**{self.lookup_field: value}).first()
        if found is None:
            raise Http404(message or self.not_found_message)
        return found


class OrganizationScopedMixin(BusinessPortalMixin, ScopedQuerysetMixin):
    """A business portal page whose rows are narrowed to the organization the user works in
    now; ``organization_field`` names the path from the model to its organization."""

    organization_field = "organization"
    not_found_message = "Not in this organization."

    def scope_queryset(self, queryset):
        return queryset.filter(**{self.organization_field: self.organization})


class AgencyScopedMixin(RegulatorPortalMixin, ScopedQuerysetMixin):
    """A regulator portal page whose rows are narrowed to the jurisdiction of the agency the
    user works for now: the model's queryset answers ``in_jurisdiction(regulator)`` (every
    row for the state agency)."""

    not_found_message = "Not in this agency's jurisdiction."

    def scope_queryset(self, queryset):
        return queryset.in_jurisdiction(self.regulator)

    def scoped(self, queryset, action: str | None = None):
        """The user's scope for ``action`` within the agency's jurisdiction. Where the user
        acts for this agency with ``action`` and the model's queryset declares
        ``jurisdiction_within_agency_scope`` (its ``in_jurisdiction(agency)`` lies inside
        the ``for_user`` scope of anyone acting for that agency: tests/cme/
        test_jurisdiction_scope.py holds each declaring model to it), the two agree, so
        the jurisdiction is asked alone: the same rows, without the agency's condition
        written twice in the SQL."""
        if not hasattr(queryset, "for_user"):
            queryset = queryset._default_manager.all()
        action = action or self.scope_action
        if getattr(queryset, "jurisdiction_within_agency_scope", False) and acts_through(
            self.request.user, action, self.regulator
        ):
            return queryset.in_jurisdiction(self.regulator)
        return super().scoped(queryset, action)


class HomeView(TemplateView):
    """The front door: a welcome page, or the right portal for a signed-in user."""

    template_name = "home.html"

    def get(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            if user.memberships.exists():
                return redirect("business:home")
            if user.staff_memberships.exists():
                return redirect("regulator:home")
            return redirect("business:start")
        return super().get(request, *args, **kwargs)


class HealthView(View):
    """Liveness and database check for load balancers: 200 when the database answers."""

    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # noqa: BLE001 - any failure means unhealthy
            return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
        return JsonResponse({"status": "ok", "eager_tasks": settings.CELERY_TASK_ALWAYS_EAGER})


class FaviconView(RedirectView):
    """``/favicon.ico``, which browsers ask for whatever the page links to: the site's icon.
    Its address is looked up per request, since the hashed static file names of production
    exist only once the files are collected."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")
