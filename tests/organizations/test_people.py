"""The people page: members and roles, invitations, removing members, and who may do what."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from organizations import services
from organizations.models import Invitation, JoinRequest, Membership
from organizations.roles import Role
from tests import factories
from tests.organizations.helpers import page_messages, permissions_of, role_permissions

LAST_LEAD = "This is the organization&#x27;s only Lead User"


def membership(user, organization):
    return Membership.objects.get(user=user, organization=organization)


def test_members_see_the_people_read_only(client, cast):
    client.force_login(cast.viewer)
    response = client.get(reverse("business:people"))
    assert response.status_code == 200
    for person in (cast.lead, cast.approver, cast.editor, cast.viewer):
        assert person.email.encode() in response.content
    assert b"Alice Lead" in response.content
    assert b"Send the invitation" not in response.content
    assert b'name="role"' not in response.content
    assert b">Remove<" not in response.content
    assert b"Leave the organization" in response.content  # only their own row
    assert cast.outsider.email.encode() not in response.content


def test_the_lead_sees_the_invite_form_with_the_role_descriptions(lead_client):
    response = lead_client.get(reverse("business:people"))
    assert b"Send the invitation" in response.content
    assert b"Also adds facilities and manages the organization&#x27;s people." in response.content
    assert response.content.count(b">Remove<") == 3  # everyone but the lead


def test_an_invited_person_accepts_through_the_pages(
    client, cast, newcomer, django_capture_on_commit_callbacks
):
    client.force_login(cast.lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("business:people"),
            {
                "email": "Nina@Newco.example",
                "first_name": "Nina",
                "last_name": "Newcomer",
                "role": Role.EDITOR,
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nina@newco.example"]
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body).group(0)
    path = urlsplit(link).path

    pending = client.get(reverse("business:people"))
    assert b"nina@newco.example" in pending.content

    client.force_login(newcomer)
    page = client.get(path)
    assert page.status_code == 200
    assert b"Join Acme Fuels" in page.content
    response = client.post(path, follow=True)
    assert response.redirect_chain == [(reverse("business:home"), 302)]
    assert b"<h1>Acme Fuels</h1>" in response.content
    assert membership(newcomer, cast.org).role == Role.EDITOR
    assert permissions_of(newcomer, cast.org) == role_permissions(Role.EDITOR)
    assert Invitation.objects.get(email="nina@newco.example").status == "accepted"


def test_accepting_with_another_signed_in_address_shows_the_error(client, cast, newcomer):
    invitation = services.invite(
        actor=cast.lead, organization=cast.org, email="someone@else.example", role=Role.LEAD
    )
    client.force_login(newcomer)
    response = client.post(reverse("invitation", args=[invitation.token]))
    assert response.status_code == 400
    assert b"This invitation was sent to someone@else.example" in response.content
    assert not Membership.objects.filter(user=newcomer).exists()
    assert permissions_of(newcomer, cast.org) == set()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_an_unknown_invitation_token_gives_the_not_found_page(client, newcomer):
    client.force_login(newcomer)
    for response in (
        client.get(reverse("invitation", args=["no-such-token"])),
        client.post(reverse("invitation", args=["no-such-token"])),
    ):
        assert response.status_code == 404
        assert b"This invitation is not valid" in response.content
    assert not Membership.objects.filter(user=newcomer).exists()


def test_inviting_a_member_again_is_explained_on_the_page(lead_client, cast):
    response = lead_client.post(
        reverse("business:people"),
        {"email": cast.viewer.email, "first_name": "V", "last_name": "M", "role": Role.LEAD},
    )
    assert response.status_code == 200
    assert b"is already a member of this organization" in response.content
    assert not Invitation.objects.filter(email=cast.viewer.email, status="pending").exists()


def test_the_lead_revokes_an_invitation(lead_client, cast):
    invitation = services.invite(
        actor=cast.lead, organization=cast.org, email="late@x.example", role=Role.VIEWER
    )
    response = lead_client.post(
        reverse("business:invitation_revoke", args=[invitation.pk]), follow=True
    )
    assert any("revoked" in m for m in page_messages(response))
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    assert b"<td>late@x.example</td>" not in response.content


def test_changing_a_role_changes_permissions_and_writes_an_audit_event(lead_client, cast):
    target = membership(cast.viewer, cast.org)
    response = lead_client.post(
        reverse("business:member_role", args=[target.pk]), {"role": Role.APPROVER}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("business:people")
    assert any("is now Approver" in m for m in page_messages(response))
    assert membership(cast.viewer, cast.org).role == Role.APPROVER
    assert permissions_of(cast.viewer, cast.org) == role_permissions(Role.APPROVER)
    event = AuditEvent.objects.get(action="organization.role_changed")
    assert event.actor == cast.lead
    assert event.organization == cast.org
    assert event.object_id == str(target.pk)
    assert (event.before, event.after) == ({"role": "viewer"}, {"role": "approver"})


def test_an_unknown_role_changes_nothing(lead_client, cast):
    target = membership(cast.viewer, cast.org)
    response = lead_client.post(
        reverse("business:member_role", args=[target.pk]), {"role": "owner"}, follow=True
    )
    assert any("Choose one of the roles" in m for m in page_messages(response))
    assert membership(cast.viewer, cast.org).role == Role.VIEWER


def test_lead_cannot_demote_the_last_lead_user(lead_client, cast):
    own = membership(cast.lead, cast.org)
    events = AuditEvent.objects.count()
    response = lead_client.post(
        reverse("business:member_role", args=[own.pk]), {"role": Role.VIEWER}, follow=True
    )
    assert response.status_code == 200
    assert LAST_LEAD.encode() in response.content
    assert membership(cast.lead, cast.org).role == Role.LEAD
    assert permissions_of(cast.lead, cast.org) == role_permissions(Role.LEAD)
    assert AuditEvent.objects.count() == events


def test_lead_cannot_remove_the_last_lead_user(lead_client, cast):
    own = membership(cast.lead, cast.org)
    events = AuditEvent.objects.count()
    response = lead_client.post(reverse("business:member_remove", args=[own.pk]), follow=True)
    assert LAST_LEAD.encode() in response.content
    assert Membership.objects.filter(pk=own.pk).exists()
    assert permissions_of(cast.lead, cast.org) == role_permissions(Role.LEAD)
    assert AuditEvent.objects.count() == events


def test_a_lead_user_can_step_down_when_there_is_another(lead_client, cast):
    services.change_role(
        actor=cast.lead, membership=membership(cast.approver, cast.org), role=Role.LEAD
    )
    own = membership(cast.lead, cast.org)
    lead_client.post(reverse("business:member_role", args=[own.pk]), {"role": Role.EDITOR})
    assert membership(cast.lead, cast.org).role == Role.EDITOR
    assert permissions_of(cast.lead, cast.org) == role_permissions(Role.EDITOR)


def test_the_lead_removes_a_member(lead_client, cast):
    target = membership(cast.editor, cast.org)
    response = lead_client.post(reverse("business:member_remove", args=[target.pk]), follow=True)
    assert any("was removed from Acme Fuels" in m for m in page_messages(response))
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert permissions_of(cast.editor, cast.org) == set()
    assert AuditEvent.objects.filter(action="organization.member_removed").count() == 1


def test_a_member_leaves_the_organization(client, cast):
    client.force_login(cast.viewer)
    own = membership(cast.viewer, cast.org)
    response = client.post(reverse("business:member_remove", args=[own.pk]), follow=True)
    assert not Membership.objects.filter(pk=own.pk).exists()
    assert permissions_of(cast.viewer, cast.org) == set()
    # With no organization left, the portal guides them to start again.
    assert response.redirect_chain[-1][0] == reverse("business:start")


@pytest.mark.parametrize("persona", ["approver", "editor", "viewer"])
def test_non_lead_members_are_refused_the_lead_pages(client, cast, persona):
    client.force_login(getattr(cast, persona))
    target = membership(cast.editor if persona != "editor" else cast.viewer, cast.org)
    role_before = target.role
    assert (
        client.post(
            reverse("business:member_role", args=[target.pk]), {"role": Role.LEAD}
        ).status_code
        == 403
    )
    assert client.post(reverse("business:member_remove", args=[target.pk])).status_code == 403
    assert client.get(reverse("business:join_requests")).status_code == 403
    invite = client.post(
        reverse("business:people"),
        {"email": "x@y.example", "first_name": "X", "last_name": "Y", "role": "lead"},
    )
    assert invite.status_code == 403
    target.refresh_from_db()
    assert target.role == role_before
    assert not Invitation.objects.filter(email="x@y.example").exists()


def test_the_outsider_gets_not_found_for_another_organizations_objects(client, cast, newcomer):
    target = membership(cast.viewer, cast.org)
    invitation = services.invite(
        actor=cast.lead, organization=cast.org, email="late@x.example", role=Role.VIEWER
    )
    join_request = services.request_to_join(user=newcomer, code=cast.org.code)
    client.force_login(cast.outsider)  # Lead User of Other Co
    posts = [
        (reverse("business:member_role", args=[target.pk]), {"role": Role.LEAD}),
        (reverse("business:member_remove", args=[target.pk]), {}),
        (reverse("business:invitation_revoke", args=[invitation.pk]), {}),
        (
            reverse("business:join_request_decide", args=[join_request.pk]),
            {"decision": "approve", "role": Role.LEAD},
        ),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert membership(cast.viewer, cast.org).role == Role.VIEWER
    invitation.refresh_from_db()
    join_request.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert join_request.status == JoinRequest.Status.PENDING
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_lead_of_two_organizations_works_on_the_current_one_only(client, cast):
    """Lead of both, but working in Other Co: Acme's members answer 404 until switching."""
    factories.add_member(cast.other_org, cast.lead, Role.LEAD)
    client.force_login(cast.lead)
    client.post(reverse("business:switch_organization"), {"organization": cast.other_org.pk})
    target = membership(cast.viewer, cast.org)
    url = reverse("business:member_role", args=[target.pk])
    assert client.post(url, {"role": Role.EDITOR}).status_code == 404
    client.post(reverse("business:switch_organization"), {"organization": cast.org.pk})
    assert client.post(url, {"role": Role.EDITOR}).status_code == 302
    assert membership(cast.viewer, cast.org).role == Role.EDITOR


def _people_page_queries(client) -> int:
    client.get(reverse("business:people"))  # warm up: session write, content type cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("business:people"))
    assert response.status_code == 200
    return len(queries)


def test_the_people_page_query_count_does_not_grow_with_members(client, cast, settings):
    settings.CERS_PAGE_SIZE = 50  # every member on one page, so each row is rendered
    lead = factories.make_user("boss@big.example")
    organization = factories.make_organization(lead, "Big Co")
    for n in range(2):
        factories.add_member(organization, factories.make_user(f"m{n}@big.example"), "viewer")
    services.invite(actor=lead, organization=organization, email="p0@big.example", role="editor")
    client.force_login(lead)
    few = _people_page_queries(client)

    for n in range(2, 29):
        factories.add_member(organization, factories.make_user(f"m{n}@big.example"), "editor")
    for n in range(1, 10):
        services.invite(
            actor=lead, organization=organization, email=f"p{n}@big.example", role="viewer"
        )
    assert organization.memberships.count() == 30
    response = client.get(reverse("business:people"))
    assert response.content.count(b'<select id="role-') == 30
    assert response.content.count(b"/revoke/") == 10
    assert _people_page_queries(client) == few


def test_a_long_member_list_is_paginated(client, cast, settings):
    settings.CERS_PAGE_SIZE = 3
    client.force_login(cast.lead)
    first = client.get(reverse("business:people"))
    second = client.get(reverse("business:people"), {"page": 2})
    assert b"Page 1 of 2" in first.content
    assert b"viewer@acme.example" in second.content
    assert b"viewer@acme.example" not in first.content
