"""The project's URLs plus one portal page that needs nothing but a signed-in portal user, so
the tests can ask "does this session reach a portal?" without depending on other apps' pages."""

from django.http import HttpResponse
from django.urls import path
from django.views import View

from cers.urls import urlpatterns as project_urlpatterns
from core.views import BusinessPortalMixin


class PortalProbe(BusinessPortalMixin, View):
    requires_organization = False

    def get(self, request):
        return HttpResponse(f"portal page for {request.user.email}")


urlpatterns = [
    *project_urlpatterns,
    path("portal-probe/", PortalProbe.as_view(), name="portal_probe"),
]
