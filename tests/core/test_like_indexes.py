"""``core.like_indexes.drop_pattern_twins``: the migration operation that drops Django's
``LIKE`` twin of a text column on PostgreSQL, and makes it again backwards. (Elsewhere it does
nothing: every SQLite run of the suite migrates through it.)"""

import pytest
from django.apps import apps
from django.db import connection

from core.like_indexes import drop_pattern_twins, pattern_twins


@pytest.mark.django_db
def test_the_twin_is_dropped_and_made_again():
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL's backend makes LIKE twins")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE twin_probe (a varchar(10), b varchar(10))")
        cursor.execute("CREATE INDEX twin_probe_a ON twin_probe (a)")
        cursor.execute("CREATE INDEX twin_probe_a_like ON twin_probe (a varchar_pattern_ops)")
        cursor.execute("CREATE INDEX twin_probe_b_like ON twin_probe (b varchar_pattern_ops)")
    operation = drop_pattern_twins([("twin_probe", "a")])

    with connection.schema_editor() as editor:
        operation.code(apps, editor)
    with connection.cursor() as cursor:
        assert pattern_twins(cursor, "twin_probe", "a") == []
        # The plain index and the other column's twin stay.
        assert pattern_twins(cursor, "twin_probe", "b") == ["twin_probe_b_like"]
        assert "twin_probe_a" in connection.introspection.get_constraints(cursor, "twin_probe")

    with connection.schema_editor() as editor:
        operation.reverse_code(apps, editor)
        name = editor._create_index_name("twin_probe", ["a"], suffix="_like")
    with connection.cursor() as cursor:
        assert pattern_twins(cursor, "twin_probe", "a") == [name]
