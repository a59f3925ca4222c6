"""The staff page: an agency's administrators add people with a CERS account, change their
roles and remove them; every staff member sees the list; the last administrator stays."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from regulators.models import StaffInvitation, StaffMembership
from regulators.roles import ALL_PERMISSIONS, STAFF_ROLE_PERMISSIONS
from tests import factories

NO_ACCOUNT = "No CERS account has that e-mail address; ask them to create one first."
LAST_ADMIN = "This is the agency's only administrator."


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def permissions_of(user, regulator) -> set[str]:
    """The agency permissions ``user`` holds, asked one by one through ``has_perm``."""
    user = type(user).objects.get(pk=user.pk)  # no permission cache from earlier checks
    return {c for c in ALL_PERMISSIONS if user.has_perm(f"regulators.{c}", regulator)}


def membership(user, regulator) -> StaffMembership:
    return StaffMembership.objects.get(user=user, regulator=regulator)


@pytest.fixture
def admin_client(client, cupa_admin):
    client.force_login(cupa_admin)
    return client


def test_every_staff_member_sees_the_agency_staff_read_only(client, cast, cupa_admin):
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:staff"))
    assert response.status_code == 200
    assert cupa_admin.email.encode() in response.content
    assert b"Ada Admin" in response.content
    assert cast.cupa_reviewer.email.encode() in response.content
    assert cast.pa_viewer.email.encode() not in response.content  # another agency's staff
    assert b"Add to the staff" not in response.content
    assert b'name="role"' not in response.content
    assert b">Remove<" not in response.content


def test_the_administrator_sees_the_forms_and_role_descriptions(admin_client, cast):
    response = admin_client.get(reverse("regulator:staff"))
    assert b"Add to the staff" in response.content
    remove_url = reverse(
        "regulator:staff_remove", args=[membership(cast.cupa_reviewer, cast.cupa).pk]
    )
    assert remove_url.encode() in response.content
    assert b"reviews submittals and records inspections" in response.content
    assert b">Remove<" in response.content


def test_the_state_administrator_sees_only_its_own_agency(client, cast):
    client.force_login(cast.state_admin)
    response = client.get(reverse("regulator:staff"))
    assert response.status_code == 200
    assert cast.state_admin.email.encode() in response.content
    assert cast.cupa_reviewer.email.encode() not in response.content


def test_business_users_cannot_see_the_staff_page(client, cast):
    client.force_login(cast.lead)
    assert client.get(reverse("regulator:staff")).status_code == 403


def test_an_administrator_adds_a_reviewer_who_gets_the_reviewer_permissions(
    admin_client, client, cast, cupa_admin
):
    # Issue 12: adding someone invites them; the membership is made when they accept.
    newcomer = factories.make_user("new@sac-cupa.example")
    response = admin_client.post(
        reverse("regulator:staff_add"), {"email": "NEW@sac-cupa.example", "role": "reviewer"}
    )
    assert response.status_code == 302
    invitation = StaffInvitation.objects.get(user=newcomer, regulator=cast.cupa)
    assert invitation.role == "reviewer"
    assert not StaffMembership.objects.filter(user=newcomer).exists()
    event = AuditEvent.objects.get(action="regulator.staff_invited", actor=cupa_admin)
    assert event.regulator == cast.cupa
    assert event.after == {"user": "new@sac-cupa.example", "role": "reviewer"}

    client.force_login(newcomer)
    client.post(reverse("staff_invitation", args=[invitation.pk]))

    assert membership(newcomer, cast.cupa).role == "reviewer"
    assert permissions_of(newcomer, cast.cupa) == set(STAFF_ROLE_PERMISSIONS["reviewer"])
    event = AuditEvent.objects.get(action="regulator.staff_role_set", actor=newcomer)
    assert event.regulator == cast.cupa
    assert event.after == {"user": "new@sac-cupa.example", "role": "reviewer"}


def test_an_unknown_email_creates_no_account(admin_client, cast):
    from accounts.models import User

    users = User.objects.count()
    response = admin_client.post(
        reverse("regulator:staff_add"), {"email": "nobody@example.com", "role": "viewer"}
    )
    assert page_messages(response) == [NO_ACCOUNT]
    assert User.objects.count() == users
    assert not StaffMembership.objects.filter(user__email="nobody@example.com").exists()


def test_an_inactive_account_cannot_be_added(admin_client, cast):
    dormant = factories.make_user("dormant@example.com", is_active=False)
    response = admin_client.post(
        reverse("regulator:staff_add"), {"email": dormant.email, "role": "viewer"}
    )
    assert page_messages(response) == [NO_ACCOUNT]
    assert not StaffMembership.objects.filter(user=dormant).exists()


def test_an_edt_service_account_is_refused(admin_client, cast):
    robot = factories.make_user("edt@sac-cupa.example", is_service_account=True)
    response = admin_client.post(
        reverse("regulator:staff_add"), {"email": robot.email, "role": "viewer"}
    )
    assert page_messages(response) == ["An EDT service account cannot be agency staff."]
    assert not StaffMembership.objects.filter(user=robot).exists()
    assert permissions_of(robot, cast.cupa) == set()


def test_adding_someone_already_on_staff_changes_nothing_and_says_so(admin_client, cast):
    events = AuditEvent.objects.count()
    response = admin_client.post(
        reverse("regulator:staff_add"),
        {"email": cast.cupa_reviewer.email, "role": "administrator"},
    )
    [message] = page_messages(response)
    assert "already on the staff as Reviewer / inspector" in message
    assert membership(cast.cupa_reviewer, cast.cupa).role == "reviewer"
    assert permissions_of(cast.cupa_reviewer, cast.cupa) == set(STAFF_ROLE_PERMISSIONS["reviewer"])
    assert AuditEvent.objects.count() == events


def test_an_administrator_changes_a_role(admin_client, cast, cupa_admin):
    target = membership(cast.cupa_reviewer, cast.cupa)
    response = admin_client.post(
        reverse("regulator:staff_role", args=[target.pk]), {"role": "viewer"}
    )
    assert response.status_code == 302
    assert page_messages(response) == [f"{cast.cupa_reviewer.email} is now Viewer."]
    assert membership(cast.cupa_reviewer, cast.cupa).role == "viewer"
    assert permissions_of(cast.cupa_reviewer, cast.cupa) == set(STAFF_ROLE_PERMISSIONS["viewer"])
    event = AuditEvent.objects.filter(action="regulator.staff_role_set", actor=cupa_admin).get()
    assert event.before == {"role": "reviewer"}
    assert event.after["role"] == "viewer"


def test_an_administrator_removes_a_member(admin_client, cast, cupa_admin):
    target = membership(cast.cupa_reviewer, cast.cupa)
    response = admin_client.post(reverse("regulator:staff_remove", args=[target.pk]))
    assert response.status_code == 302
    assert not StaffMembership.objects.filter(pk=target.pk).exists()
    assert permissions_of(cast.cupa_reviewer, cast.cupa) == set()
    event = AuditEvent.objects.get(action="regulator.staff_removed")
    assert event.actor == cupa_admin
    assert event.regulator == cast.cupa
    assert event.before == {"user": cast.cupa_reviewer.email, "role": "reviewer"}


def test_the_last_administrator_cannot_be_removed(admin_client, cast, cupa_admin):
    own = membership(cupa_admin, cast.cupa)
    events = AuditEvent.objects.count()
    response = admin_client.post(reverse("regulator:staff_remove", args=[own.pk]))
    [message] = page_messages(response)
    assert message.startswith(LAST_ADMIN)
    assert membership(cupa_admin, cast.cupa).role == "administrator"
    assert permissions_of(cupa_admin, cast.cupa) == set(STAFF_ROLE_PERMISSIONS["administrator"])
    assert AuditEvent.objects.count() == events


def test_the_last_administrator_cannot_be_demoted(admin_client, cast, cupa_admin):
    own = membership(cupa_admin, cast.cupa)
    events = AuditEvent.objects.count()
    response = admin_client.post(
        reverse("regulator:staff_role", args=[own.pk]), {"role": "reviewer"}
    )
    [message] = page_messages(response)
    assert message.startswith(LAST_ADMIN)
    assert membership(cupa_admin, cast.cupa).role == "administrator"
    assert permissions_of(cupa_admin, cast.cupa) == set(STAFF_ROLE_PERMISSIONS["administrator"])
    assert AuditEvent.objects.count() == events


def test_an_administrator_can_step_down_once_there_is_another(admin_client, cast, cupa_admin):
    factories.add_staff(cast.cupa, factories.make_user("second@sac-cupa.example"), "administrator")
    own = membership(cupa_admin, cast.cupa)
    admin_client.post(reverse("regulator:staff_role", args=[own.pk]), {"role": "reviewer"})
    assert membership(cupa_admin, cast.cupa).role == "reviewer"


@pytest.mark.parametrize(
    ("name", "data"),
    [("staff_add", None), ("staff_role", {"role": "viewer"}), ("staff_remove", {})],
)
def test_a_reviewer_cannot_manage_staff(client, cast, cupa_admin, name, data):
    client.force_login(cast.cupa_reviewer)
    target = membership(cupa_admin, cast.cupa)
    if name == "staff_add":
        url = reverse("regulator:staff_add")
        data = {"email": factories.make_user("x@example.com").email, "role": "administrator"}
    else:
        url = reverse(f"regulator:{name}", args=[target.pk])
    assert client.post(url, data).status_code == 403
    assert StaffMembership.objects.filter(regulator=cast.cupa).count() == 2
    assert membership(cupa_admin, cast.cupa).role == "administrator"


@pytest.mark.parametrize(
    ("name", "data"), [("staff_role", {"role": "viewer"}), ("staff_remove", {})]
)
def test_another_agencys_administrator_gets_404(client, cast, name, data):
    client.force_login(cast.state_admin)
    target = membership(cast.cupa_reviewer, cast.cupa)
    response = client.post(reverse(f"regulator:{name}", args=[target.pk]), data)
    assert response.status_code == 404
    assert membership(cast.cupa_reviewer, cast.cupa).role == "reviewer"


def test_adding_goes_to_the_current_agency_only(client, cast):
    client.force_login(cast.state_admin)
    client.post(reverse("regulator:staff_add"), {"email": cast.lead.email, "role": "viewer"})
    # Issue 12: an invitation, not yet a membership.
    assert list(
        StaffInvitation.objects.filter(user=cast.lead).values_list("regulator", flat=True)
    ) == [cast.state.pk]
    assert not StaffMembership.objects.filter(user=cast.lead).exists()


def staff_page_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("regulator:staff"))
    assert response.status_code == 200
    return len(captured)


def test_the_staff_page_query_count_does_not_grow_with_the_staff(admin_client, cast, settings):
    settings.CERS_PAGE_SIZE = 25
    for n in range(1):  # the reviewer, the administrator and one more: 3
        factories.add_staff(cast.cupa, factories.make_user(f"staff{n}@sac-cupa.example"), "viewer")
    admin_client.get(reverse("regulator:staff"))  # the first request settles the session
    with_3 = staff_page_queries(admin_client)
    for n in range(1, 28):
        factories.add_staff(cast.cupa, factories.make_user(f"staff{n}@sac-cupa.example"), "viewer")
    assert StaffMembership.objects.filter(regulator=cast.cupa).count() == 30
    assert staff_page_queries(admin_client) == with_3
    response = admin_client.get(reverse("regulator:staff"), {"page": 2})
    assert b"Page 2 of 2" in response.content
    assert len(response.context["page"]) == 30 - settings.CERS_PAGE_SIZE
