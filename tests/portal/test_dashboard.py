"""The regulator home page's dashboard: what needs the agency's action (with links to the
lists behind each number), submittals by status per month, open violations by program
element; never another agency's data."""

import datetime
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from cme import services as cme
from portal.services import refresh_summaries
from submittals import services as submittals
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from tests.facilities.bulk import bulk_facilities
from tests.submittals.data import answer_required_documents, complete_facility_information

HOME_URL = reverse("regulator:home")
PAST_RTC_URL = reverse("regulator:violations_past_rtc")
FACILITIES_URL = reverse("regulator:facilities")
HMBP_TYPE = "1010001"  # seeded example: business plan
UST_TYPE = "2030002"  # seeded example: UST monitoring
DAY = datetime.date(2024, 5, 1)

_days_apart = count(1)


def submitted(facility, element, regulator, status=ElementStatus.SUBMITTED, when=None):
    """A submitted element routed to ``regulator``, made directly (the service's rules are
    tested with the submittals; here only the counts matter). ``when`` defaults to now."""
    when = when or timezone.now()
    group = FacilitySubmittal.objects.create(
        facility=facility, status=FacilitySubmittal.Status.SUBMITTED, submitted_at=when
    )
    return SubmittalElementRecord.objects.create(
        facility_submittal=group,
        facility=facility,
        element=element,
        status=status,
        regulator=regulator,
        submitted_at=when,
    )


def months_ago(months: int, day: int = 10) -> datetime.datetime:
    """A moment in the month ``months`` before this one (local time)."""
    today = timezone.localdate()
    year, month = today.year, today.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return timezone.make_aware(datetime.datetime(year, month, day, 12))


def inspection(cast, program_element="a", regulator=None, facility=None):
    return cme.record_inspection(
        actor=None,
        regulator=regulator or cast.cupa,
        facility=facility or cast.facility,
        program_element=program_element,
        inspection_type="a",
        occurred_on=DAY,
        inspector_name="Ida Inspector",
    )


def violation(cast, on, type_number=HMBP_TYPE, regulator=None, **dates):
    values = {"scheduled_rtc_on": None, "return_to_compliance_on": None} | dates
    return cme.add_violation(
        actor=None,
        regulator=regulator or on.regulator,
        inspection=on,
        type_number=type_number,
        violation_class=9,
        occurred_on=DAY,
        rtc_qualifier=1 if values["return_to_compliance_on"] else None,
        **values,
    )


def home(client, user):
    """The home page just after the beat counted every agency's dashboard again."""
    refresh_summaries()
    client.force_login(user)
    response = client.get(HOME_URL)
    assert response.status_code == 200
    return response


def action_counts(response) -> tuple[int, int, int]:
    context = response.context
    return (
        context["awaiting_review_count"],
        context["overdue_facility_count"],
        context["past_rtc_count"],
    )


# --- Submittals awaiting review -------------------------------------------------------------


def test_it_counts_the_submittals_awaiting_the_agencys_review(cast, client):
    """Through the real services: Facility Information goes to the CUPA; reviewing it
    takes it off the count."""
    record = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    record = submittals.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    answer_required_documents(cast.editor, record)
    submittals.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[record],
        certifier_name="Bob Approver",
        certifier_title="Manager",
    )
    response = home(client, cast.cupa_reviewer)
    assert response.context["awaiting_review_count"] == 1
    assert reverse("regulator:review_queue") in response.content.decode()
    assert home(client, cast.cupa2_reviewer).context["awaiting_review_count"] == 0
    assert home(client, cast.pa_viewer).context["awaiting_review_count"] == 0
    assert home(client, cast.state_admin).context["awaiting_review_count"] == 1

    record.refresh_from_db()
    submittals.review(actor=cast.cupa_reviewer, record=record, status=ElementStatus.ACCEPTED)
    assert home(client, cast.cupa_reviewer).context["awaiting_review_count"] == 0


def test_under_review_counts_as_awaiting_and_the_other_statuses_do_not(cast, client):
    for status in ElementStatus:
        if status != ElementStatus.DRAFT:
            submitted(cast.facility, 2, cast.cupa, status)
    submitted(cast.facility, 4, cast.pa)  # the PA's
    submitted(cast.facility_yolo, 2, cast.cupa2)  # Yolo's
    assert home(client, cast.cupa_reviewer).context["awaiting_review_count"] == 2
    assert home(client, cast.pa_viewer).context["awaiting_review_count"] == 1
    assert home(client, cast.cupa2_reviewer).context["awaiting_review_count"] == 1
    assert home(client, cast.state_admin).context["awaiting_review_count"] == 4


# --- Overdue facilities ---------------------------------------------------------------------


def test_a_facility_without_facility_information_in_the_last_year_is_overdue(cast, client):
    assert action_counts(home(client, cast.cupa2_reviewer))[1] == 2  # never submitted
    submitted(cast.facility_yolo, 1, cast.cupa2, ElementStatus.ACCEPTED)
    submitted(cast.other_facility, 1, cast.cupa2, when=timezone.now() - datetime.timedelta(400))
    response = home(client, cast.cupa2_reviewer)
    assert response.context["overdue_facility_count"] == 1
    assert f"{FACILITIES_URL}?overdue=1" in response.content.decode()
    assert home(client, cast.state_admin).context["overdue_facility_count"] == 2

    client.force_login(cast.cupa2_reviewer)
    listing = client.get(FACILITIES_URL, {"overdue": "1"})
    assert [f.cers_id for f in listing.context["page"]] == [cast.other_facility.cers_id]
    assert len(client.get(FACILITIES_URL).context["page"]) == 2


def test_a_draft_of_facility_information_does_not_make_it_current(cast, client):
    submittals.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    submitted(cast.facility, 2, cast.cupa)  # another element does not count either
    assert home(client, cast.cupa_reviewer).context["overdue_facility_count"] == 1


def test_a_facility_information_submitted_364_days_ago_is_current(cast, client):
    submitted(cast.facility, 1, cast.cupa, when=timezone.now() - datetime.timedelta(days=364))
    assert home(client, cast.cupa_reviewer).context["overdue_facility_count"] == 0
    assert home(client, cast.pa_viewer).context["overdue_facility_count"] == 0


# --- Violations past their return-to-compliance date ----------------------------------------


def test_it_counts_open_violations_past_their_scheduled_return_to_compliance(cast, client):
    today = timezone.localdate()
    hmbp = inspection(cast)
    late = violation(cast, hmbp, scheduled_rtc_on=DAY)
    violation(cast, hmbp, scheduled_rtc_on=today)  # due today: not late yet
    violation(cast, hmbp, scheduled_rtc_on=DAY + datetime.timedelta(days=3650))
    violation(cast, hmbp, scheduled_rtc_on=DAY, return_to_compliance_on=DAY)  # returned
    ust = inspection(cast, "c", regulator=cast.pa)
    violation(cast, ust, UST_TYPE, scheduled_rtc_on=DAY)  # the PA's
    yolo = inspection(cast, regulator=cast.cupa2, facility=cast.facility_yolo)
    violation(cast, yolo, scheduled_rtc_on=DAY)  # Yolo's

    response = home(client, cast.cupa_reviewer)
    assert response.context["past_rtc_count"] == 1
    assert PAST_RTC_URL in response.content.decode()
    assert home(client, cast.pa_viewer).context["past_rtc_count"] == 1
    assert home(client, cast.cupa2_reviewer).context["past_rtc_count"] == 1
    assert home(client, cast.state_admin).context["past_rtc_count"] == 3

    listing = client.get(PAST_RTC_URL)
    assert len(listing.context["page"]) == 3
    client.force_login(cast.cupa_reviewer)
    listing = client.get(PAST_RTC_URL)
    assert list(listing.context["page"]) == [late]
    page = listing.content.decode()
    assert reverse("regulator:cme_inspection", args=[hmbp.pk]) in page
    assert HMBP_TYPE in page


def test_the_list_of_violations_past_rtc_is_the_longest_overdue_first(cast, client):
    hmbp = inspection(cast)
    later = violation(cast, hmbp, scheduled_rtc_on=DAY + datetime.timedelta(days=30))
    earlier = violation(cast, hmbp, scheduled_rtc_on=DAY)
    client.force_login(cast.cupa_reviewer)
    assert list(client.get(PAST_RTC_URL).context["page"]) == [earlier, later]


def test_the_violations_past_rtc_page_on_by_their_date(cast, client, settings):
    """Every violation listed has its scheduled date: the list seeks by it, ties by key."""
    settings.CERS_PAGE_SIZE = 2
    hmbp = inspection(cast)
    made = [
        violation(cast, hmbp, scheduled_rtc_on=DAY + datetime.timedelta(days=i % 2))
        for i in range(5)
    ]
    expected = sorted(made, key=lambda v: (v.scheduled_rtc_on, v.pk))
    client.force_login(cast.cupa_reviewer)
    shown, params = [], {}
    while True:
        page = client.get(PAST_RTC_URL, params).context["page"]
        shown += list(page)
        if not page.next_after:
            break
        params = {"after": page.next_after, "page": page.next_page_number()}
    assert shown == expected


# --- The charts -----------------------------------------------------------------------------


def bars(response) -> dict[str, dict[str, int]]:
    """The status chart: month label -> {status label: count}, months with data only."""
    chart = response.context["status_chart"]
    return {
        bar.label: {segment.label: segment.count for segment in bar.segments}
        for bar in chart.bars
        if bar.total
    }


def label(moment) -> str:
    return timezone.localtime(moment).strftime("%b %y")


def test_the_status_chart_counts_the_agencys_submittals_per_month_and_status(cast, client):
    this_month, two_ago, eleven_ago = months_ago(0, 1), months_ago(2), months_ago(11)
    submitted(cast.facility, 1, cast.cupa, ElementStatus.ACCEPTED, when=this_month)
    submitted(cast.facility, 2, cast.cupa, ElementStatus.SUBMITTED, when=this_month)
    submitted(cast.facility, 3, cast.cupa, ElementStatus.SUBMITTED, when=this_month)
    submitted(cast.facility, 1, cast.cupa, ElementStatus.NOT_ACCEPTED, when=two_ago)
    submitted(cast.facility, 2, cast.cupa, ElementStatus.UNDER_REVIEW, when=eleven_ago)
    submitted(cast.facility, 1, cast.cupa, ElementStatus.ACCEPTED, when=months_ago(12))  # too old
    submitted(cast.facility, 4, cast.pa, ElementStatus.ACCEPTED, when=this_month)  # the PA's
    submitted(cast.facility_yolo, 1, cast.cupa2, when=two_ago)  # Yolo's

    response = home(client, cast.cupa_reviewer)

    assert bars(response) == {
        label(this_month): {"Submitted": 2, "Accepted": 1},
        label(two_ago): {"Not Accepted": 1},
        label(eleven_ago): {"Under Review": 1},
    }
    chart = response.context["status_chart"]
    assert len(chart.bars) == 12
    assert chart.bars[-1].label == label(this_month)
    assert (chart.total, chart.max_total) == (5, 3)
    page = response.content.decode()
    assert '<svg class="status-chart"' in page
    assert f"{label(this_month)}: 3; Submitted 2; Accepted 1" in page
    assert bars(home(client, cast.pa_viewer)) == {label(this_month): {"Accepted": 1}}
    assert bars(home(client, cast.cupa2_reviewer)) == {label(two_ago): {"Submitted": 1}}


def test_the_status_chart_says_when_there_is_nothing_to_draw(cast, client):
    response = home(client, cast.cupa_reviewer)
    assert response.context["status_chart"].total == 0
    assert "No element was submitted to this agency in the last 12 months." in (
        response.content.decode()
    )


def test_the_violations_chart_counts_open_violations_by_program_element(cast, client):
    hmbp = inspection(cast)
    violation(cast, hmbp, scheduled_rtc_on=DAY)
    violation(cast, hmbp, scheduled_rtc_on=DAY + datetime.timedelta(days=3650))  # not late
    violation(cast, hmbp, scheduled_rtc_on=DAY, return_to_compliance_on=DAY)  # closed
    ust = inspection(cast, "c", regulator=cast.pa)
    violation(cast, ust, UST_TYPE, scheduled_rtc_on=DAY)
    yolo = inspection(cast, regulator=cast.cupa2, facility=cast.facility_yolo)
    violation(cast, yolo, scheduled_rtc_on=DAY)

    def chart(user):
        return [(b.code, b.count, b.percent) for b in home(client, user).context["violation_bars"]]

    assert chart(cast.cupa_reviewer) == [("a", 2, 100)]
    assert chart(cast.pa_viewer) == [("c", 1, 100)]
    assert chart(cast.cupa2_reviewer) == [("a", 1, 100)]
    assert chart(cast.state_admin) == [("a", 3, 100), ("c", 1, 33)]
    page = home(client, cast.state_admin).content.decode()
    assert "Underground Storage Tanks" in page
    assert '<rect width="33%"' in page  # the bar, drawn in SVG: no inline style under the CSP


# --- Query count ----------------------------------------------------------------------------

# Session, user, staff memberships; the user's grants (``core.scoping.grants``); the agency's
# summary (every count and both charts).
HOME_QUERIES = 5
# The state's has one more, for its administrator: the requests to join the agency's staff,
# counted live. Whether they administer the agency, and its largest organizations' link, are
# read from the staff membership the portal already loaded (``StaffMembership.manages_staff``,
# ``.is_state_administrator``), without a query.
STATE_HOME_QUERIES = HOME_QUERIES + 1


@pytest.mark.parametrize("persona", ["cupa_reviewer", "pa_viewer"])
def test_the_home_page_issues_a_fixed_number_of_queries(
    cast, client, django_assert_num_queries, persona
):
    user = getattr(cast, persona)
    client.force_login(user)
    client.get(HOME_URL)  # the first request settles the session
    with django_assert_num_queries(HOME_QUERIES):
        client.get(HOME_URL)  # not counted yet
    refresh_summaries()
    with django_assert_num_queries(HOME_QUERIES):
        client.get(HOME_URL)
    facilities = bulk_facilities([cast.org, cast.other_org], 50, cast.cupa)
    for i, facility in enumerate(facilities):
        submitted(facility, 1 + i % 3, cast.cupa, when=months_ago(i % 12))
    hmbp = inspection(cast)
    for _ in range(5):
        violation(cast, hmbp, scheduled_rtc_on=DAY)
    refresh_summaries()
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(HOME_URL)
    if persona == "cupa_reviewer":
        # Facility Information went with every third bulk facility (17 of 50), all within
        # the year: the other 33 and cast.facility are overdue.
        assert action_counts(response) == (50, 34, 5)


def test_the_state_home_page_issues_a_fixed_number_of_queries(
    cast, client, django_assert_num_queries
):
    client.force_login(cast.state_admin)
    client.get(HOME_URL)
    refresh_summaries()
    with django_assert_num_queries(STATE_HOME_QUERIES):
        response = client.get(HOME_URL)
    facility_count = response.context["facility_count"]
    bulk_facilities([cast.org], 20, cast.cupa)
    refresh_summaries()
    with django_assert_num_queries(STATE_HOME_QUERIES):
        response = client.get(HOME_URL)
    assert response.context["facility_count"] == facility_count + 20


def test_the_violations_past_rtc_page_is_for_staff_only(cast, client):
    client.force_login(cast.lead)
    assert client.get(PAST_RTC_URL).status_code == 403
    client.logout()
    assert client.get(PAST_RTC_URL).status_code == 302
