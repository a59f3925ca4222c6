"""Library forms. They only shape the input; ``libraries.services`` decides what is valid.

Citations and mixture components are fixed rows of plain fields (``citation_1_section``,
``component_2_cas_number``...): ``citations()`` and ``components()`` turn them into the lists
the services take, and ``initial_rows`` turns stored lists back into the rows' initial values.
"""

from __future__ import annotations

from django import forms

from core.elements import SubmittalElement
from core.registry import field as registry_field

from .dictionary import Dictionary
from .models import Prop65Type, ViolationType
from .services import (
    CITATION_KEYS,
    COMPONENT_KEYS,
    MAX_COMPONENTS,
    federal_hazard_category_fields,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
INVENTORY = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
CITATION_ROWS = 5
# A yes/no fact of a library entry, which may be left unsaid.
YES_NO = [("", "Not stated"), ("Y", "Yes"), ("N", "No")]


def _blank(choices):
    return [("", "---------"), *choices]


def _registry_codes(number: str):
    return _blank(registry_field(INVENTORY, number).codes)


def initial_rows(prefix: str, rows: list[dict], keys) -> dict[str, object]:
    """Initial values of the ``prefix`` rows for a stored list of dicts."""
    initial = {}
    for position, row in enumerate(rows, start=1):
        for key in keys:
            initial[f"{prefix}_{position}_{key}"] = row.get(key, "")
    return initial


class RowsMixin:
    """Builds numbered rows of fields and reads them back as a list of dicts."""

    def add_rows(self, prefix: str, count: int, make_fields) -> None:
        for position in range(1, count + 1):
            for key, form_field in make_fields().items():
                self.fields[f"{prefix}_{position}_{key}"] = form_field

    def rows(self, prefix: str, keys) -> list[dict]:
        found = []
        position = 1
        while f"{prefix}_{position}_{keys[0]}" in self.fields:
            found.append({key: self.cleaned_data.get(f"{prefix}_{position}_{key}") for key in keys})
            position += 1
        return found

    def row_groups(self, prefix: str, keys):
        """The bound fields, row by row, for the template's table."""
        groups = []
        position = 1
        while f"{prefix}_{position}_{keys[0]}" in self.fields:
            groups.append([self[f"{prefix}_{position}_{key}"] for key in keys])
            position += 1
        return groups


class ViolationTypeForm(RowsMixin, forms.Form):
    type_number = forms.CharField(
        max_length=7, help_text="4 or 7 digits; what CME data carries (field 930)."
    )
    name = forms.CharField(max_length=300)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.CharField(
        max_length=100, help_text="The library's grouping, such as Administration/Documentation."
    )
    program_element = forms.TypedChoiceField(
        choices=_blank(ViolationType.ProgramElement.choices), coerce=int
    )
    begin_date = forms.DateField(widget=DATE, help_text="The first day it may be cited.")
    end_date = forms.DateField(
        required=False,
        widget=DATE,
        help_text="The last day it may be cited: give one to retire the type.",
    )

    def __init__(self, *args, citation_rows: int = CITATION_ROWS, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_rows(
            "citation",
            max(citation_rows, CITATION_ROWS),
            lambda: {
                "chapter": forms.CharField(max_length=100, required=False),
                "section": forms.CharField(max_length=100, required=False),
                "name": forms.CharField(max_length=300, required=False),
                "description": forms.CharField(max_length=1000, required=False),
                "source": forms.CharField(max_length=200, required=False),
            },
        )

    @property
    def main_fields(self):
        return [self[name] for name in self.base_fields]

    citation_headings = ("Chapter", "Section", "Name", "Description", "Source")

    @property
    def citation_rows(self):
        return self.row_groups("citation", CITATION_KEYS)

    def values(self) -> dict:
        """The cleaned values, as ``services.create_violation_type`` takes them."""
        values = {name: self.cleaned_data[name] for name in self.base_fields}
        values["citations"] = self.rows("citation", CITATION_KEYS)
        return values

    @staticmethod
    def initial_for(violation_type: ViolationType) -> dict:
        initial = {name: getattr(violation_type, name) for name in ViolationTypeForm.base_fields}
        return initial | initial_rows("citation", violation_type.citations, CITATION_KEYS)


class ChemicalForm(RowsMixin, forms.Form):
    ccl_id = forms.IntegerField(
        label="CCL ID",
        min_value=1,
        required=False,
        help_text="CalEPA's CERS Chemical Library ID (field 250); leave it empty if not known.",
    )
    cas_number = forms.CharField(
        label="CAS number", max_length=15, required=False, help_text="Field 209, such as 7782-50-5."
    )
    chemical_name = forms.CharField(max_length=500, help_text="Field 205.")
    common_name = forms.CharField(max_length=500, required=False, help_text="Field 207.")
    synonyms = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Other names it is searched by, one a line.",
    )
    ehs = forms.BooleanField(
        label="Extremely Hazardous Substance (EHS)", required=False, help_text="Field 208."
    )
    physical_state = forms.ChoiceField(
        choices=_registry_codes("214"), required=False, help_text="Field 214."
    )
    hm_type = forms.ChoiceField(
        label="Type", choices=_registry_codes("211"), required=False, help_text="Field 211."
    )
    dot_hazard_class = forms.ChoiceField(
        label="DOT hazard class", choices=_registry_codes("252"), required=False
    )
    fire_code_hazard_classes = forms.CharField(
        required=False,
        help_text="Up to eight numbers from 1 to 39, separated by commas (fields 210a-210h).",
    )
    federal_hazard_categories = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Fields 216a-216cc.",
    )
    prop65_types = forms.MultipleChoiceField(
        label="Proposition 65 types",
        choices=[(kind.value, kind.label.capitalize()) for kind in Prop65Type],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="What Proposition 65 lists it for; none if it is not listed.",
    )
    usepa_srs_number = forms.CharField(
        label="US EPA SRS number",
        max_length=50,
        required=False,
        help_text="Field 251: the US EPA Substance Registry Services number.",
    )
    sta_code = forms.CharField(
        label="State waste code",
        max_length=3,
        required=False,
        help_text="Field 220: California's three-digit waste code, such as 221.",
    )
    radioactive = forms.ChoiceField(choices=YES_NO, required=False, help_text="Field 212.")
    curies = forms.CharField(
        max_length=30,
        required=False,
        help_text="Field 213: a number, such as 0.25.",
    )
    trade_secret = forms.ChoiceField(
        label="Trade secret", choices=YES_NO, required=False, help_text="Field 206."
    )
    comments = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Field 246: at most 1000 characters.",
    )
    additional_mixture_components = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Field 247: components beyond the five below, in words.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["federal_hazard_categories"].choices = [
            (f.number, f"{f.number} {f.label.removeprefix('Hazard category: ')}")
            for f in federal_hazard_category_fields()
        ]
        self.add_rows(
            "component",
            MAX_COMPONENTS,
            lambda: {
                "name": forms.CharField(max_length=500, required=False),
                "cas_number": forms.CharField(max_length=15, required=False),
                "percent_by_weight": forms.CharField(max_length=12, required=False),
                "ehs": forms.BooleanField(required=False),
            },
        )

    @property
    def main_fields(self):
        return [self[name] for name in self.base_fields]

    component_headings = ("Name", "CAS number", "Percent by weight", "EHS")

    @property
    def component_rows(self):
        return self.row_groups("component", COMPONENT_KEYS)

    def values(self) -> dict:
        """The cleaned values, as ``services.create_chemical`` takes them."""
        values = {name: self.cleaned_data[name] for name in self.base_fields}
        values["fire_code_hazard_classes"] = [
            part.strip()
            for part in (values["fire_code_hazard_classes"] or "").replace(";", ",").split(",")
            if part.strip()
        ]
        values["components"] = self.rows("component", COMPONENT_KEYS)
        return values

    @staticmethod
    def initial_for(chemical) -> dict:
        initial = {name: getattr(chemical, name) for name in ChemicalForm.base_fields}
        for name in ("radioactive", "trade_secret"):
            initial[name] = {True: "Y", False: "N"}.get(initial[name], "")
        initial["curies"] = (
            "" if chemical.curies is None else format(chemical.curies.normalize(), "f")
        )
        initial["fire_code_hazard_classes"] = ", ".join(
            str(n) for n in chemical.fire_code_hazard_classes
        )
        components = [
            {**c, "cas_number": c.get("cas_number") or c.get("cas", "")}
            for c in chemical.components
        ]
        return initial | initial_rows("component", components, COMPONENT_KEYS)


class ViolationSearchForm(forms.Form):
    """The violation library's filters (a GET form; bad values are ignored)."""

    program_element = forms.TypedChoiceField(
        choices=_blank(ViolationType.ProgramElement.choices),
        coerce=int,
        required=False,
        empty_value=None,
    )
    category = forms.ChoiceField(choices=(), required=False)
    current = forms.BooleanField(label="Only types valid today", required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _blank([(c, c) for c in categories])


class ChemicalLibraryFileForm(forms.Form):
    """CalEPA's published chemical library, as the XML a Chemical Library Query answers
    with."""

    file = forms.FileField(
        label="Chemical library file",
        help_text="ChemicalLibraryQuery XML, version 1/05 or later.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )


class ViolationLibraryFileForm(forms.Form):
    """The published violation library, as the XML a Violation Library Query answers with."""

    file = forms.FileField(
        label="Violation library file",
        help_text="ViolationLibraryQuery XML, version 1/05 or 1/06.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )


class DictionarySearchForm(forms.Form):
    """The data dictionary's filters (a GET form; bad values are ignored)."""

    element = forms.TypedChoiceField(
        choices=_blank(SubmittalElement.choices), coerce=int, required=False, empty_value=None
    )
    dictionary = forms.ChoiceField(choices=_blank(Dictionary.choices), required=False)
