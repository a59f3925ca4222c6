"""Rate limits on the EDT services for calls nobody vouches for, kept in the cache (Redis in
production, so every web process counts together), per client address
(``core.net.client_address``, as the portal's sign-in lock-out counts: behind trusted proxies,
the client's own address).

- ``OpenEndpointThrottle`` (scope ``edt_anonymous``): calls to the endpoints that need no
  credentials (Regulator Listing, Endpoint Metadata).
- ``FailedCallThrottle`` (scope ``edt_failed``): calls whose credentials were refused (a
  missing, unknown or wrong header, or no grant). It is checked before any credential is, and
  only refusals count, so a client guessing secrets is stopped while a working client never
  notices it.

Both answer 429 with ``Retry-After``; the first refusal of a burst is written to the
transaction log, the rest are not (``EndpointView.throttled``). A cache that is down lets the
call through (logged): the broker and the cache are not dependencies of an EDT call's
correctness, and a refused secret is still refused, only not counted. Rates come from
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``EDT_THROTTLE_ANONYMOUS``,
``EDT_THROTTLE_FAILED``), read on every call so that a changed setting applies at once; an
empty rate turns the throttle off.
"""

from __future__ import annotations

import logging

import redis.exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.net import client_address
from core.tasks import BROKER_ERRORS

log = logging.getLogger(__name__)
CACHE_ERRORS = (*BROKER_ERRORS, redis.exceptions.RedisError)


class _EdtThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or None

    def get_ident(self, request) -> str:
        return client_address(request) or "unknown"

    def allow_request(self, request, view) -> bool:
        try:
            return self.allow(request, view)
        except CACHE_ERRORS as error:
            log.warning("EDT throttle %s not checked, the cache is down: %s", self.scope, error)
            return True

    def allow(self, request, view) -> bool:
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class OpenEndpointThrottle(_EdtThrottle):
    """Every call to an endpoint without a tier counts."""

    scope = "edt_anonymous"

    def get_cache_key(self, request, view):
        if view.endpoint.tier is not None:
            return None
        return super().get_cache_key(request, view)


class FailedCallThrottle(_EdtThrottle):
    """Refuses a client while its refused calls within the period reach the rate; a call only
    counts once ``record_failure`` says it failed."""

    scope = "edt_failed"

    def allow(self, request, view) -> bool:
        if self.rate is None or view.endpoint.tier is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) < self.num_requests or self.throttle_failure()

    def record_failure(self, request, view) -> None:
        if self.rate is None:
            return
        key = self.get_cache_key(request, view)
        now = self.timer()
        try:
            history = [t for t in self.cache.get(key, []) if t > now - self.duration]
            history.insert(0, now)
            self.cache.set(key, history, self.duration)
        except CACHE_ERRORS as error:
            log.warning("EDT refused call not counted, the cache is down: %s", error)
