"""An agency's public contact: kept by its administrators, shown in the regulator directory."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains

from core.models import AuditEvent
from regulators.services import set_contact
from tests.factories import add_staff, make_user

PAGE = reverse("regulator:contact")

pytestmark = pytest.mark.django_db


@pytest.fixture
def cupa_admin(cast):
    admin = make_user("admin@sac-cupa.example")
    add_staff(cast.cupa, admin, "administrator")
    return admin


def test_the_administrator_sets_the_contact_and_the_directory_shows_it(client, cast, cupa_admin):
    client.force_login(cupa_admin)

    response = client.post(
        PAGE,
        {"email": "HazMat@Sac-CUPA.example", "phone": "916-875-8550", "website": "emd.example.gov"},
    )

    assert response.status_code == 302
    cast.cupa.refresh_from_db()
    assert (cast.cupa.email, cast.cupa.phone, cast.cupa.website) == (
        "hazmat@sac-cupa.example",
        "916-875-8550",
        "https://emd.example.gov",
    )
    event = AuditEvent.objects.get(action="regulators.contact_changed")
    assert event.regulator_id == cast.cupa.pk
    assert event.before["email"] == ""
    client.logout()
    directory = client.get(reverse("regulator_directory"))
    assertContains(directory, "916-875-8550")
    assertContains(directory, 'href="https://emd.example.gov"')


def test_reviewers_see_it_and_may_not_change_it(client, cast):
    client.force_login(cast.cupa_reviewer)

    assert client.get(PAGE).context.get("form") is None
    assert client.post(PAGE, {"email": "x@example.com"}).status_code == 403
    with pytest.raises(PermissionDenied):
        set_contact(actor=cast.cupa_reviewer, regulator=cast.cupa, email="", phone="", website="")


def test_a_script_address_is_refused(client, cast, cupa_admin):
    client.force_login(cupa_admin)

    response = client.post(PAGE, {"email": "", "website": "javascript:alert(1)"})

    assert response.status_code == 200
    assert response.context["form"].errors["website"]
    with pytest.raises(ValidationError):
        set_contact(
            actor=cupa_admin, regulator=cast.cupa, email="", phone="", website="javascript:x"
        )
    cast.cupa.refresh_from_db()
    assert cast.cupa.website == ""
