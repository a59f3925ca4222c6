"""A lost broker message, told from a queued one on real Redis: the length of a task's queue is
read from the broker, and an upload whose message Redis lost (a restart without its data) is
published again by the sweep once the grace has passed, then processed once by the worker."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cers.celery import app as celery_app
from core.tasks import queue_length, queued_messages
from edt import tasks, uploads
from edt.models import EdtAccount, EdtTransaction
from tests.edt.conftest import legacy_header
from tests.edt.test_rfsan import document, notification
from tests.submittals.data import submit

pytestmark = pytest.mark.integration

URL = "/EDT/Regulator/FacilitySubmittal/ActionNotification?regulatorCode=1001"


def test_the_length_of_a_queue_is_read_from_redis():
    """Messages no worker consumes (a queue of its own) are counted; a queue emptied (what a
    restart without AOF does) counts none; the tasks' own queue is read the same way."""
    queue = f"lost-messages-{os.getpid()}"
    assert queue_length(celery_app, queue) == 0
    try:
        for _ in range(3):
            tasks.process_upload.apply_async((0,), queue=queue)
        assert queue_length(celery_app, queue) == 3
    finally:
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)
    assert queue_length(celery_app, queue) == 0
    assert queued_messages(tasks.process_upload) is not None


def test_an_upload_whose_message_redis_lost_is_published_again_and_processed_once(
    celery_worker, transactional_db, settings, client, cast, monkeypatch
):
    settings.MEDIA_ROOT = celery_worker.media_dir
    settings.EDT_INLINE_MAX_BYTES = 0
    settings.CERS_MESSAGE_GRACE = 10
    call_command(
        "create_edt_account",
        "--regulator=1001",
        "--username=sac_edt",
        "--tiers=1-6",
        "--environment=both",
        "--secret=edt-test-secret-0123456789",
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    account = EdtAccount.objects.get(username="sac_edt")
    record = submit(cast)[1]
    body = document(notification(record, status=4), client_key="lost-message")
    # Published, then lost by Redis: the publish succeeds but the message never arrives.
    with monkeypatch.context() as lost:
        lost.setattr(tasks.process_upload, "delay", lambda pk: None)
        client.post(URL, body, content_type="text/xml", **legacy_header(account))
    row = EdtTransaction.objects.get(client_key="lost-message")
    assert row.status == EdtTransaction.Status.QUEUED and row.published_at is not None

    # The worker idles: its queue is empty. A message published just now may be on its way.
    assert uploads.sweep() == 0
    EdtTransaction.objects.filter(pk=row.pk).update(
        published_at=timezone.now() - timedelta(seconds=11)
    )
    assert uploads.sweep() == 1
    deadline = time.monotonic() + 30
    while row.status in (EdtTransaction.Status.QUEUED, EdtTransaction.Status.IN_PROCESS):
        assert time.monotonic() < deadline, celery_worker.log_tail()
        time.sleep(0.2)
        row.refresh_from_db()
    assert (row.status, row.attempts) == (EdtTransaction.Status.ACCEPTED, 1), row.messages
    assert uploads.sweep() == 0  # done: nothing to publish again
