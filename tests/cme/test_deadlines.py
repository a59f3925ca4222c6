"""The CME reporting deadline: an agency's inspections, violations and enforcement actions of
each quarter of the state's fiscal year (July to June) are due to CERS within 30 days after
the quarter ends. One function says which quarter is being reported on a California date and
by when; its boundaries are held here."""

import datetime

import pytest

from cme.deadlines import reporting_quarter
from core.clock import california_today

D = datetime.date


def test_the_day_after_a_quarter_ends_reports_that_quarter():
    quarter = reporting_quarter(D(2025, 10, 1))
    assert (quarter.start, quarter.end, quarter.due) == (
        D(2025, 7, 1),
        D(2025, 9, 30),
        D(2025, 10, 30),
    )
    assert (quarter.fiscal_year, quarter.number, quarter.fiscal_year_label) == (2025, 1, "2025-26")
    assert quarter.days_left == 29


def test_the_due_date_itself_is_still_that_quarters():
    quarter = reporting_quarter(D(2025, 10, 30))
    assert quarter.due == D(2025, 10, 30)
    assert quarter.days_left == 0
    assert quarter.due_today


def test_the_day_after_the_due_date_reports_the_quarter_in_progress():
    quarter = reporting_quarter(D(2025, 10, 31))
    assert (quarter.start, quarter.end, quarter.due) == (
        D(2025, 10, 1),
        D(2025, 12, 31),
        D(2026, 1, 30),
    )
    assert (quarter.fiscal_year, quarter.number) == (2025, 2)
    assert quarter.days_left == 91
    assert not quarter.due_today


def test_the_last_day_of_a_quarter_reports_it_already():
    """The quarter in progress is the next one due once the last one's date has passed."""
    assert reporting_quarter(D(2025, 9, 30)).due == D(2025, 10, 30)
    assert reporting_quarter(D(2025, 9, 30)).days_left == 30


@pytest.mark.parametrize(
    "today, start, due, fiscal_year, number",
    [
        # The year changes: December's quarter is due in January of the next year.
        (D(2025, 12, 31), D(2025, 10, 1), D(2026, 1, 30), 2025, 2),
        (D(2026, 1, 1), D(2025, 10, 1), D(2026, 1, 30), 2025, 2),
        (D(2026, 1, 30), D(2025, 10, 1), D(2026, 1, 30), 2025, 2),
        (D(2026, 1, 31), D(2026, 1, 1), D(2026, 4, 30), 2025, 3),
        (D(2026, 4, 1), D(2026, 1, 1), D(2026, 4, 30), 2025, 3),
        (D(2026, 4, 30), D(2026, 1, 1), D(2026, 4, 30), 2025, 3),
        (D(2026, 5, 1), D(2026, 4, 1), D(2026, 7, 30), 2025, 4),
        # The fiscal year changes on 1 July; June's quarter is the old year's last.
        (D(2026, 7, 1), D(2026, 4, 1), D(2026, 7, 30), 2025, 4),
        (D(2026, 7, 30), D(2026, 4, 1), D(2026, 7, 30), 2025, 4),
        (D(2026, 7, 31), D(2026, 7, 1), D(2026, 10, 30), 2026, 1),
    ],
)
def test_every_quarter_and_its_due_date(today, start, due, fiscal_year, number):
    quarter = reporting_quarter(today)
    assert (quarter.start, quarter.due, quarter.fiscal_year, quarter.number) == (
        start,
        due,
        fiscal_year,
        number,
    )
    assert quarter.start <= quarter.end < quarter.due
    assert 0 <= quarter.days_left == (due - today).days


def test_leap_years_count_the_29th_of_february():
    # January to March 2024 (a leap year) ends on 31 March all the same; February has 29 days.
    assert reporting_quarter(D(2024, 1, 31)).days_left == 90
    assert reporting_quarter(D(2025, 1, 31)).days_left == 89
    on_the_29th = reporting_quarter(D(2024, 2, 29))
    assert (on_the_29th.end, on_the_29th.due, on_the_29th.days_left) == (
        D(2024, 3, 31),
        D(2024, 4, 30),
        61,
    )
    assert reporting_quarter(D(2024, 3, 1)).days_left == 60
    assert reporting_quarter(D(2025, 3, 1)).days_left == 60


def test_the_fiscal_year_label_changes_century_digits():
    assert reporting_quarter(D(2099, 8, 1)).fiscal_year_label == "2099-00"


def test_today_is_californias_date_whatever_the_servers_zone(settings):
    settings.TIME_ZONE = "UTC"
    utc = datetime.UTC
    # 06:59 UTC on 31 October is 23:59 on the 30th in California (PDT): the due date still.
    late = datetime.datetime(2025, 10, 31, 6, 59, tzinfo=utc)
    assert california_today(late) == D(2025, 10, 30)
    assert reporting_quarter(california_today(late)).due_today
    # An hour later it is the 31st there, and the next quarter is being reported.
    assert california_today(late + datetime.timedelta(hours=1)) == D(2025, 10, 31)
    # In January (PST, eight hours behind UTC).
    assert california_today(datetime.datetime(2026, 1, 31, 7, 59, tzinfo=utc)) == D(2026, 1, 30)


# --- Where regulators read it ---------------------------------------------------------------

# 23:30 on 30 October 2025 in California, already the 31st in UTC.
DUE_EVENING = datetime.datetime(2025, 10, 31, 6, 30, tzinfo=datetime.UTC)


@pytest.fixture
def due_evening(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: DUE_EVENING)


def deadline_text(response) -> str:
    from lxml import html

    element = html.fromstring(response.content).get_element_by_id("cme-deadline")
    return " ".join("".join(element.itertext()).split())


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cupa_reviewer", "pa_viewer", "state_admin"])
def test_the_dashboard_shows_the_quarter_due_and_the_days_left(cast, client, due_evening, persona):
    from django.urls import reverse

    client.force_login(getattr(cast, persona))
    text = deadline_text(client.get(reverse("regulator:home")))
    assert "quarter 1 of fiscal year 2025-26, 2025-07-01 to 2025-09-30" in text
    assert "due to CERS by 2025-10-30" in text
    assert "due today" in text


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["regulator:cme_inspections", "regulator:cme_enforcements"])
def test_the_cme_pages_show_it_too(cast, client, monkeypatch, name):
    from django.urls import reverse
    from django.utils import timezone

    # 1 November 2025: the quarter in progress, due 30 January 2026.
    monkeypatch.setattr(
        timezone, "now", lambda: datetime.datetime(2025, 11, 1, 19, 0, tzinfo=datetime.UTC)
    )
    client.force_login(cast.cupa_reviewer)
    text = deadline_text(client.get(reverse(name)))
    assert "2025-10-01 to 2025-12-31 (in progress)" in text
    assert "by 2026-01-30: 90 days left" in text
