"""Name search on PostgreSQL is answered by the trigram indexes (``core.trigram``); on SQLite,
the embedded default, the same search reads the rows and finds the same facilities."""

import pytest
from django.db import connection
from django.urls import reverse

from core.pagination import search_filter
from facilities.models import Facility

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_trgm exists on PostgreSQL only"
)


@postgresql_only
@pytest.mark.parametrize("column", ["name", "street", "city"])
def test_the_facility_search_reads_the_trigram_index(cast, column):
    # The test tables are tiny: without sequential scans, nor plain index scans (which could
    # walk the list's order index and filter every row), the planner shows which index can
    # answer the condition itself (none but a trigram index serves ILIKE '%x%').
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = Facility.objects.filter(**{f"{column}__icontains": "acme"}).order_by().explain()
    assert f"facilities_facility_{column}_trgm" in plan


@postgresql_only
def test_the_list_search_combines_the_indexes_rather_than_joining(cast):
    """The organization's name is matched in its own table first, so the facility list's
    search stays one condition per index of the facility table."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    found = search_filter(
        Facility.objects.all(), "acme", ["name", "street", "city", "organization__name"]
    )
    plan = found.order_by().explain()  # the match alone, not the list's order
    assert "BitmapOr" in plan and "facilities_facility_name_trgm" in plan
    assert "organizations_organization" not in plan  # no join: the organization's keys


def test_the_search_finds_by_the_organization_name(cast, client):
    """Whichever way the organization's name is matched (its keys on PostgreSQL, the join on
    SQLite), the list finds the same facilities, and only the agency's."""
    client.force_login(cast.cupa2_reviewer)
    response = client.get(reverse("regulator:facilities"), {"q": "other co"})
    assert [f.pk for f in response.context["page"]] == [cast.other_facility.pk]
    response = client.get(reverse("regulator:facilities"), {"q": "acme"})
    assert [f.pk for f in response.context["page"]] == [cast.facility_yolo.pk]
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:facilities"), {"q": "co"})
    assert cast.other_facility.pk not in {f.pk for f in response.context["page"]}
