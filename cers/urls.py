"""URLs. Each portal has its own URL module and namespace (business, regulator); the public
pages and the accounts pages sit beside them."""

from django.contrib import admin
from django.urls import include, path

from cme import urls_regulator as cme_regulator
from core.views import FaviconView, HealthView, HomeView
from edt.access import urls_regulator as edt_regulator
from edt.api import urls as edt_api
from edt.api.routing import iis_path
from facilities import urls_business as facilities_business
from facilities import urls_regulator as facilities_regulator
from organizations import urls_business as organizations_business
from portal import urls_business as portal_business
from portal import urls_regulator as portal_regulator
from regulators import urls_regulator as regulators_regulator
from submittals import urls_business as submittals_business
from submittals import urls_regulator as submittals_regulator

business_patterns = [*portal_business.urlpatterns, *organizations_business.urlpatterns]
business_patterns += [*facilities_business.urlpatterns]
business_patterns += [*submittals_business.urlpatterns]
regulator_patterns = [*portal_regulator.urlpatterns, *regulators_regulator.urlpatterns]
regulator_patterns += [*facilities_regulator.urlpatterns]
regulator_patterns += [*submittals_regulator.urlpatterns]
regulator_patterns += [*cme_regulator.urlpatterns]
regulator_patterns += [*edt_regulator.urlpatterns]

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("health/", HealthView.as_view(), name="health"),
    # Browsers ask for /favicon.ico whatever the page links to: send them to the icon.
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("accounts/", include("accounts.urls")),
    path("", include("organizations.urls")),
    path("", include("regulators.urls")),
    path("business/", include((business_patterns, "business"))),
    path("regulator/", include((regulator_patterns, "regulator"))),
    path("libraries/", include("libraries.urls")),
    path("edt-program/", include(("edt.access.urls_public", "edt_program"))),
    path("admin/", admin.site.urls),
    # The EDT services, twice: production and the testing environment (CalEPA's "Staging"),
    # matched as CalEPA's IIS server matches them (whatever the case, "/edt/" too).
    iis_path(
        "EDT/",
        include((edt_api.urlpatterns, "edt_api"), namespace="edt"),
        {"environment": "production"},
    ),
    iis_path(
        "Staging/",
        include((edt_api.urlpatterns, "edt_api"), namespace="edt_staging"),
        {"environment": "testing"},
    ),
]
