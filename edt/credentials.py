"""EDT credentials: generating secrets and tokens, storing them, and checking a request.

Clients authenticate in one of two ways:

- CalEPA's legacy header, ``Authorization: user NAME:BASE64(SHA1(secret))``. The secret is
  generated (192 random bits), so the value the client sends is itself unguessable; we store an
  HMAC-SHA256 of it under a server key, checked in microseconds (a slow password hash must not sit
  on the per-request path).
- ``Authorization: Bearer TOKEN``, a named, scoped, expiring API token stored as its SHA-256.

``authenticate`` answers with CalEPA's authentication result codes (a disabled account says
so only to a caller with its right secret: with a wrong one it answers as an unknown name, 3,
so the state of an account is not told to someone guessing) and checks, on every call,
the account (``identify``), the agency code, and an approved grant for the tier in the
environment (``authorize``): nothing is cached, so a revoked grant takes effect on the next
request. The EDT services call the two halves from their DRF authentication and permission
classes (``edt.api.authentication``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .tiers import PA_HIGHEST_TIER

TOKEN_PREFIX = "cers_"  # noqa: S105 - a label, not a secret


class AuthResult(models.IntegerChoices):
    """CalEPA's authentication result codes (``EDTAuthenticationRequestResult``)."""

    AUTHORIZED = 1, "Authenticated and authorized"
    NOT_AUTHORIZED_FOR_REGULATOR = 2, "Authenticated, not authorized for this regulator"
    UNKNOWN_USERNAME = 3, "Unknown username"
    INCORRECT_PASSWORD = 4, "Incorrect password"
    ACCOUNT_DISABLED = 5, "Account disabled"
    ACCOUNT_NOT_ACTIVATED = 6, "Account not activated"
    FAILURE_UNKNOWN = 7, "Authentication failed"
    REGULATOR_NOT_AUTHORIZED = 8, "Regulator not authorized for this EDT tier and environment"
    MISSING_HEADER = 9, "Missing Authorization header"


def generate_secret() -> str:
    """A new EDT account secret: 192 random bits, URL-safe text."""
    return secrets.token_urlsafe(24)


def legacy_value(secret: str) -> str:
    """What CalEPA's clients send for ``secret``: BASE64 of the raw SHA-1 digest of its UTF-8."""
    digest = hashlib.sha1(secret.encode("utf-8"), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")


def legacy_digest(value: str) -> str:
    """The stored form of a legacy header value: a keyed hash, useless without the server key."""
    return salted_hmac(
        "cers.edt.legacy-credential",
        value,
        secret=settings.EDT_CREDENTIAL_KEY or None,
        algorithm="sha256",
    ).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Authentication:
    """The outcome of checking one request's credentials."""

    result: AuthResult
    account: object | None = None  # EdtAccount
    regulator: object | None = None  # Regulator
    token: object | None = None  # ApiToken

    @property
    def ok(self) -> bool:
        return self.result == AuthResult.AUTHORIZED


def _parse(header: str | None):
    """-> ("user", name, value) | ("bearer", token, None) | None for a malformed header (one
    with a NUL character too: no account name or token holds one, and PostgreSQL's text
    cannot, so it is not looked up)."""
    if "\x00" in (header or ""):
        return None
    scheme, _, rest = (header or "").strip().partition(" ")
    rest = rest.strip()
    if scheme.lower() == "user":
        name, sep, value = rest.partition(":")
        if sep and name and value:
            return "user", name.strip(), value.strip()
    elif scheme.lower() == "bearer" and rest:
        return "bearer", rest, None
    return None


def identify(header: str | None) -> Authentication:
    """Who an ``Authorization`` header names, and whether its credentials hold: the result is
    ``AUTHORIZED`` once the account (and token) is known and usable, before any agency, tier
    or environment is looked at (``authorize``)."""
    from .models import ApiToken, EdtAccount

    if not header or not header.strip():
        return Authentication(AuthResult.MISSING_HEADER)
    parsed = _parse(header)
    if parsed is None:
        return Authentication(AuthResult.FAILURE_UNKNOWN)
    kind, name, value = parsed

    token = None
    if kind == "user":
        account = (
            EdtAccount.objects.select_related("user", "regulator")
            .filter(username__iexact=name)
            .first()
        )
        if account is None:
            return Authentication(AuthResult.UNKNOWN_USERNAME)
    else:
        token = (
            ApiToken.objects.select_related("account__user", "account__regulator")
            .filter(token_hash=token_hash(name))
            .first()
        )
        if token is None:
            return Authentication(AuthResult.UNKNOWN_USERNAME)
        account = token.account

    disabled = not account.is_active or not account.user.is_active
    if kind == "user":
        right = account.has_secret and hmac.compare_digest(
            account.legacy_digest, legacy_digest(value)
        )
        if disabled:
            # Only someone who knows the secret learns that the account is disabled; to anyone
            # else it answers as a name no account has (the row still names the account, for
            # its agency's log).
            result = AuthResult.ACCOUNT_DISABLED if right else AuthResult.UNKNOWN_USERNAME
            return Authentication(result, account)
        if not account.has_secret:
            return Authentication(AuthResult.ACCOUNT_NOT_ACTIVATED, account)
        if not right:
            return Authentication(AuthResult.INCORRECT_PASSWORD, account)
    elif disabled:
        # The token was found by its hash: whoever sent it holds the account's credential.
        return Authentication(AuthResult.ACCOUNT_DISABLED, account)
    elif not token.is_usable:
        return Authentication(AuthResult.ACCOUNT_DISABLED, account, token=token)
    return Authentication(AuthResult.AUTHORIZED, account, token=token)


def authorize(
    identified: Authentication,
    *,
    environment: str,
    tier: int,
    regulator_code: str | None = None,
) -> Authentication:
    """Whether an identified account (``identify``) may call a ``tier`` endpoint in
    ``environment`` for the agency ``regulator_code``: checked against the approved grants on
    every call, so a revoked grant stops the next one.

    ``regulator_code`` is the agency the call acts for; when None (library endpoints) the
    account's own agency is used.
    """
    from .models import ApiToken, TierGrant

    if not identified.ok:
        return identified
    account, token = identified.account, identified.token
    regulator = account.regulator
    if regulator_code is not None and str(regulator_code).strip() != regulator.code:
        return Authentication(AuthResult.NOT_AUTHORIZED_FOR_REGULATOR, account, token=token)
    if token is not None and (environment not in token.environments or tier not in token.tiers):
        return Authentication(AuthResult.NOT_AUTHORIZED_FOR_REGULATOR, account, token=token)
    granted = TierGrant.objects.filter(
        regulator=regulator,
        environment=environment,
        tier=tier,
        status=TierGrant.Status.APPROVED,
    ).exists()
    if not granted or (regulator.kind == "pa" and tier > PA_HIGHEST_TIER):
        return Authentication(AuthResult.REGULATOR_NOT_AUTHORIZED, account, regulator, token)
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return Authentication(AuthResult.AUTHORIZED, account, regulator, token)


def authenticate(
    header: str | None,
    *,
    environment: str,
    tier: int,
    regulator_code: str | None = None,
) -> Authentication:
    """Check an ``Authorization`` header for a call to a ``tier`` endpoint in ``environment``:
    ``identify`` then ``authorize``."""
    return authorize(
        identify(header), environment=environment, tier=tier, regulator_code=regulator_code
    )
