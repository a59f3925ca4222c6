"""Who reads the libraries: every signed-in portal user, never an EDT service account; the
violation library, which CalEPA publishes, anyone."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories

PAGES = [
    ("libraries:index", []),
    ("libraries:chemicals", []),
    ("libraries:chemical", [14]),
    ("libraries:violations", []),
    ("libraries:violation", ["1010001"]),
    ("libraries:dictionary", []),
    ("libraries:dictionary_entry", ["205"]),
]
# CalEPA's public pages: the violation library.
PUBLIC_PAGES = [("libraries:violations", []), ("libraries:violation", ["1010001"])]
SIGNED_IN_PAGES = [page for page in PAGES if page not in PUBLIC_PAGES]
READERS = ["lead", "viewer", "outsider", "cupa_reviewer", "pa_viewer", "state_admin"]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_every_signed_in_portal_user_reads_the_libraries(cast, client, name, args):
    statuses = {}
    for persona in READERS:
        client.force_login(getattr(cast, persona))
        statuses[persona] = client.get(reverse(name, args=args)).status_code
    assert statuses == dict.fromkeys(READERS, 200)


def test_a_user_without_organization_or_agency_reads_them_too(db, client):
    client.force_login(factories.make_user("newcomer@example.com"))
    assert client.get(reverse("libraries:violations")).status_code == 200


@pytest.mark.parametrize(("name", "args"), SIGNED_IN_PAGES)
def test_the_libraries_need_sign_in(db, client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "args"), PUBLIC_PAGES)
def test_the_violation_library_is_open_to_anyone(db, client, name, args):
    response = client.get(reverse(name, args=args))

    assert response.status_code == 200
    assert "Add a violation type" not in response.content.decode()


def test_an_unknown_violation_type_is_not_found_for_anyone(db, client):
    assert client.get(reverse("libraries:violation", args=["9999999"])).status_code == 404


@pytest.mark.parametrize(("name", "args"), SIGNED_IN_PAGES)
def test_an_edt_service_account_session_is_not_a_reader(db, client, name, args):
    robot = factories.make_user("edt@sac-cupa.example", is_service_account=True)
    client.force_login(robot)  # the portal backend refuses the session: anonymous
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_a_service_account_let_in_by_another_backend_is_refused(db, client, settings, name, args):
    backend = "django.contrib.auth.backends.ModelBackend"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, backend]
    robot = factories.make_user("edt@sac-cupa.example", is_service_account=True)
    client.force_login(robot, backend=backend)
    assert client.get(reverse(name, args=args)).status_code == 403


def test_the_portal_navigation_links_the_libraries(cast, client):
    client.force_login(cast.lead)
    assert reverse("libraries:index") in client.get(reverse("business:home")).content.decode()
    client.force_login(cast.cupa_reviewer)
    assert reverse("libraries:index") in client.get(reverse("regulator:home")).content.decode()


def test_the_violation_library_scope_holds_every_row_for_anyone_but_a_service_account(db):
    from django.contrib.auth.models import AnonymousUser

    from libraries.models import Chemical, ViolationType

    every = ViolationType.objects.count()
    robot = factories.make_user("edt@sac-cupa.example", is_service_account=True)

    assert every > 0
    assert ViolationType.objects.for_user(AnonymousUser()).count() == every
    assert not ViolationType.objects.for_user(robot).exists()
    assert not ViolationType.objects.for_user(AnonymousUser(), "manage").exists()
    assert not Chemical.objects.for_user(AnonymousUser()).exists()  # signed in only


@pytest.mark.parametrize("q", ["1010001\x00", "\x001010001", "\x00 1010001 \x00\x00"])
def test_a_nul_in_a_search_separates_words(db, client, q):
    """A NUL is no character of any value (PostgreSQL refuses it in a query: a server error
    for anybody typing %00 into the public search): it separates words, as a space does."""
    response = client.get(reverse("libraries:violations"), {"q": q})

    assert response.status_code == 200
    assert [row.type_number for row in response.context["page"].object_list] == ["1010001"]


def test_a_page_number_of_other_digits_than_ascii_is_page_one(db, client, settings):
    """A "²" passes str.isdigit(), which int() refuses: a page number beside a place in the
    list (a link's ``page``) that is no number names page 1 instead of a server error."""
    settings.CERS_PAGE_SIZE = 1
    first = client.get(reverse("libraries:violations"))
    token = re.search(r"after=([^&\"]+)", first.content.decode())[1]

    response = client.get(reverse("libraries:violations"), {"after": token, "page": "²"})

    assert response.status_code == 200


def test_a_search_word_of_other_digits_than_ascii_is_no_server_error(cast, client):
    client.force_login(cast.viewer)
    response = client.get(reverse("libraries:chemicals"), {"q": "²"})
    assert response.status_code == 200


@pytest.mark.parametrize("number", ["\x00", "1010001\x00"])
def test_a_nul_in_a_violation_types_number_is_not_found(db, client, number):
    """PostgreSQL refuses a NUL in a query: a %00 in the URL named no row, and was a server
    error for anybody, the violation library being public."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("libraries:violation", args=[number]))
    assert response.status_code == 404
    # not looked up at all (SQLite would take the NUL; PostgreSQL refuses it)
    assert not [q for q in queries.captured_queries if '"type_number" = ' in q["sql"]]
