"""Base views: where portal access and scoping are enforced, once.

Every business portal page derives from ``BusinessPortalMixin`` and every regulator portal
page from ``RegulatorPortalMixin``; list and detail pages add ``ScopedQuerysetMixin``, which
starts every queryset from ``Model.objects.for_user(user, action)``, so an object outside the
user's scope answers 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

ORGANIZATION_SESSION_KEY = "cers_organization_id"
REGULATOR_SESSION_KEY = "cers_regulator_id"


class BusinessPortalMixin(LoginRequiredMixin):
    """A business portal page. Sets ``self.membership`` and ``self.organization``: the
    organization the user is working in (a consultant switches between several).

    A user who belongs to no organization yet is sent to the start page, which guides them to
    create one or ask to join one, and sees nothing else until then.
    """

    requires_organization = True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
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
        return super().dispatch(request, *args, **kwargs)

    def require_org_perm(self, codename: str) -> None:
        """403 unless the user's role in the current organization grants ``codename``.

        (The organization is the user's own, so a 403 tells them nothing new.)
        """
        if not self.request.user.has_perm(f"organizations.{codename}", self.organization):
            raise PermissionDenied("Your role in this organization does not allow that.")


class RegulatorPortalMixin(LoginRequiredMixin):
    """A regulator portal page, for staff of at least one agency. Sets ``self.staff`` and
    ``self.regulator``: the agency the user is working for."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        staff = list(request.user.staff_memberships.select_related("regulator"))
        if not staff:
            raise PermissionDenied("The regulator portal is for regulator agency staff.")
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


class ScopedQuerysetMixin:
    """Start the view's queryset from ``model.objects.for_user(user, scope_action)``."""

    scope_action = "view"
    model = None

    def get_queryset(self):
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model.")
        return self.model.objects.for_user(self.request.user, self.scope_action)


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
