"""Service helpers every app uses: audit events, sequences, queued e-mail."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models import F
from django.template.loader import render_to_string
from guardian.shortcuts import assign_perm, remove_perm

from .models import AuditEvent, OutboundEmail, Sequence


def record_event(
    actor,
    action: str,
    obj: models.Model,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    organization=None,
    regulator=None,
) -> AuditEvent:
    """Write an audit event. Call it inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change.")
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        organization=organization,
        regulator=regulator,
        before=before,
        after=after,
    )


def next_value(name: str, start: int) -> int:
    """Return the next number of the named sequence; the first one handed out is ``start``.

    Must run inside a transaction: the UPDATE holds the row lock until commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_value must run inside a transaction.")
    updated = Sequence.objects.filter(name=name).update(last_value=F("last_value") + 1)
    if not updated:
        Sequence.objects.get_or_create(name=name, defaults={"last_value": start - 1})
        Sequence.objects.filter(name=name).update(last_value=F("last_value") + 1)
    return Sequence.objects.values_list("last_value", flat=True).get(name=name)


def queue_email(to: list[str], template: str, context: dict[str, Any]) -> OutboundEmail:
    """Queue an e-mail rendered from ``<template>_subject.txt`` and ``<template>_body.txt``.

    The outbox row is written in the caller's transaction; the send is enqueued after commit.
    """
    from .tasks import send_outbound_email

    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_body.txt", context)
    email = OutboundEmail.objects.create(to=list(to), subject=subject, body=body)
    send_outbound_email.delay_on_commit(email.pk)
    return email


def set_object_permissions(user, obj: models.Model, wanted, every) -> None:
    """Make ``user``'s object permissions on ``obj`` exactly ``wanted`` (codenames), out of
    ``every`` codename a role can carry: how a role change reaches django-guardian."""
    app_label = obj._meta.app_label
    for codename in set(every) - set(wanted):
        remove_perm(f"{app_label}.{codename}", user, obj)
    for codename in wanted:
        assign_perm(f"{app_label}.{codename}", user, obj)
