"""Forms for inventory materials: the material form, the library search and the import.

The material form carries every field of an inventory row (``Chemicals/Chemical`` of element
2 in ``core.registry``) except the regulator key CERS sets, laid out in sections:
identity, location, hazards, quantities, storage and mixture components. It only collects
text; ``submittals.inventory`` checks every value with the registry, and the view puts the
service's messages (keyed by field number) beside the fields they are about.

Yes/No fields that mark a category (federal hazard categories 216a-216cc, container types
223a-223r) are checkboxes: ticked stores "Y", unticked leaves the field out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms

from core.registry import Field
from libraries.models import Chemical

from . import inventory


def field_name(f: Field) -> str:
    """The form field of a registry field: "f_207", "f_223r_1"."""
    return "f_" + re.sub(r"\W", "_", f.number)


def component_name(position: int, key: str) -> str:
    """The form field of one component value: "hc2_name"."""
    return f"hc{position}_{key}"


def field_label(f: Field) -> str:
    return f"{f.label} ({f.number})"


def _numbers(prefix: str) -> tuple[str, ...]:
    return tuple(f.number for f in inventory.material_fields() if f.number.startswith(prefix))


def _tagged(prefix: str, *, numbers: str = "") -> tuple[str, ...]:
    return tuple(
        f.number
        for f in inventory.material_fields()
        if f.tag.startswith(prefix) and f.number.startswith(numbers)
    )


def short_label(f: Field) -> str:
    """A tick box's own words: "Hazard category: physical flammable" -> "Flammable"."""
    text = f.label.split(": ", 1)[-1]
    for lead in ("physical ", "health "):
        text = text.removeprefix(lead)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Part:
    """Fields shown together under one (optional) heading; ``checkboxes`` lays them out as a
    grid of tick boxes."""

    heading: str
    numbers: tuple[str, ...]
    checkboxes: bool = False


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    parts: tuple[Part, ...]


def layout() -> tuple[Section, ...]:
    """The sections of the material form. A registry field no section names lands in
    "Other fields", so every field of the row is always on the form."""
    physical = _tagged("FHCPhysical", numbers="216")
    health = _tagged("FHCHealth", numbers="216")
    legacy = tuple(n for n in _tagged("FHC", numbers="216") if n not in physical + health)
    containers = _tagged("SC", numbers="223")
    sections = (
        Section(
            "identity",
            "Identity",
            (
                Part(
                    "",
                    (
                        "250",
                        "207",
                        "205",
                        "209",
                        "251",
                        "211",
                        "208",
                        "206",
                        "212",
                        "213",
                        "252",
                        "246",
                    ),
                ),
            ),
        ),
        Section("location", "Location", (Part("", ("201", "202", "203", "204")),)),
        Section(
            "hazards",
            "Hazards",
            (
                Part("Fire code hazard classes", _numbers("210")),
                Part("Federal hazard categories (before GHS)", legacy, checkboxes=True),
                Part("Physical hazard categories", physical, checkboxes=True),
                Part("Health hazard categories", health, checkboxes=True),
            ),
        ),
        Section(
            "quantities",
            "Quantities",
            (Part("", ("214", "215", "217", "218", "219", "221", "220", "222")),),
        ),
        Section(
            "storage",
            "Storage",
            (
                Part("Containers", containers, checkboxes=True),
                Part("", ("223r-1", "224", "225")),
            ),
        ),
        Section("mixture", "Mixture", (Part("", ("247",)),)),
    )
    placed = {n for section in sections for part in section.parts for n in part.numbers}
    rest = tuple(f.number for f in inventory.material_fields() if f.number not in placed)
    if rest:
        sections += (Section("other", "Other fields", (Part("", rest),)),)
    return sections


def _checkbox_numbers() -> set[str]:
    return {n for s in layout() for part in s.parts if part.checkboxes for n in part.numbers}


def _form_field(f: Field, checkbox: bool) -> forms.Field:
    form_field = _plain_form_field(f, checkbox)
    # The page shows the label in words, "(required)" where the schema requires the value in
    # every material, and the data-dictionary number small and apart.
    form_field.registry_number = f.number
    form_field.registry_required = f.required and not checkbox
    return form_field


def _plain_form_field(f: Field, checkbox: bool) -> forms.Field:
    label = f.label
    if checkbox:
        return forms.BooleanField(label=short_label(f), required=False)
    if f.codes:  # a code list, or whole numbers that are codes (210a-210h)
        choices = [("", "Choose one")] + list(f.codes)
        # A CharField with a select, not a ChoiceField: the registry words the message for a
        # code that is not on the list, as for every other value.
        return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))
    attrs = {}
    if f.type in ("integer", "decimal"):
        attrs["inputmode"] = "numeric" if f.type == "integer" else "decimal"
    if f.max_length:
        attrs["maxlength"] = str(f.max_length)
    widget = forms.TextInput(attrs=attrs)
    if f.max_length and f.max_length > 500:
        widget = forms.Textarea(attrs={"rows": 3, **attrs})
    return forms.CharField(label=label, required=False, widget=widget)


def initial_from(values: dict, components: list[dict]) -> dict[str, object]:
    """Form initial values from a material's values by number and its components."""
    checkboxes = _checkbox_numbers()
    by_number = {f.number: f for f in inventory.material_fields()}
    initial: dict[str, object] = {}
    for number, value in values.items():
        f = by_number.get(number)
        if f is None or value is None:
            continue
        if number in checkboxes:
            initial[field_name(f)] = value == "Y"
        else:
            initial[field_name(f)] = str(value)
    for position, component in enumerate(components[: inventory.MAX_COMPONENTS], start=1):
        for key in inventory.COMPONENT_KEYS:
            value = component.get(key)
            initial[component_name(position, key)] = "" if value is None else str(value)
    return initial


def initial_from_material(material) -> dict[str, object]:
    components = [
        {key: getattr(c, key) for key in inventory.COMPONENT_KEYS}
        for c in material.components.all()
    ]
    return initial_from(dict(material.data or {}), components)


class MaterialForm(forms.Form):
    """Every field of an inventory row, as text for the service to check."""

    # The library chemical picked to fill the form (its primary key): it links the material
    # when the chemical has no CCL ID to link it by.
    library_chemical = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        checkboxes = _checkbox_numbers()
        for f in inventory.material_fields():
            self.fields[field_name(f)] = _form_field(f, f.number in checkboxes)
        for position, by_key in inventory.component_fields().items():
            for key, f in by_key.items():
                self.fields[component_name(position, key)] = _form_field(f, checkbox=False)
                self.fields[component_name(position, key)].label = f.label

    def sections(self):
        """(key, heading, [(part heading, checkboxes, bound fields)]) for the template."""
        by_number = {f.number: f for f in inventory.material_fields()}
        out = []
        for section in layout():
            parts = [
                (
                    part.heading,
                    part.checkboxes,
                    [self[field_name(by_number[n])] for n in part.numbers if n in by_number],
                )
                for part in section.parts
            ]
            out.append((section.key, section.heading, parts))
        return out

    def component_rows(self):
        """(position, [bound fields: name, CAS, percent by weight, EHS]) for HC1-HC5."""
        order = ("name", "cas_number", "percent_by_weight", "ehs")
        return [
            (position, [self[component_name(position, key)] for key in order])
            for position in inventory.component_fields()
        ]

    def values(self) -> dict[str, str]:
        """The material's values by field number, as posted (blank fields left out)."""
        checkboxes = _checkbox_numbers()
        values = {}
        for f in inventory.material_fields():
            raw = self.cleaned_data.get(field_name(f))
            if f.number in checkboxes:
                raw = "Y" if raw else ""
            if raw not in (None, ""):
                values[f.number] = raw
        return values

    def picked_chemical(self):
        """The library chemical the form was filled from, or None."""
        pk = self.cleaned_data.get("library_chemical")
        return Chemical.objects.filter(pk=pk).first() if pk else None

    def components(self) -> list[dict[str, str]]:
        return [
            {
                key: self.cleaned_data.get(component_name(position, key)) or ""
                for key in inventory.COMPONENT_KEYS
            }
            for position in inventory.component_fields()
        ]

    def service_field_names(self) -> dict[str, str]:
        """The inventory services name fields by data-dictionary number; this maps each number
        to its form field, the ``aliases`` of ``core.forms.add_service_errors``."""
        names = {f.number: field_name(f) for f in inventory.material_fields()}
        for position, by_key in inventory.component_fields().items():
            for key, f in by_key.items():
                names[f.number] = component_name(position, key)
        return names


def display_sections(material) -> list[tuple[str, list[tuple[str, str]]]]:
    """A material read-only: (heading, [(label, shown value)]) per section. Blank values are
    left out; the ticked boxes of a group show as one list."""
    data = dict(material.data or {})
    by_number = {f.number: f for f in inventory.material_fields()}
    out = []
    for section in layout():
        rows = []
        for part in section.parts:
            fields = [by_number[n] for n in part.numbers if n in by_number]
            if part.checkboxes:
                ticked = [short_label(f) for f in fields if data.get(f.number) == "Y"]
                if ticked:
                    rows.append((part.heading, ", ".join(ticked)))
                continue
            for f in fields:
                value = data.get(f.number)
                if value in (None, ""):
                    continue
                shown = str(value)
                if f.codes:
                    label = f.code_label(shown)
                    shown = shown if label == shown else f"{label} ({shown})"
                rows.append((field_label(f), shown))
        if rows:
            out.append((section.heading, rows))
    return out


class ChemicalSearchForm(forms.Form):
    chemical_q = forms.CharField(
        label="Search the chemical library", max_length=100, required=False, strip=True
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Inventory file (.csv or .xlsx)",
        help_text=(
            f"At most {inventory.IMPORT_MAX_BYTES // (1024 * 1024)} MB and "
            f"{inventory.IMPORT_MAX_ROWS:,} materials."
        ),
        error_messages={"required": "Choose a .csv or .xlsx file to import."},
    )
    replace = forms.BooleanField(
        label="Replace the materials the inventory lists now",
        required=False,
        help_text="Without it, the file's materials are added after the ones listed now.",
    )
