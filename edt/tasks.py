"""Workers for EDT uploads: process one queued upload; sweep up stranded ones."""

from __future__ import annotations

from celery import shared_task

from . import uploads


@shared_task
def process_upload(transaction_id: int) -> None:
    """Process a queued upload. Safe to run twice: only the run that claims the row works."""
    uploads.process(transaction_id)


@shared_task
def sweep_edt_uploads() -> int:
    """Re-enqueue uploads whose message was lost; run every minute by celery beat."""
    return uploads.sweep()
