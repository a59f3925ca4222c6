"""One rule of whether a facility must report an element (``facilities.schedule.requirement_of``),
asked everywhere: the status grid, the regulator's facility list filter
(``FacilityQuerySet.must_report``), RFQ's ReportingRequirement (20.0088), what is due
(``facilities.services.due_elements``: the reminders and the notifications page) and the status
report's overdue elements (``FacilityRegulatorQuerySet.must_report``, ``count_required``) agree
on every element of facilities covering each case of the rule."""

from __future__ import annotations

import datetime
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.elements import SubmittalElement as E
from edt.api.queries import ELEMENT_TAGS
from facilities.models import Facility, FacilityRegulator, ReportingRequirement
from facilities.schedule import attach_status_grids
from facilities.services import due_elements
from facilities.views.business import with_element_regulators
from regulators.models import Regulator
from tests.facilities.test_program_filters import answer, set_requirement
from tests.factories import make_facility
from tests.submittals.data import complete_facility_information, submit

from .conftest import assert_valid_beyond_2024, legacy_header

# Far enough that what is submitted today does not report for it (``hooks.reports_for``), with
# a reminder threshold reaching it: every element the facility must report is due.
DUE_IN = 400


@pytest.fixture
def cases(cast):
    """Facilities of the Sacramento CUPA, each a case of the rule (for UST, and for the
    elements the same answers switch on or off):

    - ``applicable``: answers No to everything, the regulator set UST Applicable;
    - ``exempt``: answers UST Yes, the regulator set UST Not Applicable;
    - ``always``: answers No to everything, the regulator set UST Always Applicable;
    - ``yes``: answers UST and hazardous materials Yes, no setting;
    - ``no``: answers No to everything, no setting;
    - ``none``: no Facility Information at all, no setting;
    - ``dropped``: submitted its USTs with a Yes, then a Facility Information answering No;
    - ``information_exempt``: its Facility Information row holds Not Applicable.
    """
    names = ["applicable", "exempt", "always", "yes", "no", "none", "dropped"]
    made = {name: make_facility(cast.org, name=f"Rule {name}", zip_code="95814") for name in names}
    made["information_exempt"] = make_facility(cast.org, name="Rule information", zip_code="95814")
    answer(cast, made["applicable"])
    set_requirement(cast, made["applicable"], E.UST, ReportingRequirement.APPLICABLE)
    answer(cast, made["exempt"], f5="Y")
    set_requirement(cast, made["exempt"], E.UST, ReportingRequirement.NOT_APPLICABLE)
    answer(cast, made["always"])
    set_requirement(cast, made["always"], E.UST, ReportingRequirement.ALWAYS_APPLICABLE)
    answer(cast, made["yes"], f4="Y", f5="Y")
    answer(cast, made["no"])
    dropped = made["dropped"]
    submit(cast, E.UST, facility=dropped, data={1: complete_facility_information(f5="Y")})
    answer(cast, dropped, f5="N")
    # No service sets it (Facility Information always applies), but a row may hold it (as
    # the regulator's facility list's filter allows): the rule follows the setting.
    FacilityRegulator.objects.filter(
        facility=made["information_exempt"], element=E.FACILITY_INFORMATION
    ).update(reporting_requirement=ReportingRequirement.NOT_APPLICABLE)
    return made


def grid_says(facilities) -> set[tuple[int, int]]:
    grids = attach_status_grids(
        with_element_regulators(Facility.objects.filter(pk__in=[f.pk for f in facilities])),
        include_drafts=False,
    )
    return {
        (facility.pk, row.element)
        for facility in grids
        for row in facility.status_grid
        if row.required
    }


def list_says(facilities) -> set[tuple[int, int]]:
    scope = Facility.objects.filter(pk__in=[f.pk for f in facilities])
    return {
        (pk, int(element))
        for element in E
        for pk in scope.must_report(element).values_list("pk", flat=True)
    }


def rfq_says(client, account, facilities) -> set[tuple[int, int]]:
    query = urlencode({"regulatorCode": account.regulator.code})
    response = client.get(f"/EDT/Regulator/Facility?{query}", **legacy_header(account))
    assert response.status_code == 200
    root = assert_valid_beyond_2024(
        b"".join(response.streaming_content), "1.05", "RegulatorFacilityQuery.xsd"
    )
    by_cers_id = {f.cers_id: f.pk for f in facilities}
    elements = {tag: int(code) for code, tag in ELEMENT_TAGS.items()}
    said = set()
    for answer_ in root.findall("Facility"):
        pk = by_cers_id.get(int(answer_.findtext("CERSID")))
        if pk is None:
            continue
        for element in answer_.find("SubmittalElements"):
            requirement = int(element.get("reportingRequirement"))
            if requirement != ReportingRequirement.NOT_APPLICABLE:
                said.add((pk, elements[element.tag]))
    return said


def due_says(facilities) -> set[tuple[int, int]]:
    today = timezone.localdate()
    rows = FacilityRegulator.objects.filter(facility__in=facilities)
    rows.update(next_due_date=today + datetime.timedelta(days=DUE_IN))
    thresholds = {regulator.pk: [DUE_IN] for regulator in Regulator.objects.all()}
    return {
        (row.facility_id, row.element)
        for row, _kind in due_elements(rows.order_by("pk"), today, thresholds)
    }


def test_the_grid_the_list_rfq_and_what_is_due_agree(client, cast, edt_account, cases):
    facilities = list(cases.values())
    grid = grid_says(facilities)
    assert list_says(facilities) == grid
    assert rfq_says(client, edt_account, facilities) == grid
    assert due_says(facilities) == grid
    # The status report counts the element rows the same rule keeps.
    rows = FacilityRegulator.objects.filter(facility__in=facilities).must_report()
    assert set(rows.values_list("facility_id", "element")) == grid
    # ... and counts them, by element, reading the answers of only the rows that need them.
    counted = FacilityRegulator.objects.filter(facility__in=facilities).count_required()
    assert counted == dict(Counter(element for _facility, element in grid))
    # Overdue Facility Information (the facility list's filter, the dashboard's count): only
    # where it must be reported and none was submitted in the last year.
    overdue = Facility.objects.filter(pk__in=[f.pk for f in facilities]).overdue()
    assert {facility.name for facility in overdue} == {"Rule none"}

    # And they say the rule: the setting wins, else Facility Information always, else the
    # answers that count, whatever was submitted before.
    ust = {name for name, facility in cases.items() if (facility.pk, E.UST) in grid}
    assert ust == {"applicable", "always", "yes"}
    inventory = {
        name for name, f in cases.items() if (f.pk, E.HAZARDOUS_MATERIALS_INVENTORY) in grid
    }
    assert inventory == {"yes"}
    information = {name for name, f in cases.items() if (f.pk, E.FACILITY_INFORMATION) in grid}
    assert information == set(cases) - {"information_exempt"}


def test_what_is_due_reads_the_answers_once_whatever_the_number_of_facilities(cast, cases):
    """The reminders and the notifications page run in batches: the answers of a batch's
    facilities are one query, not one per facility."""
    facilities = list(cases.values())
    due_says(facilities)  # sets the dates
    today = timezone.localdate()
    thresholds = {regulator.pk: [DUE_IN] for regulator in Regulator.objects.all()}

    def queries(some) -> int:
        rows = FacilityRegulator.objects.filter(facility__in=some).order_by("pk")
        with CaptureQueriesContext(connection) as captured:
            due_elements(rows, today, thresholds)
        return len(captured)

    assert queries(facilities[:2]) == queries(facilities)
