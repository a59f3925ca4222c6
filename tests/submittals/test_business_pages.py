"""The business portal's submittal pages: history, drafts, the registry-driven element form,
submit with certification, and the receipt.

Element 1's field 3 is the business name (a string of at most 70 characters) and field 4
"hazardous materials on site" (code Y or N); the element form names them ``f_3`` and ``f_4``
and the draft's data keeps them under "3" and "4".
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.elements import SubmittalElement
from core.registry import field
from core.views import ORGANIZATION_SESSION_KEY
from submittals import services
from submittals.inventory import add_material
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from tests.factories import add_member
from tests.submittals.data import answer_required_documents, complete_facility_information

FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
BUSINESS_NAME = field(FI, "3")
HM_ON_SITE = field(FI, "4")
ACME = complete_facility_information(**{"3": "Acme Depot"})
DIESEL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a"}


def submittals_url(facility):
    return reverse("business:submittals", args=[facility.cers_id])


def start_url(facility):
    return reverse("business:draft_start", args=[facility.cers_id])


def submit_url(facility):
    return reverse("business:submit", args=[facility.cers_id])


def element_url(record):
    return reverse("business:element", args=[record.pk])


def reload(record):
    return SubmittalElementRecord.objects.get(pk=record.pk)


def draft(cast, element, data=None):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=element)
    if data is not None:
        record = services.save_draft_data(actor=cast.editor, record=record, data=data)
    return record


def listed_inventory(cast):
    """An inventory draft listing one material, added through the inventory service."""
    record = draft(cast, HMI)
    add_material(actor=cast.editor, record=record, values=DIESEL)
    answer_required_documents(cast.editor, record)  # the site map: stored at the facility
    return reload(record)


def submitted_pair(cast):
    """Facility Information and an inventory, submitted by the approver."""
    records = [draft(cast, FI, ACME), listed_inventory(cast)]
    services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=records,
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    return [reload(record) for record in records]


def certified(*records, **extra):
    return {
        "elements": [record.pk for record in records],
        "certifier_name": "Bob Approver",
        "certifier_title": "Site Manager",
        "comments": "Annual update.",
        "certify": "on",
        **extra,
    }


def page_text(response) -> str:
    return response.content.decode()


# --- drafts ----------------------------------------------------------------------------------


def test_the_editor_starts_drafts_and_saves_a_field(cast, client):
    client.force_login(cast.editor)
    response = client.post(start_url(cast.facility), {"element": FI})
    facility_info = SubmittalElementRecord.objects.get(facility=cast.facility, element=FI)
    assert response.status_code == 302
    assert response.url == element_url(facility_info)
    assert facility_info.is_draft

    response = client.post(start_url(cast.facility), {"element": HMI, "from_last_accepted": "on"})
    inventory = SubmittalElementRecord.objects.get(facility=cast.facility, element=HMI)
    assert response.url == element_url(inventory)
    # Nothing accepted yet: the draft starts empty and the page says so.
    follow = client.get(response.url)
    assert "no accepted Hazardous Materials Inventory" in page_text(follow)

    page = page_text(client.get(element_url(facility_info)))
    # The label in words, the data-dictionary number apart and small (issue 16).
    assert "Business name at this facility" in page
    assert f"CERS field {BUSINESS_NAME.number}<" in page
    assert 'name="f_3"' in page

    response = client.post(element_url(facility_info), {"f_3": "Acme Depot", "f_4": "Y"})
    assert response.status_code == 302
    assert reload(facility_info).data == {"3": "Acme Depot", "4": "Y"}
    page = page_text(client.get(element_url(facility_info)))
    assert "Facility Information draft saved." in page
    assert 'value="Acme Depot"' in page
    # Yes / No questions are radio buttons (issue 16).
    assert 'value="Y" class="yes-no"' in page
    assert re.search(r'<input type="radio" name="f_4" value="Y"[^>]* checked>', page)


def test_saving_keeps_the_data_the_form_does_not_show(cast, client):
    facility_info = draft(cast, FI, {"3": "Before", "business_activities": {"x": True}})
    inventory = listed_inventory(cast)
    client.force_login(cast.editor)
    client.post(element_url(facility_info), {"f_3": "After"})
    assert reload(facility_info).data == {"3": "After", "business_activities": {"x": True}}
    client.post(element_url(inventory), {})
    assert reload(inventory).materials.get().common_name == "Diesel"


def test_clearing_a_value_removes_it(cast, client):
    facility_info = draft(cast, FI, {"3": "Before", "4": "N"})
    client.force_login(cast.editor)
    client.post(element_url(facility_info), {"f_3": "", "f_4": "N"})
    assert reload(facility_info).data == {"4": "N"}


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"f_3": "x" * 71}, "Business name: at most 70 characters (now 71)."),
        ({"f_3": "Fine name", "f_4": "Maybe"}, "HM on site: choose one of Y (Yes), N (No)."),
    ],
)
def test_an_invalid_value_shows_the_fields_message_and_saves_nothing(cast, client, posted, message):
    facility_info = draft(cast, FI, {"3": "Before"})
    client.force_login(cast.editor)
    response = client.post(element_url(facility_info), posted)
    assert response.status_code == 200
    assert message in page_text(response)
    assert reload(facility_info).data == {"3": "Before"}


def test_the_editor_discards_a_draft(cast, client):
    facility_info = draft(cast, FI)
    client.force_login(cast.editor)
    response = client.post(reverse("business:draft_discard", args=[facility_info.pk]))
    assert response.status_code == 302
    assert response.url == submittals_url(cast.facility)
    assert not SubmittalElementRecord.objects.filter(pk=facility_info.pk).exists()


def test_the_element_page_shows_validation_messages_by_level(cast, client):
    inventory = draft(cast, HMI)
    client.force_login(cast.editor)
    client.post(element_url(inventory), {})  # guidance shows from the first save (issue 16)
    page = page_text(client.get(element_url(inventory)))
    assert "Required" in page
    assert "inventory_empty" in page
    assert "The inventory lists no hazardous materials." in page
    assert "facility_information_missing" in page


# --- submit ----------------------------------------------------------------------------------


def test_the_editor_cannot_open_or_post_the_submit_page(cast, client):
    records = [draft(cast, FI), listed_inventory(cast)]
    client.force_login(cast.editor)
    assert client.get(submit_url(cast.facility)).status_code == 403
    assert client.post(submit_url(cast.facility), certified(*records)).status_code == 403
    assert all(reload(record).is_draft for record in records)


def test_the_approver_certifies_and_submits_and_gets_the_receipt(cast, client):
    facility_info = draft(cast, FI, ACME)
    inventory = listed_inventory(cast)
    client.force_login(cast.approver)

    page = page_text(client.get(submit_url(cast.facility)))
    assert "I certify under penalty of law" in page
    assert 'value="Bob Approver"' in page  # prefilled from the user's name

    response = client.post(submit_url(cast.facility), certified(facility_info, inventory))
    group = FacilitySubmittal.objects.get(status=FacilitySubmittal.Status.SUBMITTED)
    assert response.status_code == 302
    assert response.url == reverse("business:submittal_receipt", args=[group.pk])
    assert (group.certifier_name, group.submitter_comments) == ("Bob Approver", "Annual update.")
    for record in (facility_info, inventory):
        assert reload(record).status == ElementStatus.SUBMITTED

    receipt = page_text(client.get(response.url))
    assert str(cast.facility.cers_id) in receipt
    assert cast.facility.name in receipt
    assert "Hazardous Materials Inventory" in receipt
    assert cast.cupa.name in receipt
    assert "Bob Approver, Site Manager" in receipt


def test_submitting_needs_the_certification_ticked(cast, client):
    records = [draft(cast, FI), listed_inventory(cast)]
    client.force_login(cast.approver)
    data = certified(*records)
    del data["certify"]
    response = client.post(submit_url(cast.facility), data)
    assert response.status_code == 200
    assert "Tick the certification statement to submit." in page_text(response)
    assert all(reload(record).is_draft for record in records)


def test_a_required_message_shows_on_the_submit_page_and_blocks_the_submit(cast, client):
    records = [draft(cast, FI), draft(cast, HMI)]  # the inventory lists no material
    client.force_login(cast.approver)
    page = page_text(client.get(submit_url(cast.facility)))
    assert "inventory_empty" in page
    assert "The inventory lists no hazardous materials." in page

    response = client.post(submit_url(cast.facility), certified(*records))
    assert response.status_code == 200
    assert "The inventory lists no hazardous materials." in page_text(response)
    assert all(reload(record).is_draft for record in records)
    assert not FacilitySubmittal.objects.filter(status=FacilitySubmittal.Status.SUBMITTED).exists()


# --- submitted elements ----------------------------------------------------------------------


def test_a_submitted_element_is_read_only(cast, client):
    facility_info, _inventory = submitted_pair(cast)
    client.force_login(cast.approver)
    page = page_text(client.get(element_url(facility_info)))
    assert "Acme Depot" in page
    assert 'name="f_3"' not in page
    assert "Discard draft" not in page

    response = client.post(element_url(facility_info), {"f_3": "Changed"})
    assert response.status_code == 302
    assert "can no longer be changed" in page_text(client.get(response.url))
    assert reload(facility_info).data == ACME

    response = client.post(reverse("business:draft_discard", args=[facility_info.pk]))
    assert response.status_code == 302
    assert reload(facility_info).status == ElementStatus.SUBMITTED


def test_the_history_shows_the_regulators_action(cast, client):
    facility_info, inventory = submitted_pair(cast)
    services.review(
        actor=cast.cupa_reviewer,
        record=inventory,
        status=ElementStatus.NOT_ACCEPTED,
        comments="The site map is missing.",
    )
    client.force_login(cast.viewer)
    page = page_text(client.get(submittals_url(cast.facility)))
    assert "Not Accepted" in page
    assert "The site map is missing." in page
    assert element_url(facility_info) in page


# --- who sees what ---------------------------------------------------------------------------


def test_the_viewer_sees_the_history_but_no_start_or_submit_controls(cast, client):
    submitted_pair(cast)
    draft(cast, FI)
    client.force_login(cast.viewer)
    response = client.get(submittals_url(cast.facility))
    page = page_text(response)
    assert response.status_code == 200
    assert len(response.context["page"]) == 1
    assert "Start draft" not in page
    assert start_url(cast.facility) not in page
    assert submit_url(cast.facility) not in page
    assert client.post(start_url(cast.facility), {"element": HMI}).status_code == 403
    assert client.get(submit_url(cast.facility)).status_code == 403


def test_the_viewer_sees_a_draft_read_only(cast, client):
    facility_info = draft(cast, FI, ACME)
    client.force_login(cast.viewer)
    page = page_text(client.get(element_url(facility_info)))
    assert "Acme Depot" in page
    assert 'name="f_3"' not in page
    assert "Discard draft" not in page
    assert client.post(element_url(facility_info), {"f_3": "Changed"}).status_code == 403
    assert reload(facility_info).data == ACME


def test_the_editor_and_lead_see_the_start_controls(cast, client):
    """Starting from the last accepted is offered for the elements that have one."""
    for persona in (cast.editor, cast.lead):
        client.force_login(persona)
        page = page_text(client.get(submittals_url(cast.facility)))
        assert start_url(cast.facility) in page
        assert "Start from the last accepted" not in page  # nothing accepted yet
    facility_info, _inventory = submitted_pair(cast)
    services.review(
        actor=cast.cupa_reviewer, record=facility_info, status=ElementStatus.ACCEPTED, comments=""
    )
    client.force_login(cast.editor)
    page = page_text(client.get(submittals_url(cast.facility)))
    offered = re.findall(r"Start from the last accepted<span[^>]*> ([^<]+)</span>", page)
    assert offered == [FI.label]


def test_an_outsider_gets_404_on_every_page_of_another_organization(cast, client):
    facility_info, _inventory = submitted_pair(cast)
    group = reload(facility_info).facility_submittal
    a_draft = draft(cast, HMI)
    client.force_login(cast.outsider)
    for method, url in [
        ("get", submittals_url(cast.facility)),
        ("post", start_url(cast.facility)),
        ("get", submit_url(cast.facility)),
        ("post", submit_url(cast.facility)),
        ("get", element_url(facility_info)),
        ("post", element_url(a_draft)),
        ("get", reverse("business:submittal_receipt", args=[group.pk])),
        ("post", reverse("business:draft_discard", args=[a_draft.pk])),
    ]:
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert reload(a_draft).is_draft


def test_a_member_of_two_organizations_sees_only_the_current_ones_elements(cast, client):
    theirs = services.start_draft(actor=cast.outsider, facility=cast.other_facility, element=FI)
    add_member(cast.other_org, cast.editor, "editor")
    client.force_login(cast.editor)
    session = client.session
    session[ORGANIZATION_SESSION_KEY] = cast.org.pk
    session.save()
    assert client.get(element_url(theirs)).status_code == 404
    assert client.post(start_url(cast.other_facility), {"element": FI}).status_code == 404
    # Opening the other organization's facility moves the user there first.
    assert client.get(submittals_url(cast.other_facility)).url == submittals_url(
        cast.other_facility
    )
    assert client.session[ORGANIZATION_SESSION_KEY] == cast.other_org.pk


@pytest.mark.parametrize("persona", ["cupa_reviewer", "pa_viewer", "state_admin", None])
def test_people_without_an_organization_are_sent_away(cast, client, persona):
    facility_info, _inventory = submitted_pair(cast)
    if persona:
        client.force_login(getattr(cast, persona))
    response = client.get(element_url(facility_info))
    assert response.status_code == 302
    expected = reverse("business:start") if persona else reverse("accounts:login")
    assert response.url.startswith(expected)


# --- query counts ----------------------------------------------------------------------------


# Session, user, memberships, the user's grants (``core.scoping.grants``), the facility, its
# drafts, the two permission lookups (user and group) that decide the start and submit
# controls, whether anything was accepted (the "certify no changes" link), the history's
# count, its page, and the page's elements with their regulators and submitters.
HISTORY_QUERIES = 12


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_history_issues_the_same_queries_for_1_or_5_submittals(
    cast, client, django_assert_num_queries
):
    def submit_one():
        records = [draft(cast, FI, ACME), listed_inventory(cast)]
        services.submit(
            actor=cast.approver,
            facility=cast.facility,
            elements=records,
            certifier_name="Bob Approver",
            certifier_title="Site Manager",
        )

    url = submittals_url(cast.facility)
    submit_one()
    client.force_login(cast.lead)
    client.get(url)  # the first request settles the session
    with_1 = queries_for(client, url)
    for _ in range(4):
        submit_one()
    assert FacilitySubmittal.objects.filter(status="submitted").count() == 5
    assert queries_for(client, url) == with_1
    with django_assert_num_queries(HISTORY_QUERIES):
        client.get(url)


def test_the_regulators_own_keys_are_not_asked_of_the_business(cast, client):
    facility_info = draft(cast, FI)
    client.force_login(cast.editor)
    page = page_text(client.get(element_url(facility_info)))
    assert 'name="f_3"' in page  # a business field
    assert 'name="f_20_0050"' not in page  # Business Activities' regulator key
    assert 'name="f_20_0051"' not in page  # Owner/Operator's regulator key


def test_a_submit_committed_while_the_broker_is_down_answers_success(
    cast, client, monkeypatch, django_capture_on_commit_callbacks
):
    """Issue 17: the e-mails' enqueue fails after the submit committed; that is logged and the
    outbox sweep sends them later, so the business sees its receipt, not an error page."""
    from kombu.exceptions import OperationalError

    from core.models import OutboundEmail
    from core.tasks import send_outbound_emails

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(send_outbound_emails, "apply_async", broker_down)
    facility_info = draft(cast, FI, ACME)
    client.force_login(cast.approver)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(submit_url(cast.facility), certified(facility_info))

    assert response.status_code == 302
    group = FacilitySubmittal.objects.get(status=FacilitySubmittal.Status.SUBMITTED)
    assert response.url == reverse("business:submittal_receipt", args=[group.pk])
    assert reload(facility_info).status == ElementStatus.SUBMITTED
    assert callbacks  # the e-mails' enqueue ran and failed
    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.QUEUED).exists()
