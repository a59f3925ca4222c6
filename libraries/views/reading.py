"""The library pages every signed-in portal user reads: the chemical library, the violation
library and the data dictionary.

The libraries are statewide reference data (see ``libraries.querysets``): every list and
detail starts from ``for_user(user, "view")``, which holds every row for a portal user. EDT
service accounts read the libraries through the EDT library queries, never these pages.
"""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.pagination import paginate, search_filter
from core.registry import field
from core.views import ScopedQuerysetMixin
from regulators.querysets import is_state_administrator

from .. import dictionary
from ..forms import DictionarySearchForm, ViolationSearchForm
from ..models import Chemical, ViolationType
from ..services import federal_hazard_category_fields

CHEMICAL_SEARCH_FIELDS = ["chemical_name", "common_name", "synonyms", "cas_number"]
CHEMICAL_SEARCH_EXACT_INT_FIELDS = ["ccl_id"]
VIOLATION_SEARCH_FIELDS = ["type_number", "name", "description"]


class LibraryPageMixin(LoginRequiredMixin, ScopedQuerysetMixin):
    """A library page: any signed-in portal user. An EDT service account is refused (403)
    even if a session ever carried one this far: portal sign-in already keeps it out. Rows
    come from the library's ``for_user(user, "view")`` (``ScopedQuerysetMixin``)."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and getattr(user, "is_service_account", False):
            raise PermissionDenied("EDT service accounts read the libraries through EDT.")
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def can_maintain(self) -> bool:
        """Whether to offer the maintenance links (the state administrator only)."""
        return is_state_administrator(self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_maintain=self.can_maintain, **kwargs)


class PublicLibraryPageMixin(LibraryPageMixin):
    """A library page open to everyone, signed in or not (the violation library, which CalEPA
    publishes): the rows are still read through ``for_user``, which says so."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        # Skip LoginRequiredMixin's check alone: the rest of the chain runs as for anyone.
        return super(LoginRequiredMixin, self).dispatch(request, *args, **kwargs)


class LibraryIndexView(LibraryPageMixin, TemplateView):
    """The three libraries, with what each holds."""

    template_name = "libraries/index.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            dictionary_count=len(dictionary.entries()),
            **kwargs,
        )


# -- chemical library --------------------------------------------------------------------------


def code_labels(number: str) -> dict[str, str]:
    """The labels of an inventory code field (214 physical state, 211 type), from the
    registry, so the library shows the words the inventory form uses."""
    return dict(field(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY, number).codes)


def with_labels(chemicals):
    """The chemicals as a list, each with ``physical_state_label`` and ``hm_type_label``."""
    states, types = code_labels("214"), code_labels("211")
    chemicals = list(chemicals)
    for chemical in chemicals:
        chemical.physical_state_label = states.get(chemical.physical_state, "")
        chemical.hm_type_label = types.get(chemical.hm_type, "")
    return chemicals


class ChemicalListView(LibraryPageMixin, TemplateView):
    """The chemical library, searchable by name, common name, synonym, CAS number or CCL ID."""

    template_name = "libraries/chemical_list.html"
    model = Chemical

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        chemicals = search_filter(
            self.get_queryset().order_by("chemical_name", "pk"),
            query,
            CHEMICAL_SEARCH_FIELDS,
            CHEMICAL_SEARCH_EXACT_INT_FIELDS,
        )
        page = paginate(self.request, chemicals)
        page.object_list = with_labels(page.object_list)
        return super().get_context_data(page=page, q=query, **kwargs)


class ChemicalDetailView(LibraryPageMixin, TemplateView):
    """One chemical of the library, with every field it fills in an inventory row."""

    template_name = "libraries/chemical_detail.html"
    model = Chemical

    def get_context_data(self, **kwargs):
        found = with_labels(self.get_queryset().filter(pk=self.kwargs["pk"]))
        if not found:
            raise Http404("No such chemical in the library.")
        chemical = found[0]
        categories = {f.number: f.label for f in federal_hazard_category_fields()}
        return super().get_context_data(
            chemical=chemical,
            curies="" if chemical.curies is None else format(chemical.curies.normalize(), "f"),
            synonyms=[line.strip() for line in chemical.synonyms.splitlines() if line.strip()],
            hazard_categories=[
                (number, categories.get(number, number).removeprefix("Hazard category: "))
                for number in chemical.federal_hazard_categories
            ],
            components=[
                {
                    "name": component.get("name", ""),
                    "cas_number": component.get("cas_number") or component.get("cas", ""),
                    "percent_by_weight": component.get("percent_by_weight")
                    or component.get("percent", ""),
                    "ehs": component.get("ehs"),
                }
                for component in chemical.components
            ],
            **kwargs,
        )


# -- violation library -------------------------------------------------------------------------


class ViolationTypeListView(PublicLibraryPageMixin, TemplateView):
    """The violation library: search by type number, name or description; filter by program
    element, category, and types valid today."""

    template_name = "libraries/violation_list.html"
    model = ViolationType

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        readable = self.get_queryset()
        categories = readable.order_by("category").values_list("category", flat=True).distinct()
        form = ViolationSearchForm(self.request.GET, categories=categories)
        form.is_valid()  # a bad filter value is left out of cleaned_data, so it is ignored
        filters = form.cleaned_data
        types = search_filter(
            readable.order_by("type_number"),
            query,
            VIOLATION_SEARCH_FIELDS,
        )
        if filters.get("program_element") is not None:
            types = types.filter(program_element=filters["program_element"])
        if filters.get("category"):
            types = types.filter(category=filters["category"])
        if filters.get("current"):
            types = types.valid_on(timezone.localdate())
        filtered = bool(query or any(filters.values()))
        return super().get_context_data(
            page=paginate(self.request, types),
            q=query,
            form=form,
            filtered=filtered,
            today=timezone.localdate(),
            **kwargs,
        )


class ViolationTypeDetailView(PublicLibraryPageMixin, TemplateView):
    """One violation type: its description, validity dates and citations."""

    template_name = "libraries/violation_detail.html"
    model = ViolationType
    lookup_field = "type_number"
    not_found_message = "No violation type with this number."

    def get_context_data(self, **kwargs):
        violation_type = self.get_object()
        # How many violations cite it decides between deleting and retiring: the state
        # administrator's concern only, so nobody else pays for the count.
        cited = violation_type.violations.count() if self.can_maintain else None
        return super().get_context_data(
            violation_type=violation_type,
            valid_today=violation_type.valid_on(timezone.localdate()),
            cited=cited,
            **kwargs,
        )


# -- data dictionary ---------------------------------------------------------------------------


class DictionaryListView(LibraryPageMixin, TemplateView):
    """The data dictionary: the numbered fields of the submittal registry, searchable by
    number, name or XML tag and filtered by submittal element and dictionary."""

    template_name = "libraries/dictionary_list.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        form = DictionarySearchForm(self.request.GET)
        form.is_valid()  # a bad filter value is ignored
        element = form.cleaned_data.get("element")
        chosen = form.cleaned_data.get("dictionary") or None
        entries = dictionary.search(
            query,
            element=SubmittalElement(element) if element is not None else None,
            dictionary=dictionary.Dictionary(chosen) if chosen else None,
        )
        return super().get_context_data(
            page=paginate(self.request, entries),
            q=query,
            form=form,
            filtered=bool(query or element is not None or chosen),
            **kwargs,
        )


class DictionaryEntryView(LibraryPageMixin, TemplateView):
    """One data dictionary entry: its definition, type, length, code list and uses."""

    template_name = "libraries/dictionary_entry.html"

    def get_context_data(self, **kwargs):
        entry = dictionary.entry(self.kwargs["number"])
        if entry is None:
            raise Http404("No field with this number in the data dictionary.")
        return super().get_context_data(entry=entry, **kwargs)
