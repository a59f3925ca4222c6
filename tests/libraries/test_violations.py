"""The violation library pages: search, filters, validity dates, citations, detail."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from libraries.models import ViolationType

URL = reverse("libraries:violations")
UST, CALARP = ViolationType.ProgramElement.UST, ViolationType.ProgramElement.CALARP
CLASS_I = "Class I"  # the examples keep their old class codes' words as categories
# Session, user, whether to offer the maintenance links, the categories, the count and the page.
LIST_QUERIES = 6


def listed(response) -> list[str]:
    return [violation_type.type_number for violation_type in response.context["page"]]


@pytest.fixture
def reader(cast, client):
    client.force_login(cast.viewer)
    return client


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("2030002", ["2030002"]),  # by type number
        ("secondary containment", ["2030004", "6010003"]),  # by name
        ("process hazard", ["7010002"]),
    ],
)
def test_it_searches_by_type_number_and_name(reader, query, found):
    assert listed(reader.get(URL, {"q": query})) == found


def test_it_searches_the_description(reader):
    ViolationType.objects.create(
        type_number="1234567",
        name="Example",
        description="Spill kit missing at the loading dock",
        category="Minor",
        program_element=1,
        begin_date=datetime.date(2020, 1, 1),
    )
    assert listed(reader.get(URL, {"q": "loading dock"})) == ["1234567"]


def test_it_filters_by_program_element_and_category(reader):
    ust = listed(reader.get(URL, {"program_element": UST}))
    assert ust == ["2030001", "2030002", "2030003", "2030004", "2030005"]
    ust_class_i = listed(reader.get(URL, {"program_element": UST, "category": CLASS_I}))
    assert ust_class_i == ["2030002", "2030004"]
    assert listed(reader.get(URL, {"program_element": CALARP, "q": "audit"})) == ["7010003"]


def test_a_bad_filter_value_is_ignored(reader):
    everything = listed(reader.get(URL))
    assert listed(reader.get(URL, {"program_element": "nonsense", "category": "42"})) == (
        everything
    )


def test_it_shows_only_types_valid_today_when_asked(reader):
    ViolationType.objects.filter(type_number="1010003").update(end_date=datetime.date(2015, 12, 31))
    ViolationType.objects.filter(type_number="1010004").update(begin_date=datetime.date(2099, 1, 1))
    business_plan = {"program_element": 1}
    assert "1010003" in listed(reader.get(URL, business_plan))
    current = listed(reader.get(URL, business_plan | {"current": "on"}))
    assert current == ["1010", "1010001", "1010002", "1010005"]


def test_the_list_shows_validity_dates_and_citations(reader):
    ViolationType.objects.filter(type_number="6010001").update(end_date=datetime.date(2030, 6, 30))
    page = reader.get(URL, {"q": "6010001"}).content.decode()
    assert "2009-01-01" in page and "2030-06-30" in page
    assert "§ 25270.5" in page and "§ 112.3" in page


def test_a_search_that_matches_nothing_says_so(reader):
    response = reader.get(URL, {"q": "unobtainium"})
    assert listed(response) == []
    assert "No violation type matches" in response.content.decode()


def test_the_detail_page_shows_dates_and_every_citation(cast, client):
    ViolationType.objects.filter(type_number="6010001").update(
        description="No SPCC plan was prepared.",
        citations=[
            {
                "chapter": "6.67",
                "section": "25270.5",
                "name": "SPCC plan",
                "description": "Prepare a plan",
                "source": "California Health and Safety Code",
            }
        ],
    )
    client.force_login(cast.outsider)
    response = client.get(reverse("libraries:violation", args=["6010001"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "No SPCC plan was prepared." in page
    assert "Aboveground Petroleum Storage Act" in page and "Class II" in page
    assert "2009-01-01" in page and "(current)" in page
    assert "SPCC plan" in page and "Prepare a plan" in page and "Health and Safety Code" in page


def test_an_unknown_type_number_answers_404(reader):
    assert reader.get(reverse("libraries:violation", args=["9999999"])).status_code == 404


def test_the_list_issues_the_same_queries_for_one_page_or_many(
    cast, client, django_assert_num_queries
):
    client.force_login(cast.cupa_reviewer)
    client.get(URL)  # the first request settles the session

    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    ViolationType.objects.bulk_create(
        ViolationType(
            type_number=f"{9000000 + n}",
            name=f"Test type {n}",
            category="Minor",
            program_element=1,
            begin_date=datetime.date(2020, 1, 1),
        )
        for n in range(200)
    )
    with django_assert_num_queries(len(few)):
        response = client.get(URL, {"page": 5})
    assert len(few) == LIST_QUERIES
    assert response.context["page"].number == 5
