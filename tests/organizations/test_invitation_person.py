"""An invitation names the person (name, phone, job title, as CERS's Add Person does): the
Lead User's form asks for them, the e-mail greets the person by name, and a new account's
sign-up starts with them while an existing account keeps its own details."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from organizations import services
from organizations.models import Invitation, Membership
from organizations.roles import Role

PERSON = {
    "first_name": "Rosa",
    "last_name": "Mendez",
    "phone": "916-555-0142",
    "title": "EHS Manager",
}


def invite_rosa(cast, email="rosa@newco.example"):
    return services.invite(
        actor=cast.lead, organization=cast.org, email=email, role=Role.EDITOR, **PERSON
    )


def test_the_invite_form_asks_for_the_name_and_refuses_an_invitation_without_it(lead_client):
    page = lead_client.get(reverse("business:people"))
    for name in ("first_name", "last_name", "phone", "title"):
        assert f'name="{name}"'.encode() in page.content
    response = lead_client.post(
        reverse("business:people"),
        {"email": "rosa@newco.example", "first_name": " ", "role": Role.VIEWER},
    )
    assert response.status_code == 200
    form = response.context["invite_form"]
    assert form.errors["first_name"] == ["This field is required."]
    assert form.errors["last_name"] == ["This field is required."]
    assert "phone" not in form.errors and "title" not in form.errors
    assert not Invitation.objects.filter(email="rosa@newco.example").exists()


def test_the_form_refuses_details_longer_than_kept(lead_client):
    response = lead_client.post(
        reverse("business:people"),
        {**PERSON, "phone": "5" * 31, "email": "rosa@newco.example", "role": Role.VIEWER},
    )
    assert response.status_code == 200
    assert "phone" in response.context["invite_form"].errors
    assert not Invitation.objects.filter(email="rosa@newco.example").exists()


def test_the_service_refuses_details_longer_than_kept(cast):
    with pytest.raises(ValidationError) as caught:
        services.invite(
            actor=cast.lead,
            organization=cast.org,
            email="rosa@newco.example",
            role=Role.VIEWER,
            title="x" * 101,
        )
    assert caught.value.message_dict == {"title": ["Use at most 100 characters."]}
    assert not Invitation.objects.filter(email="rosa@newco.example").exists()


def test_the_invitation_keeps_the_details_and_the_email_greets_the_person(
    lead_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            reverse("business:people"),
            {
                "email": "rosa@newco.example",
                "first_name": " Rosa ",
                "last_name": "Mendez",
                "phone": "916-555-0142",
                "title": "EHS Manager",
                "role": Role.EDITOR,
            },
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="rosa@newco.example")
    assert (invitation.first_name, invitation.last_name, invitation.phone, invitation.title) == (
        "Rosa",
        "Mendez",
        "916-555-0142",
        "EHS Manager",
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body.startswith("Hello Rosa Mendez,\n\n")
    people = lead_client.get(reverse("business:people"))
    assert b"Rosa Mendez" in people.content and b"EHS Manager" in people.content


def test_an_invitation_without_a_name_does_not_greet_nobody(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.invite(
            actor=cast.lead, organization=cast.org, email="anon@newco.example", role=Role.VIEWER
        )
    assert "Hello" not in mail.outbox[0].body
    assert mail.outbox[0].body.startswith(str(cast.lead))


def test_a_new_account_starts_from_the_invitation_details(client, cast):
    invitation = invite_rosa(cast)
    page = client.get(reverse("invitation", args=[invitation.token]))
    assert page.status_code == 200
    assert b"Rosa Mendez" in page.content
    link = re.search(r'href="([^"]*/signup/\?[^"]*)"', page.content.decode()).group(1)
    link = html.unescape(link)
    query = parse_qs(urlsplit(link).query)
    # Only where to go next travels in the address: a person's details in a URL end up in
    # server logs, proxies' logs and the browser's history; the session carries them.
    assert query == {"next": [reverse("invitation", args=[invitation.token])]}
    signup = client.get(link)
    assert signup.status_code == 200
    initial = {name: signup.context["form"][name].value() for name in (*PERSON, "email")}
    assert initial == {**PERSON, "email": "rosa@newco.example"}
    for value in ("Rosa", "Mendez", "916-555-0142", "EHS Manager", "rosa@newco.example"):
        assert f'value="{value}"'.encode() in signup.content


def test_an_existing_account_keeps_its_own_details_on_accepting(client, cast):
    user = User.objects.create_user(
        email="rosa@newco.example",
        password="x-Secret-123",
        first_name="Rosalind",
        last_name="Mendez-Ortiz",
        phone="530-555-0199",
        title="Plant manager",
    )
    invitation = invite_rosa(cast)
    client.force_login(user)
    response = client.post(reverse("invitation", args=[invitation.token]))
    assert response.status_code == 302
    assert Membership.objects.get(user=user, organization=cast.org).role == Role.EDITOR
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.phone, user.title) == (
        "Rosalind",
        "Mendez-Ortiz",
        "530-555-0199",
        "Plant manager",
    )


def test_the_details_start_only_the_sign_up_of_the_browser_that_opened_the_invitation(client, cast):
    invitation = invite_rosa(cast)
    client.get(reverse("invitation", args=[invitation.token]))
    other = Client()
    signup = other.get(reverse("accounts:signup"))
    assert signup.context["form"]["first_name"].value() in ("", None)
    assert b"Rosa" not in signup.content
