"""The EDT program's public pages (mounted under /edt-program/, namespace ``edt_program``)."""

from django.urls import path

from .views import public

urlpatterns = [
    path("vendors/", public.VendorTableView.as_view(), name="vendors"),
    path("terms/", public.TermsView.as_view(), name="terms"),
    path("announcements/", public.AnnouncementListView.as_view(), name="announcements"),
    path(
        "announcements/<int:pk>/",
        public.AnnouncementDetailView.as_view(),
        name="announcement",
    ),
    path("implementers/", public.ImplementersView.as_view(), name="implementers"),
    path(
        "implementers/confirm/<str:token>/",
        public.ConfirmView.as_view(),
        name="implementers_confirm",
    ),
    path(
        "implementers/unsubscribe/<str:token>/",
        public.UnsubscribeView.as_view(),
        name="implementers_unsubscribe",
    ),
]
