"""Forms of the EDT access pages. They shape the input; ``edt.access.services`` decides what
is valid and allowed (a service's ``ValidationError`` names the form field it is about).
Choices come from querysets the view has already narrowed to the agency."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from core.forms import ModelMultipleChoiceField
from regulators.models import Regulator

from ..models import Vendor, username_validator
from ..tiers import PA_HIGHEST_TIER, Environment, Tier

OWN_SYSTEM = "own"
DATE = forms.DateInput(attrs={"type": "date"})


def tiers_for(regulator: Regulator) -> list[int]:
    """The tiers an agency may ask for: a Participating Agency only 1 and 2."""
    if regulator.kind == Regulator.Kind.PA:
        return [t for t in Tier.values if t <= PA_HIGHEST_TIER]
    return list(Tier.values)


def _tier_field(tiers: list[int], regulator: Regulator, **kwargs) -> forms.Field:
    field = forms.TypedMultipleChoiceField(
        choices=[(t, Tier(t).label) for t in tiers],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )
    if regulator.kind == Regulator.Kind.PA:
        field.error_messages["invalid_choice"] = (
            "A Participating Agency may use tiers 1 and 2 only; tier %(value)s is for CUPAs."
        )
    else:
        field.error_messages["invalid_choice"] = "Tier %(value)s cannot be asked for here."
    return field


def _environment_field(**kwargs) -> forms.Field:
    return forms.MultipleChoiceField(
        choices=Environment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )


class VendorChoiceField(forms.ChoiceField):
    """One choice among the registered vendors, or "our own system"; cleans to
    ``(vendor or None, own_system)``, and to ``(None, False)`` when left blank."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", "Data services vendor")
        super().__init__(*args, choices=self._choices_now, **kwargs)

    @staticmethod
    def _choices_now():
        vendors = [(str(pk), name) for pk, name in Vendor.objects.values_list("pk", "name")]
        return [("", "---------"), (OWN_SYSTEM, "Our own system (no vendor)"), *vendors]

    def clean(self, value):
        value = super().clean(value)
        if value == OWN_SYSTEM:
            return None, True
        if not value:
            return None, False
        return Vendor.objects.get(pk=int(value)), False


class AccessRequestForm(forms.Form):
    """An EDT access request. The first one names everything CalEPA's procedure asks for; a
    follow-up only asks for more tiers, so the view leaves out what it no longer needs
    (``ask_administrators``, ``ask_account``, ``ask_vendor``)."""

    authority_confirmed = forms.BooleanField(
        label="I have authority to commit the agency to this request and to the Terms of Use.",
        required=False,
    )
    environments = _environment_field(label="Environments")
    terms_accepted = forms.BooleanField(required=False)
    terms_version = forms.CharField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(
        label="Note to the state administrator",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args,
        regulator: Regulator,
        tiers: list[int],
        staff,
        ask_administrators: bool,
        ask_account: bool,
        account_required: bool,
        ask_vendor: bool,
        vendor_required: bool,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["tiers"] = _tier_field(tiers, regulator, label="Tiers")
        self.order_fields(["authority_confirmed", "environments", "tiers"])
        self.fields[
            "terms_accepted"
        ].label = f"I accept the EDT Terms of Use, version {settings.EDT_TERMS_VERSION}."
        self.fields["terms_version"].initial = settings.EDT_TERMS_VERSION
        if ask_administrators:
            field = ModelMultipleChoiceField(
                queryset=staff,
                label="EDT administrators",
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text=(
                    "People on the agency's staff whom the state administrator contacts about "
                    "its EDT access."
                ),
            )
            field.error_messages["invalid_choice"] = (
                "An EDT administrator must be on the agency's staff; add them on the Staff page "
                "first."
            )
            field.label_from_instance = lambda user: (
                f"{user.get_full_name()} <{user.email}>" if user.get_full_name() else user.email
            )
            self.fields["edt_administrators"] = field
        if ask_account:
            needed = (
                "Required: the agency has no EDT account yet."
                if account_required
                else "Optional: the agency already has an EDT account; fill in only to add one."
            )
            self.fields["account_email"] = forms.EmailField(
                label="New EDT account: e-mail address",
                required=False,
                help_text=(
                    f"{needed} A new address of its own, not a CERS user's; the account is "
                    "used for EDT and nothing else."
                ),
            )
            self.fields["account_username"] = forms.CharField(
                label="New EDT account: username",
                required=False,
                max_length=60,
                validators=[username_validator],
                help_text="What the agency's system sends in the Authorization header.",
            )
        if ask_vendor:
            self.fields["vendor"] = VendorChoiceField(
                required=False,
                help_text=format_html(
                    "{} In production a vendor may use only the tiers it is authorized for: see "
                    '<a href="{}">the vendor list</a>.',
                    "Required: the agency has not named its vendor yet."
                    if vendor_required
                    else "Optional: leave blank to keep the agency's current vendor.",
                    reverse("edt_program:vendors"),
                ),
            )
        self.order_fields(
            [
                "authority_confirmed",
                "environments",
                "tiers",
                "terms_accepted",
                "edt_administrators",
                "account_email",
                "account_username",
                "vendor",
            ]
        )

    def clean(self):
        data = super().clean()
        email = data.get("account_email", "").strip()
        username = data.get("account_username", "").strip()
        if email and not username:
            self.add_error("account_username", "Give the new EDT account's username too.")
        if username and not email:
            self.add_error("account_email", "Give the new EDT account's e-mail address too.")
        return data


class AgencyVendorForm(forms.Form):
    """The agency's one vendor, or its own system."""

    vendor = VendorChoiceField()


class DecisionForm(forms.Form):
    """The state administrator's answer for each requested grant of one request: approve,
    decline (with a reason), or leave it for later."""

    CHOICES = [("", "Later"), ("approve", "Approve"), ("decline", "Decline")]

    def __init__(self, *args, grants, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for grant in grants:
            decision = forms.ChoiceField(
                choices=self.CHOICES,
                initial="",
                required=False,
                widget=forms.RadioSelect,
                label=f"Tier {grant.tier} in {grant.environment}",
            )
            reason = forms.CharField(required=False, max_length=1000, label="Reason")
            self.fields[f"decision_{grant.pk}"] = decision
            self.fields[f"reason_{grant.pk}"] = reason
            self.rows.append(grant)

    def bound_rows(self):
        """(grant, decision field, reason field) for the template."""
        return [
            (grant, self[f"decision_{grant.pk}"], self[f"reason_{grant.pk}"]) for grant in self.rows
        ]

    def decisions(self) -> list[tuple[int, bool, str]]:
        """(grant pk, approve, reason) for every grant given an answer."""
        answers = []
        for grant in self.rows:
            choice = self.cleaned_data.get(f"decision_{grant.pk}")
            if choice:
                reason = self.cleaned_data.get(f"reason_{grant.pk}", "")
                answers.append((grant.pk, choice == "approve", reason))
        return answers


class GrantChangeForm(forms.Form):
    """Suspend, reinstate or revoke one grant, with the reason the agency is told."""

    action = forms.ChoiceField(
        choices=[("suspend", "Suspend"), ("reinstate", "Reinstate"), ("revoke", "Revoke")]
    )
    reason = forms.CharField(max_length=1000, required=False)
    # Suspending and revoking stop an agency's system: the first post shows what will change
    # and asks again; the confirmation page's button posts this.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TokenForm(forms.Form):
    """A new API token for an EDT account."""

    name = forms.CharField(max_length=100, required=False, help_text="E.g. the system using it.")
    expires_on = forms.DateField(
        label="Expires on", widget=DATE, help_text="At most a year from today."
    )
    environments = _environment_field(label="Environments")

    def __init__(self, *args, regulator: Regulator, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tiers"] = _tier_field(tiers_for(regulator), regulator, label="Tiers")

    def expires_at(self) -> datetime.datetime:
        """The end of the chosen day, in the site's time zone: its last second to its end."""
        day = self.cleaned_data["expires_on"]
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


class VendorForm(forms.Form):
    """Register a data services vendor."""

    name = forms.CharField(max_length=200)
    contact_name = forms.CharField(max_length=200, required=False)
    contact_email = forms.EmailField(required=False)
    website = forms.URLField(required=False, assume_scheme="https")


class VendorTiersForm(forms.Form):
    """The tiers a vendor is authorized for in production."""

    tiers = forms.TypedMultipleChoiceField(
        choices=Tier.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Authorized tiers",
    )


class AnnouncementForm(forms.Form):
    """An announcement to the implementers' list."""

    subject = forms.CharField(max_length=200)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 10}))


class SubscriberForm(forms.Form):
    """A vendor contact the state administrator adds to the implementers' list."""

    email = forms.EmailField()
    name = forms.CharField(max_length=200, required=False)
    vendor = forms.ModelChoiceField(queryset=Vendor.objects.all(), required=False)


class SubscribeForm(forms.Form):
    """Anyone asks to receive the implementers' list's announcements."""

    email = forms.EmailField(label="E-mail address")
    name = forms.CharField(max_length=200, required=False, label="Name (optional)")
