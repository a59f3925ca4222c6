"""The e-mail outbox worker, called directly: claims, retries, gives up, sweeps.

The tasks are called as plain functions, so these run the same on the embedded default and on
real services; ``tests/integration`` covers them through a real broker and worker.
"""

from datetime import timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from core import tasks
from core.models import OutboundEmail
from core.tasks import send_outbound_email, sweep_outbound_email

Status = OutboundEmail.Status


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server refused the connection")


@pytest.fixture
def refusing_mailer(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingBackend"}}


def make_email(**fields) -> OutboundEmail:
    defaults = {"to": ["someone@example.com"], "subject": "Hello", "body": "A message."}
    return OutboundEmail.objects.create(**(defaults | fields))


def test_it_sends_a_queued_email_and_marks_it_sent(db, mailoutbox):
    email = make_email()

    assert send_outbound_email(email.pk) == "sent"

    email.refresh_from_db()
    assert email.status == Status.SENT
    assert email.attempts == 1
    assert email.sent_at is not None
    assert [(m.subject, m.to) for m in mailoutbox] == [("Hello", ["someone@example.com"])]


def test_a_second_delivery_of_the_task_does_nothing(db, mailoutbox):
    email = make_email()
    send_outbound_email(email.pk)

    assert send_outbound_email(email.pk) == "not-claimed"

    email.refresh_from_db()
    assert email.attempts == 1
    assert len(mailoutbox) == 1


def test_it_does_not_take_a_row_another_worker_is_sending(db, mailoutbox):
    email = make_email(status=Status.SENDING, claimed_at=timezone.now())

    assert send_outbound_email(email.pk) == "not-claimed"
    assert mailoutbox == []


def test_it_takes_over_a_row_whose_worker_died(db, mailoutbox):
    email = make_email(
        status=Status.SENDING, claimed_at=timezone.now() - tasks.STALE_CLAIM - timedelta(1)
    )

    assert send_outbound_email(email.pk) == "sent"
    assert len(mailoutbox) == 1


def test_a_failure_is_recorded_and_requeued_until_the_last_attempt(db, settings, refusing_mailer):
    settings.CERS_EMAIL_MAX_ATTEMPTS = 3
    email = make_email()

    for attempt in (1, 2):
        assert send_outbound_email(email.pk) == "failed"
        email.refresh_from_db()
        assert email.status == Status.QUEUED
        assert email.attempts == attempt
        assert "refused the connection" in email.last_error
        assert email.sent_at is None

    assert send_outbound_email(email.pk) == "failed"
    email.refresh_from_db()
    assert email.status == Status.FAILED
    assert email.attempts == 3

    # A failed row is final: a late redelivery leaves it alone.
    assert send_outbound_email(email.pk) == "not-claimed"
    email.refresh_from_db()
    assert email.attempts == 3


def test_the_sweep_requeues_only_stranded_rows(db, monkeypatch):
    long_ago = timezone.now() - timedelta(minutes=30)
    stranded = make_email()
    dead_worker = make_email(status=Status.SENDING)
    fresh = make_email()
    make_email(status=Status.SENT)
    make_email(status=Status.FAILED)
    busy = make_email(status=Status.SENDING)
    # created_at is auto_now_add: set the past with an UPDATE.
    OutboundEmail.objects.update(created_at=long_ago)
    OutboundEmail.objects.filter(pk=fresh.pk).update(created_at=timezone.now())
    OutboundEmail.objects.filter(pk=dead_worker.pk).update(claimed_at=long_ago)
    OutboundEmail.objects.filter(pk=busy.pk).update(claimed_at=timezone.now())
    enqueued = []
    monkeypatch.setattr(send_outbound_email, "delay", enqueued.append)

    assert sweep_outbound_email() == 2
    assert sorted(enqueued) == sorted([stranded.pk, dead_worker.pk])
