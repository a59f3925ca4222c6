"""Regulator portal URLs for facilities (mounted under /regulator/, namespace ``regulator``)."""

from django.urls import path

from .views import regulator

urlpatterns = [
    path("facilities/", regulator.FacilityListView.as_view(), name="facilities"),
    path("facilities/export/", regulator.FacilityExportView.as_view(), name="facilities_export"),
    path("facilities/<int:cers_id>/", regulator.FacilityDetailView.as_view(), name="facility"),
    path(
        "facilities/<int:cers_id>/elements/<int:element>/",
        regulator.FacilityElementView.as_view(),
        name="facility_element",
    ),
    path(
        "facilities/<int:cers_id>/details/",
        regulator.FacilityDetailsView.as_view(),
        name="facility_details",
    ),
    path(
        "facilities/<int:cers_id>/move/", regulator.FacilityMoveView.as_view(), name="facility_move"
    ),
    path(
        "facilities/<int:cers_id>/merge/",
        regulator.FacilityMergeView.as_view(),
        name="facility_merge",
    ),
    path(
        "facilities/transfer-requests/",
        regulator.TransferRequestListView.as_view(),
        name="facility_transfer_requests",
    ),
    path(
        "facilities/transfer-requests/<int:pk>/decline/",
        regulator.TransferRequestDeclineView.as_view(),
        name="facility_transfer_request_decline",
    ),
    path(
        "facilities/<int:cers_id>/reopen/",
        regulator.FacilityReopenView.as_view(),
        name="facility_reopen",
    ),
    path(
        "facilities/transfers/<int:pk>/letter/",
        regulator.TransferLetterView.as_view(),
        name="facility_transfer_letter",
    ),
    path(
        "organizations/<int:code>/merge/",
        regulator.OrganizationMergeView.as_view(),
        name="organization_merge",
    ),
    path("due-date-rule/", regulator.DueDateRuleView.as_view(), name="due_date_rule"),
    path("legacy-import/", regulator.LegacyImportView.as_view(), name="legacy_import"),
]
