"""The regulator's facility list as CSV and XLSX: the page's scope and filters, columns in
words, and memory and queries that do not grow with the list."""

import csv
import io
import tracemalloc

import openpyxl
import pytest
from django.urls import reverse

from core import exports
from tests.facilities.bulk import bulk_facilities, bulk_organizations

URL = reverse("regulator:facilities_export")
HEADER = [
    "CERS ID",
    "Facility name",
    "Organization",
    "Organization code",
    "Street address",
    "City",
    "State",
    "ZIP code",
    "County",
    "Facility ID (agency's)",
    "EPA ID",
    "In CERS since",
]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_csv_lists_the_agencys_facilities_in_words(cast, client):
    client.force_login(cast.cupa_reviewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="facilities-1001-')
    rows = csv_rows(response)
    assert rows[0] == HEADER
    # The CUPA's jurisdiction: the Sacramento facility, not the Yolo ones.
    assert [row[0] for row in rows[1:]] == [str(cast.facility.cers_id)]
    facility = rows[1]
    assert facility[1:3] == ["Acme Sacramento Depot", "Acme Fuels"]
    assert facility[7] == "95814"


def test_xlsx_holds_the_same_rows(cast, client):
    client.force_login(cast.cupa2_reviewer)
    response = client.get(URL, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    assert response["Content-Disposition"].startswith('attachment; filename="facilities-1002-')
    rows = xlsx_rows(response)
    assert rows[0] == HEADER
    assert sorted(row[0] for row in rows[1:]) == sorted(
        [cast.facility_yolo.cers_id, cast.other_facility.cers_id]
    )


def test_the_pages_filters_apply(cast, client):
    client.force_login(cast.cupa2_reviewer)
    rows = csv_rows(client.get(URL, {"q": "Davis Yard"}))
    assert [row[0] for row in rows[1:]] == [str(cast.facility_yolo.cers_id)]
    # overdue=1: Facility Information never submitted, so every facility is overdue.
    rows = csv_rows(client.get(URL, {"overdue": "1", "q": "Other"}))
    assert [row[0] for row in rows[1:]] == [str(cast.other_facility.cers_id)]


def test_the_list_links_its_downloads_with_its_filters(cast, client):
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:facilities"), {"q": "Acme", "page": "1"})
    assert f"{URL}?q=Acme&amp;format=csv".encode() in response.content
    assert f"{URL}?q=Acme&amp;format=xlsx".encode() in response.content


def test_an_unknown_format_is_not_found(cast, client):
    client.force_login(cast.cupa_reviewer)
    assert client.get(URL, {"format": "pdf"}).status_code == 404


def test_business_users_get_no_export(cast, client):
    client.force_login(cast.lead)
    assert client.get(URL).status_code == 403


def test_formulas_are_neutralised(cast, client):
    """A name a business typed that a spreadsheet would run as a formula stays text."""
    facility = cast.facility
    facility.name = '=HYPERLINK("http://evil.example","x")'
    facility.save()
    client.force_login(cast.cupa_reviewer)
    assert csv_rows(client.get(URL))[1][1] == "'" + facility.name
    workbook = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get(URL, {"format": "xlsx"}).streaming_content))
    )
    cell = workbook.active["B2"]
    assert cell.value == facility.name
    assert cell.data_type == "s"


def _read(response) -> int:
    """Read a download chunk by chunk, keeping none: its line count."""
    return sum(chunk.count(b"\n") for chunk in response.streaming_content)


def _streamed_peak(client, params) -> tuple[int, int]:
    """The largest memory allocated while the download is made and read, and its lines."""
    tracemalloc.start()
    try:
        lines = _read(client.get(URL, params))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, lines


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_memory_does_not_grow_with_the_list(cast, client, monkeypatch, export_format):
    """50 rows or 2,000, the rows held at once are a chunk's: the peak stays within a small
    bound (holding 2,000 rows would take megabytes)."""
    monkeypatch.setattr(exports, "CHUNK_SIZE", 50)
    organizations = bulk_organizations(5)
    bulk_facilities(organizations, 49, cast.cupa)
    client.force_login(cast.cupa_reviewer)
    params = {"format": export_format}
    _read(client.get(URL, params))  # imports, caches and the session settle first
    small, small_lines = _streamed_peak(client, params)
    bulk_facilities(organizations, 1950, cast.cupa)
    large, large_lines = _streamed_peak(client, params)
    if export_format == "csv":
        assert (small_lines, large_lines) == (51, 2001)
    assert large - small < 300_000


def test_queries_do_not_grow_with_the_list(cast, client, django_assert_num_queries):
    """Session, user, staff memberships, the user's grants (``core.scoping.grants``), then the
    rows (one query, read a chunk at a time)."""
    organizations = bulk_organizations(3)
    client.force_login(cast.cupa_reviewer)
    _read(client.get(URL))  # the session learns the agency; content types are cached
    for count in (10, 1000):
        bulk_facilities(organizations, count, cast.cupa)
        with django_assert_num_queries(5):
            lines = _read(client.get(URL))
        assert lines > count
