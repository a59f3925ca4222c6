"""URLs. Each portal has its own URL module and namespace (business, regulator); the public
pages and the accounts pages sit beside them."""

from django.contrib import admin
from django.urls import include, path

from cme import urls_regulator as cme_regulator
from core.views import HealthView, HomeView
from facilities import urls_business as facilities_business
from facilities import urls_regulator as facilities_regulator
from organizations import urls_business as organizations_business
from regulators import urls_regulator as regulators_regulator
from submittals import urls_business as submittals_business
from submittals import urls_regulator as submittals_regulator

business_patterns = [*organizations_business.urlpatterns, *facilities_business.urlpatterns]
business_patterns += [*submittals_business.urlpatterns]
regulator_patterns = [*regulators_regulator.urlpatterns, *facilities_regulator.urlpatterns]
regulator_patterns += [*submittals_regulator.urlpatterns]
regulator_patterns += [*cme_regulator.urlpatterns]

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("health/", HealthView.as_view(), name="health"),
    path("accounts/", include("accounts.urls")),
    path("", include("organizations.urls")),
    path("business/", include((business_patterns, "business"))),
    path("regulator/", include((regulator_patterns, "regulator"))),
    path("libraries/", include("libraries.urls")),
    path("admin/", admin.site.urls),
]
