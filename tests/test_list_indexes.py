"""The indexes the portals' lists are read through exist in the database, in their columns'
order (the bench's plans on a state-sized data set ask for them; see README, Database
settings, and docs/benchmarks.md)."""

import pytest
from django.db import connection

from cme.models import Enforcement, Inspection, Violation
from core.trigram import index_name
from edt.models import EdtTransaction
from facilities.models import Facility, FacilityRegulator
from organizations.models import Organization
from regulators.models import StaffAccessRequest
from submittals.models import SubmittalElementRecord


def index_columns(model) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [c["columns"] for c in constraints.values() if c["index"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "columns"),
    [
        (Facility, ["name", "cers_id"]),
        (FacilityRegulator, ["regulator_id", "facility_id"]),
        # The facility list's "must report" filter: the element rows holding a setting.
        (FacilityRegulator, ["element", "reporting_requirement", "facility_id"]),
        (SubmittalElementRecord, ["status", "submitted_at", "id"]),
        (SubmittalElementRecord, ["regulator_id", "status", "submitted_at"]),
        # The lists that page on by their last row's key (core.pagination): their order.
        (Organization, ["name", "id"]),
        (Inspection, ["occurred_on", "id"]),
        (Enforcement, ["occurred_on", "id"]),
        (EdtTransaction, ["received_at", "id"]),
        (Violation, ["scheduled_rtc_on", "id"]),  # open ones only: the overdue list
        # An agency's pending requests to join its staff (the staff page, RAIQ), oldest first.
        (StaffAccessRequest, ["regulator_id", "status", "created_at"]),
    ],
)
def test_list_order_index(model, columns):
    assert columns in index_columns(model)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "column"),
    [
        (Facility, "name"),
        (Facility, "street"),
        (Facility, "city"),
        (Organization, "name"),
    ],
)
def test_name_search_trigram_index(model, column):
    """On PostgreSQL, a GIN trigram index on the expression the search matches (SQLite has
    none: the migration does nothing there)."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            [index_name(model._meta.db_table, column)],
        )
        (definition,) = cursor.fetchone()
    assert "USING gin" in definition and "gin_trgm_ops" in definition
    assert f"upper(({column})::text)" in definition


@pytest.mark.django_db
def test_business_activities_answers_gin_index():
    """On PostgreSQL, the facility list's Business Activities filters read the counted
    Facility Information elements' data from a partial GIN index (SQLite has none)."""
    if connection.vendor != "postgresql":
        pytest.skip("GIN indexes exist on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'fi_counted_data'")
        (definition,) = cursor.fetchone()
    assert "USING gin (data jsonb_path_ops)" in definition
    assert "element = 1" in definition
