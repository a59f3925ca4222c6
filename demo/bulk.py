"""Loading many rows of a model at once with PostgreSQL's COPY (psycopg ``cursor.copy``).

For synthetic data sets only (``seed_scale``): rows skip the model's ``save``, its
validation and every service, so nothing a person does may ever be written this way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone


def next_id(model: type[models.Model]) -> int:
    """The first free primary key of ``model``'s table (ids are allocated by the caller and
    the table's sequence is moved past them by ``reset_sequences``)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")  # noqa: S608
        return cursor.fetchone()[0]


def reset_sequences(*model_list: type[models.Model]) -> None:
    """Move each table's id sequence past the ids written by COPY."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _filler(field: models.Field):
    """What a column gets when the rows leave it out: the field's default (called for each
    row when it is callable, as a UUID key is), the time now for ``auto_now`` fields, NULL or
    an empty string."""
    now = timezone.now()
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda: now
    if field.has_default():
        default = field.default
        if callable(default):
            return default
        return lambda: default
    if field.null:
        return lambda: None
    if field.blank and isinstance(field, models.CharField | models.TextField):
        return lambda: ""
    raise ValueError(f"{field.model.__name__}.{field.name} needs a value in every row.")


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write ``rows`` (values in the order of ``columns``, attribute names such as
    ``organization_id``) into ``model``'s table with COPY; every other concrete column gets
    its filler. Returns the number of rows written."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = set(columns) - set(fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no column {', '.join(sorted(unknown))}.")
    rest = [f for name, f in fields.items() if name not in columns and not f.primary_key]
    fillers = [_filler(f) for f in rest]
    json_positions = [
        i
        for i, f in enumerate([fields[c] for c in columns] + rest)
        if f.get_internal_type() == "JSONField"
    ]
    names = ", ".join(f'"{fields[c].column}"' for c in columns) + "".join(
        f', "{f.column}"' for f in rest
    )
    count = 0
    with connection.cursor() as cursor:
        sql = f'COPY "{model._meta.db_table}" ({names}) FROM STDIN'
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                values = [*row, *(fill() for fill in fillers)]
                for i in json_positions:
                    values[i] = json.dumps(values[i])
                copy.write_row(values)
                count += 1
    return count
