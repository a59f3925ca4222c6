"""Every write to accounts: sign-up, activation, the password-reset request, a signed-in
person's own name, phone, title, password and e-mail address, and their acceptance of a
portal's user agreement.

Sign-up and the reset request never tell the person at the keyboard whether an account has
the address: both answer the same page and do the same work on every path (check the
password, render and queue one e-mail, write one audit event where a user exists), and what
happened goes by e-mail to the address, whose owner alone reads it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from core.keys import as_key
from core.services import queue_email, record_event, snapshot

from . import hooks
from .agreements import agreement_for
from .models import AgreementAcceptance, User
from .tokens import activation_tokens, email_change_tokens, password_reset_tokens


def activation_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = activation_tokens.make_token(user)
    return settings.SITE_URL + reverse("accounts:activate", args=[uid, token])


def password_reset_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = password_reset_tokens.make_token(user)
    return settings.SITE_URL + reverse("accounts:password_reset_confirm", args=[uid, token])


def link_hours(seconds: int) -> int:
    return max(1, seconds // 3600)


def _queue_activation(user: User) -> None:
    queue_email(
        [user.email],
        "accounts/email/activation",
        {
            "user": user,
            "url": activation_url(user),
            "valid_hours": link_hours(settings.CERS_ACTIVATION_TIMEOUT),
        },
        secret=("url",),
    )


@transaction.atomic(durable=True)
def register_user(
    *, email: str, password: str, first_name: str, last_name: str, phone: str = "", title: str = ""
) -> User | None:
    """Create an inactive account and send the activation link to its e-mail address.

    When the address already has an account, nothing is created and its owner is told by
    e-mail instead (an account not yet active gets its activation link again); the caller
    answers the same either way. Returns the new user, or None.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    existing = User.objects.filter(email__iexact=email).first()
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
    # Hashed on both paths, so an existing address answers in the same time.
    user.set_password(password)
    if existing is None:
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # The same address signed up at the same moment (a double click, two tabs): the
            # other request made the account, and this one answers as for any existing one.
            existing = User.objects.get(email__iexact=email)
    if existing is not None:
        _tell_existing_owner(existing)
        return None
    record_event(user, "account.registered", user, after={"email": email})
    _queue_activation(user)
    return user


def _tell_existing_owner(user: User) -> None:
    """Someone signed up with an address that has an account: tell its owner, and nobody
    else. An account never activated gets its link again; a service account, which has no
    portal sign-in, is only told."""
    record_event(None, "account.signup_repeated", user)
    if user.awaits_activation and not user.is_service_account and user.has_usable_password():
        _queue_activation(user)
        return
    queue_email(
        [user.email],
        "accounts/email/signup_existing",
        {
            "user": user,
            "login_url": settings.SITE_URL + reverse("accounts:login"),
            "reset_url": settings.SITE_URL + reverse("accounts:password_reset"),
        },
    )


def user_from_activation(uidb64: str, token: str) -> User | None:
    """The inactive user an activation link names, if the link is valid: an activation token
    (never a reset token), not expired, and not used (an account once active, even if disabled
    since, has spent its link)."""
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        user = User.objects.get(pk=pk, is_service_account=False)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    if not user.awaits_activation or not activation_tokens.check_token(user, token):
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
    user.is_active = True
    user.save(update_fields=["is_active"])
    record_event(user, "account.activated", user)
    return user


@transaction.atomic(durable=True)
def resend_activation(*, email: str) -> bool:
    """Send a new activation link to an account waiting for it (never active: a disabled
    account is not activated again by its owner).

    Says nothing to the caller about whether such an account exists (the page shows the same
    message either way); returns True when a link was queued, for tests and logs.
    """
    user = User.objects.filter(
        email__iexact=email.strip(),
        is_active=False,
        activated_at__isnull=True,
        is_service_account=False,
    ).first()
    if user is None or not user.has_usable_password():
        return False
    record_event(user, "account.activation_resent", user)
    _queue_activation(user)
    return True


def password_reset_user(email: str) -> User | None:
    """The account a reset link may be sent for: active, a portal user, with a password."""
    user = User.objects.filter(
        email__iexact=email.strip(), is_active=True, is_service_account=False
    ).first()
    if user is None or not user.has_usable_password():
        return None
    return user


@transaction.atomic(durable=True)
def request_password_reset(*, email: str) -> bool:
    """E-mail a reset link to the account with ``email``; with no such account, e-mail the
    address that no reset is possible (and how to sign up or activate instead).

    One e-mail either way, so the page that follows is the same and the outbox cannot tell
    either; returns True when a link was queued, for tests and logs.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    user = password_reset_user(email)
    if user is None:
        queue_email(
            [email],
            "accounts/email/password_reset_unavailable",
            {
                "email": email,
                "signup_url": settings.SITE_URL + reverse("accounts:signup"),
                "resend_url": settings.SITE_URL + reverse("accounts:activation_resend"),
            },
        )
        return False
    queue_email(
        [user.email],
        "accounts/email/password_reset",
        {
            "user": user,
            "url": password_reset_url(user),
            "valid_hours": link_hours(settings.PASSWORD_RESET_TIMEOUT),
        },
        secret=("url",),
    )
    return True


PROFILE_FIELDS = ("first_name", "last_name", "phone", "title")


@transaction.atomic(durable=True)
def update_profile(
    *, actor: User, first_name: str, last_name: str, phone: str = "", title: str = ""
) -> User:
    """A person corrects their own name, phone and job title (what Lead Users and agencies
    see of them). The e-mail address, the account's name, changes through
    ``request_email_change`` and the link it sends."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    values = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "phone": phone.strip(),
        "title": title.strip(),
    }
    missing = {
        name: f"Enter your {label}."
        for name, label in (("first_name", "first name"), ("last_name", "last name"))
        if not values[name]
    }
    if missing:
        raise ValidationError(missing)
    before = snapshot(user, PROFILE_FIELDS)
    for name, value in values.items():
        setattr(user, name, value)
    after = snapshot(user, PROFILE_FIELDS)
    if after == before:
        return user
    user.save(update_fields=list(PROFILE_FIELDS))
    record_event(user, "account.profile_changed", user, before=before, after=after)
    return user


# The answer to a wrong current password, wherever a change asks for it.
MISTYPED_CURRENT = "This is not your current password. Enter it as you sign in."


@transaction.atomic(durable=True)
def change_password(*, actor: User, current_password: str, new_password: str) -> User:
    """A signed-in person changes their password: the current one must be right and the new
    one pass the validators. The account's address is told by e-mail, so that an owner who did
    not do it learns at once (and is pointed to the reset page)."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.is_service_account or not user.check_password(current_password):
        raise ValidationError({"current_password": MISTYPED_CURRENT})
    if new_password == current_password:
        raise ValidationError(
            {"new_password1": "The new password is the same as the current one: choose another."}
        )
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record_event(user, "account.password_changed", user)
    queue_email(
        [user.email],
        "accounts/email/password_changed",
        {
            "user": user,
            "reset_url": settings.SITE_URL + reverse("accounts:password_reset"),
        },
    )
    return user


def address_in_use(email: str, *, besides: User | None = None) -> bool:
    """Whether an account (other than ``besides``) signs in with ``email``, compared without
    regard to case as sign-up and sign-in compare it."""
    accounts = User.objects.filter(email__iexact=email)
    if besides is not None:
        accounts = accounts.exclude(pk=besides.pk)
    return accounts.exists()


def email_change_url(user: User, new_email: str) -> str:
    args = [
        urlsafe_base64_encode(force_bytes(user.pk)),
        urlsafe_base64_encode(force_bytes(new_email)),
        email_change_tokens.make_token(user, new_email),
    ]
    return settings.SITE_URL + reverse("accounts:email_change_confirm", args=args)


@transaction.atomic(durable=True)
def request_email_change(*, actor: User, new_email: str, current_password: str) -> bool:
    """A signed-in person asks to sign in with another e-mail address, knowing their password.

    Nothing changes yet: the new address is sent a link (``confirm_email_change``) and the
    current one a notice that the change was asked, with no link that changes anything. An
    address another account has is refused as sign-up refuses it, without saying so here: that
    address is told instead (no link), and the work is the same on both paths. Returns
    whether a link was sent, for tests and logs.
    """
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.is_service_account or not user.check_password(current_password):
        raise ValidationError({"current_password": MISTYPED_CURRENT})
    new_email = User.objects.normalize_email(new_email.strip()).lower()
    try:
        validate_email(new_email)
        if len(new_email) > User._meta.get_field("email").max_length:
            raise ValidationError("too long")
    except ValidationError:
        raise ValidationError(
            {"email": "Enter a valid e-mail address, such as name@example.com."}
        ) from None
    if new_email == user.email.lower():
        raise ValidationError(
            {"email": f"{new_email} is already your e-mail address: enter the new one."}
        )
    in_use = address_in_use(new_email, besides=user)
    record_event(
        user,
        "account.email_change_requested",
        user,
        after={"email": new_email, **({"address_in_use": True} if in_use else {})},
    )
    valid_hours = link_hours(settings.CERS_EMAIL_CHANGE_TIMEOUT)
    queue_email(
        [user.email],
        "accounts/email/email_change_requested",
        {
            "user": user,
            "new_email": new_email,
            "valid_hours": valid_hours,
            "password_url": settings.SITE_URL + reverse("accounts:password_change"),
            "reset_url": settings.SITE_URL + reverse("accounts:password_reset"),
        },
    )
    if in_use:
        queue_email(
            [new_email],
            "accounts/email/email_change_in_use",
            {"new_email": new_email, "login_url": settings.SITE_URL + reverse("accounts:login")},
        )
        return False
    queue_email(
        [new_email],
        "accounts/email/email_change_confirm",
        {
            "user": user,
            "new_email": new_email,
            "url": email_change_url(user, new_email),
            "valid_hours": valid_hours,
        },
        secret=("url",),
    )
    return True


EMAIL_CHANGE_LINK_NOT_VALID = (
    "This link to confirm a new e-mail address is not valid: it may be incomplete, expired or "
    "already used, or the account's address or password changed since it was sent. Nothing "
    "was changed."
)
EMAIL_CHANGE_OTHER_ACCOUNT = (
    "This link confirms a new e-mail address for another account than the one signed in here. "
    "Nothing was changed. Sign out, then open the link again (or sign in to that account)."
)


def email_change_from_link(
    link: tuple[str, str, str], *, actor: User | None = None, lock: bool = False
) -> tuple[User, str]:
    """The account and the new address a confirmation link names, when the link is valid: an
    e-mail change token (of no other kind), not expired, for the account's current address and
    password, of an active portal account. ``ValidationError`` otherwise; ``PermissionDenied``
    when someone else is signed in (asked after the link is found valid, so a signed-in
    stranger learns nothing of an invalid one). ``lock`` locks the account's row."""
    uidb64, emailb64, token = link
    try:
        pk = as_key(urlsafe_base64_decode(uidb64).decode())
        new_email = urlsafe_base64_decode(emailb64).decode()
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError(EMAIL_CHANGE_LINK_NOT_VALID, code="invalid") from None
    accounts = User.objects.select_for_update() if lock else User.objects
    user = (
        accounts.filter(pk=pk, is_active=True, is_service_account=False).first()
        if pk is not None
        else None
    )
    if user is None or not email_change_tokens.check_token(user, token, new_email):
        raise ValidationError(EMAIL_CHANGE_LINK_NOT_VALID, code="invalid")
    if actor is not None and actor.is_authenticated and actor.pk != user.pk:
        raise PermissionDenied(EMAIL_CHANGE_OTHER_ACCOUNT)
    return user, new_email.strip().lower()


def _address_taken(new_email: str) -> ValidationError:
    return ValidationError(
        f"{new_email} now has a CERS account of its own, made after you asked for the change, "
        "so your address was not changed. Ask again with another address, or sign in to that "
        "account.",
        code="address_in_use",
    )


@transaction.atomic(durable=True)
def confirm_email_change(*, actor: User | None, link: tuple[str, str, str]) -> User:
    """The owner of the new address followed the link: the account signs in with it from now
    on. ``actor`` is whoever is signed in (None or anonymous when nobody is): only the account
    itself, or nobody. Another account may have taken the address since the link was sent:
    refused, with a message (the unique constraint settles a race between the two)."""
    user, new_email = email_change_from_link(link, actor=actor, lock=True)
    if address_in_use(new_email, besides=user):
        raise _address_taken(new_email)
    old_email = user.email
    user.email = new_email
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError:
        user.email = old_email
        raise _address_taken(new_email) from None
    record_event(
        user, "account.email_changed", user, before={"email": old_email}, after={"email": new_email}
    )
    for follow in hooks.email_changed:
        follow(user, old_email, new_email)
    queue_email(
        [old_email],
        "accounts/email/email_changed",
        {"user": user, "old_email": old_email, "new_email": new_email},
    )
    return user


@transaction.atomic(durable=True)
def accept_agreement(*, actor: User, portal: str, version: str) -> AgreementAcceptance:
    """A signed-in person accepts ``version`` of ``portal``'s user agreement, which must be
    its current one: the version they read, so an agreement changed meanwhile is refused
    (they read the new one first). Accepting a version again keeps its first acceptance."""
    try:
        agreement = agreement_for(portal)
    except LookupError:
        raise ValidationError("There is no such user agreement.") from None
    if actor.is_service_account or not actor.is_active:
        raise PermissionDenied("Only a person signed in to a portal accepts its user agreement.")
    if version != agreement.version:
        raise ValidationError(
            {
                "accept": (
                    f"The {agreement.title.lower()} has changed since you opened it: read "
                    f"version {agreement.version} and accept it again."
                )
            }
        )
    acceptance, created = AgreementAcceptance.objects.get_or_create(
        user=actor, portal=agreement.portal, version=version
    )
    if created:
        record_event(
            actor,
            "account.agreement_accepted",
            acceptance,
            after={"portal": agreement.portal, "version": version},
        )
    return acceptance


def note_sign_in(sender, user, **kwargs) -> None:
    """Receiver of ``user_logged_in`` in place of Django's ``update_last_login``: the last
    sign-in becomes the previous one (CERS keeps both, and the account page shows it, so that
    a sign-in the person did not make stands out), and this one is stamped. Bookkeeping of two
    columns in one statement, as Django's own is; no audit event, as Django writes none."""
    user.previous_login = user.last_login
    user.last_login = timezone.now()
    User.objects.filter(pk=user.pk).update(
        previous_login=user.previous_login, last_login=user.last_login
    )
