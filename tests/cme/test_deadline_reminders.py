"""The CME reporting deadline's reminder: seven days before a quarter's CME data are due to
CERS (``cme.deadlines``), the beat's task e-mails each CUPA's and PA's administrators, once
per agency and quarter, through the outbox (``cme.services.send_deadline_reminders``)."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from cme import tasks
from cme.models import DeadlineReminder
from core.models import AuditEvent, OutboundEmail

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 30)  # October to December 2025's


@pytest.fixture
def clock(monkeypatch):
    """California noon ``days`` before the due date (``clock(7)``)."""

    def set_to(days: int):
        day = DUE - datetime.timedelta(days=days)
        moment = datetime.datetime.combine(day, datetime.time(20), tzinfo=datetime.UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


def run() -> int:
    return tasks.send_deadline_reminders.apply().get()


def reminders():
    return list(OutboundEmail.objects.filter(subject__contains="CME data").order_by("pk"))


def test_the_beat_runs_them():
    entry = settings.CELERY_BEAT_SCHEDULE["cme-deadline-reminders"]
    assert entry["task"] == "cme.tasks.send_deadline_reminders"


def test_nothing_before_the_seventh_day(cast, cupa_admin, clock):
    clock(8)
    assert run() == 0
    assert reminders() == []


def test_the_administrators_of_each_local_agency_are_reminded_once(
    cast, cupa_admin, pa_admin, cupa2_admin, clock
):
    clock(7)
    # Sacramento CUPA, its PA and Yolo CUPA; never the state agency.
    assert run() == 3
    sent = reminders()
    assert sorted(address for email in sent for address in email.to) == [
        "admin@sac-cupa.example",
        "admin@sac-pa.example",
        "admin@yolo-cupa.example",
    ]
    email = next(e for e in sent if e.to == ["admin@sac-cupa.example"])
    assert email.subject == "CME data for October to December 2025 due to CERS by 2026-01-30"
    assert "7 days" in email.body
    assert "Sacramento County CUPA (1001)" in email.body
    assert "quarter 2 of fiscal year 2025-26" in email.body
    assert "/regulator/cme/" in email.body
    assert not DeadlineReminder.objects.filter(regulator=cast.state).exists()
    # The next runs, the same day or later, send nothing again.
    assert run() == 0
    clock(3)
    assert run() == 0
    assert len(reminders()) == 3
    event = AuditEvent.objects.get(action="cme.deadline_reminder_sent", regulator=cast.cupa)
    assert event.after == {"due_date": "2026-01-30", "recipients": 1}


def test_a_missed_seventh_day_is_made_good_until_the_due_date(cast, cupa_admin, clock):
    clock(2)
    assert run() == 3  # the CUPAs and the PA, each recorded (the others have no administrator)
    assert [email.to for email in reminders()] == [["admin@sac-cupa.example"]]
    assert DeadlineReminder.objects.get(regulator=cast.cupa2).recipients == 0


def test_nothing_once_the_due_date_has_passed(cast, cupa_admin, clock):
    clock(-1)  # 31 January: the next quarter, due 30 April, is far off
    assert run() == 0
    assert reminders() == []


def test_only_active_administrators_are_written_to(cast, cupa_admin, clock):
    cupa_admin.is_active = False
    cupa_admin.save()
    clock(7)
    run()
    assert reminders() == []
    assert DeadlineReminder.objects.get(regulator=cast.cupa).recipients == 0


def test_a_reminder_recorded_already_is_not_sent_again(cast, cupa_admin, clock):
    """Two runs at once: the one that finds the agency's row written sends nothing for it."""
    DeadlineReminder.objects.create(regulator=cast.cupa, due_date=DUE, recipients=1)
    clock(7)
    run()
    assert reminders() == []
