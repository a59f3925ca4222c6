"""Two people acting on the same member, invitation or request at once: the second request
gets the lock after the first committed and acts on what the page showed it, which may be gone
or answered by then. It is refused with a message, never a server error, and never undoes
the first.

Each test hands the service the object as the second page read it, after the first change.
"""

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core import scoping
from organizations import services
from organizations.models import Invitation, Membership
from organizations.roles import Role
from tests import factories


def test_a_member_removed_twice_at_once_is_removed_once(cast):
    second_lead = factories.make_user("lead2@acme.example")
    factories.add_member(cast.org, second_lead, "lead")
    membership = Membership.objects.get(organization=cast.org, user=cast.editor)
    seen = copy.copy(membership)
    services.remove_member(actor=cast.lead, membership=membership)

    with pytest.raises(ValidationError, match="no longer a member"):
        services.remove_member(actor=second_lead, membership=seen)
    with pytest.raises(ValidationError, match="no longer a member"):
        services.change_role(actor=second_lead, membership=seen, role=Role.APPROVER)


def test_the_people_page_answers_a_second_remove_with_a_message(cast, client):
    membership = Membership.objects.get(organization=cast.org, user=cast.editor)
    client.force_login(cast.lead)
    url = reverse("business:member_remove", args=[membership.pk])
    assert client.post(url).status_code == 302
    again = client.post(url, follow=True)
    assert again.status_code == 404  # the member is no longer found: the page is gone


def test_an_invitation_revoked_meanwhile_is_not_accepted(cast, newcomer, monkeypatch):
    invitation = services.invite(
        actor=cast.lead, organization=cast.org, email=newcomer.email, role=Role.EDITOR
    )
    find = services.find_invitation

    def found_then_revoked(token):
        """The accept request reads the pending invitation; then the revoke commits."""
        found = find(token)
        Invitation.objects.filter(pk=found.pk).update(status=Invitation.Status.REVOKED)
        return found

    monkeypatch.setattr(services, "find_invitation", found_then_revoked)

    with pytest.raises(ValidationError, match="not valid"):
        services.accept_invitation(user=newcomer, token=invitation.token)
    assert not Membership.objects.filter(organization=cast.org, user=newcomer).exists()


def test_an_invitation_accepted_meanwhile_is_not_revoked(cast, newcomer):
    invitation = services.invite(
        actor=cast.lead, organization=cast.org, email=newcomer.email, role=Role.EDITOR
    )
    seen = Invitation.objects.get(pk=invitation.pk)  # the people page, still pending
    services.accept_invitation(user=newcomer, token=invitation.token)

    with pytest.raises(ValidationError, match="pending"):
        services.revoke_invitation(actor=cast.lead, invitation=seen)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert Membership.objects.filter(organization=cast.org, user=newcomer).exists()


def test_a_lead_removed_meanwhile_can_no_longer_manage_people(cast):
    """A Lead User's request read their grants before another Lead User removed them (in
    another process, whose change does not empty this request's cache): what they do then
    is refused by their role as it is now."""
    second_lead = factories.make_user("lead2@acme.example")
    factories.add_member(cast.org, second_lead, "lead")
    editor = Membership.objects.get(organization=cast.org, user=cast.editor)
    theirs = Membership.objects.get(organization=cast.org, user=second_lead)

    token = scoping.open_grants_cache()
    try:
        assert scoping.grants(second_lead)  # read by their page, before they were removed
        other_request = scoping.open_grants_cache()
        services.remove_member(actor=cast.lead, membership=theirs)
        scoping.close_grants_cache(other_request)

        with pytest.raises(PermissionDenied):
            services.remove_member(actor=second_lead, membership=editor)
        with pytest.raises(PermissionDenied):
            services.change_role(actor=second_lead, membership=editor, role=Role.LEAD)
    finally:
        scoping.close_grants_cache(token)
    assert Membership.objects.filter(pk=editor.pk, role=Role.EDITOR).exists()


def test_a_lead_removed_while_waiting_for_the_lock_invites_nobody(cast, monkeypatch):
    second_lead = factories.make_user("lead2@acme.example")
    factories.add_member(cast.org, second_lead, "lead")
    lock = services._lock

    def lock_after_removal(organization):
        monkeypatch.setattr(services, "_lock", lock)
        theirs = Membership.objects.get(organization=cast.org, user=second_lead)
        services._revoke_all(second_lead, cast.org)
        theirs.delete()
        return lock(organization)

    monkeypatch.setattr(services, "_lock", lock_after_removal)

    with pytest.raises(PermissionDenied):
        services.invite(
            actor=second_lead, organization=cast.org, email="new@acme.example", role=Role.EDITOR
        )
    assert not Invitation.objects.filter(email="new@acme.example").exists()
