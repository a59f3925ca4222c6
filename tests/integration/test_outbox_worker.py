"""The e-mail outbox end to end: commit, publish to Redis, a real worker sends the mail."""

import email
import email.policy
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import resolve
from django.utils import timezone

from accounts.services import register_user, user_from_activation
from core.models import OutboundEmail
from core.services import REDACTED
from core.tasks import send_outbound_email, send_outbound_emails, sweep_outbound_email

pytestmark = pytest.mark.integration

Status = OutboundEmail.Status
# The file mail backend ends every message with a line of 79 dashes.
MESSAGE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


@pytest.fixture
def worker(celery_worker, transactional_db):
    """The session's worker, with an empty mail folder. ``transactional_db``: the worker is
    another process and sees committed rows only."""
    for path in celery_worker.mail_files():
        path.unlink()
    return celery_worker


def wait_for_status(worker, row: OutboundEmail, status: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if row.status == status:
            return
        worker.check_alive()
        time.sleep(0.1)
    pytest.fail(
        f"E-mail {row.pk} is {row.status!r}, not {status!r}, after {timeout:.0f} s "
        f"(attempts={row.attempts}, last_error={row.last_error!r}). Worker log:\n"
        f"{worker.log_tail()}"
    )


def sent_messages(worker) -> list[email.message.EmailMessage]:
    messages = []
    for path in worker.mail_files():
        for chunk in path.read_bytes().split(MESSAGE_SEPARATOR):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return messages


def body_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_the_worker_sends_the_activation_email_of_a_new_account(worker):
    user = register_user(
        email="new.person@example.com",
        password="a-long-secret-2026",
        first_name="Nora",
        last_name="Newcomer",
    )
    row = OutboundEmail.objects.get()
    assert row.to == ["new.person@example.com"]

    wait_for_status(worker, row, Status.SENT)

    assert row.attempts == 1
    [message] = sent_messages(worker)
    assert message["To"] == "new.person@example.com"
    assert message["Subject"] == row.subject
    url = re.search(rf"{re.escape(settings.SITE_URL)}/\S+", body_of(message)).group(0)
    match = resolve(urlsplit(url).path)
    assert match.view_name == "accounts:activate"
    assert user_from_activation(*match.args, **match.kwargs) == user
    # Issue 12: once sent, the outbox row keeps the message without its activation link.
    row.refresh_from_db()
    assert url not in row.body
    assert REDACTED in row.body


def test_a_send_task_delivered_twice_sends_once(worker):
    row = OutboundEmail.objects.create(
        to=["twice@example.com"], subject="Delivered twice", body="Sent once."
    )

    first = send_outbound_email.delay(row.pk)
    second = send_outbound_email.delay(row.pk)

    results = sorted([worker.task_result(first.id), worker.task_result(second.id)])
    assert results == ["'not-claimed'", "'sent'"]
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.attempts == 1
    [message] = sent_messages(worker)
    assert message["Subject"] == "Delivered twice"


def test_a_batch_delivered_twice_sends_each_row_once(worker):
    rows = [
        OutboundEmail.objects.create(to=[f"batch{n}@example.com"], subject=f"Batch {n}", body="B.")
        for n in range(3)
    ]
    ids = [row.pk for row in rows]

    first = send_outbound_emails.delay(ids)
    second = send_outbound_emails.delay(ids)

    results = sorted([worker.task_result(first.id), worker.task_result(second.id)])
    assert results == ["{'not-claimed': 3}", "{'sent': 3}"]
    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 1)
    assert sorted(message["Subject"] for message in sent_messages(worker)) == [
        "Batch 0",
        "Batch 1",
        "Batch 2",
    ]


def test_the_sweep_sends_a_row_whose_message_was_lost(worker):
    # Written with no task enqueued: as if the publish after commit was lost, or Redis
    # restarted with the message in it.
    row = OutboundEmail.objects.create(
        to=["stranded@example.com"], subject="Stranded", body="Found by the sweep."
    )
    OutboundEmail.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    time.sleep(0.5)
    row.refresh_from_db()
    assert row.status == Status.QUEUED  # nothing else will send it

    sweep = sweep_outbound_email.delay()

    assert worker.task_result(sweep.id) == "1"
    wait_for_status(worker, row, Status.SENT)
    assert row.attempts == 1
    [message] = sent_messages(worker)
    assert message["To"] == "stranded@example.com"
    assert body_of(message).strip() == "Found by the sweep."
