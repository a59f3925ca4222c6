"""An element's data: where each registry field's value lives in
``SubmittalElementRecord.data``, and its rows.

Data keys: a value is stored under the field's data-dictionary number ("3", "105a",
"20.0050") when it has one, else under its path (``Field.key``,
"BusinessActivities/BusinessName"); see :func:`data_key`. The rows of a repeating group are a
list under the group's key ("USTTanks/USTTank"), each row a dict keyed the same way
(:func:`rows_of`). Values are stored as JSON (:func:`to_json`): strings for string and code
fields, numbers for integers, decimals as their text, dates and date-times in ISO form,
booleans as booleans.

The portal's forms, validation, the services and the EDT codecs all read and write the data
through these, so none of them needs the forms.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from core.elements import SubmittalElement
from core.registry import ElementSchema, Field, Group, schema_for

# Repeating groups whose rows another part of the portal edits: the inventory's chemicals
# (``submittals.inventory``).
ROWS_EDITED_ELSEWHERE = frozenset(
    {(int(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY), "Chemicals/Chemical")}
)


def data_key(field: Field) -> str:
    """Where a field's value lives in the element's data: its number, else its path."""
    return field.number or field.key


def single_valued_fields(schema: ElementSchema) -> tuple[Field, ...]:
    """The element's data fields that hold one value: not repeating, not inside a row."""
    return tuple(f for f in schema.data_fields if not f.repeats and not schema.record_path(f))


def user_entered(fields) -> tuple[Field, ...]:
    """The fields a business fills in: not the regulators' own keys (RegulatorEntityKeyType),
    which regulators' systems set through EDT."""
    return tuple(f for f in fields if f.xsd_type != "RegulatorEntityKeyType")


def _in_document_slot(schema: ElementSchema, group: Group) -> bool:
    return any(group.path[: len(slot.path)] == slot.path for slot in schema.document_slots)


def row_fields(schema: ElementSchema, group: Group) -> tuple[Field, ...]:
    """The fields of one row of ``group``, with those of its nested non-repeating groups;
    not those of rows nested further."""
    return _row_fields(int(schema.element), group.path)


@cache
def _row_fields(element: int, path: tuple[str, ...]) -> tuple[Field, ...]:
    schema = schema_for(element)
    return tuple(f for f in schema.data_fields if schema.record_path(f) == path)


def row_groups(schema: ElementSchema) -> tuple[Group, ...]:
    """The element's repeating groups of data rows that these forms edit: directly in the
    element (not nested in another row), not document slots or their attachments, with
    fields of their own, and not edited elsewhere (the inventory's chemicals)."""
    return tuple(
        group
        for group in schema.groups
        if group.repeats
        and not group.document
        and not _in_document_slot(schema, group)
        and not schema.record_path(group)
        and (int(schema.element), group.key) not in ROWS_EDITED_ELSEWHERE
        and row_fields(schema, group)
    )


def row_group(schema: ElementSchema, tag: str) -> Group | None:
    """One of ``row_groups`` by its tag ("USTTank"), as the pages' URLs name it."""
    return next((group for group in row_groups(schema) if group.tag == tag), None)


def nested_row_groups(schema: ElementSchema, group: Group) -> tuple[Group, ...]:
    """Repeating groups inside a row of ``group`` (not document slots): not edited here."""
    return tuple(
        inner
        for inner in schema.groups
        if inner.repeats
        and not inner.document
        and not _in_document_slot(schema, inner)
        and schema.record_path(inner) == group.path
    )


def rows_of(data: dict | None, group: Group) -> list[dict]:
    """The rows of a repeating group in an element's data. Anything but a list counts as no
    rows; a row that is not a dict counts as an empty row (its index is kept)."""
    raw = (data or {}).get(group.key) if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return []
    return [row if isinstance(row, dict) else {} for row in raw]


def row_fingerprint(row: dict) -> str:
    """A short digest of a row's values. Row pages send it back, so a change or removal is
    refused when the row at that index is no longer the one the user saw."""
    text = json.dumps(row, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def field_label(field: Field) -> str:
    """A field as messages name it: its label in words (Facility Information's plain
    wording where it has one), then its data-dictionary number."""
    from .facility_information import words

    plain = words(field)
    label = plain.label if plain else field.label
    return f"{label} ({field.number})" if field.number else label


def to_json(value):
    """A clean registry value as stored in the element's JSON data."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
