"""Getting started: a business user with no organization creates one or asks to join one,
and a Lead User answers the request."""

import pytest
from django.urls import reverse

from core.models import OutboundEmail
from core.views import ORGANIZATION_SESSION_KEY
from organizations.models import JoinRequest, Membership, Organization
from organizations.roles import Role
from organizations.views.business import JOIN_REQUEST_SENT
from tests.organizations.helpers import page_messages, permissions_of, role_permissions


@pytest.mark.parametrize("name", ["business:home", "business:people", "business:join_requests"])
def test_a_user_without_organization_is_sent_to_start(client, newcomer, name):
    client.force_login(newcomer)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url == reverse("business:start")


def test_the_start_page_offers_to_create_or_join(client, newcomer):
    client.force_login(newcomer)
    response = client.get(reverse("business:start"))
    assert response.status_code == 200
    assert b"Create an organization" in response.content
    assert b"Ask to join an organization" in response.content
    # Nothing else of the portal until the user has an organization.
    assert reverse("business:people").encode() not in response.content


def test_a_new_user_creates_an_organization_and_becomes_its_lead_user(client, newcomer):
    client.force_login(newcomer)
    response = client.post(
        reverse("business:organization_create"),
        {"name": "Newco Fuels", "headquarters": "1 Main St, Fresno"},
        follow=True,
    )
    organization = Organization.objects.get(name="Newco Fuels")
    assert response.redirect_chain == [(reverse("business:home"), 302)]
    assert Membership.objects.get(user=newcomer, organization=organization).role == Role.LEAD
    assert permissions_of(newcomer, organization) == role_permissions(Role.LEAD)
    assert client.session[ORGANIZATION_SESSION_KEY] == organization.pk
    assert b"<h1>Newco Fuels</h1>" in response.content
    assert str(organization.code).encode() in response.content
    assert b"Lead User" in response.content


def test_creating_an_organization_without_a_name_shows_the_error(client, newcomer):
    client.force_login(newcomer)
    response = client.post(reverse("business:organization_create"), {"name": "   "})
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not Organization.objects.filter(memberships__user=newcomer).exists()


def test_a_member_can_create_another_organization_and_works_in_it(client, cast):
    client.force_login(cast.viewer)
    response = client.post(
        reverse("business:organization_create"), {"name": "Dan's Consulting"}, follow=True
    )
    assert b"<h1>Dan&#x27;s Consulting</h1>" in response.content
    assert cast.viewer.memberships.count() == 2


def test_a_user_asks_to_join_by_organization_code(client, cast, newcomer):
    client.force_login(newcomer)
    response = client.post(
        reverse("business:join_request_create"),
        {"code": str(cast.org.code), "message": "I run the Davis yard."},
        follow=True,
    )
    join_request = JoinRequest.objects.get(user=newcomer)
    assert join_request.organization == cast.org
    assert join_request.status == JoinRequest.Status.PENDING
    assert join_request.message == "I run the Davis yard."
    assert response.redirect_chain == [(reverse("business:start"), 302)]
    # Issue 12: the page no longer names the organization (nor lists pending requests).
    assert page_messages(response) == [JOIN_REQUEST_SENT]
    assert b"Acme Fuels" not in response.content


def test_a_user_asks_to_join_by_a_facility_cers_id(client, cast, newcomer):
    # facility_yolo's CERS ID is also Other Co's organization code: the kind decides.
    cers_id = cast.facility_yolo.cers_id
    assert Organization.objects.get(code=cers_id) == cast.other_org
    client.force_login(newcomer)
    client.post(reverse("business:join_request_create"), {"code": str(cers_id), "kind": "facility"})
    assert JoinRequest.objects.get(user=newcomer).organization == cast.org


# Issue 12: what went wrong with a request is e-mailed to the requester, never shown on the
# page (which answers as for a request that was sent).


@pytest.fixture(autouse=True)
def empty_outbox(cast):
    """The cast's own e-mails out of the way: these tests count the ones they cause."""
    OutboundEmail.objects.all().delete()


def test_an_unknown_cers_id_is_explained_by_email(client, cast, newcomer):
    client.force_login(newcomer)
    response = client.post(
        reverse("business:join_request_create"), {"code": "99999999", "kind": "facility"}
    )
    assert response.status_code == 302
    assert b"No facility has" not in client.get(response.url).content
    [message] = OutboundEmail.objects.all()
    assert message.to == [newcomer.email]
    assert "No facility has the CERS ID 99999999" in message.body
    assert not JoinRequest.objects.exists()


def test_an_unknown_code_is_explained_by_email(client, cast, newcomer):
    client.force_login(newcomer)
    response = client.post(reverse("business:join_request_create"), {"code": "99999999"})
    assert response.status_code == 302
    [message] = OutboundEmail.objects.all()
    assert message.to == [newcomer.email]
    assert "No organization has the code 99999999" in message.body
    assert not JoinRequest.objects.exists()


def test_a_code_that_is_not_a_number_is_explained_on_the_page(client, cast, newcomer):
    client.force_login(newcomer)
    response = client.post(reverse("business:join_request_create"), {"code": "Acme"})
    assert b"Enter the code as digits only" in response.content
    assert not JoinRequest.objects.exists()


def test_a_member_cannot_ask_to_join_again(client, cast):
    client.force_login(cast.viewer)
    response = client.post(reverse("business:join_request_create"), {"code": cast.org.code})
    assert response.status_code == 302
    [message] = OutboundEmail.objects.all()
    assert message.to == [cast.viewer.email]
    assert "You are already a member of Acme Fuels." in message.body
    assert not JoinRequest.objects.exists()


def test_a_second_request_while_one_is_pending_is_refused(client, cast, newcomer):
    client.force_login(newcomer)
    client.post(reverse("business:join_request_create"), {"code": cast.org.code})
    response = client.post(reverse("business:join_request_create"), {"code": cast.org.code})
    assert response.status_code == 302
    latest = OutboundEmail.objects.first()
    assert "You already asked to join Acme Fuels" in latest.body
    assert latest.to == [newcomer.email]
    assert JoinRequest.objects.filter(user=newcomer).count() == 1


def _ask_to_join(client, user, organization):
    client.force_login(user)
    client.post(reverse("business:join_request_create"), {"code": organization.code})
    return JoinRequest.objects.get(user=user, organization=organization)


def test_lead_approves_a_join_request_with_a_role(client, cast, newcomer, mailoutbox):
    join_request = _ask_to_join(client, newcomer, cast.org)
    client.force_login(cast.lead)
    listing = client.get(reverse("business:join_requests"))
    assert listing.status_code == 200
    assert newcomer.email.encode() in listing.content

    response = client.post(
        reverse("business:join_request_decide", args=[join_request.pk]),
        {"decision": "approve", "role": Role.APPROVER, "reason": ""},
        follow=True,
    )
    assert any("joined Acme Fuels as Approver" in m for m in page_messages(response))
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.APPROVED
    assert join_request.decided_by == cast.lead
    membership = Membership.objects.get(user=newcomer, organization=cast.org)
    assert membership.role == Role.APPROVER
    assert permissions_of(newcomer, cast.org) == role_permissions(Role.APPROVER)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.LEAD])
def test_an_approved_member_gets_exactly_the_permissions_of_the_role(client, cast, newcomer, role):
    join_request = _ask_to_join(client, newcomer, cast.org)
    client.force_login(cast.lead)
    client.post(
        reverse("business:join_request_decide", args=[join_request.pk]),
        {"decision": "approve", "role": role},
    )
    assert permissions_of(newcomer, cast.org) == role_permissions(role)


def test_lead_declines_a_join_request(client, cast, newcomer):
    join_request = _ask_to_join(client, newcomer, cast.org)
    client.force_login(cast.lead)
    response = client.post(
        reverse("business:join_request_decide", args=[join_request.pk]),
        {"decision": "decline", "reason": "We do not know you."},
        follow=True,
    )
    assert any("declined" in m for m in page_messages(response))
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.DECLINED
    assert join_request.decision_reason == "We do not know you."
    assert not Membership.objects.filter(user=newcomer).exists()
    assert permissions_of(newcomer, cast.org) == set()
    # The request is no longer in the pending list.
    assert newcomer.email.encode() not in client.get(reverse("business:join_requests")).content


def test_answering_a_request_twice_shows_a_message(client, cast, newcomer):
    join_request = _ask_to_join(client, newcomer, cast.org)
    client.force_login(cast.lead)
    url = reverse("business:join_request_decide", args=[join_request.pk])
    client.post(url, {"decision": "decline"})
    response = client.post(url, {"decision": "approve", "role": Role.LEAD}, follow=True)
    assert any("already answered" in m for m in page_messages(response))
    assert not Membership.objects.filter(user=newcomer).exists()


def test_the_lead_sees_the_number_of_pending_requests_on_home(client, cast, newcomer):
    _ask_to_join(client, newcomer, cast.org)
    client.force_login(cast.lead)
    response = client.get(reverse("business:home"))
    assert b"1 pending request to join" in response.content
    client.force_login(cast.viewer)
    assert b"pending request" not in client.get(reverse("business:home")).content
