"""The CME spreadsheet upload: all rows stored in one go, or none with every problem listed
by row and column; the same rules as manual entry; jurisdiction and role boundaries."""

import csv
import datetime
import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cme import upload
from cme.models import Inspection, Violation
from core.models import AuditEvent

from .helpers import HMBP_TYPE, UST_TYPE, pa_reviewer

URL = "regulator:cme_upload"
HEADERS = [column.header for column in upload.COLUMNS]


def _csv(*rows: dict) -> bytes:
    """A CSV file with the template's header and ``rows`` keyed by header."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _inspection_row(cast, reference="INS-1", **values) -> dict:
    return {
        "Record": "inspection",
        "Inspection reference": reference,
        "CERS ID": cast.facility.cers_id,
        "Program element (905)": "a",
        "Inspection type (907)": "a",
        "Inspection date (906)": "2024-05-01",
        "Inspector": "Rita Reviewer",
    } | values


def _violation_row(reference="INS-1", **values) -> dict:
    return {
        "Record": "violation",
        "Inspection reference": reference,
        "Violation type (930)": HMBP_TYPE,
        "Violation class (931)": "9",
        "Violation date (932)": "2024-05-01",
        "Scheduled return to compliance (933)": "2024-06-01",
    } | values


def _post(client, content: bytes, name: str = "cme.csv"):
    return client.post(reverse(URL), {"file": SimpleUploadedFile(name, content)})


def _problems(response) -> set[tuple]:
    return {(p.row, p.column) for p in response.context["result"].problems}


def _nothing_stored():
    return (
        not Inspection.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="cme.").exists()
    )


def test_it_stores_a_good_csv_file(cast, client):
    content = _csv(
        _inspection_row(cast, **{"Inspection comments (929)": "Annual"}),
        _violation_row(),
        _violation_row(
            **{
                "Violation type (930)": "1010005",
                "Violation class (931)": "Class II",  # a label works as well as its code
                "Scheduled return to compliance (933)": "",
                "Actual return to compliance (934)": "2024-05-20",
                "Return-to-compliance qualifier (935)": "Documented",
            }
        ),
        _inspection_row(
            cast,
            "INS-2",
            **{
                "Program element (905)": "e",
                "Inspection type (907)": "Other",
                "Inspection date (906)": "5/2/2024",
            },
        ),
    )
    client.force_login(cast.cupa_reviewer)
    response = _post(client, content)
    assert response.status_code == 302, response.context and response.context["problems"]
    assert response.url == reverse("regulator:cme_inspections")
    first, second = Inspection.objects.order_by("pk")
    assert (first.program_element, first.comments, first.regulator) == ("a", "Annual", cast.cupa)
    assert (second.program_element, second.inspection_type) == ("e", "b")
    assert second.occurred_on == datetime.date(2024, 5, 2)
    assert [(v.violation_class, v.rtc_qualifier) for v in first.violations.all()] == [
        (9, None),
        (2, 1),
    ]
    assert not second.violations.exists()
    assert AuditEvent.objects.filter(action="cme.inspection.recorded").count() == 2
    assert AuditEvent.objects.filter(action="cme.violation.recorded").count() == 2
    event = AuditEvent.objects.get(action="cme.upload.imported")
    assert event.after == {"file_name": "cme.csv", "inspections": 2, "violations": 2}
    assert (event.actor, event.regulator) == (cast.cupa_reviewer, cast.cupa)


def test_it_stores_a_good_xlsx_file(cast, client):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    # Headers in any order and case, with or without the field number.
    sheet.append(
        [
            "record",
            "INSPECTION REFERENCE",
            "cers id",
            "program element",
            "Inspection type",
            "Inspection date",
            "Inspector",
            "Violation type",
            "Violation class",
            "Violation date",
            "Actual return to compliance (934)",
            "Return-to-compliance qualifier",
        ]
    )
    sheet.append(["I", "A", cast.facility.cers_id, "a", "a", datetime.date(2024, 5, 1), "Rita"])
    sheet.append([])  # blank rows are skipped
    sheet.append(
        [
            "V",
            "A",
            None,
            None,
            None,
            None,
            None,
            int(HMBP_TYPE),
            9,
            datetime.datetime(2024, 5, 1),
            datetime.date(2024, 5, 3),
            2,
        ]
    )
    out = io.BytesIO()
    workbook.save(out)
    client.force_login(cast.cupa_reviewer)
    response = _post(client, out.getvalue(), "cme.xlsx")
    assert response.status_code == 302
    found = Violation.objects.get()
    assert found.inspection.facility == cast.facility
    assert (found.return_to_compliance_on, found.rtc_qualifier) == (datetime.date(2024, 5, 3), 2)


def test_a_file_with_errors_lists_them_by_row_and_column_and_stores_nothing(cast, client):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    content = _csv(
        _inspection_row(cast),  # row 2: good
        _violation_row(**{"Violation type (930)": "9999999"}),  # 3
        _violation_row(  # 4
            **{
                "Violation date (932)": "1980-09-30",
                "Scheduled return to compliance (933)": "1980-10-05",
            }
        ),
        _violation_row(**{"Scheduled return to compliance (933)": ""}),  # 5
        _inspection_row(  # 6
            cast,
            "INS-2",
            **{"Inspection type (907)": "z", "Inspection date (906)": tomorrow, "Inspector": ""},
        ),
        _violation_row("INS-9"),  # 7
        _violation_row(**{"CERS ID": cast.facility.cers_id}),  # 8
        _inspection_row(cast),  # 9: INS-1 again
        _violation_row(**{"Violation type (930)": UST_TYPE}),  # 10: not an HMBP type
        _inspection_row(cast, "INS-3", **{"Inspection date (906)": "May 1"}),  # 11
    )
    client.force_login(cast.cupa_reviewer)
    response = _post(client, content)
    assert response.status_code == 200
    assert _problems(response) == {
        (3, "Violation type (930)"),
        (4, "Violation date (932)"),
        (4, "Violation type (930)"),  # the library entry did not exist yet in 1980
        (5, "Actual return to compliance (934)"),
        (6, "Inspection type (907)"),
        (6, "Inspection date (906)"),
        (6, "Inspector"),
        (7, "Inspection reference"),
        (8, "CERS ID"),
        (9, "Inspection reference"),
        (10, "Violation type (930)"),
        (11, "Inspection date (906)"),
    }
    messages = {(p.row, p.column): p.message for p in response.context["result"].problems}
    assert "No violation type 9999999" in messages[(3, "Violation type (930)")]
    assert "before 1 October 1980" in messages[(4, "Violation date (932)")]
    assert "Enter the return-to-compliance" in messages[(5, "Actual return to compliance (934)")]
    assert "in the future" in messages[(6, "Inspection date (906)")]
    assert "does not fit" in messages[(10, "Violation type (930)")]
    assert "YYYY-MM-DD" in messages[(11, "Inspection date (906)")]
    assert "Why nothing was stored" in response.content.decode()
    assert _nothing_stored()


def test_a_facility_out_of_the_agencys_jurisdiction_is_a_row_error(cast, client):
    content = _csv(
        _inspection_row(cast),
        _inspection_row(cast, "INS-2", **{"CERS ID": cast.facility_yolo.cers_id}),
        _inspection_row(cast, "INS-3", **{"CERS ID": "99999999"}),
    )
    client.force_login(cast.cupa_reviewer)
    response = _post(client, content)
    problems = response.context["result"].problems
    assert [(p.row, p.column) for p in problems] == [(3, "CERS ID"), (4, "CERS ID")]
    assert problems[0].message == (
        f"No facility with CERS ID {cast.facility_yolo.cers_id} in the jurisdiction of "
        "Sacramento County CUPA."
    )
    assert _nothing_stored()

    # Another CUPA's reviewer may record CME, but not for the Sacramento facility.
    client.force_login(cast.cupa2_reviewer)
    response = _post(client, _csv(_inspection_row(cast)))
    assert _problems(response) == {(2, "CERS ID")}
    assert _nothing_stored()


def test_a_pa_cannot_upload_cme_outside_its_elements(cast, client):
    client.force_login(pa_reviewer(cast))
    ust = _inspection_row(cast, "UST-1", **{"Program element (905)": "c"})
    ust_violation = _violation_row("UST-1", **{"Violation type (930)": UST_TYPE})
    response = _post(client, _csv(_inspection_row(cast), ust, ust_violation))
    problems = response.context["result"].problems
    assert [(p.row, p.column) for p in problems] == [(2, "Program element (905)")]
    assert "does not regulate the Hazardous Materials Release Response Plans" in (
        problems[0].message
    )
    assert _nothing_stored()

    assert _post(client, _csv(ust, ust_violation)).status_code == 302
    stored = Inspection.objects.get()
    assert (stored.program_element, stored.regulator) == ("c", cast.pa)
    assert stored.violations.count() == 1


def test_only_staff_who_may_record_cme_can_upload(cast, client):
    content = _csv(_inspection_row(cast, **{"Program element (905)": "c"}))
    for user in (cast.pa_viewer, cast.lead):
        client.force_login(user)
        assert client.get(reverse(URL)).status_code == 403
        assert _post(client, content).status_code == 403
    assert _nothing_stored()
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse(URL))
    assert page.status_code == 200
    assert "Program element (905)" in page.content.decode()


def test_a_file_with_too_many_rows_is_refused(cast, client, monkeypatch):
    monkeypatch.setattr(upload, "MAX_ROWS", 3)
    content = _csv(_inspection_row(cast), *[_violation_row() for _ in range(3)])
    client.force_login(cast.cupa_reviewer)
    problems = _post(client, content).context["result"].problems
    assert len(problems) == 1
    assert problems[0].row is None
    assert "more than 3 rows" in problems[0].message
    assert _nothing_stored()


def test_the_template_downloads_as_csv_and_xlsx(cast, client):
    client.force_login(cast.pa_viewer)
    response = client.get(reverse("regulator:cme_upload_template"))
    assert response["Content-Type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))) == HEADERS
    response = client.get(reverse("regulator:cme_upload_template"), {"format": "xlsx"})
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [cell.value for cell in workbook.worksheets[0][1]] == HEADERS

    # The template as downloaded is a valid, empty upload.
    client.force_login(cast.cupa_reviewer)
    problems = _post(client, upload.template_csv().encode()).context["result"].problems
    assert [p.message for p in problems] == ["The file has no rows below its header."]


def test_a_file_that_cannot_be_read_is_refused_clearly(cast, client):
    client.force_login(cast.cupa_reviewer)
    for name, content, message in [
        ("cme.txt", b"Record\n", "is not a .csv or .xlsx file"),
        ("cme.xlsx", b"Record,Inspection reference\n", "is not an Excel workbook"),
        ("cme.csv", b"Record,Colour\n", "“Colour” is not a column"),
        ("cme.csv", b"Inspection reference\n", "no “Record” column"),
    ]:
        problems = _post(client, content, name).context["result"].problems
        assert any(message in p.message for p in problems), (name, problems)
    assert _nothing_stored()


def test_a_sheet_of_endless_blank_rows_is_refused(cast, client, monkeypatch):
    monkeypatch.setattr(upload, "MAX_SHEET_ROWS", 5)
    content = (
        _csv(_inspection_row(cast)) + b",,\r\n" * 5 + _csv(_violation_row()).split(b"\n", 1)[1]
    )
    client.force_login(cast.cupa_reviewer)
    problems = _post(client, content).context["result"].problems
    assert ["more than 5 rows" in p.message for p in problems] == [True]
    assert _nothing_stored()


def test_a_control_character_in_a_cell_is_a_row_error(cast, client):
    client.force_login(cast.cupa_reviewer)
    content = _csv(_inspection_row(cast, Inspector="Rita\x0bReviewer"))
    response = _post(client, content)
    assert _problems(response) == {(2, "Inspector")}
    assert "U+000B" in response.content.decode()
    assert _nothing_stored()
