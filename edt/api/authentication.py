"""EDT credentials as Django REST framework authentication and permission classes.

The two authentication classes say who a call comes from: ``LegacyHeaderAuthentication`` reads
CalEPA's ``Authorization: user NAME:BASE64(SHA1(secret))``, ``BearerTokenAuthentication`` an
API token. Each answers only for its own scheme, so a call without a header (or with another
scheme) reaches ``TierPermission`` unauthenticated, and the permission gives it CalEPA's result
code (9, missing; 7, not understood). ``TierPermission`` then checks the agency, the token's
scope and an approved grant for the endpoint's tier in the URL's environment, on every call.

Every refusal is an ``EdtAuthenticationFailed`` carrying the outcome, so the view answers 401
with CalEPA's authentication result code in the body and in ``X-CERS-Authentication-Result``
whichever check refused.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from ..credentials import Authentication, AuthResult, authorize, identify

REALM = 'realm="CERS EDT"'


class EdtAuthenticationFailed(exceptions.AuthenticationFailed):
    """Credentials the service refuses, with the outcome that says why (CalEPA's code)."""

    def __init__(self, outcome: Authentication):
        self.outcome = outcome
        super().__init__(f"{int(outcome.result)} {AuthResult(outcome.result).label}")


class _SchemeAuthentication(BaseAuthentication):
    """Identifies the account behind one ``Authorization`` scheme; other schemes pass on."""

    scheme = ""

    def authenticate(self, request):
        header = request.headers.get("Authorization") or ""
        if header.strip().partition(" ")[0].lower() != self.scheme.lower():
            return None
        outcome = identify(header)
        if not outcome.ok:
            raise EdtAuthenticationFailed(outcome)
        return outcome.account.user, outcome

    def authenticate_header(self, request) -> str:
        return f"{self.scheme} {REALM}"


class LegacyHeaderAuthentication(_SchemeAuthentication):
    """CalEPA's ``Authorization: user NAME:BASE64(SHA1(secret))``."""

    scheme = "user"


class BearerTokenAuthentication(_SchemeAuthentication):
    """``Authorization: Bearer TOKEN``: a named API token, scoped to environments and tiers."""

    scheme = "Bearer"


def challenge() -> str:
    """The ``WWW-Authenticate`` value of a 401: both schemes the service takes."""
    return ", ".join(
        cls().authenticate_header(None)
        for cls in (LegacyHeaderAuthentication, BearerTokenAuthentication)
    )


class TierPermission(BasePermission):
    """The call's account may use the endpoint's tier in this environment, for the agency in
    ``regulatorCode`` (the account's own agency for endpoints without one). Open endpoints
    (no tier) need nothing. The outcome is left on the view (``view.authorized``) for the
    transaction log."""

    def has_permission(self, request, view) -> bool:
        endpoint = view.endpoint
        if endpoint.tier is None:
            return True
        identified = request.auth
        if not isinstance(identified, Authentication):
            identified = identify(request.headers.get("Authorization"))
        outcome = authorize(
            identified,
            environment=view.call.environment,
            tier=endpoint.tier,
            regulator_code=view.call.param("regulatorCode") if endpoint.needs_regulator else None,
        )
        if not outcome.ok:
            raise EdtAuthenticationFailed(outcome)
        view.authorized = outcome
        return True


class LegacyHeaderScheme(OpenApiAuthenticationExtension):
    target_class = LegacyHeaderAuthentication
    name = "legacy"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "user NAME:BASE64(SHA1(secret))",
        }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
