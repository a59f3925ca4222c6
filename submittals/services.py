"""Every write to facility submittals and their elements: drafts, submit, review.

Each public function is one transaction that writes its audit event with the change; e-mail
goes to the outbox in the same transaction and is sent after commit. ``actor`` is checked
here, not only in views, so no caller can skip a rule: each function asks
``core.access.require`` (the rules are in ``submittals.rules``):

- Editors (and above) prepare drafts (``submittals.edit``);
- Approvers and Lead Users submit and certify (``submittals.submit``);
- a reviewer of the agency an element was routed to reviews it (``submittals.review``; the
  state agency's reviewers may review any element).

The EDT services use the same functions, the actor being the EDT account acting for its
agency: the Facility Submittal Submit stores what it is handed through
``store_submitted_elements`` and submits it through ``submit_elements`` as the portal's
``submit`` does, and the action notification reviews through ``apply_reviews`` as ``review``
does; called inside the upload's transaction, they are part of it.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple, get_type_hints

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.base import ModelState
from django.urls import reverse
from django.utils import formats, timezone

from core.access import require
from core.elements import SubmittalElement
from core.services import (
    JsonText,
    audit_event,
    insert_rows,
    json_text,
    queue_email,
    queue_emails,
    record_event,
    record_events,
)
from facilities.models import Facility, FacilityRegulator
from facilities.services import lock_facility_row, schedule_after_acceptance
from organizations.services import lead_user_emails_by_organization

from . import documents, facility_information
from .documents import copy_document_answers
from .inventory import copy_materials
from .models import (
    AWAITING_STATUSES,
    REVIEW_STATUSES,
    DocumentFile,
    ElementStatus,
    FacilitySubmittal,
    OwnerOperator,
    SubmittalElementRecord,
)
from .validation import required, validate_submittal

COMMENTS_MAX_LENGTH = 1500  # SubmittalActionComments, CDR 20.0009


SUBMIT_REFUSED = "Only Approvers and Lead Users may submit and certify submittals."


def _element(element) -> SubmittalElement:
    try:
        return SubmittalElement(element)
    except ValueError:
        raise ValidationError({"element": "Choose a submittal element, 1 to 10."}) from None


def _lock_record(record: SubmittalElementRecord) -> SubmittalElementRecord:
    """Reload and lock the element row, so the status checked is the status changed. A draft
    discarded meanwhile (by someone else, or by the first of two clicks) is refused."""
    return SubmittalElementRecord.objects.select_related(
        "facility__organization", "regulator", "submitted_by"
    ).lock(record)


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
    facility = lock_facility(facility)
    require(actor, "submittals.edit", facility)
    refuse_if_closed(facility)
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
    if based_on is None and element == SubmittalElement.FACILITY_INFORMATION:
        data, prefill_notice = _prefilled_facility_information(facility)
        notice = " ".join(text for text in (notice, prefill_notice) if text) or None
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


def _prefilled_facility_information(facility: Facility) -> tuple[dict, str | None]:
    """A new Facility Information's data: the site from the facility, the business's people
    from the organization's last accepted Facility Information; and a notice naming it."""
    accepted = SubmittalElementRecord.objects.last_accepted_in_organization(
        facility.organization, SubmittalElement.FACILITY_INFORMATION
    )
    data = facility_information.prefill(facility, accepted)
    if accepted is None:
        return data, None
    when = (
        formats.date_format(accepted.submitted_at, "DATE_FORMAT") if accepted.submitted_at else ""
    )
    return data, (
        f"The owner, operator and contacts were filled in from the accepted Facility "
        f"Information of {accepted.facility.name}{' submitted ' + when if when else ''}: "
        "check them before you submit."
    )


def sync_owner_operator(record: SubmittalElementRecord) -> None:
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
    _check_data(data)
    return _write_draft_data(actor, record, lambda current: data)


@transaction.atomic(durable=True)
def change_draft_data(
    *, actor, record: SubmittalElementRecord, change: Callable[[dict], dict]
) -> SubmittalElementRecord:
    """Change a draft's data by ``change(data) -> new data``, applied to the data as it is
    once the draft is locked, never to a copy read before: what one editor saves (a part of
    Facility Information, a row added or removed) keeps what another saved a moment before.
    ``change`` refuses (``ValidationError``) when what its user saw has changed meanwhile.
    As ``save_draft_data`` otherwise."""
    return _write_draft_data(actor, record, change)


def _check_data(data) -> None:
    if not isinstance(data, dict):
        raise ValidationError({"data": "Element data must be a JSON object."})
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"data": f"Element data must be plain JSON: {exc}"}) from None


def _write_draft_data(actor, record: SubmittalElementRecord, change) -> SubmittalElementRecord:
    record = _lock_record(record)
    organization = record.facility.organization
    require(actor, "submittals.edit", record)
    _refuse_unless_draft(record)
    data = change(copy.deepcopy(record.data or {}))
    _check_data(data)
    record.data = data
    record.saved_at = timezone.now()
    record.save(update_fields=["data", "saved_at", "updated_at"])
    if record.element == SubmittalElement.FACILITY_INFORMATION:
        sync_owner_operator(record)
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
    require(actor, "submittals.edit", record)
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


def lock_facility(facility: Facility) -> Facility:
    """Reload and lock the facility row: one draft, submittal or review of its elements at a
    time, so two submits of the same drafts cannot both pass their checks. The rules are
    asked of the row returned, whose organization is the one it belongs to now (a transfer
    may have moved it since the page was drawn); a facility merged away meanwhile is refused
    with a message naming the one it went into."""
    return lock_facility_row(facility)


def refuse_if_closed(facility: Facility) -> None:
    """A closed facility no longer reports: no draft is started or submitted for it (what it
    submitted before stays, and its regulators still review it)."""
    if facility.is_closed:
        closed_on = formats.date_format(timezone.localtime(facility.closed_at), "DATE_FORMAT")
        raise ValidationError(f"{facility.name} was closed on {closed_on}: it no longer reports.")


def element_routes(facility: Facility) -> dict[int, FacilityRegulator]:
    """Which agency handles each element of the facility: where a submitted element goes."""
    return {
        route.element: route
        for route in FacilityRegulator.objects.filter(facility=facility).select_related("regulator")
    }


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
    require(actor, "submittals.submit", facility, SUBMIT_REFUSED)
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

    facility = lock_facility(facility)
    require(actor, "submittals.submit", facility, SUBMIT_REFUSED)
    refuse_if_closed(facility)
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

    group = records[0].facility_submittal
    left_in_draft = list(group.elements.exclude(pk__in=ids).values_list("pk", flat=True))
    group.status = FacilitySubmittal.Status.SUBMITTED
    group.submitted_by = actor
    group.submitted_at = timezone.now()
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
    return submit_elements(
        actor=actor,
        facility=facility,
        group=group,
        records=records,
        receipt_to=[actor.email],
        submitter=actor,
    )


def last_accepted_elements(facility: Facility) -> list[SubmittalElementRecord]:
    """The facility's last accepted element of each type, in element order: what "certify
    no changes" submits again."""
    latest: dict[int, SubmittalElementRecord] = {}
    for record in (
        SubmittalElementRecord.objects.filter(facility=facility, status=ElementStatus.ACCEPTED)
        .order_by("element", "-submitted_at", "-pk")
        .only("pk", "element", "facility_id", "submitted_at", "data", "status")
    ):
        latest.setdefault(record.element, record)
    return list(latest.values())


NOTHING_ACCEPTED = (
    "{facility} has no accepted submittal element to certify again; submit its elements as "
    "drafts instead."
)


def newer_awaiting_review(facility: Facility, sources: Sequence[SubmittalElementRecord]):
    """The labels of the elements of ``sources`` (the last accepted ones) that were submitted
    again since and wait for review: their data may have changed, so "no changes" since the
    accepted one cannot be certified (nor can it twice, before the first is reviewed)."""
    since = {source.element: source.submitted_at for source in sources}
    waiting = (
        SubmittalElementRecord.objects.filter(
            facility=facility, element__in=since, status__in=AWAITING_STATUSES
        )
        .values_list("element", "submitted_at")
        .order_by("element")
    )
    return list(
        dict.fromkeys(
            _element(element).label
            for element, submitted_at in waiting
            if submitted_at > since[element]
        )
    )


@transaction.atomic(durable=True)
def certify_no_changes(
    *,
    actor,
    facilities: Sequence[Facility],
    certifier_name: str,
    certifier_title: str,
    comments: str = "",
) -> list[FacilitySubmittal]:
    """Submit again, unchanged and with a new certification, the last accepted element of
    each type of every facility in ``facilities``: the yearly "nothing changed" of a business
    plan. Each facility gets its own facility submittal and receipt, through
    ``submit_elements`` like any other submittal; its elements are copies (data, inventory,
    documents) of the accepted ones, each ``based_on`` its source.

    All or nothing: a facility the actor may not submit for (``submittals.submit``), one with
    nothing accepted, or one whose copies no longer pass validation refuses the whole
    request, naming the facility.
    """
    certifier_name, certifier_title = certifier_name.strip(), certifier_title.strip()
    errors = {}
    if not certifier_name:
        errors["certifier_name"] = "Give the name of the person certifying this submittal."
    if not certifier_title:
        errors["certifier_title"] = "Give the title of the person certifying this submittal."
    if errors:
        raise ValidationError(errors)
    if not facilities:
        raise ValidationError("Choose at least one facility to certify.")
    groups = []
    for facility in sorted(facilities, key=lambda facility: facility.pk):
        facility = lock_facility(facility)
        require(actor, "submittals.submit", facility, SUBMIT_REFUSED)
        refuse_if_closed(facility)
        sources = last_accepted_elements(facility)
        if not sources:
            raise ValidationError(NOTHING_ACCEPTED.format(facility=facility))
        waiting = newer_awaiting_review(facility, sources)
        if waiting:
            one = len(waiting) == 1
            raise ValidationError(
                f"{facility}: {' and '.join(waiting)} submitted since the last accepted "
                f"{'one is' if one else 'ones are'} waiting for review, so there may be "
                f"changes. Certify no changes once the regulator has reviewed "
                f"{'it' if one else 'them'}."
            )
        routes = element_routes(facility)
        unrouted = [
            _element(source.element).label for source in sources if source.element not in routes
        ]
        if unrouted:
            raise ValidationError(
                f"{facility}: no regulator is assigned to {', '.join(unrouted)}, so it cannot "
                "be routed for review. Ask the facility's CUPA to assign one."
            )
        now = timezone.now()
        group = FacilitySubmittal.objects.create(
            facility=facility,
            status=FacilitySubmittal.Status.SUBMITTED,
            created_by=actor,
            submitted_by=actor,
            submitted_at=now,
            certifier_name=certifier_name,
            certifier_title=certifier_title,
            submitter_comments=comments.strip(),
        )
        records = []
        for source in sources:
            record = SubmittalElementRecord.objects.create(
                facility_submittal=group,
                facility=facility,
                element=source.element,
                data=copy.deepcopy(source.data),
                based_on=source,
                created_by=actor,
                # Stored as submitted, as the EDT stores what it receives: a draft of the
                # element the business has in progress stays theirs, untouched.
                status=ElementStatus.SUBMITTED,
                regulator=routes[source.element].regulator,
                submitted_by=actor,
                submitted_at=now,
            )
            copy_materials(source=source, target=record)
            copy_document_answers(source=source, target=record)
            if record.element == SubmittalElement.FACILITY_INFORMATION:
                sync_owner_operator(record)
            records.append(record)
        blocking = required(validate_submittal(facility, records))
        if blocking:
            raise ValidationError(
                [
                    ValidationError(f"{facility}: {message}", code=message.code)
                    for message in blocking
                ]
            )
        groups.append(
            submit_elements(
                actor=actor,
                facility=facility,
                group=group,
                records=records,
                receipt_to=[actor.email],
                submitter=actor,
                via="",
            )
        )
        record_event(
            actor,
            "submittal.certified_no_changes",
            group,
            after={"elements": {str(s.element): s.pk for s in sources}},
            organization=facility.organization,
        )
    return groups


@dataclass(frozen=True)
class ReceivedElement:
    """One element an agency's system hands over already submitted (the EDT Facility
    Submittal Submit): its code, data, submittal type (Pass-Through or Proxy) and who
    submitted it when, as its header says."""

    element: int
    data: dict
    submittal_type: int
    submitted_by: object = None
    submitted_at: datetime | None = None
    # The header's submitter as sent (stored whether or not the e-mail is an account's).
    submitter_first_name: str = ""
    submitter_last_name: str = ""
    submitter_email: str = ""
    submitter_comments: str = ""


@transaction.atomic
def store_submitted_elements(
    *,
    actor,
    facility: Facility,
    elements: Sequence[ReceivedElement],
    submitted_by=None,
    submitted_at: datetime | None = None,
    certifier_name: str = "",
    comments: str = "",
    via: str = "EDT",
    facility_local_id: str = "",
    facility_regulator_key: str = "",
) -> tuple[FacilitySubmittal, list[SubmittalElementRecord]]:
    """Store the elements an agency's system submitted for ``facility`` as one new facility
    submittal, already Submitted with its certification, each element routed to the agency
    handling it; the one home of those rows, so the check (``submittals.submit``: the
    account's agency handles the facility's Facility Information) cannot be skipped.

    The caller then adds each element's inventory and documents (``submittals.edit`` lets
    the account fill what it stored) and validates, and submits them with
    ``submit_elements``. Inside the caller's transaction (the upload's: all or nothing), one
    ``submittal.received`` audit event naming the elements stored. An element no agency
    handles refuses the whole submittal.
    """
    facility = lock_facility(facility)
    require(actor, "submittals.submit", facility, SUBMIT_REFUSED)
    routes = element_routes(facility)
    unrouted = [_element(item.element).label for item in elements if item.element not in routes]
    if unrouted:
        raise ValidationError(
            f"No regulator is assigned to {', '.join(unrouted)} for this facility, so it cannot "
            "be routed for review."
        )
    group = FacilitySubmittal.objects.create(
        facility=facility,
        status=FacilitySubmittal.Status.SUBMITTED,
        created_by=actor,
        submitted_by=submitted_by,
        submitted_at=submitted_at,
        certifier_name=certifier_name.strip(),
        submitter_comments=comments,
        facility_local_id=facility_local_id,
        facility_regulator_key=facility_regulator_key,
    )
    records = [
        SubmittalElementRecord(
            facility_submittal=group,
            facility=facility,
            element=item.element,
            status=ElementStatus.SUBMITTED,
            submittal_type=item.submittal_type,
            data=item.data,
            created_by=actor,
            regulator=routes[item.element].regulator,
            submitted_by=item.submitted_by,
            submitted_at=item.submitted_at,
            submitter_first_name=item.submitter_first_name,
            submitter_last_name=item.submitter_last_name,
            submitter_email=item.submitter_email,
            submitter_comments=item.submitter_comments,
        )
        for item in elements
    ]
    insert_rows(records)
    for record in records:
        if record.element == SubmittalElement.FACILITY_INFORMATION:
            sync_owner_operator(record)
    record_event(
        actor,
        "submittal.received",
        group,
        after={
            "elements": {str(record.element): str(record.key) for record in records},
            "via": via,
        },
        organization=facility.organization,
    )
    return group, records


@transaction.atomic
def submit_elements(
    *,
    actor,
    facility: Facility,
    group: FacilitySubmittal,
    records: Sequence[SubmittalElementRecord],
    receipt_to: Sequence[str],
    submitter,
    via: str = "",
) -> FacilitySubmittal:
    """Submit the stored elements ``records`` of ``facility`` as the facility submittal
    ``group`` (already Submitted, with its certification): what every submittal does,
    whether certified in the portal (``submit``) or handed over by an agency's system (the
    EDT Facility Submittal Submit, ``via`` "EDT").

    The facility row is locked; each element is routed to the agency handling it for the
    facility and marked Submitted (a draft when the group was, by the actor; an element the
    EDT upload stored as submitted keeps its submitter and time), with a
    ``submittal.element_submitted`` audit event each and one ``submittal.submitted`` for the
    group; ``receipt_to`` get the receipt naming ``submitter``. An element no agency handles
    refuses the whole submittal.
    """
    facility = lock_facility(facility)
    require(actor, "submittals.submit", facility, SUBMIT_REFUSED)
    organization = facility.organization
    routes = element_routes(facility)
    unrouted = [record.get_element_display() for record in records if record.element not in routes]
    if unrouted:
        raise ValidationError(
            f"No regulator is assigned to {', '.join(unrouted)} for this facility, so it cannot "
            "be routed for review. Ask the facility's CUPA to assign one."
        )
    now = group.submitted_at or timezone.now()
    events = []
    for record in records:
        record.facility_submittal = group
        record.regulator = routes[record.element].regulator
        if record.is_draft:
            record.status = ElementStatus.SUBMITTED
            record.submitted_by = actor
            record.submitted_at = now
        after = {"status": int(record.status), "regulator": record.regulator.code}
        if via:
            after["submittal_type"] = record.submittal_type
        events.append(
            audit_event(
                actor,
                "submittal.element_submitted",
                record,
                before={"status": int(ElementStatus.DRAFT)},
                after=after,
                organization=organization,
                regulator=record.regulator,
            )
        )
    SubmittalElementRecord.objects.bulk_update(
        records, ["facility_submittal", "status", "regulator", "submitted_by", "submitted_at"]
    )
    record_events(events)
    after = {
        "elements": [record.element for record in records],
        "certifier_name": group.certifier_name,
        "certifier_title": group.certifier_title,
    }
    if via:
        after["via"] = via
    record_event(actor, "submittal.submitted", group, after=after, organization=organization)
    if receipt_to:
        queue_email(
            list(receipt_to),
            "submittals/email/receipt",
            {
                "submittal": group,
                "facility": facility,
                "organization": organization,
                "elements": records,
                "submitter": submitter,
            },
        )
    return group


@transaction.atomic
def review(
    *,
    actor,
    record: SubmittalElementRecord,
    status: int,
    comments: str = "",
    action_at=None,
    agent_name: str = "",
    agent_email: str = "",
    seen: str | None = None,
) -> SubmittalElementRecord:
    """Record a regulator's action on a submitted element: Under Review, Accepted,
    Not Accepted (comments required) or Not Applicable.

    ``seen`` is ``review_seen`` of the element as the reviewer saw it: if the element was
    reviewed since, the review is refused (two reviewers on one element at once).

    Only reviewers of the agency the element was routed to (or of the state agency) may act,
    or that agency's system through EDT. The organization's Lead Users and the submitter are
    told by e-mail. The agent defaults to the actor; EDT names the person who acted in the
    agency's system, and when.
    """
    [record] = apply_reviews(
        actor=actor,
        actions=[
            ReviewAction(
                record=_lock_record(record),
                status=status,
                comments=comments,
                action_at=action_at,
                agent_name=agent_name,
                agent_email=agent_email,
                seen=seen,
            )
        ],
    )
    return record


def review_seen(record: SubmittalElementRecord) -> str:
    """The element's review state as a reviewer sees it, carried by the review form: its
    status and when it was last acted on. A review made from an older state is stale."""
    acted = record.action_at.isoformat() if record.action_at else ""
    return f"{int(record.status)}@{acted}"


def _stale_review(record: SubmittalElementRecord, seen: str) -> str | None:
    """Why a review made from state ``seen`` is refused, or None if it is current."""
    if seen == review_seen(record):
        return None
    if record.action_at:
        who = record.action_agent_name or record.action_agent_email or "another reviewer"
        at = timezone.localtime(record.action_at)
        return (
            f"This element was reviewed by {who} at {at:%Y-%m-%d %H:%M} "
            f"({record.get_status_display()}) while you had it open; reload the page to see "
            "it before you act."
        )
    return "This element changed while you had it open; reload the page to see it before you act."


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


@dataclass(frozen=True)
class ReviewAction:
    """One regulator action for ``apply_reviews``: the element (loaded and locked in the
    caller's transaction, by ``lock_for_review`` for many), the status set and the comments,
    when it was taken and by which person in the agency's own system."""

    record: SubmittalElementRecord
    status: int
    comments: str = ""
    action_at: datetime | None = None
    agent_name: str = ""
    agent_email: str = ""
    seen: str | None = None  # ``review_seen`` as the reviewer saw it; None: not checked


# Elements locked, updated and looked up per query when many are reviewed at once.
BATCH_SIZE = 1000
REVIEW_FIELDS = (
    "status",
    "action_by",
    "action_at",
    "action_agent_name",
    "action_agent_email",
    "action_comments",
)


def lock_for_review(keys: Iterable[uuid.UUID]) -> dict[uuid.UUID, SubmittalElementRecord]:
    """Load and lock the elements with these CERS unique keys, a thousand a query, to review
    them; keys naming no element are left out.

    Rows are locked in the order of their keys, so two transactions reviewing overlapping
    elements wait for each other instead of deadlocking. What a review reads comes along: the
    element's status and dates (not its data), its facility's name, address and CERS ID; the
    organizations, agencies and submitters, which many elements share, once per query. The
    elements and their facilities are read as values and made objects by ``_loaded``: an
    upload reviews thousands.
    """
    wanted = sorted(set(keys), key=lambda key: key.int)  # PostgreSQL's order of uuids
    locked: dict[uuid.UUID, SubmittalElementRecord] = {}
    split = len(_RECORD_READS)
    facility_field = SubmittalElementRecord._meta.get_field("facility")
    for start in range(0, len(wanted), BATCH_SIZE):
        rows = (
            SubmittalElementRecord.objects.select_for_update(of=("self",))
            .filter(key__any=wanted[start : start + BATCH_SIZE])
            .order_by("key")
            .values_list(*_RECORD_READS, *(f"facility__{name}" for name in _FACILITY_READS))
        )
        records, facilities, db = [], {}, rows.db
        for row in rows:
            record = _loaded(SubmittalElementRecord, _RECORD_READS, row[:split], db)
            facility = facilities.get(record.facility_id)
            if facility is None:
                facility = _loaded(Facility, _FACILITY_READS, row[split:], db)
                facilities[facility.pk] = facility
            facility_field.set_cached_value(record, facility)
            records.append(record)
        _share_related(records)
        locked.update((record.key, record) for record in records)
    return locked


def _loaded(model, attnames: Sequence[str], values: Sequence, db: str):
    """An object of ``model`` read from the database with the values of ``attnames``, the
    other fields deferred (read when first used), as ``Model.from_db`` makes one after
    ``only()``, but without its ``__init__``, which visits every field of the model: a third
    of the cost of locking the elements of an upload. For models no ``pre_init`` or
    ``post_init`` signal needs."""
    obj = model.__new__(model)
    obj.__dict__.update(zip(attnames, values, strict=True))
    obj._state = ModelState()
    obj._state.adding = False
    obj._state.db = db
    return obj


def _share_related(records: list[SubmittalElementRecord]) -> None:
    """Give the elements their facilities' organizations, their agencies and submitters, each
    read once (one query a model) and shared: what ``prefetch_related`` does, for a fraction
    of its cost in Python. Of the organizations and the submitters, thousands in an upload,
    only what the review tells is read (``_RELATED_READS``), as values made objects by
    ``_loaded``; their other fields are read when used."""
    from django.contrib.auth import get_user_model

    from organizations.models import Organization
    from regulators.models import Regulator

    facilities = [record.facility for record in records]
    related = (
        (facilities, Facility, "organization", Organization),
        (records, SubmittalElementRecord, "regulator", Regulator),
        (records, SubmittalElementRecord, "submitted_by", get_user_model()),
    )
    for objects, model, name, target in related:
        field = model._meta.get_field(name)
        wanted = {getattr(obj, field.attname) for obj in objects} - {None}
        found = {}
        if wanted:
            reads = _RELATED_READS.get(name)
            found_in = target.objects.filter(pk__any=wanted)
            if reads is None:
                found = {obj.pk: obj for obj in found_in}
            else:
                rows = found_in.values_list(*reads)
                db = rows.db
                found = {row[0]: _loaded(target, reads, row, db) for row in rows}
        for obj in objects:
            field.set_cached_value(obj, found.get(getattr(obj, field.attname)))


# What reviewing many elements reads of them and of their facilities (``lock_for_review``).
_RECORD_READS = (
    "id",
    "key",
    "element",
    "status",
    "facility_id",
    "regulator_id",
    "submitted_by_id",
    "submitted_at",
    "action_at",
    "action_comments",
)
_FACILITY_READS = (
    "id",
    "cers_id",
    "name",
    "street",
    "city",
    "state",
    "zip_code",
    "organization_id",
)
# And of the objects they share (``_share_related``), primary key first; those not named
# (the agencies, a few) are read whole.
_RELATED_READS = {"organization": ("id", "name"), "submitted_by": ("id", "email")}


@transaction.atomic(durable=True)
def review_selected(
    *, actor, seen: Mapping[uuid.UUID, str], status: int, comments: str = ""
) -> list[SubmittalElementRecord]:
    """One regulator action (Accepted, Under Review...) on many elements at once, as the
    review queue's bulk action asks: ``seen`` maps each element's CERS unique key to its
    state as the reviewer saw it (``review_seen``). The elements are locked, then reviewed
    through ``apply_reviews``: all of them, or, when any was reviewed since, is not the
    actor's to review or the action breaks a rule, none, with every problem listed by
    element."""
    locked = lock_for_review(seen)
    gone = len(seen) - len(locked)
    if gone:
        raise ValidationError(
            f"{gone} of the selected elements no longer exist; reload the queue and select again."
        )
    return apply_reviews(
        actor=actor,
        actions=[
            ReviewAction(record=record, status=status, comments=comments, seen=seen[key])
            for key, record in locked.items()
        ],
    )


def _save_reviews(records: list[SubmittalElementRecord]) -> None:
    """Write the review fields of a batch: one UPDATE for each set of elements given the same
    action (an agency's system usually sets one status at one time for many), then the rest
    at once: on PostgreSQL in one UPDATE from arrays of their values (``unnest``), elsewhere
    with ``bulk_update``."""
    if len(records) == 1:
        records[0].save(update_fields=list(REVIEW_FIELDS))
        return
    fields = [SubmittalElementRecord._meta.get_field(name) for name in REVIEW_FIELDS]
    columns = [field.attname for field in fields]
    alike: dict[tuple, list[int]] = defaultdict(list)
    for record in records:
        alike[tuple(getattr(record, column) for column in columns)].append(record.pk)
    by_pk = {record.pk: record for record in records}
    alone = []
    for values, pks in alike.items():
        if len(pks) == 1:
            alone.append(by_pk[pks[0]])
            continue
        for start in range(0, len(pks), BATCH_SIZE):
            SubmittalElementRecord.objects.filter(pk__any=pks[start : start + BATCH_SIZE]).update(
                **dict(zip(columns, values, strict=True))
            )
    if not alone:
        return
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        # CASE WHEN grows with the batch on both sides: small batches stay linear.
        SubmittalElementRecord.objects.bulk_update(alone, list(REVIEW_FIELDS), batch_size=100)
        return
    quote = connection.ops.quote_name
    types = ["integer", "bigint", "timestamptz", "text", "text", "text"]  # REVIEW_FIELDS'
    names = [quote(field.column) for field in fields]
    # Names from the model, values as parameters.
    sql = (
        f"UPDATE {quote(SubmittalElementRecord._meta.db_table)} AS e SET "  # noqa: S608
        + ", ".join(f"{name} = v.{name}" for name in names)
        + " FROM unnest(%s::bigint[], "
        + ", ".join(f"%s::{kind}[]" for kind in types)
        + f") AS v(id, {', '.join(names)}) WHERE e.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                [record.pk for record in alone],
                *([getattr(record, column) for record in alone] for column in columns),
            ],
        )


@transaction.atomic
def apply_reviews(
    *,
    actor,
    actions: Sequence[ReviewAction],
    due_dates: Mapping[tuple[int, int], date] | None = None,
) -> list[SubmittalElementRecord]:
    """Record regulator actions on many submitted elements at once, as ``review`` records
    one: each element's status, agent and comments change, each action has its audit event
    (the element's review history), and the businesses are told by e-mail.

    The records are those the caller locked in its transaction (``lock_for_review``), which
    this one joins. The actor must be allowed to review each (``submittals.review``). Actions
    apply in order: an element named twice ends with the second action, and the second audit
    event starts from the first one's status. Any action breaking the review rules refuses
    them all, listing every problem. An element accepted gets its next due date from its
    agency's rule, unless ``due_dates`` (by ``(facility id, element)``) gives it one
    (``facilities.services.schedule_after_acceptance``, as the same actor).

    ``Reviews`` is the same service for actions too many to hold at once, given a batch at a
    time.
    """
    reviews = Reviews(actor=actor)
    records = reviews.apply(actions, due_dates=due_dates)
    reviews.tell_businesses()
    return records


class Reviews:
    """``apply_reviews`` a batch at a time, within the caller's transaction: ``apply`` writes
    each batch as ``apply_reviews`` does (its checks, the elements, the audit events, the due
    dates), and ``tell_businesses``, once after the last batch, queues the e-mails, each
    address told of all its actions of every batch in one e-mail per organization. Between
    batches only what the e-mails need is kept, one row per action (``_Told``): in memory up
    to ``HELD_LINES``, beyond that, on PostgreSQL, in a temporary table of the transaction;
    the e-mails are then written from it one organization at a time."""

    def __init__(self, *, actor):
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("Reviews must run inside the transaction of the change.")
        self.actor = actor
        self.now = timezone.now()
        self.default_name = actor.get_full_name() or actor.email
        self._held: list[_Told] = []
        self._table: str | None = None  # the temporary table, once lines were moved there
        self._count = 0

    @transaction.atomic
    def apply(
        self,
        actions: Sequence[ReviewAction],
        due_dates: Mapping[tuple[int, int], date] | None = None,
    ) -> list[SubmittalElementRecord]:
        """One batch (see ``apply_reviews``); its records are locked by the caller."""
        actor = self.actor
        for action in actions:
            require(actor, "submittals.review", action.record)
        checked, errors = [], []
        for action in actions:
            try:
                if action.seen is not None and (stale := _stale_review(action.record, action.seen)):
                    raise ValidationError(stale)
                checked.append(check_review(action.status, action.comments))
            except ValidationError as error:
                errors.append((action.record, error))
        if errors:
            if len(actions) == 1:
                raise errors[0][1]
            raise ValidationError(
                [
                    ValidationError(
                        f"{record.get_element_display()} of CERS ID {record.facility.cers_id}: "
                        f"{message}"
                    )
                    for record, error in errors
                    for message in error.messages
                ]
            )

        events, changed, told = [], {}, []
        # An agency's system sets a few states on many elements: each state's JSON for the
        # audit events is written once a batch, and the reviewer set as ``action_by`` without
        # the descriptor's checks of every assignment (a foreign key to one known user).
        states: dict[tuple[int, str], JsonText] = {}
        action_by, actor_pk = SubmittalElementRecord._meta.get_field("action_by"), actor.pk
        for action, (status, comments) in zip(actions, checked, strict=True):
            record = action.record
            before = _review_state(states, int(record.status), record.action_comments)
            record.status = status
            record.action_by_id = actor_pk
            action_by.set_cached_value(record, actor)
            record.action_at = action.action_at or self.now
            record.action_agent_name = action.agent_name or self.default_name
            record.action_agent_email = action.agent_email or actor.email
            record.action_comments = comments
            changed[record.pk] = record
            organization = record.facility.organization
            events.append(
                audit_event(
                    actor,
                    "submittal.reviewed",
                    record,
                    before=before,
                    after=_review_state(states, int(record.status), comments),
                    organization=organization,
                    regulator=record.regulator,
                )
            )
            told.append(self._told(record, organization))
            if len(events) == BATCH_SIZE:  # written a batch at a time: not all held at once
                record_events(events)
                events = []
        _save_reviews(list(changed.values()))
        if events:
            record_events(events)
        schedule_after_acceptance(
            actor=actor,
            accepted=[
                (
                    record.facility_id,
                    record.element,
                    record.regulator_id,
                    timezone.localdate(record.action_at),
                )
                for record in changed.values()
                if record.status == ElementStatus.ACCEPTED
            ],
            due_dates=due_dates,
        )
        self._held += told
        if len(self._held) >= HELD_LINES and transaction.get_connection().vendor == "postgresql":
            self._move_to_table()
        return [action.record for action in actions]

    def _told(self, record: SubmittalElementRecord, organization) -> _Told:
        """What the business will be told of this action, as it is now (an element acted on
        twice in one upload changes again afterwards)."""
        facility = record.facility
        submitter = record.submitted_by
        self._count += 1
        return _Told(
            organization.pk,
            0 if record.status == ElementStatus.NOT_ACCEPTED else 1,
            facility.cers_id,
            record.element,
            self._count,
            submitter.email if submitter is not None else "",
            int(record.status),
            record.action_comments,
            record.action_at,
            record.action_agent_name,
            record.action_agent_email,
            record.regulator_id,
            record.regulator.name,
            record.regulator.code,
            facility.name,
            facility.address,
            record.submitted_at,
            organization.name,
        )

    def _move_to_table(self) -> None:
        """Move the held lines into the transaction's temporary table (COPY)."""
        with transaction.get_connection().cursor() as cursor:
            if self._table is None:
                self._table = f"review_told_{uuid.uuid4().hex}"
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {self._table} ({_TOLD_COLUMNS}) ON COMMIT DROP"
                )
            with cursor.copy(f"COPY {self._table} FROM STDIN") as copy_in:
                for told in self._held:
                    copy_in.write_row(told)
        self._held = []

    def _lines(self) -> Iterable[_Told]:
        """Every line held, in the order the e-mails list them: by organization, Not
        Accepted first, then by facility and element, in the order of the actions."""
        if self._table is None:
            held, self._held = self._held, []
            yield from sorted(held)
            return
        self._move_to_table()
        connection = transaction.get_connection()
        with connection.chunked_cursor() as cursor:
            cursor.execute(f"SELECT * FROM {self._table} ORDER BY {_TOLD_ORDER}")  # noqa: S608
            while rows := cursor.fetchmany(BATCH_SIZE):
                yield from (_Told(*row) for row in rows)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {self._table}")
        self._table = None

    def tell_businesses(self) -> None:
        """E-mail each action to the organization's Lead Users and the element's submitter.

        Each address hears of exactly the actions it would be told of one by one, in one
        e-mail per organization: addresses told of the same actions share it. One action is
        told as the portal's review tells it; several in a summary. The lines are read in
        their order an organization at a time, a summary keeping the first
        ``SUMMARY_MAX_LINES`` of them and the counts of all; the e-mails are written for a
        few hundred organizations at a time."""
        pending: list[tuple[int, _Summary, dict[str, tuple[str, _Summary]]]] = []
        held = 0
        for organization_id, lines in groupby(self._lines(), key=attrgetter("organization_id")):
            everything, submitters = _Summary(), {}
            for line in lines:
                everything.add(line)
                if address := line.submitter_email:
                    submitters.setdefault(address.lower(), (address, _Summary()))[1].add(line)
            pending.append((organization_id, everything, submitters))
            held += len(everything.lines)
            if len(pending) >= EMAIL_BATCH or held >= BATCH_SIZE * 10:
                _queue_review_emails(pending)
                pending, held = [], 0
        if pending:
            _queue_review_emails(pending)


def _review_state(states: dict[tuple[int, str], JsonText], status: int, comments: str):
    """An element's review state as its audit event keeps it, with its JSON text, written
    once for the states of a batch alike (``states``)."""
    state = states.get((status, comments))
    if state is None:
        state = states[status, comments] = json_text({"status": status, "comments": comments})
    return state


# Lines of review e-mails held in memory by ``Reviews`` before they go to a temporary table.
HELD_LINES = BATCH_SIZE


class _Told(NamedTuple):
    """What the business is told of one action; its first five fields are the order the
    e-mails list the lines in (``_TOLD_ORDER``)."""

    organization_id: int
    later: int  # 0: Not Accepted, listed first (the business has work to do on it)
    cers_id: int
    element: int
    number: int  # the action's position among all of them
    submitter_email: str
    status: int
    comments: str
    action_at: datetime
    agent_name: str
    agent_email: str
    regulator_id: int
    regulator_name: str
    regulator_code: str
    facility_name: str
    facility_address: str
    submitted_at: datetime
    organization_name: str

    def summary(self, zone) -> str:
        """The action as a summary e-mail lists it, its times in ``zone``. Written here, not
        in the template: a thousand lines through the template language cost more than the
        rest of an upload."""
        text = (
            f"{SubmittalElement(self.element).label} of {self.facility_name}, "
            f"{self.facility_address} (CERS ID {self.cers_id}), submitted "
            f"{_local(self.submitted_at, '%Y-%m-%d', zone)}\n"
            f"Status: {ElementStatus(self.status).label}, by {self.agent_name} "
            f"<{self.agent_email}>, {_local(self.action_at, '%Y-%m-%d %H:%M %Z', zone)}"
        )
        if self.comments:
            text += f"\nRegulator's comments: {self.comments}"
        return text


@lru_cache(maxsize=1024)
def _local(moment: datetime, form: str, zone) -> str:
    """``moment`` in the time zone ``zone``, written in ``form``: remembered, for an agency's
    system often sends one time for many actions, and many elements share a submission."""
    return f"{timezone.localtime(moment, zone):{form}}"


_TOLD_TYPES = {int: "bigint", str: "text", datetime: "timestamptz"}
_TOLD_COLUMNS = ", ".join(
    f"{name} {_TOLD_TYPES[kind]}" for name, kind in get_type_hints(_Told).items()
)
_TOLD_ORDER = ", ".join(_Told._fields[:5])

# A summary lists this many actions at most (about 200 kB of text); its counts cover all.
SUMMARY_MAX_LINES = 1000


class _Summary:
    """What one e-mail tells: the count of its actions by status, their agencies, and its
    first ``SUMMARY_MAX_LINES`` lines in order."""

    __slots__ = ("count", "counts", "not_accepted", "regulators", "lines")

    def __init__(self):
        self.count = self.not_accepted = 0
        self.counts: dict[int, int] = defaultdict(int)
        # Each agency: its first action's number, and "name (code)"; listed in that order.
        self.regulators: dict[int, tuple[int, str]] = {}
        self.lines: list[_Told] = []

    def add(self, line: _Told) -> None:
        self.count += 1
        self.counts[line.status] += 1
        self.not_accepted += line.status == ElementStatus.NOT_ACCEPTED
        first = self.regulators.get(line.regulator_id)
        if first is None or line.number < first[0]:
            label = f"{line.regulator_name} ({line.regulator_code})"
            self.regulators[line.regulator_id] = (line.number, label)
        if len(self.lines) < SUMMARY_MAX_LINES:
            self.lines.append(line)


def _mails_of(
    everything: _Summary, submitters: dict[str, tuple[str, _Summary]], leads: list[str]
) -> list[tuple[list[str], _Summary]]:
    """The e-mails of one organization's actions: the Lead Users hear of every action, each
    submitter of the actions on their elements; addresses that hear of the same actions
    share one e-mail. Two submitters never hear of the same actions (an element has one), so
    only a submitter who heard of every action shares the Lead Users' e-mail."""
    leads = _unique(leads)
    is_lead = {address.lower() for address in leads}
    told_all, mails = [*leads], []
    for lowered, (address, summary) in submitters.items():
        if lowered in is_lead:
            continue
        if summary.count == everything.count:
            told_all.append(address)
        else:
            mails.append(([address], summary))
    if told_all:
        mails.insert(0, (told_all, everything))
    return mails


# Organizations whose review e-mails are written together.
EMAIL_BATCH = 500


def _queue_review_emails(pending) -> None:
    """Queue the e-mails of these organizations' actions (``Reviews.tell_businesses``),
    reading their Lead Users at once: the lines carry the rest."""
    leads = lead_user_emails_by_organization([pk for pk, _everything, _submitters in pending])
    mails = [
        (to, "submittals/email/review", _one_review(summary.lines[0]))
        if summary.count == 1
        else (to, "submittals/email/reviews", _reviews(summary))
        for pk, everything, submitters in pending
        for to, summary in _mails_of(everything, submitters, leads.get(pk, []))
    ]
    if mails:
        queue_emails(mails)


def _one_review(line: _Told) -> dict:
    """The e-mail of one action, as the portal's review tells it. The template reads the
    line's values under the names of the models it was written for."""
    return {
        "record": {
            "submitted_at": line.submitted_at,
            "status": line.status,
            "action_agent_name": line.agent_name,
            "action_agent_email": line.agent_email,
            "action_at": line.action_at,
        },
        "facility": {
            "name": line.facility_name,
            "address": line.facility_address,
            "cers_id": line.cers_id,
        },
        "organization": {"name": line.organization_name},
        "element": SubmittalElement(line.element).label,
        "status": ElementStatus(line.status).label,
        "regulator": {"name": line.regulator_name, "code": line.regulator_code},
        "comments": line.comments,
        "link": settings.SITE_URL + reverse("business:submittals", args=[line.cers_id]),
    }


def _reviews(summary: _Summary) -> dict:
    """The summary: Not Accepted first (the business has work to do), then by facility."""
    first = summary.lines[0]
    zone = timezone.get_current_timezone()
    return {
        "organization": {"name": first.organization_name},
        # The lists written here, a line each, as the template would write them, at a
        # fraction of the cost of its loops.
        "lines": "".join(f"\n{line.summary(zone)}\n" for line in summary.lines),
        "unlisted": summary.count - len(summary.lines),
        "count": summary.count,
        "counts": "".join(
            f"\n{ElementStatus(value).label}: {n}" for value, n in sorted(summary.counts.items())
        ),
        "regulators": [label for _number, label in sorted(summary.regulators.values())],
        "not_accepted": summary.not_accepted,
    }
