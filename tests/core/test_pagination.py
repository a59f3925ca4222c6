"""Lists count at most ``CERS_LIST_COUNT_CAP`` rows, and page on by the sort key of the row
shown last (``?after=``) or first (``?before=``): ``core.pagination.paginate``."""

import base64
import datetime
import json
import re
from html import unescape as html_unescape

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.pagination import CappedListPaginator, encode_key, paginate, seek_keys
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


def assert_reads_within_the_cap(captured, cap):
    """No query of the page reads past the cap: no OFFSET larger than it, no COUNT without a
    LIMIT of at most ``cap + 1``."""
    sqls = [q["sql"] for q in captured]
    assert sqls
    for sql in sqls:
        assert all(int(n) <= cap for n in re.findall(r"OFFSET (\d+)", sql)), sql
        if "COUNT(" in sql:
            limits = re.findall(r"LIMIT (\d+)", sql)
            assert limits and all(int(n) <= cap + 1 for n in limits), sql


def follow(href, scope, per_page=2, count_cap=5):
    """The page a pager link opens."""
    assert href.startswith("?")
    params = dict(QueryDict(href[1:]).items())
    return paginate(get(**params), scope, per_page=per_page, count_cap=count_cap)


def test_a_page_number_past_the_counted_pages_gives_the_last_counted_one():
    made = organizations(["Same"] * 9)
    scope = Organization.objects.filter(name="Same")  # seekable: ordered by name, pk
    for number in (4, 40, 4000):
        with CaptureQueriesContext(connection) as captured:
            page = paginate(get(page=number), scope, per_page=2, count_cap=5)  # 3 pages counted
            assert listed(page) == [o.pk for o in made[4:6]] and page.has_next()
        assert_reads_within_the_cap(captured, cap=5)
        assert page.number == 3
        assert page.heading == "Page 3 of more than 3 (more than 5 in all)"
    # On by the last row's key, across the cap, each row once and in order.
    links = page.links
    assert "after=" in links["next"] and "page=4" in links["next"]
    assert links["last"] == "?page=last"
    assert "before=" in links["previous"] and "page=2" in links["previous"]
    fourth = follow(links["next"], scope)
    assert listed(fourth) == [o.pk for o in made[6:8]] and fourth.number == 4
    fifth = follow(fourth.links["next"], scope)
    assert listed(fifth) == [made[8].pk] and not fifth.has_next() and fifth.has_previous()
    assert fifth.heading == "Page 5 of 5 (more than 5 in all)"
    assert fifth.links["next"] is None and fifth.links["last"] is None


def test_a_page_past_the_end_of_a_capped_list_is_found_without_counting_it():
    organizations(["Same"] * 9)
    scope = Organization.objects.filter(name="Same")
    paginator = CappedListPaginator(scope, 2, cap=5)
    with CaptureQueriesContext(connection) as captured:
        page = paginator.get_page(40)
        list(page)
    assert_reads_within_the_cap(captured, cap=5)
    assert page.number == 3


def test_the_last_page_is_read_from_the_end_of_the_order():
    made = organizations(["Same"] * 9)
    scope = Organization.objects.filter(name="Same")
    with CaptureQueriesContext(connection) as captured:
        last = paginate(get(page="last"), scope, per_page=2, count_cap=5)
        assert listed(last) == [made[7].pk, made[8].pk]
    assert_reads_within_the_cap(captured, cap=5)
    rows = [q["sql"] for q in captured if "COUNT(" not in q["sql"]]
    assert len(rows) == 1 and "OFFSET" not in rows[0] and re.search(r"LIMIT 3\b", rows[0])
    assert last.number is None and last.from_end == 1
    assert last.heading == "Last page (more than 5 in all)"
    assert not last.has_next() and last.links["next"] is None and last.links["last"] is None
    assert last.links["first"] == "?"
    # Back from the end: pages counted from it, down to page 1 (which may share rows with the
    # page after it: the pages from the end fall where the end puts them).
    pages, page = [], last
    while page.links["previous"]:
        assert "before=" in page.links["previous"]
        page = follow(page.links["previous"], scope)
        pages.append((page.number, page.from_end, listed(page)))
    assert pages == [
        (None, 2, [o.pk for o in made[5:7]]),
        (None, 3, [o.pk for o in made[3:5]]),
        (None, 4, [o.pk for o in made[1:3]]),
        (1, None, [o.pk for o in made[0:2]]),
    ]
    # Forward from a page counted from the end: the next one, then the last.
    third = follow(last.links["previous"], scope)
    third = follow(third.links["previous"], scope)
    assert third.heading == "Page 3 from the end (more than 5 in all)"
    assert "end=2" in third.links["next"] and third.links["last"] == "?page=last"
    second = follow(third.links["next"], scope)
    assert listed(second) == [o.pk for o in made[5:7]] and second.from_end == 2
    assert second.links["next"] == "?page=last" and second.links["last"] is None


def test_a_key_past_the_end_gives_the_last_page():
    made = organizations(["Same"] * 9)
    scope = Organization.objects.filter(name="Same")
    token = encode_key(made[8], ["name", "pk"])
    with CaptureQueriesContext(connection) as captured:
        page = paginate(get(after=token, page=6), scope, per_page=2, count_cap=5)
        assert listed(page) == [made[7].pk, made[8].pk]
    assert_reads_within_the_cap(captured, cap=5)
    assert page.from_end == 1


def test_an_order_that_cannot_seek_stops_at_the_counted_pages():
    made = organizations(list("ABCDEFGHI"))
    scope = Organization.objects.filter(pk__in=[o.pk for o in made]).order_by("name")
    assert seek_keys(scope) is None
    for params in ({"page": 40}, {"page": "last"}):
        with CaptureQueriesContext(connection) as captured:
            page = paginate(get(**params), scope, per_page=2, count_cap=5)
            assert listed(page) == [o.pk for o in made[4:6]]
        assert_reads_within_the_cap(captured, cap=5)
        assert page.number == 3 and page.has_next()
        assert page.links == {"first": "?", "previous": "?page=2", "next": None, "last": None}
        assert page.stop_note == (
            "The pages stop at the first 5: narrow the list (search, filters) to reach the rest."
        )
    page = paginate(get(page=2), scope, per_page=2, count_cap=5)
    assert page.links["next"] == "?page=3" and page.stop_note == ""


def test_the_links_keep_the_search_and_filters():
    organizations(["Same"] * 9)
    scope = Organization.objects.filter(name="Same")
    page = paginate(get(q="Same", status="open", page=2), scope, per_page=2, count_cap=5)
    for href in (page.links["previous"], page.links["next"], page.links["last"]):
        params = QueryDict(href[1:])
        assert params["q"] == "Same" and params["status"] == "open"
        assert params.getlist("page") in (["1"], ["3"], ["last"])


def test_an_uncapped_list_keeps_numbered_pages():
    made = organizations(["Same"] * 5)
    page = paginate(get(page=9), Organization.objects.filter(name="Same"), 2, count_cap=0)
    assert page.number == 3 and listed(page) == [made[4].pk]
    assert page.paginator.total == "5" and page.heading == "Page 3 of 3 (5 in all)"
    page = paginate(get(page="last"), Organization.objects.filter(name="Same"), 2, count_cap=0)
    assert page.number == 3 and listed(page) == [made[4].pk]


def test_a_counted_list_links_its_last_page_by_number():
    organizations(["Same"] * 9)
    scope = Organization.objects.filter(name="Same")
    page = paginate(get(), scope, per_page=2, count_cap=10)
    assert page.links["last"] == "?page=5" and page.links["first"] is None
    page = paginate(get(page=4), scope, per_page=2, count_cap=10)
    assert page.links["last"] is None  # "Next" is the last page


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


def pager(html):
    """The pager's links (text, href) and the page's place in the list."""
    nav = re.search(r'<nav class="pagination" aria-label="Pages">(.*?)</nav>', html, re.S)
    assert nav, "no pager"
    # The numbered window is read by ``page_numbers``.
    body = re.sub(r'<ul class="page-numbers">.*?</ul>', "", nav.group(1), flags=re.S)
    links = [
        (html_unescape(re.sub(r"<[^>]+>", "", text)).strip(), html_unescape(href))
        for href, text in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', body)
    ]
    current = re.search(r'<span class="muted" aria-current="page">([^<]+)</span>', body)
    return links, current.group(1)


def page_numbers(html):
    """The pager's numbered window: each entry the text a screen reader hears for a link
    ("Page 3"), "[2]" for the page shown (said once, by the heading, so hidden from screen
    readers) or "…" for a gap, and the links' page numbers."""
    window = re.search(r'<ul class="page-numbers">(.*?)</ul>', html, re.S)
    if window is None:
        return [], []
    said, targets = [], []
    for item in re.findall(r"<li>(.*?)</li>", window.group(1), re.S):
        link = re.search(r'<a href="([^"]+)">(.*?)</a>', item, re.S)
        if link:
            said.append(re.sub(r"<[^>]+>", "", link.group(2)))
            targets.append(QueryDict(html_unescape(link.group(1))[1:]))
        elif 'class="current" aria-hidden="true"' in item:
            said.append(f"[{re.sub(r'<[^>]+>', '', item)}]")
        else:
            assert 'aria-hidden="true"' in item, item
            said.append("…")
    return said, targets


def test_the_pager_numbers_the_pages_around_the_one_shown(cast, client):
    """Twelve counted pages: the first and last, two each side of the page shown, gaps
    between; each number a link keeping the search and filters, read with an OFFSET within
    the count. No number past the counted pages, none on a page read from the end."""
    bulk_facilities([cast.org], 11, cast.cupa)  # 12 with the cast's facility
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:facilities")
    with override_settings(CERS_PAGE_SIZE=1):
        # A search keeps to its own rows: the eleven "Bulk Site" facilities, 11 pages.
        said, targets = page_numbers(client.get(url, {"page": 6, "q": "Bulk"}).content.decode())
        assert said[-1] == "Page 11" and all(t["q"] == "Bulk" for t in targets)
        html = client.get(url, {"page": 6}).content.decode()
        said, targets = page_numbers(html)
        assert said == [
            "Page 1",
            "…",
            "Page 4",
            "Page 5",
            "[6]",
            "Page 7",
            "Page 8",
            "…",
            "Page 12",
        ]
        assert [t["page"] for t in targets] == ["1", "4", "5", "7", "8", "12"]
        assert all(set(t) == {"page"} for t in targets)  # an OFFSET, no sort key
        eighth = client.get(url + "?" + targets[4].urlencode()).context["page"]
        everyone = list(eighth.paginator.object_list)
        assert list(eighth) == everyone[7:8]
        assert page_numbers(client.get(url).content.decode())[0][:4] == [
            "[1]",
            "Page 2",
            "Page 3",
            "…",
        ]
    with override_settings(CERS_PAGE_SIZE=2, CERS_LIST_COUNT_CAP=6):
        # Three counted pages of six: the window stops there; past them, and from the end,
        # the pager has no numbers.
        said, targets = page_numbers(client.get(url).content.decode())
        assert said == ["[1]", "Page 2", "Page 3"]
        last = client.get(url, {"page": "last"}).content.decode()
        assert page_numbers(last) == ([], [])
    with override_settings(CERS_PAGE_SIZE=20):
        assert page_numbers(client.get(url).content.decode()) == ([], [])  # one page


def test_the_facility_list_pages_past_the_cap_by_key_and_from_its_end(cast, client):
    """10 facilities, 6 counted, 3 a page: two numbered pages, then on by the last row's key;
    the last page from the end, and back. The pager's numbers never pass the counted pages."""
    bulk_facilities([cast.org], 9, cast.cupa)  # 10 with the cast's facility
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:facilities")
    with override_settings(CERS_LIST_COUNT_CAP=6, CERS_PAGE_SIZE=3):
        first = client.get(url)
        expected = [f.pk for f in first.context["page"].paginator.object_list]
        assert len(expected) == 10
        links, current = pager(first.content.decode())
        assert current == "Page 1 of more than 2 (more than 6 in all)"
        assert [text for text, _ in links] == ["Next page →", "Last page"]
        assert dict(links)["Last page"] == "?page=last"

        def numbers_within_the_count(links):
            for _, href in links:
                params = QueryDict(href[1:])
                number = params.get("page", "1")
                if number.isdigit() and int(number) > 2:
                    assert "after" in params or "before" in params, href

        # Deep by number: the last counted page, read with an OFFSET of at most the cap.
        with CaptureQueriesContext(connection) as captured:
            deep = client.get(url, {"page": 4000})
        assert_reads_within_the_cap(captured, cap=6)
        assert [f.pk for f in deep.context["page"]] == expected[3:6]
        links, current = pager(deep.content.decode())
        assert current == "Page 2 of more than 2 (more than 6 in all)"
        numbers_within_the_count(links)
        # Next by key, across the cap, to the end.
        shown, response = expected[:6], deep
        while "Next page →" in dict(pager(response.content.decode())[0]):
            response = client.get(url + dict(pager(response.content.decode())[0])["Next page →"])
            shown += [f.pk for f in response.context["page"]]
            numbers_within_the_count(pager(response.content.decode())[0])
        assert shown == expected
        assert pager(response.content.decode())[1] == "Page 4 of 4 (more than 6 in all)"
        # The last page, from the end, and back by key.
        with CaptureQueriesContext(connection) as captured:
            last = client.get(url, {"page": "last"})
        assert_reads_within_the_cap(captured, cap=6)
        assert [f.pk for f in last.context["page"]] == expected[7:]
        links, current = pager(last.content.decode())
        assert current == "Last page (more than 6 in all)"
        assert [text for text, _ in links] == ["First page", "← Previous page"]
        back = client.get(url + dict(links)["← Previous page"])
        assert [f.pk for f in back.context["page"]] == expected[4:7]
        assert pager(back.content.decode())[1] == "Page 2 from the end (more than 6 in all)"
        assert [text for text, _ in pager(back.content.decode())[0]] == [
            "First page",
            "← Previous page",
            "Next page →",
        ]


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:59:59-12:00",  # past the last moment UTC holds
        "0001-01-01T00:00:00+14:00",  # before the first
        "9999-12-31T23:59:59",  # no zone: never a token of a list, whose times carry one
        "2026-11-01T01:30:00",
    ],
)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_time_token_no_moment_of_the_list_gives_page_1(moment, direction):
    """A date-time token out of the range UTC holds (the database compares in UTC), or one
    without its zone (ambiguous in the hour the clock repeats), names no place in a list
    ordered by time: page 1, never a server error."""
    made = organizations(["Alpha", "Beta", "Gamma"])
    scope = Organization.objects.filter(pk__in=[o.pk for o in made]).order_by("created_at", "pk")
    page = paginate(
        get(**{direction: token_of([["t", moment], ["i", 1]]), "page": 3}), scope, per_page=2
    )
    assert page.number == 1 and listed(page) == [made[0].pk, made[1].pk]
