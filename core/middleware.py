"""Middleware of the site's own: what every response of a signed-in person carries."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers

from .scoping import close_grants_cache, open_grants_cache


class NoStoreWhenSignedInMiddleware:
    """Pages shown to a signed-in person hold personal or regulatory data: no browser or
    proxy may keep a copy (``Cache-Control: no-store``), so the back button on a shared
    computer after signing out shows nothing, and no shared cache serves one person's page to
    another. The same for any request that carries credentials (the EDT services'
    ``Authorization`` header): what it answers is some agency's data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or "authorization" in request.headers:
            add_never_cache_headers(response)
        return response


class ScopeCacheMiddleware:
    """Each request reads a user's object permissions once (``core.scoping.grants``) and
    forgets them when it ends: two requests never share what one of them read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = open_grants_cache()
        try:
            return self.get_response(request)
        finally:
            close_grants_cache(token)
