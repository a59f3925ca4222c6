"""Service helpers every app uses: audit events, many new rows at once (``insert_rows``) and
many changed ones (``update_rows``), sequences, queued e-mail."""

from __future__ import annotations

import datetime
import json
import zlib
from collections import abc
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import models, transaction
from django.db.models import F
from django.template.loader import get_template
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from .models import AuditEvent, OutboundEmail, Sequence


def record_event(actor, action: str, obj: models.Model, **fields) -> AuditEvent:
    """Write an audit event (``fields``: those of ``audit_event``). Call it inside the
    transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change.")
    event = AuditEvent(**audit_event(actor, action, obj, **fields)._asdict())
    event.save(force_insert=True)
    return event


class AuditRow(NamedTuple):
    """An audit event not yet written, as ``record_events`` writes it: the columns of
    ``AuditEvent`` but its key and its time. A tuple, not a model: an upload builds tens of
    thousands, and a model object costs ten times as much to build and to read back."""

    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    organization_id: int | None
    regulator_id: int | None
    before: Any
    after: Any


def audit_event(
    actor,
    action: str,
    obj: models.Model,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    organization=None,
    regulator=None,
) -> AuditRow:
    """An audit event not yet written: ``record_events`` writes many at once. It names the
    actor, organization and agency by key (a batch of reviews builds thousands)."""
    return object_event(
        actor,
        action,
        obj._meta.model,  # not type(obj): a lazy object (request.user) stands for its model
        obj.pk,
        str(obj),
        before=before,
        after=after,
        organization=organization,
        regulator=regulator,
    )


def object_event(
    actor,
    action: str,
    model: type[models.Model],
    pk,
    text: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    organization=None,
    regulator=None,
) -> AuditRow:
    """``audit_event`` of a row known by its model, key and ``str`` (``text``) rather than
    by an object: rows written from values (``insert_values``) have none."""
    return AuditRow(
        getattr(actor, "pk", None),
        action,
        model._meta.label_lower,
        str(pk),
        text[:255],
        organization.pk if organization is not None else None,
        regulator.pk if regulator is not None else None,
        before,
        after,
    )


def record_events(events: Iterable[AuditRow]) -> None:
    """Write audit events built by ``audit_event``, inside the transaction of the changes
    they record. Many at once go through PostgreSQL's COPY (``insert_values``), from the
    tuples as they are; the events get no primary key back."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change.")
    insert_values(AuditEvent, AuditRow._fields, events, keys=False)


def insert_rows(objects: list[models.Model], *, keys: bool = True) -> list[models.Model]:
    """Insert new rows of one model at once, inside the caller's transaction, and return them.

    From ``COPY_FROM`` rows on PostgreSQL, through COPY (several times faster than
    ``bulk_create``, whose statement Django builds value by value): with ``keys``, the
    primary keys are first drawn from the table's sequence in one query, in ascending order
    as ``bulk_create`` would give them, and set on the objects; without, the rows get none.
    Elsewhere, or fewer rows, ``bulk_create``. The values go as they are (text, keys,
    numbers, times), but for JSON, written as its text (``_copy_json``); the time of writing
    (``auto_now`` / ``auto_now_add``) is taken once for the batch. A foreign key given as an
    object inserted since (a parent written by an earlier call) is read from it. No ``save``,
    no signals; for models without file fields. ``insert_values`` writes rows given as
    values, without building the objects."""
    objects = list(objects)
    if not objects:
        return objects
    model = type(objects[0])
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("insert_rows must run inside the transaction of the change.")
    if len(objects) < COPY_FROM or connection.vendor != "postgresql":
        return model.objects.bulk_create(objects, batch_size=1000)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    for obj in objects:  # a related object given before it had its key: take the key now
        obj._prepare_related_fields_for_save(operation_name="insert_rows")
    now = timezone.now()
    for field in fields:
        if _written_now(field):
            for obj in objects:
                setattr(obj, field.attname, now)
    attnames = [field.attname for field in fields]
    pks = _copy(
        connection,
        model,
        fields,
        ([getattr(obj, attname) for attname in attnames] for obj in objects),
        len(objects) if keys else 0,
    )
    for obj, key in zip(objects, pks or [None] * len(objects), strict=True):
        if keys:
            obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def insert_values(
    model: type[models.Model],
    columns: abc.Sequence[str],
    rows: Iterable[abc.Sequence[Any]],
    *,
    keys: bool = True,
) -> list[Any]:
    """``insert_rows`` for rows given as values, no model object built: each row the values
    of ``columns`` (attribute names: ``record_id`` for a foreign key) in that order. The
    columns not named take their field's default (one value for every row) and the time of
    writing (``auto_now`` / ``auto_now_add``), once for the batch. From ``COPY_FROM`` rows on
    PostgreSQL through COPY, else ``bulk_create`` of objects built from the values (which
    sets an ``auto_now`` / ``auto_now_add`` column to its own time of writing even when it is
    named: a caller keeping the value it gave may be a few microseconds off the row). A JSON
    column's value may come with its text already written (``JsonText``). Returns
    the rows' primary keys in their order, with ``keys``; else nothing."""
    rows = list(rows)
    if not rows:
        return []
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("insert_values must run inside the transaction of the change.")
    if len(rows) < COPY_FROM or connection.vendor != "postgresql":
        objects = model.objects.bulk_create(
            [
                model(
                    **{
                        column: value.value if type(value) is JsonText else value
                        for column, value in zip(columns, row, strict=True)
                    }
                )
                for row in rows
            ],
            batch_size=1000,
        )
        return [obj.pk for obj in objects] if keys else []
    count = len(rows) if keys else 0
    named = {field.attname: field for field in model._meta.concrete_fields}
    fields = [named[column] for column in columns]
    now = timezone.now()
    rest = [field for name, field in named.items() if name not in columns and not field.primary_key]
    if rest:
        fixed = [now if _written_now(field) else field.get_default() for field in rest]
        fields += rest
        rows = ([*row, *fixed] for row in rows)
    return _copy(connection, model, fields, rows, count) or []


class JsonText(NamedTuple):
    """A JSON column's value given with the text it is written as (``json_text``):
    ``insert_values`` copies ``text`` as it is, so a value written into several rows (a
    material's data, in its row and in its audit event) is encoded once; where it builds
    objects, it gives them ``value``. For JSON fields without an encoder of their own."""

    value: Any
    text: str


def json_text(value) -> JsonText:
    """``value`` with its JSON text, as a JSON field without an encoder writes it."""
    return JsonText(value, json.dumps(value))


def _written_now(field: models.Field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _copy(connection, model, fields, rows, keys: int) -> list[Any] | None:
    """COPY ``rows`` (the values of ``fields``, in order) into ``model``'s table; with
    ``keys`` (their number), each row first given a primary key drawn from the table's
    sequence (returned, ascending, as ``bulk_create`` would give them)."""
    meta = model._meta
    quote = connection.ops.quote_name
    adapted = [
        (index, field) for index, field in enumerate(fields) if isinstance(field, models.JSONField)
    ]
    columns = [meta.pk.column] if keys else []
    columns += [field.column for field in fields]
    sql = f"COPY {quote(meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    with connection.cursor() as cursor:
        pks = None
        if keys:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, keys],
            )
            pks = sorted(key for (key,) in cursor.fetchall())
        with cursor.copy(sql) as copy:
            for number, row in enumerate(rows):
                if adapted:
                    row = list(row)
                    for index, field in adapted:
                        row[index] = _copy_json(field, row[index], connection)
                copy.write_row([pks[number], *row] if keys else row)
    return pks


def update_rows(objects: list[models.Model], fields) -> None:
    """Write ``fields`` of stored rows of one model, each row its own values, inside the
    caller's transaction: on PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` statement for
    every few thousand rows (``bulk_update`` builds a ``CASE`` of every row for every field,
    which costs seconds for a thousand rows); elsewhere ``bulk_update``. No ``save``, no
    signals, no ``auto_now``."""
    objects = list(objects)
    if not objects:
        return
    model = type(objects[0])
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("update_rows must run inside the transaction of the change.")
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, fields)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in columns) + ")"
    names = ", ".join(f"c{index}" for index in range(len(columns)))
    sets = ", ".join(
        f"{quote(field.column)} = v.c{index}" for index, field in enumerate(columns) if index
    )
    table = quote(meta.db_table)
    per_statement = UPDATE_PARAMETERS // len(columns)
    with connection.cursor() as cursor:
        for start in range(0, len(objects), per_statement):
            chunk = objects[start : start + per_statement]
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection)
                for obj in chunk
                for field in columns
            ]
            values = ", ".join([row] * len(chunk))
            cursor.execute(
                # Names and types from the model's fields, the values as parameters.
                f"UPDATE {table} SET {sets} FROM (VALUES {values}) "  # noqa: S608
                f"AS v({names}) WHERE {table}.{quote(meta.pk.column)} = v.c0",
                params,
            )


# The parameters of one UPDATE of ``update_rows``: PostgreSQL takes at most 65,535.
UPDATE_PARAMETERS = 60_000


def _copy_json(field: models.JSONField, value, connection):
    """A JSON field's value as COPY takes it: the text its adapter would write (SQL NULL for
    None), written directly, three times cheaper than through the adapter; a ``JsonText``'s
    own text."""
    if type(value) is JsonText:
        return value.text
    if value is None or hasattr(value, "as_sql"):
        return field.get_db_prep_save(value, connection)
    return json.dumps(field.get_prep_value(value), cls=field.encoder)


def field_values(obj: models.Model, fields) -> dict[str, Any]:
    """The values of ``fields`` on ``obj`` as they are, such as for a copy of a row: a new
    draft copies its predecessor's rows field by field."""
    return {name: getattr(obj, name) for name in fields}


def snapshot(obj: models.Model, fields) -> dict[str, Any]:
    """The values of ``fields`` on ``obj`` as an audit event's ``before`` / ``after`` keeps them
    (``audit_value``)."""
    return {name: audit_value(getattr(obj, name)) for name in fields}


def audit_value(value):
    """A value as an audit event records it: JSON-ready, dates (and times) in ISO form, so the
    history compares and shows them as written."""
    return value.isoformat() if isinstance(value, datetime.date) else value


def as_text(value, *, strip: bool = True) -> str:
    """A submitted value as the text a service stores and records: "" for None, stripped
    unless ``strip`` is off (free-text comments keep their layout)."""
    text = "" if value is None else str(value)
    return text.strip() if strip else text


# From this many rows on, COPY beats a multi-row INSERT.
COPY_FROM = 100


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


# Keys of one kind share this many locks (``serialize_on``): a transaction that takes many
# (an import adding thousands of facilities) holds at most this many, well within
# PostgreSQL's shared lock table, at the cost of rare waits between unrelated keys.
KEY_LOCK_BUCKETS = 1024


def serialize_on(kind: str, key: str) -> None:
    """Hold a lock on ``key`` of ``kind`` until the transaction ends, so that two
    transactions checking, then writing, the same value (a facility's address, which no
    unique constraint guards: a CUPA may allow a duplicate) run one after the other and the
    second sees the first's row. A PostgreSQL advisory lock; nothing elsewhere (SQLite lets
    one transaction write at a time)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("serialize_on must run inside a transaction.")
    if connection.vendor != "postgresql":
        return
    space = zlib.crc32(kind.encode()) & 0x7FFFFFFF
    bucket = zlib.crc32(key.encode()) % KEY_LOCK_BUCKETS
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [space, bucket])


# What a secret link reads as in the outbox's copy of a sent message.
REDACTED = "[link removed from the stored copy once the message was sent]"


def queue_email(
    to: list[str], template: str, context: dict[str, Any], *, secret: tuple[str, ...] = ()
) -> OutboundEmail:
    """Queue an e-mail rendered from ``<template>_subject.txt`` and ``<template>_body.txt``.

    ``secret`` names the context values that must not outlive the send (a link carrying a
    token): the row also keeps the body rendered with them replaced by ``REDACTED``, which
    the worker puts in place of the body once the message is sent or given up.
    The outbox row is written in the caller's transaction; the send is enqueued after commit,
    and a broker that is down then does not undo or fail the caller's change (the sweep sends).
    """
    [email] = queue_emails([(to, template, context)], secret=secret)
    return email


def queue_emails(
    messages: list[tuple[list[str], str, dict[str, Any]]], *, secret: tuple[str, ...] = ()
) -> list[OutboundEmail]:
    """``queue_email`` for many ``(to, template, context)`` at once: each template looked up
    once, the rows written together (``_write_emails``), and after commit one message for each
    hundred (``core.tasks.EMAIL_BATCH``)."""
    from .tasks import EMAIL_BATCH, publish_on_commit, send_outbound_emails

    templates: dict[str, Any] = {}

    def render(name: str, context: dict[str, Any]) -> str:
        if name not in templates:
            templates[name] = get_template(name)
        return templates[name].render(context)

    emails = [
        OutboundEmail(
            to=list(to),
            subject=" ".join(render(f"{template}_subject.txt", context).split()),
            body=render(f"{template}_body.txt", context),
            redacted_body=(
                render(f"{template}_body.txt", context | dict.fromkeys(secret, REDACTED))
                if secret
                else ""
            ),
        )
        for to, template, context in messages
    ]
    _write_emails(emails)
    publish_on_commit(
        send_outbound_emails, OutboundEmail, [email.pk for email in emails], batch=EMAIL_BATCH
    )
    return emails


def _write_emails(emails: list[OutboundEmail]) -> None:
    """Write new outbox rows, as ``save`` would write each, giving each its primary key: many
    at once through ``insert_rows`` (COPY on PostgreSQL), in the caller's transaction or one
    of their own."""
    if len(emails) == 1:
        emails[0].save(force_insert=True)
        return
    with transaction.atomic(savepoint=False):
        insert_rows(emails)


def set_object_permissions(user, obj: models.Model, wanted, every) -> None:
    """Make ``user``'s object permissions on ``obj`` exactly ``wanted`` (codenames), out of
    ``every`` codename a role can carry: how a role change reaches django-guardian."""
    app_label = obj._meta.app_label
    for codename in set(every) - set(wanted):
        remove_perm(f"{app_label}.{codename}", user, obj)
    for codename in wanted:
        assign_perm(f"{app_label}.{codename}", user, obj)
