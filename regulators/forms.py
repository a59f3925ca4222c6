"""Forms of the regulator portal's staff page. They check the shape of the input; the rules
(who may, the last administrator, service accounts, duplicates) live in
``regulators.services``."""

from django import forms

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


class StaffRoleForm(forms.Form):
    """A staff member's new role."""

    role = forms.ChoiceField(choices=StaffRole.choices)
