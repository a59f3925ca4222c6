"""Inspections and enforcement actions as CSV and XLSX: the lists' scope and filters,
columns in words, queries flat."""

import csv
import datetime
import io

import openpyxl
from django.urls import reverse

from .helpers import DAY, UST_TYPE, enforcement, inspection, pa_reviewer, violation

INSPECTIONS = reverse("regulator:cme_inspections_export")
ENFORCEMENTS = reverse("regulator:cme_enforcements_export")


def csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_inspections_in_csv(cast, client):
    found = inspection(cast)
    violation(cast, found)
    violation(cast, found)
    client.force_login(cast.cupa_reviewer)
    response = client.get(INSPECTIONS)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="inspections-1001-')
    rows = csv_rows(response)
    assert rows[0][:8] == [
        "CERS ID",
        "Facility name",
        "Address",
        "Program element",
        "Inspection type",
        "Inspected on",
        "Inspector",
        "Violations",
    ]
    assert rows[1][0] == str(cast.facility.cers_id)
    assert rows[1][3] == found.get_program_element_display()
    assert rows[1][5] == "2024-05-01"
    assert rows[1][7] == "2"
    assert rows[1][10] == cast.cupa.name


def test_inspections_filter_by_facility_and_stay_in_the_agencys_scope(cast, client):
    inspection(cast)
    other = inspection(
        cast,
        actor=cast.state_admin,
        regulator=cast.state,
        facility=cast.facility_yolo,
        occurred_on=DAY + datetime.timedelta(days=1),
    )
    client.force_login(cast.state_admin)
    assert len(csv_rows(client.get(INSPECTIONS))) == 3
    rows = csv_rows(client.get(INSPECTIONS, {"cers_id": cast.facility_yolo.cers_id}))
    assert [row[0] for row in rows[1:]] == [str(other.facility.cers_id)]
    # The Yolo CUPA sees the inspection at its facility, not the Sacramento one.
    client.force_login(cast.cupa2_reviewer)
    rows = csv_rows(client.get(INSPECTIONS))
    assert [row[0] for row in rows[1:]] == [str(cast.facility_yolo.cers_id)]


def test_the_pa_exports_only_its_inspections(cast, client):
    inspection(cast)  # the CUPA's HMBP inspection
    inspector = pa_reviewer(cast)
    ust = inspection(cast, program_element="c", actor=inspector, regulator=cast.pa)
    violation(cast, ust, type_number=UST_TYPE, actor=inspector, regulator=cast.pa)
    client.force_login(cast.pa_viewer)
    rows = csv_rows(client.get(INSPECTIONS))
    assert [row[3] for row in rows[1:]] == [ust.get_program_element_display()]


def test_enforcements_in_xlsx_with_filters(cast, client):
    nov = enforcement(cast, occurred_on=DAY, fine_amount=None)
    enforcement(cast, enforcement_type="c", occurred_on=DAY + datetime.timedelta(days=10))
    client.force_login(cast.cupa_reviewer)
    response = client.get(ENFORCEMENTS, {"format": "xlsx", "enforcement_type": "a"})
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "CERS ID",
        "Facility name",
        "Address",
        "Type",
        "Formal type",
        "Taken on",
    )
    assert len(rows) == 2
    assert rows[1][0] == cast.facility.cers_id
    assert rows[1][3] == nov.get_enforcement_type_display()
    assert rows[1][5] == datetime.datetime(2024, 5, 1)  # a date the sheet can sort


def test_enforcement_filters_match_the_list(cast, client):
    enforcement(cast, occurred_on=DAY)
    enforcement(cast, occurred_on=DAY - datetime.timedelta(days=30))
    client.force_login(cast.cupa_reviewer)
    params = {"occurred_from": "2024-04-15", "occurred_to": "2024-05-05"}
    listed = client.get(reverse("regulator:cme_enforcements"), params).context["page"]
    rows = csv_rows(client.get(ENFORCEMENTS, params))
    assert [row[5] for row in rows[1:]] == [e.occurred_on.isoformat() for e in listed]
    assert len(rows) == 2


def test_another_agency_sees_none_of_the_rows(cast, client):
    enforcement(cast)
    inspection(cast)
    client.force_login(cast.cupa2_reviewer)
    assert len(csv_rows(client.get(ENFORCEMENTS))) == 1
    assert len(csv_rows(client.get(INSPECTIONS))) == 1


def test_queries_do_not_grow(cast, client, django_assert_num_queries):
    """Session, user, staff memberships, the user's grants (``core.scoping.grants``), then the
    rows with their counts (one query)."""
    client.force_login(cast.cupa_reviewer)
    b"".join(client.get(INSPECTIONS).streaming_content)
    b"".join(client.get(ENFORCEMENTS).streaming_content)
    for count in (1, 20):
        for _ in range(count):
            found = inspection(cast)
            enforcement(cast, violations=[violation(cast, found)])
        with django_assert_num_queries(5):
            assert len(csv_rows(client.get(INSPECTIONS))) > count
        with django_assert_num_queries(5):
            assert len(csv_rows(client.get(ENFORCEMENTS))) > count
