"""Public regulator URLs (outside the regulator portal): the regulator directory, open to
everyone, the invited person's answer to a staff invitation, and a signed-in person's request
to join an agency's staff."""

from django.urls import path

from .views.directory import RegulatorDirectoryView
from .views.invitations import StaffInvitationDeclineView, StaffInvitationView
from .views.staff_requests import StaffRequestView, StaffRequestWithdrawView

urlpatterns = [
    path("agencies/", RegulatorDirectoryView.as_view(), name="regulator_directory"),
    path("agencies/<str:code>/join/", StaffRequestView.as_view(), name="staff_request_create"),
    path(
        "staff-requests/<int:pk>/withdraw/",
        StaffRequestWithdrawView.as_view(),
        name="staff_request_withdraw",
    ),
    path("staff-invitations/<int:pk>/", StaffInvitationView.as_view(), name="staff_invitation"),
    path(
        "staff-invitations/<int:pk>/decline/",
        StaffInvitationDeclineView.as_view(),
        name="staff_invitation_decline",
    ),
]
