"""RCMES (Tier 3): a CUPA's inspections, violations, enforcement actions and their links, added,
changed and deleted from its local system, all or nothing.

Each record names its agency in its header (``RegulatorCode``): the CUPA itself or one of its
Participating Agencies, for the program elements that agency handles at the facility, exactly
as the agency's staff would record it in the portal. Records are written through
``cme.services``, the portal's own services, inside the upload's one transaction, so they show
in the portal as if entered there, with the same audit events and the same rule
(``cme.rules``); the actor is the EDT account's user, acting for its agency. The records the
document adds, the most of a large one, are written together by
``cme.services.record_cme_batch`` (each record still checked and audited as the portal's
single services do), so the queries of an upload do not grow with the records it adds;
changes and deletes go one by one.

Matching. A record is identified by its regulator key (20.0045-20.0048) among the records of
the CUPA and its PAs. An Approved (``CMEDataStatus`` 2) record whose key is known updates that
record: the complete record is sent, an element left out clears its field, and its
``RegulatorActionDateTime`` must be later than the one stored (1052). An unknown key adds a
record. Deleted (3) deletes the record; a key that matches nothing is a Warning (1051), as the
record is already gone. Records entered in the portal have no regulator key, so EDT cannot
change them. When a document holds the same record more than once, only the one with the
latest ``RegulatorActionDateTime`` is processed (on a tie, the last in the document).

Deletes remove the rows (the portal has no "deleted" status; the audit events keep the
history): deleting an inspection deletes its violations and their links (a Warning, code 1063,
says how many the document did not delete itself), deleting a violation or an enforcement
action deletes its links. Deletes are done first, children before parents, then the Approved
records: inspections, violations, enforcement actions, links (those changed, then those
added). A link is added or removed by changing its enforcement action's list of violations, as
the portal does, each with its own audit event.

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

Records are first checked one by one (nothing written; the rule asked of all of them at once,
``cme.rules.refusals``), then written: deletes, then changes, each in a savepoint, then every
added record in one batch, which checks them all again before writing any. A record that
failed its check is not written, nor anything that depends on it, and a write that fails (a
rule across records, such as a link's action dated before its violation) is reported too.
Any message at Required level rejects the whole upload.

EDT carries no inspector: an inspection added through EDT records ``EDT_INSPECTOR`` as its
inspector's name, and a change keeps the name stored.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from lxml import etree

from cme import services
from cme.models import Enforcement, EnforcementViolation, Inspection, Violation
from cme.rules import CmeWork, refusals
from core.xmlsafe import GuidanceLevel, GuidanceMessage
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


# --- reading the document ------------------------------------------------------------------


@dataclass(eq=False)
class Record:
    """One record of the document, as sent (the same record only equals itself)."""

    resource: Resource
    element: etree._Element
    order: int
    key: str
    regulator_code: str
    action_at: datetime.datetime | None
    status: int
    regulator: Regulator | None = None
    stored: object = None  # the record its key matches, if any
    unreadable: str = ""  # why a value could not be read
    failed: bool = False
    written: object = None  # the record as written

    @property
    def deleted(self) -> bool:
        return self.status == CMEDataStatus.DELETED

    @property
    def location(self) -> str:
        path = "/CMESubmittals/" + LAYOUT[self.resource][0]
        return f"line {self.element.sourceline} ({path})"

    def text(self, tag: str) -> str:
        return (self.element.findtext(tag) or "").strip()

    def date(self, tag: str) -> datetime.date | None:
        value = self.text(tag)
        # xs:date may carry a time zone after the day ("2021-08-17Z"): the day is what counts.
        return datetime.date.fromisoformat(value[:10]) if value else None

    def number(self, tag: str) -> int | None:
        value = self.text(tag)
        return int(value) if value else None


def read_records(root: etree._Element) -> list[Record]:
    """Every record of the document, in document order."""
    records = []
    order = 0
    for resource, (path, key_tag, header_tag) in LAYOUT.items():
        for element in root.iterfind(path):
            order += 1
            header = element.find(header_tag)
            record = Record(
                resource=resource,
                element=element,
                order=order,
                key=(element.findtext(key_tag) or "").strip(),
                # A positiveInteger may be written "+1001" or "01001".
                regulator_code=str(int(header.findtext("RegulatorCode"))),
                action_at=None,
                status=int(header.findtext("CMEDataStatus")),
            )
            try:
                record.action_at = moment(header.findtext("RegulatorActionDateTime"), required=True)
                for child in element:
                    if isinstance(child.tag, str) and child.tag.endswith("On"):
                        record.date(child.tag)  # every date of the record reads
            except ValueError as error:
                record.unreadable = f"A date cannot be read: {error}."
            records.append(record)
    return records


def latest_of_each(records: list[Record]) -> list[Record]:
    """One record per entity and key: the latest action time wins, the last one on a tie."""
    winners: dict[tuple[Resource, str], Record] = {}
    for record in records:
        current = winners.get((record.resource, record.key))
        if current is None or _later_or_same(record, current):
            winners[(record.resource, record.key)] = record
    return sorted(winners.values(), key=lambda r: r.order)


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
    """One RCMES document being checked and written."""

    context: UploadContext
    records: list[Record]
    problems: list[tuple[int, GuidanceMessage]] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # warnings of an upload that is stored
    facilities: dict[int, Facility] = field(default_factory=dict)
    library: dict = field(default_factory=dict)
    stored: dict[Resource, dict[str, object]] = field(default_factory=dict)
    works: list[tuple[Record, CmeWork]] = field(default_factory=list)  # the rule to ask
    linked_pairs: dict[str, EnforcementViolation] = field(default_factory=dict)

    def __post_init__(self):
        # One record per entity and key (``latest_of_each``): found by its key.
        self.by_key = {(r.resource, r.key): r for r in self.records}

    def of(self, resource: Resource) -> list[Record]:
        return [r for r in self.records if r.resource == resource]

    def in_document(self, resource: Resource, key: str) -> Record | None:
        return self.by_key.get((resource, key))

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
        """The agencies, facilities, library entries and stored records the document names:
        a few queries, whatever its size."""
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
        cers_ids = {
            int(r.text("CERSID"))
            for r in self.records
            if r.resource in (Resource.INSPECTION, Resource.ENFORCEMENT)
        }
        self.facilities = {f.cers_id: f for f in Facility.objects.filter(cers_id__in=cers_ids)}
        self.library = services.violation_library(
            r.text("TypeID") for r in self.of(Resource.VIOLATION)
        )
        self.stored = self._stored(family)
        for record in self.records:
            record.stored = self.stored[record.resource].get(record.key)
        self.linked_pairs = self._linked_pairs()

    def _linked_pairs(self) -> dict[str, EnforcementViolation]:
        """The new links, by key, whose stored action already links the stored violation
        (linked in the portal): one query."""
        wanted: dict[tuple[int, int], str] = {}
        for record in self.of(Resource.LINK):
            if record.deleted or record.stored is not None:
                continue
            ends = []
            for resource, tag in (
                (Resource.ENFORCEMENT, "EnforcementRegulatorKey"),
                (Resource.VIOLATION, "ViolationRegulatorKey"),
            ):
                sent = self.in_document(resource, record.text(tag))
                if sent is not None and sent.stored is None:
                    break  # added by this document: not linked yet
                stored = self.stored[resource].get(record.text(tag))
                if stored is None:
                    break
                ends.append(stored.pk)
            else:
                wanted[tuple(ends)] = record.key
        if not wanted:
            return {}
        pairs = EnforcementViolation.objects.filter(
            enforcement__in={e for e, _v in wanted}, violation__in={v for _e, v in wanted}
        ).select_related("enforcement", "violation")
        # A stored link the document deletes is gone when the new one is written: added anew.
        deleted = {r.key for r in self.of(Resource.LINK) if r.deleted}
        return {
            wanted[pair.enforcement_id, pair.violation_id]: pair
            for pair in pairs
            if (pair.enforcement_id, pair.violation_id) in wanted
            and not (pair.regulator_key and pair.regulator_key in deleted)
        }

    def _stored(self, family: list[Regulator]) -> dict[Resource, dict[str, object]]:
        def keys(resource: Resource, *tags: str) -> set[str]:
            found = set()
            for record in self.records:
                if record.resource == resource:
                    found.add(record.key)
                for tag in tags:
                    value = record.text(tag) if record.resource != resource else ""
                    if value:
                        found.add(value)
            return found

        inspections = Inspection.objects.filter(
            regulator__in=family,
            regulator_key__in=keys(Resource.INSPECTION, "InspectionRegulatorKey"),
        ).select_related("facility", "regulator")
        violations = Violation.objects.filter(
            inspection__regulator__in=family,
            regulator_key__in=keys(Resource.VIOLATION, "ViolationRegulatorKey"),
        ).select_related("inspection__facility", "inspection__regulator", "violation_type")
        enforcements = Enforcement.objects.filter(
            regulator__in=family,
            regulator_key__in=keys(Resource.ENFORCEMENT, "EnforcementRegulatorKey"),
        ).select_related("facility", "regulator")
        links = EnforcementViolation.objects.filter(
            enforcement__regulator__in=family,
            regulator_key__in=keys(Resource.LINK),
        ).select_related("enforcement", "violation")
        return {
            Resource.INSPECTION: {r.regulator_key: r for r in inspections},
            Resource.VIOLATION: {r.regulator_key: r for r in violations},
            Resource.ENFORCEMENT: {r.regulator_key: r for r in enforcements},
            Resource.LINK: {r.regulator_key: r for r in links},
        }

    # -- checking, record by record, nothing written --------------------------------------

    def check(self) -> None:
        for record in self.records:
            if record.regulator is None or record.failed:
                continue
            self._check_action_time(record)
            if record.deleted:
                if record.stored is None:
                    self.context.warn(
                        f"{LABELS[record.resource]} {record.key}: no record has this key; "
                        "there is nothing to delete.",
                        code=KEY_NOT_FOUND,
                        location=record.location,
                        entity_resource=record.resource,
                        regulator_key=record.key,
                    )
                continue
            CHECKS[record.resource](self, record)
        # The rule, asked of every record checked at once: a few queries, whatever the size.
        denied = refusals(self.actor, [work for _record, work in self.works])
        for record, work in self.works:
            if work in denied:
                self.refuse(record, NOT_AUTHORIZED, str(denied[work]))

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
        cers_id = int(record.text("CERSID"))
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
        stored = record.stored
        if stored is not None:
            self.unmoved(record, "agency", stored.regulator.code, record.regulator.code)
            if facility is not None:
                self.unmoved(record, "facility", stored.facility.cers_id, facility.cers_id)

    def jurisdiction(self, record: Record, facility, program_element: str) -> None:
        """Ask the rule for ``record`` when every record is checked (``check``)."""
        self.works.append((record, CmeWork(record.regulator, facility, program_element)))

    def check_inspection(self, record: Record) -> None:
        facility = self.facility(record)
        self.same_place(record, facility)
        try:
            values = services.clean_inspection(inspection_values(record))
        except ValidationError as error:
            self.refuse_error(record, error)
            return
        if facility is not None:
            self.jurisdiction(record, facility, values["program_element"])

    def parent(self, record: Record, resource: Resource, tag: str):
        """The record's parent of ``resource`` by its key under ``tag``: the one the document
        adds or changes, else the stored one. Refuses a missing or deleted parent."""
        key = record.text(tag)
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

    def check_violation(self, record: Record) -> None:
        parent = self.parent(record, Resource.INSPECTION, "InspectionRegulatorKey")
        if record.stored is not None and parent is not None:
            was = record.stored.inspection.regulator_key
            self.unmoved(record, "inspection", was, record.text("InspectionRegulatorKey"))
        if parent is None:
            return
        if isinstance(parent, Record):
            program_element = parent.text("ProgramElement")
            facility = self.facilities.get(int(parent.text("CERSID")))
        else:
            program_element, facility = parent.program_element, parent.facility
        try:
            services.clean_violation(
                Inspection(program_element=program_element), violation_values(record), self.library
            )
        except ValidationError as error:
            self.refuse_error(record, error)
        if facility is not None:
            self.jurisdiction(record, facility, program_element)

    def check_enforcement(self, record: Record) -> None:
        facility = self.facility(record)
        self.same_place(record, facility)
        try:
            services.clean_enforcement(enforcement_values(record), facility, [])
        except ValidationError as error:
            self.refuse_error(record, error)

    def check_link(self, record: Record) -> None:
        enforcement = self.parent(record, Resource.ENFORCEMENT, "EnforcementRegulatorKey")
        violation = self.parent(record, Resource.VIOLATION, "ViolationRegulatorKey")
        stored = record.stored
        if stored is not None and enforcement is not None and violation is not None:
            pair = (record.text("EnforcementRegulatorKey"), record.text("ViolationRegulatorKey"))
            was = (stored.enforcement.regulator_key, stored.violation.regulator_key)
            self.unmoved(record, "enforcement/violation", "/".join(was), "/".join(pair))

    # -- writing, in order ----------------------------------------------------------------

    def write(self) -> None:
        """Deletes and changes one by one, each in a savepoint (a rule across records may
        refuse one); then every added record at once (``cme.services.record_cme_batch``),
        which checks them all again before it writes any."""
        steps: list[tuple[Record, Callable]] = []
        for resource in DELETE_ORDER:
            steps += [(r, DELETES[resource]) for r in self.of(resource) if r.deleted and r.stored]
        for resource in WRITE_ORDER:
            steps += [
                (r, WRITES[resource])
                for r in self.of(resource)
                if not r.deleted and (r.stored is not None or self._adopts_link(r))
            ]
        total = len(self.records)
        for done, (record, step) in enumerate(steps, start=1):
            if record.failed or record.regulator is None or self._depends_on_failed(record):
                continue
            try:
                with transaction.atomic():  # a savepoint: a failed write leaves no trace
                    step(self, record)
            except (ValidationError, PermissionDenied) as error:
                self.refuse_error(record, error)
                continue
            if done % 100 == 0:
                self.context.progress(done, total)
        self.write_added()
        self.context.progress(total, total)
        # The keys of what was written, deletes first, in the order of the writes.
        for deleted, order in ((True, DELETE_ORDER), (False, WRITE_ORDER)):
            for resource in order:
                for record in self.of(resource):
                    if record.deleted == deleted and record.written is not None:
                        self.context.entity(record.resource, record.written.cers_key, record.key)

    def _adopts_link(self, record: Record) -> bool:
        """A new link whose pair is already linked (in the portal) takes its keys, one by
        one; ``load`` found those pairs."""
        return record.resource == Resource.LINK and record.key in self.linked_pairs

    def write_added(self) -> None:
        """Every added record that passed its check, at once, parents before children."""
        items: dict[Record, services.NewRecord] = {}

        def parent(record: Record, resource: Resource, tag: str):
            sent = self.in_document(resource, record.text(tag))
            if sent is None:
                return self.stored[resource].get(record.text(tag))
            if sent.stored is not None:
                return sent.stored if sent.written is not None else None
            return items.get(sent)

        def keys(record: Record) -> dict:
            return {
                "regulator": record.regulator,
                "regulator_key": record.key,
                "regulator_action_at": record.action_at,
                "tag": record,
            }

        for record in self.records:
            if record.deleted or record.stored is not None or record.written is not None:
                continue
            if record.failed or record.regulator is None or self._depends_on_failed(record):
                continue
            if record.resource == Resource.INSPECTION:
                items[record] = services.NewInspection(
                    facility=self.facilities[int(record.text("CERSID"))],
                    values=inspection_values(record),
                    **keys(record),
                )
            elif record.resource == Resource.ENFORCEMENT:
                items[record] = services.NewEnforcement(
                    facility=self.facilities[int(record.text("CERSID"))],
                    values=enforcement_values(record),
                    **keys(record),
                )
        for record in self.records:  # children, once their parents are known
            if record in items or record.deleted or record.stored is not None:
                continue
            if record.written is not None or record.failed or record.regulator is None:
                continue
            if record.resource == Resource.VIOLATION:
                inspection = parent(record, Resource.INSPECTION, "InspectionRegulatorKey")
                if inspection is not None:
                    items[record] = services.NewViolation(
                        inspection=inspection, values=violation_values(record), **keys(record)
                    )
        for record in self.records:
            if record.resource != Resource.LINK or record in items or record.deleted:
                continue
            if record.stored is not None or record.written is not None or record.failed:
                continue
            if record.regulator is None:
                continue
            enforcement = parent(record, Resource.ENFORCEMENT, "EnforcementRegulatorKey")
            violation = parent(record, Resource.VIOLATION, "ViolationRegulatorKey")
            if enforcement is not None and violation is not None:
                items[record] = services.NewLink(
                    enforcement=enforcement, violation=violation, **keys(record)
                )
        if not items:
            return
        of_kind = {
            kind: [item for item in items.values() if isinstance(item, kind)]
            for kind in (
                services.NewInspection,
                services.NewViolation,
                services.NewEnforcement,
                services.NewLink,
            )
        }
        try:
            services.record_cme_batch(
                actor=self.actor,
                inspections=of_kind[services.NewInspection],
                violations=of_kind[services.NewViolation],
                enforcements=of_kind[services.NewEnforcement],
                links=of_kind[services.NewLink],
                library=self.library,
            )
        except services.RecordsRefused as refused:
            for item, error in refused.refused:
                self.refuse_error(item.tag, error)
            return
        except (ValidationError, PermissionDenied) as error:
            for record in items:
                self.refuse_error(record, error)
            return
        for record, item in items.items():
            record.written = item.written

    def _depends_on_failed(self, record: Record) -> bool:
        if record.deleted:
            return False
        parents = {
            Resource.VIOLATION: [(Resource.INSPECTION, "InspectionRegulatorKey")],
            Resource.LINK: [
                (Resource.ENFORCEMENT, "EnforcementRegulatorKey"),
                (Resource.VIOLATION, "ViolationRegulatorKey"),
            ],
        }.get(record.resource, [])
        for resource, tag in parents:
            sent = self.in_document(resource, record.text(tag))
            if sent is not None and (sent.failed or sent.regulator is None):
                return True
        return False

    def keep_keys(self, record: Record, obj) -> None:
        type(obj).objects.filter(pk=obj.pk).update(
            regulator_key=record.key, regulator_action_at=record.action_at
        )
        record.written = obj

    @property
    def actor(self):
        return self.context.actor

    # Changes, one record each: the records added go to ``write_added``.

    def write_inspection(self, record: Record) -> None:
        inspection = services.update_inspection(
            actor=self.actor,
            regulator=record.regulator,
            inspection=record.stored,
            **inspection_values(record),
        )
        self.keep_keys(record, inspection)

    def write_violation(self, record: Record) -> None:
        violation = services.update_violation(
            actor=self.actor,
            regulator=record.regulator,
            violation=record.stored,
            **violation_values(record),
        )
        self.keep_keys(record, violation)

    def write_enforcement(self, record: Record) -> None:
        enforcement = services.update_enforcement(
            actor=self.actor,
            regulator=record.regulator,
            enforcement=record.stored,
            **enforcement_values(record),
        )
        self.keep_keys(record, enforcement)

    def write_link(self, record: Record) -> None:
        """A stored link sent again, or a pair linked in the portal, which takes the keys."""
        link = record.stored or self.linked_pairs[record.key]
        if link.regulator_key not in ("", record.key):
            raise ValidationError(
                f"Enforcement {link.enforcement.regulator_key} already links violation "
                f"{link.violation.regulator_key} under the key {link.regulator_key}."
            )
        self.keep_keys(record, link)

    def delete_inspection(self, record: Record) -> None:
        inspection = record.stored
        children = inspection.violations.count()  # those the document deletes are gone
        services.delete_inspection(
            actor=self.actor, regulator=record.regulator, inspection=inspection
        )
        record.written = inspection
        if children:
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

    def delete_violation(self, record: Record) -> None:
        services.delete_violation(
            actor=self.actor,
            regulator=record.regulator,
            violation=record.stored,
        )
        record.written = record.stored

    def delete_enforcement(self, record: Record) -> None:
        services.delete_enforcement(
            actor=self.actor,
            regulator=record.regulator,
            enforcement=record.stored,
        )
        record.written = record.stored

    def delete_link(self, record: Record) -> None:
        link = record.stored
        enforcement = link.enforcement
        remaining = [v for v in enforcement.violations.all() if v.pk != link.violation_id]
        services.update_enforcement(
            actor=self.actor,
            regulator=record.regulator,
            enforcement=enforcement,
            violations=remaining,
        )
        record.written = link


CHECKS = {
    Resource.INSPECTION: Submission.check_inspection,
    Resource.VIOLATION: Submission.check_violation,
    Resource.ENFORCEMENT: Submission.check_enforcement,
    Resource.LINK: Submission.check_link,
}
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


def inspection_values(record: Record) -> dict:
    stored = record.stored
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
    record (or any write) failed."""
    submission = Submission(context, latest_of_each(read_records(context.root)))
    for record in submission.records:
        if record.unreadable:
            submission.refuse(record, ENTITY_VALIDATION_ERROR, record.unreadable)
    submission.load()
    submission.check()
    submission.write()
    if submission.problems:
        raise UploadRejected(submission.guidance())
    for note in submission.notes:
        context.warn(**note)
