"""Issue 16: what a facility must report (its Business Activities, or its regulator's
setting), its next due dates (set by the regulator, or yearly on acceptance by the agency's
rule) and the status grid the facility pages show."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.elements import SubmittalElement as E
from core.models import AuditEvent
from facilities import schedule
from facilities.models import DueDateRule, Facility, FacilityRegulator, ReportingRequirement
from facilities.schedule import (
    anniversary,
    attach_status_grids,
    elements_required_by,
    mark_of,
)
from facilities.services import set_element_requirement
from facilities.views.business import with_element_regulators
from submittals import services as submittal_services
from submittals.models import ElementStatus, SubmittalElementRecord
from tests.facilities.bulk import bulk_facilities
from tests.facilities.test_query_counts import BUSINESS_LIST_QUERIES
from tests.submittals.data import NO_ACTIVITIES, complete_facility_information, submit

TODAY = date(2026, 6, 15)


def grid_of(facility, include_drafts=False, today=TODAY) -> dict[int, schedule.GridRow]:
    [facility] = attach_status_grids(
        with_element_regulators(Facility.objects.filter(pk=facility.pk)),
        include_drafts=include_drafts,
        today=today,
    )
    return {row.element: row for row in facility.status_grid}


def row_of(facility, element) -> FacilityRegulator:
    return FacilityRegulator.objects.get(facility=facility, element=element)


# --- Requirements derived from the Business Activities ---


@pytest.mark.parametrize(
    ("answers", "elements"),
    [
        ({}, {E.FACILITY_INFORMATION}),
        (
            {"4": "Y"},
            {E.FACILITY_INFORMATION, E.HAZARDOUS_MATERIALS_INVENTORY, E.EMERGENCY_RESPONSE},
        ),
        ({"4a": "Y"}, {E.FACILITY_INFORMATION, E.CALARP}),
        ({"5": "Y"}, {E.FACILITY_INFORMATION, E.UST}),
        ({"8": "Y"}, {E.FACILITY_INFORMATION, E.APSA}),
        ({"9": "Y"}, {E.FACILITY_INFORMATION}),  # a generator reports in Facility Information
        ({"10": "Y"}, {E.FACILITY_INFORMATION, E.RECYCLABLE_MATERIALS}),
        ({"11": "Y"}, {E.FACILITY_INFORMATION, E.TIERED_PERMITTING}),
        ({"12": "Y"}, {E.FACILITY_INFORMATION, E.TIERED_PERMITTING}),
        ({"13": "Y"}, {E.FACILITY_INFORMATION, E.REMOTE_WASTE_CONSOLIDATION}),
        ({"14": "Y"}, {E.FACILITY_INFORMATION, E.HW_TANK_CLOSURE}),
        ({"14a": "Y"}, {E.FACILITY_INFORMATION, E.EMERGENCY_RESPONSE}),
        ({"14b": "Y"}, {E.FACILITY_INFORMATION}),
        (dict(NO_ACTIVITIES), {E.FACILITY_INFORMATION}),
        ({"4": "N", "5": "Y"}, {E.FACILITY_INFORMATION, E.UST}),
    ],
)
def test_each_activity_requires_its_elements(answers, elements):
    assert elements_required_by(answers) == {int(element) for element in elements}


def test_the_submitted_answers_decide_and_the_business_sees_its_draft_first(cast):
    submit(cast, data={1: complete_facility_information(f3=cast.facility.name, f4="Y")})
    grid = grid_of(cast.facility)
    assert grid[E.HAZARDOUS_MATERIALS_INVENTORY].required
    assert grid[E.HAZARDOUS_MATERIALS_INVENTORY].source == "Business Activities"
    assert not grid[E.UST].required
    assert grid[E.FACILITY_INFORMATION].last.status == "Submitted"
    # A new draft answering UST Yes: the business's pages count it, the regulator's do not.
    record = submittal_services.start_draft(
        actor=cast.editor, facility=cast.facility, element=E.FACILITY_INFORMATION
    )
    submittal_services.save_draft_data(
        actor=cast.editor,
        record=record,
        data=complete_facility_information(f3=cast.facility.name, f4="N", f5="Y"),
    )
    business = grid_of(cast.facility, include_drafts=True)
    assert business[E.UST].required and not business[E.HAZARDOUS_MATERIALS_INVENTORY].required
    assert business[E.FACILITY_INFORMATION].draft is not None
    regulator = grid_of(cast.facility)
    assert not regulator[E.UST].required and regulator[E.HAZARDOUS_MATERIALS_INVENTORY].required
    assert regulator[E.FACILITY_INFORMATION].draft is None


def test_a_not_accepted_facility_information_does_not_count(cast):
    records = submit(cast, data={1: complete_facility_information(f3=cast.facility.name, f4="Y")})
    submittal_services.review(
        actor=cast.cupa_reviewer,
        record=records[1],
        status=ElementStatus.NOT_ACCEPTED,
        comments="Wrong address.",
    )
    grid = grid_of(cast.facility)
    assert not grid[E.HAZARDOUS_MATERIALS_INVENTORY].required
    assert grid[E.FACILITY_INFORMATION].last.status == "Not Accepted"


# --- The regulator's setting ---


def test_the_elements_reviewer_overrides_and_clears_the_requirement_audited(cast):
    due = TODAY + timedelta(days=90)
    set_element_requirement(
        actor=cast.cupa_reviewer,
        facility=cast.facility,
        element=E.APSA,
        reporting_requirement=ReportingRequirement.ALWAYS_APPLICABLE,
        next_due_date=due,
    )
    row = row_of(cast.facility, E.APSA)
    assert (row.reporting_requirement, row.next_due_date) == (3, due)
    grid = grid_of(cast.facility)
    assert grid[E.APSA].required
    assert grid[E.APSA].source == "Set by the regulator: Always Applicable"
    event = AuditEvent.objects.get(action="facility.elements_changed")
    assert event.before == {
        "9": {"regulator": "1001", "reporting_requirement": None, "next_due_date": None}
    }
    assert event.after["9"]["reporting_requirement"] == 3
    assert event.regulator == cast.cupa
    # Back to the Business Activities, without a date.
    set_element_requirement(
        actor=cast.cupa_reviewer,
        facility=cast.facility,
        element=E.APSA,
        reporting_requirement=None,
        next_due_date=None,
    )
    row.refresh_from_db()
    assert (row.reporting_requirement, row.next_due_date) == (None, None)
    assert not grid_of(cast.facility)[E.APSA].required


def test_not_applicable_wins_over_the_business_activities(cast):
    submit(cast, data={1: complete_facility_information(f3=cast.facility.name, f4="Y")})
    set_element_requirement(
        actor=cast.cupa_reviewer,
        facility=cast.facility,
        element=E.EMERGENCY_RESPONSE,
        reporting_requirement=ReportingRequirement.NOT_APPLICABLE,
        next_due_date=None,
    )
    grid = grid_of(cast.facility)
    assert not grid[E.EMERGENCY_RESPONSE].required
    assert grid[E.HAZARDOUS_MATERIALS_INVENTORY].required


def test_facility_information_cannot_be_made_not_applicable(cast):
    with pytest.raises(ValidationError):
        set_element_requirement(
            actor=cast.cupa_reviewer,
            facility=cast.facility,
            element=E.FACILITY_INFORMATION,
            reporting_requirement=ReportingRequirement.NOT_APPLICABLE,
            next_due_date=None,
        )
    assert row_of(cast.facility, E.FACILITY_INFORMATION).reporting_requirement is None


@pytest.mark.parametrize("persona", ["cupa2_reviewer", "pa_viewer", "lead"])
def test_another_agency_a_viewer_and_business_users_are_refused(cast, persona):
    with pytest.raises(PermissionDenied):
        set_element_requirement(
            actor=getattr(cast, persona),
            facility=cast.facility,
            element=E.HAZARDOUS_MATERIALS_INVENTORY,
            reporting_requirement=ReportingRequirement.APPLICABLE,
            next_due_date=None,
        )
    assert row_of(cast.facility, E.HAZARDOUS_MATERIALS_INVENTORY).reporting_requirement is None
    assert not AuditEvent.objects.filter(action="facility.elements_changed").exists()


def test_the_cupa_sets_its_pas_element_and_the_pa_and_the_state_too(cast, pa_admin):
    for actor in (cast.cupa_reviewer, pa_admin, cast.state_admin):
        set_element_requirement(
            actor=actor,
            facility=cast.facility,
            element=E.UST,
            reporting_requirement=ReportingRequirement.APPLICABLE,
            next_due_date=None,
        )
    assert row_of(cast.facility, E.UST).reporting_requirement == ReportingRequirement.APPLICABLE


# --- Marks ---


def test_marks_follow_the_pinned_clock():
    submitted = schedule.ElementSubmittal(1, "Submitted", None)
    accepted = schedule.ElementSubmittal(1, "Accepted", None)
    assert mark_of(True, TODAY - timedelta(days=1), accepted, TODAY) == "overdue"
    assert mark_of(True, TODAY - timedelta(days=1), None, TODAY) == "overdue"
    assert mark_of(True, TODAY, None, TODAY) == "due soon"
    assert mark_of(True, TODAY + timedelta(days=30), None, TODAY) == "due soon"
    assert mark_of(True, TODAY + timedelta(days=31), None, TODAY) == ""
    assert mark_of(False, TODAY - timedelta(days=1), None, TODAY) == ""  # not required
    assert mark_of(True, None, None, TODAY) == ""  # no date
    assert mark_of(True, TODAY - timedelta(days=1), submitted, TODAY) == ""  # awaiting review


def test_the_pages_show_the_grid_with_its_marks(cast, client, monkeypatch):
    monkeypatch.setattr(schedule, "local_today", lambda: TODAY)
    submit(cast, data={1: complete_facility_information(f3=cast.facility.name, f4="Y")})
    records = {r.element: r for r in cast.facility.submittal_elements.all()}
    submittal_services.review(
        actor=cast.cupa_reviewer,
        record=records[E.FACILITY_INFORMATION],
        status=ElementStatus.ACCEPTED,
    )
    FacilityRegulator.objects.filter(facility=cast.facility, element=E.FACILITY_INFORMATION).update(
        next_due_date=TODAY - timedelta(days=3)
    )
    # Submitted more than a year before that due date: it did not report for it.
    SubmittalElementRecord.objects.filter(pk=records[E.FACILITY_INFORMATION].pk).update(
        submitted_at=timezone.make_aware(datetime(2025, 5, 1, 12))
    )
    FacilityRegulator.objects.filter(
        facility=cast.facility, element=E.HAZARDOUS_MATERIALS_INVENTORY
    ).update(next_due_date=TODAY + timedelta(days=10))
    client.force_login(cast.viewer)
    page = client.get(reverse("business:facility", args=[cast.facility.cers_id])).content.decode()
    assert "Overdue" in page and "Due soon" in page and "Accepted" in page
    assert "Hazardous Materials Inventory" in page
    listing = client.get(reverse("business:facilities")).content.decode()
    assert "Overdue" in listing and "Due soon" in listing
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:facility", args=[cast.facility.cers_id])).content.decode()
    assert "Overdue" in page and "Due soon" in page
    assert reverse("regulator:facility_element", args=[cast.facility.cers_id, 2]) in page
    assert reverse("regulator:review", args=[records[E.FACILITY_INFORMATION].pk]) in page
    client.force_login(cast.pa_viewer)
    page = client.get(reverse("regulator:facility", args=[cast.facility.cers_id])).content.decode()
    assert reverse("regulator:facility_element", args=[cast.facility.cers_id, 2]) not in page
    # The PA sees the UST history only: none here.
    assert reverse("regulator:review", args=[records[E.FACILITY_INFORMATION].pk]) not in page


def test_an_element_reported_for_its_due_date_is_not_marked_once_the_date_passes(cast):
    """An APSA element (no yearly rule moves its date) submitted and accepted before its due
    date reported for it: once the date has passed the grid marks nothing, as the reminders
    and the notifications (``due_elements``) find nothing due. Submitted a reporting period
    or more before the date, it did not report for it: overdue."""
    from django.db.models import F

    from facilities.hooks import period_start
    from facilities.services import due_elements

    records = submit(cast, E.APSA)
    due = timezone.localdate(records[E.APSA].submitted_at) + timedelta(days=10)
    FacilityRegulator.objects.filter(facility=cast.facility, element=E.APSA).update(
        next_due_date=due, reporting_requirement=ReportingRequirement.APPLICABLE
    )
    submittal_services.review(
        actor=cast.cupa_reviewer, record=records[E.APSA], status=ElementStatus.ACCEPTED
    )
    assert row_of(cast.facility, E.APSA).next_due_date == due
    rows = FacilityRegulator.objects.filter(facility=cast.facility, element=E.APSA)

    for today in (due - timedelta(days=5), due + timedelta(days=5)):
        row = grid_of(cast.facility, today=today)[E.APSA]
        assert row.required and row.last.status == "Accepted"
        assert row.mark == "", today
        assert due_elements(rows, today) == []

    SubmittalElementRecord.objects.filter(pk=records[E.APSA].pk).update(
        submitted_at=F("submitted_at") - (due - period_start(due))
    )
    late = due + timedelta(days=5)
    assert grid_of(cast.facility, today=late)[E.APSA].mark == "overdue"
    assert [row.element for row, _kind in due_elements(rows, late)] == [E.APSA]
    assert grid_of(cast.facility, today=due - timedelta(days=5))[E.APSA].mark == "due soon"


@pytest.mark.parametrize(
    ("due", "first_that_reports"),
    [
        (date(2027, 3, 1), date(2026, 3, 2)),  # a year of 365 days
        (date(2028, 3, 1), date(2027, 3, 2)),  # a year with the 29th of February: 366 days
        (date(2028, 2, 29), date(2027, 3, 1)),
        # The anniversary of both the 28th and the 29th of February 2028: a submittal of
        # either day made the date, so neither reports for it.
        (date(2029, 2, 28), date(2028, 3, 1)),
    ],
)
def test_an_element_reports_for_the_due_date_a_calendar_year_ahead(due, first_that_reports):
    """A submittal reports for the due dates up to a calendar year after it, the day itself
    excluded, as ``anniversary`` counts the year: a submittal of the 2nd of March 2027 reports
    for the 1st of March 2028, 366 days later, as one of the 2nd of March 2026 does for the
    1st of March 2027."""
    from facilities.hooks import reports_for

    assert reports_for(due, first_that_reports)
    assert not reports_for(due, first_that_reports - timedelta(days=1))
    assert reports_for(date(1, 6, 1), date(1, 1, 2))  # no year before the first: no overflow


def test_the_reminders_count_a_calendar_year_too(cast):
    """The reminders' query (``reported_elements``) follows the same year: APSA due on the
    1st of March 2028, submitted on the 2nd of March 2027, is not reminded."""
    from facilities.services import due_elements

    records = submit(cast, E.APSA)
    SubmittalElementRecord.objects.filter(pk=records[E.APSA].pk).update(
        submitted_at=timezone.make_aware(datetime(2027, 3, 2, 9))
    )
    rows = FacilityRegulator.objects.filter(facility=cast.facility, element=E.APSA)
    rows.update(next_due_date=date(2028, 3, 1), reporting_requirement=2)
    assert due_elements(rows, date(2028, 2, 20)) == []
    assert grid_of(cast.facility, today=date(2028, 3, 5))[E.APSA].mark == ""
    SubmittalElementRecord.objects.filter(pk=records[E.APSA].pk).update(
        submitted_at=timezone.make_aware(datetime(2027, 3, 1, 9))
    )
    assert [row.element for row, _kind in due_elements(rows, date(2028, 2, 20))] == [E.APSA]


# --- Due dates on acceptance ---


def test_an_accepted_hmbp_element_is_due_on_its_anniversary(cast):
    records = submit(cast, 2, 4)
    submittal_services.review(
        actor=cast.cupa_reviewer,
        record=records[E.HAZARDOUS_MATERIALS_INVENTORY],
        status=ElementStatus.ACCEPTED,
    )
    accepted_on = timezone.localdate()
    assert row_of(cast.facility, E.HAZARDOUS_MATERIALS_INVENTORY).next_due_date == anniversary(
        accepted_on
    )
    event = AuditEvent.objects.get(action="facility.elements_changed")
    assert event.after == {"2": {"next_due_date": anniversary(accepted_on).isoformat()}}
    assert event.actor == cast.cupa_reviewer
    # Not Accepted sets nothing; UST is not an HMBP element.
    submittal_services.review(
        actor=cast.cupa_reviewer,
        record=records[E.FACILITY_INFORMATION],
        status=ElementStatus.NOT_ACCEPTED,
        comments="No.",
    )
    assert row_of(cast.facility, E.FACILITY_INFORMATION).next_due_date is None


def test_an_agency_that_turned_the_rule_off_sets_no_date(cast):
    DueDateRule.objects.create(regulator=cast.cupa, hmbp_yearly=False)
    records = submit(cast)
    submittal_services.review(
        actor=cast.cupa_reviewer,
        record=records[E.FACILITY_INFORMATION],
        status=ElementStatus.ACCEPTED,
    )
    assert row_of(cast.facility, E.FACILITY_INFORMATION).next_due_date is None


def test_anniversary():
    assert anniversary(date(2026, 3, 1)) == date(2027, 3, 1)
    assert anniversary(date(2028, 2, 29)) == date(2029, 2, 28)


# --- The regulator's page to set a requirement ---


def test_the_element_page_saves_and_shows_errors(cast, client):
    url = reverse("regulator:facility_element", args=[cast.facility.cers_id, E.APSA])
    client.force_login(cast.cupa_reviewer)
    assert client.get(url).status_code == 200
    response = client.post(url, {"reporting_requirement": "2", "next_due_date": "2027-01-31"})
    assert response.status_code == 302
    row = row_of(cast.facility, E.APSA)
    assert (row.reporting_requirement, row.next_due_date) == (2, date(2027, 1, 31))
    fi = reverse("regulator:facility_element", args=[cast.facility.cers_id, E.FACILITY_INFORMATION])
    response = client.post(fi, {"reporting_requirement": "1", "next_due_date": ""})
    assert response.status_code == 200
    assert "cannot be Not Applicable" in response.content.decode()


@pytest.mark.parametrize("typed", ["0001-01-01", "1984-12-31", "2100-01-01", "9999-12-31"])
def test_a_due_date_outside_what_edt_carries_is_refused(cast, client, typed):
    """A next due date is one an EDT answer's nextDueDate (CalEPA's Date: 1985 to 2099) can
    carry: year 1 stopped every agency's reminders (a date a reporting period before it does
    not exist) and 9999 made the facility query's answers invalid. The page says so on the
    field; nothing is saved."""
    submit(cast)
    url = reverse("regulator:facility_element", args=[cast.facility.cers_id, E.UST])
    client.force_login(cast.cupa_reviewer)
    response = client.post(url, {"reporting_requirement": "", "next_due_date": typed})
    assert response.status_code == 200
    assert (
        "between 1985-01-01 and 2099-12-31" in response.context["form"].errors["next_due_date"][0]
    )
    assert row_of(cast.facility, E.UST).next_due_date is None
    with pytest.raises(ValidationError, match="between 1985-01-01 and 2099-12-31"):
        set_element_requirement(
            actor=cast.cupa_reviewer,
            facility=cast.facility,
            element=E.UST,
            reporting_requirement=None,
            next_due_date=date.fromisoformat(typed),
        )
    for edge in (date(1985, 1, 1), date(2099, 12, 31)):
        set_element_requirement(
            actor=cast.cupa_reviewer,
            facility=cast.facility,
            element=E.UST,
            reporting_requirement=None,
            next_due_date=edge,
        )
        assert row_of(cast.facility, E.UST).next_due_date == edge


def test_the_element_page_refuses_others(cast, client):
    url = reverse("regulator:facility_element", args=[cast.facility.cers_id, E.APSA])
    client.force_login(cast.pa_viewer)
    assert client.get(url).status_code == 403  # sees the facility, may not set
    client.force_login(cast.cupa2_reviewer)
    assert client.get(url).status_code == 404  # outside Yolo's jurisdiction
    client.force_login(cast.cupa_reviewer)
    assert (
        client.get(
            reverse("regulator:facility_element", args=[cast.facility.cers_id, 99])
        ).status_code
        == 404
    )


# --- Query counts ---


# The business's facility page: session, user, memberships, the facility with its element rows
# (2), the submittals hook (last submittals, Business Activities, drafts: 3).
BUSINESS_PAGE_QUERIES = 8
# The regulator's facility page: its own queries, the user's grants (``core.scoping.grants``,
# once per request), the grid's, the history, and one access question per element row
# (whether to offer "Change"), one whether to offer setting the facility ID and location, the
# business's transfer requests and the facility's closings: fixed, whatever was submitted.
REGULATOR_PAGE_QUERIES = 29


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_business_list_and_page_issue_the_same_queries_for_1_or_30_facilities(cast, client):
    other = bulk_facilities([cast.other_org], 1, cast.cupa)  # noqa: F841  (not the org's)
    submit(cast, 2, data={1: complete_facility_information(f3=cast.facility.name, f4="Y")})
    url = reverse("business:facilities")
    client.force_login(cast.lead)
    client.get(url)
    with_few = _queries(client, url)
    assert with_few == BUSINESS_LIST_QUERIES
    for facility in bulk_facilities([cast.org], 28, cast.cupa)[:3]:
        submit(cast, 2, facility=facility)
    assert Facility.objects.filter(organization=cast.org).count() == 30
    assert _queries(client, url) == with_few
    page = reverse("business:facility", args=[cast.facility.cers_id])
    assert _queries(client, page) == _queries(
        client,
        reverse(
            "business:facility",
            args=[Facility.objects.filter(organization=cast.org).last().cers_id],
        ),
    )


def test_the_regulator_page_issues_the_same_queries_with_or_without_history(cast, client):
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:facility", args=[cast.facility.cers_id])
    client.get(url)
    assert _queries(client, url) == REGULATOR_PAGE_QUERIES
    for _ in range(3):
        submit(cast, 2)
    assert _queries(client, url) == REGULATOR_PAGE_QUERIES


# --- The agency's due date rule ---


def test_an_administrator_turns_the_rule_off_audited_and_others_may_not(cast, client, cupa_admin):
    url = reverse("regulator:due_date_rule")
    client.force_login(cast.cupa_reviewer)
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403
    assert not DueDateRule.objects.exists()
    client.force_login(cupa_admin)
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 302  # the box left unticked: off
    assert DueDateRule.objects.get(regulator=cast.cupa).hmbp_yearly is False
    event = AuditEvent.objects.get(action="regulator.due_date_rule_changed")
    assert (event.before, event.after) == ({"hmbp_yearly": True}, {"hmbp_yearly": False})
    records = submit(cast)
    submittal_services.review(
        actor=cast.cupa_reviewer,
        record=records[E.FACILITY_INFORMATION],
        status=ElementStatus.ACCEPTED,
    )
    assert row_of(cast.facility, E.FACILITY_INFORMATION).next_due_date is None


def test_a_date_the_reviewer_gives_wins_over_the_rule_in_one_event(cast):
    records = submit(cast)
    given = timezone.localdate() + timedelta(days=100)
    record = records[E.FACILITY_INFORMATION]
    with transaction.atomic():
        locked = submittal_services.lock_for_review([record.key])
        submittal_services.apply_reviews(
            actor=cast.cupa_reviewer,
            actions=[
                submittal_services.ReviewAction(
                    record=locked[record.key], status=ElementStatus.ACCEPTED, comments=""
                )
            ],
            due_dates={(cast.facility.pk, E.FACILITY_INFORMATION): given},
        )
    assert row_of(cast.facility, E.FACILITY_INFORMATION).next_due_date == given
    assert AuditEvent.objects.filter(action="facility.elements_changed").count() == 1
