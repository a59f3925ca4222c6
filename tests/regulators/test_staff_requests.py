"""Requests to join an agency's staff: a signed-in person asks from the regulator directory,
with the role they want and a message; the agency's administrators approve (with a role,
which makes the membership and its permissions) or decline (with a reason) on the staff page;
the person is e-mailed either way and may withdraw while it waits. One pending request per
person and agency; only the agency's administrators decide; anyone else's request is 404."""

import copy

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import AuditEvent, OutboundEmail
from regulators import services
from regulators.models import StaffAccessRequest, StaffMembership
from regulators.roles import ALL_PERMISSIONS, STAFF_ROLE_PERMISSIONS
from tests import factories

Status = StaffAccessRequest.Status
DIRECTORY = reverse("regulator_directory")
STAFF = reverse("regulator:staff")


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def permissions_of(user, regulator) -> set[str]:
    user = type(user).objects.get(pk=user.pk)  # no permission cache from earlier checks
    return {c for c in ALL_PERMISSIONS if user.has_perm(f"regulators.{c}", regulator)}


def emails_to(address: str) -> list[OutboundEmail]:
    return [email for email in OutboundEmail.objects.order_by("pk") if address in email.to]


def join_url(regulator) -> str:
    return reverse("staff_request_create", args=[regulator.code])


def decide_url(staff_request) -> str:
    return reverse("regulator:staff_request_decide", args=[staff_request.pk])


def withdraw_url(staff_request) -> str:
    return reverse("staff_request_withdraw", args=[staff_request.pk])


@pytest.fixture
def rita(db):
    return factories.make_user("rita@sac-cupa.example", first_name="Rita", last_name="Reyes")


@pytest.fixture
def asked(cast, cupa_admin, rita):
    """Rita's pending request to join the Sacramento CUPA as a reviewer."""
    return services.request_staff_access(
        user=rita, regulator=cast.cupa, role="reviewer", message="Inspector, unit 3."
    )


# --- asking -------------------------------------------------------------------------------


def test_the_directory_offers_signed_in_people_to_ask_to_join(client, cast, rita):
    assert join_url(cast.cupa).encode() not in client.get(DIRECTORY).content  # signed out
    client.force_login(rita)
    page = client.get(DIRECTORY).content.decode()
    assert join_url(cast.cupa) in page
    assert "Ask to join this agency's staff" in page
    assert '<span class="visually-hidden"> (Sacramento County CUPA)</span>' in page


def test_the_page_names_the_agency_and_asks_the_role_and_a_message(client, cast, rita):
    client.force_login(rita)
    response = client.get(join_url(cast.cupa))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ask to join the staff of Sacramento County CUPA" in page
    assert 'name="role"' in page and 'name="message"' in page
    assert "Reviewer / inspector" in page


def test_an_unknown_agency_code_is_404(client, rita):
    client.force_login(rita)
    assert client.get(reverse("staff_request_create", args=["9999"])).status_code == 404
    assert client.get(reverse("staff_request_create", args=["abcd"])).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, cast):
    response = client.get(join_url(cast.cupa))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_a_person_asks_and_the_administrators_are_emailed(client, cast, cupa_admin, rita):
    client.force_login(rita)

    response = client.post(
        join_url(cast.cupa), {"role": "reviewer", "message": "  Inspector, unit 3.  "}
    )

    assert response.status_code == 302
    assert response.url == join_url(cast.cupa)
    staff_request = StaffAccessRequest.objects.get(user=rita)
    assert (staff_request.regulator, staff_request.role, staff_request.status) == (
        cast.cupa,
        "reviewer",
        Status.PENDING,
    )
    assert staff_request.message == "Inspector, unit 3."
    assert not StaffMembership.objects.filter(user=rita).exists()
    assert permissions_of(rita, cast.cupa) == set()
    event = AuditEvent.objects.get(action="regulator.staff_access_requested")
    assert (event.actor, event.regulator) == (rita, cast.cupa)
    assert event.after == {"user": rita.email, "role": "reviewer", "message": "Inspector, unit 3."}
    [email] = emails_to(cupa_admin.email)
    assert rita.email in email.subject
    assert "as Reviewer / inspector" in email.body
    assert "Inspector, unit 3." in email.body
    assert "/regulator/staff/#staff-requests" in email.body
    # The page now says the request waits, with its Withdraw button.
    page = client.get(join_url(cast.cupa)).content.decode()
    assert 'id="request-waiting"' in page
    assert withdraw_url(staff_request) in page
    assert 'name="message"' not in page


def test_asking_twice_is_refused_with_a_message(client, cast, asked, rita):
    client.force_login(rita)
    response = client.post(join_url(cast.cupa), {"role": "viewer"})
    assert response.status_code == 400
    assert "You already asked to join the staff of Sacramento County CUPA" in (
        response.content.decode().replace("&#x27;", "'")
    )
    assert StaffAccessRequest.objects.filter(user=rita).count() == 1


def test_a_request_sent_twice_at_once_is_made_once(cast, cupa_admin, rita):
    """The second of a double click waits for the agency's lock, then finds the first."""
    services.request_staff_access(user=rita, regulator=cast.cupa, role="viewer")
    with pytest.raises(ValidationError, match="already asked"):
        services.request_staff_access(user=rita, regulator=cast.cupa, role="viewer")
    assert StaffAccessRequest.objects.filter(user=rita).count() == 1


def test_someone_already_on_the_staff_is_told_so(client, cast, cupa_admin):
    client.force_login(cast.cupa_reviewer)
    page = client.get(join_url(cast.cupa)).content.decode()
    assert 'id="already-staff"' in page
    assert "Reviewer / inspector" in page
    assert 'name="message"' not in page
    response = client.post(join_url(cast.cupa), {"role": "administrator"})
    assert response.status_code == 400
    assert "already on the staff of Sacramento County CUPA" in response.content.decode()
    assert not StaffAccessRequest.objects.exists()


def test_an_agency_without_an_administrator_cannot_be_asked(client, cast, rita):
    outbox = OutboundEmail.objects.count()
    client.force_login(rita)
    response = client.post(join_url(cast.cupa2), {"role": "viewer"})
    assert response.status_code == 400
    assert "has no administrator in CERS to answer" in response.content.decode()
    assert not StaffAccessRequest.objects.exists()
    assert OutboundEmail.objects.count() == outbox


def test_a_person_invited_already_is_sent_to_the_invitation(client, cast, cupa_admin, rita):
    invitation = services.invite_staff(
        actor=cupa_admin, regulator=cast.cupa, user=rita, role="viewer"
    )
    client.force_login(rita)
    page = client.get(join_url(cast.cupa)).content.decode()
    assert reverse("staff_invitation", args=[invitation.pk]) in page
    with pytest.raises(ValidationError, match="already invited you"):
        services.request_staff_access(user=rita, regulator=cast.cupa, role="viewer")


def test_bad_input_is_explained_on_its_field(client, cast, cupa_admin, rita):
    client.force_login(rita)
    response = client.post(join_url(cast.cupa), {"role": "owner", "message": "x" * 2001})
    assert response.status_code == 400
    form = response.context["form"]
    assert "role" in form.errors and "message" in form.errors
    assert b"There is a problem" in response.content
    assert not StaffAccessRequest.objects.exists()


def test_an_edt_service_account_cannot_ask(cast, cupa_admin):
    robot = factories.make_user("robot@sac-cupa.example", is_service_account=True)
    with pytest.raises(PermissionDenied):
        services.request_staff_access(user=robot, regulator=cast.cupa, role="viewer")


# --- deciding -----------------------------------------------------------------------------


def test_administrators_see_the_pending_requests_on_the_staff_page(client, cast, cupa_admin, asked):
    client.force_login(cupa_admin)
    page = client.get(STAFF).content.decode()
    assert 'id="staff-requests"' in page
    assert f'id="staff-request-{asked.pk}"' in page
    assert "Inspector, unit 3." in page
    assert decide_url(asked) in page
    assert '<option value="reviewer" selected>' in page  # the role asked for, chosen

    client.force_login(cast.cupa_reviewer)
    page = client.get(STAFF).content.decode()
    assert "rita@sac-cupa.example" not in page
    assert decide_url(asked) not in page


def test_the_dashboard_counts_the_requests_for_administrators(client, cast, cupa_admin, asked):
    client.force_login(cupa_admin)
    response = client.get(reverse("regulator:home"))
    assert response.context["staff_request_count"] == 1
    assert b'id="staff-request-count">1<' in response.content
    client.force_login(cast.cupa_reviewer)
    assert b"staff-request-count" not in client.get(reverse("regulator:home")).content


def test_an_administrator_approves_with_another_role(client, cast, cupa_admin, asked, rita):
    client.force_login(cupa_admin)

    response = client.post(decide_url(asked), {"decision": "approve", "role": "viewer"})

    assert response.status_code == 302
    assert "rita@sac-cupa.example is on the staff as Viewer" in page_messages(response)[0]
    asked.refresh_from_db()
    assert (asked.status, asked.granted_role, asked.decided_by) == (
        Status.APPROVED,
        "viewer",
        cupa_admin,
    )
    assert asked.answered_at is not None
    assert StaffMembership.objects.get(user=rita, regulator=cast.cupa).role == "viewer"
    assert permissions_of(rita, cast.cupa) == set(STAFF_ROLE_PERMISSIONS["viewer"])
    event = AuditEvent.objects.get(action="regulator.staff_request_approved")
    assert (event.actor, event.regulator) == (cupa_admin, cast.cupa)
    assert event.after["granted_role"] == "viewer"
    role_set = AuditEvent.objects.get(
        action="regulator.staff_role_set", object_id=str(StaffMembership.objects.get(user=rita).pk)
    )
    assert role_set.after == {"user": rita.email, "role": "viewer"}
    [email] = emails_to(rita.email)
    assert "You joined the staff of Sacramento County CUPA" in email.subject
    assert "as Viewer" in email.body
    # Rita now works in the regulator portal; the request is gone from the staff page.
    client.force_login(rita)
    assert client.get(reverse("regulator:home")).status_code == 200
    client.force_login(cupa_admin)
    assert list(client.get(STAFF).context["staff_requests"]) == []


def test_approving_without_a_role_gives_the_role_asked_for(cast, cupa_admin, asked, rita):
    services.decide_staff_request(actor=cupa_admin, staff_request=asked, approve=True)
    assert StaffMembership.objects.get(user=rita, regulator=cast.cupa).role == "reviewer"


def test_an_administrator_declines_with_a_reason(client, cast, cupa_admin, asked, rita):
    client.force_login(cupa_admin)

    response = client.post(
        decide_url(asked), {"decision": "decline", "reason": "Not on our roster."}
    )

    assert response.status_code == 302
    assert "You declined the request of rita@sac-cupa.example" in page_messages(response)[0]
    asked.refresh_from_db()
    assert (asked.status, asked.decision_reason, asked.granted_role) == (
        Status.DECLINED,
        "Not on our roster.",
        "",
    )
    assert not StaffMembership.objects.filter(user=rita).exists()
    assert permissions_of(rita, cast.cupa) == set()
    event = AuditEvent.objects.get(action="regulator.staff_request_declined")
    assert event.after["decision_reason"] == "Not on our roster."
    [email] = emails_to(rita.email)
    assert "was declined" in email.subject
    assert "Reason: Not on our roster." in email.body


def test_declining_needs_a_reason(client, cast, cupa_admin, asked):
    client.force_login(cupa_admin)
    response = client.post(decide_url(asked), {"decision": "decline", "reason": "  "})
    assert "Say why the request is declined" in page_messages(response)[0]
    asked.refresh_from_db()
    assert asked.status == Status.PENDING


def test_a_second_click_is_answered_with_a_message(client, cast, cupa_admin, asked):
    client.force_login(cupa_admin)
    client.post(decide_url(asked), {"decision": "approve", "role": "reviewer"})
    response = client.post(decide_url(asked), {"decision": "decline", "reason": "Oops."})
    assert response.status_code == 302
    assert "already approved; nothing was changed" in page_messages(response)[-1]
    asked.refresh_from_db()
    assert asked.status == Status.APPROVED


@pytest.fixture
def second_admin(cast, cupa_admin):
    user = factories.make_user("admin2@sac-cupa.example", first_name="Abe")
    factories.add_staff(cast.cupa, user, "administrator")
    return user


def test_two_administrators_deciding_at_once_decide_once(cast, cupa_admin, second_admin, asked):
    """Each read the request waiting; the second locks it after the first committed."""
    seen = copy.copy(asked)
    services.decide_staff_request(actor=cupa_admin, staff_request=asked, approve=True)
    with pytest.raises(ValidationError, match="already approved"):
        services.decide_staff_request(
            actor=second_admin, staff_request=seen, approve=False, reason="No."
        )
    assert StaffMembership.objects.filter(user=asked.user).count() == 1
    assert [email.subject for email in emails_to(asked.user.email)] == [
        "You joined the staff of Sacramento County CUPA in CERS"
    ]


def test_a_decision_and_a_withdrawal_at_once_leave_one_answer(cast, cupa_admin, asked, rita):
    seen = copy.copy(asked)
    services.withdraw_staff_request(user=rita, staff_request=asked)
    with pytest.raises(ValidationError, match="already withdrawn"):
        services.decide_staff_request(actor=cupa_admin, staff_request=seen, approve=True)
    assert not StaffMembership.objects.filter(user=rita).exists()


def test_approving_someone_who_joined_meanwhile_keeps_their_role(cast, cupa_admin, asked, rita):
    factories.add_staff(cast.cupa, rita, "administrator")
    services.decide_staff_request(
        actor=cupa_admin, staff_request=asked, approve=True, role="viewer"
    )
    asked.refresh_from_db()
    assert (asked.status, asked.granted_role) == (Status.APPROVED, "administrator")
    assert StaffMembership.objects.get(user=rita, regulator=cast.cupa).role == "administrator"


# --- withdrawing --------------------------------------------------------------------------


def test_the_person_withdraws_while_it_waits(client, cast, asked, rita):
    client.force_login(rita)

    response = client.post(withdraw_url(asked))

    assert response.status_code == 302
    assert response.url == join_url(cast.cupa)
    asked.refresh_from_db()
    assert asked.status == Status.WITHDRAWN
    event = AuditEvent.objects.get(action="regulator.staff_request_withdrawn")
    assert (event.actor, event.regulator) == (rita, cast.cupa)
    # Withdrawn: gone from the staff page, and the person may ask again.
    assert client.post(withdraw_url(asked)).status_code == 404
    client.post(join_url(cast.cupa), {"role": "viewer"})
    assert StaffAccessRequest.objects.filter(user=rita, status=Status.PENDING).count() == 1


def test_nobody_else_withdraws_a_request(client, cast, cupa_admin, asked):
    for someone in (cupa_admin, cast.lead, cast.cupa_reviewer):
        client.force_login(someone)
        assert client.post(withdraw_url(asked)).status_code == 404
    with pytest.raises(PermissionDenied):
        services.withdraw_staff_request(user=cupa_admin, staff_request=asked)
    asked.refresh_from_db()
    assert asked.status == Status.PENDING


def test_a_decided_request_cannot_be_withdrawn(client, cast, cupa_admin, asked, rita):
    services.decide_staff_request(actor=cupa_admin, staff_request=asked, approve=True)
    client.force_login(rita)
    assert client.post(withdraw_url(asked)).status_code == 404


# --- the permission boundary --------------------------------------------------------------


def test_a_reviewer_cannot_decide(client, cast, asked, rita):
    client.force_login(cast.cupa_reviewer)
    response = client.post(decide_url(asked), {"decision": "approve", "role": "reviewer"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.decide_staff_request(actor=cast.cupa_reviewer, staff_request=asked, approve=True)
    asked.refresh_from_db()
    assert asked.status == Status.PENDING
    assert not StaffMembership.objects.filter(user=rita).exists()


def test_another_agencys_administrator_gets_404(client, cast, cupa2_admin, asked, rita):
    client.force_login(cupa2_admin)
    response = client.post(decide_url(asked), {"decision": "approve", "role": "administrator"})
    assert response.status_code == 404
    assert "rita@sac-cupa.example" not in client.get(STAFF).content.decode()
    with pytest.raises(PermissionDenied):
        services.decide_staff_request(actor=cupa2_admin, staff_request=asked, approve=True)
    assert not StaffMembership.objects.filter(user=rita).exists()


def test_the_state_administrator_decides_only_the_states_own(client, cast, asked, rita):
    client.force_login(cast.state_admin)
    response = client.post(decide_url(asked), {"decision": "approve", "role": "viewer"})
    assert response.status_code == 404
    assert not StaffMembership.objects.filter(user=rita).exists()


def test_business_users_cannot_decide(client, cast, asked):
    client.force_login(cast.lead)
    response = client.post(decide_url(asked), {"decision": "approve", "role": "viewer"})
    assert response.status_code == 403


def test_an_administrator_removed_meanwhile_decides_nothing(
    cast, cupa_admin, second_admin, asked, monkeypatch
):
    """The rule is asked again once the agency is locked."""
    lock = services._lock

    def lock_after_removal(regulator):
        monkeypatch.setattr(services, "_lock", lock)
        services.set_object_permissions(second_admin, cast.cupa, (), services.ALL_PERMISSIONS)
        StaffMembership.objects.filter(regulator=cast.cupa, user=second_admin).delete()
        return lock(regulator)

    monkeypatch.setattr(services, "_lock", lock_after_removal)
    with pytest.raises(PermissionDenied):
        services.decide_staff_request(actor=second_admin, staff_request=asked, approve=True)
    asked.refresh_from_db()
    assert asked.status == Status.PENDING


def test_joining_by_an_invitation_answers_the_pending_request(cast, cupa_admin, rita, asked):
    """An invitation accepted while the request waits: the person is on the staff, so the
    request is answered with the role they got, not left for an administrator to decline."""
    invitation = services.invite_staff(
        actor=cupa_admin, regulator=cast.cupa, user=rita, role="viewer"
    )
    services.accept_staff_invitation(user=rita, invitation=invitation)
    asked.refresh_from_db()
    assert (asked.status, asked.granted_role) == (Status.APPROVED, "viewer")
    assert asked.answered_at is not None
    event = AuditEvent.objects.get(action="regulator.staff_request_approved")
    assert event.after["granted_role"] == "viewer"
    with pytest.raises(ValidationError, match="already approved"):
        services.decide_staff_request(
            actor=cupa_admin, staff_request=asked, approve=False, reason="x"
        )
