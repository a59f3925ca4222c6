"""Facility lists issue a fixed number of queries, whether there are 10 facilities or 1,000."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.facilities.bulk import bulk_facilities

# Session, user, memberships, the user's grants (``core.scoping.grants``, once per request),
# the scoped count, the page, and the two permission lookups (user and group) that decide
# whether to show "Add facility"; then the status grid (four more): the page's element rows,
# and the last submittals, the Business Activities and the drafts of its facilities
# (``submittals.hooks.element_submittals``).
BUSINESS_LIST_QUERIES = 12
# Session, user, staff memberships, the user's grants, the scoped count, the page with its
# organizations, the agency's element rows for the page; then each row's reporting status
# (three more): every element row of the page with its agency, and the last submittals and the
# Business Activities of its facilities (``submittals.hooks.element_submittals``, no drafts).
REGULATOR_LIST_QUERIES = 10


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_business_facility_list_issues_the_same_queries_for_10_or_1000(
    cast, client, django_assert_num_queries
):
    url = reverse("business:facilities")
    bulk_facilities([cast.org], 8, cast.cupa)  # 10 with the cast's two
    client.force_login(cast.lead)
    client.get(url)  # the first request settles the session
    with_10 = queries_for(client, url)
    bulk_facilities([cast.org], 990, cast.cupa)
    assert queries_for(client, url) == with_10
    with django_assert_num_queries(BUSINESS_LIST_QUERIES):
        client.get(url, {"page": 2})


def test_the_regulator_facility_list_issues_the_same_queries_for_10_or_1000(
    cast, client, django_assert_num_queries
):
    url = reverse("regulator:facilities")
    orgs = [cast.org, cast.other_org]
    bulk_facilities(orgs, 9, cast.cupa)  # 10 with cast.facility
    client.force_login(cast.cupa_reviewer)
    client.get(url)
    with_10 = queries_for(client, url)
    bulk_facilities(orgs, 990, cast.cupa)
    assert queries_for(client, url) == with_10
    with django_assert_num_queries(REGULATOR_LIST_QUERIES):
        client.get(url, {"page": 2})


def _requests_for(facilities, lead):
    from facilities.models import FacilityTransferRequest

    FacilityTransferRequest.objects.bulk_create(
        FacilityTransferRequest(
            facility=facility,
            from_organization_id=facility.organization_id,
            to_organization_code=999,
            reason="Sold",
            requested_by=lead,
        )
        for facility in facilities
    )


def test_the_transfer_requests_list_issues_the_same_queries_for_10_or_1000(cast, client):
    url = reverse("regulator:facility_transfer_requests")
    _requests_for(bulk_facilities([cast.org], 10, cast.cupa), cast.lead)
    client.force_login(cast.cupa_reviewer)
    client.get(url)
    with_10 = queries_for(client, url)
    _requests_for(bulk_facilities([cast.org], 990, cast.cupa), cast.lead)
    assert queries_for(client, url) == with_10
    assert queries_for(client, url + "?page=2") == with_10
