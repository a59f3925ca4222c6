"""Client transaction keys on PostgreSQL, with two requests really at once: identical retries
are processed once (the unique constraint on the retried upload decides), while another
document carrying the same key is processed on its own."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from lxml import etree

from core.models import AuditEvent
from edt import uploads
from edt.models import EdtAccount, EdtTransaction
from tests.edt.conftest import SECRET, content, legacy_header
from tests.edt.test_rfsan import document, notification
from tests.submittals.data import submit

pytestmark = pytest.mark.integration

URL = "/EDT/Regulator/FacilitySubmittal/ActionNotification?regulatorCode=1001"


@pytest.fixture
def account(transactional_db, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command(
        "create_edt_account",
        "--regulator=1001",
        "--username=sac_edt_keys",
        "--tiers=1-6",
        "--environment=both",
        f"--secret={SECRET}",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    return EdtAccount.objects.get(username="sac_edt_keys")


@pytest.fixture
def both_look_first(monkeypatch):
    """Each request looks for an earlier copy of its upload, then waits until the other has
    looked too: neither finds the other, and both go on to store theirs at the same time."""
    barrier = threading.Barrier(2, timeout=30)
    looked = threading.local()
    first_of = uploads._first_of

    def look_then_wait(edt_transaction, upload):
        found = first_of(edt_transaction, upload)
        if not getattr(looked, "once", False):
            looked.once = True
            barrier.wait()
        return found

    monkeypatch.setattr(uploads, "_first_of", look_then_wait)


def send_together(account, bodies: list[bytes]) -> list:
    answers: list = [None] * len(bodies)
    errors: list = []

    def send(index: int) -> None:
        try:
            answers[index] = Client().post(
                URL, bodies[index], content_type="text/xml", **legacy_header(account)
            )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return answers


def transaction_key(response) -> str:
    return etree.fromstring(content(response)).findtext("Transaction/TransactionKey")


def test_identical_retries_arriving_together_are_processed_once(account, cast, both_look_first):
    assert connection.vendor == "postgresql"
    record = submit(cast)[1]
    body = document(notification(record, status=4), client_key="together")

    answers = send_together(account, [body, body])

    assert {transaction_key(a) for a in answers} == {transaction_key(answers[0])}
    assert sorted(a.get("X-CERS-Replayed", "") for a in answers) == ["", "true"]
    processed = EdtTransaction.objects.filter(client_key="together")
    assert processed.count() == 1
    assert processed.get().status == EdtTransaction.Status.ACCEPTED
    assert AuditEvent.objects.filter(action="submittal.reviewed").count() == 1


def test_other_documents_with_the_same_key_arriving_together_are_each_processed(
    account, cast, both_look_first
):
    record = submit(cast)[1]
    body = document(notification(record, status=3), client_key="shared")
    other = document(notification(record, status=3), client_key="shared") + b"\n"

    answers = send_together(account, [body, other])

    assert len({transaction_key(a) for a in answers}) == 2
    assert [a.get("X-CERS-Replayed") for a in answers] == [None, None]
    rows = EdtTransaction.objects.filter(client_key="shared")
    assert rows.count() == 2
    assert len({row.content_hash for row in rows}) == 2
