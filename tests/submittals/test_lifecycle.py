"""The submittal lifecycle through its services: draft -> submitted -> reviewed.

The cast's facility is in ZIP 95814: the Sacramento County CUPA handles every element except
element 4 (UST), which the City PA handles.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.elements import SubmittalElement
from core.models import AuditEvent, OutboundEmail
from facilities.models import FacilityRegulator
from regulators.services import set_staff_role
from submittals import services
from submittals.inventory import add_material, delete_material
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from submittals.validation import REQUIRED, validate_submittal
from tests import factories
from tests.submittals.data import (
    answer_required_documents,
    complete_data,
    complete_facility_information,
)

FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
UST = SubmittalElement.UST

DATA = {
    FI: complete_facility_information(),
    HMI: {},  # its materials are rows: see DIESEL
    UST: complete_data(SubmittalElement.UST),
}
DIESEL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a"}


def draft(cast, element, data=None):
    """A draft of ``element`` started and filled in by the editor; without ``data`` an
    inventory lists diesel."""
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=element)
    record = services.save_draft_data(
        actor=cast.editor, record=record, data=DATA[element] if data is None else data
    )
    if element == HMI and data is None:
        add_material(actor=cast.editor, record=record, values=DIESEL)
    if data is None:
        answer_required_documents(cast.editor, record)
    return record


def submit(cast, records, actor=None):
    return services.submit(
        actor=actor or cast.approver,
        facility=cast.facility,
        elements=records,
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )


def reload(record):
    return SubmittalElementRecord.objects.get(pk=record.pk)


def events(action, obj=None):
    found = AuditEvent.objects.filter(action=action)
    if obj is not None:
        found = found.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return found


@pytest.fixture
def submitted(cast):
    """Facility Information, inventory and UST submitted by the approver."""
    records = [draft(cast, FI), draft(cast, HMI), draft(cast, UST)]
    submit(cast, records)
    return [reload(record) for record in records]


# --- the journey -----------------------------------------------------------------------------


def test_editor_prepares_approver_submits_and_cupa_reviews(
    cast, django_capture_on_commit_callbacks, mailoutbox
):
    facility_info = draft(cast, FI)
    inventory = draft(cast, HMI)
    assert reload(inventory).materials.get().common_name == "Diesel"

    with pytest.raises(PermissionDenied):
        submit(cast, [facility_info, inventory], actor=cast.editor)
    assert reload(inventory).status == ElementStatus.DRAFT

    with django_capture_on_commit_callbacks(execute=True):
        group = services.submit(
            actor=cast.approver,
            facility=cast.facility,
            elements=[facility_info, inventory],
            certifier_name="Bob Approver",
            certifier_title="Site Manager",
            comments="Annual update.",
        )

    group.refresh_from_db()
    assert group.status == FacilitySubmittal.Status.SUBMITTED
    assert (group.submitted_by, group.certifier_name, group.certifier_title) == (
        cast.approver,
        "Bob Approver",
        "Site Manager",
    )
    for record in (facility_info, inventory):
        record = reload(record)
        assert record.status == ElementStatus.SUBMITTED
        assert record.regulator == cast.cupa
        assert record.submitted_by == cast.approver
        assert record.submitted_at == group.submitted_at
    assert events("submittal.submitted", group).get().actor == cast.approver
    assert events("submittal.element_submitted").count() == 2

    [receipt] = mailoutbox
    assert receipt.to == ["approver@acme.example"]
    assert str(cast.facility.cers_id) in receipt.subject
    assert "Facility Information: Sacramento County CUPA" in receipt.body
    assert "Hazardous Materials Inventory: Sacramento County CUPA" in receipt.body
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.review(
            actor=cast.cupa_reviewer, record=facility_info, status=ElementStatus.ACCEPTED
        )
        services.review(
            actor=cast.cupa_reviewer,
            record=inventory,
            status=ElementStatus.NOT_ACCEPTED,
            comments="The site map is missing.",
        )

    facility_info, inventory = reload(facility_info), reload(inventory)
    assert facility_info.status == ElementStatus.ACCEPTED
    assert inventory.status == ElementStatus.NOT_ACCEPTED
    assert inventory.action_comments == "The site map is missing."
    assert inventory.action_by == cast.cupa_reviewer
    assert inventory.action_agent_email == "reviewer@sac-cupa.example"
    assert inventory.action_agent_name == cast.cupa_reviewer.get_full_name()
    assert inventory.action_agent_name.startswith("Rita")
    assert inventory.action_at is not None
    event = events("submittal.reviewed", inventory).get()
    assert (event.before["status"], event.after["status"]) == (2, 5)
    assert event.regulator == cast.cupa
    assert event.organization == cast.org
    assert events("submittal.reviewed", facility_info).get().after["status"] == 4

    assert len(mailoutbox) == 2
    not_accepted = next(m for m in mailoutbox if "Not Accepted" in m.subject)
    assert sorted(not_accepted.to) == ["approver@acme.example", "lead@acme.example"]
    assert "Hazardous Materials Inventory" in not_accepted.subject
    assert "The site map is missing." in not_accepted.body


def test_each_element_is_routed_to_the_regulator_handling_it(cast, submitted):
    routed = {record.element: record.regulator for record in submitted}
    assert routed == {FI: cast.cupa, HMI: cast.cupa, UST: cast.pa}
    event = events("submittal.element_submitted", submitted[2]).get()
    assert event.regulator == cast.pa
    assert event.after == {"status": 2, "regulator": "1101"}


def test_submitting_some_drafts_leaves_the_others_in_progress(cast):
    facility_info, inventory = draft(cast, FI), draft(cast, HMI)

    group = submit(cast, [facility_info])

    inventory = reload(inventory)
    assert inventory.status == ElementStatus.DRAFT
    assert inventory.facility_submittal != group
    assert inventory.facility_submittal.status == FacilitySubmittal.Status.DRAFT
    assert list(group.elements.all()) == [reload(facility_info)]


# --- who may do what -------------------------------------------------------------------------


def test_a_viewer_cannot_start_a_draft(cast):
    with pytest.raises(PermissionDenied):
        services.start_draft(actor=cast.viewer, facility=cast.facility, element=FI)
    assert not SubmittalElementRecord.objects.exists()


def test_a_second_draft_of_the_same_element_is_refused(cast):
    draft(cast, HMI)
    with pytest.raises(ValidationError, match="already in progress"):
        services.start_draft(actor=cast.lead, facility=cast.facility, element=HMI)
    assert SubmittalElementRecord.objects.filter(element=HMI).count() == 1


def test_the_lead_user_may_submit(cast):
    records = [draft(cast, FI)]
    submit(cast, records, actor=cast.lead)
    assert reload(records[0]).status == ElementStatus.SUBMITTED


def test_not_accepted_needs_comments(cast, submitted):
    inventory = submitted[1]
    with pytest.raises(ValidationError, match="not accepted"):
        services.review(
            actor=cast.cupa_reviewer, record=inventory, status=ElementStatus.NOT_ACCEPTED
        )
    assert reload(inventory).status == ElementStatus.SUBMITTED
    assert not events("submittal.reviewed").exists()


def test_a_regulator_cannot_set_draft_or_submitted(cast, submitted):
    for status in (ElementStatus.DRAFT, ElementStatus.SUBMITTED, 99):
        with pytest.raises(ValidationError):
            services.review(actor=cast.cupa_reviewer, record=submitted[0], status=status)


def test_the_pa_reviews_only_the_elements_routed_to_it(cast, submitted):
    facility_info, _inventory, ust = submitted

    with pytest.raises(PermissionDenied):  # a viewer, not a reviewer
        services.review(actor=cast.pa_viewer, record=ust, status=ElementStatus.ACCEPTED)

    pa_reviewer = factories.make_user("reviewer@sac-pa.example")
    set_staff_role(actor=None, regulator=cast.pa, user=pa_reviewer, role="reviewer")
    with pytest.raises(PermissionDenied):  # routed to the CUPA
        services.review(actor=pa_reviewer, record=facility_info, status=ElementStatus.ACCEPTED)
    with pytest.raises(PermissionDenied):  # and the CUPA may not review the PA's element
        services.review(actor=cast.cupa_reviewer, record=ust, status=ElementStatus.ACCEPTED)
    assert reload(ust).status == ElementStatus.SUBMITTED

    services.review(actor=pa_reviewer, record=ust, status=ElementStatus.UNDER_REVIEW)
    assert reload(ust).status == ElementStatus.UNDER_REVIEW
    assert reload(facility_info).status == ElementStatus.SUBMITTED


def test_other_agencies_and_businesses_cannot_review(cast, submitted):
    for actor in (cast.cupa2_reviewer, cast.lead, cast.outsider):
        with pytest.raises(PermissionDenied):
            services.review(actor=actor, record=submitted[0], status=ElementStatus.ACCEPTED)


def test_the_state_agency_may_review_any_element(cast, submitted):
    services.review(
        actor=cast.state_admin, record=submitted[2], status=ElementStatus.NOT_APPLICABLE
    )
    assert reload(submitted[2]).status == ElementStatus.NOT_APPLICABLE


def test_a_draft_cannot_be_reviewed(cast):
    record = draft(cast, FI)
    with pytest.raises(PermissionDenied):
        services.review(actor=cast.state_admin, record=record, status=ElementStatus.ACCEPTED)


# --- submitted elements never change ---------------------------------------------------------


def test_submitted_data_cannot_be_changed_or_discarded(cast, submitted):
    inventory = submitted[1]
    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.save_draft_data(actor=cast.editor, record=inventory, data={"207": "Petrol"})
    with pytest.raises(ValidationError, match="can no longer be changed"):
        delete_material(actor=cast.editor, material=inventory.materials.get())
    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.discard_draft(actor=cast.lead, record=inventory)
    assert reload(inventory).data == DATA[HMI]
    assert reload(inventory).materials.get().common_name == "Diesel"
    assert not events("submittal.draft_discarded").exists()


def test_a_draft_can_be_discarded(cast):
    record = draft(cast, HMI)
    services.discard_draft(actor=cast.editor, record=record)
    assert not SubmittalElementRecord.objects.exists()
    assert not FacilitySubmittal.objects.exists()
    assert events("submittal.draft_discarded").count() == 1


def test_an_element_is_submitted_once(cast, submitted):
    with pytest.raises(ValidationError, match="already submitted"):
        submit(cast, submitted[:2])


def test_an_element_without_a_regulator_is_not_submitted(cast):
    record = draft(cast, FI)
    FacilityRegulator.objects.filter(facility=cast.facility, element=FI).delete()

    with pytest.raises(ValidationError, match="No regulator is assigned to Facility Information"):
        submit(cast, [record])

    assert reload(record).status == ElementStatus.DRAFT


# --- validation ------------------------------------------------------------------------------


def test_other_elements_need_facility_information(cast):
    inventory = draft(cast, HMI)

    with pytest.raises(ValidationError) as refused:
        submit(cast, [inventory])

    assert any("Facility Information must accompany" in m for m in refused.value.messages)
    assert reload(inventory).status == ElementStatus.DRAFT


def test_a_required_message_blocks_the_submit_and_changes_nothing(
    cast, django_capture_on_commit_callbacks, mailoutbox
):
    facility_info = draft(cast, FI)
    inventory = draft(cast, HMI, data={})  # no site map (Required); no material (a Warning)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        submit(cast, [facility_info, inventory])

    [message] = refused.value.messages
    assert message.startswith("Hazardous Materials Inventory: Site map")
    assert "this document is required" in message
    assert {reload(r).status for r in (facility_info, inventory)} == {ElementStatus.DRAFT}
    assert not events("submittal.submitted").exists()
    assert not events("submittal.element_submitted").exists()
    assert FacilitySubmittal.objects.get().status == FacilitySubmittal.Status.DRAFT
    assert not OutboundEmail.objects.filter(subject__startswith="CERS receipt").exists()
    assert mailoutbox == []


def test_validation_reports_the_missing_facility_information_as_required(cast):
    inventory = draft(cast, HMI)
    [message] = validate_submittal(cast.facility, [inventory])
    assert (message.level, message.code, message.element) == (
        REQUIRED,
        "facility_information_missing",
        FI,
    )
    assert validate_submittal(cast.facility, [draft(cast, FI), inventory]) == []


def test_the_certifier_name_and_title_are_required(cast):
    record = draft(cast, FI)
    with pytest.raises(ValidationError) as refused:
        services.submit(
            actor=cast.approver,
            facility=cast.facility,
            elements=[record],
            certifier_name=" ",
            certifier_title="",
        )
    assert set(refused.value.message_dict) == {"certifier_name", "certifier_title"}
    assert reload(record).status == ElementStatus.DRAFT


# --- starting from the last accepted element -------------------------------------------------


def test_a_draft_started_from_the_last_accepted_element_copies_its_data(cast, submitted):
    inventory = submitted[1]
    services.review(actor=cast.cupa_reviewer, record=inventory, status=ElementStatus.ACCEPTED)

    copy = services.start_draft(
        actor=cast.editor, facility=cast.facility, element=HMI, from_last_accepted=True
    )

    assert copy.data == DATA[HMI]
    assert [material.common_name for material in copy.materials.all()] == ["Diesel"]
    assert copy.based_on == inventory
    assert copy.notice is None
    assert copy.status == ElementStatus.DRAFT


def test_without_an_accepted_element_the_draft_starts_empty_and_says_so(cast, submitted):
    # The UST element was submitted but never accepted.
    record = services.start_draft(
        actor=cast.editor, facility=cast.facility, element=UST, from_last_accepted=True
    )
    assert record.data == {}
    assert record.based_on is None
    assert "no accepted Underground Storage Tanks" in record.notice


# --- who sees what ---------------------------------------------------------------------------


@pytest.fixture
def with_drafts(cast, submitted):
    """Besides the submitted elements, drafts of Facility Information and UST in progress."""
    return [draft(cast, FI), draft(cast, UST)]


def visible(user, action="view"):
    return set(SubmittalElementRecord.objects.for_user(user, action).values_list("pk", flat=True))


def test_the_business_sees_its_drafts_and_submittals(cast, submitted, with_drafts):
    everything = {r.pk for r in submitted + with_drafts}
    assert visible(cast.viewer) == everything
    assert visible(cast.editor, "edit") == everything
    assert visible(cast.viewer, "edit") == set()
    assert FacilitySubmittal.objects.for_user(cast.viewer).count() == 2


def test_an_outsider_sees_none_of_the_organizations_submittals(cast, submitted, with_drafts):
    assert visible(cast.outsider) == set()
    assert not FacilitySubmittal.objects.for_user(cast.outsider).exists()


def test_regulators_never_see_drafts(cast, submitted, with_drafts):
    drafts = {r.pk for r in with_drafts}
    for user in (cast.cupa_reviewer, cast.pa_viewer, cast.state_admin):
        assert visible(user) & drafts == set()
        assert not FacilitySubmittal.objects.for_user(user).filter(status="draft").exists()
    assert visible(cast.state_admin) == {r.pk for r in submitted}


def test_each_agency_sees_only_the_elements_routed_to_it(cast, submitted, with_drafts):
    facility_info, inventory, ust = submitted
    assert visible(cast.pa_viewer) == {ust.pk}
    assert visible(cast.pa_viewer, "review") == set()  # a viewer reviews nothing
    assert visible(cast.cupa_reviewer) == {facility_info.pk, inventory.pk}
    assert visible(cast.cupa_reviewer, "review") == {facility_info.pk, inventory.pk}
    assert visible(cast.cupa2_reviewer) == set()
    assert FacilitySubmittal.objects.for_user(cast.pa_viewer).count() == 1
    assert not FacilitySubmittal.objects.for_user(cast.cupa2_reviewer).exists()


def test_a_submittal_made_late_on_new_years_eve_is_named_by_californias_date(cast):
    """At 23:30 Pacific on 31 December it is already 1 January in UTC: the submittal (and the
    audit event that names it) says 31 December."""
    import datetime

    from django.utils import timezone

    late = timezone.make_aware(datetime.datetime(2026, 12, 31, 23, 30)).astimezone(datetime.UTC)
    group = FacilitySubmittal(
        pk=7, facility=cast.facility, status=FacilitySubmittal.Status.SUBMITTED, submitted_at=late
    )
    assert str(group).endswith("(2026-12-31)")
