"""The sign-in lock-out: django-axes's database handler with a limit for each way of counting.

``AXES_LOCKOUT_PARAMETERS`` counts failures three ways: per (e-mail address, client address),
per client address across accounts, per account across addresses. django-axes compares the
largest of the three counts with one limit; here each count has its own limit:

- the pair, ``AXES_FAILURE_LIMIT`` (5): someone who mistypes their password;
- the client address, ``CERS_SIGNIN_FAILURES_PER_ADDRESS`` (20): one client trying a few
  common passwords on many accounts (password spraying);
- the account, ``CERS_SIGNIN_FAILURES_PER_ACCOUNT`` (50): many clients guessing one account's
  password. Every address adds at most the pair's limit, so one client alone never locks an
  account out for everyone (``cers.settings`` refuses an account limit at or below it).

The client address is ``core.net.client_address`` (``AXES_CLIENT_IP_CALLABLE``), so behind
trusted proxies each client is counted on its own, not everyone as the proxy.

A successful sign-in clears only the failures of its own pair: clearing every failure of the
address would let a sprayer reset its count by signing in to an account of its own, and
clearing every failure of the account would reset the count of those guessing it elsewhere.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def _limit(parameter, pair_limit: int) -> int:
    if parameter == "ip_address":
        return settings.CERS_SIGNIN_FAILURES_PER_ADDRESS
    if parameter == "username":
        return settings.CERS_SIGNIN_FAILURES_PER_ACCOUNT
    return pair_limit


class SignInLockout(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The failures django-axes compares with ``AXES_FAILURE_LIMIT``: at least that limit
        once any count reaches its own limit, else the pair's count (below it)."""
        pair_limit = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        if any(
            count >= _limit(parameter, pair_limit)
            for parameter, count in zip(parameters, counts, strict=True)
        ):
            return max(pair_limit, *counts)
        pair = [c for p, c in zip(parameters, counts, strict=True) if not isinstance(p, str)]
        return min(max(pair, default=0), pair_limit - 1)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """On success: forget the failures of this (e-mail address, client address) only."""
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return count
