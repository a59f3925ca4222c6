"""What number a key or integer column can hold: the one check between a request and a query.

A number past the database's widest integer column names no row. Django answers such a number
itself for ``=``, ``<`` and ``>`` on an integer column, but not in ``__in`` nor through a
foreign key, where SQLite's driver refuses it with ``OverflowError`` (a server error) before
the query runs. Whatever reads a key or a number from a request asks here first and treats a
number out of range as it treats any other value that names nothing.
"""

from __future__ import annotations

from django.db import connection, models


def column_range(field: models.Field | None = None) -> tuple[int, int]:
    """The smallest and largest number ``field``'s column holds (the widest integer column's
    range when no field is named, or the field holds no integers)."""
    internal = "BigIntegerField"
    if field is not None:
        if field.is_relation and field.target_field is not None:
            field = field.target_field
        if isinstance(field, models.IntegerField):
            internal = field.get_internal_type()
    low, high = connection.ops.integer_field_range(internal)
    return (-(2**63) if low is None else low, 2**63 - 1 if high is None else high)


def fits(value: int, field: models.Field | None = None) -> bool:
    """Whether the integer ``value`` fits ``field``'s column (any integer column)."""
    low, high = column_range(field)
    return low <= value <= high


def as_key(text) -> int | None:
    """``text`` as a row's key: ASCII digits naming a number a key column holds; ``None`` for
    anything else (which names no row)."""
    text = str(text)
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if fits(value) else None
