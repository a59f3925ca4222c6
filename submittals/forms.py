"""Forms for the business portal's submittal pages.

The element forms are built from the field registry (``core.registry``), not declared by
hand:

- :class:`ElementDataForm`: one form field per single-valued data field of the element (not
  repeating, not inside a repeating row);
- :class:`RowForm`: the fields of one row of a repeating group (a UST tank, a tiered-permitting
  unit, a consolidation site), including the row's nested non-repeating groups.

Values are stored in the element's data as ``submittals.data`` says (data keys, rows, JSON
values). A blank value removes the key. Keys no form shows are kept as they are.

Drafts may be incomplete, so the forms never enforce ``required`` (``submittals.validation``
reports what is missing); each value that is given is checked with
``registry.validate_value`` and any problem shows beside its field in the registry's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms

from core.elements import SubmittalElement
from core.forms import ModelMultipleChoiceField
from core.registry import ElementSchema, Field, FieldLookupError, Group, schema_for, validate_value

from . import facility_information
from .data import (
    data_key,
    row_fields,
    row_fingerprint,
    single_valued_fields,
    to_json,
    user_entered,
)

# How many of a row's fields its group's table shows as columns.
SUMMARY_COLUMNS = 4

# Field changes re-validate the draft after a short pause (the element page's live panel).
LIVE_TRIGGER = "change delay:300ms"
LIVE_TEXT_TRIGGER = "change delay:300ms, keyup changed delay:800ms"


def form_name(field: Field) -> str:
    """An HTML-safe form field name for a registry field ("f_105a", "f_20_0050")."""
    return "f_" + re.sub(r"\W", "_", data_key(field))


def field_anchor(field: Field) -> str:
    """The id of a field's input on its form (of its first button for a Yes / No question),
    for links from the guidance messages and the error summary."""
    anchor = f"id_{form_name(field)}"
    if facility_information.words(field) and field.number in facility_information.YES_NO:
        anchor += "_0"
    return anchor


def summary_fields(schema: ElementSchema, group: Group) -> tuple[Field, ...]:
    """The columns of a group's table: its first required fields, then its first others."""
    fields = list(user_entered(row_fields(schema, group)))
    required = [f for f in fields if f.required and not f.choice]
    others = [f for f in fields if f not in required]
    return tuple((required + others)[:SUMMARY_COLUMNS])


def group_label(schema: ElementSchema, field: Field) -> str:
    """The heading for a field's group: the group's label, or its tag when it has none."""
    try:
        group = schema.group_at(field.path[:-1])
    except FieldLookupError:
        return field.group
    return group.label or group.tag


def shown_value(field: Field, value) -> str:
    """A stored value as the read-only pages show it."""
    if value is None or value == "":
        return ""
    if field.codes:  # the code's label alone, as the form offers it
        return field.code_label(str(value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


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


class YesNoRadio(forms.RadioSelect):
    """A Yes / No question. The error summary links to its first button (Django's radio
    list names no element for the field as a whole)."""

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


def form_label(field: Field) -> str:
    """A field's label in words, without its data-dictionary number (the page shows the
    number apart, small)."""
    fi = facility_information.words(field)
    return fi.label if fi else field.label


def _form_field(field: Field) -> forms.Field:
    fi = facility_information.words(field)
    options = {"label": form_label(field), "required": False, "help_text": fi.help if fi else ""}
    in_fi = fi is not None
    if in_fi and field.number in facility_information.YES_NO:
        form_field = RegistryChoiceField(
            choices=list(field.codes), widget=YesNoRadio(attrs={"class": "yes-no"}), **options
        )
    elif field.codes:  # a code list, or a whole number whose values are codes (1-39)
        choices = [("", "Choose one")] + [(value, label) for value, label in field.codes]
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


def mandatory(schema: ElementSchema, field: Field) -> bool:
    """Whether a form marks the field required: the schema requires it in its group, and
    every group around it, up to the element or the row the form edits, is required too (a
    field of an optional group is needed only once the group is started)."""
    if not field.required or field.choice:
        return False
    row = schema.record_path(field)
    for depth in range(len(field.path) - 1, len(row), -1):
        try:
            group = schema.group_at(field.path[:depth])
        except FieldLookupError:
            return False
        if not group.required or group.choice:
            return False
    return True


def guidance_text(message) -> str:
    """A guidance message as shown beside its field: short for a missing value."""
    if message.code.endswith("-REQ"):
        return "Required: answer this before you submit."
    return message.message


@dataclass(frozen=True)
class Section:
    """One group of fields, for a heading and its fields."""

    label: str
    fields: tuple[Field, ...]


def _sections(schema: ElementSchema, fields: tuple[Field, ...]) -> list[Section]:
    grouped: dict[str, list[Field]] = {}
    labels: dict[str, str] = {}
    for field in fields:
        key = "/".join(field.path[:-1])
        grouped.setdefault(key, []).append(field)
        labels.setdefault(key, group_label(schema, field))
    return [Section(labels[key], tuple(fields)) for key, fields in grouped.items()]


def sections(schema: ElementSchema) -> list[Section]:
    """The single-valued fields grouped by their group, in schema order."""
    return _sections(schema, user_entered(single_valued_fields(schema)))


class RegistryBoundField(forms.BoundField):
    """A registry field as ``submittals/_registry_field.html`` lays it out: the one place that
    names its help text and its error list (always on the page, empty without errors, so live
    validation can swap it), for the template's ids and the field's ``aria-describedby``
    alike."""

    @property
    def help_id(self) -> str:
        return f"help-{self.html_name}"

    @property
    def errors_id(self) -> str:
        return f"errors-{self.html_name}"

    @property
    def described_by(self) -> str:
        return f"{self.help_id} {self.errors_id}" if self.help_text else self.errors_id


class RegistryForm(forms.Form):
    """A form over some of an element's registry fields, whose values live in a dict keyed
    by :func:`data_key` (the element's data, or one row of it).

    ``initial`` comes from that dict; :meth:`merged_data` puts the cleaned values over it,
    keeping every key the form does not show. Each field is described by its help and its
    errors (:class:`RegistryBoundField`), with or without live validation.
    """

    bound_field_class = RegistryBoundField

    def __init__(self, *args, schema: ElementSchema, fields, values: dict | None, **kwargs):
        self.schema = schema
        self.registry_fields = tuple(fields)
        self.existing = dict(values or {})
        initial = {
            form_name(f): self.existing[data_key(f)]
            for f in self.registry_fields
            if data_key(f) in self.existing
        }
        super().__init__(*args, initial=initial, **kwargs)
        for f in self.registry_fields:
            self.fields[form_name(f)] = _form_field(f)
        for name, form_field in self.fields.items():
            # On the widget, not left to Django: it would name ids of its own, and none for a
            # group of radio buttons.
            form_field.widget.attrs["aria-describedby"] = self[name].described_by
        self.required_names = frozenset(
            form_name(f) for f in self.registry_fields if mandatory(schema, f)
        )
        self.guidance_count = 0

    def add_guidance(self, messages) -> None:
        """Show the draft's Required guidance messages about this form's fields as those
        fields' errors (and so in the error summary). Call only to render the form."""
        names = {data_key(f): form_name(f) for f in self.registry_fields}
        errors = self.errors  # an unbound form's are empty
        for message in messages:
            name = names.get(message.field or "")
            if message.level != "required" or name is None or message.row is not None:
                continue
            if name in errors:
                continue  # the value typed has its own error already
            errors[name] = self.error_class([guidance_text(message)], renderer=self.renderer)
            self.guidance_count += 1

    def sections(self):
        """(heading, bound fields) per group, for the template."""
        return [
            (section.label, [self[form_name(f)] for f in section.fields])
            for section in _sections(self.schema, self.registry_fields)
        ]

    def mark_saved_meanwhile(self, saved: dict) -> int:
        """After a save refused because someone else saved these fields meanwhile: mark each
        field whose value saved now differs from the one typed with that saved value, as the
        field's error (so the error summary lists it). Call after ``is_valid()``. Returns how
        many were marked."""
        marked = 0
        for f in self.registry_fields:
            name = form_name(f)
            typed = self.cleaned_data.get(name)
            now = saved.get(data_key(f))
            if (typed in (None, "")) and (now in (None, "")) or typed == now:
                continue
            choices = dict(getattr(self.fields[name], "choices", None) or ())
            shown = f"“{choices.get(now, now)}”" if now not in (None, "") else "empty"
            self.add_error(name, f"Saved meanwhile as {shown}; saving again keeps your value.")
            marked += 1
        return marked

    def fingerprint(self, data: dict | None = None) -> str:
        """A digest of the values of the form's own fields in ``data`` (by default the data
        the form was drawn from). The page sends it back, so a save is refused when one of
        these fields was saved by someone else while the page was open."""
        data = self.existing if data is None else data
        return row_fingerprint({data_key(f): data.get(data_key(f)) for f in self.registry_fields})

    def merged_data(self, existing: dict | None = None) -> dict:
        """The cleaned values over ``existing`` (by default the data the form was drawn
        from), keeping every key the form does not show."""
        data = dict(self.existing if existing is None else existing)
        for f in self.registry_fields:
            value = self.cleaned_data.get(form_name(f))
            if value is None or value == "":
                data.pop(data_key(f), None)
            else:
                data[data_key(f)] = value
        return data

    def preview_data(self) -> dict:
        """What the data would be if saved now, for validating without saving: valid values
        clean, an invalid one as typed (so validation reports it), blanks removed. Call
        after ``is_valid()``."""
        data = self.merged_data() if hasattr(self, "cleaned_data") else dict(self.existing)
        for f in self.registry_fields:
            name = form_name(f)
            if name in self.errors:
                data[data_key(f)] = self.data.get(self.add_prefix(name), "")
        return data

    def has_values(self) -> bool:
        """Whether any field was given a value (after ``is_valid()``)."""
        return any(
            value is not None and value != ""
            for value in getattr(self, "cleaned_data", {}).values()
        )

    def enable_live_validation(self, url: str) -> None:
        """Make each field post the form to ``url`` when it changes (htmx), to re-validate
        the draft without saving it."""
        for form_field in self.fields.values():
            text = isinstance(form_field, RegistryCharField | RegistryDecimalField)
            form_field.widget.attrs.update(
                {
                    "hx-post": url,
                    "hx-trigger": LIVE_TEXT_TRIGGER if text else LIVE_TRIGGER,
                    "hx-target": "#validation-panel",
                    "hx-swap": "outerHTML",
                    "hx-sync": "closest form:replace",
                }
            )


class ElementDataForm(RegistryForm):
    """The single-valued fields of one element, built from the registry.

    ``initial`` comes from the record's data; :meth:`merged_data` puts the cleaned values over
    the existing data, keeping every key the form does not show (rows such as "materials").
    """

    def __init__(self, *args, element: int, data: dict | None = None, part=None, **kwargs):
        schema = schema_for(SubmittalElement(element))
        fields = user_entered(single_valued_fields(schema))
        self.part = part
        if part is not None:  # one part of Facility Information, in the part's order
            by_number = {f.number: f for f in fields}
            fields = tuple(by_number[number] for number in part.numbers if number in by_number)
        super().__init__(*args, schema=schema, fields=fields, values=data, **kwargs)

    def part_sections(self):
        """(section, bound fields) per section of the form's part, for the template."""
        shown = set(self.fields)
        return [
            (
                section,
                [
                    self[name]
                    for name in (form_name(self.schema.get(n)) for n in section.numbers)
                    if name in shown
                ],
            )
            for section in self.part.sections
        ]


class RowForm(RegistryForm):
    """One row of a repeating group: its fields, by the registry, over the row's values."""

    def __init__(self, *args, element: int, group: Group, row: dict | None = None, **kwargs):
        schema = schema_for(SubmittalElement(element))
        self.group = group
        super().__init__(
            *args,
            schema=schema,
            fields=user_entered(row_fields(schema, group)),
            values=row,
            **kwargs,
        )


def _shown(fields, values: dict, show=None) -> list[tuple[str, str, str]]:
    show = show or shown_value
    return [(form_label(f), show(f, values.get(data_key(f))), f.number) for f in fields]


def display_sections(element: int, data: dict | None) -> list[tuple[str, list[tuple]]]:
    """Read-only view of the same fields: (heading, [(label in words, shown value, number)])
    per group."""
    data = data or {}
    return [
        (section.label, _shown(section.fields, data))
        for section in sections(schema_for(SubmittalElement(element)))
    ]


def display_part(part, data: dict | None) -> list[tuple[object, list[tuple]]]:
    """Read-only view of one part of Facility Information, as its form lays it out:
    (section, [(label in words, shown value, number)]) per section of ``part``."""
    schema = schema_for(SubmittalElement.FACILITY_INFORMATION)
    data = data or {}
    out = []
    for section in part.sections:
        fields = []
        for number in section.numbers:
            try:
                fields.append(schema.get(number))
            except FieldLookupError:
                continue
        out.append((section, _shown(fields, data)))
    return out


def display_row(
    schema: ElementSchema, group: Group, row: dict, show=None
) -> list[tuple[str, list[tuple]]]:
    """Read-only view of one row: (heading, [(label in words, shown value, number)]) per
    group in the row; ``show(field, value)`` formats a value (default :func:`shown_value`)."""
    return [
        (section.label, _shown(section.fields, row, show))
        for section in _sections(schema, user_entered(row_fields(schema, group)))
    ]


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

    elements = ModelMultipleChoiceField(
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


class CertifyNoChangesForm(forms.Form):
    """Choose facilities of the organization whose last accepted elements are certified again
    unchanged (``facilities``: the scoped queryset of those that have any); with ``certify``
    the certification itself, asked once for them all."""

    facilities = ModelMultipleChoiceField(
        queryset=None,
        to_field_name="cers_id",
        widget=forms.CheckboxSelectMultiple,
        label="Facilities to certify",
        error_messages={
            "required": "Choose at least one facility to certify.",
            "invalid_choice": "One of the facilities chosen has nothing accepted to certify, "
            "or is not in this organization.",
        },
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

    def __init__(self, *args, facilities, certifying: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilities"].queryset = facilities
        self.fields["facilities"].label_from_instance = lambda facility: (
            f"{facility.name} (CERS ID {facility.cers_id})"
        )
        if not certifying:
            # The first step only chooses; the certification is asked on the review.
            for name in ("certifier_name", "certifier_title", "comments", "certify"):
                del self.fields[name]
        else:
            self.fields["facilities"].widget = forms.MultipleHiddenInput()
