"""Forms for facilities. They check the shape of the input; the rules (ZIP code, duplicate
address, who may add) live in ``facilities.services`` and come back as ValidationError."""

from django import forms


class FacilityForm(forms.Form):
    """Adding a facility to the current organization, or editing one's name and address."""

    name = forms.CharField(max_length=200)
    street = forms.CharField(label="Street address", max_length=200)
    city = forms.CharField(max_length=100)
    zip_code = forms.CharField(
        label="ZIP code", max_length=10, help_text="5 digits, or ZIP+4 (95814-1234)."
    )
    county = forms.CharField(max_length=60, required=False)


class FacilityCloseForm(forms.Form):
    """Closing a facility (its Lead User)."""

    reason = forms.CharField(
        label="Why is the facility closing?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Sent to the facility's regulators.",
    )


class FacilityReopenForm(forms.Form):
    """Reopening a closed facility (its Lead User, or its regulator)."""

    reason = forms.CharField(
        label="Why is the facility reopening?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Sent to the facility's regulators.",
    )


class TransferDeclineForm(forms.Form):
    """Declining a business's transfer request (the facility's CUPA)."""

    reason = forms.CharField(
        label="Why is the request declined?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="E-mailed to the organization's Lead Users and Approvers.",
    )


class TransferRequestForm(forms.Form):
    """Asking the facility's regulator to move it to another organization (its Lead User)."""

    to_organization_code = forms.IntegerField(
        label="Code of the receiving organization",
        min_value=1,
        help_text="The organization that will report for the facility: ask its Lead User.",
    )
    reason = forms.CharField(
        label="Why?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="For example: the facility was sold, or another company now operates it.",
    )


class FacilityMoveForm(forms.Form):
    """Moving a facility to another organization, at the business's written request: a
    letter, or a Lead User's request in the portal (``request``)."""

    request = forms.IntegerField(required=False, widget=forms.HiddenInput)

    organization_code = forms.IntegerField(
        label="Organization code", min_value=1, help_text="The organization receiving it."
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    letter = forms.FileField(
        label="Request on letterhead",
        required=False,
        help_text="The business's signed request: PDF, PNG or JPEG, 10 MB at most. Not "
        "needed when moving at a request made in CERS.",
    )


class FacilityMergeForm(forms.Form):
    """Merging a duplicate facility into the facility that stays."""

    cers_id = forms.IntegerField(
        label="CERS ID of the facility that stays", min_value=1, max_value=999_999_999
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class OrganizationMergeForm(forms.Form):
    """Merging an organization into another one."""

    organization_code = forms.IntegerField(label="Code of the organization that stays", min_value=1)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class LegacyImportForm(forms.Form):
    """Uploading a legacy facilities file, with the optional organization mapping."""

    file = forms.FileField(
        label="Legacy facilities (CSV)",
        help_text="Columns: legacy_key, name, street, city, zip_code, county (optional).",
    )
    mapping = forms.FileField(
        label="Organization mapping (CSV)",
        required=False,
        help_text="Optional. Columns: legacy_key, organization_name, organization_code "
        "(optional: an existing organization).",
    )

    MAX_BYTES = 5 * 1024 * 1024

    def clean(self):
        for name in ("file", "mapping"):
            upload = self.cleaned_data.get(name)
            if upload and upload.size > self.MAX_BYTES:
                self.add_error(name, "The file is larger than 5 MB.")
        return self.cleaned_data


# The portal's choice for "no setting of the regulator": the Business Activities decide.
FOLLOW_ACTIVITIES = ""


class ElementRequirementForm(forms.Form):
    """The regulator of an element sets whether a facility must report it, and when next."""

    reporting_requirement = forms.TypedChoiceField(
        label="Reporting requirement",
        choices=[],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Whether the facility must report this element.",
    )
    next_due_date = forms.DateField(
        label="Next due date",
        required=False,
        help_text="YYYY-MM-DD. Leave empty for no due date.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        from .models import ReportingRequirement

        super().__init__(*args, **kwargs)
        self.fields["reporting_requirement"].choices = [
            (FOLLOW_ACTIVITIES, "As the Business Activities answers say"),
            *ReportingRequirement.choices,
        ]


class DueDateRuleForm(forms.Form):
    """How the agency schedules due dates when it accepts an element."""

    hmbp_yearly = forms.BooleanField(
        label="HMBP elements are due yearly on the anniversary of their acceptance",
        required=False,
        help_text=(
            "Facility Information, Hazardous Materials Inventory and Emergency Response and "
            "Training Plans. Off: their due dates change only when your staff or your data "
            "system set them."
        ),
    )


class FacilityDetailsForm(forms.Form):
    """What the facility's CUPA keeps about it (``services.set_facility_details``)."""

    local_facility_id = forms.CharField(
        label="Facility ID (the agency's)",
        max_length=13,
        required=False,
        help_text="Your agency's own number for the facility, up to 13 letters and digits.",
    )
    regulator_key = forms.CharField(
        label="Key in your data system",
        max_length=36,
        required=False,
        help_text="The facility's key in your agency's own data system (for EDT clients).",
    )
    epa_id = forms.CharField(label="EPA ID", max_length=12, required=False)
    latitude = forms.DecimalField(
        label="Latitude",
        required=False,
        min_value=-90,
        max_value=90,
        max_digits=11,
        decimal_places=8,
        help_text="Decimal degrees, such as 38.5816.",
    )
    longitude = forms.DecimalField(
        label="Longitude",
        required=False,
        min_value=-180,
        max_value=180,
        max_digits=12,
        decimal_places=8,
        help_text="Decimal degrees, negative west of Greenwich, such as -121.4944.",
    )
    horizontal_accuracy = forms.DecimalField(
        label="Horizontal accuracy (meters)",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=3,
    )
    horizontal_reference_datum = forms.ChoiceField(
        label="Datum", required=False, choices=[("", "Not given")]
    )
    location_collected_on = forms.DateField(
        label="Location collected on",
        required=False,
        help_text="YYYY-MM-DD.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        from .models import HorizontalReferenceDatum

        super().__init__(*args, **kwargs)
        self.fields["horizontal_reference_datum"].choices = [
            ("", "Not given"),
            *HorizontalReferenceDatum.choices,
        ]


class FacilityProgramFilterForm(forms.Form):
    """The regulator's facility list by program: the facilities that must report one submittal
    element, and those whose Business Activities answer one question Yes. An unknown value is
    an error on its field (the list is not shown as if it were filtered)."""

    must_report = forms.TypedChoiceField(
        label="Must report",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="As each facility's status grid says: its regulator's setting, else its "
        "Business Activities answers.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a submittal element: choose one from the list."
        },
    )
    answered_yes = forms.ChoiceField(
        label="Business Activities answered Yes",
        required=False,
        help_text="On the latest Facility Information submitted, under review or accepted.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a Business Activities question: choose one "
            "from the list."
        },
    )

    def __init__(self, *args, **kwargs):
        from core.elements import SubmittalElement

        from .hooks import questions

        super().__init__(*args, **kwargs)
        self.fields["must_report"].choices = [
            ("", "Any element"),
            *((int(element), element.label) for element in SubmittalElement),
        ]
        self.fields["answered_yes"].choices = [("", "Any answers"), *questions()]

    @property
    def filtering(self) -> bool:
        """Whether any of the filters was given (valid or not)."""
        return any(self.data.get(name) for name in self.fields)
