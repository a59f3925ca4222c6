"""Library pages (mounted under /libraries/, namespace ``libraries``)."""

from django.urls import path

from . import views

app_name = "libraries"

urlpatterns = [
    path("chemicals/", views.ChemicalListView.as_view(), name="chemicals"),
    path("chemicals/<int:ccl_id>/", views.ChemicalDetailView.as_view(), name="chemical"),
]
