"""Business portal URLs of the pages that combine several apps: the organization's home and
each user's notifications (mounted under /business/, namespace ``business``)."""

from django.urls import path

from .views import business

urlpatterns = [
    path("", business.OrganizationHomeView.as_view(), name="home"),
    path("notifications/", business.NotificationsView.as_view(), name="notifications"),
]
