"""The regulator's facility list by program: the facilities that must report one submittal
element (as their status grid says it) and those whose Business Activities answer one question
Yes, on the page, in its count, its page links and its downloads; within the user's scope."""

import csv
import io

import pytest
from django.urls import reverse

from core.elements import SubmittalElement as E
from facilities.models import Facility, FacilityRegulator, ReportingRequirement
from facilities.schedule import attach_status_grids
from facilities.services import set_element_requirement
from facilities.views.business import with_element_regulators
from submittals import services as submittal_services
from submittals.models import ElementStatus
from tests.facilities.bulk import bulk_facilities
from tests.facilities.test_query_counts import REGULATOR_LIST_QUERIES, queries_for
from tests.factories import make_facility
from tests.submittals.data import complete_facility_information, submit

LIST_URL = reverse("regulator:facilities")
EXPORT_URL = reverse("regulator:facilities_export")


def answer(cast, facility, **answers):
    """Submit ``facility``'s Facility Information answering the activities ``answers`` (by
    number, ``f5="Y"``), the others No; the records by element."""
    return submit(
        cast,
        facility=facility,
        data={1: complete_facility_information(f3=facility.name, **answers)},
    )


def set_requirement(cast, facility, element, requirement):
    """The CUPA's reviewer sets it (for UST too, which its PA handles)."""
    set_element_requirement(
        actor=cast.cupa_reviewer,
        facility=facility,
        element=element,
        reporting_requirement=requirement,
        next_due_date=None,
    )


def listed(response) -> set[int]:
    return {facility.cers_id for facility in response.context["page"]}


def csv_ids(response) -> list[str]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return [row[0] for row in list(csv.reader(io.StringIO(text[1:])))[1:]]


@pytest.fixture
def sites(cast):
    """Facilities of the Sacramento CUPA (UST handled by its PA), each a case of the rule:

    - ``answered``: Business Activities say UST (5) and APSA (8), no setting;
    - ``exempt``: says UST, but the regulator set UST Not Applicable;
    - ``set``: says nothing, but the regulator set UST Applicable;
    - ``silent``: says No to everything;
    - ``changed``: said UST Yes, then No in a later Facility Information;
    - ``refused``: said UST Yes, then Yes to APSA only in one that was Not Accepted;
    - ``never``: no Facility Information at all.
    """
    org = cast.org
    names = ["answered", "exempt", "set", "silent", "changed", "refused", "never"]
    made = {name: make_facility(org, name=f"Program {name}", zip_code="95814") for name in names}
    answer(cast, made["answered"], f5="Y", f8="Y")
    answer(cast, made["exempt"], f5="Y")
    set_requirement(cast, made["exempt"], E.UST, ReportingRequirement.NOT_APPLICABLE)
    answer(cast, made["set"])
    set_requirement(cast, made["set"], E.UST, ReportingRequirement.APPLICABLE)
    answer(cast, made["silent"])
    answer(cast, made["changed"], f5="Y")
    answer(cast, made["changed"], f5="N")
    answer(cast, made["refused"], f5="Y")
    records = answer(cast, made["refused"], f5="N", f8="Y")
    submittal_services.review(
        actor=cast.cupa_reviewer,
        record=records[1],
        status=ElementStatus.NOT_ACCEPTED,
        comments="Wrong answers.",
    )
    return made


def test_must_report_follows_the_status_grid_for_every_element(cast, sites):
    """The filter's rule is the grid's: the regulator's setting wins, else the Business
    Activities answers that count (the latest submitted, under review or accepted Facility
    Information), and Facility Information always."""
    facilities = list(sites.values()) + [cast.facility]
    grids = attach_status_grids(
        with_element_regulators(Facility.objects.filter(pk__in=[f.pk for f in facilities])),
        include_drafts=False,
    )
    for element in E:
        found = set(
            Facility.objects.filter(pk__in=[f.pk for f in facilities])
            .must_report(element)
            .values_list("pk", flat=True)
        )
        required = {
            facility.pk
            for facility in grids
            for row in facility.status_grid
            if row.element == element and row.required
        }
        assert found == required, element.label


def test_must_report_ust_required_not_required_and_exempt(cast, sites):
    ust = set(Facility.objects.must_report(E.UST).values_list("name", flat=True))
    # answered: Yes; set: the regulator's Applicable; refused: its Not Accepted answers do
    # not count, the submitted ones before them do. exempt: Not Applicable wins over Yes.
    assert ust == {"Program answered", "Program set", "Program refused"}
    apsa = set(Facility.objects.must_report(E.APSA).values_list("name", flat=True))
    assert apsa == {"Program answered"}
    # Facility Information: everyone. The services refuse to set it Not Applicable, but a row
    # holding it (written before that rule) is read as the grid reads it.
    FacilityRegulator.objects.filter(
        facility=sites["silent"], element=E.FACILITY_INFORMATION
    ).update(reporting_requirement=ReportingRequirement.NOT_APPLICABLE)
    information = set(Facility.objects.must_report(E.FACILITY_INFORMATION))
    assert sites["silent"] not in information
    assert sites["never"] in information and cast.facility_yolo in information


def test_answered_yes_reads_the_answers_that_count(cast, sites):
    def named(number):
        return set(Facility.objects.answered_yes(number).values_list("name", flat=True))

    assert named("5") == {"Program answered", "Program exempt", "Program refused"}
    assert named("8") == {"Program answered"}
    assert named("9") == set()
    answer(cast, sites["silent"], f9="Y")  # a generator: no element of its own
    assert named("9") == {"Program silent"}


def test_the_page_filters_counts_and_keeps_the_filters(cast, client, sites):
    client.force_login(cast.cupa_reviewer)
    response = client.get(LIST_URL, {"must_report": str(int(E.UST))})
    assert response.status_code == 200
    expected = {sites[name].cers_id for name in ("answered", "set", "refused")}
    assert listed(response) == expected
    page = response.content.decode()
    assert "3 facilities that must report Underground Storage Tanks" in page
    # Labelled controls, the chosen values kept in them.
    assert '<label for="id_must_report">' in page
    assert '<label for="id_answered_yes">' in page
    assert f'<option value="{int(E.UST)}" selected>' in page
    # The downloads carry the filter.
    assert f"{EXPORT_URL}?must_report={int(E.UST)}&amp;format=csv" in page

    both = client.get(LIST_URL, {"must_report": str(int(E.UST)), "answered_yes": "8"})
    assert listed(both) == {sites["answered"].cers_id}
    assert "answered Yes to" in both.content.decode()


def test_the_filter_stays_in_the_page_links(cast, client):
    bulk_facilities([cast.org], 30, cast.cupa)  # nothing set: they need not report UST
    rows = FacilityRegulator.objects.filter(facility__name__startswith="Bulk", element=E.UST)
    rows.update(reporting_requirement=ReportingRequirement.APPLICABLE)
    client.force_login(cast.cupa_reviewer)
    response = client.get(LIST_URL, {"must_report": str(int(E.UST))})
    assert response.context["page"].paginator.count == 30
    next_link = response.context["page"].links["next"]
    assert f"must_report={int(E.UST)}" in next_link
    second = client.get(LIST_URL + next_link)
    assert second.context["page"].paginator.count == 30
    assert not listed(response) & listed(second)


def test_the_download_honours_the_filters(cast, client, sites):
    client.force_login(cast.cupa_reviewer)
    ids = csv_ids(client.get(EXPORT_URL, {"must_report": str(int(E.UST)), "answered_yes": "5"}))
    assert sorted(ids) == sorted(str(sites[name].cers_id) for name in ("answered", "refused"))
    # Without the filter, every facility of the jurisdiction.
    assert len(csv_ids(client.get(EXPORT_URL))) == len(sites) + 1


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"must_report": "99"}, "must_report", "“99” is not a submittal element"),
        ({"must_report": "UST"}, "must_report", "“UST” is not a submittal element"),
        ({"answered_yes": "4z"}, "answered_yes", "“4z” is not a Business Activities question"),
        # A field that is no yes/no question (the business name).
        ({"answered_yes": "3"}, "answered_yes", "“3” is not a Business Activities question"),
    ],
)
def test_an_unknown_value_is_said_not_ignored(cast, client, params, field, message):
    client.force_login(cast.cupa_reviewer)
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert f'href="#id_{field}"' in page  # the error summary links to the field
    assert 'aria-invalid="true"' in page
    assert response.context["page"] is None  # no list pretending to be filtered
    download = client.get(EXPORT_URL, params)
    assert download.status_code == 400
    assert message in download.content.decode()


def test_the_filter_narrows_the_agencys_scope_never_widens_it(cast, client, sites):
    other = make_facility(cast.other_org, name="Yolo UST site", zip_code="95616", city="Davis")
    FacilityRegulator.objects.filter(facility=other, element=E.UST).update(
        reporting_requirement=ReportingRequirement.APPLICABLE
    )
    # The Yolo CUPA: its own facility only, none of Sacramento's.
    client.force_login(cast.cupa2_reviewer)
    assert listed(client.get(LIST_URL, {"must_report": str(int(E.UST))})) == {other.cers_id}
    ids = csv_ids(client.get(EXPORT_URL, {"must_report": str(int(E.UST))}))
    assert ids == [str(other.cers_id)]
    # The PA handles UST in Sacramento: the Sacramento facilities that must report it.
    client.force_login(cast.pa_viewer)
    response = client.get(LIST_URL, {"must_report": str(int(E.UST))})
    assert listed(response) == {sites[name].cers_id for name in ("answered", "set", "refused")}
    # Facility Information, which every facility reports: still only the PA's facilities.
    response = client.get(LIST_URL, {"must_report": str(int(E.FACILITY_INFORMATION))})
    assert other.cers_id not in listed(response)
    assert cast.facility_yolo.cers_id not in listed(response)
    assert cast.facility.cers_id in listed(response)
    # A business user has no regulator list, filtered or not.
    client.force_login(cast.lead)
    assert client.get(LIST_URL, {"must_report": "1"}).status_code == 403


def test_the_filtered_list_issues_the_same_queries_for_10_or_1000(
    cast, client, django_assert_num_queries
):
    url = LIST_URL + f"?must_report={int(E.UST)}&answered_yes=5"
    bulk_facilities([cast.org], 10, cast.cupa)
    FacilityRegulator.objects.filter(element=E.UST).update(
        reporting_requirement=ReportingRequirement.APPLICABLE
    )
    client.force_login(cast.cupa_reviewer)
    client.get(url)
    with_10 = queries_for(client, url)
    bulk_facilities([cast.org], 990, cast.cupa)
    FacilityRegulator.objects.filter(element=E.UST).update(
        reporting_requirement=ReportingRequirement.APPLICABLE
    )
    assert queries_for(client, url) == with_10
    with django_assert_num_queries(REGULATOR_LIST_QUERIES):
        client.get(LIST_URL + f"?must_report={int(E.UST)}&page=2")
