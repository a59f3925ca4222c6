"""PostgreSQL's ``LIKE 'prefix%'`` twins of indexed text columns, kept only where a prefix
is looked up.

On PostgreSQL Django gives every indexed text column (``db_index=True`` or ``unique=True``)
a second index with the ``varchar_pattern_ops`` operator class, named ``..._like``: the plain
B-tree compares by the database's collation, which ``LIKE 'x%'`` (``startswith``) cannot
use, and the twin can. A column only ever compared whole (``=``, ``IN``, ``= ANY``) gains
nothing from it, yet every insert writes it, and every update that cannot stay on its page
(HOT): on the tables written by the thousand (audit events, CME records, the EDT transaction
log, the e-mail outbox) it is one index in seven or eight.

``drop_pattern_twins`` drops such twins in a migration. The models keep ``db_index=True``
(their plain index stays declared), so the state does not change; Django drops a twin with
``DROP INDEX IF EXISTS`` when a later migration alters its field, so a twin already gone does
not break it, but a later change of the column's type creates it again.
``tests/test_duplicate_indexes.py`` lists the twins the project keeps, each with the look-up
it serves, and fails on any other.
"""

from __future__ import annotations

from django.db import migrations


def pattern_twins(cursor, table: str, column: str) -> list[str]:
    """The names of ``table``'s indexes on ``column`` alone with an operator class of their
    own (not the type's default): Django's ``_like`` twins."""
    cursor.execute(
        """
        SELECT ix.relname
        FROM pg_index i
        JOIN pg_class ix ON ix.oid = i.indexrelid
        JOIN pg_class tab ON tab.oid = i.indrelid
        JOIN pg_attribute a ON a.attrelid = tab.oid AND a.attnum = i.indkey[0]
        JOIN pg_opclass opclass ON opclass.oid = i.indclass[0]
        WHERE tab.relname = %s AND a.attname = %s AND i.indnatts = 1
          AND NOT opclass.opcdefault
        """,
        [table, column],
    )
    return [name for (name,) in cursor.fetchall()]


def drop_pattern_twins(columns: list[tuple[str, str]]) -> migrations.RunPython:
    """A migration operation that, on PostgreSQL, drops the ``LIKE`` twin of each
    ``(table, column)``; backwards, it creates each again as Django names it. Elsewhere it
    does nothing (only PostgreSQL's backend makes them)."""

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for table, column in columns:
                for name in pattern_twins(cursor, table, column):
                    schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for table, column in columns:
            name = schema_editor._create_index_name(table, [column], suffix="_like")
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} "
                f"({quote(column)} varchar_pattern_ops)"
            )

    return migrations.RunPython(drop, create, elidable=False)
