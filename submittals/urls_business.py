"""Business portal URLs for submittals (mounted under /business/, namespace ``business``)."""

from django.urls import path

from .views import business

urlpatterns = [
    path(
        "facilities/<int:cers_id>/submittals/",
        business.SubmittalListView.as_view(),
        name="submittals",
    ),
    path(
        "facilities/<int:cers_id>/submittals/start/",
        business.DraftStartView.as_view(),
        name="draft_start",
    ),
    path(
        "facilities/<int:cers_id>/submittals/submit/",
        business.SubmitView.as_view(),
        name="submit",
    ),
    path("submittals/elements/<int:pk>/", business.ElementView.as_view(), name="element"),
    path(
        "submittals/elements/<int:pk>/discard/",
        business.DraftDiscardView.as_view(),
        name="draft_discard",
    ),
    path(
        "submittals/<int:pk>/receipt/",
        business.ReceiptView.as_view(),
        name="submittal_receipt",
    ),
]
