"""Regulator portal URLs for EDT access (mounted under /regulator/, namespace ``regulator``)."""

from django.urls import path

from .views import regulator

urlpatterns = [
    path("edt/", regulator.EdtHomeView.as_view(), name="edt_home"),
    path("edt/requests/", regulator.EdtRequestListView.as_view(), name="edt_requests"),
    path("edt/requests/new/", regulator.EdtRequestNewView.as_view(), name="edt_request_new"),
    path("edt/requests/<int:pk>/", regulator.EdtRequestDetailView.as_view(), name="edt_request"),
    path(
        "edt/requests/<int:pk>/decide/",
        regulator.EdtRequestDecideView.as_view(),
        name="edt_request_decide",
    ),
    path("edt/grants/", regulator.EdtGrantListView.as_view(), name="edt_grants"),
    path(
        "edt/grants/<int:pk>/change/",
        regulator.EdtGrantChangeView.as_view(),
        name="edt_grant_change",
    ),
    path("edt/accounts/<int:pk>/", regulator.EdtAccountView.as_view(), name="edt_account"),
    path(
        "edt/accounts/<int:pk>/secret/",
        regulator.EdtAccountSecretView.as_view(),
        name="edt_account_secret",
    ),
    path(
        "edt/accounts/<int:pk>/active/",
        regulator.EdtAccountActiveView.as_view(),
        name="edt_account_active",
    ),
    path(
        "edt/accounts/<int:pk>/tokens/new/",
        regulator.EdtTokenNewView.as_view(),
        name="edt_token_new",
    ),
    path(
        "edt/tokens/<int:pk>/revoke/",
        regulator.EdtTokenRevokeView.as_view(),
        name="edt_token_revoke",
    ),
    path("edt/vendors/", regulator.EdtVendorListView.as_view(), name="edt_vendors"),
    path("edt/vendors/new/", regulator.EdtVendorNewView.as_view(), name="edt_vendor_new"),
    path("edt/vendors/<int:pk>/", regulator.EdtVendorView.as_view(), name="edt_vendor"),
    path(
        "edt/announcements/new/",
        regulator.EdtAnnouncementNewView.as_view(),
        name="edt_announcement_new",
    ),
    path("edt/implementers/", regulator.EdtImplementersView.as_view(), name="edt_implementers"),
    path("edt/transactions/", regulator.EdtTransactionListView.as_view(), name="edt_transactions"),
    path(
        "edt/transactions/<uuid:key>/",
        regulator.EdtTransactionDetailView.as_view(),
        name="edt_transaction",
    ),
]
