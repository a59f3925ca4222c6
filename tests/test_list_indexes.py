"""The indexes the portals' lists are read through exist in the database, in their columns'
order (the bench's plans on a state-sized data set ask for them; see README, Database
settings)."""

import pytest
from django.db import connection

from facilities.models import Facility, FacilityRegulator
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
        (SubmittalElementRecord, ["status", "submitted_at", "id"]),
        (SubmittalElementRecord, ["regulator_id", "status", "submitted_at"]),
    ],
)
def test_list_order_index(model, columns):
    assert columns in index_columns(model)
