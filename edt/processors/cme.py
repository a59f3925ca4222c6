"""RCMES (Tier 3): a CUPA's inspections, violations, enforcement actions and their links, added,
changed and deleted from its local system, all or nothing.

Each record names its agency in its header (``RegulatorCode``): the CUPA itself or one of its
Participating Agencies, for the program elements that agency handles at the facility, exactly
as the agency's staff would record it in the portal. Records are written through
``cme.services``, the portal's own services, inside the upload's one transaction, so they show
in the portal as if entered there, with the same audit events and the same rule
(``cme.rules``); the actor is the EDT account's user, acting for its agency. The records the
document adds, the most of a large one, are written ``RECORDS_PER_CHUNK`` at a time by
``cme.services.record_cme_batch``, and those it changes (an agency's system sends again the
records it changed, and the links it sends again or takes over) by
``cme.services.update_cme_batch``, and those it deletes, links too, by
``cme.services.delete_cme_batch`` (each record checked and audited as the portal's single
services do), so the queries of an upload grow with its chunks, not with the records it adds,
changes or deletes.

Matching. A record is identified by its regulator key (20.0045-20.0048) among the records of
the CUPA and its PAs. An Approved (``CMEDataStatus`` 2) record whose key is known updates that
record: the complete record is sent, an element left out clears its field, and its
``RegulatorActionDateTime`` must be later than the one stored (1052). An unknown key adds a
record. Deleted (3) deletes the record; a key that matches nothing is a Warning (1051), as the
record is already gone. Records entered in the portal have no regulator key, so EDT cannot
change them. When a document holds the same record more than once, only the one with the
latest ``RegulatorActionDateTime`` is processed (on a tie, the last in the document). A
``RegulatorActionDateTime`` more than ``ACTION_TIME_DRIFT`` ahead of the server's clock is
stored as sent, with a Warning (1056): until that time, corrections of the record are refused.

Deletes remove the rows (the portal has no "deleted" status; the audit events keep the
history): deleting an inspection deletes its violations and their links (a Warning, code 1063,
says how many the document did not delete itself), deleting a violation or an enforcement
action deletes its links. Deletes are done first, children before parents, then the Approved
records: inspections, violations, enforcement actions, links (those changed, then those
added, parents before children). A link is added or removed by changing its enforcement
action's list of violations, as the portal does, each with its own audit event.

A PA's records keep the PA as their agency, and the audit events name it, as when the PA's
staff record them; the CUPA's EDT account is the actor.

Rules, each with its guidance code, all reported before the upload is rejected:

- 1049 an unknown regulator code; 1068 an agency that is neither the CUPA nor one of its PAs;
  1053 an agency that does not handle the program element (or the facility) there;
- 1054 an unknown CERS ID; 1051 a violation's inspection, or a link's enforcement action or
  violation, that is neither in the document nor stored; 1063 an Approved record whose parent
  the document deletes; 1052 an action time not later than the stored one;
- the ``cme.services`` checks (``clean_inspection``, ``clean_violation``,
  ``clean_enforcement``), each message coded by what it checks: 1055 a date before 1 October
  1980 or before the date it follows, 1056 a date in the future, 1050 a violation type not in
  the library (or not valid on the violation's date), 1079 one that does not fit the
  inspection's program element, 1057 neither a scheduled nor an actual return to compliance,
  1058 a scheduled one before the violation, 1059 an actual one outside the violation date and
  today, 1060 an actual one without its qualifier, 1061 a qualifier without the date, 1062 an
  enforcement action before a linked violation, 1064 a link across facilities, 1017 a red tag
  number that is not five digits, 1013 any other;
- 1013 a change that would move a record to another facility, agency, inspection or pair.

Reading. The document is never built as one tree: it is read streaming (``iterparse``), each
record dropped once read. A first pass keeps a compact index of every record (``Record``: its
entity, key, place, header, CERS ID, the keys of the parents it names), from which the latest
of each record, the stored records and agencies it names and the look-ups of parents are
found (the stored ones by a query per chunk of keys, each kept as ``Stored``: its primary
key, CERS unique key, last action time and its parents' keys, what the checks made from the
index need, from the start, so that every check sees them as they were). Its values are read
again, ``RECORDS_PER_CHUNK`` records at a time, only for the records that need them (the
changes, then the records added), and dropped with their chunk, as are the stored rows its
checks read (``Submission.prepare``). What grows with the document is the index, some 300
bytes a record, and the ``Stored`` of the records its keys match (those it changes or deletes,
and their parents), a few hundred bytes more each.

Checking and writing. The deletes and the links are checked from the index. The deletes
(links, then violations, then enforcement actions, then inspections) are written a chunk of
one entity at a time, each chunk handed whole to ``delete_cme_batch``, which checks each
delete as the portal does (the rule for the record, or for an action's linked violations; a
link's action checked with the violations it keeps, as a new list of them is) and deletes
them all, with their events, or none. When it refuses one, the chunk is deleted one by one,
each record in a savepoint, as the portal's single services delete it, so that every
record's messages are those it earns alone. The changes are then checked a chunk at a time (the
rule asked of the chunk at once, ``cme.rules.refusals``; inspections and violations first,
then enforcement actions) and each chunk handed whole to ``update_cme_batch``, which checks
each change once more as the portal does (the rules only a write can check too: an inspection
with violations keeps its program element, an action is not dated before a violation it
links) and writes them all, with their EDT keys, or none. When it refuses one, the chunk is
written one by one, each record in a savepoint, as the portal's single services write it, so
that every record's messages are those it earns after the changes before it. Then the keys of
the links sent again or taken over (made in the portal, the same pair) are written a chunk at a
time by ``update_cme_batch`` (each link still stored, one its agency may record, and free of
another key), or one by one when it refuses one, in the same way. Each chunk of added records
is checked where it belongs (its agency, facility and parents) and handed whole to
``record_cme_batch``, which checks each record once, as the portal does, and writes them all or
none; a parent added in an earlier chunk is found by the row written for it. When the batch
refuses a record, the chunk is checked record by record as the portal's forms would (each
record alone, the rule asked once) and what passed is handed to the batch again, so that every
record's own messages are reported, with the rules across records (such as a link's action
dated before its violation) the batch finds. A record that failed its check is not written, nor
anything that depends on it. Any message at Required level rejects the whole upload: everything
written is rolled back with it.

EDT carries no inspector: an inspection added through EDT records ``EDT_INSPECTOR`` as its
inspector's name, and a change keeps the name stored.
"""

from __future__ import annotations

import datetime
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import batched
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from lxml import etree

from cme import services
from cme.models import Enforcement, EnforcementViolation, Inspection, Violation
from cme.rules import CmeWork, refusals
from core.xmlsafe import PARSER_OPTIONS, GuidanceLevel, GuidanceMessage
from facilities.models import Facility
from regulators.models import Regulator

from ..api.cme_query import CMEDataStatus, answering_for
from ..uploads import UploadContext, UploadRejected, processes
from .reading import moment

EDT_INSPECTOR = "Not given (recorded through EDT)"

# Guidance message codes (CDR 20.0078).
ENTITY_VALIDATION_ERROR = 1013
DOES_NOT_MATCH_PATTERN = 1017
INVALID_REGULATOR_CODE = 1049
INVALID_VIOLATION_TYPE = 1050
KEY_NOT_FOUND = 1051
ACTION_TIME_NOT_LATER = 1052
NOT_AUTHORIZED = 1053
INVALID_CERSID = 1054
DATE_TOO_EARLY = 1055
DATE_IN_FUTURE = 1056
NO_RETURN_TO_COMPLIANCE = 1057
SCHEDULED_RTC_BEFORE_VIOLATION = 1058
ACTUAL_RTC_OUT_OF_RANGE = 1059
RTC_QUALIFIER_MISSING = 1060
RTC_DATE_MISSING = 1061
VIOLATION_AFTER_ENFORCEMENT = 1062
PARENT_DELETED = 1063
FACILITIES_DIFFER = 1064
NOT_ON_BEHALF = 1068
TYPE_DOES_NOT_FIT = 1079


class Resource(StrEnum):
    """EntityResource codes (CDR 20.0070) of the CME entities."""

    INSPECTION = "CMEI"
    VIOLATION = "CMEV"
    ENFORCEMENT = "CMEE"
    LINK = "CMEEV"


LABELS = {
    Resource.INSPECTION: "Inspection",
    Resource.VIOLATION: "Violation",
    Resource.ENFORCEMENT: "Enforcement",
    Resource.LINK: "Enforcement-violation link",
}
# Where each entity's records are in the document, and the tag of its own key and header.
LAYOUT = {
    Resource.INSPECTION: ("Inspections/Inspection", "InspectionRegulatorKey", "InspectionHeader"),
    Resource.ENFORCEMENT: (
        "Enforcements/Enforcement",
        "EnforcementRegulatorKey",
        "EnforcementHeader",
    ),
    Resource.VIOLATION: ("Violations/Violation", "ViolationRegulatorKey", "ViolationHeader"),
    Resource.LINK: (
        "EnforcementViolations/EnforcementViolation",
        "EnforcementViolationRegulatorKey",
        "EnforcementViolationHeader",
    ),
}


# The records whose values are read, checked and written at a time: besides the document's
# index, what the processing holds.
RECORDS_PER_CHUNK = 1000
# How far ahead of the server's clock a RegulatorActionDateTime may be before it is told (two
# systems' clocks drift apart by seconds, rarely minutes).
ACTION_TIME_DRIFT = datetime.timedelta(minutes=5)

# Each record's tag: its entity and the tag of the list it stands in.
RECORD_TAGS = {
    path.split("/")[1]: (resource, path.split("/")[0])
    for resource, (path, _k, _h) in LAYOUT.items()
}
# The parents a child names, each by its entity and the tag of its key in the child.
PARENTS = {
    Resource.VIOLATION: ((Resource.INSPECTION, "InspectionRegulatorKey"),),
    Resource.LINK: (
        (Resource.ENFORCEMENT, "EnforcementRegulatorKey"),
        (Resource.VIOLATION, "ViolationRegulatorKey"),
    ),
}
MODELS = {
    Resource.INSPECTION: Inspection,
    Resource.VIOLATION: Violation,
    Resource.ENFORCEMENT: Enforcement,
    Resource.LINK: EnforcementViolation,
}


class Stored(NamedTuple):
    """A stored record the document names, as ``Submission.load`` holds it for the whole
    document: what the checks made from the index need (its key, CERS unique key, last action
    time and the keys of the parents it belongs to, as ``Record.parent_keys``). Its row, which
    the checks of its values need, is read with its chunk (``Submission.prepare``)."""

    pk: int
    cers_key: uuid.UUID
    regulator_action_at: datetime.datetime | None
    parent_keys: tuple[str, ...] = ()


@dataclass(eq=False, slots=True)
class Record:
    """One record of the document as its index holds it (the same record only equals itself):
    what matching, ordering and the look-ups of parents need. Its values (``fields``, the text
    of each child element by tag) are there only while its chunk is checked and written."""

    resource: Resource
    order: int
    line: int
    key: str
    regulator_code: str
    action_at: datetime.datetime | None
    status: int
    cers_id: int | None = None  # an inspection's or an enforcement action's
    parent_keys: tuple[str, ...] = ()  # the keys of the parents it names (``PARENTS``)
    program_element: str = ""  # an inspection's, which its violations are checked against
    regulator: Regulator | None = None
    stored: Stored | None = None  # the record its key matches, if any
    unreadable: str = ""  # why a value could not be read
    failed: bool = False
    written_pk: int | None = None  # the row as written (or deleted)
    written_key: str | None = None  # and its CERS unique key, as the answer gives it
    fields: dict[str, str] | None = None

    @property
    def deleted(self) -> bool:
        return self.status == CMEDataStatus.DELETED

    @property
    def location(self) -> str:
        return f"line {self.line} (/CMESubmittals/{LAYOUT[self.resource][0]})"

    def parents(self) -> Iterator[tuple[Resource, str, str]]:
        """Each parent it names: its entity, the tag of its key here, and the key."""
        for (resource, tag), key in zip(
            PARENTS.get(self.resource, ()), self.parent_keys, strict=True
        ):
            yield resource, tag, key

    def parent_key(self, tag: str) -> str:
        return next((key for _r, parent_tag, key in self.parents() if parent_tag == tag), "")

    def text(self, tag: str) -> str:
        return self.fields.get(tag, "")

    def date(self, tag: str) -> datetime.date | None:
        value = self.fields.get(tag, "")
        # xs:date may carry a time zone after the day ("2021-08-17Z"): the day is what counts.
        return datetime.date.fromisoformat(value[:10]) if value else None

    def number(self, tag: str) -> int | None:
        value = self.fields.get(tag, "")
        return int(value) if value else None


def _elements(data: bytes) -> Iterator[tuple[Resource, etree._Element]]:
    """Each record of the document, in document order, as the parser reaches its end, dropped
    once the caller has read it: the document's tree is never built."""
    events = etree.iterparse(
        io.BytesIO(data), events=("end",), tag=tuple(RECORD_TAGS), **PARSER_OPTIONS
    )
    for _event, element in events:
        resource, list_tag = RECORD_TAGS[element.tag]
        parent = element.getparent()
        root = parent.getparent() if parent is not None else None
        if parent is None or parent.tag != list_tag or root is None or root.getparent() is not None:
            continue  # not a record (the schema has none such): left to its own record
        yield resource, element
        element.clear(keep_tail=True)
        while element.getprevious() is not None:
            del parent[0]


def _texts(element: etree._Element) -> dict[str, str]:
    """The stripped text of each child element by tag, read in one pass (the first of a tag,
    as ``findtext`` reads it; "" for an empty one)."""
    texts: dict[str, str] = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag not in texts:
            texts[tag] = (child.text or "").strip()
    return texts


def read_index(data: bytes) -> list[Record]:
    """Every record of the document, in document order (the schema's order: inspections,
    enforcement actions, violations, links), indexed without its values."""
    records = []
    # An agency's system sends the same few codes and often one time for many records: each
    # read once, and held once.
    codes: dict[str, str] = {}
    moments: dict[str | None, datetime.datetime | ValueError] = {}
    for order, (resource, element) in enumerate(_elements(data), start=1):
        _path, key_tag, header_tag = LAYOUT[resource]
        texts = _texts(element)
        header = element.find(header_tag)
        code = header.findtext("RegulatorCode")
        if code not in codes:
            # A positiveInteger may be written "+1001" or "01001".
            codes[code] = str(int(code))
        record = Record(
            resource=resource,
            order=order,
            line=element.sourceline,
            key=texts.get(key_tag, ""),
            regulator_code=codes[code],
            action_at=None,
            status=int(header.findtext("CMEDataStatus")),
        )
        if resource in (Resource.INSPECTION, Resource.ENFORCEMENT):
            record.cers_id = int(texts.get("CERSID", ""))
        if resource == Resource.INSPECTION:
            record.program_element = texts.get("ProgramElement", "")
        if resource in PARENTS:
            record.parent_keys = tuple(texts.get(tag, "") for _r, tag in PARENTS[resource])
        tag = "RegulatorActionDateTime"
        try:
            record.action_at = _moment(header.findtext(tag), moments)
            for tag, value in texts.items():
                if value and tag.endswith("On"):  # every date of the record reads
                    datetime.date.fromisoformat(value[:10])
        except ValueError as error:
            record.unreadable = f"{tag} cannot be read: {error}."
        records.append(record)
    return records


def _moment(text: str | None, moments: dict) -> datetime.datetime:
    """``moment(text, required=True)``, read once per text."""
    if text not in moments:
        try:
            moments[text] = moment(text, required=True)
        except ValueError as error:
            moments[text] = error
    found = moments[text]
    if isinstance(found, ValueError):
        raise ValueError(*found.args)
    return found


def read_values(data: bytes, wanted: list[Record]) -> Iterator[list[Record]]:
    """``wanted`` (records of the index, in document order), ``RECORDS_PER_CHUNK`` at a time,
    each with its ``fields`` read from the document; a chunk's fields are dropped when the next
    is read, and the document is read no further than its last wanted record."""
    if not wanted:
        return
    chunk: list[Record] = []
    position = 0
    for order, (_resource, element) in enumerate(_elements(data), start=1):
        record = wanted[position]
        if order != record.order:
            continue
        record.fields = _texts(element)
        chunk.append(record)
        position += 1
        if len(chunk) == RECORDS_PER_CHUNK or position == len(wanted):
            yield chunk
            for done in chunk:
                done.fields = None
            chunk = []
            if position == len(wanted):
                return


def latest_of_each(records: list[Record]) -> list[Record]:
    """One record per entity and key: the latest action time wins, the last one on a tie."""
    winners: dict[Resource, dict[str, Record]] = {resource: {} for resource in Resource}
    for record in records:
        current = winners[record.resource].get(record.key)
        if current is None or _later_or_same(record, current):
            winners[record.resource][record.key] = record
    if sum(map(len, winners.values())) == len(records):
        return records  # no record twice
    return sorted((r for found in winners.values() for r in found.values()), key=lambda r: r.order)


def _later_or_same(record: Record, current: Record) -> bool:
    if record.action_at is None or current.action_at is None:
        return True
    return record.action_at >= current.action_at


def _message(record: Record, code: int, text: str, level=GuidanceLevel.REQUIRED):
    stored = record.stored
    return GuidanceMessage(
        code=code,
        level=level,
        message=f"{LABELS[record.resource]} {record.key}: {text}",
        location=record.location,
        entity_resource=record.resource,
        regulator_key=record.key,
        cers_unique_key=str(stored.cers_key) if stored is not None else "",
    )


# --- what each service message means -------------------------------------------------------


def guidance_code(resource: Resource, field_name: str, text: str) -> int:
    """The guidance code of a ``cme.services`` message about ``field_name``."""
    if resource == Resource.VIOLATION:
        if field_name == "violation_type":
            return TYPE_DOES_NOT_FIT if "does not fit" in text else INVALID_VIOLATION_TYPE
        if field_name == "return_to_compliance_on":
            if "scheduled one" in text:
                return NO_RETURN_TO_COMPLIANCE
            if "qualifier says" in text:
                return RTC_DATE_MISSING
            return ACTUAL_RTC_OUT_OF_RANGE
        if field_name == "rtc_qualifier" and "how the return" in text:
            return RTC_QUALIFIER_MISSING
        if field_name == "scheduled_rtc_on":
            return SCHEDULED_RTC_BEFORE_VIOLATION
    if resource in (Resource.ENFORCEMENT, Resource.LINK):
        if field_name == "violations":
            return FACILITIES_DIFFER
        if "linked violation" in text:
            return VIOLATION_AFTER_ENFORCEMENT
        if field_name == "red_tag_number":
            return DOES_NOT_MATCH_PATTERN
    if "in the future" in text:
        return DATE_IN_FUTURE
    if "cannot be before" in text:
        return DATE_TOO_EARLY
    return ENTITY_VALIDATION_ERROR


# --- the submission ------------------------------------------------------------------------


@dataclass
class Submission:
    """One RCMES document being checked and written, from its index (``read_index``)."""

    context: UploadContext
    records: list[Record]
    problems: list[tuple[int, GuidanceMessage]] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # warnings of an upload that is stored
    stored: dict[Resource, dict[str, Stored]] = field(default_factory=dict)
    linked_pairs: dict[str, int] = field(default_factory=dict)  # the links' keys, by key
    # Of the chunk being checked: its facilities, its stored inspections and enforcement
    # actions (and the violations' stored inspections) by key, library entries and the rule.
    facilities: dict[int, Facility] = field(default_factory=dict)
    rows: dict[Resource, dict[str, object]] = field(default_factory=dict)
    library: dict = field(default_factory=dict)
    works: list[tuple[Record, CmeWork]] = field(default_factory=list)
    done: int = 0  # records written, for the progress report

    def __post_init__(self):
        # One record per entity and key (``latest_of_each``): found by its key.
        self.by_key: dict[Resource, dict[str, Record]] = {resource: {} for resource in Resource}
        for record in self.records:
            self.by_key[record.resource][record.key] = record

    def of(self, resource: Resource) -> list[Record]:
        return [r for r in self.records if r.resource == resource]

    def in_document(self, resource: Resource, key: str) -> Record | None:
        return self.by_key[resource].get(key)

    def refuse(self, record: Record, code: int, text: str) -> None:
        record.failed = True
        self.problems.append((record.order, _message(record, code, text)))

    def guidance(self) -> list[GuidanceMessage]:
        """The problems found, in document order."""
        return [message for _order, message in sorted(self.problems, key=lambda p: p[0])]

    def refuse_error(self, record: Record, error: Exception) -> None:
        if isinstance(error, PermissionDenied):
            self.refuse(record, NOT_AUTHORIZED, str(error) or "Not allowed.")
        elif hasattr(error, "error_dict"):
            for name, texts in error.message_dict.items():
                for text in texts:
                    self.refuse(record, guidance_code(record.resource, name, text), text)
        else:
            for text in error.messages:
                self.refuse(record, ENTITY_VALIDATION_ERROR, text)

    # -- loading --------------------------------------------------------------------------

    def load(self) -> None:
        """The agencies and stored records the document names (``Stored``, not their rows): a
        few queries, whatever its size. (Facilities, library entries and the stored rows the
        checks of values read are read with each chunk, ``prepare``.)"""
        caller = self.context.regulator
        family = answering_for(caller)
        codes = {r.regulator_code for r in self.records}
        known = {a.code: a for a in Regulator.objects.filter(code__in=codes)}
        allowed = {a.pk for a in family}
        for record in self.records:
            agency = known.get(record.regulator_code)
            if agency is None:
                self.refuse(
                    record,
                    INVALID_REGULATOR_CODE,
                    f"No agency has the regulator code {record.regulator_code}.",
                )
            elif agency.pk not in allowed:
                self.refuse(
                    record,
                    NOT_ON_BEHALF,
                    f"{caller.name} submits CME for itself and its Participating Agencies; "
                    f"{agency.name} ({agency.code}) is neither.",
                )
            else:
                record.regulator = agency
        self.stored = self._stored(family)
        for record in self.records:
            record.stored = self.stored[record.resource].get(record.key)
        self.linked_pairs = self._linked_pairs()

    def _linked_pairs(self) -> dict[str, int]:
        """The new links, by key, whose stored action already links the stored violation
        (linked in the portal), each the stored link's primary key: one query."""
        wanted: dict[tuple[int, int], str] = {}
        for record in self.of(Resource.LINK):
            if record.deleted or record.stored is not None:
                continue
            ends = []
            for resource, _tag, key in record.parents():
                sent = self.in_document(resource, key)
                if sent is not None and sent.stored is None:
                    break  # added by this document: not linked yet
                stored = self.stored[resource].get(key)
                if stored is None:
                    break
                ends.append(stored.pk)
            else:
                wanted[tuple(ends)] = record.key
        if not wanted:
            return {}
        pairs = EnforcementViolation.objects.filter(
            enforcement__in={e for e, _v in wanted}, violation__in={v for _e, v in wanted}
        ).values_list("pk", "enforcement_id", "violation_id", "regulator_key")
        # A stored link the document deletes is gone when the new one is written: added anew.
        deleted = {r.key for r in self.of(Resource.LINK) if r.deleted}
        return {
            wanted[e, v]: pk
            for pk, e, v, key in pairs
            if (e, v) in wanted and not (key and key in deleted)
        }

    def _stored(self, family: list[Regulator]) -> dict[Resource, dict[str, object]]:
        def keys(resource: Resource) -> set[str]:
            """The keys of ``resource``'s records and those its children name."""
            found = set()
            for record in self.records:
                if record.resource == resource:
                    found.add(record.key)
                    continue
                for parent, _tag, key in record.parents():
                    if parent == resource and key:
                        found.add(key)
            return found

        # Each entity's records, with the keys of the parents they belong to (``Stored``).
        stored_of = {
            Resource.INSPECTION: (Inspection.objects.filter(regulator__in=family), ()),
            Resource.VIOLATION: (
                Violation.objects.filter(inspection__regulator__in=family),
                ("inspection__regulator_key",),
            ),
            Resource.ENFORCEMENT: (Enforcement.objects.filter(regulator__in=family), ()),
            Resource.LINK: (
                EnforcementViolation.objects.filter(enforcement__regulator__in=family),
                ("enforcement__regulator_key", "violation__regulator_key"),
            ),
        }
        found: dict[Resource, dict[str, Stored]] = {}
        for resource, (queryset, parents) in stored_of.items():
            found[resource] = {}
            columns = ("regulator_key", "pk", "cers_key", "regulator_action_at", *parents)
            # A chunk of keys a query: one list of every key costs the driver more memory
            # than the records it finds.
            for batch in batched(sorted(keys(resource)), RECORDS_PER_CHUNK):
                for key, pk, cers_key, action_at, *parent_keys in queryset.filter(
                    regulator_key__any=batch
                ).values_list(*columns):
                    found[resource][key] = Stored(pk, cers_key, action_at, tuple(parent_keys))
        return found

    def prepare(self, chunk: list[Record]) -> None:
        """The facilities and library entries a chunk names (its records' and their
        inspections'), and the stored rows its checks read (those its inspections and
        enforcement actions change, and the stored inspections of its violations): a query
        each. They replace the previous chunk's."""
        cers_ids, numbers = set(), set()
        wanted: dict[Resource, set[int]] = {Resource.INSPECTION: set(), Resource.ENFORCEMENT: set()}
        for record in chunk:
            if record.resource in wanted and record.stored is not None:
                wanted[record.resource].add(record.stored.pk)
            if record.cers_id is not None:
                cers_ids.add(record.cers_id)
            elif record.resource == Resource.VIOLATION:
                numbers.add(record.text("TypeID"))
                key = record.parent_keys[0]
                parent = self.in_document(Resource.INSPECTION, key)
                if parent is not None:
                    cers_ids.add(parent.cers_id)
                elif key in self.stored[Resource.INSPECTION]:
                    wanted[Resource.INSPECTION].add(self.stored[Resource.INSPECTION][key].pk)
        self.facilities = (
            {
                f.cers_id: f
                # What the checks, the rule and the rows read of a facility: its keys.
                for f in Facility.objects.filter(cers_id__any=cers_ids).only("pk", "cers_id")
            }
            if cers_ids
            else {}
        )
        self.library = services.violation_library(numbers) if numbers else {}
        self.rows = {
            resource: {
                row.regulator_key: row
                for row in MODELS[resource]
                .objects.filter(pk__in=pks)
                .select_related("facility", "regulator")
            }
            if pks
            else {}
            for resource, pks in wanted.items()
        }

    def row(self, record: Record):
        """The stored row of ``record`` as its chunk read it (``prepare``); None if none."""
        return self.rows.get(record.resource, {}).get(record.key)

    def instance(self, record: Record):
        """The stored record of ``record`` as the services take it: a row of only its keys,
        which they lock and read again."""
        stored = record.stored
        return MODELS[record.resource](pk=stored.pk, cers_key=stored.cers_key)

    # -- the whole document, in order -----------------------------------------------------

    def run(self) -> None:
        """Check and write every record: deletes, changes, links sent again or taken over,
        records added."""
        data = self.context.data
        checked = [r for r in self.records if r.regulator is not None and not r.failed]
        self._note_action_times_ahead(checked)
        # What the index says all of: the deletes and the links.
        for record in checked:
            if record.deleted:
                self._check_action_time(record)
                if record.stored is None:
                    self.context.warn(
                        f"{LABELS[record.resource]} {record.key}: no record has this key; "
                        "there is nothing to delete.",
                        code=KEY_NOT_FOUND,
                        location=record.location,
                        entity_resource=record.resource,
                        regulator_key=record.key,
                    )
            elif record.resource == Resource.LINK:
                self._check_action_time(record)
                self.check_link(record)
        # The deletes, children first, a chunk of one entity at a time.
        for resource in DELETE_ORDER:
            deletes = [r for r in self.of(resource) if r.deleted and r.stored]
            for chunk in batched(deletes, RECORDS_PER_CHUNK):
                self.delete(list(chunk))
        # The changes, a chunk at a time: checked, then written in ``WRITE_ORDER``.
        changed = [
            r
            for r in checked
            if not r.deleted and r.stored is not None and r.resource != Resource.LINK
        ]
        for resources in ((Resource.INSPECTION, Resource.VIOLATION), (Resource.ENFORCEMENT,)):
            wanted = [r for r in changed if r.resource in resources]
            for chunk in read_values(data, wanted):
                self.prepare(chunk)
                for record in chunk:
                    self._check_action_time(record)
                    self.check_values(record, self.check_place(record))
                self.ask_rule()
                self.change(chunk)
        # The links sent again or taken over: only their keys are written, a chunk at a time.
        keyed = [
            r
            for r in self.of(Resource.LINK)
            if not r.deleted and (r.stored is not None or self._adopts_link(r))
        ]
        for chunk in batched(keyed, RECORDS_PER_CHUNK):
            self.change(list(chunk))
        # The records added, a chunk at a time, parents before children (the schema's order).
        added = [
            r
            for r in checked
            if not r.deleted and not r.failed and r.stored is None and not self._adopts_link(r)
        ]
        for chunk in read_values(data, added):
            self.add(chunk)
            self.done += len(chunk)
            self.context.progress(self.done, len(self.records))
        self.context.progress(len(self.records), len(self.records))

    def answer_keys(self) -> None:
        """The keys of what was written, deletes first, in the order of the writes."""
        for deleted, order in ((True, DELETE_ORDER), (False, WRITE_ORDER)):
            for resource in order:
                for record in self.records:
                    if (
                        record.resource == resource
                        and record.deleted == deleted
                        and record.written_key is not None
                    ):
                        self.context.entity(record.resource, record.written_key, record.key)

    # -- checking -------------------------------------------------------------------------

    def _note_action_times_ahead(self, records: list[Record]) -> None:
        """A Warning (1056) for each RegulatorActionDateTime ahead of the clock by more than
        clocks drift apart: stored as sent, as CalEPA stores it, but until that time comes
        every correction of the record carrying a true time is refused (1052). A system
        sending UTC times without their zone, read as Pacific, is 7 or 8 hours ahead."""
        now = timezone.now()
        for record in records:
            if record.action_at is None or record.action_at <= now + ACTION_TIME_DRIFT:
                continue
            ahead = record.action_at - now
            hours = ahead.total_seconds() / 3600
            self.context.warn(
                f"{LABELS[record.resource]} {record.key}: its RegulatorActionDateTime, "
                f"{timezone.localtime(record.action_at):%Y-%m-%d %H:%M %Z}, is "
                f"{hours:.1f} hours ahead of this server's clock "
                f"({timezone.localtime(now):%Y-%m-%d %H:%M %Z}). It is stored as sent, but "
                "until then a correction of this record must carry a still later time. If the "
                "time is UTC, send it with its zone (Z or +00:00).",
                code=DATE_IN_FUTURE,
                location=record.location,
                entity_resource=record.resource,
                regulator_key=record.key,
            )

    def _check_action_time(self, record: Record) -> None:
        stored = record.stored
        moment = getattr(stored, "regulator_action_at", None)
        if moment is not None and record.action_at <= moment:
            self.refuse(
                record,
                ACTION_TIME_NOT_LATER,
                "RegulatorActionDateTime must be later than the stored record's "
                f"({timezone.localtime(stored.regulator_action_at).isoformat()}).",
            )

    def facility(self, record: Record):
        cers_id = record.cers_id
        facility = self.facilities.get(cers_id)
        if facility is None:
            self.refuse(record, INVALID_CERSID, f"There is no facility with CERSID {cers_id}.")
        return facility

    def unmoved(self, record: Record, what: str, was, now) -> None:
        """Refuse a change of what a stored record belongs to (``was`` to ``now``)."""
        if was != now:
            self.refuse(
                record,
                ENTITY_VALIDATION_ERROR,
                f"It is recorded for {what} {was}; it cannot move to {now}. Delete it and add "
                "it again under a new key.",
            )

    def same_place(self, record: Record, facility) -> None:
        """An inspection or enforcement action stays with its agency and facility."""
        stored = self.row(record)
        if stored is not None:
            self.unmoved(record, "agency", stored.regulator.code, record.regulator.code)
            if facility is not None:
                self.unmoved(record, "facility", stored.facility.cers_id, facility.cers_id)

    def jurisdiction(self, record: Record, facility, program_element: str) -> None:
        """Ask the rule for ``record`` when the chunk is checked (``ask_rule``)."""
        self.works.append((record, CmeWork(record.regulator, facility, program_element)))

    def ask_rule(self) -> None:
        """The rule, asked of every record of the chunk checked at once: a few queries."""
        if not self.works:
            return
        denied = refusals(self.actor, [work for _record, work in self.works])
        for record, work in self.works:
            if work in denied:
                self.refuse(record, NOT_AUTHORIZED, str(denied[work]))
        self.works = []

    def parent(self, record: Record, resource: Resource, tag: str):
        """The record's parent of ``resource`` by its key under ``tag``: the one the document
        adds or changes, else the stored one (``Stored``). Refuses a missing or deleted
        parent."""
        key = record.parent_key(tag)
        sent = self.in_document(resource, key)
        label = LABELS[resource].lower()
        if sent is not None and sent.deleted:
            self.refuse(
                record,
                PARENT_DELETED,
                f"The document deletes its {label} {key}; an Approved record cannot belong to "
                "a deleted one.",
            )
            return None
        if sent is not None:
            return sent
        stored = self.stored[resource].get(key)
        if stored is None:
            self.refuse(
                record, KEY_NOT_FOUND, f"No {label} has the {tag} {key}, here or stored in CERS."
            )
        return stored

    def check_place(self, record: Record):
        """Where an inspection, violation or enforcement action belongs, checked: its facility
        (an inspection's or an enforcement action's, None if unknown) or its inspection (a
        violation's, None if missing or deleted), and a change stays where it was."""
        if record.resource == Resource.VIOLATION:
            key = record.parent_key("InspectionRegulatorKey")
            parent = self.parent(record, Resource.INSPECTION, "InspectionRegulatorKey")
            if record.stored is not None and parent is not None:
                self.unmoved(record, "inspection", record.stored.parent_keys[0], key)
            if isinstance(parent, Stored):
                return self.rows[Resource.INSPECTION].get(key)  # read with the chunk
            return parent
        facility = self.facility(record)
        self.same_place(record, facility)
        return facility

    def check_values(self, record: Record, place) -> None:
        """The ``cme.services`` checks of a record's values, where ``check_place`` found it
        belongs, and the rule asked for it (``ask_rule``), as the portal's forms check one."""
        if record.resource == Resource.INSPECTION:
            try:
                values = services.clean_inspection(inspection_values(record, self.row(record)))
            except ValidationError as error:
                self.refuse_error(record, error)
                return
            if place is not None:
                self.jurisdiction(record, place, values["program_element"])
        elif record.resource == Resource.VIOLATION:
            if place is None:
                return
            if isinstance(place, Record):
                program_element = place.program_element
                facility = self.facilities.get(place.cers_id)
            else:
                program_element, facility = place.program_element, place.facility
            try:
                services.clean_violation(
                    Inspection(program_element=program_element),
                    violation_values(record),
                    self.library,
                )
            except ValidationError as error:
                self.refuse_error(record, error)
            if facility is not None:
                self.jurisdiction(record, facility, program_element)
        elif record.resource == Resource.ENFORCEMENT:
            try:
                services.clean_enforcement(enforcement_values(record), place, [])
            except ValidationError as error:
                self.refuse_error(record, error)

    def check_link(self, record: Record) -> None:
        enforcement = self.parent(record, Resource.ENFORCEMENT, "EnforcementRegulatorKey")
        violation = self.parent(record, Resource.VIOLATION, "ViolationRegulatorKey")
        stored = record.stored
        if stored is not None and enforcement is not None and violation is not None:
            pair = record.parent_keys
            was = stored.parent_keys
            self.unmoved(record, "enforcement/violation", "/".join(was), "/".join(pair))

    # -- writing --------------------------------------------------------------------------

    def write_steps(self, steps: list[tuple[Record, Callable]]) -> None:
        """Changes and deletes (links' too) whose batch was refused, one by one, each in a
        savepoint (a rule across records may refuse one)."""
        for record, step in steps:
            if record.failed or record.regulator is None or self._depends_on_failed(record):
                continue
            try:
                with transaction.atomic():  # a savepoint: a failed write leaves no trace
                    step(self, record)
            except (ValidationError, PermissionDenied) as error:
                self.refuse_error(record, error)
                continue
            self.done += 1
            if self.done % 100 == 0:
                self.context.progress(self.done, len(self.records))

    def change(self, chunk: list[Record]) -> None:
        """A chunk of changes (checked), or of links sent again or taken over, handed to
        ``update_cme_batch``, which checks each once more, as the portal does, and writes them
        all or none. If it refuses any, the chunk is written one by one (``write_steps``), so
        that every record's messages are the ones it earns in the order of the document,
        after the changes before it."""
        items: dict[Record, services.ChangedRecord] = {}
        for record in chunk:
            if record.failed or record.regulator is None or self._depends_on_failed(record):
                continue
            keys = edt_keys(record)
            if record.resource == Resource.INSPECTION:
                item = services.ChangedInspection(
                    inspection=self.instance(record),
                    changes=inspection_values(record, self.row(record)),
                    **keys,
                )
            elif record.resource == Resource.VIOLATION:
                item = services.ChangedViolation(
                    violation=self.instance(record), changes=violation_values(record), **keys
                )
            elif record.resource == Resource.ENFORCEMENT:
                item = services.ChangedEnforcement(
                    enforcement=self.instance(record), changes=enforcement_values(record), **keys
                )
            else:
                item = services.ChangedLink(link=self.link(record), **keys)
            items[record] = item
        if items:
            self.write_chunk(chunk, items, services.update_cme_batch, WRITES, library=self.library)

    def delete(self, chunk: list[Record]) -> None:
        """A chunk of deletes of one entity (links, violations, enforcement actions or
        inspections) handed to ``delete_cme_batch``, which checks each as the portal's single
        delete does and deletes them all or none. If it refuses any, the chunk is deleted one
        by one (``write_steps``), so that every record's messages are the ones it earns
        alone."""
        items: dict[Record, services.DeletedRecord] = {}
        for record in chunk:
            if record.failed or record.regulator is None or self._depends_on_failed(record):
                continue
            keys = {"regulator": record.regulator, "tag": record}
            stored = self.instance(record)
            if record.resource == Resource.INSPECTION:
                items[record] = services.DeletedInspection(inspection=stored, **keys)
            elif record.resource == Resource.VIOLATION:
                items[record] = services.DeletedViolation(violation=stored, **keys)
            elif record.resource == Resource.ENFORCEMENT:
                items[record] = services.DeletedEnforcement(enforcement=stored, **keys)
            else:
                items[record] = services.DeletedLink(link=stored, **keys)
        if items and self.write_chunk(chunk, items, services.delete_cme_batch, DELETES):
            for record, item in items.items():
                if isinstance(item, services.DeletedInspection):
                    self.note_cascade(record, item.written, len(item.cascaded))

    def write_chunk(self, chunk: list[Record], items: dict, service, one_by_one, **extra) -> bool:
        """Hand a chunk's ``items`` to ``service`` (``update_cme_batch`` or
        ``delete_cme_batch``, ``hand_to``) and report progress. If it refuses any, the chunk is
        written one by one instead (``write_steps`` with ``one_by_one``, each record's single
        write), so that every record's messages are the ones it earns alone: answers False."""
        try:
            self.hand_to(service, items, **extra)
        except (ValidationError, PermissionDenied):
            self.write_steps([(r, one_by_one[r.resource]) for r in chunk])
            return False
        for record, item in items.items():
            self.written(record, item.written)
        self.done += len(items)
        self.context.progress(self.done, len(self.records))
        return True

    def hand_to(self, service, items: dict, **extra) -> None:
        """Call the CME batch ``service`` with ``items`` (by record) split into their
        inspections, violations, enforcement actions and links, each in the document's order."""
        kinds = {
            Resource.INSPECTION: "inspections",
            Resource.VIOLATION: "violations",
            Resource.ENFORCEMENT: "enforcements",
            Resource.LINK: "links",
        }
        split: dict[str, list] = {name: [] for name in kinds.values()}
        for record, item in items.items():
            split[kinds[record.resource]].append(item)
        service(actor=self.actor, **split, **extra)

    def note_cascade(self, record: Record, inspection: Inspection, children: int) -> None:
        """The Warning (1063) of a deleted inspection whose violations the document did not
        all delete itself: they went with it."""
        if not children:
            return
        self.notes.append(
            {
                "message": f"Inspection {record.key}: deleting it deleted its {children} "
                "other violation(s) and their enforcement links too.",
                "code": PARENT_DELETED,
                "location": record.location,
                "entity_resource": record.resource,
                "regulator_key": record.key,
                "cers_unique_key": str(inspection.cers_key),
            }
        )

    def _adopts_link(self, record: Record) -> bool:
        """A new link whose pair is already linked (in the portal) takes its keys (``change``);
        ``load`` found those pairs."""
        return record.resource == Resource.LINK and record.key in self.linked_pairs

    def link(self, record: Record) -> EnforcementViolation:
        """The stored link whose keys a link sent again, or taking a pair over, writes."""
        if record.stored is not None:
            return self.instance(record)
        return EnforcementViolation(pk=self.linked_pairs[record.key])

    def add(self, chunk: list[Record]) -> None:
        """A chunk of added records (their values read): each checked where it belongs, then
        those that may be written handed to ``record_cme_batch``, which checks each once and
        writes them all or none. If it refuses any, the chunk is checked record by record
        (``check_values``) and what passed is written (``write_reported``), so that every
        message is the one the record earns alone. A record left out (it failed, or what it
        depends on was not written) is checked record by record too."""
        self.prepare(chunk)
        places = {
            record: self.check_place(record)
            for record in chunk
            if record.resource != Resource.LINK  # checked from the index (``run``)
        }
        items = self.batch_items(chunk)
        for record, place in places.items():
            if record not in items:
                self.check_values(record, place)
        if items:
            try:
                self.record(items)
            except (ValidationError, PermissionDenied):
                for record, place in places.items():
                    if record in items:
                        self.check_values(record, place)
                self.ask_rule()
                self.write_reported(self.batch_items(chunk))
                return
        self.ask_rule()

    def batch_items(self, chunk: list[Record]) -> dict[Record, services.NewRecord]:
        """The records of ``chunk`` that may be written, as ``record_cme_batch`` takes them:
        not failed, their parents found (added in the chunk, written before, or stored)."""
        items: dict[Record, services.NewRecord] = {}
        for record in chunk:
            if record.failed or record.regulator is None or record.written_key is not None:
                continue
            keys = edt_keys(record)
            if record.resource == Resource.INSPECTION:
                items[record] = services.NewInspection(
                    facility=self.facilities[record.cers_id],
                    values=inspection_values(record, None),
                    **keys,
                )
            elif record.resource == Resource.ENFORCEMENT:
                items[record] = services.NewEnforcement(
                    facility=self.facilities[record.cers_id],
                    values=enforcement_values(record),
                    **keys,
                )
            elif record.resource == Resource.VIOLATION:
                inspection = self._batch_parent(record, 0, items)
                if inspection is not None:
                    items[record] = services.NewViolation(
                        inspection=inspection, values=violation_values(record), **keys
                    )
            else:
                enforcement = self._batch_parent(record, 0, items)
                violation = self._batch_parent(record, 1, items)
                if enforcement is not None and violation is not None:
                    items[record] = services.NewLink(
                        enforcement=enforcement, violation=violation, **keys
                    )
        return items

    def _batch_parent(self, record: Record, which: int, items: dict):
        """A parent as ``record_cme_batch`` takes it: the item of the chunk, the row written
        (changed, or added by an earlier chunk) or the one stored; None if not written."""
        resource, _tag = PARENTS[record.resource][which]
        key = record.parent_keys[which]
        sent = self.in_document(resource, key)
        if sent is None:
            stored = self.stored[resource].get(key)
            return MODELS[resource](pk=stored.pk) if stored is not None else None
        if sent.stored is not None:
            return MODELS[resource](pk=sent.stored.pk) if sent.written_key is not None else None
        if sent in items:
            return items[sent]
        if sent.written_pk is not None:
            return MODELS[resource](pk=sent.written_pk)
        return None

    def record(self, items: dict[Record, services.NewRecord]) -> None:
        """Write ``items`` through ``record_cme_batch`` (all or none)."""
        self.hand_to(services.record_cme_batch, items, library=self.library)
        for record, item in items.items():
            self.written(record, item.written)

    def write_reported(self, items: dict[Record, services.NewRecord]) -> None:
        """Write ``items`` (checked record by record), reporting each refusal of the batch
        (the rules across records); what was not refused, nor depends on what was, is written
        still, so that a later chunk finds its parents and is checked as it would be with
        them."""
        while items:
            try:
                self.record(items)
                return
            except services.RecordsRefused as refused:
                out = set()
                for item, error in refused.refused:
                    self.refuse_error(item.tag, error)
                    out.add(item)
                kept = {}
                for record, item in items.items():
                    ends = (getattr(item, name, None) for name in PARENT_ATTRIBUTES)
                    if item in out or any(
                        isinstance(end, services.NewRecord) and end in out for end in ends
                    ):
                        out.add(item)
                    else:
                        kept[record] = item
                items = kept
            except (ValidationError, PermissionDenied) as error:
                for record in items:
                    self.refuse_error(record, error)
                return

    def _depends_on_failed(self, record: Record) -> bool:
        if record.deleted:
            return False
        for resource, _tag, key in record.parents():
            sent = self.in_document(resource, key)
            if sent is not None and (sent.failed or sent.regulator is None):
                return True
        return False

    def keep_keys(self, record: Record, obj) -> None:
        type(obj).objects.filter(pk=obj.pk).update(
            regulator_key=record.key, regulator_action_at=record.action_at
        )
        self.written(record, obj)

    @staticmethod
    def written(record: Record, obj) -> None:
        record.written_pk, record.written_key = obj.pk, str(obj.cers_key)

    @property
    def actor(self):
        return self.context.actor

    # Changes and deletes, one record each, when their chunk's batch (``change``, ``delete``)
    # was refused: the records added go to ``add``.

    def write_inspection(self, record: Record) -> None:
        inspection = services.update_inspection(
            actor=self.actor,
            regulator=record.regulator,
            inspection=self.instance(record),
            **inspection_values(record, self.row(record)),
        )
        self.keep_keys(record, inspection)

    def write_violation(self, record: Record) -> None:
        violation = services.update_violation(
            actor=self.actor,
            regulator=record.regulator,
            violation=self.instance(record),
            **violation_values(record),
        )
        self.keep_keys(record, violation)

    def write_enforcement(self, record: Record) -> None:
        enforcement = services.update_enforcement(
            actor=self.actor,
            regulator=record.regulator,
            enforcement=self.instance(record),
            **enforcement_values(record),
        )
        self.keep_keys(record, enforcement)

    def write_link(self, record: Record) -> None:
        """A stored link sent again, or a pair linked in the portal, which takes the keys."""
        link = services.update_link_keys(
            actor=self.actor,
            regulator=record.regulator,
            link=self.link(record),
            regulator_key=record.key,
            regulator_action_at=record.action_at,
        )
        self.written(record, link)

    def delete_inspection(self, record: Record) -> None:
        inspection = self.instance(record)
        children = inspection.violations.count()  # those the document deletes are gone
        services.delete_inspection(
            actor=self.actor, regulator=record.regulator, inspection=inspection
        )
        self.written(record, inspection)
        self.note_cascade(record, inspection, children)

    def delete_violation(self, record: Record) -> None:
        violation = self.instance(record)
        services.delete_violation(actor=self.actor, regulator=record.regulator, violation=violation)
        self.written(record, violation)

    def delete_enforcement(self, record: Record) -> None:
        enforcement = self.instance(record)
        services.delete_enforcement(
            actor=self.actor, regulator=record.regulator, enforcement=enforcement
        )
        self.written(record, enforcement)

    def delete_link(self, record: Record) -> None:
        link = self.instance(record)
        services.delete_link(actor=self.actor, regulator=record.regulator, link=link)
        self.written(record, link)


# The attributes of a batch item that name its parents.
PARENT_ATTRIBUTES = ("inspection", "enforcement", "violation")
WRITES = {
    Resource.INSPECTION: Submission.write_inspection,
    Resource.VIOLATION: Submission.write_violation,
    Resource.ENFORCEMENT: Submission.write_enforcement,
    Resource.LINK: Submission.write_link,
}
DELETES = {
    Resource.INSPECTION: Submission.delete_inspection,
    Resource.VIOLATION: Submission.delete_violation,
    Resource.ENFORCEMENT: Submission.delete_enforcement,
    Resource.LINK: Submission.delete_link,
}
DELETE_ORDER = (Resource.LINK, Resource.VIOLATION, Resource.ENFORCEMENT, Resource.INSPECTION)
WRITE_ORDER = (Resource.INSPECTION, Resource.VIOLATION, Resource.ENFORCEMENT, Resource.LINK)


# --- values as the services take them ------------------------------------------------------


def edt_keys(record: Record) -> dict:
    """What a batch item of ``cme.services`` takes of a record besides its values: the agency
    acting, the EDT keys written with the row, and the record itself as the item's tag."""
    return {
        "regulator": record.regulator,
        "regulator_key": record.key,
        "regulator_action_at": record.action_at,
        "tag": record,
    }


def inspection_values(record: Record, stored: Inspection | None) -> dict:
    """``stored``: the row a change replaces (its inspector's name is kept), or None."""
    return {
        "program_element": record.text("ProgramElement"),
        "inspection_type": record.text("Type"),
        "occurred_on": record.date("OccurredOn"),
        "inspector_name": stored.inspector_name if stored is not None else EDT_INSPECTOR,
        "ust_operational_compliance": record.text("SOCDetermination"),
        "violations_rtc_on": record.date("ViolationsRTCOn"),
        "comments": record.text("Comment"),
    }


def violation_values(record: Record) -> dict:
    return {
        "type_number": record.text("TypeID"),
        "violation_class": record.number("Class"),
        "occurred_on": record.date("OccurredOn"),
        "scheduled_rtc_on": record.date("ScheduledRTCOn"),
        "return_to_compliance_on": record.date("ActualRTCOn"),
        "rtc_qualifier": record.number("ActualRTCQualifier"),
        "comments": record.text("Comment"),
    }


def enforcement_values(record: Record) -> dict:
    return {
        "enforcement_type": record.text("Type"),
        "formal_type": record.text("FormalType"),
        "occurred_on": record.date("OccurredOn"),
        "red_tag_issued": record.text("RedTagIssued"),
        "red_tag_number": record.text("RedTagNumber"),
        "red_tag_reason": record.number("ViolationsCausingRedTag"),
        "red_tag_affixed_on": record.date("RedTagAffixedOn"),
        "red_tag_removed_on": record.date("RedTagRemovedOn"),
        "case_settled_on": record.date("CaseSettledDroppedOn"),
        "docket_number": record.text("DocketNumber"),
        "fine_amount": record.number("FineAssessedAmount"),
        "sep_amount": record.number("SEPAmount"),
        "comments": record.text("Comment"),
    }


@processes("RCMES")
def submit_cme(context: UploadContext) -> None:
    """Check every record, write what passed in order, and reject the whole upload if any
    record (or any write) failed. The document is read streaming (``read_index``,
    ``read_values``): its tree is never built."""
    submission = Submission(context, latest_of_each(read_index(context.data)))
    for record in submission.records:
        if record.unreadable:
            submission.refuse(record, ENTITY_VALIDATION_ERROR, record.unreadable)
    submission.load()
    submission.run()
    if submission.problems:
        raise UploadRejected(submission.guidance())
    submission.answer_keys()
    for note in submission.notes:
        context.warn(**note)
