"""Business portal URLs for submittals (mounted under /business/, namespace ``business``)."""

from django.urls import path

from .views import business, documents, inventory

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
    path(
        "certify-no-changes/",
        business.CertifyNoChangesView.as_view(),
        name="certify_no_changes",
    ),
    path("submittals/elements/<int:pk>/", business.ElementView.as_view(), name="element"),
    path(
        "submittals/elements/<int:pk>/discard/",
        business.DraftDiscardView.as_view(),
        name="draft_discard",
    ),
    # Live validation of the element form (htmx), and the rows of repeating groups.
    path(
        "submittals/elements/<int:pk>/validate/",
        business.ElementValidateView.as_view(),
        name="element_validate",
    ),
    path(
        "submittals/elements/<int:pk>/groups/<str:group>/add/",
        business.ElementGroupRowAddView.as_view(),
        name="element_group_row_add",
    ),
    path(
        "submittals/elements/<int:pk>/groups/<str:group>/<int:index>/",
        business.ElementGroupRowView.as_view(),
        name="element_group_row",
    ),
    path(
        "submittals/elements/<int:pk>/groups/<str:group>/<int:index>/remove/",
        business.ElementGroupRowRemoveView.as_view(),
        name="element_group_row_remove",
    ),
    path(
        "submittals/<int:pk>/receipt/",
        business.ReceiptView.as_view(),
        name="submittal_receipt",
    ),
    # Document slots of an element, and their files.
    path(
        "submittals/elements/<int:pk>/documents/<str:slot>/",
        documents.DocumentAnswerView.as_view(),
        name="document_answer",
    ),
    path(
        "submittals/elements/<int:pk>/documents/<str:slot>/files/",
        documents.DocumentUploadView.as_view(),
        name="document_upload",
    ),
    path(
        "submittals/documents/<int:file_pk>/remove/",
        documents.DocumentRemoveView.as_view(),
        name="document_remove",
    ),
    path(
        "submittals/documents/<uuid:key>/",
        documents.DocumentDownloadView.as_view(),
        name="document_download",
    ),
    # The materials of a Hazardous Materials Inventory, their import and its template.
    path(
        "submittals/elements/<int:pk>/inventory/",
        inventory.InventoryView.as_view(),
        name="inventory",
    ),
    path(
        "submittals/elements/<int:pk>/inventory/add/",
        inventory.MaterialAddView.as_view(),
        name="material_add",
    ),
    path(
        "submittals/elements/<int:pk>/inventory/import/",
        inventory.InventoryImportView.as_view(),
        name="inventory_import",
    ),
    path(
        "submittals/elements/<int:pk>/inventory/<int:material_pk>/",
        inventory.MaterialEditView.as_view(),
        name="material_edit",
    ),
    path(
        "submittals/elements/<int:pk>/inventory/<int:material_pk>/delete/",
        inventory.MaterialDeleteView.as_view(),
        name="material_delete",
    ),
    path(
        "submittals/inventory-template.csv",
        inventory.InventoryTemplateView.as_view(),
        name="inventory_template",
    ),
]
