"""EDT uploads end to end: received over HTTP, queued in PostgreSQL, published to Redis,
processed by a real Celery worker; the same upload sent twice is processed once."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from lxml import etree

from core.models import AuditEvent
from edt.models import EdtTransaction
from submittals.models import ElementStatus
from tests.edt.conftest import assert_valid, content, legacy_header
from tests.edt.test_rfsan import document, notification
from tests.submittals.data import submit

pytestmark = pytest.mark.integration

URL = "/EDT/Regulator/FacilitySubmittal/ActionNotification?regulatorCode=1001"
RESPONSE_XSD = ("1.05", "RegulatorFacilitySubmittalResponse.xsd")


@pytest.fixture
def worker(celery_worker, transactional_db, settings):
    settings.MEDIA_ROOT = celery_worker.media_dir
    # Every upload goes to the worker: none is small enough to be processed in the request.
    settings.EDT_INLINE_MAX_BYTES = 0
    return celery_worker


def wait_until_done(key: str, worker, timeout: float = 30.0) -> EdtTransaction:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = EdtTransaction.objects.get(key=key)
        if row.status not in (EdtTransaction.Status.QUEUED, EdtTransaction.Status.IN_PROCESS):
            return row
        time.sleep(0.2)
    pytest.fail(f"The worker did not process upload {key} in {timeout:.0f} s:\n{worker.log_tail()}")


def test_an_upload_is_processed_by_the_worker_once(worker, client, cast):
    call_command(
        "create_edt_account",
        "--regulator=1001",
        "--username=sac_edt",
        "--tiers=1-6",
        "--environment=both",
        "--secret=edt-test-secret-0123456789",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    from edt.models import EdtAccount

    account = EdtAccount.objects.get(username="sac_edt")
    record = submit(cast)[1]
    body = document(notification(record, status=4), client_key="worker-once")

    first = client.post(URL, body, content_type="text/xml", **legacy_header(account))
    root = assert_valid(content(first), *RESPONSE_XSD)
    assert root.findtext("Transaction/TransactionStatus") == "Queued"
    key = root.findtext("Transaction/TransactionKey")

    again = client.post(URL, body, content_type="text/xml", **legacy_header(account))
    assert again["X-CERS-Replayed"] == "true"
    assert etree.fromstring(content(again)).findtext("Transaction/TransactionKey") == key

    row = wait_until_done(key, worker)
    assert row.status == EdtTransaction.Status.ACCEPTED, row.messages
    assert row.attempts == 1
    record.refresh_from_db()
    assert record.status == ElementStatus.ACCEPTED
    assert AuditEvent.objects.filter(action="submittal.reviewed").count() == 1

    status = client.get(
        f"/EDT/Regulator/FacilitySubmittal/ActionNotification/{key}?regulatorCode=1001",
        **legacy_header(account),
    )
    answered = assert_valid(content(status), *RESPONSE_XSD)
    assert answered.findtext("Transaction/TransactionStatus") == "Accepted"
    # The worker's log shows the one processing run.
    assert worker.log().count("edt.tasks.process_upload") >= 1
