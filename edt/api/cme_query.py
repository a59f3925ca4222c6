"""RCMEQ: the inspections, violations, enforcement actions and enforcement-violation links of
the agency's jurisdiction, for its local system (``CMESubmittals``, CMESubmittalQuery 1/05,
namespace RegulatorCMEQuery).

Scope, with the regulator portal's own CME rules (``cme.querysets``): a PA gets the records
of the program elements it handles at its facilities (``Inspection.objects.in_jurisdiction``);
a CUPA gets the
same for itself and for each of its PAs, whose CME it submits (RCMES), so every CME record of
its facilities comes back. Enforcement actions follow ``Enforcement.objects.in_jurisdiction``;
violations follow their inspection; a link is listed when its enforcement action and its
violation both are. ``CERSID``, ``startDate`` and ``endDate`` narrow each entity by its
facility and its occurred-on date (906, 932, 915; a link by its enforcement action's).

What the answer holds where the models differ from CERS's:

- CME data status (20.0041): records are stored Approved (2); a delete, in the portal or
  through RCMES, removes the record (its audit events keep its history), so no Deleted (3)
  record exists to list. ``status`` defaults to 2; ``status=3`` alone answers no records;
  Draft (1) is refused, as CERS refuses to export it.
- ``RegulatorActionDateTime`` (20.0040): the action time the agency's system sent with the
  record's last RCMES submission; for a record entered in the portal, the time of its last
  recorded change (its latest audit event).
- ``RegulatorCode`` of a violation is its inspection's agency; of a link, its enforcement
  action's. Regulator keys (20.0045-20.0048) are written when the record came through RCMES.
- The violation counts (910-912) are counted from the inspection's violations; the schema
  holds two digits, so a count above 99 is written as 99.
- ``Guidance`` is omitted: no message is stored with a record.

An empty answer still needs one collection (the schema's choice is required): it is written
as ``<Inspections xsi:nil="true"/>`` (JSON: empty lists).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator
from functools import reduce

from django.db import models
from django.db.models import CharField, Count, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from lxml import etree

from cme.models import Enforcement, EnforcementViolation, Inspection, Violation
from core.models import AuditEvent
from regulators.models import Regulator

from .base import EdtCall, EdtError, EndpointView, batches, check_ceiling, in_batches
from .output import in_chunks, json_items, query_response, streaming_answer, sub, text
from .registry import serves

SCHEMA = "CMESubmittalQuery"
NARROW_WITH = "CERSID or startDate/endDate"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
COUNT_MAX = 99  # ClassIViolationCount and the others: two digits


class CMEDataStatus(models.IntegerChoices):
    """CME data (entry) status, CDR 20.0041."""

    DRAFT = 1, "Draft"
    APPROVED = 2, "Approved"
    DELETED = 3, "Deleted"


# --- scope ---------------------------------------------------------------------------------


def answering_for(regulator: Regulator) -> list[Regulator]:
    """The agencies whose CME an agency exchanges: a CUPA its own and its PAs' (it submits
    their CME through RCMES), any other agency its own."""
    if regulator.kind == Regulator.Kind.CUPA:
        return [regulator, *regulator.participating_agencies.order_by("code")]
    return [regulator]


def inspections_in_scope(regulator: Regulator):
    agencies = answering_for(regulator)
    return reduce(operator.or_, (Inspection.objects.in_jurisdiction(a) for a in agencies))


def enforcements_in_scope(regulator: Regulator):
    agencies = answering_for(regulator)
    return reduce(
        operator.or_,
        (Enforcement.objects.in_jurisdiction(a) for a in agencies),
    )


# --- parameters ----------------------------------------------------------------------------


def read_statuses(call: EdtCall) -> set[int]:
    """The CME data statuses asked for; Approved when none is."""
    statuses = call.integers("status")
    if not statuses:
        return {CMEDataStatus.APPROVED}
    unknown = sorted(set(statuses) - set(CMEDataStatus.values))
    if unknown:
        raise EdtError(
            f"status takes CME data statuses 2 (Approved) and 3 (Deleted); "
            f"{', '.join(map(str, unknown))} is not one."
        )
    if CMEDataStatus.DRAFT in statuses:
        raise EdtError(
            "Exporting Draft (status 1) CME data is not supported: ask for status 2 (Approved) "
            "and/or 3 (Deleted)."
        )
    return set(statuses)


def read_filters(call: EdtCall) -> dict:
    """CERSID and the occurred-on range, as lookups relative to an entity's facility and
    date paths (filled in per entity by ``narrowed``)."""
    cers_id = call.integer("CERSID", low=1)
    low, high = call.date("startDate"), call.date("endDate", end=True)
    if low and high and low > high:
        raise EdtError("startDate is after endDate; nothing can match.")
    return {
        "cers_id": cers_id,
        "since": low.date() if low else None,
        "until": high.date() if high else None,
    }


def narrowed(queryset, filters: dict, facility: str, occurred_on: str):
    if filters["cers_id"] is not None:
        queryset = queryset.filter(**{f"{facility}__cers_id": filters["cers_id"]})
    if filters["since"] is not None:
        queryset = queryset.filter(**{f"{occurred_on}__gte": filters["since"]})
    if filters["until"] is not None:
        queryset = queryset.filter(**{f"{occurred_on}__lte": filters["until"]})
    return queryset


def last_changed(model, ref: str = "pk") -> Subquery:
    """The moment of the latest audit event of the record reached by ``OuterRef(ref)``."""
    return Subquery(
        AuditEvent.objects.filter(
            object_type=model._meta.label_lower,
            object_id=Cast(OuterRef(ref), output_field=CharField()),
        )
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )


def matching_records(regulator: Regulator, filters: dict) -> dict[str, models.QuerySet]:
    """The four entities' records in scope and matching ``filters``, in the schema's order."""
    inspections = inspections_in_scope(regulator)
    enforcements = enforcements_in_scope(regulator)
    violations = Violation.objects.filter(inspection__in=inspections.values("pk"))
    links = EnforcementViolation.objects.filter(
        enforcement__in=enforcements.values("pk"), violation__in=violations.values("pk")
    )
    return {
        "Inspections": narrowed(inspections, filters, "facility", "occurred_on"),
        "Enforcements": narrowed(enforcements, filters, "facility", "occurred_on"),
        "Violations": narrowed(violations, filters, "inspection__facility", "occurred_on"),
        "EnforcementViolations": narrowed(
            links, filters, "enforcement__facility", "enforcement__occurred_on"
        ),
    }


def ready_to_write(collections: dict[str, models.QuerySet]) -> dict[str, models.QuerySet]:
    """Each entity's queryset with what its element needs, in one query per batch."""
    return {
        "Inspections": collections["Inspections"]
        .select_related("facility", "regulator")
        .annotate(
            class_i=Count("violations", filter=Q(violations__violation_class=1)),
            class_ii=Count("violations", filter=Q(violations__violation_class=2)),
            minor=Count("violations", filter=Q(violations__violation_class=9)),
            action_at=Coalesce("regulator_action_at", last_changed(Inspection), "created_at"),
        )
        .order_by("pk"),
        "Enforcements": collections["Enforcements"]
        .select_related("facility", "regulator")
        .annotate(
            action_at=Coalesce("regulator_action_at", last_changed(Enforcement), "created_at")
        )
        .order_by("pk"),
        "Violations": collections["Violations"]
        .select_related("inspection__regulator", "violation_type")
        .annotate(
            action_at=Coalesce(
                "regulator_action_at", last_changed(Violation), "inspection__created_at"
            )
        )
        .order_by("pk"),
        "EnforcementViolations": collections["EnforcementViolations"]
        .select_related("enforcement__regulator", "violation")
        .annotate(
            action_at=Coalesce(
                "regulator_action_at",
                last_changed(Enforcement, "enforcement_id"),
                "enforcement__created_at",
            )
        )
        .order_by("pk"),
    }


# --- elements ------------------------------------------------------------------------------


def header(parent: etree._Element, tag: str, regulator: Regulator, action_at) -> None:
    """The ``CMEHeaderType`` every record starts with."""
    block = etree.SubElement(parent, tag)
    sub(block, "RegulatorCode", regulator.code)
    sub(block, "RegulatorActionDateTime", action_at)
    sub(block, "CMEDataStatus", int(CMEDataStatus.APPROVED))


def _counted(name: str):
    """A violation count of the inspection, capped at what the schema allows."""
    return lambda inspection: min(getattr(inspection, name), COUNT_MAX)


# Per entity, in the schema's order: its element, where its regulator is, and its children
# (the tag and the dotted attribute, or a function, that gives the value). Every element
# starts with its ``{element}Header``.
ELEMENTS = {
    "Inspections": (
        "Inspection",
        "regulator",
        (
            ("CERSID", "facility.cers_id"),
            ("InspectionRegulatorKey", "regulator_key"),
            ("InspectionCERSUniqueKey", "cers_key"),
            ("ProgramElement", "program_element"),
            ("OccurredOn", "occurred_on"),
            ("Type", "inspection_type"),
            ("ClassIViolationCount", _counted("class_i")),
            ("ClassIIViolationCount", _counted("class_ii")),
            ("MinorViolationCount", _counted("minor")),
            ("SOCDetermination", "ust_operational_compliance"),
            ("ViolationsRTCOn", "violations_rtc_on"),
            ("Comment", "comments"),
        ),
    ),
    "Enforcements": (
        "Enforcement",
        "regulator",
        (
            ("CERSID", "facility.cers_id"),
            ("EnforcementRegulatorKey", "regulator_key"),
            ("EnforcementCERSUniqueKey", "cers_key"),
            ("RedTagIssued", "red_tag_issued"),
            ("RedTagNumber", "red_tag_number"),
            ("ViolationsCausingRedTag", "red_tag_reason"),
            ("RedTagAffixedOn", "red_tag_affixed_on"),
            ("RedTagRemovedOn", "red_tag_removed_on"),
            ("Type", "enforcement_type"),
            ("OccurredOn", "occurred_on"),
            ("FormalType", "formal_type"),
            ("CaseSettledDroppedOn", "case_settled_on"),
            ("DocketNumber", "docket_number"),
            ("FineAssessedAmount", "fine_amount"),
            ("SEPAmount", "sep_amount"),
            ("Comment", "comments"),
        ),
    ),
    "Violations": (
        "Violation",
        "inspection.regulator",
        (
            ("InspectionRegulatorKey", "inspection.regulator_key"),
            ("InspectionCERSUniqueKey", "inspection.cers_key"),
            ("ViolationRegulatorKey", "regulator_key"),
            ("ViolationCERSUniqueKey", "cers_key"),
            ("TypeID", "violation_type.type_number"),
            ("Class", "violation_class"),
            ("OccurredOn", "occurred_on"),
            ("ScheduledRTCOn", "scheduled_rtc_on"),
            ("ActualRTCOn", "return_to_compliance_on"),
            ("ActualRTCQualifier", "rtc_qualifier"),
            ("Comment", "comments"),
        ),
    ),
    "EnforcementViolations": (
        "EnforcementViolation",
        "enforcement.regulator",
        (
            ("EnforcementRegulatorKey", "enforcement.regulator_key"),
            ("EnforcementCERSUniqueKey", "enforcement.cers_key"),
            ("ViolationRegulatorKey", "violation.regulator_key"),
            ("ViolationCERSUniqueKey", "violation.cers_key"),
            ("EnforcementViolationRegulatorKey", "regulator_key"),
            ("EnforcementViolationCERSUniqueKey", "cers_key"),
        ),
    ),
}


def record_element(collection: str, record) -> etree._Element:
    """One record of ``collection`` (such as "Inspections") as its schema element. The four
    entities are written the same way, from their rows of ``ELEMENTS``."""
    tag, regulator, children = ELEMENTS[collection]
    element = etree.Element(tag)
    header(element, f"{tag}Header", operator.attrgetter(regulator)(record), record.action_at)
    for child, source in children:
        value = source(record) if callable(source) else operator.attrgetter(source)(record)
        sub(element, child, value)
    return element


# --- streaming -----------------------------------------------------------------------------


def xml_records(status: dict, collections: dict) -> Iterator[etree._Element]:
    """The root's children: the data set's time and key, then each entity's records in
    collections of at most ``BATCH_SIZE`` (the schema lets a collection repeat)."""
    for tag, value in status.items():
        element = etree.Element(tag)
        element.text = text(value)
        yield element
    written = False
    for tag, queryset in collections.items():
        for batch in batches(queryset):
            collection = etree.Element(tag)
            collection.extend(record_element(tag, record) for record in batch)
            written = True
            yield collection
    if not written:
        yield etree.Element("Inspections", {XSI_NIL: "true"})


def json_stream(version: str, status: dict, collections: dict) -> Iterator[bytes]:
    """The same answer as JSON, streamed: one list per entity, each record as
    ``element_to_json`` writes it."""
    head = {"schema": SCHEMA, "version": version, "root": "CMESubmittals"}
    head |= {tag: text(value) for tag, value in status.items()}

    def pieces() -> Iterator[str]:
        yield json.dumps(head)[:-1]
        for tag, queryset in collections.items():
            yield f", {json.dumps(tag)}: ["
            records = in_batches(queryset)
            yield from json_items(record_element(tag, record) for record in records)
            yield "]"
        yield "}"

    return in_chunks(pieces())


def _none(collections: dict) -> dict:
    return {tag: queryset.none() for tag, queryset in collections.items()}


@serves("RCMEQ")
class CMEQueryView(EndpointView):
    """RCMEQ: the agency's CME records, in CMESubmittals."""

    def answer(self, call: EdtCall):
        version = call.schema_version(SCHEMA)
        statuses = read_statuses(call)
        collections = matching_records(call.regulator, read_filters(call))
        if CMEDataStatus.APPROVED not in statuses:
            collections = _none(collections)  # only Deleted asked for: none is kept
        count = sum(queryset.count() for queryset in collections.values())
        check_ceiling(count, "CME records", NARROW_WITH)
        collections = ready_to_write(collections)
        self.accepted(call, count)
        status = {"DataSetDateTime": timezone.now(), "TransactionKey": call.transaction.key}
        if call.wants_json:
            return streaming_answer(
                call, json_stream(version, status, collections), "application/json"
            )
        return query_response(
            call,
            schema=SCHEMA,
            version=version,
            root="CMESubmittals",
            attributes={},
            record_name="CMESubmittals",
            records=lambda: xml_records(status, collections),
        )
