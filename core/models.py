"""Audit events, number sequences and the e-mail outbox."""

import json

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One change made through a service function: who, what, when, and the before/after.

    Written in the same transaction as the change it records, so a change and its audit
    event land together or not at all.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255, blank=True)
    # Denormalized scope, so an organization's or agency's history is one indexed query.
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    regulator = models.ForeignKey(
        "regulators.Regulator",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class Sequence(models.Model):
    """A named counter for numbers handed out in order (CERS IDs, organization codes).

    ``core.services.next_value`` increments the row under its row lock, so two concurrent
    transactions never get the same number.
    """

    name = models.CharField(max_length=50, primary_key=True)
    last_value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class OutboundEmailQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """The e-mails addressed to ``user``'s own address (any case), and no other: what a
        person may read of the outbox. Matched on the quoted address in the JSON list, so
        ``ann@x.example`` never finds ``joann@x.example``'s mail."""
        email = (getattr(user, "email", "") or "").strip()
        if not email or action != "view":
            return self.none()
        return self.filter(to__icontains=json.dumps(email))


class OutboundEmail(models.Model):
    """An e-mail waiting to be sent, being sent, sent or failed: the outbox.

    The row is written in the transaction of the change that causes it and the Celery task is
    enqueued after commit. The row, not the broker message, is the record: a periodic sweep
    re-enqueues rows whose message was lost, and the task claims the row (``sending``, an
    attempt counted, its Message-ID fixed) before it sends, so a message delivered twice sends
    once. A row left ``sending`` by a worker that died may or may not have reached the mail
    server: it becomes ``unknown`` and is not sent again unless an operator says so (sending is
    at most once; see ``core.tasks``).

    A message may carry a secret (an activation, password-reset or invitation link). The
    secret is needed only until the message leaves: ``redacted_body`` holds the same message
    with the secret replaced, and once the row is sent (or given up) it becomes the body, so
    the outbox never keeps a live link longer than the send takes.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown: the worker stopped while sending"

    to = models.JSONField(help_text="List of recipient addresses.")
    subject = models.CharField(max_length=255)
    body = models.TextField()
    redacted_body = models.TextField(
        blank=True,
        help_text="The body without its secret links, kept once the message is sent; "
        "empty when the body holds no secret.",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its send was last handed to the broker; empty if that failed.",
    )
    message_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The Message-ID header, fixed before the first attempt: the same on every "
        "attempt, so the mail server's log tells whether an 'unknown' e-mail went out.",
    )

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} -> {', '.join(self.to)} ({self.status})"

    @property
    def shown_body(self) -> str:
        """The body a page may show: without its secret link, whether or not it was sent."""
        return self.redacted_body or self.body
