"""Trigram indexes for the lists' name search, on PostgreSQL only.

``search_filter`` matches words with ``icontains``, which Django writes on PostgreSQL as
``UPPER(column::text) LIKE UPPER('%word%')``: no B-tree serves a pattern that starts with a
wildcard, so every row of the scope was read. A ``pg_trgm`` GIN index on that same expression
answers it from the trigrams of the word (three letters and more). SQLite, the embedded
default, has no such extension: the same search reads every row there, and these operations
do nothing. The indexes stay out of the models' state (an expression index with an operator
class of an extension that SQLite lacks), so they are declared in migrations only, through
``trigram_indexes``; ``tests/test_list_indexes.py`` checks they exist on PostgreSQL.
"""

from __future__ import annotations

from django.db import migrations


def index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"[:63]


def trigram_indexes(table: str, columns: list[str]) -> migrations.RunPython:
    """A migration operation that, on PostgreSQL, creates the ``pg_trgm`` extension (if
    missing) and a GIN trigram index on ``UPPER(column::text)`` of each of ``columns``."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{index_name(table, column)}" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{index_name(table, column)}"')

    return migrations.RunPython(create, drop, elidable=False)
