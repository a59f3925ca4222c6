"""CME forms. They only shape the input; ``cme.services`` decides what is valid and allowed.
Foreign-key choices come from querysets the view has already scoped."""

from django import forms

from .models import (
    EnforcementType,
    FormalEnforcementType,
    InspectionType,
    OperationalCompliance,
    ProgramElement,
    RTCQualifier,
    ViolationClass,
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
    comments = forms.CharField(max_length=1000, required=False, widget=forms.Textarea)


class ViolationForm(forms.Form):
    type_number = forms.CharField(
        label="Violation type number", max_length=7, help_text="From the violation library."
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


class EnforcementForm(forms.Form):
    enforcement_type = forms.ChoiceField(label="Type", choices=_blank(EnforcementType.choices))
    formal_type = forms.ChoiceField(choices=_blank(FormalEnforcementType.choices), required=False)
    occurred_on = forms.DateField(label="Enforcement date", widget=DATE)
    violations = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    comments = forms.CharField(max_length=1000, required=False, widget=forms.Textarea)

    def __init__(self, *args, violations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["violations"].queryset = violations
        self.fields["violations"].label_from_instance = lambda v: (
            f"{v.violation_type.type_number} {v.violation_type.name} ({v.occurred_on})"
        )
