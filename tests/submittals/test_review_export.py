"""The review queue as CSV and XLSX: the queue's scope and filters, columns in words, and a
number of queries that does not grow with the queue."""

import csv
import io
import tracemalloc

import openpyxl
from django.urls import reverse

from core import exports
from submittals import services
from submittals.models import ElementStatus
from tests.submittals.test_review_pages import FI, HMI, UST, draft, submit

URL = reverse("regulator:review_queue_export")
HEADER = [
    "CERS ID",
    "Facility name",
    "Address",
    "Organization",
    "Element",
    "Status",
    "Submitted on",
    "Submitted by",
    "Last action on",
    "Last action by",
    "Comments to the business",
]


def csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_queue_in_csv(cast, client):
    fi, hmi, _ust = submit(cast, draft(cast, FI), draft(cast, HMI), draft(cast, UST))
    services.review(
        actor=cast.cupa_reviewer, record=hmi, status=ElementStatus.UNDER_REVIEW, comments="Looking"
    )
    client.force_login(cast.cupa_reviewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="review-queue-1001-')
    rows = csv_rows(response)
    assert rows[0] == HEADER
    # Awaiting action, oldest first; the PA's UST is not the CUPA's.
    assert [row[4] for row in rows[1:]] == [fi.get_element_display(), hmi.get_element_display()]
    first, second = rows[1], rows[2]
    assert first[:2] == [str(cast.facility.cers_id), "Acme Sacramento Depot"]
    assert first[2] == cast.facility.address
    assert first[5] == "Submitted"
    assert first[7] == "Bob Approver"
    assert first[8] == ""
    assert second[5] == "Under Review"
    assert second[9] == cast.cupa_reviewer.get_full_name()
    assert second[10] == "Looking"


def test_the_queue_filters_apply(cast, client):
    fi, hmi = submit(cast, draft(cast, FI), draft(cast, HMI))
    services.review(actor=cast.cupa_reviewer, record=fi, status=ElementStatus.ACCEPTED)
    client.force_login(cast.cupa_reviewer)
    # By default the accepted element is no longer awaiting action.
    assert len(csv_rows(client.get(URL))) == 2
    accepted = csv_rows(client.get(URL, {"status": int(ElementStatus.ACCEPTED)}))
    assert [row[5] for row in accepted[1:]] == ["Accepted"]
    by_element = csv_rows(client.get(URL, {"status": "any", "element": int(HMI)}))
    assert [row[4] for row in by_element[1:]] == [hmi.get_element_display()]
    # A filter that makes no sense lists nothing, as on the page.
    assert csv_rows(client.get(URL, {"submitted_from": "not a date"})) == [HEADER]


def test_the_pa_exports_only_its_elements(cast, client):
    submit(cast, draft(cast, FI), draft(cast, UST))
    client.force_login(cast.pa_viewer)
    rows = csv_rows(client.get(URL, {"status": "any"}))
    assert [row[4] for row in rows[1:]] == ["Underground Storage Tanks"]
    # Another CUPA sees none of these rows.
    client.force_login(cast.cupa2_reviewer)
    assert csv_rows(client.get(URL, {"status": "any"})) == [HEADER]


def test_the_queue_in_xlsx(cast, client):
    submit(cast, draft(cast, FI))
    client.force_login(cast.cupa_reviewer)
    response = client.get(URL, {"format": "xlsx"})
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[1][0] == cast.facility.cers_id
    assert rows[1][6] is not None  # the submission time, as a date the sheet can sort


def test_the_queue_page_links_its_downloads(cast, client):
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:review_queue"), {"status": "any"})
    assert f"{URL}?status=any&amp;format=csv".encode() in response.content


def test_queries_do_not_grow_with_the_queue(cast, client, django_assert_num_queries):
    """Session, user, staff memberships, the user's grants (``core.scoping.grants``), then
    the elements with their facilities, organizations and submitters (one query, read a
    chunk at a time)."""
    client.force_login(cast.cupa_reviewer)
    b"".join(client.get(URL).streaming_content)
    for _ in range(2):
        submit(cast, draft(cast, FI))
        with django_assert_num_queries(5):
            rows = csv_rows(client.get(URL, {"status": "any"}))
        assert len(rows) > 1


def _bulk_submitted(cast, how_many: int) -> None:
    """``how_many`` submitted Facility Information elements routed to the CUPA, made with
    ``bulk_create`` (only their number matters here)."""
    from django.utils import timezone

    from submittals.models import FacilitySubmittal, SubmittalElementRecord

    now = timezone.now()
    group = FacilitySubmittal.objects.create(
        facility=cast.facility, status=FacilitySubmittal.Status.SUBMITTED, submitted_at=now
    )
    SubmittalElementRecord.objects.bulk_create(
        SubmittalElementRecord(
            facility_submittal=group,
            facility=cast.facility,
            element=FI,
            status=ElementStatus.SUBMITTED,
            regulator=cast.cupa,
            submitted_at=now,
            data={"padding": "x" * 500},  # never read by the export
        )
        for _ in range(how_many)
    )


def _streamed_peak(client) -> tuple[int, int]:
    tracemalloc.start()
    try:
        lines = sum(chunk.count(b"\n") for chunk in client.get(URL).streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, lines


def test_memory_does_not_grow_with_the_queue(cast, client, monkeypatch):
    """2,000 elements or 6,000: only a chunk of rows is held at once (holding 4,000 more
    would take megabytes). The first download of 2,000 also fills what the interpreter keeps
    for reuse, bounded but some 300 kB at 2,000 rows (its free lists of small objects), so the
    two measured ones differ only by what the rows themselves would hold."""
    monkeypatch.setattr(exports, "CHUNK_SIZE", 50)
    client.force_login(cast.cupa_reviewer)
    _bulk_submitted(cast, 2000)
    _streamed_peak(client)  # imports, caches, the session and the free lists settle first
    small, small_lines = _streamed_peak(client)
    _bulk_submitted(cast, 4000)
    large, large_lines = _streamed_peak(client)
    assert (small_lines, large_lines) == (2001, 6001)
    assert large - small < 300_000
