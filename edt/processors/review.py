"""RFSAN, the Regulator Facility Submittal Action Notification (tier 4): a CUPA's own system
sets the review status of submitted elements, exactly as a reviewer does on the review page.

Every notification is checked before anything is written, and every problem is reported: the
element's key must exist (1051) and belong to the CERS ID given (1054) and be of the type the
``code`` attribute names (1013); the element must be routed to the calling CUPA or one of its
PAs (1053); the regulator code must be that agency (1049); the action must be later than the
element's current one (1052); Not Accepted needs comments; a next due date may not be in the
past (1075). The elements are locked and checked together; when all pass they go through
``submittals.services.apply_reviews``, so the element, its history, its audit events and the
business's e-mail are those of the portal's review (one e-mail per organization), and the
next due dates given win over the agency's rule for an accepted element (``apply_reviews``'s
``due_dates``, written by ``facilities.services.set_next_due_dates`` with their audit events).
"""

from __future__ import annotations

import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date

from core.xmlsafe import GuidanceMessage
from regulators.models import Regulator
from submittals.models import ElementStatus
from submittals.services import (
    BATCH_SIZE,
    ReviewAction,
    apply_reviews,
    check_review,
    lock_for_review,
)

from ..uploads import UploadContext, UploadRejected, processes
from .reading import moment

INVALID_REGULATOR_CODE = 1049
NOT_FOUND = 1051
ACTION_MUST_BE_LATER = 1052
NOT_AUTHORIZED = 1053
INVALID_CERSID = 1054
ENTITY_ERROR = 1013
NEXT_DUE_DATE_OUT_OF_RANGE = 1075


def _key(text: str | None) -> str:
    return (text or "").strip().strip("{}").lower()


def _uuid(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key) if len(key) == 36 else None
    except ValueError:
        return None


def _agencies(regulator: Regulator) -> set[int]:
    """The agencies whose elements the calling CUPA may act on: itself and its PAs."""
    return {regulator.pk, *Regulator.objects.filter(parent=regulator).values_list("pk", flat=True)}


@processes("RFSAN")
def process_action_notifications(context: UploadContext) -> None:
    regulator = context.regulator
    notifications = context.root.findall("SubmittalElements/SubmittalElement")
    keys = [_key(n.findtext("CERSUniqueKey")) for n in notifications]
    uuids = [_uuid(key) for key in keys]
    total = len(notifications)
    records = lock_for_review(u for u in uuids if u is not None)
    agencies = _agencies(regulator)
    now, today = timezone.now(), timezone.localdate()
    problems: list[GuidanceMessage] = []
    actions: list[ReviewAction] = []
    due_dates: dict[tuple[int, int], date] = {}
    for number, (notification, key, key_uuid) in enumerate(
        zip(notifications, keys, uuids, strict=True), 1
    ):
        where = f"SubmittalElement {number} (line {notification.sourceline})"

        def problem(code: int, message: str, key=key, where=where) -> None:
            problems.append(
                GuidanceMessage(code, "Required", message, location=where, cers_unique_key=key)
            )

        if number % BATCH_SIZE == 0:
            context.progress(number, total)
        record = records.get(key_uuid)
        if record is None:
            problem(NOT_FOUND, f"There is no submitted element with CERSUniqueKey {key}.")
            continue
        if record.regulator_id not in agencies or record.status == ElementStatus.DRAFT:
            problem(NOT_AUTHORIZED, f"Element {key} is not routed to {regulator.name} or its PAs.")
            continue
        if notification.findtext("CERSID", "").strip() != str(record.facility.cers_id):
            problem(INVALID_CERSID, f"Element {key} belongs to CERS ID {record.facility.cers_id}.")
        if notification.get("code", "").strip() != str(record.element):
            problem(
                ENTITY_ERROR,
                f"Element {key} is a {record.get_element_display()} (code {record.element}), "
                f"not code {notification.get('code')}.",
            )
        code = notification.findtext("RegulatorCode", "").strip()
        if code != regulator.code:
            problem(
                INVALID_REGULATOR_CODE,
                f"RegulatorCode {code} is not the calling agency's code {regulator.code}.",
            )
        action_on = moment(notification.findtext("SubmittalActionOn", ""))
        if action_on is None:
            problem(ENTITY_ERROR, "SubmittalActionOn is not a date and time.")
        elif action_on > now:
            problem(1056, "SubmittalActionOn is in the future.")
        else:
            current = record.action_at or record.submitted_at
            # The XML carries whole seconds: compare at that precision.
            if current and action_on < current.replace(microsecond=0):
                problem(
                    ACTION_MUST_BE_LATER,
                    f"SubmittalActionOn {action_on:%Y-%m-%d %H:%M} is earlier than the "
                    f"element's last action ({timezone.localtime(current):%Y-%m-%d %H:%M}).",
                )
        try:
            status, comments = check_review(
                notification.findtext("SubmittalAction", ""),
                notification.findtext("SubmittalActionComments", ""),
            )
        except ValidationError as error:
            for message in error.messages:
                problem(ENTITY_ERROR, message)
            continue
        due_text = notification.findtext("NextDueDate")
        next_due: date | None = parse_date(due_text.strip()) if due_text else None
        if next_due is not None and next_due < today:
            problem(NEXT_DUE_DATE_OUT_OF_RANGE, f"NextDueDate {next_due} is in the past.")
        if problems:
            continue  # nothing will be stored: only look for more problems
        actions.append(
            ReviewAction(
                record=record,
                status=status,
                comments=comments,
                action_at=action_on,
                agent_name=notification.findtext("SubmittalActionAgentName", "").strip(),
                agent_email=notification.findtext("SubmittalActionAgentEmail", "").strip(),
            )
        )
        if next_due is not None:
            due_dates[record.facility_id, record.element] = next_due

    if problems:
        raise UploadRejected(problems)
    apply_reviews(actor=context.actor, actions=actions, due_dates=due_dates)
    context.progress(total, total)
