"""A business's Lead Users keep their facilities up: correct the name and address, close a
facility, and ask its regulator to transfer it to another organization."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import AuditEvent, OutboundEmail
from facilities import services
from facilities.models import (
    Facility,
    FacilityClosure,
    FacilityTransfer,
    FacilityTransferRequest,
)
from submittals import services as submittals
from submittals.models import FacilitySubmittal
from tests import factories


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _edit(actor, facility, **changes):
    fields = {
        "name": facility.name,
        "street": facility.street,
        "city": facility.city,
        "zip_code": facility.zip_code,
        "county": facility.county,
    }
    return services.edit_facility(actor=actor, facility=facility, **(fields | changes))


# --- Editing ---------------------------------------------------------------------------


def test_a_lead_user_edits_the_name_and_address(cast):
    facility = _edit(cast.lead, cast.facility, name="Acme North Depot", street="9 River Road")
    facility.refresh_from_db()
    assert (facility.name, facility.street) == ("Acme North Depot", "9 River Road")
    assert facility.address_key == services.address_key("9 River Rd", "Sacramento", "95814")
    event = AuditEvent.objects.get(action="facility.edited", object_id=str(facility.pk))
    assert event.before == {"name": "Acme Sacramento Depot", "street": cast.facility.street}
    assert event.after == {"name": "Acme North Depot", "street": "9 River Road"}


def test_keeping_its_own_address_is_no_duplicate(cast):
    facility = _edit(cast.lead, cast.facility, name="Renamed", street=cast.facility.street.upper())
    assert facility.name == "Renamed"


def test_an_address_of_the_same_organization_is_refused_naming_it(cast):
    yolo = cast.facility_yolo
    with pytest.raises(ValidationError) as refused:
        _edit(cast.lead, cast.facility, street=yolo.street, city=yolo.city, zip_code="95616")
    # Another CUPA serves 95616: the jurisdiction refusal comes first.
    assert "outside the jurisdiction" in str(refused.value)
    sibling = services.create_facility(
        actor=cast.lead,
        organization=cast.org,
        name="Acme Annex",
        street="12 Annex Lane",
        city="Sacramento",
        zip_code="95814",
    )
    with pytest.raises(ValidationError) as refused:
        _edit(cast.lead, cast.facility, street="12 Annex Ln")
    assert f"Acme Annex (CERS ID {sibling.cers_id})" in str(refused.value)


def test_another_organizations_address_is_refused_as_add_facility_tells_it(cast):
    """The same rule as adding: the other organization's facility is given by CERS ID only,
    to ask to join it, never by name."""
    theirs = services.create_facility(
        actor=cast.outsider,
        organization=cast.other_org,
        name="Secret Other Co Depot",
        street="77 Hidden Way",
        city="Sacramento",
        zip_code="95814",
    )
    with pytest.raises(ValidationError) as refused:
        _edit(cast.lead, cast.facility, street="77 Hidden Way")
    message = str(refused.value)
    assert f"CERS ID {theirs.cers_id}" in message and "another organization" in message
    assert "Secret Other Co Depot" not in message and "Other Co" not in message
    with pytest.raises(ValidationError) as added:
        services.create_facility(
            actor=cast.lead,
            organization=cast.org,
            name="X",
            street="77 Hidden Way",
            city="Sacramento",
            zip_code="95814",
        )
    assert added.value.messages == refused.value.messages
    cast.facility.refresh_from_db()
    assert cast.facility.street != "77 Hidden Way"


def test_the_edit_page_shows_the_duplicate_on_the_form(cast, client):
    services.create_facility(
        actor=cast.outsider,
        organization=cast.other_org,
        name="Secret Other Co Depot",
        street="77 Hidden Way",
        city="Sacramento",
        zip_code="95814",
    )
    client.force_login(cast.lead)
    url = reverse("business:facility_edit", args=[cast.facility.cers_id])
    page = client.get(url)
    assert page.context["form"].initial["name"] == "Acme Sacramento Depot"
    response = client.post(
        url,
        {"name": "Acme", "street": "77 Hidden Way", "city": "Sacramento", "zip_code": "95814"},
    )
    assert response.status_code == 200
    assert "another organization" in response.content.decode()
    assert "Secret Other Co Depot" not in response.content.decode()


def test_a_zip_code_of_another_cupa_is_refused(cast):
    with pytest.raises(ValidationError) as refused:
        _edit(cast.lead, cast.facility, zip_code="95616")
    assert "zip_code" in refused.value.message_dict


@pytest.mark.parametrize("persona", ["approver", "editor", "viewer"])
def test_only_lead_users_edit(cast, persona):
    with pytest.raises(PermissionDenied):
        _edit(getattr(cast, persona), cast.facility, name="Nope")


def test_the_edit_page_answers_403_to_an_editor_and_404_to_an_outsider(cast, client):
    url = reverse("business:facility_edit", args=[cast.facility.cers_id])
    data = {"name": "Nope", "street": "1 A St", "city": "Sacramento", "zip_code": "95814"}
    client.force_login(cast.editor)
    assert client.post(url, data).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, data).status_code == 404
    cast.facility.refresh_from_db()
    assert cast.facility.name == "Acme Sacramento Depot"


# --- Closing ---------------------------------------------------------------------------


def _submit_facility_information(cast, facility):
    from tests.submittals.data import answer_required_documents, complete_facility_information

    record = submittals.start_draft(actor=cast.editor, facility=facility, element=1)
    record = submittals.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    answer_required_documents(cast.editor, record)
    return submittals.submit(
        actor=cast.approver,
        facility=facility,
        elements=[record],
        certifier_name="Bob Approver",
        certifier_title="Manager",
    )


def test_closing_tells_every_regulator_and_keeps_the_history(cast, client):
    cast.cupa.email = "desk@sac-cupa.example"
    cast.cupa.save()
    pa_admin = factories.make_user("admin@sac-pa.example")
    factories.add_staff(cast.pa, pa_admin, "administrator")
    group = _submit_facility_information(cast, cast.facility)
    OutboundEmail.objects.all().delete()

    client.force_login(cast.lead)
    response = client.post(
        reverse("business:facility_close", args=[cast.facility.cers_id]),
        {"reason": "Site sold for housing"},
    )
    assert response.status_code == 302
    facility = Facility.objects.get(pk=cast.facility.pk)
    assert facility.is_closed and facility.closed_reason == "Site sold for housing"

    # Each agency regulating an element: the CUPA at its contact address, the PA (no
    # address) at its administrators'.
    sent = {tuple(m.to): m for m in OutboundEmail.objects.all()}
    assert set(sent) == {("desk@sac-cupa.example",), ("admin@sac-pa.example",)}
    body = sent[("desk@sac-cupa.example",)].body
    assert str(facility.cers_id) in body and "Site sold for housing" in body
    assert AuditEvent.objects.filter(action="facility.closed", object_id=str(facility.pk)).exists()

    # Kept in history: the facility and its submittals are still shown, marked closed.
    detail = client.get(reverse("business:facility", args=[facility.cers_id]))
    assert detail.status_code == 200 and "no longer reports" in detail.content.decode()
    assert FacilitySubmittal.objects.filter(pk=group.pk).exists()
    history = client.get(reverse("business:submittals", args=[facility.cers_id]))
    assert list(history.context["page"]) == [group]
    listing = client.get(reverse("business:facilities"))
    assert "(closed " in listing.content.decode()
    client.force_login(cast.cupa_reviewer)
    assert client.get(reverse("regulator:facility", args=[facility.cers_id])).status_code == 200


def test_a_closed_facility_is_not_overdue_and_no_longer_reports(cast):
    assert Facility.objects.filter(pk=cast.facility.pk).overdue().exists()
    services.close_facility(actor=cast.lead, facility=cast.facility, reason="Closed")
    assert not Facility.objects.filter(pk=cast.facility.pk).overdue().exists()
    assert not Facility.objects.filter(pk=cast.facility.pk).reporting().exists()
    assert Facility.objects.filter(pk=cast.facility_yolo.pk).overdue().exists()
    with pytest.raises(ValidationError, match="no longer reports"):
        submittals.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    with pytest.raises(ValidationError, match="closed"):
        _edit(cast.lead, cast.facility, name="Again")
    with pytest.raises(ValidationError, match="closed"):
        services.close_facility(actor=cast.lead, facility=cast.facility, reason="Twice")


def test_a_draft_of_a_closed_facility_cannot_be_submitted(cast):
    from tests.submittals.data import answer_required_documents, complete_facility_information

    record = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    record = submittals.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    answer_required_documents(cast.editor, record)
    services.close_facility(actor=cast.lead, facility=cast.facility, reason="Closed")
    with pytest.raises(ValidationError, match="no longer reports"):
        submittals.submit(
            actor=cast.approver,
            facility=cast.facility,
            elements=[record],
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )


def test_the_regulators_overdue_list_leaves_closed_facilities_out(cast, client):
    services.close_facility(actor=cast.lead, facility=cast.facility, reason="Closed")
    client.force_login(cast.cupa_reviewer)
    overdue = client.get(reverse("regulator:facilities") + "?overdue=1")
    assert cast.facility not in list(overdue.context["page"])


@pytest.mark.parametrize("persona", ["approver", "editor", "viewer"])
def test_only_lead_users_close(cast, persona):
    with pytest.raises(PermissionDenied):
        services.close_facility(actor=getattr(cast, persona), facility=cast.facility, reason="x")
    assert not OutboundEmail.objects.filter(subject__contains="was closed").exists()


def test_closing_needs_a_reason(cast):
    with pytest.raises(ValidationError):
        services.close_facility(actor=cast.lead, facility=cast.facility, reason="  ")
    cast.facility.refresh_from_db()
    assert not cast.facility.is_closed


def test_the_close_page_answers_403_to_an_editor_and_404_to_an_outsider(cast, client):
    url = reverse("business:facility_close", args=[cast.facility.cers_id])
    client.force_login(cast.editor)
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, {"reason": "x"}).status_code == 404
    cast.facility.refresh_from_db()
    assert not cast.facility.is_closed


# --- Asking for a transfer -------------------------------------------------------------


def test_a_transfer_request_reaches_the_regulator_and_the_move_completes_it(
    cast, client, cupa_admin
):
    client.force_login(cast.lead)
    response = client.post(
        reverse("business:facility_transfer_request", args=[cast.facility.cers_id]),
        {"to_organization_code": cast.other_org.code, "reason": "Sold to Other Co"},
    )
    assert response.status_code == 302
    transfer_request = FacilityTransferRequest.objects.get(facility=cast.facility)
    assert transfer_request.is_pending
    assert AuditEvent.objects.filter(action="facility.transfer_requested").exists()
    detail = client.get(reverse("business:facility", args=[cast.facility.cers_id]))
    assert "Waiting for the regulator" in detail.content.decode()

    # The CUPA's staff see it waiting; a CUPA elsewhere does not.
    client.force_login(cupa_admin)
    listed = client.get(reverse("regulator:facility_transfer_requests"))
    assert list(listed.context["page"]) == [transfer_request]
    move_url = reverse("regulator:facility_move", args=[cast.facility.cers_id])
    assert f"{move_url}?request={transfer_request.pk}" in listed.content.decode()
    client.force_login(cast.cupa2_reviewer)
    assert list(client.get(reverse("regulator:facility_transfer_requests")).context["page"]) == []

    # The move page starts from it, prefilled; the request stands for the letter.
    client.force_login(cupa_admin)
    page = client.get(f"{move_url}?request={transfer_request.pk}")
    assert page.context["form"].initial == {
        "request": transfer_request.pk,
        "organization_code": cast.other_org.code,
        "reason": "Sold to Other Co",
    }
    moved = client.post(
        move_url,
        {
            "request": transfer_request.pk,
            "organization_code": cast.other_org.code,
            "reason": "Sold to Other Co",
        },
    )
    assert moved.status_code == 302
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.other_org
    transfer_request.refresh_from_db()
    assert not transfer_request.is_pending
    assert transfer_request.status == FacilityTransferRequest.Status.DONE
    assert transfer_request.answered_by == cupa_admin
    assert transfer_request.transfer == FacilityTransfer.objects.get(facility=cast.facility)
    assert list(client.get(reverse("regulator:facility_transfer_requests")).context["page"]) == []
    done = client.get(reverse("regulator:facility_transfer_requests"), {"status": "done"})
    assert list(done.context["page"]) == [transfer_request]
    assert "Done: the facility was moved" in done.content.decode()


def test_a_move_without_a_request_still_needs_the_letter(cast, client, cupa_admin):
    client.force_login(cupa_admin)
    response = client.post(
        reverse("regulator:facility_move", args=[cast.facility.cers_id]),
        {"organization_code": cast.other_org.code, "reason": "Sold"},
    )
    assert response.status_code == 200 and response.context["form"].errors["letter"]
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.org


def test_a_request_of_another_facility_does_not_open_the_move_page(cast, client, cupa_admin):
    other = services.request_transfer(
        actor=cast.lead, facility=cast.facility_yolo, to_organization_code=1, reason="Sold"
    )
    client.force_login(cupa_admin)
    url = reverse("regulator:facility_move", args=[cast.facility.cers_id])
    assert client.get(f"{url}?request={other.pk}").status_code == 404


def test_one_pending_request_per_facility_and_not_to_its_own_organization(cast):
    with pytest.raises(ValidationError):
        services.request_transfer(
            actor=cast.lead, facility=cast.facility, to_organization_code=cast.org.code, reason="x"
        )
    services.request_transfer(
        actor=cast.lead, facility=cast.facility, to_organization_code=999, reason="Sold"
    )
    with pytest.raises(ValidationError, match="already requested"):
        services.request_transfer(
            actor=cast.lead, facility=cast.facility, to_organization_code=998, reason="Sold"
        )


@pytest.mark.parametrize("persona", ["approver", "editor", "viewer", "outsider"])
def test_only_the_lead_users_of_its_organization_ask_for_a_transfer(cast, persona):
    with pytest.raises(PermissionDenied):
        services.request_transfer(
            actor=getattr(cast, persona), facility=cast.facility, to_organization_code=9, reason="x"
        )
    assert not FacilityTransferRequest.objects.exists()


def test_the_transfer_request_page_answers_403_to_an_editor_and_404_to_an_outsider(cast, client):
    url = reverse("business:facility_transfer_request", args=[cast.facility.cers_id])
    data = {"to_organization_code": cast.other_org.code, "reason": "x"}
    client.force_login(cast.editor)
    assert client.post(url, data).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, data).status_code == 404
    assert not FacilityTransferRequest.objects.exists()


# --- Withdrawing and declining a transfer request ---------------------------------------

REQUESTS_URL = reverse("regulator:facility_transfer_requests")


def _request(cast, facility=None):
    return services.request_transfer(
        actor=cast.lead,
        facility=facility or cast.facility,
        to_organization_code=cast.other_org.code,
        reason="Sold to Other Co",
    )


def _withdraw_url(transfer_request):
    return reverse(
        "business:facility_transfer_request_withdraw",
        args=[transfer_request.facility.cers_id, transfer_request.pk],
    )


def _decline_url(transfer_request):
    return reverse("regulator:facility_transfer_request_decline", args=[transfer_request.pk])


def test_the_business_withdraws_its_pending_request_and_may_ask_again(cast, client, cupa_admin):
    transfer_request = _request(cast)
    client.force_login(cast.lead)
    detail = client.get(reverse("business:facility", args=[cast.facility.cers_id]))
    assert _withdraw_url(transfer_request) in detail.content.decode()
    assert client.post(_withdraw_url(transfer_request)).status_code == 302
    transfer_request.refresh_from_db()
    assert transfer_request.status == FacilityTransferRequest.Status.WITHDRAWN
    assert transfer_request.answered_by == cast.lead and transfer_request.answered_at
    event = AuditEvent.objects.get(action="facility.transfer_request_withdrawn")
    assert event.organization == cast.org and event.after["request"] == transfer_request.pk
    # Shown as withdrawn to the business; no longer waiting for the regulator.
    detail = client.get(reverse("business:facility", args=[cast.facility.cers_id]))
    assert "Withdrawn by the business" in detail.content.decode()
    assert _withdraw_url(transfer_request) not in detail.content.decode()
    client.force_login(cupa_admin)
    assert list(client.get(REQUESTS_URL).context["page"]) == []
    withdrawn = client.get(REQUESTS_URL, {"status": "withdrawn"})
    assert list(withdrawn.context["page"]) == [transfer_request]
    move_url = reverse("regulator:facility_move", args=[cast.facility.cers_id])
    assert client.get(f"{move_url}?request={transfer_request.pk}").status_code == 404
    assert client.get(_decline_url(transfer_request)).status_code == 404
    # Answered once: not withdrawn twice; the business may ask again.
    with pytest.raises(ValidationError, match="already answered"):
        services.withdraw_transfer_request(actor=cast.lead, transfer_request=transfer_request)
    assert _request(cast).is_pending


@pytest.mark.parametrize("persona", ["approver", "editor", "viewer", "outsider"])
def test_only_those_who_may_ask_withdraw(cast, persona):
    transfer_request = _request(cast)
    with pytest.raises(PermissionDenied):
        services.withdraw_transfer_request(
            actor=getattr(cast, persona), transfer_request=transfer_request
        )
    transfer_request.refresh_from_db()
    assert transfer_request.is_pending


def test_withdrawing_answers_403_to_a_viewer_and_404_to_another_organization(cast, client):
    transfer_request = _request(cast)
    client.force_login(cast.viewer)
    assert client.post(_withdraw_url(transfer_request)).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(_withdraw_url(transfer_request)).status_code == 404
    # A request named under another facility of the organization is not found either.
    client.force_login(cast.lead)
    wrong = reverse(
        "business:facility_transfer_request_withdraw",
        args=[cast.facility_yolo.cers_id, transfer_request.pk],
    )
    assert client.post(wrong).status_code == 404
    transfer_request.refresh_from_db()
    assert transfer_request.is_pending


def test_the_regulator_declines_with_a_reason_the_business_is_told(cast, client, cupa_admin):
    transfer_request = _request(cast)
    OutboundEmail.objects.all().delete()
    client.force_login(cupa_admin)
    listed = client.get(REQUESTS_URL)
    assert _decline_url(transfer_request) in listed.content.decode()
    page = client.get(_decline_url(transfer_request))
    assert page.status_code == 200 and "Sold to Other Co" in page.content.decode()
    # A reason is needed.
    refused = client.post(_decline_url(transfer_request), {"reason": " "})
    assert refused.status_code == 200 and refused.context["form"].errors
    response = client.post(_decline_url(transfer_request), {"reason": "No letter of the buyer"})
    assert response.status_code == 302
    transfer_request.refresh_from_db()
    assert transfer_request.status == FacilityTransferRequest.Status.DECLINED
    assert transfer_request.answer == "No letter of the buyer"
    assert transfer_request.answered_by == cupa_admin
    event = AuditEvent.objects.get(action="facility.transfer_request_declined")
    assert event.regulator == cast.cupa and event.organization == cast.org
    assert event.after["reason"] == "No letter of the buyer"
    # The organization's Lead Users and Approvers, one e-mail each; nobody else.
    sent = {m.to[0]: m for m in OutboundEmail.objects.all()}
    assert set(sent) == {cast.lead.email, cast.approver.email}
    body = sent[cast.lead.email].body
    assert "No letter of the buyer" in body and str(cast.facility.cers_id) in body
    assert cast.cupa.name in body
    # The facility stays; the business sees the answer.
    cast.facility.refresh_from_db()
    assert cast.facility.organization == cast.org
    client.force_login(cast.lead)
    detail = client.get(reverse("business:facility", args=[cast.facility.cers_id]))
    assert "Declined by the regulator" in detail.content.decode()
    assert "No letter of the buyer" in detail.content.decode()
    with pytest.raises(ValidationError, match="already answered"):
        services.withdraw_transfer_request(actor=cast.lead, transfer_request=transfer_request)


def test_only_the_facilitys_cupa_administrators_decline(cast, client, cupa_admin):
    transfer_request = _request(cast)
    # A reviewer of the CUPA sees the request but does not answer it.
    client.force_login(cast.cupa_reviewer)
    assert client.get(_decline_url(transfer_request)).status_code == 403
    assert client.post(_decline_url(transfer_request), {"reason": "No"}).status_code == 403
    # Another agency does not find it.
    yolo_admin = factories.make_user("admin@yolo-cupa.example")
    factories.add_staff(cast.cupa2, yolo_admin, "administrator")
    client.force_login(yolo_admin)
    assert client.post(_decline_url(transfer_request), {"reason": "No"}).status_code == 404
    # The PA's administrator sees the facility, but its CUPA answers for it.
    pa_admin = factories.make_user("admin@sac-pa.example")
    factories.add_staff(cast.pa, pa_admin, "administrator")
    client.force_login(pa_admin)
    assert client.post(_decline_url(transfer_request), {"reason": "No"}).status_code == 403
    for actor in (cast.cupa_reviewer, yolo_admin, pa_admin, cast.lead):
        with pytest.raises(PermissionDenied):
            services.decline_transfer_request(
                actor=actor, transfer_request=transfer_request, reason="No"
            )
    transfer_request.refresh_from_db()
    assert transfer_request.is_pending
    # The state administrator may.
    services.decline_transfer_request(
        actor=cast.state_admin,
        transfer_request=transfer_request,
        reason="Not for us",
        regulator=cast.state,
    )
    transfer_request.refresh_from_db()
    assert transfer_request.status == FacilityTransferRequest.Status.DECLINED


# --- Reopening a closed facility -------------------------------------------------------


def _close(cast, facility=None):
    return services.close_facility(
        actor=cast.lead, facility=facility or cast.facility, reason="Site sold for housing"
    )


def test_the_lead_user_reopens_it_reports_again_and_the_regulators_are_told(cast, client):
    cast.cupa.email = "desk@sac-cupa.example"
    cast.cupa.save()
    pa_admin = factories.make_user("admin@sac-pa.example")
    factories.add_staff(cast.pa, pa_admin, "administrator")
    _close(cast)
    OutboundEmail.objects.all().delete()
    client.force_login(cast.lead)
    detail = client.get(reverse("business:facility", args=[cast.facility.cers_id]))
    url = reverse("business:facility_reopen", args=[cast.facility.cers_id])
    assert url in detail.content.decode()
    assert client.post(url, {"reason": "Bought back"}).status_code == 302

    facility = Facility.objects.get(pk=cast.facility.pk)
    assert not facility.is_closed and facility.closed_reason == ""
    # It reports again: overdue again, drafts may be started.
    assert Facility.objects.filter(pk=facility.pk).reporting().overdue().exists()
    submittals.start_draft(actor=cast.editor, facility=facility, element=1)
    # The regulators are told (not the business, who did it).
    sent = {tuple(m.to): m for m in OutboundEmail.objects.all()}
    assert set(sent) == {("desk@sac-cupa.example",), ("admin@sac-pa.example",)}
    body = sent[("desk@sac-cupa.example",)].body
    assert "Bought back" in body and str(facility.cers_id) in body and "reopened" in body
    event = AuditEvent.objects.get(action="facility.reopened", object_id=str(facility.pk))
    assert event.before["reason"] == "Site sold for housing"
    assert event.after == {"closed_at": None, "reason": "Bought back"}
    assert event.regulator is None
    # The closing is kept as history, with its reopening, on both sides.
    [closure] = FacilityClosure.objects.filter(facility=facility)
    assert (closure.reason, closure.closed_by) == ("Site sold for housing", cast.lead)
    assert (closure.reopen_reason, closure.reopened_by) == ("Bought back", cast.lead)
    detail = client.get(reverse("business:facility", args=[facility.cers_id])).content.decode()
    assert "Site sold for housing" in detail and "Bought back" in detail
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:facility", args=[facility.cers_id])).content.decode()
    assert "Site sold for housing" in page and "Bought back" in page


def test_closing_again_keeps_each_closing(cast):
    _close(cast)
    services.reopen_facility(actor=cast.lead, facility=cast.facility, reason="Bought back")
    services.close_facility(actor=cast.lead, facility=cast.facility, reason="Sold again")
    closures = list(FacilityClosure.objects.filter(facility=cast.facility))
    assert [c.reason for c in closures] == ["Sold again", "Site sold for housing"]
    assert [c.reopen_reason for c in closures] == ["", "Bought back"]
    cast.facility.refresh_from_db()
    assert cast.facility.is_closed and cast.facility.closed_reason == "Sold again"


def test_the_regulator_reopens_it_and_the_business_is_told(cast, client, cupa_admin):
    pa_admin = factories.make_user("admin@sac-pa.example")
    factories.add_staff(cast.pa, pa_admin, "administrator")
    _close(cast)
    OutboundEmail.objects.all().delete()
    client.force_login(cupa_admin)
    detail = client.get(reverse("regulator:facility", args=[cast.facility.cers_id]))
    url = reverse("regulator:facility_reopen", args=[cast.facility.cers_id])
    assert url in detail.content.decode()
    assert client.post(url, {"reason": "Inspection found it operating"}).status_code == 302
    cast.facility.refresh_from_db()
    assert not cast.facility.is_closed
    event = AuditEvent.objects.get(action="facility.reopened")
    assert event.regulator == cast.cupa and event.actor == cupa_admin
    # The business's Lead Users and Approvers, and the other regulator (the PA); not the CUPA.
    sent = {m.to[0]: m for m in OutboundEmail.objects.all()}
    assert set(sent) == {cast.lead.email, cast.approver.email, "admin@sac-pa.example"}
    assert "Inspection found it operating" in sent[cast.lead.email].body
    assert cast.cupa.name in sent[cast.lead.email].body


def test_reopening_needs_a_closed_facility_and_a_reason(cast):
    with pytest.raises(ValidationError, match="not closed"):
        services.reopen_facility(actor=cast.lead, facility=cast.facility, reason="Why")
    _close(cast)
    with pytest.raises(ValidationError):
        services.reopen_facility(actor=cast.lead, facility=cast.facility, reason=" ")
    cast.facility.refresh_from_db()
    assert cast.facility.is_closed


@pytest.mark.parametrize("persona", ["approver", "editor", "viewer", "outsider", "cupa_reviewer"])
def test_only_lead_users_and_regulating_administrators_reopen(cast, persona):
    _close(cast)
    with pytest.raises(PermissionDenied):
        services.reopen_facility(actor=getattr(cast, persona), facility=cast.facility, reason="x")
    cast.facility.refresh_from_db()
    assert cast.facility.is_closed


def test_an_administrator_of_an_agency_elsewhere_cannot_reopen(cast, client):
    _close(cast)
    yolo_admin = factories.make_user("admin@yolo-cupa.example")
    factories.add_staff(cast.cupa2, yolo_admin, "administrator")
    with pytest.raises(PermissionDenied):
        services.reopen_facility(actor=yolo_admin, facility=cast.facility, reason="x")
    client.force_login(yolo_admin)
    url = reverse("regulator:facility_reopen", args=[cast.facility.cers_id])
    assert client.post(url, {"reason": "x"}).status_code == 404
    # The state administrator may, anywhere.
    services.reopen_facility(actor=cast.state_admin, facility=cast.facility, reason="Operating")
    cast.facility.refresh_from_db()
    assert not cast.facility.is_closed


def test_the_reopen_pages_answer_403_and_404(cast, client):
    _close(cast)
    business_url = reverse("business:facility_reopen", args=[cast.facility.cers_id])
    client.force_login(cast.editor)
    assert client.post(business_url, {"reason": "x"}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(business_url, {"reason": "x"}).status_code == 404
    client.force_login(cast.cupa_reviewer)
    regulator_url = reverse("regulator:facility_reopen", args=[cast.facility.cers_id])
    assert client.post(regulator_url, {"reason": "x"}).status_code == 403
    cast.facility.refresh_from_db()
    assert cast.facility.is_closed


@pytest.mark.parametrize("number", ["9223372036854775808", "99999999999999999999999"])
def test_a_transfer_to_a_code_past_any_organizations_is_a_form_error(cast, client, number):
    with pytest.raises(ValidationError) as refused:
        services.request_transfer(
            actor=cast.lead, facility=cast.facility, to_organization_code=int(number), reason="x"
        )
    assert "No organization has code" in refused.value.message_dict["to_organization_code"][0]
    client.force_login(cast.lead)
    response = client.post(
        reverse("business:facility_transfer_request", args=[cast.facility.cers_id]),
        {"to_organization_code": number, "reason": "Sold"},
    )
    assert response.status_code == 200
    assert "No organization has code" in response.content.decode()
