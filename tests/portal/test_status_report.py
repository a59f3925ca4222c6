"""The submittal element status report: counts by element and status, elements past their
next due date, submittals by month; on the page and as CSV / XLSX; never another agency's
rows; three grouped queries whatever the number of elements."""

import csv
import datetime
import io

import openpyxl
from django.urls import reverse
from django.utils import timezone

from core.elements import SubmittalElement
from facilities.models import FacilityRegulator, ReportingRequirement
from submittals.models import ElementStatus
from tests.facilities.bulk import bulk_facilities, bulk_organizations
from tests.portal.test_dashboard import months_ago, submitted

URL = reverse("regulator:status_report")
EXPORT_URL = reverse("regulator:status_report_export")
FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
UST = SubmittalElement.UST
STATUSES = ["Submitted", "Under Review", "Accepted", "Not Accepted", "Not Applicable"]


def row(rows, label):
    return next(r for r in rows if r.label == label)


def test_counts_by_element_and_status(cast, client):
    submitted(cast.facility, FI, cast.cupa)
    submitted(cast.facility, FI, cast.cupa, ElementStatus.ACCEPTED)
    submitted(cast.facility, HMI, cast.cupa, ElementStatus.ACCEPTED)
    submitted(cast.facility, UST, cast.pa)  # the PA's
    submitted(cast.facility_yolo, FI, cast.cupa2)  # another CUPA's
    client.force_login(cast.cupa_reviewer)
    report = client.get(URL).context["report"]
    assert report.statuses == STATUSES
    assert row(report.by_element, "Facility Information").counts == [1, 0, 1, 0, 0]
    assert row(report.by_element, "Hazardous Materials Inventory").total == 1
    assert row(report.by_element, "Underground Storage Tanks").total == 0
    assert report.by_element_total.counts == [1, 0, 2, 0, 0]
    assert report.by_element_total.total == 3
    # The PA counts its own element only.
    client.force_login(cast.pa_viewer)
    report = client.get(URL).context["report"]
    assert report.by_element_total.total == 1
    assert row(report.by_element, "Underground Storage Tanks").counts == [1, 0, 0, 0, 0]


def test_overdue_elements_by_element(cast, client):
    today = timezone.localdate()
    rows = FacilityRegulator.objects.filter(facility=cast.facility)
    rows.filter(element=FI).update(next_due_date=today - datetime.timedelta(days=1))
    rows.filter(element=HMI).update(next_due_date=today)  # due today: not past
    rows.filter(element=UST).update(  # the PA's, set Applicable with its date
        next_due_date=today - datetime.timedelta(days=30),
        reporting_requirement=ReportingRequirement.APPLICABLE,
    )
    # Past its date, but nothing makes the facility report it (no setting, no Business
    # Activities answer): not counted, as the status grid says Not required.
    rows.filter(element=SubmittalElement.APSA).update(
        next_due_date=today - datetime.timedelta(days=9)
    )
    FacilityRegulator.objects.filter(facility=cast.facility_yolo, element=FI).update(
        next_due_date=today - datetime.timedelta(days=5)
    )  # the Yolo CUPA's
    client.force_login(cast.cupa_reviewer)
    report = client.get(URL).context["report"]
    assert row(report.overdue, "Facility Information").total == 1
    assert row(report.overdue, "Hazardous Materials Inventory").total == 0
    assert row(report.overdue, "Underground Storage Tanks").total == 0
    assert row(report.overdue, "Aboveground Petroleum Storage Act").total == 0
    assert report.overdue_total == 1
    client.force_login(cast.pa_viewer)
    assert client.get(URL).context["report"].overdue_total == 1
    client.force_login(cast.state_admin)
    assert client.get(URL).context["report"].overdue_total == 3


def test_submittals_by_month(cast, client):
    submitted(cast.facility, FI, cast.cupa, when=months_ago(0))
    submitted(cast.facility, HMI, cast.cupa, ElementStatus.ACCEPTED, when=months_ago(2))
    submitted(cast.facility, FI, cast.cupa, when=months_ago(13))  # before the 12 months
    client.force_login(cast.cupa_reviewer)
    report = client.get(URL).context["report"]
    assert len(report.by_month) == 12
    this_month, two_back = report.by_month[-1], report.by_month[-3]
    assert this_month.label == timezone.localdate().strftime("%B %Y")
    assert this_month.counts == [1, 0, 0, 0, 0]
    assert two_back.counts == [0, 0, 1, 0, 0]
    assert report.by_month_total.total == 2


def test_the_page_shows_the_tables_and_downloads(cast, client):
    submitted(cast.facility, FI, cast.cupa)
    client.force_login(cast.cupa_reviewer)
    response = client.get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Elements by status" in content
    assert f"{EXPORT_URL}?format=csv" in content
    assert f"{EXPORT_URL}?format=xlsx" in content
    assert URL in client.get(reverse("regulator:home")).content.decode()


def test_the_report_in_csv_and_xlsx(cast, client):
    submitted(cast.facility, FI, cast.cupa, ElementStatus.ACCEPTED)
    FacilityRegulator.objects.filter(facility=cast.facility, element=FI).update(
        next_due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(cast.cupa_reviewer)
    response = client.get(EXPORT_URL)
    assert response["Content-Disposition"].startswith(
        'attachment; filename="element-status-report-1001-'
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Table", "Element", "Status", "Month", "Count"]
    assert ["Elements by status", "Facility Information", "Accepted", "", "1"] in lines
    assert ["Elements by status", "Facility Information", "Submitted", "", "0"] in lines
    overdue = [line for line in lines if line[0].startswith("Past next due date")]
    assert len(overdue) == len(SubmittalElement)
    assert overdue[0][1:] == ["Facility Information", "", "", "1"]
    month = timezone.localdate().strftime("%B %Y")
    assert ["Submitted by month (status now)", "", "Accepted", month, "1"] in lines
    # Every element × status, every element, every month × status.
    assert len(lines) == 1 + 10 * 5 + 10 + 12 * 5

    workbook = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get(EXPORT_URL, {"format": "xlsx"}).streaming_content))
    )
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    assert len(sheet_rows) == len(lines)
    assert ("Elements by status", "Facility Information", "Accepted", None, 1) in sheet_rows


def test_another_agency_counts_none_of_these(cast, client):
    submitted(cast.facility, FI, cast.cupa)
    client.force_login(cast.cupa2_reviewer)
    report = client.get(URL).context["report"]
    assert report.by_element_total.total == 0
    assert report.by_month_total.total == 0


def test_business_users_get_no_report(cast, client):
    client.force_login(cast.lead)
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT_URL).status_code == 403


def test_queries_do_not_grow_with_the_elements(cast, client, django_assert_num_queries):
    """Session, user, staff memberships, the user's grants (``core.scoping.grants``), then one
    grouped query per table."""
    client.force_login(cast.cupa_reviewer)
    client.get(URL)
    organizations = bulk_organizations(2)
    for how_many in (3, 60):
        for facility in bulk_facilities(organizations, how_many, cast.cupa):
            submitted(facility, FI, cast.cupa)
        with django_assert_num_queries(7):
            report = client.get(URL).context["report"]
        assert report.by_element_total.total >= how_many
