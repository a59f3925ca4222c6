"""Rate limits for the pages anyone can submit over and over: sign-up, password reset, join by
organization code, asking to join the EDT implementers' list, inviting to an organization.
Counted in the cache (Redis in production, so every web process counts together) in fixed
windows: at most N submissions a window per key (the client's address from ``core.net``, a
signed-in user, the e-mail address a form names). Past the limit the page answers 429 with
``Retry-After`` and says when to try again (``templates/rate_limited.html``).

Rates are ``CERS_RATE_LIMITS[scope]``, "N/second", "/minute", "/hour" or "/day" as Django REST
framework writes them (the EDT throttles use the same format); empty turns a limit off. They
are read on every call, so a changed setting applies at once.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone

from .net import client_address
from .tasks import BROKER_ERRORS

log = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str | None) -> Rate | None:
    """``"10/hour"`` -> ``Rate(10, 3600)``; None for an empty rate (no limit)."""
    if not text:
        return None
    count, _, period = text.partition("/")
    try:
        return Rate(int(count), PERIODS[period.strip()[:1].lower()])
    except (ValueError, KeyError):
        raise ValueError(
            f"A rate is N/second, N/minute, N/hour or N/day; {text!r} is not."
        ) from None


def _key(scope: str, ident: str, *parts) -> str:
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
    return ":".join(["cers-rate", scope, digest, *map(str, parts)])


def hit(scope: str, ident: str, rate: Rate, now: float | None = None) -> int | None:
    """Count one hit of ``ident`` against ``rate``; the seconds until it may try again when it
    is over the limit, else None."""
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    retry_after = max(1, math.ceil((window + 1) * rate.seconds - now))
    key = _key(scope, ident, window)
    # add then incr: atomic on Redis, so concurrent web processes never lose a count.
    cache.add(key, 0, rate.seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, rate.seconds + 1)
        count = 1
    return retry_after if count > rate.count else None


def first_in(scope: str, ident: str, seconds: int) -> bool:
    """True for the first call with ``ident`` in the next ``seconds``, False for the rest (to
    record a burst of refusals once)."""
    return cache.add(_key(scope, ident), 1, max(1, math.ceil(seconds)))


# Who a limit counts: each takes the request and answers a key, or None to skip the limit.
Ident = Callable[[object], str | None]


def by_address(request) -> str | None:
    return client_address(request) or "unknown"


def by_user(request) -> str | None:
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else None


def by_field(name: str) -> Ident:
    """The value of a posted field, trimmed and lower-cased (an e-mail address)."""

    def ident(request) -> str | None:
        value = request.POST.get(name, "").strip().lower()
        return f"{name}:{value}" if value else None

    return ident


def rate_limited(what: str, *limits: tuple[str, Ident], methods=("POST",)):
    """Limit a view's ``methods`` by each ``(scope, ident)`` of ``limits``; past any of them the
    view is not called and a 429 page says to try ``what`` again later. Decorate a function
    view, or a class-based view's method with ``method_decorator``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                wait = refusal(request, limits)
                if wait is not None:
                    return too_many(request, what, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def refusal(request, limits) -> int | None:
    """Count the request against each limit; the longest wait among those it passes."""
    waits = []
    for scope, ident in limits:
        rate = parse_rate(settings.CERS_RATE_LIMITS.get(scope))
        key = ident(request) if rate is not None else None
        if key is None:
            continue
        try:
            waits.append(hit(scope, key, rate))
        except BROKER_ERRORS as error:
            # The cache (Redis) is down: the page still works, uncounted, as the EDT
            # throttles do; a lock-out or a limit is not worth refusing everyone.
            log.warning("rate limit %s not checked, the cache is down: %s", scope, error)
    waits = [wait for wait in waits if wait is not None]
    return max(waits) if waits else None


def too_many(request, what: str, wait: int):
    """The 429 page: what was refused and when to try again."""
    response = render(
        request,
        "rate_limited.html",
        {
            "what": what,
            "minutes": max(1, math.ceil(wait / 60)),
            "retry_at": timezone.localtime() + timedelta(seconds=wait),
        },
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response
