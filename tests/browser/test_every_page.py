"""Every page of the access matrix, at both sizes: axe-core finds no WCAG 2.0/2.1 A or AA
violation, the page does not scroll sideways, and the browser refused nothing under the content
security policy (``looks_right``).

Each GET route of ``tests/test_access_matrix.py``'s MATRIX is opened by the first signed-in
persona who gets it (200), and by an anonymous visitor as well when the page is public. A route
whose answer is not a page (a PDF, a CSV, the health check's JSON) is left out. The persona is
signed in by a session cookie made with Django's test client: the sign-in form is covered by
``test_sign_in.py``. One test per size opens every page and lists every page that fails.
"""

from __future__ import annotations

import contextlib

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse

from tests.browser.conftest import VIEWPORTS, Browsing
from tests.test_access_matrix import MATRIX, PERSONAS, Route

# serialized_rollback, as every browser module (conftest.py): the libraries seeded by migrations
# are loaded again before the test.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def visitors(route: Route) -> list[str]:
    """Who opens the page: the first signed-in persona who gets it, and anonymous if public."""
    if route.method != "get":
        return []
    chosen = [p for p in PERSONAS if p != "anonymous" and route.expected(p) == 200][:1]
    if route.expected("anonymous") == 200:
        chosen.append("anonymous")
    return chosen


PAGES = [(name, persona) for name, route in MATRIX.items() for persona in visitors(route)]


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@contextlib.contextmanager
def server_shares_this_connection(live_server):
    """The live server answers on this test's database connection, so that it sees the objects
    a route's arguments make in a savepoint, and the savepoint rolled back after the visit
    removes them (as the access matrix does): two routes' objects never meet. Only one of the
    two threads uses the connection at a time: this one waits for the browser's answer.

    The connection stays shareable afterwards: a request thread still finishing closes it (a
    no-op on the in-memory database), and must not fail for being another thread."""
    connection = connections["default"]
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        pytest.fail("test_every_page needs the in-memory SQLite test database")
    override = live_server.thread.httpd.connections_override
    before = dict(override)
    connection.inc_thread_sharing()
    override["default"] = connection
    try:
        yield
    finally:
        override.clear()
        override.update(before)


def test_every_page_of_the_access_matrix(chromium, viewport, live_server, cast):
    tabs: dict[str, Browsing] = {}
    for persona in dict.fromkeys(persona for _name, persona in PAGES):
        context = chromium.new_context(viewport=VIEWPORTS[viewport])
        if persona != "anonymous":
            cookie = session_cookie(getattr(cast, persona))
            name = settings.SESSION_COOKIE_NAME
            context.add_cookies([{"name": name, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, e=errors: m.type == "error" and e.append(m.text))
        tabs[persona] = Browsing(
            page=page, size=viewport, base_url=live_server.url, console_errors=errors
        )

    failures, opened = [], []
    with server_shares_this_connection(live_server):
        try:
            for name, persona in PAGES:
                failure = visit(tabs[persona], MATRIX[name], name, persona, cast, opened)
                if failure:
                    failures.append(failure)
        finally:
            for browsing in tabs.values():
                browsing.page.context.close()

    assert not failures, f"{len(failures)} of {len(opened) + len(failures)} pages fail:\n" + (
        "\n".join(failures)
    )
    assert opened, "no page was opened"


def visit(browsing: Browsing, route: Route, name: str, persona: str, cast, opened) -> str:
    """Open one page and check it. Returns what failed, or "" (also for an answer that is not
    a page: a PDF, a CSV, JSON)."""
    label = f"{name} as {persona}"
    rollback = transaction.atomic()
    rollback._from_testcase = True  # lets durable services run inside this savepoint
    with rollback:
        try:
            url = reverse(name, args=route.args(cast) if route.args else [])
            answer = browsing.page.request.get(browsing.base_url + url, max_redirects=0)
            if answer.status != 200:
                return f"{label}: answered {answer.status}, not 200"
            if not answer.headers.get("content-type", "").startswith("text/html"):
                return ""
            browsing.console_errors.clear()
            shown = browsing.goto(url)
            if shown.status != 200:
                return f"{label}: answered {shown.status} in the browser"
            browsing.looks_right(label)
            opened.append(label)
            return ""
        except AssertionError as error:  # pytest's own account of the assertion is left out
            return str(error).split("\nassert ")[0]
        except Exception as error:  # the route's objects could not be made, or the page failed
            return f"{label}: {type(error).__name__}: {error}"
        finally:
            transaction.set_rollback(True)
