"""Regulator portal URLs for the agency itself and the organizations in its jurisdiction
(mounted under /regulator/, namespace ``regulator``)."""

from django.urls import path

from .views import regulator

urlpatterns = [
    path("", regulator.AgencyHomeView.as_view(), name="home"),
    path("switch/", regulator.SwitchAgencyView.as_view(), name="switch_agency"),
    path("organizations/", regulator.OrganizationListView.as_view(), name="organizations"),
    path(
        "organizations/<int:code>/",
        regulator.OrganizationDetailView.as_view(),
        name="organization",
    ),
]
