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
from core.tasks import send_outbound_email, send_outbound_emails, sweep_outbound_email

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


def test_a_row_whose_worker_died_while_sending_is_not_sent_again(db, mailoutbox):
    """Changed by issue 17: a stale ``sending`` row used to be sent again; whether its first
    send reached the mail server is unknown, so it is no longer resent blindly."""
    email = make_email(
        status=Status.SENDING, claimed_at=timezone.now() - tasks.EMAIL_LEASE - timedelta(1)
    )

    assert send_outbound_email(email.pk) == "not-claimed"
    assert mailoutbox == []


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
    monkeypatch.setattr(send_outbound_emails, "delay", enqueued.append)

    # Changed by issue 17: the dead worker's row is marked unknown, not re-enqueued.
    assert sweep_outbound_email() == 1
    assert enqueued == [[stranded.pk]]
    dead_worker.refresh_from_db()
    busy.refresh_from_db()
    assert dead_worker.status == Status.UNKNOWN
    assert "may or may not" in dead_worker.last_error
    assert busy.status == Status.SENDING


def test_the_claim_commits_sending_and_a_message_id_before_anything_is_sent(db, settings):
    """What a worker dying in the middle of the send leaves: the row is ``sending``, its
    attempt counted and its Message-ID fixed, all committed before the mail server is called."""
    seen = []

    class Watching(BaseEmailBackend):
        def send_messages(self, messages):
            row = OutboundEmail.objects.get(pk=email.pk)
            seen.append((row.status, row.attempts, row.message_id, messages[0].extra_headers))
            return len(messages)

    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.Watching"}}
    globals()["Watching"] = Watching
    email = make_email()

    assert send_outbound_email(email.pk) == "sent"

    [(status, attempts, message_id, headers)] = seen
    assert (status, attempts) == (Status.SENDING, 1)
    assert message_id.startswith("<") and message_id.endswith(">")
    assert headers["Message-ID"] == message_id
    email.refresh_from_db()
    assert email.message_id == message_id


def test_the_message_id_stays_the_same_on_every_attempt(db, settings, refusing_mailer):
    email = make_email()
    send_outbound_email(email.pk)
    email.refresh_from_db()
    first = email.message_id
    assert first

    send_outbound_email(email.pk)

    email.refresh_from_db()
    assert email.attempts == 2
    assert email.message_id == first


def test_an_unknown_email_is_left_alone_by_the_worker_and_the_sweep(db, mailoutbox, monkeypatch):
    email = make_email(status=Status.UNKNOWN)
    OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(hours=1))
    enqueued = []
    monkeypatch.setattr(send_outbound_emails, "delay", enqueued.append)

    assert send_outbound_email(email.pk) == "not-claimed"
    assert send_outbound_emails([email.pk]) == {"not-claimed": 1}
    assert sweep_outbound_email() == 0
    assert enqueued == [] and mailoutbox == []


def test_a_broker_that_is_down_does_not_fail_the_change_that_queued_the_email(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    """The row commits with the change; the failed publish is logged, and the sweep sends it."""
    from django.db import transaction
    from kombu.exceptions import OperationalError

    from core.services import queue_email

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(send_outbound_emails, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        email = queue_email(
            ["someone@example.com"],
            "accounts/email/activation",
            {"user": None, "url": "http://x/"},
        )
    assert len(callbacks) == 1  # it ran, and what it raised was caught

    email.refresh_from_db()
    assert email.status == Status.QUEUED
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    enqueued = []
    monkeypatch.setattr(send_outbound_emails, "delay", enqueued.append)
    assert sweep_outbound_email() == 1
    assert enqueued == [[email.pk]]


def test_the_sweep_stops_early_while_the_broker_is_down(db, monkeypatch):
    from kombu.exceptions import OperationalError

    for _ in range(3):
        make_email()
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    def broker_down(*args):
        raise OperationalError("Connection refused.")

    monkeypatch.setattr(send_outbound_emails, "delay", broker_down)
    assert sweep_outbound_email() == 0
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {Status.QUEUED}


@pytest.fixture
def console_mailer(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}


LINK = "http://localhost:8000/accounts/activate/" + "MTIz-" * 20 + "c1x2y3-0123456789abcdef/"


@pytest.mark.parametrize("greeting", ["Hello Ana,", "Hello José,"])
def test_the_console_prints_a_long_link_on_one_line(db, console_mailer, capsys, greeting):
    """A newcomer copies the activation link from the console: quoted-printable would cut
    it with soft line breaks (and turn "=" into "=3D")."""
    assert len(LINK) > 78
    email = make_email(body=f"{greeting}\n\nOpen this link:\n{LINK}\n")

    assert send_outbound_email(email.pk) == "sent"

    printed = capsys.readouterr().out
    assert LINK in printed.splitlines()
    assert greeting in printed
    assert "quoted-printable" not in printed


def test_a_line_beyond_the_mail_limit_is_still_encoded(db, console_mailer, capsys):
    email = make_email(body="x" * 1200)

    send_outbound_email(email.pk)

    printed = capsys.readouterr().out
    assert "x" * 1200 not in printed
    assert "Content-Transfer-Encoding: 7bit" not in printed


def test_queueing_an_email_records_when_its_send_was_published(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    from core.services import queue_emails

    published = []
    monkeypatch.setattr(send_outbound_emails, "delay", published.append)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        emails = queue_emails(
            [(["a@example.com"], "accounts/email/activation", {"user": None, "url": "http://x/"})]
            * 2
        )
    assert published == [[email.pk for email in emails]]
    for email in emails:
        email.refresh_from_db()
        assert email.status == Status.QUEUED
        assert before <= email.published_at <= timezone.now()


def test_the_sweep_tells_a_lost_message_from_a_waiting_one(db, monkeypatch, settings):
    """An empty queue: a message published more than the grace ago was lost. A queue that
    holds messages (or cannot be asked): only after a minute, once per minute."""
    settings.CERS_MESSAGE_GRACE = 10
    lost, recent = make_email(), make_email()
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    OutboundEmail.objects.filter(pk=lost.pk).update(
        published_at=timezone.now() - timedelta(seconds=30)
    )
    OutboundEmail.objects.filter(pk=recent.pk).update(
        published_at=timezone.now() - timedelta(seconds=5)
    )
    enqueued = []
    monkeypatch.setattr(send_outbound_emails, "delay", enqueued.append)
    held = {"count": 3}
    monkeypatch.setattr(tasks, "queued_messages", lambda task: held["count"])

    assert sweep_outbound_email() == 0  # both may be waiting in the queue
    held["count"] = None
    assert sweep_outbound_email() == 0  # the broker cannot say: the minute decides
    held["count"] = 0
    assert sweep_outbound_email() == 1
    assert enqueued == [[lost.pk]]
    assert sweep_outbound_email() == 0  # published again just now: not again


# --- batches: one message names up to EMAIL_BATCH e-mails -----------------------------------


class RefusingOneBackend(BaseEmailBackend):
    """A mail server that refuses one recipient and takes the others."""

    def send_messages(self, email_messages):
        for message in email_messages:
            if "refused@example.com" in message.to:
                raise ConnectionRefusedError("mail server refused refused@example.com")
        return len(email_messages)


def test_a_batch_sends_each_of_its_rows_once(db, mailoutbox):
    emails = [make_email(to=[f"person{n}@example.com"]) for n in range(3)]
    ids = [email.pk for email in emails]

    assert send_outbound_emails(ids) == {"sent": 3}
    # The same message delivered again (a worker died after sending, before the ack).
    assert send_outbound_emails(ids) == {"not-claimed": 3}

    assert sorted(m.to[0] for m in mailoutbox) == [f"person{n}@example.com" for n in range(3)]
    for email in emails:
        email.refresh_from_db()
        assert (email.status, email.attempts) == (Status.SENT, 1)
        assert email.message_id


def test_a_row_that_fails_is_recorded_and_the_rest_of_its_batch_is_sent(db, settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingOneBackend"}}
    first = make_email(to=["first@example.com"])
    refused = make_email(to=["refused@example.com"])
    last = make_email(to=["last@example.com"])

    assert send_outbound_emails([first.pk, refused.pk, last.pk]) == {"sent": 2, "failed": 1}

    for email in (first, refused, last):
        email.refresh_from_db()
    assert (first.status, first.attempts) == (Status.SENT, 1)
    assert (last.status, last.attempts) == (Status.SENT, 1)
    assert (refused.status, refused.attempts) == (Status.QUEUED, 1)
    assert "refused refused@example.com" in refused.last_error
    assert refused.sent_at is None


def test_an_error_on_one_row_does_not_stop_the_others(db, mailoutbox, monkeypatch):
    """Not a transport failure: whatever one row raises leaves that row as it was."""
    broken, fine = make_email(), make_email(to=["fine@example.com"])
    claim = tasks._claim

    def claim_or_fail(email_id):
        if email_id == broken.pk:
            raise tasks.DatabaseError("the row could not be read")
        return claim(email_id)

    monkeypatch.setattr(tasks, "_claim", claim_or_fail)

    assert send_outbound_emails([broken.pk, fine.pk]) == {"error": 1, "sent": 1}

    broken.refresh_from_db()
    assert (broken.status, broken.attempts) == (Status.QUEUED, 0)
    assert [m.to for m in mailoutbox] == [["fine@example.com"]]


def test_a_batch_skips_rows_already_claimed_sent_or_given_up(db, mailoutbox):
    queued = make_email(to=["queued@example.com"])
    claimed = make_email(status=Status.SENDING, claimed_at=timezone.now(), attempts=1)
    sent = make_email(status=Status.SENT, attempts=1)
    failed = make_email(status=Status.FAILED, attempts=5)
    unknown = make_email(status=Status.UNKNOWN, attempts=1)
    others = [claimed, sent, failed, unknown]
    before = [(email.status, email.attempts) for email in others]

    result = send_outbound_emails([email.pk for email in [*others, queued]])

    assert result == {"not-claimed": 4, "sent": 1}
    assert [m.to for m in mailoutbox] == [["queued@example.com"]]
    for email in others:
        email.refresh_from_db()
    assert [(email.status, email.attempts) for email in others] == before


def queue_many(count: int) -> list[OutboundEmail]:
    from core.services import queue_emails

    context = {"user": None, "url": "http://x/"}
    return queue_emails(
        [([f"p{n}@example.com"], "accounts/email/activation", context) for n in range(count)]
    )


@pytest.mark.parametrize("count", [2, 150])
def test_emails_queued_together_are_the_rows_queued_one_by_one(
    db, count, django_capture_on_commit_callbacks
):
    """Many at once (150: COPY on PostgreSQL) or a few, the rows are those ``queue_email``
    writes one at a time, and each e-mail returned is its row."""
    from core.services import queue_email, queue_emails

    odd = '\\ tab\t quote" end\r\nnew line, caf\u00e9 \\N'
    messages = [
        (
            [f"p{n}@example.com", f"{odd}@example.com"],
            "accounts/email/activation",
            {"user": None, "url": f"http://x/{n}?{odd}"},
        )
        for n in range(count)
    ]
    with django_capture_on_commit_callbacks():  # not published: only the rows are compared
        together = queue_emails(messages, secret=("url",))
        alone = [queue_email(to, name, context, secret=("url",)) for to, name, context in messages]
    columns = [
        field.attname
        for field in OutboundEmail._meta.concrete_fields
        if field.attname not in ("id", "created_at")
    ]

    def rows(emails):
        return list(
            OutboundEmail.objects.filter(pk__in=[email.pk for email in emails])
            .order_by("pk")
            .values_list(*columns)
        )

    assert rows(together) == rows(alone)
    assert rows(together)[1][0] == messages[1][0]
    assert "caf\u00e9" in rows(together)[1][columns.index("body")]
    assert [email.pk for email in together] == sorted({email.pk for email in together})
    for email in together:
        stored = OutboundEmail.objects.get(pk=email.pk)
        assert [getattr(stored, name) for name in columns] == [
            getattr(email, name) for name in columns
        ]
        assert stored.created_at == email.created_at
        assert not email._state.adding


def test_250_emails_are_published_as_3_messages(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(send_outbound_emails, "delay", published.append)
    monkeypatch.setattr(send_outbound_email, "delay", published.append)

    with django_capture_on_commit_callbacks(execute=True):
        emails = queue_many(250)

    assert [len(batch) for batch in published] == [100, 100, 50]
    assert sum(published, []) == [email.pk for email in emails]
    assert not OutboundEmail.objects.filter(published_at__isnull=True).exists()


def test_a_broker_failure_mid_way_leaves_the_rest_unpublished(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    """The batches that left are recorded; the others wait, unpublished, for the sweep."""
    from kombu.exceptions import OperationalError

    published = []

    def first_only(ids):
        if published:
            raise OperationalError("Connection refused.")
        published.append(ids)

    monkeypatch.setattr(send_outbound_emails, "delay", first_only)
    with django_capture_on_commit_callbacks(execute=True):
        emails = queue_many(150)

    assert [len(batch) for batch in published] == [100]
    unpublished = OutboundEmail.objects.filter(published_at__isnull=True)
    assert sorted(unpublished.values_list("pk", flat=True)) == [e.pk for e in emails[100:]]


def test_a_lost_batch_is_published_again_by_the_sweep_and_sent(
    db, monkeypatch, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.CERS_MESSAGE_GRACE = 10
    lost = []
    monkeypatch.setattr(send_outbound_emails, "delay", lost.append)  # a broker that loses them
    with django_capture_on_commit_callbacks(execute=True):
        emails = queue_many(150)
    assert [len(batch) for batch in lost] == [100, 50]
    monkeypatch.setattr(tasks, "queued_messages", lambda task: 0)
    republished = []
    monkeypatch.setattr(send_outbound_emails, "delay", republished.append)

    assert sweep_outbound_email() == 0  # published just now: maybe still on its way
    OutboundEmail.objects.update(published_at=timezone.now() - timedelta(seconds=30))
    assert sweep_outbound_email() == 150

    assert [len(batch) for batch in republished] == [100, 50]
    assert sum(republished, []) == [email.pk for email in emails]
    for batch in republished:  # the worker takes the new messages
        send_outbound_emails(batch)
    assert len(mailoutbox) == 150
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {Status.SENT}
    assert sweep_outbound_email() == 0
