"""RFSAN over HTTP: a CUPA's system sets review statuses as a reviewer would in the portal."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEvent, OutboundEmail
from facilities.models import FacilityRegulator
from submittals.models import ElementStatus, SubmittalElementRecord
from tests.submittals.data import submit

from .conftest import assert_valid, content, legacy_header

NS = "http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilitySubmittalActionNotification/1/05/"
URL = "/EDT/Regulator/FacilitySubmittal/ActionNotification?regulatorCode=1001"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def notification(
    record,
    *,
    status=4,
    code=None,
    cersid=None,
    regulator="1001",
    when=None,
    comments="",
    due=None,
    key=None,
) -> str:
    when = when or timezone.now()
    parts = [
        f"<CERSUniqueKey>{key or record.key}</CERSUniqueKey>",
        f"<CERSID>{cersid or record.facility.cers_id}</CERSID>",
        f"<RegulatorCode>{regulator}</RegulatorCode>",
        f"<SubmittalAction>{status}</SubmittalAction>",
        f"<SubmittalActionOn>{timezone.localtime(when).replace(tzinfo=None).isoformat(timespec='seconds')}</SubmittalActionOn>",
        "<SubmittalActionAgentName>Rita Reviewer</SubmittalActionAgentName>",
        "<SubmittalActionAgentEmail>rita@sac-cupa.example</SubmittalActionAgentEmail>",
    ]
    if comments:
        parts.append(f"<SubmittalActionComments>{comments}</SubmittalActionComments>")
    if due:
        parts.append(f"<NextDueDate>{due}</NextDueDate>")
    return f'<SubmittalElement code="{code or record.element}">{"".join(parts)}</SubmittalElement>'


def document(*notifications: str, client_key: str = "") -> bytes:
    key = f"<RegulatorTransactionKey>{client_key}</RegulatorTransactionKey>" if client_key else ""
    return (
        f'<cers:RegulatorFacilitySubmittalActionNotifications xmlns:cers="{NS}">{key}'
        f"<SubmittalElements>{''.join(notifications)}</SubmittalElements>"
        "</cers:RegulatorFacilitySubmittalActionNotifications>"
    ).encode()


def post(client, account, body: bytes, url=URL):
    response = client.post(url, body, content_type="text/xml", **legacy_header(account))
    assert response.status_code == 200, content(response)
    return assert_valid(content(response), "1.05", "RegulatorFacilitySubmittalResponse.xsd")


@pytest.fixture
def records(cast):
    return submit(cast, 2, 4)  # Facility Information, inventory (CUPA), UST (its PA)


def test_it_sets_the_review_status_as_the_portal_does(client, cast, edt_account, records):
    fi = records[1]
    due = (timezone.localdate() + timedelta(days=365)).isoformat()
    root = post(client, edt_account, document(notification(fi, status=4, due=due)))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"

    fi.refresh_from_db()
    assert fi.status == ElementStatus.ACCEPTED
    assert (fi.action_agent_name, fi.action_agent_email) == (
        "Rita Reviewer",
        "rita@sac-cupa.example",
    )
    assert fi.action_by == edt_account.user
    event = AuditEvent.objects.get(action="submittal.reviewed", object_id=str(fi.pk))
    assert event.actor == edt_account.user
    assert event.after["status"] == ElementStatus.ACCEPTED
    assert OutboundEmail.objects.filter(subject__icontains="Accepted").exists()
    due_row = FacilityRegulator.objects.get(facility=fi.facility, element=1)
    assert due_row.next_due_date.isoformat() == due


def test_a_next_due_date_is_audited(client, cast, edt_account, records):
    fi, ust = records[1], records[4]
    row = FacilityRegulator.objects.get(facility=fi.facility, element=1)
    was = row.next_due_date.isoformat() if row.next_due_date else None
    due = (timezone.localdate() + timedelta(days=365)).isoformat()
    ust_due = (timezone.localdate() + timedelta(days=30)).isoformat()
    root = post(
        client,
        edt_account,
        document(notification(fi, status=4, due=due), notification(ust, status=4, due=ust_due)),
    )
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"

    event = AuditEvent.objects.get(
        action="facility.elements_changed", object_id=str(fi.facility.pk)
    )
    assert event.actor == edt_account.user
    assert event.before == {"1": {"next_due_date": was}, "4": {"next_due_date": None}}
    assert event.after == {"1": {"next_due_date": due}, "4": {"next_due_date": ust_due}}
    assert event.organization == fi.facility.organization

    # The same dates again change nothing, and say so by writing no event.
    post(client, edt_account, document(notification(fi, status=4, due=due)))
    assert AuditEvent.objects.filter(action="facility.elements_changed").count() == 1


def test_the_cupa_acts_for_its_pas_elements(client, cast, edt_account, records):
    ust = records[4]
    assert ust.regulator == cast.pa
    root = post(client, edt_account, document(notification(ust, status=3)))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    ust.refresh_from_db()
    assert ust.status == ElementStatus.UNDER_REVIEW


def test_every_problem_is_listed_and_nothing_is_changed(client, cast, edt_account, records):
    fi, inventory = records[1], records[2]
    yolo = submit(cast, facility=cast.facility_yolo)[1]
    body = document(
        notification(fi, status=5),  # Not Accepted without comments
        notification(inventory, code=3),  # wrong element type
        notification(inventory, cersid=99999999),  # another facility's CERS ID
        notification(fi, regulator="1002"),
        notification(fi, when=fi.submitted_at - timedelta(days=1)),
        notification(yolo),  # Yolo's CUPA, not this one
        notification(fi, key="5c8f4f63-2d77-4a1f-9d3c-6d0d5e0a1b2c"),
        notification(fi, due="2020-01-01"),
    )
    root = post(client, edt_account, body)
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    codes = [m.get("guidanceCode") for m in root.findall("GuidanceMessages/GuidanceMessage")]
    assert codes == ["1013", "1013", "1054", "1049", "1052", "1053", "1051", "1075"]
    assert set(
        SubmittalElementRecord.objects.filter(pk__in=[fi.pk, inventory.pk, yolo.pk]).values_list(
            "status", flat=True
        )
    ) == {ElementStatus.SUBMITTED}
    assert not AuditEvent.objects.filter(action="submittal.reviewed").exists()


def test_not_accepted_with_comments_is_accepted(client, cast, edt_account, records):
    fi = records[1]
    post(client, edt_account, document(notification(fi, status=5, comments="Wrong address.")))
    fi.refresh_from_db()
    assert (fi.status, fi.action_comments) == (ElementStatus.NOT_ACCEPTED, "Wrong address.")


def test_staging_checks_and_rolls_back(client, cast, edt_account, records):
    fi = records[1]
    staging = URL.replace("/EDT/", "/Staging/")
    root = post(client, edt_account, document(notification(fi)), url=staging)
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    fi.refresh_from_db()
    assert fi.status == ElementStatus.SUBMITTED


def test_a_pa_account_cannot_send_action_notifications(client, cast, pa_edt_account, records):
    response = client.post(
        URL.replace("1001", "1101"),
        document(notification(records[4], regulator="1101")),
        content_type="text/xml",
        **legacy_header(pa_edt_account),
    )
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"


def test_a_status_never_goes_back_to_submitted(client, cast, edt_account, records):
    root = post(client, edt_account, document(notification(records[1], status=2)))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"


# --- many notifications in one upload ----------------------------------------------------------


def reviewed(record) -> list[tuple[int, int]]:
    events = AuditEvent.objects.filter(action="submittal.reviewed", object_id=str(record.pk))
    return [(e.before["status"], e.after["status"]) for e in events.order_by("created_at", "id")]


def test_many_notifications_are_stored_together_each_audited_one_email_for_the_business(
    client, cast, edt_account, records
):
    fi, inventory, ust = records[1], records[2], records[4]
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    body = document(
        notification(fi, status=4, due=due),
        notification(inventory, status=5, comments="The site map is missing."),
        notification(ust, status=3),
    )
    OutboundEmail.objects.all().delete()
    root = post(client, edt_account, body)
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"

    statuses = dict(
        SubmittalElementRecord.objects.filter(pk__in=[fi.pk, inventory.pk, ust.pk]).values_list(
            "pk", "status"
        )
    )
    assert statuses == {fi.pk: 4, inventory.pk: 5, ust.pk: 3}
    assert [reviewed(r) for r in (fi, inventory, ust)] == [[(2, 4)], [(2, 5)], [(2, 3)]]
    assert (
        FacilityRegulator.objects.get(facility=fi.facility, element=1).next_due_date.isoformat()
        == due
    )
    # The Lead User and the submitter were told of all three, in one e-mail.
    [summary] = OutboundEmail.objects.all()
    assert sorted(summary.to) == ["approver@acme.example", "lead@acme.example"]
    assert "3 submittal elements of Acme Fuels" in summary.subject
    assert "The site map is missing." in summary.body


def test_good_and_bad_notifications_together_store_nothing_and_list_each_problem(
    client, cast, edt_account, records
):
    fi, inventory, ust = records[1], records[2], records[4]
    OutboundEmail.objects.all().delete()
    body = document(
        notification(fi, status=4),
        notification(inventory, status=5),  # Not Accepted without comments
        notification(ust, status=3),
        notification(fi, key="5C8F4F63-2D77-4A1F-9D3C-6D0D5E0A1B2C"),  # no such element
    )
    root = post(client, edt_account, body)
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    messages = root.findall("GuidanceMessages/GuidanceMessage")
    assert [m.get("guidanceCode") for m in messages] == ["1013", "1051"]
    assert "[SubmittalElement 2 (line 1)]" in messages[0].text
    assert set(
        SubmittalElementRecord.objects.filter(pk__in=[fi.pk, inventory.pk, ust.pk]).values_list(
            "status", flat=True
        )
    ) == {ElementStatus.SUBMITTED}
    assert not AuditEvent.objects.filter(action="submittal.reviewed").exists()
    assert not OutboundEmail.objects.exists()


def test_an_element_named_twice_keeps_both_actions_in_its_history(
    client, cast, edt_account, records
):
    fi = records[1]
    body = document(notification(fi, status=3), notification(fi, status=4))
    root = post(client, edt_account, body)
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    fi.refresh_from_db()
    assert fi.status == ElementStatus.ACCEPTED
    assert reviewed(fi) == [(2, 3), (3, 4)]


def test_the_queries_do_not_grow_with_the_notifications(client, cast, edt_account, records):
    fi, inventory, ust = records[1], records[2], records[4]
    post(client, edt_account, document(notification(fi, status=3)))  # warm caches
    one_body = document(notification(fi, status=4))
    three_body = document(
        notification(fi, status=6),
        notification(inventory, status=4),
        notification(ust, status=5, comments="Tank test missing."),
    )
    with CaptureQueriesContext(connection) as one:
        post(client, edt_account, one_body)
    with CaptureQueriesContext(connection) as three:
        post(client, edt_account, three_body)
    assert len(three) == len(one)
    assert reviewed(ust) == [(2, 5)]


def test_an_element_named_twice_is_refused_when_its_second_action_is_earlier(
    client, cast, edt_account, records
):
    fi = records[1]
    now = timezone.now()
    SubmittalElementRecord.objects.filter(pk=fi.pk).update(submitted_at=now - timedelta(days=2))
    body = document(
        notification(fi, status=3, when=now - timedelta(hours=1)),
        notification(fi, status=4, when=now - timedelta(days=1)),
    )
    root = post(client, edt_account, body)
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    [message] = root.findall("GuidanceMessages/GuidanceMessage")
    assert message.get("guidanceCode") == "1052"
    assert "[SubmittalElement 2 " in message.text
    fi.refresh_from_db()
    assert fi.status == ElementStatus.SUBMITTED


def test_an_earlier_action_in_another_zone_is_told_in_pacific_time(
    client, cast, edt_account, records
):
    """A SubmittalActionOn written in UTC ("Z") before the element's last action is refused
    with both times as Pacific clock readings: the message does not set a UTC reading (later
    on the clock) beside a Pacific one."""
    fi = records[1]
    last = timezone.make_aware(datetime(2026, 12, 7, 10, 30))  # 10:30 PST, 18:30 UTC
    SubmittalElementRecord.objects.filter(pk=fi.pk).update(submitted_at=last)
    action = notification(fi, status=4, when=last - timedelta(minutes=30)).replace(
        "2026-12-07T10:00:00",
        "2026-12-07T18:00:00Z",  # the same moment, in UTC
    )
    with mock.patch("django.utils.timezone.now", return_value=last + timedelta(hours=2)):
        root = post(client, edt_account, document(action))
    [message] = root.findall("GuidanceMessages/GuidanceMessage")
    assert message.get("guidanceCode") == "1052"
    assert "SubmittalActionOn 2026-12-07 10:00 PST is earlier than" in message.text
    assert "last action (2026-12-07 10:30 PST)" in message.text


@pytest.mark.parametrize("suffix", ["Z", "-08:00", "+14:00"])
def test_a_next_due_date_written_with_a_time_zone_is_the_day_it_names(
    client, cast, edt_account, records, suffix
):
    """xs:date may carry a time zone after the day (as Java's JAXB writes it): the day is the
    due date, never dropped in silence."""
    fi = records[1]
    due = timezone.localdate() + timedelta(days=200)
    root = post(
        client,
        edt_account,
        document(notification(fi, status=4, due=f"{due.isoformat()}{suffix}")),
    )
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert FacilityRegulator.objects.get(facility=fi.facility, element=1).next_due_date == due
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    root = post(client, edt_account, document(notification(fi, status=4, due=f"{past}{suffix}")))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"


def test_an_action_in_the_future_says_how_its_time_was_read(client, cast, edt_account, records):
    """A system writing UTC without a zone sends times hours ahead of California's: the
    refusal shows the time as read (Pacific) and now, and says a time without a zone is
    Pacific time."""
    fi = records[1]
    now = timezone.make_aware(datetime(2026, 12, 7, 10, 30))  # 10:30 PST, 18:30 UTC
    SubmittalElementRecord.objects.filter(pk=fi.pk).update(submitted_at=now - timedelta(days=1))
    action = notification(fi, status=4, when=now + timedelta(hours=8))  # 18:30 written bare
    with mock.patch("django.utils.timezone.now", return_value=now):
        root = post(client, edt_account, document(action))
    [message] = root.findall("GuidanceMessages/GuidanceMessage")
    assert message.get("guidanceCode") == "1056"
    assert (
        "SubmittalActionOn 2026-12-07 18:30 PST is in the future (now 2026-12-07 10:30 PST); "
        "a time without a zone is Pacific time." in message.text
    )
