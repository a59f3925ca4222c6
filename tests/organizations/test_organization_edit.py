"""A Lead User corrects the organization's name and headquarters ("My Business")."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from core.models import AuditEvent
from organizations import services

EDIT = reverse("business:organization_edit")

pytestmark = pytest.mark.django_db


def test_a_lead_user_renames_the_organization_and_sets_its_headquarters(client, cast):
    client.force_login(cast.lead)
    code = cast.org.code

    response = client.post(EDIT, {"name": "  Acme Fuels West ", "headquarters": "1 Main St"})

    assert response.status_code == 302
    cast.org.refresh_from_db()
    assert (cast.org.name, cast.org.headquarters, cast.org.code) == (
        "Acme Fuels West",
        "1 Main St",
        code,
    )
    event = AuditEvent.objects.get(action="organization.updated")
    assert event.actor_id == cast.lead.pk
    assert event.organization_id == cast.org.pk
    assert event.before["name"] != "Acme Fuels West"
    assert event.after == {"name": "Acme Fuels West", "headquarters": "1 Main St"}


def test_the_home_page_links_the_edit_page_for_lead_users_only(client, cast):
    client.force_login(cast.lead)
    assertContains(client.get(reverse("business:home")), f'href="{EDIT}"')

    client.force_login(cast.approver)
    assertNotContains(client.get(reverse("business:home")), f'href="{EDIT}"')


@pytest.mark.parametrize("persona", ["approver", "editor", "viewer"])
def test_other_roles_are_refused_and_nothing_changes(client, cast, persona):
    client.force_login(getattr(cast, persona))
    name = cast.org.name

    response = client.post(EDIT, {"name": "Taken Over"})

    assert response.status_code == 403
    cast.org.refresh_from_db()
    assert cast.org.name == name


def test_the_service_refuses_anyone_but_a_lead_user(cast):
    with pytest.raises(PermissionDenied):
        services.update_organization(actor=cast.editor, organization=cast.org, name="X")
    with pytest.raises(PermissionDenied):
        services.update_organization(actor=cast.outsider, organization=cast.org, name="X")


def test_a_blank_name_is_refused_beside_its_field(client, cast):
    client.force_login(cast.lead)

    response = client.post(EDIT, {"name": "   ", "headquarters": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    with pytest.raises(ValidationError):
        services.update_organization(actor=cast.lead, organization=cast.org, name=" ")


def test_saving_unchanged_details_records_nothing(client, cast):
    client.force_login(cast.lead)

    client.post(EDIT, {"name": cast.org.name, "headquarters": cast.org.headquarters})

    assert not AuditEvent.objects.filter(action="organization.updated").exists()
