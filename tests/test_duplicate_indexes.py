"""No table of the project's own apps keeps an index another one already serves.

A plain (non-unique, non-partial) index whose columns are the leading columns of another
index or unique constraint on the same table answers no look-up the longer one does not, yet
every insert and every update of its column writes it too: the uploads write the big tables
(elements, chemicals, inspections, routings, audit events) by the thousand. Such indexes are
mostly Django's automatic ForeignKey index and ``db_index=True``; a field whose look-ups a
composite serves says so with ``db_index=False`` and a comment naming the composite.

A partial index or constraint covers only its rows, so it serves nothing else. The database
introspection does not say which are partial: the models' own declarations do (by name).
"""

import pytest
from django.apps import apps
from django.db import connection

from .test_layers import LAYERS

# The apps whose tables the project declares (demo and cers have none; Django's, axes' and
# guardian's own tables are theirs).
PROJECT_APPS = LAYERS[: LAYERS.index("portal") + 1]

# Django auth's many-to-many tables of the user (``PermissionsMixin.groups`` and
# ``.user_permissions``): Django declares them, on the project's user model.
DJANGOS_OWN = {"accounts_user_groups", "accounts_user_user_permissions"}


def project_models():
    """Every model with a table of the project's apps, the automatic many-to-many tables
    included."""
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            table = model._meta.db_table
            if model._meta.managed and not model._meta.proxy and table not in DJANGOS_OWN:
                yield model


def partial_names(model) -> set[str]:
    """The names of the model's indexes and unique constraints that hold some rows only."""
    declared = [*model._meta.indexes, *model._meta.constraints]
    return {item.name for item in declared if getattr(item, "condition", None) is not None}


def pattern_indexes(cursor, table: str) -> set[str]:
    """The indexes of ``table`` with an operator class of their own: on PostgreSQL, the
    ``varchar_pattern_ops`` twin Django gives an indexed text column serves ``LIKE 'x%'``,
    which the plain index does not, and the other way round (the introspection does not
    say)."""
    if connection.vendor != "postgresql":
        return set()
    cursor.execute(
        """
        SELECT DISTINCT ix.relname
        FROM pg_index i
        JOIN pg_class ix ON ix.oid = i.indexrelid
        JOIN pg_class tab ON tab.oid = i.indrelid
        JOIN pg_opclass opclass ON opclass.oid = ANY(i.indclass)
        WHERE tab.relname = %s AND NOT opclass.opcdefault
        """,
        [table],
    )
    return {name for (name,) in cursor.fetchall()}


def duplicates(table: str, partial: set[str]) -> list[str]:
    """The plain indexes of ``table`` whose columns lead another full index or unique
    constraint, each with the one that serves it."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        patterns = pattern_indexes(cursor, table)
    # Only a B-tree index or a unique constraint answers the plain index's look-ups (a GIN
    # trigram index on an expression does not); PostgreSQL names the type, SQLite has one.
    covers = {
        name: c["columns"]
        for name, c in constraints.items()
        if (c["index"] or c["unique"] or c["primary_key"])
        and c.get("type") in (None, "btree", "idx")
        and c["columns"]
        and None not in c["columns"]
        and name not in partial
        and name not in patterns
    }
    found = []
    for name, c in constraints.items():
        plain = c["index"] and not c["unique"] and not c["primary_key"]
        if not plain or name not in covers:
            continue
        columns = c["columns"]
        for other, other_columns in covers.items():
            if other != name and other_columns[: len(columns)] == columns:
                found.append(f"{table}: {name} {columns} is served by {other} {other_columns}")
                break
    return found


@pytest.mark.django_db
def test_no_index_is_served_by_another():
    offenders = [
        duplicate
        for model in project_models()
        for duplicate in duplicates(model._meta.db_table, partial_names(model))
    ]
    assert not offenders, "Duplicate indexes (drop them):\n" + "\n".join(offenders)


@pytest.mark.django_db
def test_the_check_sees_a_duplicate_and_spares_a_partial_cover():
    """The check itself, on a table built for it: a plain index under a full composite is a
    duplicate, one under a partial unique constraint is not."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE index_probe (a integer, b integer, c integer)")
        cursor.execute("CREATE INDEX index_probe_a ON index_probe (a)")
        cursor.execute("CREATE INDEX index_probe_a_b ON index_probe (a, b)")
        cursor.execute("CREATE INDEX index_probe_c ON index_probe (c)")
        cursor.execute("CREATE UNIQUE INDEX index_probe_c_b ON index_probe (c, b) WHERE a > 0")
    found = duplicates("index_probe", partial={"index_probe_c_b"})
    assert found == ["index_probe: index_probe_a ['a'] is served by index_probe_a_b ['a', 'b']"]
    assert len(duplicates("index_probe", partial=set())) == 2


# The ``LIKE 'x%'`` twins (``core.like_indexes``) the project keeps: each serves a prefix
# look-up, or sits on a small table written by hand or by a library load, where it costs
# nothing worth a migration. Any other is dropped (``drop_pattern_twins``).
KEPT_PATTERN_TWINS = {
    ("facilities_facility", "address_key"): "RFC's duplicate-address check (startswith)",
    ("core_sequence", "name"): "a handful of rows",
    ("edt_apitoken", "token_hash"): "written when a token is issued",
    ("edt_vendor", "name"): "written by the state administrator",
    ("libraries_chemical", "cas_number"): "the chemical library's load",
    ("libraries_violationtype", "type_number"): "the violation library's load",
    ("organizations_invitation", "token_digest"): "written when someone is invited",
    ("regulators_regulator", "code"): "the agencies",
    ("regulators_servicearea", "zip_code"): "the agencies' service areas",
}


@pytest.mark.django_db
def test_no_pattern_twin_but_those_kept():
    """No table of the project keeps a ``LIKE`` twin it was not meant to (a column compared
    only whole pays for one on every write)."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL's backend makes LIKE twins")
    tables = {model._meta.db_table: model for model in project_models()}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT tab.relname, a.attname, ix.relname
            FROM pg_index i
            JOIN pg_class ix ON ix.oid = i.indexrelid
            JOIN pg_class tab ON tab.oid = i.indrelid
            JOIN pg_attribute a ON a.attrelid = tab.oid AND a.attnum = i.indkey[0]
            JOIN pg_opclass opclass ON opclass.oid = i.indclass[0]
            WHERE NOT opclass.opcdefault AND opclass.opcname LIKE '%%pattern_ops'
            """
        )
        found = {(table, column): name for table, column, name in cursor.fetchall()}
    offenders = sorted(
        f"{table}.{column} ({name})"
        for (table, column), name in found.items()
        if table in tables and (table, column) not in KEPT_PATTERN_TWINS
    )
    assert not offenders, (
        "LIKE twins of columns compared only whole (drop them with "
        "core.like_indexes.drop_pattern_twins, or list them here with the look-up they serve):\n"
        + "\n".join(offenders)
    )
    assert set(KEPT_PATTERN_TWINS) <= set(found), "a twin listed as kept is gone"
