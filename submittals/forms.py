"""Forms for the business portal's submittal pages.

The element form is built from the field registry (``submittals.registry``), not declared by
hand: one form field per single-valued data field of the element (not repeating, not inside a
repeating row). Rows such as inventory materials are kept in the element's data untouched.

Data keys: a value is stored in ``SubmittalElementRecord.data`` under the field's
data-dictionary number ("3", "105a", "20.0050") when it has one, else under its path
(``Field.key``, "BusinessActivities/BusinessName"); see :func:`data_key`. Values are stored as
JSON: strings for string and code fields, numbers for integers, decimals as their text, dates
and date-times in ISO form, booleans as booleans. A blank value removes the key.

Drafts may be incomplete, so the form never enforces ``required``; each value that is given is
checked with ``registry.validate_value`` and any problem shows beside its field in the
registry's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django import forms

from core.elements import SubmittalElement

from .registry import ElementSchema, Field, FieldLookupError, schema_for, validate_value


def data_key(field: Field) -> str:
    """Where a field's value lives in the element's data: its number, else its path."""
    return field.number or field.key


def form_name(field: Field) -> str:
    """An HTML-safe form field name for a registry field ("f_105a", "f_20_0050")."""
    return "f_" + re.sub(r"\W", "_", data_key(field))


def single_valued_fields(schema: ElementSchema) -> tuple[Field, ...]:
    """The element's data fields that hold one value: not repeating, not inside a row."""
    return tuple(f for f in schema.data_fields if not f.repeats and not schema.record_path(f))


def group_label(schema: ElementSchema, field: Field) -> str:
    """The heading for a field's group: the group's label, or its tag when it has none."""
    try:
        group = schema.group_at(field.path[:-1])
    except FieldLookupError:
        return field.group
    return group.label or group.tag


def field_label(field: Field) -> str:
    return f"{field.label} ({field.number})" if field.number else field.label


def to_json(value):
    """A clean registry value as stored in the element's JSON data."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


class RegistryFieldMixin:
    """Clean the raw form value with ``registry.validate_value`` only, so the messages are
    the registry's ("Business name: at most 70 characters (now 80).") and never Django's."""

    registry_field: Field

    def clean(self, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # a draft may leave any field blank, even one the schema requires
        clean, problem = validate_value(self.registry_field, value)
        if problem:
            raise forms.ValidationError(problem, code="registry")
        return to_json(clean)


class RegistryCharField(RegistryFieldMixin, forms.CharField):
    pass


class RegistryChoiceField(RegistryFieldMixin, forms.ChoiceField):
    pass


class RegistryDateField(RegistryFieldMixin, forms.CharField):
    widget = forms.DateInput(attrs={"type": "date"})


class RegistryIntegerField(RegistryFieldMixin, forms.CharField):
    widget = forms.NumberInput(attrs={"step": "1"})


class RegistryDecimalField(RegistryFieldMixin, forms.CharField):
    widget = forms.TextInput(attrs={"inputmode": "decimal"})


class RegistryBooleanField(RegistryFieldMixin, forms.NullBooleanField):
    """Yes / No / not answered: a draft may leave it open."""


def _form_field(field: Field) -> forms.Field:
    options = {"label": field_label(field), "required": False}
    if field.type == "code":
        choices = [("", "—")] + [
            (value, value if label == value else f"{value} – {label}")
            for value, label in field.codes
        ]
        form_field = RegistryChoiceField(choices=choices, **options)
    elif field.type == "boolean":
        form_field = RegistryBooleanField(**options)
    elif field.type == "date":
        form_field = RegistryDateField(**options)
    elif field.type == "integer":
        form_field = RegistryIntegerField(**options)
    elif field.type == "decimal":
        form_field = RegistryDecimalField(**options)
    else:  # string, datetime: text checked by the registry
        form_field = RegistryCharField(strip=False, **options)
        if field.max_length:
            form_field.widget.attrs["maxlength"] = str(field.max_length)
        if field.type == "datetime":
            form_field.help_text = "YYYY-MM-DDThh:mm:ss"
    form_field.registry_field = field
    return form_field


@dataclass(frozen=True)
class Section:
    """One group of the element's single-valued fields, for a heading and its fields."""

    label: str
    fields: tuple[Field, ...]


def sections(schema: ElementSchema) -> list[Section]:
    """The single-valued fields grouped by their group, in schema order."""
    grouped: dict[str, list[Field]] = {}
    labels: dict[str, str] = {}
    for field in single_valued_fields(schema):
        key = "/".join(field.path[:-1])
        grouped.setdefault(key, []).append(field)
        labels.setdefault(key, group_label(schema, field))
    return [Section(labels[key], tuple(fields)) for key, fields in grouped.items()]


class ElementDataForm(forms.Form):
    """The single-valued fields of one element, built from the registry.

    ``initial`` comes from the record's data; :meth:`merged_data` puts the cleaned values over
    the existing data, keeping every key the form does not show (rows such as "materials").
    """

    def __init__(self, *args, element: int, data: dict | None = None, **kwargs):
        self.schema = schema_for(SubmittalElement(element))
        self.existing = dict(data or {})
        initial = {
            form_name(f): self.existing[data_key(f)]
            for f in single_valued_fields(self.schema)
            if data_key(f) in self.existing
        }
        super().__init__(*args, initial=initial, **kwargs)
        for f in single_valued_fields(self.schema):
            self.fields[form_name(f)] = _form_field(f)

    def sections(self):
        """(heading, bound fields) per group, for the template."""
        return [
            (section.label, [self[form_name(f)] for f in section.fields])
            for section in sections(self.schema)
        ]

    def merged_data(self) -> dict:
        data = dict(self.existing)
        for f in single_valued_fields(self.schema):
            value = self.cleaned_data.get(form_name(f))
            if value is None or value == "":
                data.pop(data_key(f), None)
            else:
                data[data_key(f)] = value
        return data


def display_sections(element: int, data: dict | None) -> list[tuple[str, list[tuple]]]:
    """Read-only view of the same fields: (heading, [(label, shown value)]) per group."""
    data = data or {}
    out = []
    for section in sections(schema_for(SubmittalElement(element))):
        rows = []
        for f in section.fields:
            value = data.get(data_key(f))
            if value is None or value == "":
                shown = ""
            elif f.type == "code":
                shown = f"{value} – {f.code_label(str(value))}"
            elif isinstance(value, bool):
                shown = "Yes" if value else "No"
            else:
                shown = str(value)
            rows.append((field_label(f), shown))
        out.append((section.label, rows))
    return out


class StartDraftForm(forms.Form):
    """Start a draft of one element type, empty or from the last accepted one."""

    element = forms.TypedChoiceField(choices=SubmittalElement.choices, coerce=int)
    from_last_accepted = forms.BooleanField(required=False, label="Start from the last accepted")


CERTIFICATION = (
    "I certify under penalty of law that I have personally examined and am familiar with the "
    "information in this submittal, that based on my inquiry of those responsible for "
    "obtaining it I believe the information is true, accurate and complete, and that I am "
    "aware there are significant penalties for submitting false information."
)


class SubmitForm(forms.Form):
    """Choose a facility's drafts and certify them. ``drafts`` is the scoped queryset of the
    facility's drafts the user may see; no other record can be chosen."""

    elements = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="Drafts to submit",
        error_messages={"required": "Choose at least one draft element to submit."},
    )
    certifier_name = forms.CharField(max_length=200, label="Certifier name")
    certifier_title = forms.CharField(max_length=200, label="Certifier title")
    comments = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Comments"
    )
    certify = forms.BooleanField(
        label=CERTIFICATION,
        error_messages={"required": "Tick the certification statement to submit."},
    )

    def __init__(self, *args, drafts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["elements"].queryset = drafts
        self.fields["elements"].label_from_instance = lambda record: record.get_element_display()
