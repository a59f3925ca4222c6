"""Regulator portal URLs of the pages that combine several apps: the agency's home and its
dashboard, the organizations in its jurisdiction and the state administrator's largest
organizations (mounted under /regulator/, namespace ``regulator``)."""

from django.urls import path

from .views import dashboard, regulator, report

urlpatterns = [
    path("", regulator.AgencyHomeView.as_view(), name="home"),
    path("organizations/", regulator.OrganizationListView.as_view(), name="organizations"),
    path(
        "organizations/people/export/",
        regulator.OrganizationPeopleExportView.as_view(),
        name="organization_people_export",
    ),
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
    path("reports/element-status/", report.StatusReportView.as_view(), name="status_report"),
    path(
        "reports/element-status/export/",
        report.StatusReportExportView.as_view(),
        name="status_report_export",
    ),
    path(
        "violations/past-return-to-compliance/",
        dashboard.ViolationsPastRTCView.as_view(),
        name="violations_past_rtc",
    ),
]
