"""The dashboard's summaries (``portal.services.refresh_summaries``): each agency's counts equal
what its own lists hold, counted from scratch through the scoped querysets; the refresh (the
beat's task, the command, ``seed_scale``) makes a wrong row right; an agency reads only its
own summary; an agency with nothing, or not counted yet, shows zeros and says so."""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from cers.celery import app
from cme import services as cme
from facilities.models import Facility
from organizations.models import Organization
from portal import tasks
from portal.counts import CHART_MONTHS, counts_by_month_and_status, months_back
from portal.models import AgencySummary
from portal.services import month_key, refresh_summaries
from portal.views.dashboard import agency_elements, agency_violations, violations_past_rtc
from submittals import services as submittals
from submittals.models import ElementStatus
from tests import factories
from tests.facilities.bulk import bulk_facilities
from tests.portal.test_dashboard import (
    DAY,
    UST_TYPE,
    inspection,
    months_ago,
    submitted,
    violation,
)
from tests.submittals.data import answer_required_documents, complete_facility_information

HOME_URL = reverse("regulator:home")


def recount(user, regulator, now=None) -> dict:
    """What ``regulator``'s summary must hold, counted live from the querysets its lists
    read, as ``user`` (staff of ``regulator``) sees them."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    elements = agency_elements(user, regulator)
    facilities = Facility.objects.for_user(user, "view").in_jurisdiction(regulator)
    violations = agency_violations(user, regulator)
    open_violations = violations.filter(return_to_compliance_on__isnull=True)
    months = months_back(today, CHART_MONTHS)
    by_month: dict[str, dict[str, int]] = {}
    for (month, status), n in counts_by_month_and_status(elements, months).items():
        if month in months:
            by_month.setdefault(month_key(month), {})[str(status)] = n
    by_element = (
        open_violations.order_by().values("inspection__program_element").annotate(n=Count("pk"))
    )
    return {
        "facility_count": facilities.count(),
        "organization_count": Organization.objects.for_user(user, "view")
        .in_jurisdiction(regulator)
        .count(),
        "element_count": elements.count(),
        "awaiting_review_count": elements.awaiting_review().count(),
        "overdue_facility_count": facilities.overdue(now).count(),
        "open_violation_count": open_violations.count(),
        "past_rtc_count": violations_past_rtc(user, regulator, today).count(),
        "submittals_by_month": by_month,
        "open_violations_by_program_element": {
            row["inspection__program_element"]: row["n"] for row in by_element
        },
    }


def stored(regulator) -> dict:
    summary = AgencySummary.objects.get(regulator=regulator)
    return {field: getattr(summary, field) for field in recount.fields}


recount.fields = [
    "facility_count",
    "organization_count",
    "element_count",
    "awaiting_review_count",
    "overdue_facility_count",
    "open_violation_count",
    "past_rtc_count",
    "submittals_by_month",
    "open_violations_by_program_element",
]


def assert_every_agency_recounts(cast, now=None):
    refresh_summaries(now)
    for user, regulator in [
        (cast.cupa_reviewer, cast.cupa),
        (cast.cupa2_reviewer, cast.cupa2),
        (cast.pa_viewer, cast.pa),
        (cast.state_admin, cast.state),
    ]:
        assert stored(regulator) == recount(user, regulator, now), regulator.name


def test_the_summaries_equal_a_recount_after_each_step_of_the_cycle(cast):
    assert_every_agency_recounts(cast)

    # A business submits Facility Information through the services: the CUPA's to review.
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
    assert_every_agency_recounts(cast)
    assert stored(cast.cupa)["awaiting_review_count"] == 1
    assert stored(cast.cupa)["overdue_facility_count"] == 0

    # The CUPA reviews it.
    record.refresh_from_db()
    submittals.review(actor=cast.cupa_reviewer, record=record, status=ElementStatus.ACCEPTED)
    assert_every_agency_recounts(cast)
    assert stored(cast.cupa)["awaiting_review_count"] == 0
    assert stored(cast.cupa)["element_count"] == 1

    # More elements of every status and age, for the CUPA, its PA and Yolo; more facilities.
    for months, status in enumerate(s for s in ElementStatus if s != ElementStatus.DRAFT):
        submitted(cast.facility, 2, cast.cupa, status, when=months_ago(months * 3))
    submitted(cast.facility, 4, cast.pa, when=months_ago(1))
    submitted(cast.facility_yolo, 1, cast.cupa2, when=months_ago(13))  # older than the chart
    bulk_facilities([cast.org, cast.other_org], 7, cast.cupa)
    assert_every_agency_recounts(cast)

    # Inspections and violations: the CUPA's (HMBP), the PA's (UST), Yolo's.
    hmbp = inspection(cast)
    late = violation(cast, hmbp, scheduled_rtc_on=DAY)
    violation(cast, hmbp, scheduled_rtc_on=timezone.localdate() + datetime.timedelta(days=30))
    ust = inspection(cast, "c", regulator=cast.pa)
    violation(cast, ust, UST_TYPE, scheduled_rtc_on=DAY)
    yolo = inspection(cast, regulator=cast.cupa2, facility=cast.facility_yolo)
    violation(cast, yolo, scheduled_rtc_on=DAY)
    assert_every_agency_recounts(cast)
    assert stored(cast.cupa)["past_rtc_count"] == 1
    assert stored(cast.pa)["open_violations_by_program_element"] == {"c": 1}
    assert stored(cast.state)["open_violation_count"] == 4

    # The late violation returns to compliance.
    cme.update_violation(
        actor=None,
        regulator=cast.cupa,
        violation=late,
        return_to_compliance_on=DAY,
        rtc_qualifier=1,
    )
    assert_every_agency_recounts(cast)
    assert stored(cast.cupa)["past_rtc_count"] == 0
    assert stored(cast.cupa)["open_violation_count"] == 1


def test_counts_that_move_with_the_date_are_as_of_the_refresh(cast):
    """A violation due in ten days is past its date when counted eleven days on; Facility
    Information submitted 360 days ago is overdue when counted ten days on."""
    submitted(cast.facility, 1, cast.cupa, when=timezone.now() - datetime.timedelta(days=360))
    violation(
        cast,
        inspection(cast),
        scheduled_rtc_on=timezone.localdate() + datetime.timedelta(days=10),
    )
    assert_every_agency_recounts(cast)
    assert stored(cast.cupa)["past_rtc_count"] == 0
    assert stored(cast.cupa)["overdue_facility_count"] == 0

    later = timezone.now() + datetime.timedelta(days=11)
    assert_every_agency_recounts(cast, later)
    assert stored(cast.cupa)["past_rtc_count"] == 1
    assert stored(cast.cupa)["overdue_facility_count"] == 1
    assert AgencySummary.objects.get(regulator=cast.cupa).counted_at == later


# --- the refresh heals ---------------------------------------------------------------------


def test_the_beats_task_makes_a_wrong_row_right(cast):
    submitted(cast.facility, 2, cast.cupa)
    refresh_summaries()
    right = stored(cast.cupa)
    AgencySummary.objects.filter(regulator=cast.cupa).update(
        awaiting_review_count=99,
        facility_count=0,
        submittals_by_month={"1999-01": {"1": 5}},
        open_violations_by_program_element={"a": 3},
    )
    assert stored(cast.cupa) != right

    assert tasks.refresh_summaries.delay().get() == 4  # every agency of the cast

    assert stored(cast.cupa) == right == recount(cast.cupa_reviewer, cast.cupa)


def test_the_command_counts_every_agency(cast, capsys):
    submitted(cast.facility, 2, cast.cupa)
    call_command("refresh_summaries")
    assert "Counted the dashboards of 4 agencies" in capsys.readouterr().out
    assert stored(cast.cupa)["awaiting_review_count"] == 1


def test_the_beat_counts_again_every_few_minutes():
    entry = app.conf.beat_schedule["refresh-dashboard-summaries"]
    assert entry["task"] == tasks.refresh_summaries.name
    assert entry["schedule"] == settings.SUMMARY_SECONDS


# --- what the dashboard shows -------------------------------------------------------------


@pytest.fixture
def with_beat(settings):
    """A deployment with a broker, a worker and beat: beat counts, the page only reads."""
    settings.CELERY_TASK_ALWAYS_EAGER = False


def test_the_dashboard_shows_the_counts_as_of_the_last_refresh_and_says_so(cast, client, with_beat):
    submitted(cast.facility, 2, cast.cupa)
    refresh_summaries(timezone.now() - datetime.timedelta(minutes=5))
    submitted(cast.facility, 3, cast.cupa)  # after the count: shown at the next one
    client.force_login(cast.cupa_reviewer)
    response = client.get(HOME_URL)
    assert response.context["awaiting_review_count"] == 1
    assert "Counted 5\xa0minutes ago" in response.content.decode()

    refresh_summaries()
    assert client.get(HOME_URL).context["awaiting_review_count"] == 2


def test_each_agency_reads_only_its_own_summary(cast, client):
    submitted(cast.facility, 2, cast.cupa)
    submitted(cast.facility, 4, cast.pa)
    submitted(cast.facility_yolo, 2, cast.cupa2)
    submitted(cast.facility_yolo, 3, cast.cupa2)
    refresh_summaries()

    def seen(user):
        client.force_login(user)
        response = client.get(HOME_URL)
        return response.context["summary"].regulator, response.context["awaiting_review_count"]

    assert seen(cast.cupa_reviewer) == (cast.cupa, 1)
    assert seen(cast.pa_viewer) == (cast.pa, 1)
    assert seen(cast.cupa2_reviewer) == (cast.cupa2, 2)
    assert seen(cast.state_admin) == (cast.state, 4)

    # The queryset a view starts from: an agency's staff, never another agency's row.
    assert (
        list(AgencySummary.objects.for_user(cast.cupa_reviewer).in_jurisdiction(cast.cupa2)) == []
    )
    assert not AgencySummary.objects.for_user(cast.outsider).exists()
    assert not AgencySummary.objects.for_user(cast.lead).exists()
    client.force_login(cast.lead)
    assert client.get(HOME_URL).status_code == 403


def test_an_agency_with_nothing_shows_zeros(cast, client, with_beat):
    empty = factories.make_regulator("1003", "Empty County CUPA", "cupa", zip_codes=["96000"])
    staff = factories.make_user("staff@empty.example", first_name="Emma")
    factories.add_staff(empty, staff, "reviewer")
    client.force_login(staff)

    response = client.get(HOME_URL)  # before any count
    assert response.context["summary"] is None
    assert "have not been made yet" in response.content.decode()
    assert (response.context["facility_count"], response.context["awaiting_review_count"]) == (
        0,
        0,
    )

    submitted(cast.facility, 2, cast.cupa)
    refresh_summaries()
    assert stored(empty) == recount(staff, empty)
    response = client.get(HOME_URL)
    assert response.context["summary"].regulator == empty
    assert response.context["status_chart"].total == 0
    assert response.context["violation_bars"] == []
    assert all(response.context[field] == 0 for field in recount.fields if field.endswith("_count"))


@pytest.mark.parametrize("persona", ["cupa_reviewer", "state_admin"])
def test_the_chart_reads_the_summarys_months(cast, client, persona):
    submitted(cast.facility, 2, cast.cupa, ElementStatus.ACCEPTED, when=months_ago(0, 1))
    submitted(cast.facility, 3, cast.cupa, when=months_ago(0, 1))
    submitted(cast.facility, 2, cast.cupa, when=months_ago(CHART_MONTHS))  # too old
    refresh_summaries()
    client.force_login(getattr(cast, persona))
    chart = client.get(HOME_URL).context["status_chart"]
    assert len(chart.bars) == CHART_MONTHS
    assert {s.label: s.count for s in chart.bars[-1].segments} == {
        "Submitted": 1,
        "Accepted": 1,
    }
    assert chart.total == 2


def test_without_a_broker_the_page_counts_what_beat_would(cast, client, settings):
    """The embedded default runs tasks within the request and has no beat: a summary missing,
    or older than CERS_SUMMARY_SECONDS, is counted when the dashboard is opened; a recent one
    is only read."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    submitted(cast.facility, 2, cast.cupa)
    client.force_login(cast.cupa_reviewer)
    response = client.get(HOME_URL)  # never counted
    assert response.context["summary"] is not None
    assert response.context["awaiting_review_count"] == 1

    submitted(cast.facility, 3, cast.cupa)
    assert client.get(HOME_URL).context["awaiting_review_count"] == 1  # counted just now

    AgencySummary.objects.update(
        counted_at=timezone.now() - datetime.timedelta(seconds=settings.SUMMARY_SECONDS + 1)
    )
    assert client.get(HOME_URL).context["awaiting_review_count"] == 2  # older: counted again
