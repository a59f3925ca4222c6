"""Forms of the regulator portal's staff page. They check the shape of the input; the rules
(who may, the last administrator, service accounts, duplicates) live in
``regulators.services``."""

from django import forms

from core.elements import SubmittalElement

from .models import LOCAL_REQUIREMENT_MAX_LENGTH, STAFF_REQUEST_MESSAGE_MAX_LENGTH
from .roles import StaffRole

STAFF_ROLE_DESCRIPTIONS: dict[str, str] = {
    StaffRole.VIEWER: "sees the agency's facilities, submittals and staff; changes nothing.",
    StaffRole.REVIEWER: "reviews submittals and records inspections, violations and enforcement.",
    StaffRole.ADMINISTRATOR: "everything a reviewer does, plus managing facilities and the staff.",
    StaffRole.EDT_ADMINISTRATOR: "administers the agency's EDT (electronic data transfer) access.",
}


def _role_choices_with_descriptions() -> list[tuple[str, str]]:
    return [(role.value, f"{role.label}: {STAFF_ROLE_DESCRIPTIONS[role]}") for role in StaffRole]


class StaffAddForm(forms.Form):
    """Add a person who already has a CERS account to the agency's staff, with a role."""

    email = forms.EmailField(
        label="E-mail address", help_text="The e-mail address of their CERS account."
    )
    role = forms.ChoiceField(
        choices=_role_choices_with_descriptions,
        initial=StaffRole.VIEWER,
        widget=forms.RadioSelect,
    )


class StaffRequestForm(forms.Form):
    """Ask to join an agency's staff: the role wanted and an optional message to its
    administrators."""

    role = forms.ChoiceField(
        label="The role you need",
        choices=_role_choices_with_descriptions,
        initial=StaffRole.VIEWER,
        widget=forms.RadioSelect,
        help_text="The administrators may give you another one.",
    )
    message = forms.CharField(
        label="Message to the agency's administrators (optional)",
        required=False,
        max_length=STAFF_REQUEST_MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who you are and why you need access, such as your unit and supervisor.",
    )


class StaffRequestDecisionForm(forms.Form):
    """An administrator's answer to a request to join the staff: approve with a role, or
    decline with a reason (the service refuses a decline without one)."""

    APPROVE = "approve"
    DECLINE = "decline"

    decision = forms.ChoiceField(choices=[(APPROVE, "Approve"), (DECLINE, "Decline")])
    role = forms.ChoiceField(choices=StaffRole.choices, required=False)
    reason = forms.CharField(required=False, max_length=2000)

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE


class StaffRoleForm(forms.Form):
    """A staff member's new role."""

    role = forms.ChoiceField(choices=StaffRole.choices)


class ReminderDaysForm(forms.Form):
    """The agency's reminder days, typed as numbers separated by commas."""

    days = forms.CharField(
        label="Remind the businesses this many days before a due date",
        help_text="Whole days from 1 to 366, separated by commas, such as 60, 30, 7. Each "
        "reminder is sent once; an overdue element is reminded once more after its date.",
        max_length=100,
    )

    def clean_days(self) -> list[int]:
        parts = [part.strip() for part in self.cleaned_data["days"].split(",") if part.strip()]
        if not parts or not all(part.isdecimal() for part in parts):
            raise forms.ValidationError(
                "Type whole numbers of days separated by commas, such as 60, 30, 7."
            )
        days = [int(part) for part in parts]
        if not all(1 <= day <= 366 for day in days):
            raise forms.ValidationError("Each number of days must be from 1 to 366.")
        return days


class LocalRequirementsForm(forms.Form):
    """One text per submittal element: the agency's local requirements for it (empty: none)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for element in SubmittalElement:
            self.fields[f"element_{element.value}"] = forms.CharField(
                label=element.label,
                required=False,
                max_length=LOCAL_REQUIREMENT_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def texts(self) -> dict[int, str]:
        return {
            element.value: self.cleaned_data[f"element_{element.value}"]
            for element in SubmittalElement
        }


class ContactForm(forms.Form):
    """The agency's public contact, as the regulator directory shows it."""

    email = forms.EmailField(
        label="Public e-mail address",
        required=False,
        help_text="Shown in the directory; notices to the agency (a facility closed or "
        "reopened) go to it, or to the administrators when it is empty.",
    )
    phone = forms.CharField(label="Public phone (optional)", max_length=30, required=False)
    website = forms.URLField(
        label="Web site (optional)",
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text="Such as https://emd.saccounty.gov/.",
    )
