"""Account forms: sign-up, sign-in by e-mail address, the password-reset request, a person's
own details, password and e-mail address, and the admin's user forms.

The forms validate input; every write goes through ``accounts.services`` (sign-up, the reset
request) or Django's own set-password form, and every e-mail goes through the outbox.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import (
    AdminUserCreationForm,
    AuthenticationForm,
    UserChangeForm,
    UsernameField,
)
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from .models import User

DUPLICATE_EMAIL = "An account with this e-mail address already exists."


def new_password_field(label: str) -> forms.CharField:
    """A new password, with the validators' rules as its help."""
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )


def confirmation_field(label: str) -> forms.CharField:
    """The new password typed again (``confirmed`` compares them)."""
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Enter the same password again.",
    )


def confirmed(cleaned_data: dict, first: str, second: str) -> str:
    """The confirmation field's value, when it matches the new password."""
    password1, password2 = cleaned_data.get(first), cleaned_data[second]
    if password1 and password1 != password2:
        raise ValidationError("The two passwords do not match.", code="password_mismatch")
    return password2


def normalize_email(value: str) -> str:
    """The form in which e-mail addresses are stored: trimmed, lower case."""
    return User.objects.normalize_email(value.strip()).lower()


class PersonForm(forms.Form):
    """What a person tells of themselves: their name, phone and job title (sign-up and their
    own account page)."""

    first_name = forms.CharField(
        label="First name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = forms.CharField(
        label="Phone (optional)",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    title = forms.CharField(
        label="Job title (optional)",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )


class SignupForm(PersonForm):
    """Sign-up. ``accounts.services.register_user`` checks the password against the
    validators (its errors are keyed by this form's field names) and deals with an address
    that already has an account without saying so."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text="We send a link to this address; your account works once you open it.",
    )
    field_order = ["email", "first_name", "last_name", "phone", "title"]
    password1 = new_password_field("Password")
    password2 = confirmation_field("Confirm password")

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])

    def clean_password2(self) -> str:
        return confirmed(self.cleaned_data, "password1", "password2")

    def registration(self) -> dict[str, str]:
        """The keyword arguments for ``register_user``."""
        data = self.cleaned_data
        return {
            "email": data["email"],
            "password": data["password1"],
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "phone": data["phone"],
            "title": data["title"],
        }


class EmailAuthenticationForm(AuthenticationForm):
    """Sign-in with an e-mail address.

    The portal backend refuses inactive users (waiting for activation, or disabled) and EDT
    service accounts as if the password were wrong. To tell such a person why, the password
    is checked once more, and only when it is right does the message name the reason;
    otherwise (and for an address with no account, at the same cost) the answer is the same
    generic refusal, so it never shows which addresses have accounts.
    """

    username = UsernameField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": "The e-mail address or the password is not correct.",
        "inactive": (
            "This account is not active yet: confirm your e-mail address first, with the link "
            "we sent when you signed up."
        ),
        "disabled": (
            "This account is disabled: it cannot sign in. Contact the help desk if it should be "
            "enabled again."
        ),
        "service_account": (
            "This is an EDT service account. EDT service accounts cannot sign in to the portals."
        ),
    }

    def clean_username(self) -> str:
        # One spelling per address, so django-axes counts failures per address, not per case.
        return normalize_email(self.cleaned_data["username"])

    @sensitive_variables("password")
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password:
            self.user_cache = authenticate(self.request, username=username, password=password)
            if self.user_cache is None:
                raise self.refusal(username, password)
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    @sensitive_variables("password")
    def refusal(self, username: str, password: str) -> ValidationError:
        """Why a sign-in was refused, told only to someone who knows the password."""
        if getattr(self.request, "axes_locked_out", False):
            # The pair (address, IP) is locked out; django-axes answers with its own page.
            return self.get_invalid_login_error()
        user = User.objects.filter(email__iexact=username).first()
        if user is None:
            # Spend the same time as a password check, as the backend does.
            User().set_password(password)
            return self.get_invalid_login_error()
        if not user.check_password(password):
            return self.get_invalid_login_error()
        if user.is_service_account:
            return ValidationError(self.error_messages["service_account"], code="service_account")
        if user.awaits_activation:
            return ValidationError(self.error_messages["inactive"], code="inactive")
        if not user.is_active:
            return ValidationError(self.error_messages["disabled"], code="disabled")
        return self.get_invalid_login_error()

    def confirm_login_allowed(self, user) -> None:
        # The backend already refuses both; this guards against a backend that does not.
        if user.is_service_account:
            raise ValidationError(self.error_messages["service_account"], code="service_account")
        super().confirm_login_allowed(user)


class PasswordResetRequestForm(forms.Form):
    """Ask for a password-reset link. The view hands the address to
    ``accounts.services.request_password_reset``, which e-mails it either way."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class ProfileForm(PersonForm):
    """A person's own name, phone and job title; ``accounts.services.update_profile`` writes
    them (and refuses an empty name)."""


class PasswordChangeForm(forms.Form):
    """Change one's password while signed in. ``accounts.services.change_password`` checks
    the current password and the validators (its errors are keyed by these field names)."""

    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = new_password_field("New password")
    new_password2 = confirmation_field("Confirm the new password")

    def clean_new_password2(self) -> str:
        return confirmed(self.cleaned_data, "new_password1", "new_password2")


class EmailChangeForm(forms.Form):
    """Ask to sign in with another e-mail address. ``accounts.services.request_email_change``
    checks the current password, refuses the address already the account's, and deals with an
    address another account has without saying so (its errors are keyed by these names)."""

    email = forms.EmailField(
        label="New e-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text="We send a link to this address; your address changes when you open it.",
    )
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class AdminUserAddForm(AdminUserCreationForm):
    """The admin's "add user" form for the e-mail-keyed user."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(DUPLICATE_EMAIL, code="unique")
        return email


class AdminUserChangeForm(UserChangeForm):
    """The admin's user form for the e-mail-keyed user."""

    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        others = User.objects.exclude(pk=self.instance.pk)
        if others.filter(email__iexact=email).exists():
            raise ValidationError(DUPLICATE_EMAIL, code="unique")
        return email


class AgreementForm(forms.Form):
    """The box a person ticks to accept a portal's user agreement (``agreement``). The version
    they read is posted beside it by the page, and ``accounts.services.accept_agreement``
    checks it is still the current one."""

    accept = forms.BooleanField(
        error_messages={
            "required": (
                "Tick the box to accept the agreement, or choose “Decline” to leave the "
                "portal closed for now."
            )
        },
    )

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accept"].label = (
            f"I have read the {agreement.title.lower()}, version {agreement.version}, "
            "and I accept it."
        )
