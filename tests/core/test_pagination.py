"""Lists count at most ``CERS_LIST_COUNT_CAP`` rows, and page on by the sort key of the row
shown last (``?after=``) or first (``?before=``): ``core.pagination.paginate``."""

import base64
import datetime
import json
import re

import pytest
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.pagination import encode_key, paginate, seek_keys
from organizations.models import Organization
from submittals.models import SubmittalElementRecord
from tests.facilities.bulk import bulk_facilities, bulk_organizations

pytestmark = pytest.mark.django_db


def get(**params):
    return RequestFactory().get("/list", params)


def organizations(names):
    start = Organization.objects.count()
    return [
        Organization.objects.create(code=90_000 + start + i, name=name)
        for i, name in enumerate(names)
    ]


def listed(page):
    return [row.pk for row in page]


# --- the capped count ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "capped", "total"), [(4, False, "4"), (5, False, "5"), (6, True, "more than 5")]
)
def test_the_count_stops_one_row_past_the_cap(rows, capped, total):
    organizations(["Same"] * rows)
    scope = Organization.objects.filter(name="Same")
    with CaptureQueriesContext(connection) as captured:
        page = paginate(get(), scope, per_page=2, count_cap=5)
        assert page.paginator.count == min(rows, 6)
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"]]
    assert len(counts) == 1 and re.search(r"LIMIT 6\b", counts[0])
    assert page.paginator.count_capped is capped
    assert page.paginator.total == total


def test_a_page_past_the_cap_is_served_while_it_holds_rows():
    made = organizations(["Same"] * 9)
    scope = Organization.objects.filter(name="Same")
    page = paginate(get(page=4), scope, per_page=2, count_cap=5)  # counted: 6 rows, 3 pages
    assert listed(page) == [o.pk for o in made[6:8]] and page.has_next()
    page = paginate(get(page=5), scope, per_page=2, count_cap=5)
    assert listed(page) == [made[8].pk] and not page.has_next() and page.has_previous()
    # Past the end: the last page, as for an uncapped list.
    page = paginate(get(page=40), scope, per_page=2, count_cap=5)
    assert page.number == 5 and listed(page) == [made[8].pk]


def test_an_uncapped_list_keeps_numbered_pages():
    made = organizations(["Same"] * 5)
    page = paginate(get(page=9), Organization.objects.filter(name="Same"), 2, count_cap=0)
    assert page.number == 3 and listed(page) == [made[4].pk]
    assert page.paginator.total == "5"


def test_the_facility_list_says_more_than_the_cap(cast, client):
    bulk_facilities([cast.org], 6, cast.cupa)  # 7 with the cast's facility
    client.force_login(cast.cupa_reviewer)
    with override_settings(CERS_LIST_COUNT_CAP=6, CERS_PAGE_SIZE=3):
        page = client.get(reverse("regulator:facilities")).content.decode()
    assert "more than 6 facilities" in page
    assert "Page 1 of more than 2 (more than 6 in all)" in page
    with override_settings(CERS_LIST_COUNT_CAP=7, CERS_PAGE_SIZE=3):
        page = client.get(reverse("regulator:facilities")).content.decode()
    assert "7 facilities" in page and "Page 1 of 3 (7 in all)" in page


# --- seeking by the sort key ---------------------------------------------------------------


def walk(scope, per_page=3, direction="after", start=None):
    """Follow the next (or previous) links from ``start`` to the end; the pages' rows."""
    request = get() if start is None else get(**start)
    page = paginate(request, scope, per_page=per_page)
    pages = [listed(page)]
    while True:
        token = page.next_after if direction == "after" else page.previous_before
        if token is None:
            return pages, page
        number = page.next_page_number() if direction == "after" else page.previous_page_number()
        page = paginate(get(**{direction: token, "page": number}), scope, per_page=per_page)
        pages.append(listed(page))


def test_next_and_previous_links_walk_the_list_in_its_order_ties_included():
    # Ties on the name: the primary key orders them, so no row is skipped or shown twice.
    organizations(["Beta", "Alpha", "Beta", "Beta", "Alpha", "Gamma", "Beta", "Alpha"])
    scope = Organization.objects.filter(name__in=["Alpha", "Beta", "Gamma"])
    expected = [o.pk for o in scope.order_by("name", "pk")]
    forward, last = walk(scope)
    assert [pk for page in forward for pk in page] == expected
    assert forward == [expected[0:3], expected[3:6], expected[6:8]]
    assert last.number == 3 and not last.has_next() and last.has_previous()
    # Back from the last page with the previous links: the same pages, page 1 numbered.
    token = last.previous_before
    backward, first = walk(scope, direction="before", start={"before": token, "page": 2})
    assert backward == [expected[3:6], expected[0:3]]
    assert first.number == 1 and not first.has_previous()


def test_a_descending_order_seeks_too():
    organizations(["One", "Two", "Three", "Four", "Five"])
    scope = Organization.objects.filter(name__in=["One", "Two", "Three", "Four", "Five"])
    scope = scope.order_by("-name", "-pk")
    forward, _ = walk(scope, per_page=2)
    assert [pk for page in forward for pk in page] == [o.pk for o in scope]


def test_a_seek_reads_from_the_sort_key_not_through_an_offset():
    organizations(["Same"] * 4)
    scope = Organization.objects.filter(name="Same")
    token = paginate(get(), scope, per_page=2).next_after
    with CaptureQueriesContext(connection) as captured:
        list(paginate(get(after=token, page=2), scope, per_page=2))
    rows = [q["sql"] for q in captured if "COUNT(" not in q["sql"]]
    assert rows and "OFFSET" not in rows[0]


def token_of(values):
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        "",
        "AAAA",
        token_of({"not": "a list"}),
        token_of([["s", "Alpha"]]),  # one value for a two-key order
        token_of([["s", "Alpha"], ["s", "not a number"]]),  # a key the column cannot hold
        token_of([["s", "Alpha"], ["x", 1]]),  # an unknown kind
        token_of([["t", "not a date"], ["i", 1]]),
    ],
)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_token_that_is_no_place_in_the_list_gives_page_1(token, direction):
    made = organizations(["Alpha", "Beta", "Gamma"])
    scope = Organization.objects.filter(pk__in=[o.pk for o in made])
    page = paginate(get(**{direction: token, "page": 3}), scope, per_page=2)
    assert page.number == 1 and listed(page) == [made[0].pk, made[1].pk]


def test_a_list_without_a_unique_last_key_keeps_numbered_links():
    organizations(["Same"] * 3)
    assert seek_keys(Organization.objects.order_by("name")) is None
    assert seek_keys(Organization.objects.order_by("lead_regulator__name", "pk")) is None
    page = paginate(get(), Organization.objects.order_by("name"), per_page=2)
    assert page.has_next() and page.next_after is None
    assert seek_keys(Organization.objects.all()) == ["name", "pk"]


def test_a_nullable_sort_key_seeks_only_when_the_list_says_it_is_never_empty():
    scope = SubmittalElementRecord.objects.order_by("submitted_at", "pk")
    assert seek_keys(scope) is None
    assert seek_keys(scope, not_null=("submitted_at",)) == ["submitted_at", "pk"]


# --- through the pages ---------------------------------------------------------------------


def test_the_facility_list_pages_on_by_the_last_rows_key(cast, client):
    bulk_facilities([cast.org], 6, cast.cupa)  # 7 with the cast's facility
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:facilities")
    with override_settings(CERS_PAGE_SIZE=3):
        first = client.get(url)
        html = first.content.decode()
        assert '<nav class="pagination" aria-label="Pages">' in html
        assert '<span class="muted" aria-current="page">Page 1 of 3' in html
        next_link = re.search(r'<a rel="next" href="\?([^"]+)"', html).group(1)
        assert "after=" in next_link and "page=2" in next_link
        second = client.get(f"{url}?{next_link.replace('&amp;', '&')}")
        assert [f.pk for f in second.context["page"]] == [
            f.pk for f in first.context["page"].paginator.object_list[3:6]
        ]
        assert 'rel="prev"' in second.content.decode()
        assert client.get(url, {"after": "nonsense"}).status_code == 200


def test_a_token_never_reaches_outside_the_scope(cast, client):
    """A token made from a facility of another jurisdiction is only a place in the list: the
    rows after it are still the agency's own."""
    bulk_facilities([cast.org], 3, cast.cupa)
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:facilities")
    keys = ["name", "cers_id"]
    for name in ("after", "before"):
        for row in (cast.other_facility, cast.facility_yolo):
            token = encode_key(row, keys)
            response = client.get(url, {name: token})
            assert response.status_code == 200
            shown = {f.pk for f in response.context["page"]}
            assert cast.other_facility.pk not in shown and cast.facility_yolo.pk not in shown
            assert b"Other Co Plant" not in response.content


def test_the_inspection_list_pages_on_by_date_with_its_violation_counts(cast, client):
    """A date key and ties on the same day: each inspection once, newest first, each with its
    own violation count."""
    from tests.cme import helpers

    made = [
        helpers.inspection(cast, occurred_on=helpers.DAY - datetime.timedelta(days=i % 3))
        for i in range(5)
    ]
    helpers.violation(cast, made[0])
    helpers.violation(cast, made[0])
    helpers.violation(cast, made[4])
    expected = sorted(made, key=lambda i: (i.occurred_on, i.pk), reverse=True)
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_inspections")
    shown, params = [], {}
    with override_settings(CERS_PAGE_SIZE=2):
        while True:
            page = client.get(url, params).context["page"]
            shown += [(i.pk, i.violation_count) for i in page]
            if not page.next_after:
                break
            params = {"after": page.next_after, "page": page.next_page_number()}
    counts = {made[0].pk: 2, made[4].pk: 1}
    assert shown == [(i.pk, counts.get(i.pk, 0)) for i in expected]


def test_an_annotated_order_pages_on_by_its_values(cast, client, settings):
    """The largest organizations: ordered by a computed facility count, ties by name."""
    settings.CERS_PAGE_SIZE = 1
    bulk_facilities(bulk_organizations(2), 4, cast.cupa)  # two of 2 facilities, as Acme
    client.force_login(cast.state_admin)
    url = reverse("regulator:large_organizations")
    shown, params = [], {}
    while True:
        page = client.get(url, params).context["page"]
        shown += [(o.name, o.facility_count) for o in page]
        if not page.next_after:
            break
        params = {"after": page.next_after, "page": page.next_page_number()}
    first = client.get(url).context["page"].paginator.object_list
    assert shown == [(o.name, o.facility_count) for o in first]
    assert [count for _, count in shown] == [2, 2, 2, 1]
