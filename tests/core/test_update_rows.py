"""``core.services.update_rows``: stored rows of one model, each written with its own values
(one ``UPDATE ... FROM (VALUES ...)`` per few thousand rows on PostgreSQL, else
``bulk_update``); the other fields and rows are left as they are."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import services as core_services
from core.services import insert_rows, update_rows
from organizations.models import Organization

_numbers = iter(range(62_000_000, 63_000_000))


@pytest.mark.django_db
@pytest.mark.parametrize("per_statement", [core_services.UPDATE_PARAMETERS, 3 * 2])
def test_each_row_gets_its_own_values(monkeypatch, per_statement):
    """Also in several statements (on PostgreSQL, a few rows each here): empty values too."""
    monkeypatch.setattr(core_services, "UPDATE_PARAMETERS", per_statement)
    rows = [Organization(code=next(_numbers), name=f"Org {n}") for n in range(7)]
    untouched = Organization(code=next(_numbers), name="Untouched")
    with transaction.atomic():
        insert_rows([*rows, untouched])
    for n, row in enumerate(rows):
        row.name = f"Renamed {n}" if n % 2 else ""
        row.code = -row.code  # not among the fields written
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        update_rows(rows, ["name"])
    stored = dict(Organization.objects.values_list("pk", "name"))
    assert [stored[row.pk] for row in rows] == [
        f"Renamed {n}" if n % 2 else "" for n in range(len(rows))
    ]
    assert stored[untouched.pk] == "Untouched"
    assert not Organization.objects.filter(code__lt=0).exists()
    if connection.vendor == "postgresql":
        assert len(captured) == -(-len(rows) // (per_statement // 2))


def test_it_runs_only_inside_a_transaction():
    with pytest.raises(RuntimeError):
        update_rows([Organization(pk=1, code=1, name="x")], ["name"])
