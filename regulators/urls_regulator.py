"""Regulator portal URLs for the agency's staff and switching agency (mounted under
/regulator/, namespace ``regulator``). The agency's home, its dashboard and the organizations
in its jurisdiction are ``portal.urls_regulator``."""

from django.urls import path

from .views import regulator

urlpatterns = [
    path("switch/", regulator.SwitchAgencyView.as_view(), name="switch_agency"),
    path("staff/", regulator.StaffListView.as_view(), name="staff"),
    path("contact/", regulator.ContactView.as_view(), name="contact"),
    path(
        "local-requirements/",
        regulator.LocalRequirementsView.as_view(),
        name="local_requirements",
    ),
    path("reminders/", regulator.ReminderDaysView.as_view(), name="reminder_days"),
    path("staff/add/", regulator.StaffAddView.as_view(), name="staff_add"),
    path("staff/<int:pk>/role/", regulator.StaffRoleView.as_view(), name="staff_role"),
    path("staff/<int:pk>/remove/", regulator.StaffRemoveView.as_view(), name="staff_remove"),
    path(
        "staff/requests/<int:pk>/decide/",
        regulator.StaffRequestDecideView.as_view(),
        name="staff_request_decide",
    ),
    path(
        "staff/invitations/<int:pk>/cancel/",
        regulator.StaffInvitationCancelView.as_view(),
        name="staff_invitation_cancel",
    ),
]
