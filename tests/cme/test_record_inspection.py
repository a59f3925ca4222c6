"""Recording an inspection from the CME pages: the facility found among the agency's
jurisdiction only, the program elements it regulates there only, and the violation type
picked from the library's types for the inspection's program element."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cme.models import Inspection, Violation
from cme.rules import recordable_program_elements
from tests import factories
from tests.cme.helpers import DAY, HMBP_TYPE, UST_TYPE, inspection

START = "regulator:cme_inspection_start"


def _start(client, user, query):
    client.force_login(user)
    return client.get(reverse(START), {"q": query})


def test_the_inspection_list_leads_to_recording_an_inspection(cast, client):
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:cme_inspections")).content.decode()
    assert reverse(START) in page
    assert "inspections/new/</code>" not in page  # no URL to type any more
    client.force_login(cast.pa_viewer)
    assert reverse(START) not in client.get(reverse("regulator:cme_inspections")).content.decode()


@pytest.mark.parametrize("query", ["depot", "acme sacramento"])
def test_a_facility_is_found_by_part_of_its_name(cast, client, query):
    response = _start(client, cast.cupa_reviewer, query)
    assert response.status_code == 200
    assert response.context["facilities"] == [cast.facility]
    create = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    assert create in response.content.decode()


def test_a_facility_is_found_by_its_cers_id(cast, client):
    response = _start(client, cast.cupa_reviewer, str(cast.facility.cers_id))
    assert response.context["facilities"] == [cast.facility]


def test_a_facility_outside_the_jurisdiction_is_not_offered(cast, client):
    # Acme Davis Yard and Other Co Plant are in Yolo County's jurisdiction, not Sacramento's.
    response = _start(client, cast.cupa_reviewer, "acme")
    assert response.context["facilities"] == [cast.facility]
    response = _start(client, cast.cupa_reviewer, str(cast.other_facility.cers_id))
    assert response.context["facilities"] == []
    assert "No facility in" in response.content.decode()
    # ... and Yolo County's reviewer finds its own, never Sacramento's.
    response = _start(client, cast.cupa2_reviewer, "acme")
    assert response.context["facilities"] == [cast.facility_yolo]
    create = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    assert client.get(create).status_code == 404


def test_staff_who_may_not_record_are_refused_the_search(cast, client):
    assert _start(client, cast.pa_viewer, "acme").status_code == 403
    assert _start(client, cast.lead, "acme").status_code == 403


def test_the_form_offers_only_the_program_elements_the_agency_regulates_there(cast, client):
    """cast.facility: the CUPA handles all but its UST, which the PA handles."""
    cupa = recordable_program_elements(cast.cupa, cast.facility)
    pa = recordable_program_elements(cast.pa, cast.facility)
    assert "a" in cupa and "c" not in cupa
    assert pa == ["c"]
    client.force_login(cast.cupa_reviewer)
    create = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    offered = [
        value
        for value, _ in client.get(create).context["form"].fields["program_element"].choices
        if value
    ]
    assert offered == cupa


def test_a_program_element_the_agency_does_not_regulate_is_refused_on_its_field(cast, client):
    client.force_login(cast.cupa_reviewer)
    create = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    response = client.post(
        create,
        {
            "program_element": "c",
            "inspection_type": "a",
            "occurred_on": "2024-05-01",
            "inspector_name": "Rita Reviewer",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["program_element"]
    assert not Inspection.objects.exists()


def test_editing_offers_the_same_program_elements(cast, client):
    record = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    edit = reverse("regulator:cme_inspection_edit", args=[record.pk])
    form = client.get(edit).context["form"]
    offered = [value for value, _ in form.fields["program_element"].choices if value]
    assert offered == recordable_program_elements(cast.cupa, cast.facility)
    response = client.post(
        edit,
        {
            "program_element": "c",
            "inspection_type": "a",
            "occurred_on": "2024-05-01",
            "inspector_name": "Rita Reviewer",
        },
    )
    assert response.status_code == 200
    record.refresh_from_db()
    assert record.program_element == "a"


def test_the_state_agency_may_record_any_program_element(cast):
    assert recordable_program_elements(cast.state, cast.facility) == list("abcdefghijk")


def test_the_violation_type_is_picked_from_the_types_of_the_program_element(cast, client):
    record = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:cme_inspection", args=[record.pk]))
    page = response.content.decode()
    offered = [t.type_number for t in response.context["violation_types"]]
    assert HMBP_TYPE in offered
    assert UST_TYPE not in offered  # a UST type does not fit a business plan inspection
    assert f'list="{response.context["violation_type_list_id"]}"' in page
    assert f'<option value="{HMBP_TYPE}">' in page


def test_a_type_chosen_with_its_name_is_recorded_by_its_number(cast, client):
    record = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        reverse("regulator:cme_violation_create", args=[record.pk]),
        {
            "type_number": f"{HMBP_TYPE} Failure to submit a business plan",
            "violation_class": "9",
            "occurred_on": DAY.isoformat(),
            "scheduled_rtc_on": DAY.isoformat(),
        },
    )
    assert response.status_code == 302
    assert Violation.objects.get().violation_type.type_number == HMBP_TYPE


def test_a_type_of_another_program_element_is_still_refused(cast, client):
    record = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        reverse("regulator:cme_violation_create", args=[record.pk]),
        {
            "type_number": UST_TYPE,
            "violation_class": "9",
            "occurred_on": DAY.isoformat(),
            "scheduled_rtc_on": DAY.isoformat(),
        },
    )
    assert response.status_code == 200
    assert response.context["violation_form"].errors["type_number"]
    assert not Violation.objects.exists()


def test_the_search_lists_at_most_a_page_of_facilities(cast, client):
    for number in range(27):
        factories.make_facility(cast.org, name=f"Acme Depot {number}", zip_code="95814")
    response = _start(client, cast.cupa_reviewer, "depot")
    assert len(response.context["facilities"]) == 25
    assert response.context["more"] is True


def _search_queries(client, cast, count):
    for number in range(count):
        factories.make_facility(cast.org, name=f"Depot {count}-{number}", zip_code="95814")
    client.force_login(cast.cupa_reviewer)
    client.get(reverse(START), {"q": f"depot {count}-"})  # the session settles first
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(START), {"q": f"depot {count}-"})
    assert len(response.context["facilities"]) == min(count, 25)
    return len(queries)


def test_the_search_query_count_does_not_grow(cast, client):
    assert _search_queries(client, cast, 3) == _search_queries(client, cast, 40)
