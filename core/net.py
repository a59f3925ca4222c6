"""The client's address: the one definition every throttle, lock-out and log uses.

Behind reverse proxies ``REMOTE_ADDR`` is the nearest proxy, the same for every client, so
counting failures by it would let one client lock out everyone behind the proxy. The client's
own address is then in ``X-Forwarded-For``, where each proxy appends the address it received
the request from. Only the entries the trusted proxies appended can be believed: anything to
their left is whatever the client sent. With ``CERS_TRUSTED_PROXIES`` = N (the number of
proxies every request passes through), the client is the N-th entry from the right; with 0
(the default, no proxy), ``X-Forwarded-For`` is ignored and ``REMOTE_ADDR`` is the client.

django-axes (``AXES_CLIENT_IP_CALLABLE``), the EDT throttles and the EDT transaction log
all call ``client_address``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _address(text: str) -> str | None:
    """``text`` as a normalized IP address, without a port a proxy may have added; None when it
    is not an address."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [IPv6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4:port
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def forwarded_for(request, proxies: int) -> str | None:
    """The address the outermost of ``proxies`` trusted proxies received the request from, read
    from ``X-Forwarded-For`` (None without a usable entry)."""
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        return None
    # Fewer entries than proxies: the request came in past the outer proxies, and the leftmost
    # entry is the earliest any proxy wrote (Django REST framework's NUM_PROXIES reads it so).
    return _address(hops[-min(proxies, len(hops))])


def client_address(request) -> str | None:
    """The address of the client that sent ``request`` (None when unknown)."""
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.CERS_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = forwarded_for(request, proxies)
        if forwarded is not None:
            return forwarded
    return _address(remote) or remote or None
