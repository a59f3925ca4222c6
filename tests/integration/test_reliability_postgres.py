"""Queued uploads finish exactly once on PostgreSQL with real workers (issue 17).

A claim lives in the row lock of the processing transaction: a lock held by a connection that
died is freed with it, and the upload is taken at once; a worker killed (SIGKILL) in the middle
of an upload leaves nothing behind but its counted attempt, and the next worker finishes the
upload once, within seconds.

These tests start their own workers on a queue of their own (one is killed), so the session's
worker, when it runs, never takes their uploads first.
"""

from __future__ import annotations

import os
import time

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from core.models import AuditEvent
from edt import tasks, uploads
from edt.models import EdtAccount, EdtTransaction
from submittals.models import ElementStatus, SubmittalElementRecord
from tests.edt.conftest import content, legacy_header
from tests.edt.test_rfsan import document, notification
from tests.submittals.data import submit

from .conftest import _stop, start_worker

pytestmark = pytest.mark.integration

URL = "/EDT/Regulator/FacilitySubmittal/ActionNotification?regulatorCode=1001"
Status = EdtTransaction.Status
QUEUE = f"reliability-{os.getpid()}"


def connect() -> psycopg.Connection:
    """Another client of the test database: a worker or a session the test controls."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params, autocommit=True)


@pytest.fixture
def upload(transactional_db, client, cast, settings, tmp_path, monkeypatch):
    """An action notification accepting a submitted element, stored and queued (its message
    goes to this module's queue, or nowhere when the test says so)."""
    settings.MEDIA_ROOT = tmp_path
    settings.EDT_INLINE_MAX_BYTES = 0
    published = []

    def publish(pk):
        published.append(pk)
        return tasks.process_upload.apply_async((pk,), queue=QUEUE)

    monkeypatch.setattr(tasks.process_upload, "delay", publish)
    call_command(
        "create_edt_account",
        "--regulator=1001",
        "--username=rel_edt",
        "--tiers=1-6",
        "--environment=both",
        "--secret=edt-test-secret-0123456789",
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    account = EdtAccount.objects.get(username="rel_edt")
    record = submit(cast)[1]

    def send(client_key: str) -> EdtTransaction:
        body = document(notification(record, status=4), client_key=client_key)
        response = client.post(URL, body, content_type="text/xml", **legacy_header(account))
        assert response.status_code == 200, content(response)
        return EdtTransaction.objects.get(client_key=client_key)

    send.record = record
    send.published = published
    send.media_dir = tmp_path
    return send


def reviews() -> int:
    return AuditEvent.objects.filter(action="submittal.reviewed").count()


def test_a_lock_held_by_a_killed_connection_is_freed_and_the_upload_taken_at_once(
    upload, monkeypatch
):
    monkeypatch.setattr(tasks.process_upload, "delay", lambda pk: None)  # no worker here
    row = upload("held-lock")
    table = EdtTransaction._meta.db_table
    # A worker claimed the upload a minute ago and holds its lock while processing.
    holder = connect()
    holder.execute(
        f"UPDATE {table} SET status = %s, attempts = 1, "  # noqa: S608 - the model's table
        "started_at = now() - interval '1 minute' WHERE id = %s",
        [Status.IN_PROCESS, row.pk],
    )
    holder.execute("BEGIN")
    holder.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [row.pk])  # noqa: S608
    holder_pid = holder.info.backend_pid

    started = time.monotonic()
    assert uploads.process(row.pk) == "skipped"  # a live claim: not waited for, not taken
    assert uploads.sweep() == 0
    assert time.monotonic() - started < 2
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.IN_PROCESS, 1)

    # The worker's connection dies (its process was killed): its lock goes with it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [holder_pid])
    deadline = time.monotonic() + 5
    while (outcome := uploads.process(row.pk)) != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert outcome == "done"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.ACCEPTED, 2), row.messages
    assert reviews() == 1
    holder.close()


def waiting_on_a_lock(record_pk: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_upload_is_replaced_and_the_upload_finished_exactly_once(
    upload, tmp_path_factory
):
    record = upload.record
    table = SubmittalElementRecord._meta.db_table
    # Hold the element the upload reviews, so the worker stops in the middle of processing.
    blocker = connect()
    blocker.execute("BEGIN")
    blocker.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [record.pk])  # noqa: S608
    first = start_worker(
        tmp_path_factory,
        name=f"doomed-{os.getpid()}@localhost",
        queues=QUEUE,
        media_dir=upload.media_dir,
    )
    second = None
    try:
        row = upload("killed-mid-upload")
        deadline = time.monotonic() + 30
        while not waiting_on_a_lock(record.pk):
            first.check_alive()
            assert time.monotonic() < deadline, first.log_tail()
            time.sleep(0.1)
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.IN_PROCESS, 1)

        first.process.kill()  # SIGKILL: no warm shutdown, no acknowledgement, no cleanup
        first.process.wait(timeout=10)
        killed_at = time.monotonic()
        blocker.execute("COMMIT")  # the dead worker's backend finds its client gone
        blocker.close()

        second = start_worker(
            tmp_path_factory,
            name=f"replacement-{os.getpid()}@localhost",
            queues=f"celery,{QUEUE}",
            media_dir=upload.media_dir,
        )
        # Celery beat's part: the sweep, every second here.
        while True:
            row.refresh_from_db()
            if row.status not in (Status.QUEUED, Status.IN_PROCESS):
                break
            assert time.monotonic() - killed_at < 30, second.log_tail()
            uploads.sweep()
            time.sleep(1)
        took = time.monotonic() - killed_at

        assert row.status == Status.ACCEPTED, row.messages
        assert row.attempts == 2
        assert took < 30
        record.refresh_from_db()
        assert record.status == ElementStatus.ACCEPTED
        assert reviews() == 1  # the killed run left nothing; the second ran once
        # Nothing runs it again: a late redelivery or sweep finds it done.
        assert uploads.process(row.pk) == "skipped"
        assert reviews() == 1
    finally:
        _stop(first.process)
        if second is not None:
            _stop(second.process)


def test_a_pool_process_killed_mid_upload_is_replaced_and_the_upload_finished_once(
    upload, tmp_path_factory
):
    """Prefork: the pool process dies, the worker stays up, starts another, and the task is put
    back (``task_reject_on_worker_lost``); the upload is finished once."""
    record = upload.record
    table = SubmittalElementRecord._meta.db_table
    blocker = connect()
    blocker.execute("BEGIN")
    blocker.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [record.pk])  # noqa: S608
    worker = start_worker(
        tmp_path_factory,
        name=f"prefork-{os.getpid()}@localhost",
        queues=f"celery,{QUEUE}",
        media_dir=upload.media_dir,
        pool="prefork",
    )
    try:
        row = upload("pool-process-killed")
        deadline = time.monotonic() + 30
        while not waiting_on_a_lock(record.pk):
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.1)
        [child] = worker.pool_processes()
        os.kill(child, 9)
        killed_at = time.monotonic()
        blocker.execute("COMMIT")
        blocker.close()

        while True:
            row.refresh_from_db()
            if row.status not in (Status.QUEUED, Status.IN_PROCESS):
                break
            assert time.monotonic() - killed_at < 30, worker.log_tail()
            uploads.sweep()
            time.sleep(1)

        worker.check_alive()  # the worker itself stayed up
        replacements = worker.pool_processes()
        assert replacements and child not in replacements
        assert (row.status, row.attempts) == (Status.ACCEPTED, 2), row.messages
        assert reviews() == 1
    finally:
        _stop(worker.process)


def test_an_email_whose_sender_died_is_marked_unknown_at_once_and_not_resent(
    transactional_db, monkeypatch
):
    """The outbox on PostgreSQL: a ``sending`` row whose worker holds its lock is left alone;
    once that connection dies, the sweep marks it unknown (not sent again)."""
    from datetime import timedelta

    from django.utils import timezone

    from core.models import OutboundEmail
    from core.tasks import send_outbound_email, send_outbound_emails, sweep_outbound_email

    enqueued = []
    monkeypatch.setattr(send_outbound_emails, "delay", enqueued.append)
    email = OutboundEmail.objects.create(
        to=["someone@example.com"],
        subject="Reviewed",
        body="Your element was accepted.",
        status=OutboundEmail.Status.SENDING,
        claimed_at=timezone.now() - timedelta(minutes=1),
        attempts=1,
        message_id="<1.2@cers.localhost>",
    )
    table = OutboundEmail._meta.db_table
    sender = connect()
    sender.execute("BEGIN")
    sender.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [email.pk])  # noqa: S608

    assert sweep_outbound_email() == 0
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENDING  # its worker is alive: still sending

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [sender.info.backend_pid])
    deadline = time.monotonic() + 5
    while email.status == OutboundEmail.Status.SENDING and time.monotonic() < deadline:
        sweep_outbound_email()
        email.refresh_from_db()
        time.sleep(0.05)

    assert email.status == OutboundEmail.Status.UNKNOWN
    assert enqueued == []
    assert send_outbound_email(email.pk) == "not-claimed"
    assert send_outbound_emails([email.pk]) == {"not-claimed": 1}
    sender.close()
