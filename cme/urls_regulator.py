"""Regulator portal URLs for CME (mounted under /regulator/, namespace ``regulator``)."""

from django.urls import path

from .views import regulator

urlpatterns = [
    path("cme/inspections/", regulator.InspectionListView.as_view(), name="cme_inspections"),
    path(
        "cme/inspections/new/",
        regulator.InspectionStartView.as_view(),
        name="cme_inspection_start",
    ),
    path(
        "cme/inspections/export/",
        regulator.InspectionExportView.as_view(),
        name="cme_inspections_export",
    ),
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
    path(
        "cme/inspections/<int:pk>/edit/",
        regulator.InspectionEditView.as_view(),
        name="cme_inspection_edit",
    ),
    path(
        "cme/violations/<int:pk>/edit/",
        regulator.ViolationEditView.as_view(),
        name="cme_violation_edit",
    ),
    path("cme/enforcements/", regulator.EnforcementListView.as_view(), name="cme_enforcements"),
    path(
        "cme/enforcements/export/",
        regulator.EnforcementExportView.as_view(),
        name="cme_enforcements_export",
    ),
    path(
        "cme/enforcements/<int:pk>/",
        regulator.EnforcementDetailView.as_view(),
        name="cme_enforcement",
    ),
    path(
        "cme/enforcements/<int:pk>/edit/",
        regulator.EnforcementEditView.as_view(),
        name="cme_enforcement_edit",
    ),
    path("cme/upload/", regulator.UploadView.as_view(), name="cme_upload"),
    path(
        "cme/upload/template/",
        regulator.UploadTemplateView.as_view(),
        name="cme_upload_template",
    ),
]
