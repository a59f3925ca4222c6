"""Regulator portal URLs for the agency itself, its staff, and the organizations in its
jurisdiction (mounted under /regulator/, namespace ``regulator``)."""

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
    path("staff/", regulator.StaffListView.as_view(), name="staff"),
    path("staff/add/", regulator.StaffAddView.as_view(), name="staff_add"),
    path("staff/<int:pk>/role/", regulator.StaffRoleView.as_view(), name="staff_role"),
    path("staff/<int:pk>/remove/", regulator.StaffRemoveView.as_view(), name="staff_remove"),
]
