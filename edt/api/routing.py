"""EDT paths matched as CalEPA's server matches them.

CalEPA's services run on ASP.NET under IIS, whose routing compares paths without regard to the
case of their letters and takes a path with one trailing slash as the path without it, so
clients written against it call ``/edt/regulator/facility`` or ``.../Facility/``. ``iis_path``
is ``django.urls.path`` with that matching: the EDT URLconf and its two mounts in
``cers/urls.py`` use it, and nothing else of the site does. Only ASCII letters fold (IIS folds
no "ſ" into "s"); what a path captures (a transaction key, a schema's name) is passed on as
written. Reversing a name still gives CalEPA's spelling.
"""

from __future__ import annotations

import re
from functools import partial

from django.urls.conf import _path  # path() and re_path() are this with their Pattern
from django.urls.resolvers import RoutePattern


def _compiled(route: str, is_endpoint: bool) -> re.Pattern:
    regex = RoutePattern(route, is_endpoint=is_endpoint).regex.pattern
    return re.compile(regex, re.IGNORECASE | re.ASCII)


class IisRoutePattern(RoutePattern):
    """A route matched case-insensitively, and with or without one trailing slash: an
    endpoint's path, and a prefix's when nothing follows it (``/EDT`` is ``/EDT/``).
    ``regex`` (which ``reverse`` reads) stays Django's, so names reverse as written."""

    def __init__(self, route, name=None, is_endpoint=False):
        super().__init__(route, name, is_endpoint)
        stem = str(route).removesuffix("/")
        self._iis_regex = _compiled(stem if is_endpoint else str(route), is_endpoint)
        self._bare_prefix = None if is_endpoint or stem == str(route) else _compiled(stem, True)

    def match(self, path):
        if self._is_endpoint:
            path = path.removesuffix("/")
        found = self._iis_regex.search(path)
        if found is None and self._bare_prefix is not None:
            found = self._bare_prefix.search(path)
        if found is None:
            return None
        kwargs = found.groupdict()
        for key, value in kwargs.items():
            try:
                kwargs[key] = self.converters[key].to_python(value)
            except ValueError:
                return None
        return path[found.end() :], (), kwargs


iis_path = partial(_path, Pattern=IisRoutePattern)
