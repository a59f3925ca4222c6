"""``core.services.insert_rows``: many new rows at once, by COPY on PostgreSQL from
``COPY_FROM`` rows, else by ``bulk_create``; either way the same rows, each object keyed."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from core.models import AuditEvent
from core.services import COPY_FROM, AuditRow, JsonText, insert_rows, insert_values, json_text
from facilities.models import Facility
from organizations.models import Organization

_numbers = iter(range(60_000_000, 61_000_000))


def organizations(how_many: int) -> list[Organization]:
    return [Organization(code=n, name=f"Copied Org {n}") for n in next_numbers(how_many)]


def next_numbers(how_many: int) -> list[int]:
    return [next(_numbers) for _ in range(how_many)]


@pytest.mark.django_db
@pytest.mark.parametrize("how_many", [3, COPY_FROM + 5])
def test_rows_get_their_keys_and_their_parents_keys(how_many):
    """Below ``COPY_FROM`` (``bulk_create``) and above it (COPY on PostgreSQL): every object
    gets its own key, ascending; a child made before its parent was written points at it."""
    parents = organizations(how_many)
    children = [
        Facility(
            cers_id=n,
            organization=parent,  # not written yet: no key to copy at this point
            name=f"Copied Site {n}",
            street=f"{n} Copy Road",
            city="Sacramento",
            zip_code="95814",
            address_key=f"{n} COPY RD|SACRAMENTO|95814",
        )
        for n, parent in zip(next_numbers(how_many), parents, strict=True)
    ]
    with transaction.atomic():
        insert_rows(parents)
        insert_rows(children)
    keys = [p.pk for p in parents]
    assert None not in keys and keys == sorted(set(keys))
    stored = dict(
        Facility.objects.filter(pk__in=[c.pk for c in children]).values_list("pk", "organization")
    )
    assert stored == {c.pk: p.pk for c, p in zip(children, parents, strict=True)}
    assert all(not c._state.adding for c in children)
    fresh = Facility.objects.get(pk=children[-1].pk)
    assert (fresh.name, fresh.created_at is not None) == (children[-1].name, True)


@pytest.mark.django_db
@pytest.mark.parametrize("how_many", [3, COPY_FROM + 5])
def test_rows_given_as_values_are_those_given_as_objects(how_many):
    """``insert_values`` writes what ``insert_rows`` writes of the same values, no object
    built: the columns not named take their defaults and the time of writing; the keys come
    back in the rows' order, ascending."""
    numbers = next_numbers(2 * how_many)
    names = [f"Valued Org {n} \u201c\u00e9\u201d\t\\" for n in range(how_many)]
    with transaction.atomic():
        objects = insert_rows(
            [
                Organization(code=n, name=name)
                for n, name in zip(numbers[:how_many], names, strict=True)
            ]
        )
        keys = insert_values(
            Organization, ("code", "name"), zip(numbers[how_many:], names, strict=True)
        )
    assert len(keys) == how_many and keys == sorted(set(keys))
    assert max(obj.pk for obj in objects) < keys[0]
    columns = [
        f.attname
        for f in Organization._meta.concrete_fields
        if f.attname not in ("id", "code", "created_at")
    ]

    def stored(pks):
        rows = Organization.objects.filter(pk__in=pks).order_by("pk")
        return list(rows.values_list(*columns)), list(rows.values_list("code", flat=True))

    assert stored(keys)[0] == stored([obj.pk for obj in objects])[0]
    assert stored(keys)[1] == numbers[how_many:]
    assert stored(keys)[0][0][columns.index("name")] == names[0]
    assert not Organization.objects.filter(pk__in=keys, created_at__isnull=True).exists()
    with transaction.atomic():
        assert insert_values(Organization, ("code", "name"), [], keys=True) == []


@pytest.mark.django_db
@pytest.mark.parametrize("how_many", [2, COPY_FROM])
def test_rows_without_keys_keep_their_values(cast, how_many):
    """Audit events are written without reading their keys back: the values as they were,
    JSON and characters COPY escapes included (by COPY, with one time of writing)."""
    events = [
        AuditEvent(
            actor_id=cast.cupa_reviewer.pk,
            action="test.copied",
            object_type="organizations.organization",
            object_id=str(n),
            object_repr=f"Org “{n}”\ttab\\slash",
            after={"n": n, "text": "café", "none": None},
        )
        for n in range(how_many)
    ]
    with transaction.atomic():
        insert_rows(events, keys=False)
    stored = list(AuditEvent.objects.filter(action="test.copied").order_by("pk"))
    assert [(e.object_repr, e.after) for e in stored] == [
        (f"Org “{n}”\ttab\\slash", {"n": n, "text": "café", "none": None}) for n in range(how_many)
    ]
    if connection.vendor == "postgresql" and how_many >= COPY_FROM:
        assert len({e.created_at for e in stored}) == 1
        assert all(e.pk is None for e in events)  # COPY reads nothing back


def test_outside_a_transaction_it_refuses():
    """Before any query (this test may not reach the database at all)."""
    with pytest.raises(RuntimeError, match="inside the transaction"):
        insert_rows(organizations(1))


@pytest.mark.django_db
@pytest.mark.parametrize("how_many", [2, COPY_FROM])
def test_json_given_with_its_text_is_written_from_the_text(cast, how_many):
    """A JSON value given with its text (``JsonText``) is written as that text by COPY, and as
    its value by ``bulk_create``: a text that says otherwise shows which one was written."""
    value = {"n": 1, "text": "café \u201c\u201d\t\\", "none": None, "list": [1.5, True]}
    rows = [
        (cast.cupa_reviewer.pk, "test.texted", "organizations.organization", str(n), "Org")
        + (None, None, json_text(value), JsonText(value, '{"written": "from the text"}'))
        for n in range(how_many)
    ]
    with transaction.atomic():
        insert_values(AuditEvent, AuditRow._fields, rows, keys=False)
    stored = AuditEvent.objects.filter(action="test.texted").values_list("before", "after")
    copied = connection.vendor == "postgresql" and how_many >= COPY_FROM
    after = {"written": "from the text"} if copied else value
    assert list(stored) == [(value, after)] * how_many
