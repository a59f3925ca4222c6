"""The access matrix: for every named URL, the status each persona gets.

A new route fails ``test_every_route_is_in_the_matrix`` until its access is declared here.
Each (route, persona) request runs in a savepoint that is rolled back afterwards, so POST
routes can be exercised for every persona against the same cast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PERSONAS = (
    "anonymous",
    "lead",
    "approver",
    "editor",
    "viewer",
    "outsider",
    "cupa_reviewer",
    "pa_viewer",
    "state_admin",
)
BUSINESS_MEMBERS = ("lead", "approver", "editor", "viewer")
NO_ORGANIZATION = ("cupa_reviewer", "pa_viewer", "state_admin")


@dataclass(frozen=True)
class Route:
    """How to call one route and what each persona gets. ``default`` applies to every
    signed-in persona not named in ``statuses``."""

    default: int
    statuses: dict[str, int] = field(default_factory=dict)
    args: Callable | None = None  # cast -> list of URL arguments
    method: str = "get"
    data: Callable | None = None  # cast -> POST data

    def expected(self, persona: str) -> int:
        if persona in self.statuses:
            return self.statuses[persona]
        if persona == "anonymous":
            return 302
        return self.default


def each(personas, status):
    return dict.fromkeys(personas, status)


# Routes outside the product's own pages: the Django admin (staff only; its own login).
EXEMPT_NAMESPACES = {"admin"}

MATRIX: dict[str, Route] = {}


def _route_names(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace
            if namespace in EXEMPT_NAMESPACES:
                continue
            yield from _route_names(
                pattern.url_patterns, f"{prefix}{namespace}:" if namespace else prefix
            )
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{prefix}{pattern.name}"


def test_every_route_is_in_the_matrix():
    routes = set(_route_names(get_resolver().url_patterns))
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"declare these routes' access in MATRIX: {missing}"
    assert not stale, f"these MATRIX rows name no route: {stale}"


def _call(client, name: str, route: Route, cast):
    url = reverse(name, args=route.args(cast) if route.args else [])
    if route.method == "post":
        return client.post(url, route.data(cast) if route.data else {})
    return client.get(url)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access(name, cast, client):
    route = MATRIX[name]
    failures = []
    for persona in PERSONAS:
        client.logout()
        if persona != "anonymous":
            client.force_login(getattr(cast, persona))
        rollback = transaction.atomic()
        rollback._from_testcase = True  # lets durable services run inside this savepoint
        with rollback:
            response = _call(client, name, route, cast)
            transaction.set_rollback(True)
        expected = route.expected(persona)
        if response.status_code != expected:
            failures.append(f"{persona}: got {response.status_code}, expected {expected}")
    assert not failures, f"{name}: " + "; ".join(failures)
