"""Library pages (mounted under /libraries/, namespace ``libraries``).

Reading pages are for every signed-in portal user; the ``new``, ``edit``, ``delete`` and
``load/`` pages are the state administrator's. ``new/`` and ``load/`` are declared before the
detail pages.
"""

from django.urls import path

from .views import maintenance, reading

app_name = "libraries"

urlpatterns = [
    path("", reading.LibraryIndexView.as_view(), name="index"),
    # The chemical library.
    path("chemicals/", reading.ChemicalListView.as_view(), name="chemicals"),
    path("chemicals/new/", maintenance.ChemicalCreateView.as_view(), name="chemical_create"),
    path(
        "chemicals/load/",
        maintenance.ChemicalLibraryLoadView.as_view(),
        name="chemical_library_load",
    ),
    # Chemicals are named by their primary key: the CCL ID is CalEPA's, and may be empty.
    path("chemicals/<int:pk>/", reading.ChemicalDetailView.as_view(), name="chemical"),
    path(
        "chemicals/<int:pk>/edit/",
        maintenance.ChemicalEditView.as_view(),
        name="chemical_edit",
    ),
    # The violation library.
    path("violations/", reading.ViolationTypeListView.as_view(), name="violations"),
    path(
        "violations/new/",
        maintenance.ViolationTypeCreateView.as_view(),
        name="violation_create",
    ),
    path(
        "violations/load/",
        maintenance.ViolationLibraryLoadView.as_view(),
        name="violation_library_load",
    ),
    path(
        "violations/<str:type_number>/",
        reading.ViolationTypeDetailView.as_view(),
        name="violation",
    ),
    path(
        "violations/<str:type_number>/edit/",
        maintenance.ViolationTypeEditView.as_view(),
        name="violation_edit",
    ),
    path(
        "violations/<str:type_number>/delete/",
        maintenance.ViolationTypeDeleteView.as_view(),
        name="violation_delete",
    ),
    # The data dictionary (read from the submittal field registry).
    path("dictionary/", reading.DictionaryListView.as_view(), name="dictionary"),
    path(
        "dictionary/<str:number>/",
        reading.DictionaryEntryView.as_view(),
        name="dictionary_entry",
    ),
]
