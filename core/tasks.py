"""Workers for the e-mail outbox, and how every app enqueues a task.

Enqueueing (``enqueue``, ``publish``, ``publish_on_commit``): the broker is not a dependency
of correctness. The database row is the record of the work; a publish that fails (Redis down or
restarting) is logged and forgotten, and the beat sweeps enqueue the row when the broker is back.
A change that committed is answered as a success even when its task could not be published.
``publish`` records on each row when its message was last published (``published_at``), so a
sweep tells a lost message from one merely waiting in a long queue (``lost_messages``): a
queued row is published again when the broker's queue for its task is empty and its message
left more than ``CERS_MESSAGE_GRACE`` seconds ago (it was lost: Redis restarted without its
data, or the worker that had taken it died), or, whatever the queue holds, when it left longer
ago than the task's stranded time; a row whose publish failed (``published_at`` empty) is
published again once the grace has passed. A message published twice is harmless (the task
claims its row first) but does not multiply: each row at most once per grace.

E-mails are published in batches (``publish(..., batch=EMAIL_BATCH)``): one message of
``send_outbound_emails`` names up to a hundred rows, whether ``queue_emails`` wrote them (an
upload's reviews queue tens of thousands) or the sweep found their messages lost; a single
e-mail (an activation, a password reset) is a batch of one, published as soon as its
transaction commits. ``published_at`` is still recorded on each row, so the sweep judges each
row alone, and a row of a lost batch goes in a new batch with the other rows found lost.
``send_outbound_email`` (one row) still handles the messages published before batches.

Sending an e-mail is at most once, and a batch sends each of its rows by the same two steps,
one row after another (one row's failure is recorded on it and the batch goes on; a row
already claimed, sent or given up is skipped):

1. the row is claimed in a short transaction: ``queued`` -> ``sending``, one more attempt, and a
   Message-ID fixed for good; this commits before anything leaves;
2. in a second transaction that holds the row's lock (``SELECT ... FOR UPDATE SKIP LOCKED`` on
   PostgreSQL) the message is handed to the mail server with that Message-ID, and the row is
   marked ``sent`` (or put back to ``queued`` with the error, ``failed`` after the last attempt).

A worker that dies between the two leaves the row ``sending``: whether the mail server got the
message cannot be known from here. The sweep marks such a row ``unknown`` (on PostgreSQL as
soon as no worker holds its lock, a few seconds; without row locks after ``EMAIL_LEASE``) and
does not send it again: the admin lists ``unknown`` e-mails and finds one by its Message-ID, which
an operator looks up in the mail server's log before deciding to send it again by hand. The rows
of its batch it had not yet claimed are still ``queued``: the message comes back (``acks_late``)
or the sweep publishes them again, and the row it was sending is skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import OutboundEmail

logger = logging.getLogger(__name__)

# RFC 5322's limit on a line of a message, line break excluded.
MAX_LINE_LENGTH = 998


class PlainTextEmail(EmailMessage):
    """A plain-text e-mail whose body leaves as written, line for line.

    Python's e-mail library encodes a body with a line over 78 characters as quoted-printable,
    which cuts it with soft breaks (``=`` at the end of each piece): an activation or password
    link printed by the console backend, or read in a mail client that shows the source, could
    not be copied whole. Lines within RFC 5322's limit go as 7bit (ASCII) or 8bit, unchanged;
    only a body with a longer line is left to the library's encoding.
    """

    def _add_bodies(self, msg):
        body = self.body or ""
        if self.attachments or any(len(line) > MAX_LINE_LENGTH for line in body.splitlines()):
            super()._add_bodies(msg)
            return
        cte = "7bit" if body.isascii() else "8bit"
        encoding = self.encoding or settings.DEFAULT_CHARSET
        msg.set_content(body, subtype=self.content_subtype, charset=encoding, cte=cte)


Status = OutboundEmail.Status

# Errors of the broker or the cache: infrastructure, never a reason to lose or fail the work.
BROKER_ERRORS = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)

# A row claimed this long ago and still ``sending`` is taken to belong to a dead worker where
# the database has no row locks to tell (SQLite, the embedded default). Longer than a send.
EMAIL_LEASE = timedelta(minutes=10)
# With row locks, a ``sending`` row that nobody holds is a dead worker's; this short grace
# covers the moment between the claim's commit and the sending transaction's lock.
CLAIM_GRACE = timedelta(seconds=5)
# A queued e-mail whose message left this long ago is published again even while the broker's
# queue holds messages (a long queue, or a broker that cannot be asked).
EMAIL_STRANDED = timedelta(minutes=1)
# How many e-mails one message names (``send_outbound_emails``): publishing a message costs
# about a millisecond of Celery's own code, which an upload that queues tens of thousands of
# e-mails paid once each; a worker sends a batch's rows one after another.
EMAIL_BATCH = 100


def enqueue(task, *args) -> bool:
    """Publish ``task(*args)``; a broker failure is logged, not raised (the sweep catches up).
    Returns whether the message was published."""
    try:
        task.delay(*args)
    except BROKER_ERRORS as error:
        logger.warning("could not enqueue %s%r (the sweep will): %s", task.name, tuple(args), error)
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    """``enqueue`` after the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(partial(enqueue, task, *args))


def publish(task, model, pks: Iterable[int], *, batch: int = 0) -> list[int]:
    """Publish ``task(pk)`` for each row of ``model`` named, in order, or with ``batch``
    ``task([pk, ...])`` for each run of up to ``batch`` of them, and record on the rows
    published when (``published_at``, one UPDATE). Stops at the first broker failure (the
    sweep catches up). Returns the keys published."""
    pks = list(pks)
    published = []
    if batch:
        for start in range(0, len(pks), batch):
            chunk = pks[start : start + batch]
            if not enqueue(task, chunk):
                break
            published.extend(chunk)
    else:
        for pk in pks:
            if not enqueue(task, pk):
                break
            published.append(pk)
    if published:
        try:
            model.objects.filter(pk__any=published).update(published_at=timezone.now())
        except DatabaseError as error:  # the messages left; a sweep may send them once more
            logger.warning("publish time of %s %s not recorded: %s", model, published, error)
    return published


def publish_on_commit(task, model, pks: Iterable[int], *, batch: int = 0) -> None:
    """``publish`` after the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(partial(publish, task, model, list(pks), batch=batch))


def queued_messages(task) -> int | None:
    """How many messages wait in the broker's queue of ``task`` (not those a worker took), or
    None when the broker cannot be asked (down, or a transport that cannot tell)."""
    return queue_length(task.app, task.app.amqp.router.route({}, task.name)["queue"].name)


def queue_length(app, queue: str) -> int | None:
    """``queued_messages`` of the broker's queue named ``queue``."""
    try:
        with app.connection_for_read(
            connect_timeout=2,
            transport_options={"socket_timeout": 2, "socket_connect_timeout": 2},
        ) as broker:
            broker.connect()
            channel = broker.channel()
            try:
                return int(channel._size(queue))  # kombu's virtual transports (Redis, memory)
            finally:
                channel.close()
    except (*BROKER_ERRORS, AttributeError, NotImplementedError, OSError) as error:
        logger.warning("the broker's queue %s could not be measured: %s", queue, error)
        return None


def lost_messages(task, queryset, *, published_since, stranded: timedelta, limit: int = 1000):
    """The keys of the rows of ``queryset`` (queued work of ``task``) whose message is taken
    to be lost (see the module docstring): never published and created before the grace, or
    published before the grace while the broker's queue is empty, or before ``stranded``
    whatever it holds (the broker cannot be asked: the same). ``published_since``: the field
    that dates a row never published (its creation)."""
    now = timezone.now()
    grace = now - timedelta(seconds=settings.CERS_MESSAGE_GRACE)
    lost = Q(published_at__isnull=True, **{f"{published_since}__lt": grace})
    if queued_messages(task) == 0:
        lost |= Q(published_at__lt=grace)
    else:
        lost |= Q(published_at__lt=now - stranded)
    return list(queryset.filter(lost).order_by("pk").values_list("pk", flat=True)[:limit])


def has_row_locks() -> bool:
    """Whether the database can tell a live claim from a dead one by its row lock."""
    return connection.features.has_select_for_update_skip_locked


def _locked(queryset):
    return queryset.select_for_update(skip_locked=True) if has_row_locks() else queryset


def _claim(email_id: int) -> int | None:
    """Take a queued e-mail: mark it sending and count the attempt (committed before sending).
    Returns the attempt number, the claim's token, or None if it is not to be sent now."""
    with transaction.atomic():
        email = _locked(OutboundEmail.objects.filter(pk=email_id, status=Status.QUEUED)).first()
        if email is None:
            return None
        email.status = Status.SENDING
        email.claimed_at = timezone.now()
        email.attempts += 1
        if not email.message_id:
            email.message_id = make_msgid(domain=_domain())
        email.save(update_fields=["status", "claimed_at", "attempts", "message_id"])
        return email.attempts


def _domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >")
    return sender or "cers.localhost"


@shared_task
def send_outbound_email(email_id: int) -> str:
    """Send one queued e-mail, at most once (see the module docstring). Messages are published
    for ``send_outbound_emails`` now; this handles those published before, one e-mail each."""
    return _send(email_id)


@shared_task
def send_outbound_emails(email_ids: list[int]) -> dict[str, int]:
    """Send each queued e-mail named, one after another, each exactly as
    ``send_outbound_email`` does (its own claim, then its own locked send): a row already
    claimed, sent or given up is skipped, and a row that fails is recorded on that row, never
    stopping the others or sending them again. Returns how many rows ended how."""
    outcomes: Counter[str] = Counter()
    for email_id in email_ids:
        try:
            outcomes[_send(email_id)] += 1
        except SoftTimeLimitExceeded:
            raise  # out of time: the rows not yet claimed are still queued, the sweep has them
        except Exception:  # e.g. the database: this row is left as it was, the others go on
            logger.exception("e-mail %s could not be sent", email_id)
            outcomes["error"] += 1
    return dict(outcomes)


def _send(email_id: int) -> str:
    """Claim, then send in the row's lock (see the module docstring)."""
    attempt = _claim(email_id)
    if attempt is None:
        return "not-claimed"
    with transaction.atomic():
        email = _locked(
            OutboundEmail.objects.filter(pk=email_id, status=Status.SENDING, attempts=attempt)
        ).first()
        if email is None:  # the sweep took it between the two transactions
            return "not-claimed"
        message = PlainTextEmail(
            email.subject,
            email.body,
            settings.DEFAULT_FROM_EMAIL,
            email.to,
            headers={"Message-ID": email.message_id},
        )
        try:
            message.send()
        except Exception as exc:  # any transport failure is recorded on the row
            logger.warning("sending e-mail %s failed: %s", email_id, exc)
            final = attempt >= settings.CERS_EMAIL_MAX_ATTEMPTS
            email.status = Status.FAILED if final else Status.QUEUED
            email.last_error = str(exc)[:2000]
            fields = ["status", "last_error"]
            if final:
                fields += _drop_secret(email)
            email.save(update_fields=fields)
            return "failed"
        email.status = Status.SENT
        email.sent_at = timezone.now()
        email.save(update_fields=["status", "sent_at", *_drop_secret(email)])
    return "sent"


def _drop_secret(email: OutboundEmail) -> list[str]:
    """Put the message without its secret links in place of the body, once it will not be
    sent again: the outbox keeps what was said, never a working token. Returns the fields
    changed."""
    if not email.redacted_body:
        return []
    email.body, email.redacted_body = email.redacted_body, ""
    return ["body", "redacted_body"]


def _dead_claims(now) -> list[int]:
    """The ``sending`` rows whose worker died, locked until the caller's transaction ends."""
    if has_row_locks():
        rows = OutboundEmail.objects.select_for_update(skip_locked=True).filter(
            status=Status.SENDING, claimed_at__lt=now - CLAIM_GRACE
        )
    else:
        rows = OutboundEmail.objects.filter(status=Status.SENDING, claimed_at__lt=now - EMAIL_LEASE)
    return list(rows.values_list("pk", flat=True)[:1000])


@shared_task
def sweep_outbound_email() -> int:
    """Mark ``unknown`` the e-mails whose worker died while sending; re-enqueue queued ones
    whose message was lost (a failed publish, a broker restart). Run by celery beat."""
    now = timezone.now()
    with transaction.atomic():
        dead = _dead_claims(now)
        if dead:
            OutboundEmail.objects.filter(pk__in=dead).update(
                status=Status.UNKNOWN,
                last_error="The worker stopped while sending: the mail server may or may not "
                "have it. Not sent again; look its Message-ID up in the mail server's log.",
            )
            logger.error("e-mails %s: the worker stopped while sending them (unknown)", dead)
    stranded = lost_messages(
        send_outbound_emails,
        OutboundEmail.objects.filter(status=Status.QUEUED),
        published_since="created_at",
        stranded=EMAIL_STRANDED,
    )
    # The broker down: what was not published is tried again by the next sweep.
    return len(publish(send_outbound_emails, OutboundEmail, stranded, batch=EMAIL_BATCH))
