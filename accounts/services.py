"""Every write to accounts: sign-up and activation."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from core.services import queue_email, record_event

from .models import User


def activation_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("accounts:activate", args=[uid, token])


@transaction.atomic(durable=True)
def register_user(
    *, email: str, password: str, first_name: str, last_name: str, phone: str = "", title: str = ""
) -> User:
    """Create an inactive account and send the activation link to its e-mail address."""
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "An account with this e-mail address already exists."})
    user = User(
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=phone.strip(),
        title=title.strip(),
        is_active=False,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password1": exc.messages}) from exc
    user.set_password(password)
    user.save()
    record_event(user, "account.registered", user, after={"email": email})
    queue_email([email], "accounts/email/activation", {"user": user, "url": activation_url(user)})
    return user


def user_from_activation(uidb64: str, token: str) -> User | None:
    """The inactive user an activation link names, if the link is valid."""
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        user = User.objects.get(pk=pk, is_service_account=False)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    if not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic(durable=True)
def activate_user(*, uidb64: str, token: str) -> User:
    """Confirm an e-mail address and activate the account."""
    user = user_from_activation(uidb64, token)
    if user is None:
        raise ValidationError(
            "This activation link is not valid. It may have been used already or have expired."
        )
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        record_event(user, "account.activated", user)
    return user


@transaction.atomic(durable=True)
def resend_activation(*, email: str) -> bool:
    """Send a new activation link to an account that is not active yet.

    Says nothing to the caller about whether such an account exists (the page shows the same
    message either way); returns True when a link was queued, for tests and logs.
    """
    user = User.objects.filter(
        email__iexact=email.strip(), is_active=False, is_service_account=False
    ).first()
    if user is None or not user.has_usable_password():
        return False
    record_event(user, "account.activation_resent", user)
    queue_email(
        [user.email], "accounts/email/activation", {"user": user, "url": activation_url(user)}
    )
    return True
