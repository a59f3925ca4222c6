"""The regulator portal's review queue and review page.

The cast's facility is in ZIP 95814: the Sacramento County CUPA (cupa_reviewer) handles every
element except element 4 (UST), which the City PA handles (pa_viewer is a viewer there).
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.elements import SubmittalElement
from core.models import AuditEvent
from submittals import services
from submittals.inventory import add_material, update_material
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from tests.factories import add_staff
from tests.submittals.data import (
    answer_required_documents,
    complete_data,
    complete_facility_information,
)

FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
UST = SubmittalElement.UST

QUEUE_URL = reverse("regulator:review_queue")
# Session, user, staff memberships, the user's grants (``core.scoping.grants``), whether the
# user reviews at the agency (the bulk action's checkboxes: the role's permissions, two
# queries), the scoped count, and the page with its facilities, organizations and submitters.
REVIEW_QUEUE_QUERIES = 8
DATA = {
    FI: complete_facility_information(**{"4": "Y"}),
    HMI: {"rows": [{"x": 1}]},  # nested data; the materials are rows (DIESEL)
    UST: complete_data(SubmittalElement.UST),
}
DIESEL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a"}


def draft(cast, element, data=None):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=element)
    record = services.save_draft_data(
        actor=cast.editor, record=record, data=DATA[element] if data is None else data
    )
    if element == HMI:
        add_material(actor=cast.editor, record=record, values=DIESEL)
    return answer_required_documents(cast.editor, record)


def submit(cast, *records):
    services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=list(records),
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    return [SubmittalElementRecord.objects.get(pk=record.pk) for record in records]


def submit_facility_information(cast, times: int, data=None):
    """``times`` Facility Information elements of the cast's facility, each submitted."""
    return [submit(cast, draft(cast, FI, data))[0] for _ in range(times)]


@pytest.fixture
def submitted(cast):
    """Facility Information and inventory (routed to the CUPA) and UST (routed to the PA)."""
    return submit(cast, draft(cast, FI), draft(cast, HMI), draft(cast, UST))


def review_url(record):
    return reverse("regulator:review", args=[record.pk])


def listed(response) -> set[int]:
    return {record.pk for record in response.context["page"]}


def reload(record):
    return SubmittalElementRecord.objects.get(pk=record.pk)


# --- the queue -------------------------------------------------------------------------------


def test_the_cupa_reviewer_sees_the_elements_routed_to_it_awaiting_action(cast, client, submitted):
    facility_info, inventory, _ust = submitted
    draft(cast, FI)  # a draft is nobody's to review

    client.force_login(cast.cupa_reviewer)
    response = client.get(QUEUE_URL)

    assert response.status_code == 200
    assert listed(response) == {facility_info.pk, inventory.pk}
    page = response.content.decode()
    assert str(cast.facility.cers_id) in page
    assert "Acme Sacramento Depot" in page
    assert "Acme Fuels" in page
    assert "Hazardous Materials Inventory" in page
    assert "Bob Approver" in page
    assert review_url(inventory) in page


def test_the_queue_leaves_out_reviewed_elements_unless_asked(cast, client, submitted):
    facility_info, inventory, _ust = submitted
    services.review(actor=cast.cupa_reviewer, record=facility_info, status=ElementStatus.ACCEPTED)
    services.review(actor=cast.cupa_reviewer, record=inventory, status=ElementStatus.UNDER_REVIEW)
    client.force_login(cast.cupa_reviewer)

    assert listed(client.get(QUEUE_URL)) == {inventory.pk}
    accepted = client.get(QUEUE_URL, {"status": int(ElementStatus.ACCEPTED)})
    assert listed(accepted) == {facility_info.pk}
    assert "Accepted" in accepted.content.decode()
    under_review = client.get(QUEUE_URL, {"status": int(ElementStatus.UNDER_REVIEW)})
    assert listed(under_review) == {inventory.pk}
    assert listed(client.get(QUEUE_URL, {"status": "any"})) == {facility_info.pk, inventory.pk}


def test_the_queue_filters_by_element(cast, client, submitted):
    facility_info, inventory, _ust = submitted
    client.force_login(cast.cupa_reviewer)
    assert listed(client.get(QUEUE_URL, {"element": int(HMI)})) == {inventory.pk}
    assert listed(client.get(QUEUE_URL, {"element": int(FI)})) == {facility_info.pk}


def test_the_queue_filters_by_facility_and_submitted_date(cast, client, submitted):
    facility_info, inventory, _ust = submitted
    client.force_login(cast.cupa_reviewer)
    today = timezone.localdate()

    assert listed(client.get(QUEUE_URL, {"facility": "sacramento depot"})) == {
        facility_info.pk,
        inventory.pk,
    }
    assert listed(client.get(QUEUE_URL, {"facility": str(cast.facility.cers_id)})) == {
        facility_info.pk,
        inventory.pk,
    }
    assert listed(client.get(QUEUE_URL, {"facility": "davis yard"})) == set()
    assert len(listed(client.get(QUEUE_URL, {"submitted_from": today, "submitted_to": today})))
    tomorrow = today + timedelta(days=1)
    assert listed(client.get(QUEUE_URL, {"submitted_from": tomorrow})) == set()
    assert listed(client.get(QUEUE_URL, {"submitted_to": today - timedelta(days=1)})) == set()


def test_the_queue_pages_beyond_25_keeping_its_filters(cast, client):
    records = submit_facility_information(cast, 27)
    client.force_login(cast.cupa_reviewer)

    first = client.get(QUEUE_URL, {"element": int(FI)})
    assert first.context["page"].paginator.count == 27
    assert len(first.context["page"]) == 25
    assert "page=2" in first.content.decode()
    assert f"element={int(FI)}" in first.content.decode()

    second = client.get(QUEUE_URL, {"element": int(FI), "page": 2})
    assert listed(second) == {records[-2].pk, records[-1].pk}  # oldest first


def test_the_queue_issues_the_same_queries_for_3_or_30_elements(
    cast, client, django_assert_num_queries
):
    submit_facility_information(cast, 3)
    client.force_login(cast.cupa_reviewer)
    client.get(QUEUE_URL)  # the first request settles the session

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE_URL)
        assert response.status_code == 200
        return len(captured)

    with_3 = queries()
    submit_facility_information(cast, 27)
    assert queries() == with_3
    with django_assert_num_queries(REVIEW_QUEUE_QUERIES):
        client.get(QUEUE_URL, {"status": "any", "page": 2})


def test_the_pa_viewer_sees_only_the_element_routed_to_the_pa(cast, client, submitted):
    _facility_info, _inventory, ust = submitted
    client.force_login(cast.pa_viewer)
    assert listed(client.get(QUEUE_URL)) == {ust.pk}


def test_another_cupa_sees_none_of_them_and_the_state_sees_all(cast, client, submitted):
    client.force_login(cast.cupa2_reviewer)
    assert listed(client.get(QUEUE_URL)) == set()

    client.force_login(cast.state_admin)
    assert listed(client.get(QUEUE_URL)) == {record.pk for record in submitted}


@pytest.mark.parametrize("persona", ["lead", "approver", "editor", "viewer", "outsider"])
def test_business_users_are_not_regulator_staff(cast, client, submitted, persona):
    client.force_login(getattr(cast, persona))
    assert client.get(QUEUE_URL).status_code == 403
    assert client.get(review_url(submitted[0])).status_code == 403
    response = client.post(review_url(submitted[0]), {"status": int(ElementStatus.ACCEPTED)})
    assert response.status_code == 403
    assert reload(submitted[0]).status == ElementStatus.SUBMITTED


def test_anonymous_users_are_sent_to_sign_in(cast, client, submitted):
    assert client.get(QUEUE_URL).status_code == 302
    assert client.get(review_url(submitted[0])).status_code == 302


# --- the review page -------------------------------------------------------------------------


def test_the_review_page_shows_the_element_and_its_data_through_the_registry(
    cast, client, submitted
):
    facility_info = submitted[0]
    client.force_login(cast.cupa_reviewer)

    response = client.get(review_url(facility_info))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Facility Information" in page
    assert str(cast.facility.cers_id) in page
    assert "Acme Fuels" in page
    assert "Bob Approver, Site Manager" in page  # the certifier
    assert "CERS portal" in page  # the submittal type
    # Fields in words as the business form has them, the number small and after them.
    assert '<dt>Business name at this facility <span class="field-number">CERS field 3</span>' in (
        page
    )
    assert (
        "<dt>Are hazardous materials on site at or above the reporting amounts? "
        '<span class="field-number">CERS field 4</span></dt>'
    ) in page
    assert "Business name (3)" not in page and "<dt>HM on site" not in page
    assert "Yes (Y)" in page  # a code shown with its label
    assert "first submitted Facility Information" in page
    assert response.context["form"] is not None
    assert 'id="documents"' in page  # the document slots, answered or not


def test_the_cupa_reviewer_accepts_and_rejects_and_the_business_sees_it(cast, client, submitted):
    facility_info, inventory, _ust = submitted
    client.force_login(cast.cupa_reviewer)

    accepted = client.post(review_url(facility_info), {"status": int(ElementStatus.ACCEPTED)})
    assert accepted.status_code == 302
    rejected = client.post(
        review_url(inventory),
        {"status": int(ElementStatus.NOT_ACCEPTED), "comments": "The site map is missing."},
    )
    assert rejected.status_code == 302

    seen_by_business = SubmittalElementRecord.objects.for_user(cast.lead, "view")
    facility_info = seen_by_business.get(pk=facility_info.pk)
    inventory = seen_by_business.get(pk=inventory.pk)
    assert facility_info.status == ElementStatus.ACCEPTED
    assert facility_info.action_by == cast.cupa_reviewer
    assert inventory.status == ElementStatus.NOT_ACCEPTED
    assert inventory.action_comments == "The site map is missing."
    assert inventory.action_agent_email == "reviewer@sac-cupa.example"

    page = client.get(review_url(inventory)).content.decode()
    assert "marked Not Accepted" in page  # the confirmation message
    assert "The site map is missing." in page  # the actions so far
    assert listed(client.get(QUEUE_URL)) == set()


def test_not_accepted_without_comments_shows_the_message_and_changes_nothing(
    cast, client, submitted
):
    inventory = submitted[1]
    client.force_login(cast.cupa_reviewer)

    response = client.post(
        review_url(inventory), {"status": int(ElementStatus.NOT_ACCEPTED), "comments": "  "}
    )

    assert response.status_code == 200
    assert "Say why the element is not accepted" in response.content.decode()
    assert response.context["form"].errors["comments"]
    assert reload(inventory).status == ElementStatus.SUBMITTED
    assert reload(inventory).action_at is None
    assert not AuditEvent.objects.filter(action="submittal.reviewed").exists()


def test_a_status_a_regulator_cannot_set_is_refused(cast, client, submitted):
    client.force_login(cast.cupa_reviewer)
    response = client.post(review_url(submitted[0]), {"status": int(ElementStatus.DRAFT)})
    assert response.status_code == 200
    assert response.context["form"].errors["status"]
    assert reload(submitted[0]).status == ElementStatus.SUBMITTED


def test_the_pa_viewer_gets_404_on_the_cupas_elements(cast, client, submitted):
    facility_info, inventory, _ust = submitted
    client.force_login(cast.pa_viewer)
    assert client.get(review_url(facility_info)).status_code == 404
    assert client.get(review_url(inventory)).status_code == 404
    response = client.post(review_url(inventory), {"status": int(ElementStatus.ACCEPTED)})
    assert response.status_code == 404


def test_the_pa_viewer_reads_the_ust_element_but_may_not_review_it(cast, client, submitted):
    ust = submitted[2]
    client.force_login(cast.pa_viewer)

    response = client.get(review_url(ust))
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "Record action" not in response.content.decode()

    refused = client.post(review_url(ust), {"status": int(ElementStatus.ACCEPTED)})
    assert refused.status_code == 403
    assert reload(ust).status == ElementStatus.SUBMITTED


def test_the_cupa_gets_404_on_the_element_routed_to_the_pa(cast, client, submitted):
    client.force_login(cast.cupa_reviewer)
    assert client.get(review_url(submitted[2])).status_code == 404


def test_another_cupa_gets_404_on_the_facilitys_elements(cast, client, submitted):
    client.force_login(cast.cupa2_reviewer)
    for record in submitted:
        assert client.get(review_url(record)).status_code == 404
    response = client.post(review_url(submitted[0]), {"status": int(ElementStatus.ACCEPTED)})
    assert response.status_code == 404
    assert reload(submitted[0]).status == ElementStatus.SUBMITTED


def test_staff_of_two_agencies_see_only_the_agency_they_work_for_now(cast, client, submitted):
    facility_info = submitted[0]
    add_staff(cast.cupa2, cast.cupa_reviewer, "reviewer")
    client.force_login(cast.cupa_reviewer)

    client.post(reverse("regulator:switch_agency"), {"regulator": cast.cupa2.pk})
    assert listed(client.get(QUEUE_URL)) == set()
    assert client.get(review_url(facility_info)).status_code == 404
    response = client.post(review_url(facility_info), {"status": int(ElementStatus.ACCEPTED)})
    assert response.status_code == 404
    assert reload(facility_info).status == ElementStatus.SUBMITTED

    client.post(reverse("regulator:switch_agency"), {"regulator": cast.cupa.pk})
    assert facility_info.pk in listed(client.get(QUEUE_URL))
    assert client.get(review_url(facility_info)).status_code == 200


def test_a_business_member_who_is_also_state_staff_sees_no_draft_there(cast, client):
    record = draft(cast, FI)  # the lead's organization's draft
    add_staff(cast.state, cast.lead, "reviewer")
    client.force_login(cast.lead)
    assert listed(client.get(QUEUE_URL, {"status": "any"})) == set()
    assert client.get(review_url(record)).status_code == 404


def test_a_draft_answers_404_even_to_the_state(cast, client):
    record = draft(cast, FI)
    client.force_login(cast.state_admin)
    assert client.get(review_url(record)).status_code == 404


def test_the_state_admin_sees_and_may_review_any_element(cast, client, submitted):
    ust = submitted[2]
    client.force_login(cast.state_admin)
    for record in submitted:
        assert client.get(review_url(record)).status_code == 200
    response = client.post(review_url(ust), {"status": int(ElementStatus.NOT_APPLICABLE)})
    assert response.status_code == 302
    assert reload(ust).status == ElementStatus.NOT_APPLICABLE


def test_the_changes_since_the_previous_submittal_are_listed(cast, client):
    [first] = submit_facility_information(cast, 1)
    services.review(actor=cast.cupa_reviewer, record=first, status=ElementStatus.ACCEPTED)
    [second] = submit_facility_information(
        cast,
        1,
        data=complete_facility_information(
            **{"3": "Acme Depot North", "4": "Y", "2": "CAD000000001"}
        ),
    )
    client.force_login(cast.cupa_reviewer)

    response = client.get(review_url(second))

    changes = {(c.kind, c.label, c.number, c.old, c.new) for c in response.context["changes"]}
    assert changes == {
        (
            "changed",
            "Business name at this facility",
            "3",
            "Acme Sacramento Depot",
            "Acme Depot North",
        ),
        ("added", "EPA ID number", "2", "", "CAD000000001"),
    }
    assert response.context["previous"] == first
    page = response.content.decode()
    assert "Acme Sacramento Depot" in page
    assert "Acme Depot North" in page

    unchanged = client.get(review_url(first))
    assert unchanged.context["previous"] is None


def test_nested_rows_are_compared_as_json(cast, client):
    first_fi, first_hmi = submit(cast, draft(cast, FI), draft(cast, HMI))
    services.review(actor=cast.cupa_reviewer, record=first_hmi, status=ElementStatus.ACCEPTED)
    same_fi, second_hmi = submit(cast, draft(cast, FI), draft(cast, HMI, {"rows": [{"x": 2}]}))
    client.force_login(cast.cupa_reviewer)

    [change] = client.get(review_url(second_hmi)).context["changes"]
    assert (change.kind, change.label, change.block) == ("changed", "Rows", True)
    assert '"x": 1' in change.old
    assert '"x": 2' in change.new
    assert client.get(review_url(same_fi)).context["changes"] == []
    assert first_fi.pk != same_fi.pk


def test_a_changed_material_shows_among_the_changes(cast, client):
    first_fi, first_hmi = submit(cast, draft(cast, FI), draft(cast, HMI))
    services.review(actor=cast.cupa_reviewer, record=first_hmi, status=ElementStatus.ACCEPTED)
    second = draft(cast, HMI, {})
    material = second.materials.get()
    update_material(
        actor=cast.editor, material=material, values={**DIESEL, "218": "750"}, components=[]
    )
    _fi, second_hmi = submit(cast, draft(cast, FI), second)
    client.force_login(cast.cupa_reviewer)

    changes = client.get(review_url(second_hmi)).context["changes"]

    [change] = [c for c in changes if c.label == "Materials"]
    assert change.kind == "changed"
    assert '"218": "500"' in change.old
    assert '"218": "750"' in change.new


def test_pages_show_a_submittal_whose_submitter_account_is_gone(cast, client, submitted):
    """Deleting an account leaves its submittals without a submitter (SET_NULL): every page that
    names the submitter still answers, with a dash."""
    facility_info = submitted[0]
    SubmittalElementRecord.objects.filter(
        facility_submittal_id=facility_info.facility_submittal_id
    ).update(submitted_by=None, created_by=None)
    FacilitySubmittal.objects.filter(pk=facility_info.facility_submittal_id).update(
        submitted_by=None, created_by=None
    )

    client.force_login(cast.cupa_reviewer)
    for url in (QUEUE_URL, review_url(facility_info)):
        assert client.get(url).status_code == 200, url

    client.force_login(cast.lead)
    for url in (
        reverse("business:element", args=[facility_info.pk]),
        reverse("business:submittal_receipt", args=[facility_info.facility_submittal_id]),
        reverse("business:submittals", args=[cast.facility.cers_id]),
    ):
        assert client.get(url).status_code == 200, url


def test_the_reviewer_sees_the_warnings_the_business_submitted_anyway(cast, client):
    """A Warning across elements (Business Activities answered Yes for underground tanks,
    no UST element submitted) let the Facility Information through; its reviewer sees it."""
    facility_info = draft(cast, FI, complete_facility_information(**{"5": "Y"}))
    [facility_info] = submit(cast, facility_info)
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:review", args=[facility_info.pk]))
    page = response.content.decode()
    assert 'data-rule="FI-5-E4"' in page
    assert "Underground Storage Tanks element is expected" in page
    levels = [label for _, label, _ in response.context["validation"]]
    assert levels == ["Warning"]


def test_a_warning_about_another_element_stays_on_that_elements_page(cast, client):
    facility_info = draft(cast, FI, complete_facility_information(**{"4": "Y"}))
    inventory_record = draft(cast, HMI)
    facility_info, inventory_record = submit(cast, facility_info, inventory_record)
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:review", args=[inventory_record.pk])).content.decode()
    assert "FI-4-E" not in page


def test_the_review_form_sits_in_the_panel_beside_the_data(cast, client, submitted):
    record = submitted[0]
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:review", args=[record.pk])).content.decode()
    layout = page.index('class="review-layout"')
    data = page.index('id="data"')
    panel = page.index('<aside class="review-panel"')
    form = page.index(f'action="{reverse("regulator:review", args=[record.pk])}"')
    assert layout < data < panel < form


def test_the_review_page_shows_a_groups_rows_in_words_with_code_labels(cast, client, submitted):
    _fi, _inventory, ust = submitted
    ust.data["USTTanks/USTTank"][0]["440"] = "03"  # Tank contents: diesel
    SubmittalElementRecord.objects.filter(pk=ust.pk).update(data=ust.data)
    client.force_login(cast.pa_viewer)  # the PA handles UST

    page = client.get(review_url(ust)).content.decode()

    # A field of the element: in words, the number small, the code with its label.
    assert re.search(
        r'<dt>Type of action <span class="field-number">CERS field 400</span></dt>\s*'
        r"<dd>New permit \(1\)</dd>",
        page,
    )
    # The tanks: each row in its sections, not JSON.
    assert re.search(r"<summary>[A-Z][^<]* 1</summary>", page)
    assert '"440"' not in page and "<pre>" not in page
    assert (
        '<dt>Tank contents <span class="field-number">CERS field 440</span></dt>'
        "<dd>Diesel (03)</dd>"
    ) in page
