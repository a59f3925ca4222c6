"""Who reads the libraries: every signed-in portal user, never an EDT service account."""

import pytest
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


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_the_libraries_need_sign_in(db, client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "args"), PAGES)
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
