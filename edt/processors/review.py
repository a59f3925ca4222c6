"""RFSAN, the Regulator Facility Submittal Action Notification (tier 4): a CUPA's own system
sets the review status of submitted elements, exactly as a reviewer does on the review page.

Every notification is checked, and every problem is reported: the element's key must exist
(1051) and belong to the CERS ID given (1054) and be of the type the ``code`` attribute names
(1013); the element must be routed to the calling CUPA or one of its PAs (1053); the regulator
code must be that agency (1049); the action must be later than the element's current one
(1052; an element named twice: the second later than the first); Not Accepted needs
comments; a next due date may not be in the past (1075).

The document is read streaming, ``RECORDS_PER_BATCH`` notifications at a time, each batch's
elements locked and checked together and, while no problem was found, written through
``submittals.services.Reviews`` (``apply_reviews`` a batch at a time), so the element, its
history, its audit events and the business's e-mail are those of the portal's review (one
e-mail per organization, queued after the last batch), and the next due dates given win over
the agency's rule for an accepted element (``due_dates``, written by
``facilities.services.set_next_due_dates`` with their audit events). Everything is one
transaction, the upload's: a problem in any batch rejects the whole upload, the batches before
it rolled back, and the rest is still read for more problems. Between batches nothing is held
but the e-mails' lines (see ``Reviews``) and the problems found.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import date
from itertools import batched

from django.core.exceptions import ValidationError
from django.utils import timezone
from lxml import etree

from core.xmlsafe import PARSER_OPTIONS, GuidanceMessage
from regulators.models import Regulator
from submittals.models import ElementStatus
from submittals.services import ReviewAction, Reviews, check_review, lock_for_review

from ..uploads import UploadContext, UploadRejected, processes
from .reading import day, in_the_future, moment

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


def _read(notification) -> dict[str, str]:
    """A notification's fields by name, read in one pass over its children (its text as
    ``findtext`` gives it: "" for an empty element), and its ``code`` attribute."""
    fields = {child.tag: child.text or "" for child in notification}
    fields["code"] = notification.get("code", "")
    fields["line"] = notification.sourceline
    return fields


def _notifications(data: bytes) -> Iterator[dict[str, str]]:
    """Each ``SubmittalElements/SubmittalElement`` of the document, read (``_read``) as the
    parser reaches its end and dropped at once: the document's tree is never built."""
    events = etree.iterparse(
        io.BytesIO(data), events=("end",), tag="SubmittalElement", **PARSER_OPTIONS
    )
    for _event, element in events:
        parent = element.getparent()
        if parent is None:
            continue
        root = parent.getparent()
        if parent.tag == "SubmittalElements" and root is not None and root.getparent() is None:
            yield _read(element)
        element.clear(keep_tail=True)
        while element.getprevious() is not None:
            del parent[0]


# Notifications read, checked and written at a time: what the processing holds.
RECORDS_PER_BATCH = 500


def _occurrences(data: bytes, text: str) -> int:
    """How often ``text`` (ASCII) is in the document, in the encoding it is written in: UTF-16
    behind its byte order mark, or one that writes ASCII as ASCII."""
    codec = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}.get(data[:2], "ascii")
    return data.count(text.encode(codec))


@processes("RFSAN")
def process_action_notifications(context: UploadContext) -> None:
    regulator = context.regulator
    agencies = _agencies(regulator)
    now, today = timezone.now(), timezone.localdate()
    total = _occurrences(context.data, "</SubmittalElement>")  # for the progress report only
    reviews = Reviews(actor=context.actor)
    problems: list[GuidanceMessage] = []
    number = 0
    for batch in batched(_notifications(context.data), RECORDS_PER_BATCH):
        keys = [_key(n.get("CERSUniqueKey")) for n in batch]
        uuids = [_uuid(key) for key in keys]
        records = lock_for_review(u for u in uuids if u is not None)
        actions: list[ReviewAction] = []
        due_dates: dict[tuple[int, int], date] = {}
        moments: dict[str, object] = {}  # an agency's system often sends one time for many
        acted: dict[int, object] = {}  # an element's action earlier in this batch
        for notification, key, key_uuid in zip(batch, keys, uuids, strict=True):
            number += 1
            found: list[tuple[int, str]] = []
            record = records.get(key_uuid)
            if record is None:
                found.append(
                    (NOT_FOUND, f"There is no submitted element with CERSUniqueKey {key}.")
                )
            elif record.regulator_id not in agencies or record.status == ElementStatus.DRAFT:
                found.append(
                    (NOT_AUTHORIZED, f"Element {key} is not routed to {regulator.name} or its PAs.")
                )
            else:
                action_on, status, comments, next_due = _check(
                    notification,
                    record,
                    key,
                    regulator,
                    now,
                    today,
                    moments,
                    found,
                    acted.get(record.pk),
                )
            if found:
                where = f"SubmittalElement {number} (line {notification['line']})"
                problems.extend(
                    GuidanceMessage(code, "Required", message, location=where, cers_unique_key=key)
                    for code, message in found
                )
            if problems:
                continue  # nothing will be stored: only look for more problems
            actions.append(
                ReviewAction(
                    record=record,
                    status=status,
                    comments=comments,
                    action_at=action_on,
                    agent_name=notification.get("SubmittalActionAgentName", "").strip(),
                    agent_email=notification.get("SubmittalActionAgentEmail", "").strip(),
                )
            )
            acted[record.pk] = action_on
            if next_due is not None:
                due_dates[record.facility_id, record.element] = next_due
        if not problems:
            reviews.apply(actions, due_dates=due_dates)
        context.progress(number, total)

    if problems:
        raise UploadRejected(problems)
    reviews.tell_businesses()


def _check(notification, record, key, regulator, now, today, moments, found, earlier=None):
    """The checks of one notification on its element; each problem is appended to ``found``
    as ``(code, message)``. ``earlier``: the element's action before in the same batch (one
    in an earlier batch is written already). Returns the action's time, status, comments and
    next due date."""
    if notification.get("CERSID", "").strip() != str(record.facility.cers_id):
        found.append(
            (INVALID_CERSID, f"Element {key} belongs to CERS ID {record.facility.cers_id}.")
        )
    if notification["code"].strip() != str(record.element):
        found.append(
            (
                ENTITY_ERROR,
                f"Element {key} is a {record.get_element_display()} (code {record.element}), "
                f"not code {notification['code']}.",
            )
        )
    code = notification.get("RegulatorCode", "").strip()
    if code != regulator.code:
        found.append(
            (
                INVALID_REGULATOR_CODE,
                f"RegulatorCode {code} is not the calling agency's code {regulator.code}.",
            )
        )
    text = notification.get("SubmittalActionOn", "")
    if text not in moments:
        moments[text] = moment(text)
    action_on = moments[text]
    if action_on is None:
        found.append((ENTITY_ERROR, "SubmittalActionOn is not a date and time."))
    elif action_on > now:
        found.append((1056, in_the_future("SubmittalActionOn", action_on, now)))
    else:
        current = earlier or record.action_at or record.submitted_at
        # The XML carries whole seconds: compare at that precision.
        if current and action_on < current.replace(microsecond=0):
            found.append(
                (
                    ACTION_MUST_BE_LATER,
                    f"SubmittalActionOn {timezone.localtime(action_on):%Y-%m-%d %H:%M %Z} is "
                    "earlier than the element's last action "
                    f"({timezone.localtime(current):%Y-%m-%d %H:%M %Z}).",
                )
            )
    status = comments = None
    try:
        status, comments = check_review(
            notification.get("SubmittalAction", ""),
            notification.get("SubmittalActionComments", ""),
        )
    except ValidationError as error:
        found.extend((ENTITY_ERROR, message) for message in error.messages)
        return action_on, status, comments, None
    due_text = notification.get("NextDueDate")
    try:
        next_due: date | None = day(due_text)
    except ValueError:
        found.append((ENTITY_ERROR, f"NextDueDate {due_text.strip()} is not a date."))
        return action_on, status, comments, None
    if next_due is not None and next_due < today:
        found.append((NEXT_DUE_DATE_OUT_OF_RANGE, f"NextDueDate {next_due} is in the past."))
    return action_on, status, comments, next_due
