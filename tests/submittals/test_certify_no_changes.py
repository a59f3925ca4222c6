"""Certify no changes: the last accepted elements of a facility submitted again, unchanged,
with a new certification (``services.certify_no_changes``), for one facility or many."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.elements import SubmittalElement
from core.models import AuditEvent, OutboundEmail
from submittals import services
from submittals.inventory import add_material
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from tests.submittals.data import answer_required_documents, complete_facility_information

FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
DIESEL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a"}


def accepted_elements(cast, facility, name="Acme Sacramento Depot"):
    """Facility Information and an inventory submitted and accepted for ``facility``."""
    info = services.start_draft(actor=cast.editor, facility=facility, element=FI)
    info = services.save_draft_data(
        actor=cast.editor, record=info, data=complete_facility_information(**{"3": name})
    )
    inventory = services.start_draft(actor=cast.editor, facility=facility, element=HMI)
    add_material(actor=cast.editor, record=inventory, values=DIESEL)
    for record in (info, inventory):
        answer_required_documents(cast.editor, record)
    services.submit(
        actor=cast.approver,
        facility=facility,
        elements=[info, inventory],
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    reviewer = cast.cupa_reviewer if facility == cast.facility else cast.cupa2_reviewer
    for record in (info, inventory):
        services.review(
            actor=reviewer,
            record=SubmittalElementRecord.objects.get(pk=record.pk),
            status=ElementStatus.ACCEPTED,
        )
    return [SubmittalElementRecord.objects.get(pk=record.pk) for record in (info, inventory)]


def certify(cast, facilities, actor=None):
    return services.certify_no_changes(
        actor=actor or cast.approver,
        facilities=facilities,
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )


def test_one_facility_is_certified_unchanged_as_a_new_submittal(
    cast, django_capture_on_commit_callbacks, mailoutbox
):
    sources = accepted_elements(cast, cast.facility)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        [group] = certify(cast, [cast.facility])

    group.refresh_from_db()
    assert group.status == FacilitySubmittal.Status.SUBMITTED
    assert group.submitted_by == cast.approver
    assert (group.certifier_name, group.certifier_title) == ("Bob Approver", "Site Manager")
    copies = list(group.elements.order_by("element"))
    assert [copy.element for copy in copies] == [FI, HMI]
    for copy, source in zip(copies, sources, strict=True):
        assert copy.pk != source.pk
        assert copy.based_on_id == source.pk
        assert copy.data == source.data
        assert copy.status == ElementStatus.SUBMITTED
        assert copy.regulator == cast.cupa
    assert [m.common_name for m in copies[1].materials.all()] == ["Diesel"]
    assert copies[1].documents.count() == sources[1].documents.count()
    # The accepted elements themselves are untouched.
    assert all(
        SubmittalElementRecord.objects.get(pk=s.pk).status == ElementStatus.ACCEPTED
        for s in sources
    )
    [receipt] = mailoutbox
    assert receipt.to == ["approver@acme.example"]
    assert str(cast.facility.cers_id) in receipt.body
    assert AuditEvent.objects.filter(action="submittal.certified_no_changes").count() == 1


def test_many_facilities_each_get_their_own_submittal_and_receipt(cast):
    accepted_elements(cast, cast.facility)
    accepted_elements(cast, cast.facility_yolo, name="Acme Davis Yard")
    before = OutboundEmail.objects.count()

    groups = certify(cast, [cast.facility, cast.facility_yolo])

    assert len(groups) == 2
    assert {group.facility for group in groups} == {cast.facility, cast.facility_yolo}
    assert len({group.pk for group in groups}) == 2
    for group in groups:
        assert group.elements.count() == 2
        assert all(e.facility_id == group.facility_id for e in group.elements.all())
    yolo = next(group for group in groups if group.facility == cast.facility_yolo)
    assert {e.regulator for e in yolo.elements.all()} == {cast.cupa2}
    receipts = OutboundEmail.objects.order_by("pk")[before:]
    assert len(receipts) == 2
    assert {tuple(r.to) for r in receipts} == {("approver@acme.example",)}


def test_a_draft_in_progress_stays_a_draft(cast):
    accepted_elements(cast, cast.facility)
    draft = services.start_draft(
        actor=cast.editor, facility=cast.facility, element=HMI, from_last_accepted=True
    )

    certify(cast, [cast.facility])

    draft.refresh_from_db()
    assert draft.status == ElementStatus.DRAFT


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_viewers_and_editors_are_refused(cast, role):
    accepted_elements(cast, cast.facility)
    count = FacilitySubmittal.objects.count()

    with pytest.raises(PermissionDenied):
        certify(cast, [cast.facility], actor=getattr(cast, role))

    assert FacilitySubmittal.objects.count() == count


def test_another_organizations_facility_is_refused(cast):
    accepted_elements(cast, cast.facility)
    with pytest.raises(PermissionDenied):
        certify(cast, [cast.facility, cast.other_facility])
    assert not FacilitySubmittal.objects.filter(
        status=FacilitySubmittal.Status.SUBMITTED, elements__based_on__isnull=False
    ).exists()


def test_a_facility_with_nothing_accepted_refuses_the_whole_request(cast):
    accepted_elements(cast, cast.facility)
    count = SubmittalElementRecord.objects.count()

    with pytest.raises(ValidationError, match="no accepted submittal element"):
        certify(cast, [cast.facility, cast.facility_yolo])

    assert SubmittalElementRecord.objects.count() == count


def test_submitted_but_not_yet_accepted_is_not_enough(cast):
    info = services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    services.save_draft_data(actor=cast.editor, record=info, data=complete_facility_information())
    services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[info],
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    with pytest.raises(ValidationError, match="no accepted submittal element"):
        certify(cast, [cast.facility])


def test_a_newer_submittal_waiting_for_review_refuses_the_whole_request(cast):
    """An inventory submitted with changes after the accepted one, and not yet reviewed: to
    certify that nothing changed since the accepted one would submit the old inventory again
    as the newest. The request is refused, naming the facility and the element, and nothing
    is written; once the newer one is reviewed, it goes ahead."""
    accepted_elements(cast, cast.facility)
    accepted_elements(cast, cast.facility_yolo, name="Acme Davis Yard")
    info, changed = (
        services.start_draft(
            actor=cast.editor, facility=cast.facility, element=element, from_last_accepted=True
        )
        for element in (FI, HMI)
    )
    services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[info, changed],
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    services.review(
        actor=cast.cupa_reviewer,
        record=SubmittalElementRecord.objects.get(pk=info.pk),
        status=ElementStatus.ACCEPTED,
    )
    count = SubmittalElementRecord.objects.count()

    for status in (ElementStatus.SUBMITTED, ElementStatus.UNDER_REVIEW):
        if status == ElementStatus.UNDER_REVIEW:
            services.review(
                actor=cast.cupa_reviewer,
                record=SubmittalElementRecord.objects.get(pk=changed.pk),
                status=status,
            )
        with pytest.raises(ValidationError) as refused:
            certify(cast, [cast.facility_yolo, cast.facility])
        [message] = refused.value.messages
        assert "Acme Sacramento Depot" in message
        assert "Hazardous Materials Inventory" in message
        assert "Facility Information" not in message  # the newer one was accepted
        assert "waiting for review" in message
        assert SubmittalElementRecord.objects.count() == count

    # A certification waiting for review is itself newer than what it copied: not twice.
    services.review(
        actor=cast.cupa_reviewer,
        record=SubmittalElementRecord.objects.get(pk=changed.pk),
        status=ElementStatus.ACCEPTED,
    )
    [group] = certify(cast, [cast.facility])
    assert {copy.based_on_id for copy in group.elements.all()} == {info.pk, changed.pk}
    with pytest.raises(ValidationError, match="waiting for review"):
        certify(cast, [cast.facility])


def test_the_certifier_must_be_named(cast):
    accepted_elements(cast, cast.facility)
    with pytest.raises(ValidationError) as raised:
        services.certify_no_changes(
            actor=cast.approver, facilities=[cast.facility], certifier_name=" ", certifier_title=""
        )
    assert set(raised.value.message_dict) == {"certifier_name", "certifier_title"}


# --- the page: choose, review, certify once ---------------------------------------------------

URL = reverse("business:certify_no_changes")
CERTIFICATION = {
    "certifier_name": "Bob Approver",
    "certifier_title": "Site Manager",
    "certify": "on",
}


def test_the_facility_page_offers_certify_no_changes_once_something_is_accepted(cast, client):
    client.force_login(cast.approver)
    page = reverse("business:submittals", args=[cast.facility.cers_id])
    assert URL not in client.get(page).content.decode()
    accepted_elements(cast, cast.facility)
    assert f"{URL}?facility={cast.facility.cers_id}" in client.get(page).content.decode()
    client.force_login(cast.editor)
    assert URL not in client.get(page).content.decode()


def test_the_approver_chooses_reviews_and_certifies_many_facilities_at_once(cast, client):
    accepted_elements(cast, cast.facility)
    accepted_elements(cast, cast.facility_yolo, name="Acme Davis Yard")
    client.force_login(cast.approver)

    chosen = client.get(URL, {"facility": cast.facility.cers_id})
    assert chosen.status_code == 200
    assert chosen.context["form"]["facilities"].initial == [cast.facility]
    assert "Acme Davis Yard" in chosen.content.decode()

    ids = [cast.facility.cers_id, cast.facility_yolo.cers_id]
    review = client.post(URL, {"step": "review", "facilities": ids})
    assert review.status_code == 200
    assert review.context["step"] == "review"
    assert [f for f, _ in review.context["facilities"]] == [cast.facility_yolo, cast.facility]
    text = review.content.decode()
    for cers_id in ids:  # the choice travels to the certification as hidden fields
        assert f'type="hidden" name="facilities" value="{cers_id}"' in text
    assert 'name="step" value="certify"' in text
    assert not FacilitySubmittal.objects.filter(elements__based_on__isnull=False).exists()

    done = client.post(URL, {"step": "certify", "facilities": ids, **CERTIFICATION})
    assert done.status_code == 200
    assert done.context["step"] == "done"
    groups = done.context["submittals"]
    assert {g.facility for g in groups} == {cast.facility, cast.facility_yolo}
    for group in groups:
        assert reverse("business:submittal_receipt", args=[group.pk]) in done.content.decode()


def test_one_facility_goes_to_its_receipt(cast, client):
    accepted_elements(cast, cast.facility)
    client.force_login(cast.lead)
    response = client.post(
        URL, {"step": "certify", "facilities": [cast.facility.cers_id], **CERTIFICATION}
    )
    group = FacilitySubmittal.objects.filter(submitted_by=cast.lead).get()
    assert response.status_code == 302
    assert response.url == reverse("business:submittal_receipt", args=[group.pk])


def test_the_certification_must_be_ticked(cast, client):
    accepted_elements(cast, cast.facility)
    client.force_login(cast.approver)
    data = {"step": "certify", "facilities": [cast.facility.cers_id], **CERTIFICATION}
    del data["certify"]
    response = client.post(URL, data)
    assert response.status_code == 200
    assert "Tick the certification statement" in response.content.decode()
    assert not FacilitySubmittal.objects.filter(elements__based_on__isnull=False).exists()


def test_a_facility_without_anything_accepted_cannot_be_chosen(cast, client):
    accepted_elements(cast, cast.facility)
    client.force_login(cast.approver)
    response = client.post(
        URL,
        {"step": "certify", "facilities": [cast.facility_yolo.cers_id], **CERTIFICATION},
    )
    assert response.status_code == 200
    assert "has nothing accepted to certify" in response.content.decode()
    assert not FacilitySubmittal.objects.filter(elements__based_on__isnull=False).exists()


def test_another_organizations_facility_cannot_be_chosen(cast, client):
    accepted_elements(cast, cast.facility)
    client.force_login(cast.outsider)
    response = client.post(
        URL, {"step": "certify", "facilities": [cast.facility.cers_id], **CERTIFICATION}
    )
    assert response.status_code == 200
    assert "Acme Sacramento Depot" not in response.content.decode()
    assert not FacilitySubmittal.objects.filter(elements__based_on__isnull=False).exists()


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_viewers_and_editors_get_403(cast, client, role):
    accepted_elements(cast, cast.facility)
    client.force_login(getattr(cast, role))
    assert client.get(URL).status_code == 403
    response = client.post(
        URL, {"step": "certify", "facilities": [cast.facility.cers_id], **CERTIFICATION}
    )
    assert response.status_code == 403
    assert not FacilitySubmittal.objects.filter(elements__based_on__isnull=False).exists()


def test_a_closed_facility_is_neither_offered_nor_certified(cast, client):
    from facilities.services import close_facility

    accepted_elements(cast, cast.facility)
    accepted_elements(cast, cast.facility_yolo, name="Acme Davis Yard")
    close_facility(actor=cast.lead, facility=cast.facility, reason="Shut down")
    client.force_login(cast.approver)

    page = client.get(URL)
    assert list(page.context["form"].fields["facilities"].queryset) == [cast.facility_yolo]
    facility_page = reverse("business:submittals", args=[cast.facility.cers_id])
    assert URL not in client.get(facility_page).content.decode()
    posted = client.post(
        URL, {"step": "certify", "facilities": [cast.facility.cers_id], **CERTIFICATION}
    )
    assert posted.status_code == 200
    assert not FacilitySubmittal.objects.filter(elements__based_on__isnull=False).exists()
    with pytest.raises(ValidationError, match="no longer reports"):
        services.certify_no_changes(
            actor=cast.approver,
            facilities=[cast.facility],
            certifier_name="Bob Approver",
            certifier_title="Site Manager",
        )
