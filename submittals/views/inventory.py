"""Business portal pages for a Hazardous Materials Inventory's materials.

Every element is reached through ``OrganizationElementsMixin`` (``for_user(user, "view")``
narrowed to the current organization) and further to inventory elements, so anything else
answers 404; a material is looked up among its element's materials only. Viewing needs only
that scope; changes need ``submittals.edit`` (403 without) and a draft, and go through
``submittals.inventory``, which checks both again.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from core.forms import add_service_errors
from core.pagination import paginate, search_filter
from core.views import BusinessPortalMixin
from libraries.models import Chemical

from .. import inventory
from ..forms_inventory import (
    ChemicalSearchForm,
    ImportForm,
    MaterialForm,
    display_sections,
    initial_from,
    initial_from_material,
)
from ..models import HazardousMaterial
from .business import EDIT, EDIT_REFUSED, OrganizationElementsMixin, service_error_texts

CHEMICAL_SEARCH_FIELDS = ["chemical_name", "common_name", "cas_number", "synonyms"]
CHEMICAL_RESULTS = 20
SUBMITTED = (
    "This Hazardous Materials Inventory element was submitted and can no longer be changed. "
    "To correct it, start a new draft of the element."
)


class InventoryMixin(OrganizationElementsMixin):
    """The current organization's inventory elements; ``self.record`` is the one asked for."""

    def get_queryset(self):
        return super().get_queryset().filter(element=inventory.HMI)

    def dispatch(self, request, *args, **kwargs):
        self.record = None
        return super().dispatch(request, *args, **kwargs)

    def load_record(self):
        self.record = self.get_record()
        return self.record

    def get_context_data(self, **kwargs):
        """Every inventory page shows the inventory's record and facility."""
        if self.record is not None:
            kwargs.setdefault("record", self.record)
            kwargs.setdefault("facility", self.record.facility)
        return super().get_context_data(**kwargs)

    def editable(self) -> bool:
        return self.record.is_draft and self.can(EDIT, self.record)

    def require_editable(self):
        """403 unless the user may edit drafts (``submittals.edit``); for a submitted
        inventory, a redirect to its materials with the reason (None when the inventory can
        change)."""
        self.require(EDIT, self.record, EDIT_REFUSED)
        if not self.record.is_draft:
            messages.error(self.request, SUBMITTED)
            return redirect("business:inventory", pk=self.record.pk)
        return None

    def get_material(self) -> HazardousMaterial:
        material = (
            self.record.materials.prefetch_related("components")
            .select_related("chemical")
            .filter(pk=self.kwargs["material_pk"])
            .first()
        )
        if material is None:
            raise Http404("No such material in this inventory.")
        return material


class InventoryView(InventoryMixin, TemplateView):
    """The materials of an inventory, a page at a time; editors of a draft add, change,
    delete and import them."""

    template_name = "submittals/inventory_list.html"

    def get_context_data(self, **kwargs):
        record = self.load_record()
        page = paginate(self.request, inventory.materials_for_display().filter(record=record))
        return super().get_context_data(
            page=page,
            can_edit=self.editable(),
            **kwargs,
        )


class MaterialFormMixin(InventoryMixin):
    """The material form page: the form, and the chemical library picker above it."""

    template_name = "submittals/inventory_material.html"

    def library(self):
        """The chemical library search: (form, results, picked chemical)."""
        search = ChemicalSearchForm(self.request.GET or None)
        results = None
        if search.is_valid() and search.cleaned_data["chemical_q"]:
            results = list(
                search_filter(
                    Chemical.objects.all(),
                    search.cleaned_data["chemical_q"],
                    CHEMICAL_SEARCH_FIELDS,
                    exact_int_fields=["ccl_id"],
                ).order_by("chemical_name", "pk")[:CHEMICAL_RESULTS]
            )
        picked = None
        chemical_pk = self.request.GET.get("chemical", "")
        if chemical_pk.isdecimal():
            picked = Chemical.objects.filter(pk=int(chemical_pk)).first()
        return search, results, picked

    def render_form(self, form, *, material=None, picked=None, search=None, results=None):
        if search is None:
            search = ChemicalSearchForm()
        return self.render_to_response(
            self.get_context_data(
                material=material,
                form=form,
                search=search,
                results=results,
                picked=picked,
                chemical_results_max=CHEMICAL_RESULTS,
            )
        )

    def save_form(self, save, done: str, *, material=None):
        """Validate the posted material form and hand it to ``save`` (the add or update
        service). Both pages answer the same way: back to the inventory with ``done`` (its
        ``{}`` is the material's common name), or the form again with the service's errors
        on their fields."""
        form = MaterialForm(self.request.POST)
        if form.is_valid():
            try:
                saved = save(form)
            except ValidationError as exc:
                add_service_errors(form, exc, form.service_field_names())
            else:
                messages.success(self.request, done.format(saved.common_name))
                return redirect("business:inventory", pk=self.record.pk)
        messages.error(self.request, "Nothing was saved: correct the values marked below.")
        return self.render_form(form, material=material)

    def picked_initial(self, initial: dict, picked) -> dict:
        """``initial`` with the picked library chemical's identity and hazard values."""
        if picked is None:
            return initial
        values, components = inventory.values_from_chemical(picked)
        merged = {**initial, **initial_from(values, components), "library_chemical": picked.pk}
        if components:
            for position in range(len(components) + 1, inventory.MAX_COMPONENTS + 1):
                for key in inventory.COMPONENT_KEYS:
                    merged[f"hc{position}_{key}"] = ""
        return merged


class MaterialAddView(MaterialFormMixin, TemplateView):
    """Add a material to a draft inventory, from scratch or from the chemical library."""

    def get(self, request, *args, **kwargs):
        self.load_record()
        refused = self.require_editable()
        if refused:
            return refused
        search, results, picked = self.library()
        form = MaterialForm(initial=self.picked_initial({}, picked))
        return self.render_form(form, picked=picked, search=search, results=results)

    def post(self, request, *args, **kwargs):
        self.load_record()
        refused = self.require_editable()
        if refused:
            return refused
        return self.save_form(
            lambda form: inventory.add_material(
                actor=request.user,
                record=self.record,
                values=form.values(),
                components=form.components(),
                chemical=form.picked_chemical(),
            ),
            "{} added to the inventory.",
        )


class MaterialEditView(MaterialFormMixin, TemplateView):
    """One material: its form for editors of a draft, read-only for everyone else."""

    def get(self, request, *args, **kwargs):
        self.load_record()
        material = self.get_material()
        if not self.editable():
            return self.render_to_response(
                self.get_context_data(
                    material=material,
                    display=display_sections(material),
                    components=list(material.components.all()),
                )
            )
        search, results, picked = self.library()
        initial = {**initial_from_material(material), "library_chemical": material.chemical_id}
        form = MaterialForm(initial=self.picked_initial(initial, picked))
        return self.render_form(
            form, material=material, picked=picked, search=search, results=results
        )

    def post(self, request, *args, **kwargs):
        self.load_record()
        material = self.get_material()
        refused = self.require_editable()
        if refused:
            return refused
        return self.save_form(
            lambda form: inventory.update_material(
                actor=request.user,
                material=material,
                values=form.values(),
                components=form.components(),
                chemical=form.picked_chemical(),
            ),
            "{} saved.",
            material=material,
        )


class MaterialDeleteView(InventoryMixin, View):
    """POST: delete a material of a draft inventory."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.load_record()
        material = self.get_material()
        refused = self.require_editable()
        if refused:
            return refused
        try:
            inventory.delete_material(actor=request.user, material=material)
        except ValidationError as exc:
            for text in service_error_texts(exc):
                messages.error(request, text)
        else:
            messages.success(request, f"{material.common_name} deleted from the inventory.")
        return redirect("business:inventory", pk=self.record.pk)


class InventoryImportView(InventoryMixin, TemplateView):
    """Import materials from a CSV or XLSX file; a refused file shows its problems by row
    and column, and nothing is imported."""

    template_name = "submittals/inventory_import.html"
    problems_shown = 500

    def render_page(self, form, result=None):
        return self.render_to_response(
            self.get_context_data(
                form=form,
                result=result,
                problems=result.problems[: self.problems_shown] if result else [],
                problems_hidden=max(0, len(result.problems) - self.problems_shown) if result else 0,
                columns=import_columns(),
                max_mb=inventory.IMPORT_MAX_BYTES // (1024 * 1024),
                max_rows=inventory.IMPORT_MAX_ROWS,
            )
        )

    def get(self, request, *args, **kwargs):
        self.load_record()
        refused = self.require_editable()
        if refused:
            return refused
        return self.render_page(ImportForm())

    def post(self, request, *args, **kwargs):
        self.load_record()
        refused = self.require_editable()
        if refused:
            return refused
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(form)
        try:
            result = inventory.import_inventory(
                actor=request.user,
                record=self.record,
                uploaded_file=form.cleaned_data["file"],
                replace=form.cleaned_data["replace"],
            )
        except ValidationError as exc:
            for text in service_error_texts(exc):
                messages.error(request, text)
            return redirect("business:inventory", pk=self.record.pk)
        if not result.ok:
            messages.error(request, "Nothing was imported: correct the file and upload it again.")
            return self.render_page(form, result)
        text = f"Imported {result.added} material{'s' if result.added != 1 else ''}"
        if result.removed:
            text += f", replacing {result.removed}"
        messages.success(request, f"{text} from {result.file_name}.")
        return redirect("business:inventory", pk=self.record.pk)


def import_columns() -> list[dict]:
    """The accepted import headers, from the registry: one entry per field."""
    columns = []
    for f in inventory.importable_fields():
        if f.codes:
            accepted = "; ".join(f"{value} ({label})" for value, label in f.codes)
        elif f.type == "decimal":
            accepted = "a number"
        elif f.type == "integer":
            accepted = "a whole number"
            if f.min_value and f.max_value:
                accepted += f", {f.min_value} to {f.max_value}"
        else:
            accepted = f"text, at most {f.max_length} characters" if f.max_length else "text"
        columns.append(
            {
                "number": f.number,
                "tag": f.tag,
                "label": f.label,
                "required": f.required,
                "accepted": accepted,
            }
        )
    return columns


class InventoryTemplateView(BusinessPortalMixin, View):
    """The import template: a CSV with the header row, built from the registry."""

    def get(self, request, *args, **kwargs):
        response = HttpResponse(inventory.template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="cers-inventory-template.csv"'
        return response
