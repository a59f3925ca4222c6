"""The regulator's organization list issues a fixed number of queries, whether there are 10
facilities or 1,000 (and 1 or 100 organizations)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.facilities.bulk import bulk_facilities, bulk_organizations

# Session, user, staff memberships, the user's grants (``core.scoping.grants``), the scoped
# count, the page with its lead regulators and facility counts.
ORGANIZATION_LIST_QUERIES = 6


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def add_facilities(how_many: int, regulator) -> None:
    """``how_many`` facilities, ten to an organization, each organization led by ``regulator``."""
    bulk_facilities(
        bulk_organizations(how_many // 10, lead_regulator=regulator), how_many, regulator
    )


def test_the_organization_list_issues_the_same_queries_for_10_or_1000(
    cast, client, django_assert_num_queries
):
    url = reverse("regulator:organizations")
    add_facilities(10, cast.cupa)
    client.force_login(cast.cupa_reviewer)
    client.get(url)  # the first request settles the session
    with_10 = queries_for(client, url)
    add_facilities(990, cast.cupa)
    response = client.get(url)
    assert response.context["page"].paginator.count == 1 + 100  # Acme Fuels and the bulk ones
    assert queries_for(client, url) == with_10
    with django_assert_num_queries(ORGANIZATION_LIST_QUERIES):
        client.get(url, {"page": 2})
