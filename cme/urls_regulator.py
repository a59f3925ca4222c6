"""Regulator portal URLs for CME (mounted under /regulator/, namespace ``regulator``)."""

from django.urls import path

from .views import regulator

urlpatterns = [
    path("cme/inspections/", regulator.InspectionListView.as_view(), name="cme_inspections"),
    path(
        "facilities/<int:cers_id>/inspections/new/",
        regulator.InspectionCreateView.as_view(),
        name="cme_inspection_create",
    ),
    path(
        "cme/inspections/<int:pk>/",
        regulator.InspectionDetailView.as_view(),
        name="cme_inspection",
    ),
    path(
        "cme/inspections/<int:pk>/violations/",
        regulator.ViolationCreateView.as_view(),
        name="cme_violation_create",
    ),
    path(
        "cme/inspections/<int:pk>/enforcements/",
        regulator.EnforcementCreateView.as_view(),
        name="cme_enforcement_create",
    ),
    path(
        "cme/inspections/<int:pk>/delete/",
        regulator.InspectionDeleteView.as_view(),
        name="cme_inspection_delete",
    ),
]
