"""Every write to facility submittals and their elements: drafts, submit, review.

Each public function is one transaction that writes its audit event with the change; e-mail
goes to the outbox in the same transaction and is sent after commit. ``actor`` is checked
here, not only in views, so no caller can skip a rule:

- Editors (and above) prepare drafts: ``edit_drafts`` on the facility's organization;
- Approvers and Lead Users submit and certify: ``submit_submittals``;
- a reviewer of the agency an element was routed to reviews it: ``review_submittals`` on that
  agency (the state agency's reviewers may review any element).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.elements import SubmittalElement
from core.services import queue_email, record_event
from facilities.models import Facility, FacilityRegulator
from organizations.roles import EDIT_DRAFTS, SUBMIT
from organizations.services import lead_user_emails

from . import documents
from .documents import copy_document_answers
from .inventory import copy_materials
from .models import (
    REVIEW_STATUSES,
    DocumentFile,
    ElementStatus,
    FacilitySubmittal,
    OwnerOperator,
    SubmittalElementRecord,
)
from .validation import required, validate_submittal

COMMENTS_MAX_LENGTH = 1500  # SubmittalActionComments, CDR 20.0009


def _require(actor, codename: str, organization, message: str) -> None:
    if not actor.has_perm(f"organizations.{codename}", organization):
        raise PermissionDenied(message)


def _element(element) -> SubmittalElement:
    try:
        return SubmittalElement(element)
    except ValueError:
        raise ValidationError({"element": "Choose a submittal element, 1 to 10."}) from None


def _lock_record(record: SubmittalElementRecord) -> SubmittalElementRecord:
    """Reload and lock the element row, so the status checked is the status changed."""
    return (
        SubmittalElementRecord.objects.select_for_update(of=("self",))
        .select_related("facility__organization", "regulator", "submitted_by")
        .get(pk=record.pk)
    )


def _refuse_unless_draft(record: SubmittalElementRecord) -> None:
    if not record.is_draft:
        raise ValidationError(
            f"This {record.get_element_display()} element was submitted and can no longer be "
            "changed. To correct it, start a new draft of the element."
        )


def _unique(addresses: Iterable[str]) -> list[str]:
    """The addresses in order, each once (compared without case), blanks dropped."""
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


@transaction.atomic(durable=True)
def start_draft(
    *, actor, facility: Facility, element: int, from_last_accepted: bool = False
) -> SubmittalElementRecord:
    """Start a draft of one submittal element for a facility.

    A facility has at most one draft of each element. With ``from_last_accepted`` the draft
    starts as a copy of the facility's last accepted element of that type; if there is none
    it starts empty, and the returned record's ``notice`` says so (``notice`` is None
    otherwise; it is not stored).
    """
    element = _element(element)
    _require(
        actor,
        EDIT_DRAFTS,
        facility.organization,
        "Your role in this organization does not allow preparing drafts.",
    )
    facility = (
        Facility.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=facility.pk)
    )
    if SubmittalElementRecord.objects.filter(
        facility=facility, element=element, status=ElementStatus.DRAFT
    ).exists():
        raise ValidationError(
            f"A draft of {element.label} is already in progress for this facility. "
            "Continue that draft, or discard it before starting another."
        )
    group = FacilitySubmittal.objects.filter(
        facility=facility, status=FacilitySubmittal.Status.DRAFT
    ).first()
    if group is None:
        group = FacilitySubmittal.objects.create(facility=facility, created_by=actor)

    data, based_on, notice = {}, None, None
    if from_last_accepted:
        based_on = SubmittalElementRecord.objects.last_accepted(facility, element)
        if based_on is not None:
            data = copy.deepcopy(based_on.data)
        else:
            notice = (
                f"This facility has no accepted {element.label} to start from, so the draft "
                "starts empty."
            )
    record = SubmittalElementRecord.objects.create(
        facility_submittal=group,
        facility=facility,
        element=element,
        data=data,
        based_on=based_on,
        created_by=actor,
    )
    if based_on is not None:
        # Inventory materials (element 2) and their mixture components, in order.
        copy_materials(source=based_on, target=record)
        # Document answers and their files: the same stored files under new unique keys.
        copy_document_answers(source=based_on, target=record)
    record_event(
        actor,
        "submittal.draft_started",
        record,
        after={"element": int(element), "based_on": based_on.pk if based_on else None},
        organization=facility.organization,
    )
    record.notice = notice
    return record


def _sync_owner_operator(record: SubmittalElementRecord) -> None:
    """Set the owner/operator columns of a Facility Information element from its data (the
    fields ``OwnerOperator.FIELDS`` names), creating the row on the first save. A value too
    long for its column is cut to fit: the column serves lists and search, the data keeps
    the whole value."""
    values = {}
    for number, column in OwnerOperator.FIELDS.items():
        value = record.data.get(number)
        text = "" if value is None else str(value).strip()
        values[column] = text[: OwnerOperator._meta.get_field(column).max_length]
    OwnerOperator.objects.update_or_create(record=record, defaults=values)


@transaction.atomic(durable=True)
def save_draft_data(*, actor, record: SubmittalElementRecord, data: dict) -> SubmittalElementRecord:
    """Replace a draft's data. Submitted elements never change.

    For Facility Information the owner/operator columns (``OwnerOperator``) follow the data
    in the same transaction.
    """
    if not isinstance(data, dict):
        raise ValidationError({"data": "Element data must be a JSON object."})
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"data": f"Element data must be plain JSON: {exc}"}) from None
    record = _lock_record(record)
    organization = record.facility.organization
    _require(
        actor, EDIT_DRAFTS, organization, "Your role in this organization does not allow editing."
    )
    _refuse_unless_draft(record)
    record.data = data
    record.save(update_fields=["data", "updated_at"])
    if record.element == SubmittalElement.FACILITY_INFORMATION:
        _sync_owner_operator(record)
    record_event(
        actor,
        "submittal.draft_saved",
        record,
        after={"element": record.element, "fields": sorted(data)},
        organization=organization,
    )
    return record


@transaction.atomic(durable=True)
def discard_draft(*, actor, record: SubmittalElementRecord) -> None:
    """Delete a draft. A draft facility submittal left with no element goes with it."""
    record = _lock_record(record)
    organization = record.facility.organization
    _require(
        actor, EDIT_DRAFTS, organization, "Your role in this organization does not allow editing."
    )
    _refuse_unless_draft(record)
    record_event(
        actor,
        "submittal.draft_discarded",
        record,
        before={"element": record.element, "fields": sorted(record.data or {})},
        organization=organization,
    )
    group_id = record.facility_submittal_id
    stored = list(
        DocumentFile.objects.filter(document__record=record).values_list("file", flat=True)
    )
    record.delete()
    # The files go after commit, unless an accepted element still shares them.
    transaction.on_commit(lambda: documents.delete_unreferenced_files(stored))
    FacilitySubmittal.objects.filter(
        pk=group_id, status=FacilitySubmittal.Status.DRAFT, elements__isnull=True
    ).delete()


@transaction.atomic(durable=True)
def submit(
    *,
    actor,
    facility: Facility,
    elements: Sequence[SubmittalElementRecord],
    certifier_name: str,
    certifier_title: str,
    comments: str = "",
) -> FacilitySubmittal:
    """Certify and submit drafts of a facility as one facility submittal.

    Every element must be a draft of the facility; the submittal must pass validation with
    no Required message (Facility Information accompanies any other element). Each element
    is routed to the regulator handling that element for the facility. The submitter gets a
    receipt by e-mail. Drafts not chosen stay in progress.
    """
    _require(
        actor,
        SUBMIT,
        facility.organization,
        "Only Approvers and Lead Users may submit and certify submittals.",
    )
    certifier_name, certifier_title = certifier_name.strip(), certifier_title.strip()
    errors = {}
    if not certifier_name:
        errors["certifier_name"] = "Give the name of the person certifying this submittal."
    if not certifier_title:
        errors["certifier_title"] = "Give the title of the person certifying this submittal."
    if errors:
        raise ValidationError(errors)
    ids = {record.pk for record in elements}
    if not ids:
        raise ValidationError("Choose at least one draft element to submit.")

    facility = (
        Facility.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=facility.pk)
    )
    organization = facility.organization
    records = list(
        SubmittalElementRecord.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("facility_submittal", "facility")
        .order_by("element")
    )
    if len(records) != len(ids):
        raise ValidationError(
            "One of the chosen drafts no longer exists; it may have been discarded."
        )
    for record in records:
        if record.facility_id != facility.pk:
            raise ValidationError(
                f"The {record.get_element_display()} element chosen belongs to another facility."
            )
        if not record.is_draft:
            raise ValidationError(
                f"The {record.get_element_display()} element chosen was already submitted."
            )

    blocking = required(validate_submittal(facility, records))
    if blocking:
        raise ValidationError(
            [ValidationError(str(message), code=message.code) for message in blocking]
        )

    routes = {
        route.element: route.regulator
        for route in FacilityRegulator.objects.filter(
            facility=facility, element__in=[record.element for record in records]
        ).select_related("regulator")
    }
    unrouted = [record.get_element_display() for record in records if record.element not in routes]
    if unrouted:
        raise ValidationError(
            f"No regulator is assigned to {', '.join(unrouted)} for this facility, so it cannot "
            "be routed for review. Ask the facility's CUPA to assign one."
        )

    now = timezone.now()
    group = records[0].facility_submittal
    left_in_draft = list(group.elements.exclude(pk__in=ids).values_list("pk", flat=True))
    group.status = FacilitySubmittal.Status.SUBMITTED
    group.submitted_by = actor
    group.submitted_at = now
    group.certifier_name = certifier_name
    group.certifier_title = certifier_title
    group.submitter_comments = comments.strip()
    group.save()
    if left_in_draft:
        # The drafts not chosen stay in progress, in the facility's new draft submittal.
        new_group = FacilitySubmittal.objects.create(facility=facility, created_by=group.created_by)
        SubmittalElementRecord.objects.filter(pk__in=left_in_draft).update(
            facility_submittal=new_group
        )

    for record in records:
        record.facility_submittal = group
        record.status = ElementStatus.SUBMITTED
        record.regulator = routes[record.element]
        record.submitted_by = actor
        record.submitted_at = now
        record.save(
            update_fields=[
                "facility_submittal",
                "status",
                "regulator",
                "submitted_by",
                "submitted_at",
            ]
        )
        record_event(
            actor,
            "submittal.element_submitted",
            record,
            before={"status": int(ElementStatus.DRAFT)},
            after={"status": int(record.status), "regulator": record.regulator.code},
            organization=organization,
            regulator=record.regulator,
        )
    record_event(
        actor,
        "submittal.submitted",
        group,
        after={
            "elements": [record.element for record in records],
            "certifier_name": certifier_name,
            "certifier_title": certifier_title,
        },
        organization=organization,
    )
    queue_email(
        [actor.email],
        "submittals/email/receipt",
        {
            "submittal": group,
            "facility": facility,
            "organization": organization,
            "elements": records,
            "submitter": actor,
        },
    )
    return group


@transaction.atomic(durable=True)
def review(
    *, actor, record: SubmittalElementRecord, status: int, comments: str = ""
) -> SubmittalElementRecord:
    """Record a regulator's action on a submitted element: Under Review, Accepted,
    Not Accepted (comments required) or Not Applicable.

    Only reviewers of the agency the element was routed to (or of the state agency) may act.
    The organization's Lead Users and the submitter are told by e-mail.
    """
    # The same scope the review queue lists: never a draft, only elements routed to the
    # actor's agencies where they may review (any element for the state agency).
    if not SubmittalElementRecord.objects.for_user(actor, "review").filter(pk=record.pk).exists():
        raise PermissionDenied(
            "Only reviewers of the agency this element was sent to may review it."
        )
    return apply_review(actor=actor, record=record, status=status, comments=comments)


def check_review(status, comments: str) -> tuple[ElementStatus, str]:
    """The rules of a review action, shared by the portal and the EDT action notification."""
    try:
        status = ElementStatus(int(status))
    except (TypeError, ValueError):
        status = None
    if status not in REVIEW_STATUSES:
        raise ValidationError(
            {"status": "Choose Under Review, Accepted, Not Accepted or Not Applicable."}
        )
    comments = (comments or "").strip()
    if status == ElementStatus.NOT_ACCEPTED and not comments:
        raise ValidationError(
            {"comments": "Say why the element is not accepted: the business needs it to resubmit."}
        )
    if len(comments) > COMMENTS_MAX_LENGTH:
        raise ValidationError(
            {"comments": f"Keep the comments to {COMMENTS_MAX_LENGTH} characters or fewer."}
        )
    return status, comments


def apply_review(
    *,
    actor,
    record: SubmittalElementRecord,
    status: int,
    comments: str = "",
    action_at=None,
    agent_name: str = "",
    agent_email: str = "",
) -> SubmittalElementRecord:
    """``review`` without its permission check or transaction of its own: the EDT action
    notification, which authorizes by agency, runs it inside the upload's transaction. The
    agent defaults to the actor; EDT names the person who acted in the agency's system."""
    status, comments = check_review(status, comments)
    record = _lock_record(record)
    organization = record.facility.organization
    before = {"status": int(record.status), "comments": record.action_comments}
    record.status = status
    record.action_by = actor
    record.action_at = action_at or timezone.now()
    record.action_agent_name = agent_name or actor.get_full_name() or actor.email
    record.action_agent_email = agent_email or actor.email
    record.action_comments = comments
    record.save(
        update_fields=[
            "status",
            "action_by",
            "action_at",
            "action_agent_name",
            "action_agent_email",
            "action_comments",
        ]
    )
    record_event(
        actor,
        "submittal.reviewed",
        record,
        before=before,
        after={"status": int(record.status), "comments": comments},
        organization=organization,
        regulator=record.regulator,
    )
    submitter = record.submitted_by.email if record.submitted_by else ""
    recipients = _unique([*lead_user_emails(organization), submitter])
    if recipients:
        queue_email(
            recipients,
            "submittals/email/review",
            {
                "record": record,
                "facility": record.facility,
                "organization": organization,
                "element": record.get_element_display(),
                "status": record.get_status_display(),
                "regulator": record.regulator,
                "comments": comments,
            },
        )
    return record
