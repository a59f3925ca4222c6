"""Each user's notifications page: what needs their action in their own organizations, the
recent alerts, and the e-mails sent to them (only theirs, without secret links)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.elements import SubmittalElement
from core.models import OutboundEmail
from core.services import queue_email
from facilities.models import FacilityRegulator, ReportingRequirement
from facilities.services import send_due_reminders
from organizations.services import request_to_join
from submittals import services
from submittals.models import ElementStatus
from tests.factories import make_user
from tests.submittals.data import complete_facility_information

URL = reverse("business:notifications")
FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY


def page(client, user):
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    return response


def due_in(cast, days, element=HMI, facility=None):
    """``element`` due in ``days`` days, set Applicable by its regulator with the date: the
    facility must report it, whatever its Business Activities say."""
    row = FacilityRegulator.objects.get(facility=facility or cast.facility, element=element)
    row.next_due_date = timezone.localdate() + datetime.timedelta(days=days)
    row.reporting_requirement = ReportingRequirement.APPLICABLE
    row.save()
    return row


def submitted_info(cast):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    record = services.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[record],
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    return record


def test_elements_due_and_overdue_are_listed_for_every_member(cast, client):
    due_in(cast, 20)
    due_in(cast, -3, element=SubmittalElement.UST)
    for user in (cast.viewer, cast.lead):
        response = page(client, user)
        due = response.context["due"]
        assert [(item["row"].element, item["overdue"]) for item in due] == [
            (SubmittalElement.UST, True),
            (HMI, False),
        ]
        assert "Overdue" in response.content.decode()


def test_what_is_not_due_yet_or_not_applicable_is_not_listed(cast, client):
    due_in(cast, 200)
    row = due_in(cast, 5, element=SubmittalElement.UST)
    row.reporting_requirement = ReportingRequirement.NOT_APPLICABLE
    row.save()
    assert page(client, cast.lead).context["due"] == []


def test_an_element_the_business_activities_do_not_switch_on_is_not_listed(cast, client):
    """Without a setting, what is due follows the status grid: the USTs are listed while the
    Business Activities answers that count say the facility has them, not after."""
    from tests.facilities.test_program_filters import answer

    answer(cast, cast.facility, f5="Y")
    row = due_in(cast, 5, element=SubmittalElement.UST)
    row.reporting_requirement = None
    row.save()
    assert [i["row"].element for i in page(client, cast.lead).context["due"]] == [row.element]
    answer(cast, cast.facility, f5="N")
    assert page(client, cast.lead).context["due"] == []


def test_another_organizations_due_dates_are_not_listed(cast, client):
    due_in(cast, 5, facility=cast.other_facility)
    assert page(client, cast.lead).context["due"] == []
    assert [i["row"].facility for i in page(client, cast.outsider).context["due"]] == [
        cast.other_facility
    ]


def test_a_not_accepted_element_is_listed_until_submitted_again(cast, client):
    record = submitted_info(cast)
    services.review(
        actor=cast.cupa_reviewer,
        record=record,
        status=ElementStatus.NOT_ACCEPTED,
        comments="The phone number is missing.",
    )
    response = page(client, cast.approver)
    assert [r.pk for r in response.context["not_accepted"]] == [record.pk]
    assert "The phone number is missing." in response.content.decode()
    assert [r.pk for r in response.context["reviews"]] == [record.pk]
    assert page(client, cast.outsider).context["not_accepted"] == []

    submitted_info(cast)
    assert page(client, cast.approver).context["not_accepted"] == []


def test_elements_reviewed_at_once_are_listed_in_a_stable_order(cast, client):
    """A bulk review (the queue's, an EDT upload's) gives its elements one action time: the
    lists break the tie by the newest element, the same on every visit."""
    from tests.submittals.data import submit

    records = submit(cast, HMI, SubmittalElement.EMERGENCY_RESPONSE)
    services.review_selected(
        actor=cast.cupa_reviewer,
        seen={record.key: services.review_seen(record) for record in records.values()},
        status=ElementStatus.NOT_ACCEPTED,
        comments="Give the night phone number.",
    )
    newest_first = sorted((record.pk for record in records.values()), reverse=True)
    response = page(client, cast.approver)
    assert [r.pk for r in response.context["reviews"]] == newest_first
    assert [r.pk for r in response.context["not_accepted"]] == newest_first


def test_join_requests_are_listed_for_the_lead_user_only(cast, client):
    newcomer = make_user("new@acme.example", first_name="Nina")
    request_to_join(user=newcomer, code=cast.org.code)
    lead = page(client, cast.lead)
    assert [r.user for r in lead.context["join_requests"]] == [newcomer]
    assert "new@acme.example" in lead.content.decode()
    assert page(client, cast.approver).context["join_requests"] == []
    assert page(client, cast.outsider).context["join_requests"] == []


def test_reminders_sent_are_recent_alerts(cast, client):
    due_in(cast, 7)
    send_due_reminders()
    assert len(page(client, cast.viewer).context["reminders"]) == 1
    assert page(client, cast.outsider).context["reminders"] == []


def test_only_the_users_own_emails_are_shown(cast, client):
    queue_email(["approver@acme.example"], "facilities/email/due_reminder", _context(cast, "A"))
    queue_email(["lead@acme.example"], "facilities/email/due_reminder", _context(cast, "B"))
    # A longer address ending with the approver's is someone else's.
    queue_email(["xapprover@acme.example"], "facilities/email/due_reminder", _context(cast, "C"))
    response = page(client, cast.approver)
    subjects = [email.subject for email in response.context["emails"]]
    assert any("Element A" in s for s in subjects)
    assert not any("Element B" in s or "Element C" in s for s in subjects)
    assert "Element B" not in response.content.decode()


def test_a_secret_link_is_never_shown_even_before_the_email_is_sent(cast, client):
    OutboundEmail.objects.create(
        to=["approver@acme.example"],
        subject="Reset your password",
        body="Follow https://cers.example/reset/SECRET-TOKEN/",
        redacted_body="Follow [link removed]",
    )
    response = page(client, cast.approver)
    text = response.content.decode()
    assert "Reset your password" in text
    assert "SECRET-TOKEN" not in text
    assert "[link removed]" in text


@pytest.mark.parametrize("persona", ["cupa_reviewer", "state_admin"])
def test_regulator_staff_see_no_business_items(cast, client, persona):
    due_in(cast, 5)
    response = page(client, getattr(cast, persona))
    assert response.context["due"] == []
    assert response.context["not_accepted"] == []


def _context(cast, name):
    return {
        "facility": cast.facility,
        "organization": cast.org,
        "element": f"Element {name}",
        "regulator": cast.cupa,
        "due_date": datetime.date(2027, 1, 1),
        "days_left": 7,
        "overdue": False,
        "link": "https://cers.example/",
    }
