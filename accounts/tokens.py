"""The tokens of e-mailed account links, one kind per purpose.

Each kind signs with its own salt (so HMAC derives its own key from ``SECRET_KEY``) and has its
own lifetime, so an activation token never opens the set-password form and a reset token never
activates an account. Each hashes state that the link's use changes, so each works once:
activation hashes ``is_active``, reset the password hash (as Django's own reset token does),
the change of e-mail address the current address (and the new one the link carries).
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class PurposeTokenGenerator(PasswordResetTokenGenerator):
    """Django's timestamped, state-hashing token, with a salt and a lifetime of its own.

    ``timeout_setting`` names the setting holding the lifetime in seconds; it is read at each
    check, so a changed setting applies to tokens already sent.
    """

    def __init__(self, purpose: str, timeout_setting: str):
        super().__init__()
        self.key_salt = f"cers.accounts.tokens.{purpose}"
        self.timeout_setting = timeout_setting

    @property
    def timeout(self) -> int:
        return getattr(settings, self.timeout_setting)

    def check_token(self, user, token) -> bool:
        # Django's check_token, with this kind's lifetime instead of PASSWORD_RESET_TIMEOUT.
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= self.timeout


class ActivationTokenGenerator(PurposeTokenGenerator):
    """Activation: hashes ``is_active`` too, so the link stops working once it is used."""

    def _make_hash_value(self, user, timestamp) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


activation_tokens = ActivationTokenGenerator("activation", "CERS_ACTIVATION_TIMEOUT")
password_reset_tokens = PurposeTokenGenerator("password-reset", "PASSWORD_RESET_TIMEOUT")


class _Change(NamedTuple):
    user: object
    new_email: str


class EmailChangeTokenGenerator(PurposeTokenGenerator):
    """A change of e-mail address: bound to the user, the new address the link carries and
    the account's current address, so it works once (the current address is no longer the
    same once it is used) and every other link asked before it stops working too. It hashes
    the password hash as well, so a new password (an owner taking their account back) ends
    every pending change; but not the last sign-in, unlike Django's reset token, as the person
    may well sign in on the device that reads the new address's mail before following it."""

    def make_token(self, user, new_email: str) -> str:  # type: ignore[override]
        return super().make_token(_Change(user, new_email))

    def check_token(self, user, token, new_email: str = "") -> bool:  # type: ignore[override]
        if not (user and new_email):
            return False
        return super().check_token(_Change(user, new_email), token)

    def _make_hash_value(self, change, timestamp) -> str:
        user = change.user
        return (
            f"{user.pk}{user.password}{timestamp}{user.email.lower()}"
            f"\x00{change.new_email.strip().lower()}"
        )


email_change_tokens = EmailChangeTokenGenerator("email-change", "CERS_EMAIL_CHANGE_TIMEOUT")
