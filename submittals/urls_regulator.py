"""Regulator portal URLs for submitted elements (mounted under /regulator/, namespace
``regulator``)."""

from django.urls import path

from .views import documents, regulator

urlpatterns = [
    path("submittals/", regulator.ReviewQueueView.as_view(), name="review_queue"),
    path(
        "submittals/review-selected/", regulator.BulkReviewView.as_view(), name="review_queue_bulk"
    ),
    path(
        "submittals/export/", regulator.ReviewQueueExportView.as_view(), name="review_queue_export"
    ),
    path("submittals/elements/<int:pk>/", regulator.ElementReviewView.as_view(), name="review"),
    path(
        "submittals/<int:pk>/submittal.pdf",
        regulator.SubmittalPdfView.as_view(),
        name="submittal_pdf",
    ),
    path(
        "submittals/documents/<uuid:key>/",
        documents.RegulatorDocumentDownloadView.as_view(),
        name="document_download",
    ),
]
