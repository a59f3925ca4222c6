"""Due date reminders: the beat's task e-mails the organization's Approvers and Lead Users
at the agency's thresholds before an element's due date and once when it is overdue, each
reminder once (``facilities.services.send_due_reminders``)."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.elements import SubmittalElement
from core.models import AuditEvent, OutboundEmail
from facilities import tasks
from facilities.models import DueReminder, FacilityRegulator, ReportingRequirement
from facilities.services import reminder_kind
from regulators.models import validate_reminder_days
from submittals import services as submittal_services
from submittals.models import ElementStatus
from tests.submittals.data import complete_facility_information

FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
DUE = datetime.date(2027, 3, 1)
SUBMITTERS = {"approver@acme.example", "lead@acme.example"}


class Clock:
    def __init__(self):
        self.today = DUE

    def now(self):
        return datetime.datetime.combine(self.today, datetime.time(12), tzinfo=datetime.UTC)

    def set(self, days_before_due: int):
        self.today = DUE - datetime.timedelta(days=days_before_due)


@pytest.fixture
def clock(monkeypatch):
    pinned = Clock()
    monkeypatch.setattr(timezone, "now", pinned.now)
    return pinned


def due(cast, element=HMI, date=DUE, facility=None):
    """``element`` of the facility due on ``date``, set Applicable by its regulator with the
    date (as the facility page's form sets both): the facility must report it, whatever its
    Business Activities say (``schedule.requirement_of``)."""
    row = FacilityRegulator.objects.get(facility=facility or cast.facility, element=element)
    row.next_due_date = date
    row.reporting_requirement = ReportingRequirement.APPLICABLE
    row.save()
    return row


def run():
    return tasks.send_due_reminders.apply().get()


def reminder_emails():
    return list(OutboundEmail.objects.filter(subject__contains="Inventory").order_by("pk"))


def test_the_beat_runs_the_reminders():
    assert (
        settings.CELERY_BEAT_SCHEDULE["due-date-reminders"]["task"]
        == "facilities.tasks.send_due_reminders"
    )


@pytest.mark.parametrize(
    ("days_left", "kind"),
    [
        (61, None),
        (60, "60"),
        (31, "60"),
        (30, "30"),
        (8, "30"),
        (7, "7"),
        (0, "7"),
        (-1, "overdue"),
    ],
)
def test_the_tightest_threshold_reached_is_the_reminder(days_left, kind):
    assert reminder_kind(days_left, [60, 30, 7]) == kind


def test_each_threshold_is_reminded_once_to_approvers_and_lead_users(cast, clock):
    row = due(cast)
    clock.set(61)
    assert run() == 0

    clock.set(60)
    assert run() == 1
    assert run() == 0  # the same day again: nothing more
    emails = reminder_emails()
    assert {address for email in emails for address in email.to} == SUBMITTERS
    assert all(len(email.to) == 1 for email in emails)
    assert "in 60 days" in emails[0].body
    assert str(cast.facility.cers_id) in emails[0].subject

    clock.set(45)
    assert run() == 0
    clock.set(30)
    assert run() == 1
    clock.set(10)
    assert run() == 0
    clock.set(7)
    assert run() == 1
    assert run() == 0
    assert sorted(row.reminders.values_list("kind", flat=True)) == ["30", "60", "7"]
    assert len(reminder_emails()) == 6
    # Editors and viewers are not reminded.
    assert {address for email in reminder_emails() for address in email.to} == SUBMITTERS


def test_a_missed_run_sends_only_the_tightest_reminder(cast, clock):
    due(cast)
    clock.set(5)
    assert run() == 1
    assert list(DueReminder.objects.values_list("kind", flat=True)) == ["7"]


def test_an_overdue_element_is_reminded_once(cast, clock):
    row = due(cast)
    clock.set(-1)
    assert run() == 1
    clock.set(-20)
    assert run() == 0
    [reminder] = row.reminders.all()
    assert reminder.is_overdue
    emails = reminder_emails()
    assert len(emails) == 2
    assert emails[0].subject.startswith("Overdue")
    assert "was due on" in emails[0].body


def test_a_new_due_date_is_reminded_again(cast, clock):
    row = due(cast)
    clock.set(7)
    assert run() == 1
    row.next_due_date = DUE + datetime.timedelta(days=365)
    row.save()
    clock.today = row.next_due_date - datetime.timedelta(days=30)
    assert run() == 1
    assert row.reminders.count() == 2


def test_thresholds_are_the_agencys_own(cast, clock):
    cast.cupa.reminder_days = [90, 14]
    cast.cupa.save()
    due(cast)
    clock.set(91)
    assert run() == 0
    clock.set(90)
    assert run() == 1
    clock.set(60)  # not among the agency's days
    assert run() == 0
    clock.set(30)
    assert run() == 0
    clock.set(14)
    assert run() == 1
    assert sorted(DueReminder.objects.values_list("kind", flat=True)) == ["14", "90"]


def test_another_agencys_thresholds_do_not_apply(cast, clock):
    cast.cupa2.reminder_days = [90]
    cast.cupa2.save()
    due(cast)  # handled by the Sacramento CUPA: 60, 30, 7
    due(cast, facility=cast.facility_yolo)  # handled by the Yolo CUPA: 90
    clock.set(90)
    assert run() == 1
    [reminder] = DueReminder.objects.all()
    assert reminder.facility_element.facility == cast.facility_yolo


def test_not_applicable_elements_are_not_reminded(cast, clock):
    row = due(cast)
    row.reporting_requirement = ReportingRequirement.NOT_APPLICABLE
    row.save()
    clock.set(7)
    assert run() == 0


def test_an_element_submitted_for_the_due_date_is_not_reminded(cast, clock):
    due(cast, element=FI)
    clock.set(40)
    record = submittal_services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    record = submittal_services.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    submittal_services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[record],
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    clock.set(30)
    assert run() == 0
    clock.set(-3)
    assert run() == 0


def test_an_element_accepted_the_day_it_was_submitted_is_reminded_for_its_anniversary(cast, clock):
    """Accepted on the day it was submitted, an element is due on the anniversary, exactly a
    reporting period after that submittal: the submittal reported for the date it was accepted
    on, not for the next one, so the reminders go out."""
    clock.set(365)  # a year before the due date
    record = submittal_services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    record = submittal_services.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    submittal_services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[record],
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    record.refresh_from_db()
    submittal_services.review(
        actor=cast.cupa_reviewer, record=record, status=ElementStatus.ACCEPTED
    )
    assert FacilityRegulator.objects.get(facility=cast.facility, element=FI).next_due_date == DUE
    clock.set(60)
    assert run() == 1


def test_another_organizations_people_are_never_reminded(cast, clock):
    due(cast, facility=cast.other_facility)
    clock.set(7)
    assert run() == 1
    addresses = {a for email in reminder_emails() for a in email.to}
    assert addresses == {"outsider@other.example"}


@pytest.mark.parametrize("value", [[], [0], [400], ["7"], "60", [True]])
def test_reminder_days_must_be_whole_days(value):
    with pytest.raises(Exception, match="days"):
        validate_reminder_days(value)


# --- the agency chooses its reminder days -----------------------------------------------------


def test_the_agency_administrator_sets_the_reminder_days(cast, client):
    from regulators.services import set_reminder_days
    from tests.factories import add_staff, make_user

    admin = make_user("admin@sac-cupa.example")
    add_staff(cast.cupa, admin, "administrator")
    client.force_login(admin)
    url = reverse("regulator:reminder_days")
    assert client.get(url).status_code == 200

    response = client.post(url, {"days": "14, 90"})
    assert response.status_code == 302
    cast.cupa.refresh_from_db()
    assert cast.cupa.reminder_days == [90, 14]
    assert AuditEvent.objects.filter(action="regulators.reminder_days_set").exists()

    response = client.post(url, {"days": "90, soon"})
    assert response.status_code == 200
    assert "whole numbers of days" in response.content.decode()
    with pytest.raises(ValidationError):
        set_reminder_days(actor=admin, regulator=cast.cupa, days=[0])


def test_reviewers_see_the_reminder_days_but_cannot_change_them(cast, client):
    from regulators.services import set_reminder_days

    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:reminder_days")
    response = client.get(url)
    assert response.status_code == 200
    assert "60, 30, 7" in response.content.decode()
    assert client.post(url, {"days": "5"}).status_code == 403
    with pytest.raises(PermissionDenied):
        set_reminder_days(actor=cast.cupa_reviewer, regulator=cast.cupa, days=[5])
    cast.cupa.refresh_from_db()
    assert cast.cupa.reminder_days == [60, 30, 7]


def test_a_closed_facility_is_not_reminded_until_it_reopens(cast, clock, client):
    from facilities.services import close_facility, reopen_facility

    due(cast)
    close_facility(actor=cast.lead, facility=cast.facility, reason="Sold")
    clock.set(-3)
    assert run() == 0
    client.force_login(cast.approver)
    due_list = client.get(reverse("business:notifications")).context["due"]
    assert [item["row"].facility_id for item in due_list] == []
    reopen_facility(actor=cast.lead, facility=cast.facility, reason="Bought back")
    assert run() == 1
    assert list(DueReminder.objects.values_list("kind", flat=True)) == ["overdue"]
    due_list = client.get(reverse("business:notifications")).context["due"]
    assert [(item["row"].facility_id, item["overdue"]) for item in due_list] == [
        (cast.facility.pk, True)
    ]


def test_an_element_the_business_activities_no_longer_switch_on_is_not_reminded(cast, clock):
    """Without a setting, the reminders follow the status grid (``schedule.requirement_of``):
    USTs are reminded while the Business Activities answers that count say the facility has
    them, and no longer once a later Facility Information says it has none."""
    from tests.facilities.test_program_filters import answer

    clock.set(100)
    answer(cast, cast.facility, f5="Y")
    row = FacilityRegulator.objects.get(facility=cast.facility, element=SubmittalElement.UST)
    row.next_due_date = DUE
    row.save()
    clock.set(60)
    assert run() == 1
    answer(cast, cast.facility, f5="N")
    clock.set(30)
    assert run() == 0
    clock.set(-1)
    assert run() == 0
    assert list(DueReminder.objects.values_list("facility_element", "kind")) == [(row.pk, "60")]
