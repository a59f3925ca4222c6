"""Issue 12, item 5: adding an existing user to an agency's staff invites them; they become
staff, with the role's permissions, only when they accept. They may decline; the agency's
administrators see the pending invitations and may cancel them; nobody else can answer."""

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from core.models import AuditEvent, OutboundEmail
from regulators import services
from regulators.models import StaffInvitation, StaffMembership
from regulators.roles import ALL_PERMISSIONS, STAFF_ROLE_PERMISSIONS
from tests import factories

Status = StaffInvitation.Status


def permissions_of(user, regulator) -> set[str]:
    user = type(user).objects.get(pk=user.pk)  # no permission cache from earlier checks
    return {c for c in ALL_PERMISSIONS if user.has_perm(f"regulators.{c}", regulator)}


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def invitee(db):
    return factories.make_user("ivy@sac-cupa.example", first_name="Ivy")


@pytest.fixture
def invited(cast, cupa_admin, invitee):
    """A pending invitation of ``invitee`` to the Sacramento CUPA as a reviewer."""
    return services.invite_staff(
        actor=cupa_admin, regulator=cast.cupa, user=invitee, role="reviewer"
    )


def test_adding_an_existing_user_makes_a_pending_invitation_and_grants_nothing(
    client, cast, cupa_admin, invitee, django_capture_on_commit_callbacks
):
    client.force_login(cupa_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("regulator:staff_add"), {"email": invitee.email, "role": "reviewer"}
        )

    assert response.status_code == 302
    [message] = page_messages(response)
    assert "is invited to the staff as Reviewer / inspector" in message
    invitation = StaffInvitation.objects.get(user=invitee)
    assert (invitation.regulator, invitation.role, invitation.status) == (
        cast.cupa,
        "reviewer",
        Status.PENDING,
    )
    assert invitation.invited_by == cupa_admin
    assert not StaffMembership.objects.filter(user=invitee).exists()
    assert permissions_of(invitee, cast.cupa) == set()
    event = AuditEvent.objects.get(action="regulator.staff_invited")
    assert (event.actor, event.regulator) == (cupa_admin, cast.cupa)
    assert event.after == {"user": invitee.email, "role": "reviewer"}
    [email] = mail.outbox
    assert email.to == [invitee.email]
    assert reverse("staff_invitation", args=[invitation.pk]) in email.body
    # Not yet staff: the regulator portal stays closed to them.
    client.force_login(invitee)
    assert client.get(reverse("regulator:home")).status_code == 403


def test_the_staff_page_lists_pending_invitations_to_administrators_only(
    client, cast, cupa_admin, invited, invitee
):
    client.force_login(cupa_admin)
    page = client.get(reverse("regulator:staff"))
    assert invitee.email.encode() in page.content
    assert reverse("regulator:staff_invitation_cancel", args=[invited.pk]).encode() in page.content

    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:staff"))
    assert invitee.email.encode() not in page.content


def test_the_invited_user_accepts_and_gets_the_roles_permissions(client, cast, invited, invitee):
    client.force_login(invitee)
    page = client.get(reverse("staff_invitation", args=[invited.pk]))
    assert page.status_code == 200
    assert b"Accept the invitation" in page.content
    assert cast.cupa.name.encode() in page.content

    response = client.post(reverse("staff_invitation", args=[invited.pk]))

    assert response.status_code == 302
    assert response.url == reverse("regulator:home")
    membership = StaffMembership.objects.get(user=invitee, regulator=cast.cupa)
    assert membership.role == "reviewer"
    assert permissions_of(invitee, cast.cupa) == set(STAFF_ROLE_PERMISSIONS["reviewer"])
    invited.refresh_from_db()
    assert invited.status == Status.ACCEPTED
    assert invited.answered_at is not None
    accepted = AuditEvent.objects.get(action="regulator.staff_invitation_accepted")
    assert (accepted.actor, accepted.regulator) == (invitee, cast.cupa)
    role_set = AuditEvent.objects.get(action="regulator.staff_role_set", actor=invitee)
    assert role_set.after == {"user": invitee.email, "role": "reviewer"}
    assert client.get(reverse("regulator:home")).status_code == 200
    # Answered: the link finds nothing any more.
    assert client.get(reverse("staff_invitation", args=[invited.pk])).status_code == 404


def test_the_invited_user_declines_and_gets_nothing(client, cast, invited, invitee):
    client.force_login(invitee)

    response = client.post(reverse("staff_invitation_decline", args=[invited.pk]))

    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.status == Status.DECLINED
    assert not StaffMembership.objects.filter(user=invitee).exists()
    assert permissions_of(invitee, cast.cupa) == set()
    event = AuditEvent.objects.get(action="regulator.staff_invitation_declined")
    assert (event.actor, event.regulator) == (invitee, cast.cupa)
    assert client.post(reverse("staff_invitation", args=[invited.pk])).status_code == 404
    assert not StaffMembership.objects.filter(user=invitee).exists()


def test_an_administrator_cancels_an_invitation(client, cast, cupa_admin, invited, invitee):
    client.force_login(cupa_admin)

    response = client.post(reverse("regulator:staff_invitation_cancel", args=[invited.pk]))

    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.status == Status.CANCELLED
    event = AuditEvent.objects.get(action="regulator.staff_invitation_cancelled")
    assert (event.actor, event.regulator) == (cupa_admin, cast.cupa)
    assert event.before == {"user": invitee.email, "role": "reviewer"}
    assert list(client.get(reverse("regulator:staff")).context["invitations"]) == []
    # The invited user's link is dead, and accepting it grants nothing.
    client.force_login(invitee)
    assert client.get(reverse("staff_invitation", args=[invited.pk])).status_code == 404
    assert client.post(reverse("staff_invitation", args=[invited.pk])).status_code == 404
    assert permissions_of(invitee, cast.cupa) == set()


@pytest.mark.parametrize("persona", ["lead", "cupa_reviewer", "state_admin", "outsider"])
def test_nobody_else_can_see_accept_or_decline_an_invitation(
    client, cast, invited, invitee, persona
):
    client.force_login(getattr(cast, persona))

    assert client.get(reverse("staff_invitation", args=[invited.pk])).status_code == 404
    assert client.post(reverse("staff_invitation", args=[invited.pk])).status_code == 404
    assert client.post(reverse("staff_invitation_decline", args=[invited.pk])).status_code == 404

    invited.refresh_from_db()
    assert invited.status == Status.PENDING
    assert (
        not StaffMembership.objects.filter(regulator=cast.cupa, role="reviewer")
        .exclude(user=cast.cupa_reviewer)
        .exists()
    )


def test_an_anonymous_visitor_is_sent_to_sign_in(client, invited):
    response = client.get(reverse("staff_invitation", args=[invited.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_service_refuses_someone_elses_answer(cast, invited):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.accept_staff_invitation(user=cast.lead, invitation=invited)
    with pytest.raises(PermissionDenied):
        services.decline_staff_invitation(user=cast.lead, invitation=invited)


def test_a_reviewer_cannot_cancel_and_another_agency_gets_404(client, cast, invited):
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:staff_invitation_cancel", args=[invited.pk])
    assert client.post(url).status_code == 403
    client.force_login(cast.state_admin)
    assert client.post(url).status_code == 404
    invited.refresh_from_db()
    assert invited.status == Status.PENDING


def test_inviting_twice_or_inviting_staff_is_refused(client, cast, cupa_admin, invited, invitee):
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:staff_add"), {"email": invitee.email, "role": "viewer"}
    )
    [message] = page_messages(response)
    assert "already invited as Reviewer / inspector" in message
    assert StaffInvitation.objects.filter(user=invitee).count() == 1

    response = client.post(
        reverse("regulator:staff_add"), {"email": cast.cupa_reviewer.email, "role": "viewer"}
    )
    assert "already on the staff" in page_messages(response)[-1]
    assert not StaffInvitation.objects.filter(user=cast.cupa_reviewer).exists()


def test_a_service_account_is_never_invited(client, cast, cupa_admin):
    robot = factories.make_user("edt@sac-cupa.example", is_service_account=True)
    client.force_login(cupa_admin)
    outbox = OutboundEmail.objects.count()

    response = client.post(reverse("regulator:staff_add"), {"email": robot.email, "role": "viewer"})

    assert page_messages(response) == ["An EDT service account cannot be agency staff."]
    assert not StaffInvitation.objects.filter(user=robot).exists()
    assert OutboundEmail.objects.count() == outbox


def test_accepting_after_being_added_otherwise_changes_nothing(client, cast, invited, invitee):
    factories.add_staff(cast.cupa, invitee, "viewer")
    client.force_login(invitee)

    response = client.post(reverse("staff_invitation", args=[invited.pk]))

    assert response.status_code == 400
    assert b"already on the staff" in response.content
    assert StaffMembership.objects.get(user=invitee, regulator=cast.cupa).role == "viewer"
    invited.refresh_from_db()
    assert invited.status == Status.PENDING
