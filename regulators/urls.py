"""Public regulator URLs (outside the regulator portal): the regulator directory, open to
everyone, and the invited person's answer to a staff invitation."""

from django.urls import path

from .views.directory import RegulatorDirectoryView
from .views.invitations import StaffInvitationDeclineView, StaffInvitationView

urlpatterns = [
    path("agencies/", RegulatorDirectoryView.as_view(), name="regulator_directory"),
    path("staff-invitations/<int:pk>/", StaffInvitationView.as_view(), name="staff_invitation"),
    path(
        "staff-invitations/<int:pk>/decline/",
        StaffInvitationDeclineView.as_view(),
        name="staff_invitation_decline",
    ),
]
