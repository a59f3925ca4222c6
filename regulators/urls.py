"""Public regulator URLs (outside the regulator portal): the invited person's answer to a
staff invitation."""

from django.urls import path

from .views.invitations import StaffInvitationDeclineView, StaffInvitationView

urlpatterns = [
    path("staff-invitations/<int:pk>/", StaffInvitationView.as_view(), name="staff_invitation"),
    path(
        "staff-invitations/<int:pk>/decline/",
        StaffInvitationDeclineView.as_view(),
        name="staff_invitation_decline",
    ),
]
