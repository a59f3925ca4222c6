"""Regulator portal URLs for the agency itself and its dashboard, its staff, the
organizations in its jurisdiction and the state administrator's largest organizations
(mounted under /regulator/, namespace ``regulator``)."""

from django.urls import path

from .views import dashboard, regulator

urlpatterns = [
    path("", regulator.AgencyHomeView.as_view(), name="home"),
    path("switch/", regulator.SwitchAgencyView.as_view(), name="switch_agency"),
    path("organizations/", regulator.OrganizationListView.as_view(), name="organizations"),
    path(
        "organizations/<int:code>/",
        regulator.OrganizationDetailView.as_view(),
        name="organization",
    ),
    path(
        "organizations/largest/",
        regulator.LargeOrganizationListView.as_view(),
        name="large_organizations",
    ),
    path(
        "organizations/<int:code>/take-over/",
        regulator.OrganizationTakeOverView.as_view(),
        name="organization_take_over",
    ),
    path(
        "organizations/<int:code>/release/",
        regulator.OrganizationReleaseView.as_view(),
        name="organization_release",
    ),
    path(
        "violations/past-return-to-compliance/",
        dashboard.ViolationsPastRTCView.as_view(),
        name="violations_past_rtc",
    ),
    path("staff/", regulator.StaffListView.as_view(), name="staff"),
    path("staff/add/", regulator.StaffAddView.as_view(), name="staff_add"),
    path("staff/<int:pk>/role/", regulator.StaffRoleView.as_view(), name="staff_role"),
    path("staff/<int:pk>/remove/", regulator.StaffRemoveView.as_view(), name="staff_remove"),
]
