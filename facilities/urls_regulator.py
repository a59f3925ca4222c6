"""Regulator portal URLs for facilities (mounted under /regulator/, namespace ``regulator``)."""

from django.urls import path

from .views import regulator

urlpatterns = [
    path("facilities/", regulator.FacilityListView.as_view(), name="facilities"),
    path("facilities/<int:cers_id>/", regulator.FacilityDetailView.as_view(), name="facility"),
]
