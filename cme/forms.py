"""CME forms. They only shape the input; ``cme.services`` decides what is valid and allowed.
Foreign-key choices come from querysets the view has already scoped."""

from django import forms

from core.forms import ModelMultipleChoiceField

from .models import (
    EnforcementType,
    FormalEnforcementType,
    InspectionType,
    OperationalCompliance,
    ProgramElement,
    RedTagReason,
    RTCQualifier,
    ViolationClass,
    YesNo,
)

DATE = forms.DateInput(attrs={"type": "date"})


def _blank(choices):
    return [("", "---------"), *choices]


class InspectionForm(forms.Form):
    program_element = forms.ChoiceField(choices=_blank(ProgramElement.choices))
    inspection_type = forms.ChoiceField(choices=_blank(InspectionType.choices))
    occurred_on = forms.DateField(label="Inspection date", widget=DATE)
    inspector_name = forms.CharField(max_length=200)
    ust_operational_compliance = forms.ChoiceField(
        label="UST operational compliance (UST only)",
        choices=_blank(OperationalCompliance.choices),
        required=False,
    )
    violations_rtc_on = forms.DateField(
        label="All violations returned to compliance on",
        required=False,
        widget=DATE,
        help_text="Once every violation found has returned to compliance.",
    )
    comments = forms.CharField(max_length=1000, required=False, widget=forms.Textarea)

    def __init__(self, *args, program_elements=None, **kwargs):
        """``program_elements``: the codes the agency may record at the facility
        (``cme.rules.recordable_program_elements``); only those are offered and accepted."""
        super().__init__(*args, **kwargs)
        if program_elements is not None:
            wanted = set(program_elements)
            field = self.fields["program_element"]
            field.choices = _blank([c for c in ProgramElement.choices if c[0] in wanted])
            field.error_messages["invalid_choice"] = (
                "Your agency does not regulate that program element at this facility; choose "
                "one from the list."
            )
            if len(wanted) == 1:
                field.initial = next(iter(wanted))


# The violation form's type field suggests the library's types from this list (a <datalist>
# the page renders): typing part of a number or a name narrows it, and without a browser that
# supports it the field is a plain text box for the number.
VIOLATION_TYPE_LIST_ID = "violation-type-choices"


class ViolationForm(forms.Form):
    type_number = forms.CharField(
        label="Violation type",
        max_length=400,
        help_text=(
            "Type the number or part of the name and choose from the violation library's "
            "types for this program element."
        ),
        widget=forms.TextInput(attrs={"list": VIOLATION_TYPE_LIST_ID, "autocomplete": "off"}),
    )
    violation_class = forms.TypedChoiceField(
        label="Class", choices=_blank(ViolationClass.choices), coerce=int
    )
    occurred_on = forms.DateField(label="Violation date", widget=DATE)
    scheduled_rtc_on = forms.DateField(
        label="Scheduled return to compliance", required=False, widget=DATE
    )
    return_to_compliance_on = forms.DateField(
        label="Actual return to compliance", required=False, widget=DATE
    )
    rtc_qualifier = forms.TypedChoiceField(
        label="Return-to-compliance qualifier",
        choices=_blank(RTCQualifier.choices),
        coerce=int,
        required=False,
        empty_value=None,
    )
    comments = forms.CharField(max_length=1000, required=False, widget=forms.Textarea)

    def clean_type_number(self):
        """The type's number: a choice from the list may arrive as "number name"."""
        value = self.cleaned_data["type_number"].strip()
        return value.split(maxsplit=1)[0] if value else value


class EnforcementForm(forms.Form):
    enforcement_type = forms.ChoiceField(label="Type", choices=_blank(EnforcementType.choices))
    formal_type = forms.ChoiceField(
        choices=_blank(FormalEnforcementType.choices),
        required=False,
        help_text="Empty for an informal action.",
    )
    occurred_on = forms.DateField(label="Enforcement date", widget=DATE)
    violations = ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    red_tag_issued = forms.ChoiceField(
        label="Red tag issued (UST)", choices=_blank(YesNo.choices), required=False
    )
    # Lengths are the service's to check (one message for the portal and the upload); the
    # browser gets them as a hint.
    red_tag_number = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 5}),
        help_text="Up to five digits; stored zero-padded.",
    )
    red_tag_reason = forms.TypedChoiceField(
        label="Violations causing the red tag",
        choices=_blank(RedTagReason.choices),
        coerce=int,
        required=False,
        empty_value=None,
    )
    red_tag_affixed_on = forms.DateField(label="Red tag affixed on", required=False, widget=DATE)
    red_tag_removed_on = forms.DateField(label="Red tag removed on", required=False, widget=DATE)
    case_settled_on = forms.DateField(
        label="Case settled or dropped on", required=False, widget=DATE
    )
    docket_number = forms.CharField(required=False, widget=forms.TextInput(attrs={"maxlength": 20}))
    fine_amount = forms.IntegerField(label="Fine assessed (whole dollars)", required=False)
    sep_amount = forms.IntegerField(
        label="Supplemental environmental project (whole dollars)", required=False
    )
    comments = forms.CharField(max_length=1000, required=False, widget=forms.Textarea)

    def __init__(self, *args, violations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["violations"].queryset = violations
        self.fields["violations"].label_from_instance = lambda v: (
            f"{v.violation_type.type_number} {v.violation_type.name} ({v.occurred_on})"
        )


class EnforcementFilterForm(forms.Form):
    """The enforcement list's filters; an invalid value is ignored."""

    enforcement_type = forms.ChoiceField(
        label="Type", choices=[("", "Any type"), *EnforcementType.choices], required=False
    )
    formal = forms.ChoiceField(
        label="Formal or informal",
        choices=[
            ("", "Either"),
            ("formal", "Formal (any formal type)"),
            ("informal", "Informal"),
            *((code, f"Formal: {label}") for code, label in FormalEnforcementType.choices),
        ],
        required=False,
    )
    occurred_from = forms.DateField(label="From", required=False, widget=DATE)
    occurred_to = forms.DateField(label="To", required=False, widget=DATE)
    cers_id = forms.IntegerField(label="Facility CERS ID", required=False, min_value=1)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("occurred_from"), cleaned.get("occurred_to")
        if start and end and end < start:
            self.add_error(
                "occurred_to",
                f"“To” ({end.isoformat()}) is before “From” ({start.isoformat()}): swap them.",
            )
        return cleaned


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CME file (.csv or .xlsx)",
        help_text="One inspection or violation a row, under the template's header row.",
    )
