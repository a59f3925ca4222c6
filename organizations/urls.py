"""Public organization URLs (outside both portals): accepting an invitation."""

from django.urls import path

from .views.public import InvitationView

urlpatterns = [
    path("invitations/<str:token>/", InvitationView.as_view(), name="invitation"),
]
