"""Business portal URLs for facilities (mounted under /business/, namespace ``business``)."""

from django.urls import path

from .views import business

urlpatterns = [
    path("facilities/", business.FacilityListView.as_view(), name="facilities"),
    path("facilities/new/", business.FacilityCreateView.as_view(), name="facility_create"),
    path("facilities/<int:cers_id>/", business.FacilityDetailView.as_view(), name="facility"),
    path(
        "facilities/<int:cers_id>/edit/", business.FacilityEditView.as_view(), name="facility_edit"
    ),
    path(
        "facilities/<int:cers_id>/close/",
        business.FacilityCloseView.as_view(),
        name="facility_close",
    ),
    path(
        "facilities/<int:cers_id>/reopen/",
        business.FacilityReopenView.as_view(),
        name="facility_reopen",
    ),
    path(
        "facilities/<int:cers_id>/transfer/<int:pk>/withdraw/",
        business.TransferRequestWithdrawView.as_view(),
        name="facility_transfer_request_withdraw",
    ),
    path(
        "facilities/<int:cers_id>/transfer/",
        business.FacilityTransferRequestView.as_view(),
        name="facility_transfer_request",
    ),
]
