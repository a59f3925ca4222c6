"""Workers for EDT uploads: process one queued upload; sweep up stranded ones."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from core.tasks import BROKER_ERRORS

from . import uploads
from .models import EdtTransaction

# After an infrastructure error the upload is queued again and tried a little later, a few
# times; past that the sweep takes it up every few minutes, as long as the error lasts (it is
# logged each time: an operator's matter, never the client's).
RETRY_SECONDS = 5
RETRIES = 5


@shared_task(bind=True)
def process_upload(self, transaction_id: int, retries: int = 0) -> str:
    """Process a queued upload. Safe to run twice: only the run that claims the row works."""
    outcome = uploads.process(transaction_id)
    if outcome == "retry" and retries < RETRIES and not self.request.is_eager:
        # With the broker down too, the sweep enqueues it when the broker is back.
        countdown = RETRY_SECONDS * (retries + 1)
        with contextlib.suppress(*BROKER_ERRORS, DatabaseError):
            process_upload.apply_async(
                (transaction_id,), {"retries": retries + 1}, countdown=countdown
            )
            # The worker holds the message until then: the sweep counts its grace from there.
            EdtTransaction.objects.filter(pk=transaction_id).update(
                published_at=timezone.now() + timedelta(seconds=countdown)
            )
    return outcome


@shared_task
def sweep_edt_uploads() -> int:
    """Re-enqueue uploads whose worker died or whose message was lost; run by celery beat."""
    return uploads.sweep()
