"""Queued uploads finish exactly once (issue 17): the claim and its attempts, a poison upload,
a worker that died, infrastructure errors that are retried rather than final, a cache or a
broker that is down. On the embedded default (SQLite, no row locks, tasks eager); the same on
PostgreSQL with a real worker is in tests/integration/test_reliability_postgres.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis.exceptions
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core.models import AuditEvent
from core.services import record_event
from edt import tasks, uploads
from edt.models import EdtTransaction

from .test_uploads import cme_document, parse, post

Status = EdtTransaction.Status


@pytest.fixture
def behaviour():
    """What the stand-in processor does next: a list of callables run before it stores."""
    return []


@pytest.fixture
def processor(monkeypatch, behaviour):
    """A CME processor that stores one audit event, after running ``behaviour``."""
    calls = []

    def process(context):
        calls.append(context.edt_transaction.key)
        for step in behaviour:
            step(context)
        record_event(context.actor, "test.stored", context.regulator, regulator=context.regulator)

    monkeypatch.setitem(uploads.PROCESSORS, "RCMES", process)
    return calls


def stored() -> int:
    return AuditEvent.objects.filter(action="test.stored").count()


@pytest.fixture
def queued(client, edt_account, processor, settings, monkeypatch):
    """Make a queued upload (its message not sent): returns a function giving its row."""
    settings.EDT_INLINE_MAX_BYTES = 0
    monkeypatch.setattr(uploads, "publish_on_commit", lambda task, model, pks: None)

    def make(key: str = "rel") -> EdtTransaction:
        post(client, edt_account, cme_document(key))
        return EdtTransaction.objects.get(client_key=key)

    return make


def left_in_process(row, *, attempts: int, ago: timedelta) -> None:
    """What a worker that died leaves: the row in process, its attempts counted."""
    EdtTransaction.objects.filter(pk=row.pk).update(
        status=Status.IN_PROCESS, attempts=attempts, started_at=timezone.now() - ago
    )


def lease(settings) -> timedelta:
    return timedelta(seconds=settings.EDT_CLAIM_LEASE + 1)


def test_a_claim_counts_its_attempt(queued, processor):
    row = queued()

    assert uploads.process(row.pk) == "done"
    assert uploads.process(row.pk) == "skipped"  # a redelivered message does nothing

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.ACCEPTED, 1)
    assert len(processor) == 1 and stored() == 1


def test_a_live_claim_is_not_taken(queued, processor, monkeypatch):
    # The lease decides here, as on SQLite; on PostgreSQL the claim's row lock does (that is
    # tests/integration/test_reliability_postgres.py).
    monkeypatch.setattr(uploads, "has_row_locks", lambda: False)
    row = queued()
    left_in_process(row, attempts=1, ago=timedelta(seconds=1))

    assert uploads.process(row.pk) == "skipped"
    assert processor == []


def test_a_dead_workers_claim_is_taken_over_and_finished_once(queued, processor, settings):
    row = queued()
    left_in_process(row, attempts=1, ago=lease(settings))

    assert uploads.process(row.pk) == "done"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.ACCEPTED, 2)
    assert stored() == 1


def test_a_poison_upload_ends_error_processing_after_the_last_attempt(queued, processor, settings):
    settings.EDT_MAX_ATTEMPTS = 3
    row = queued()
    left_in_process(row, attempts=3, ago=lease(settings))

    assert uploads.process(row.pk) == "skipped"

    row.refresh_from_db()
    assert row.status == Status.ERROR_PROCESSING
    assert row.attempts == 3 and row.completed_at is not None
    [message] = row.messages
    assert "started 3 times" in message["message"]
    assert "Resending the same document will most likely stop again" in message["message"]
    assert processor == [] and stored() == 0


def test_a_worker_killed_before_the_final_status_leaves_nothing_and_the_retry_runs_once(
    queued, processor, settings, monkeypatch
):
    """The effects and the final status commit together: a death between them undoes both."""

    class WorkerKilled(BaseException):
        pass

    finish = uploads._finish

    def dies_before_the_final_status(pk, status, messages, **fields):
        raise WorkerKilled

    row = queued()
    monkeypatch.setattr(uploads, "_finish", dies_before_the_final_status)
    with pytest.raises(WorkerKilled):
        uploads.process(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.IN_PROCESS, 1)
    assert len(processor) == 1 and stored() == 0  # processed, then undone with the worker

    monkeypatch.setattr(uploads, "_finish", finish)
    left_in_process(row, attempts=1, ago=lease(settings))
    assert uploads.process(row.pk) == "done"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.ACCEPTED, 2)
    assert stored() == 1


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        BrokerError("Error 111 connecting to localhost:6379. Connection refused."),
        redis.exceptions.ConnectionError("Connection refused."),
    ],
    ids=["database", "broker", "redis"],
)
def test_an_infrastructure_error_is_retried_not_final(queued, processor, behaviour, error):
    row = queued()

    def fails(context):
        raise error

    behaviour.append(fails)
    assert uploads.process(row.pk) == "retry"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.QUEUED, 0)  # the attempt is given back
    assert row.messages == [] and stored() == 0

    behaviour.clear()
    assert uploads.process(row.pk) == "done"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.ACCEPTED, 1)
    assert stored() == 1


def test_an_error_in_the_code_is_error_processing_and_says_resending_does_not_help(
    queued, processor, behaviour
):
    row = queued()

    def bug(context):
        raise KeyError("facility")

    behaviour.append(bug)
    assert uploads.process(row.pk) == "done"

    row.refresh_from_db()
    assert row.status == Status.ERROR_PROCESSING
    assert "Resending the same document will not help" in row.messages[0]["message"]
    assert stored() == 0


class DownCache:
    """A cache whose server is down."""

    def set(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting. Connection refused.")

    get = delete = set


def test_a_progress_report_that_fails_is_ignored(queued, processor, behaviour, monkeypatch):
    row = queued()
    monkeypatch.setattr(uploads, "cache", DownCache())
    behaviour.append(lambda context: context.progress(1, 2))

    assert uploads.process(row.pk) == "done"

    row.refresh_from_db()
    assert row.status == Status.ACCEPTED
    assert stored() == 1
    assert uploads.progress_of(row) is None


def test_an_upload_committed_while_the_broker_is_down_answers_queued_and_is_swept(
    client, edt_account, processor, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EDT_INLINE_MAX_BYTES = 0

    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to localhost:6379. Connection refused.")

    publish = tasks.process_upload.apply_async
    monkeypatch.setattr(tasks.process_upload, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, edt_account, cme_document("broker-down"))
    assert callbacks  # the enqueue ran after commit, and its error was caught

    assert response.status_code == 200
    assert parse(response).findtext("Transaction/TransactionStatus") == "Queued"
    row = EdtTransaction.objects.get(client_key="broker-down")
    assert row.status == Status.QUEUED and processor == []

    # The sweep, while the broker is still down, enqueues nothing and loses nothing.
    EdtTransaction.objects.filter(pk=row.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    assert uploads.sweep() == 0
    # The broker is back: the sweep enqueues it (eager here: processed at once).
    monkeypatch.setattr(tasks.process_upload, "apply_async", publish)
    assert uploads.sweep() == 1
    row.refresh_from_db()
    assert row.status == Status.ACCEPTED
    assert stored() == 1


def test_the_sweep_enqueues_a_dead_workers_upload(queued, settings, monkeypatch):
    row = queued()
    live = queued("live")
    left_in_process(row, attempts=1, ago=lease(settings))
    left_in_process(live, attempts=1, ago=timedelta(seconds=1))
    sent = []
    monkeypatch.setattr(tasks.process_upload, "delay", sent.append)

    assert uploads.sweep() == 1
    assert sent == [row.pk]


def test_an_upload_while_redis_is_down_answers_queued(
    client, edt_account, processor, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Redis is both the cache (throttles, progress) and the broker: with it down the upload is
    checked, committed and answered Queued all the same."""
    from rest_framework.throttling import SimpleRateThrottle

    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to localhost:6379. Connection refused.")

    settings.EDT_INLINE_MAX_BYTES = 0
    monkeypatch.setattr(SimpleRateThrottle, "cache", DownCache())
    monkeypatch.setattr(uploads, "cache", DownCache())
    monkeypatch.setattr(tasks.process_upload, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, edt_account, cme_document("redis-down"))

    assert response.status_code == 200
    root = parse(response)
    assert root.findtext("Transaction/TransactionStatus") == "Queued"
    assert EdtTransaction.objects.get(client_key="redis-down").status == Status.QUEUED


def test_a_retried_upload_is_enqueued_again_a_bounded_number_of_times(queued, monkeypatch):
    row = queued()
    later = []
    monkeypatch.setattr(uploads, "process", lambda pk: "retry")
    monkeypatch.setattr(
        tasks.process_upload, "apply_async", lambda args, kwargs, countdown: later.append(kwargs)
    )
    monkeypatch.setattr(tasks.process_upload.request, "is_eager", False, raising=False)

    before = timezone.now()
    assert tasks.process_upload.run(row.pk) == "retry"
    assert tasks.process_upload.run(row.pk, retries=tasks.RETRIES) == "retry"

    assert later == [{"retries": 1}]  # the last one is left to the sweep
    # The message is due in RETRY_SECONDS: the sweep's grace counts from then.
    row.refresh_from_db()
    assert row.published_at >= before + timedelta(seconds=tasks.RETRY_SECONDS)


def test_the_fault_hook_is_inert_unless_set(queued, processor, settings, monkeypatch):
    slept = []
    monkeypatch.setattr(uploads.time, "sleep", slept.append)
    settings.CERS_FAULT_HOOK = ""
    row = queued("no-hook")
    assert uploads.process(row.pk) == "done"
    assert slept == []


def test_the_fault_hook_pauses_at_its_named_points_in_order(
    queued, processor, settings, monkeypatch, caplog
):
    """The harness kills the worker while it sleeps at a point: before the commit the row is
    still in process (the lock held), after it the upload is final and stored."""
    seen = []

    def pause(seconds):
        row = EdtTransaction.objects.get(client_key="hook")
        seen.append((seconds, row.status, stored()))

    monkeypatch.setattr(uploads.time, "sleep", pause)
    settings.CERS_FAULT_HOOK = "claimed=2,after-commit=3,nonsense,before-commit=x"
    row = queued("hook")
    with caplog.at_level("WARNING", logger="edt.uploads"):
        assert uploads.process(row.pk) == "done"
    assert seen == [(2.0, Status.IN_PROCESS, 0), (3.0, Status.ACCEPTED, 1)]
    assert "fault point claimed reached: upload" in caplog.text
    assert uploads.fault_points("before-commit=1.5, x") == {"before-commit": 1.5}


def test_a_queued_upload_locked_for_a_moment_is_tried_again_not_dropped(
    queued, processor, monkeypatch
):
    """On PostgreSQL the claim skips a locked row. An upload still Queued whose row another
    transaction holds for a moment (the request that queued it writing its log, a worker's
    claim in progress) must be tried again soon, not left to the sweep: the message is the
    only one it has until then."""
    row = queued()
    held = uploads._locked
    # What skip_locked finds while another transaction holds the row: nothing.
    monkeypatch.setattr(uploads, "_locked", lambda queryset: held(queryset).none())
    assert uploads.process(row.pk) == "retry"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.QUEUED, 0)
    monkeypatch.setattr(uploads, "_locked", held)
    assert uploads.process(row.pk) == "done"
    assert stored() == 1
