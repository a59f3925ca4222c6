"""Forms of the business portal's organization pages. They check the shape of the input;
the rules (who may, last Lead User, duplicates) live in ``organizations.services``."""

from django import forms

from .roles import ROLE_DESCRIPTIONS, Role


def _role_choices_with_descriptions() -> list[tuple[str, str]]:
    return [(role.value, f"{role.label}: {ROLE_DESCRIPTIONS[role]}") for role in Role]


class OrganizationForm(forms.Form):
    """Create an organization; the user who creates it becomes its first Lead User."""

    name = forms.CharField(label="Organization name", max_length=200)
    headquarters = forms.CharField(
        label="Headquarters address",
        max_length=255,
        required=False,
        help_text="Optional: where the business is run from.",
    )


class OrganizationEditForm(OrganizationForm):
    """Correct the organization's name and headquarters (its Lead Users)."""


class JoinRequestForm(forms.Form):
    """Ask to join an existing organization, found by its code or one of its facilities."""

    kind = forms.ChoiceField(
        label="I know its",
        choices=[("organization", "Organization code"), ("facility", "Facility CERS ID")],
        initial="organization",
        required=False,
        widget=forms.RadioSelect,
    )
    code = forms.IntegerField(
        label="Organization code or facility CERS ID",
        min_value=1,
        max_value=999_999_999,
        help_text="The 8-9 digit organization code, or the CERS ID of one of its facilities.",
        error_messages={"invalid": "Enter the code as digits only, for example 10000001."},
    )
    message = forms.CharField(
        label="Message to the Lead Users",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: who you are and why you need access.",
    )

    def clean_kind(self):
        return self.cleaned_data.get("kind") or "organization"


class InvitationForm(forms.Form):
    """Invite someone by e-mail with a role (Lead Users only), naming the person as CERS's Add
    Person does: name required, phone and job title optional."""

    email = forms.EmailField(label="E-mail address")
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    phone = forms.CharField(
        label="Phone (optional)",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    title = forms.CharField(label="Job title (optional)", max_length=100, required=False)
    role = forms.ChoiceField(
        choices=_role_choices_with_descriptions,
        initial=Role.VIEWER,
        widget=forms.RadioSelect,
    )


class RoleForm(forms.Form):
    """A member's new role."""

    role = forms.ChoiceField(choices=Role.choices)


class JoinDecisionForm(forms.Form):
    """A Lead User's answer to a request to join."""

    APPROVE = "approve"
    DECLINE = "decline"

    decision = forms.ChoiceField(choices=[(APPROVE, "Approve"), (DECLINE, "Decline")])
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.VIEWER,
        required=False,
        help_text="The role the new member gets when approved.",
    )
    reason = forms.CharField(
        label="Reason (sent to the requester)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.APPROVE and not data.get("role"):
            self.add_error("role", "Choose the role the new member gets.")
        return data

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE
