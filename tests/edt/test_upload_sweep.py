"""The sweep tells a lost message from a merely queued one: a queued upload is published again
when the broker's queue is empty and its message left more than ``CERS_MESSAGE_GRACE`` ago,
when its message left more than ``EDT_QUEUED_STRANDED`` ago whatever the queue holds (or the
broker cannot be asked), or when its publish failed; each at most once per grace."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu import Queue
from kombu.exceptions import OperationalError as BrokerError

from cers.celery import app as celery_app
from core import tasks as core_tasks
from edt import tasks, uploads
from edt.models import EdtTransaction

from . import test_uploads
from .test_uploads import cme_document, post

processed = test_uploads.processed  # the fixture: the uploads the stand-in processor ran

Status = EdtTransaction.Status


@pytest.fixture
def sent(monkeypatch):
    """The messages published (the broker replaced by a list)."""
    messages = []
    monkeypatch.setattr(tasks.process_upload, "delay", messages.append)
    return messages


@pytest.fixture
def broker_holds(monkeypatch):
    """Set how many messages the broker's queue holds (None: it cannot be asked)."""
    held = {"count": 0}
    monkeypatch.setattr(core_tasks, "queued_messages", lambda task: held["count"])

    def hold(count):
        held["count"] = count

    return hold


@pytest.fixture
def upload(client, edt_account, settings, monkeypatch):
    """A queued upload whose message was published ``ago`` (None: its publish failed)."""
    settings.EDT_INLINE_MAX_BYTES = 0
    counter = iter(range(1000))

    def make(ago: timedelta | None) -> EdtTransaction:
        key = f"sweep-{next(counter)}"
        monkeypatch.setattr(uploads, "publish_on_commit", lambda task, model, pks: None)
        post(client, edt_account, cme_document(key))
        row = EdtTransaction.objects.get(client_key=key)
        published = None if ago is None else timezone.now() - ago
        # Received before the grace, so only its publish time decides.
        EdtTransaction.objects.filter(pk=row.pk).update(
            published_at=published, received_at=timezone.now() - timedelta(minutes=10)
        )
        return row

    return make


def test_receiving_an_upload_records_when_its_message_was_published(
    client, edt_account, settings, sent, django_capture_on_commit_callbacks
):
    settings.EDT_INLINE_MAX_BYTES = 0
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, edt_account, cme_document("published"))
    row = EdtTransaction.objects.get(client_key="published")
    assert sent == [row.pk]
    assert row.status == Status.QUEUED
    assert before <= row.published_at <= timezone.now()


def test_a_failed_publish_records_no_publish_time(
    client, edt_account, settings, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise BrokerError("Connection refused.")

    settings.EDT_INLINE_MAX_BYTES = 0
    monkeypatch.setattr(tasks.process_upload, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post(client, edt_account, cme_document("unpublished"))
    assert callbacks
    assert EdtTransaction.objects.get(client_key="unpublished").published_at is None


def test_an_empty_queue_gets_back_a_message_lost_after_the_grace(
    upload, sent, broker_holds, settings
):
    settings.CERS_MESSAGE_GRACE = 10
    lost = upload(timedelta(seconds=11))
    recent = upload(timedelta(seconds=5))
    broker_holds(0)

    assert uploads.sweep() == 1
    assert sent == [lost.pk]  # the recent one's message may still be on its way
    lost.refresh_from_db()
    assert lost.published_at > timezone.now() - timedelta(seconds=5)
    # Published again just now: the next sweep leaves it be (one message per grace).
    sent.clear()
    assert uploads.sweep() == 0 and sent == []
    recent.refresh_from_db()
    assert recent.status == Status.QUEUED


def test_a_queue_holding_messages_is_not_flooded_until_the_stranded_time(
    upload, sent, broker_holds, settings
):
    settings.CERS_MESSAGE_GRACE = 10
    settings.EDT_QUEUED_STRANDED = 120
    waiting = upload(timedelta(seconds=60))
    stranded = upload(timedelta(seconds=121))
    broker_holds(25)  # a long queue: the one 60 s old is merely waiting its turn

    assert uploads.sweep() == 1
    assert sent == [stranded.pk]
    sent.clear()
    assert uploads.sweep() == 0 and sent == []
    waiting.refresh_from_db()
    assert waiting.status == Status.QUEUED


def test_a_broker_that_cannot_be_asked_leaves_the_age_rule(upload, sent, broker_holds, settings):
    settings.CERS_MESSAGE_GRACE = 10
    settings.EDT_QUEUED_STRANDED = 120
    upload(timedelta(seconds=60))
    stranded = upload(timedelta(seconds=121))
    broker_holds(None)

    assert uploads.sweep() == 1
    assert sent == [stranded.pk]


def test_an_upload_never_published_is_published_once_the_grace_passed(
    upload, sent, broker_holds, settings
):
    settings.CERS_MESSAGE_GRACE = 10
    never = upload(None)
    broker_holds(25)  # whatever the queue holds, none of it is this upload's

    assert uploads.sweep() == 1
    assert sent == [never.pk]
    # Just received: its publish may still be on its way (after the commit).
    EdtTransaction.objects.filter(pk=never.pk).update(published_at=None, received_at=timezone.now())
    sent.clear()
    assert uploads.sweep() == 0 and sent == []


def test_a_published_again_upload_is_processed_once(upload, broker_holds, settings, processed):
    """Two messages for one upload (the original was only slow): the claim runs it once."""
    settings.CERS_MESSAGE_GRACE = 10
    row = upload(timedelta(seconds=30))
    broker_holds(0)
    assert uploads.sweep() == 1  # eager here: processed at once
    assert uploads.process(row.pk) == "skipped"  # the original message, delivered late
    row.refresh_from_db()
    assert row.status == Status.ACCEPTED and len(processed) == 1


def test_the_queue_length_is_read_from_the_broker():
    """The memory transport of the fast suite stands for Redis: both are kombu's virtual
    transports, answering the length of the task's queue."""
    queue = celery_app.amqp.router.route({}, tasks.process_upload.name)["queue"].name
    with celery_app.connection_for_write() as connection:
        producer = connection.Producer()
        for n in range(2):
            producer.publish({"n": n}, routing_key=queue, declare=[Queue(queue)])
        try:
            assert core_tasks.queued_messages(tasks.process_upload) == 2
        finally:
            connection.default_channel.queue_purge(queue)
    assert core_tasks.queued_messages(tasks.process_upload) == 0


def test_a_broker_that_refuses_is_not_measured(monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_read_url", "redis://127.0.0.1:1/0")
    assert core_tasks.queued_messages(tasks.process_upload) is None
