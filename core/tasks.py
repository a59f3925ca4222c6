"""Workers for the e-mail outbox."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from .models import OutboundEmail

logger = logging.getLogger(__name__)

# A row claimed longer ago than this is taken to belong to a worker that died.
STALE_CLAIM = timedelta(minutes=10)


@shared_task
def send_outbound_email(email_id: int) -> str:
    """Send one queued e-mail. Safe to run twice: only the run that claims the row sends."""
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(
        Q(status=OutboundEmail.Status.QUEUED)
        | Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - STALE_CLAIM),
        pk=email_id,
    ).update(status=OutboundEmail.Status.SENDING, claimed_at=now)
    if not claimed:
        return "not-claimed"
    email = OutboundEmail.objects.get(pk=email_id)
    attempts = email.attempts + 1
    try:
        send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, email.to)
    except Exception as exc:  # any transport failure is recorded on the row
        logger.warning("sending e-mail %s failed: %s", email_id, exc)
        final = attempts >= settings.CERS_EMAIL_MAX_ATTEMPTS
        OutboundEmail.objects.filter(pk=email_id).update(
            status=OutboundEmail.Status.FAILED if final else OutboundEmail.Status.QUEUED,
            attempts=attempts,
            last_error=str(exc)[:2000],
            **(_without_secret(email) if final else {}),
        )
        return "failed"
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.Status.SENT,
        attempts=attempts,
        sent_at=timezone.now(),
        **_without_secret(email),
    )
    return "sent"


def _without_secret(email: OutboundEmail) -> dict:
    """The fields that drop a message's secret links once it will not be sent again: the
    outbox keeps what was said, never a working token."""
    if not email.redacted_body:
        return {}
    return {"body": email.redacted_body, "redacted_body": ""}


@shared_task
def sweep_outbound_email() -> int:
    """Re-enqueue e-mail whose message was lost (a dead worker, a lost publish, a broker
    restart). Run every minute by celery beat."""
    now = timezone.now()
    stranded = OutboundEmail.objects.filter(
        Q(status=OutboundEmail.Status.QUEUED, created_at__lt=now - timedelta(minutes=1))
        | Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
    ).values_list("pk", flat=True)[:1000]
    count = 0
    for pk in stranded:
        send_outbound_email.delay(pk)
        count += 1
    return count
