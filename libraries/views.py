"""Chemical library pages, for every signed-in user of either portal.

The library is statewide reference data that belongs to no organization or agency, so it is
not scoped per user: every signed-in user reads all of it. Only the state administrator
changes it (in the admin, for now).
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.pagination import paginate, search_filter
from submittals.registry import field

from .models import Chemical

SEARCH_FIELDS = ["chemical_name", "common_name", "synonyms", "cas_number"]
SEARCH_EXACT_INT_FIELDS = ["ccl_id"]


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


class ChemicalListView(LoginRequiredMixin, TemplateView):
    """The chemical library, searchable by name, common name, synonym, CAS number or CCL ID."""

    template_name = "libraries/chemical_list.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        chemicals = search_filter(
            Chemical.objects.order_by("chemical_name", "ccl_id"),
            query,
            SEARCH_FIELDS,
            SEARCH_EXACT_INT_FIELDS,
        )
        page = paginate(self.request, chemicals)
        page.object_list = with_labels(page.object_list)
        return super().get_context_data(page=page, q=query, **kwargs)


class ChemicalDetailView(LoginRequiredMixin, TemplateView):
    """One chemical of the library, with everything it fills in an inventory row."""

    template_name = "libraries/chemical_detail.html"

    def get_context_data(self, **kwargs):
        found = with_labels(Chemical.objects.filter(ccl_id=self.kwargs["ccl_id"]))
        if not found:
            raise Http404("No chemical with this CCL ID.")
        chemical = found[0]
        return super().get_context_data(
            chemical=chemical,
            synonyms=[line.strip() for line in chemical.synonyms.splitlines() if line.strip()],
            **kwargs,
        )
