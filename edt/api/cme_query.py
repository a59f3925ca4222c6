"""RCMEQ: the inspections, violations, enforcement actions and enforcement-violation links of
the agency's jurisdiction, for its local system (``CMESubmittals``, CMESubmittalQuery 1/05,
namespace RegulatorCMEQuery).

Scope, with the regulator portal's own CME rules (``cme.querysets``): a PA gets the records
of the program elements it handles at its facilities (``Inspection.objects.in_jurisdiction``);
a CUPA gets the
same for itself and for each of its PAs, whose CME it submits (RCMES), so every CME record of
its facilities comes back. Enforcement actions follow ``Enforcement.objects.in_jurisdiction``;
violations follow their inspection; a link is listed when its enforcement action and its
violation both are. The inspections in scope are drawn once per answer, into a temporary table
of the connection (``draw_scope``), which the four counts (one statement) and the four
collections read. ``CERSID``, ``startDate`` and ``endDate`` narrow each entity by its
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
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property, reduce
from itertools import chain
from uuid import UUID

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import Count, F, Func, Max, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.lookups import In
from django.utils import timezone
from lxml import etree

from cme.models import Enforcement, EnforcementViolation, Inspection, Violation
from core.models import AuditEvent
from regulators.models import Regulator

from .base import EdtCall, EdtError, EndpointView, backwards, check_ceiling, row_batches
from .output import in_chunks, json_items, query_response, streaming_answer, text
from .registry import serves
from .submittal_query import escaped

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


def inspections_in_scope(regulator: Regulator, agencies: list[Regulator] | None = None):
    agencies = agencies or answering_for(regulator)
    return reduce(operator.or_, (Inspection.objects.in_jurisdiction(a) for a in agencies))


def enforcements_in_scope(regulator: Regulator, agencies: list[Regulator], inspections):
    """The enforcement actions of ``agencies``' jurisdictions, the union of their
    ``Enforcement.objects.in_jurisdiction``, with their inspections in scope already drawn
    (``inspections``, a query of their keys)."""
    if regulator.is_statewide:
        return Enforcement.objects.in_jurisdiction(regulator)
    return Enforcement.objects.recorded_or_linked([a.pk for a in agencies], inspections)


# The inspections in scope, drawn once per answer: a temporary table of the connection (so
# other connections never see it), named in the schema of temporary tables so that dropping
# it can never reach a permanent table of the same name.
SCOPE_TABLE = "rcmeq_scope"
TEMPORARY_SCHEMA = {"postgresql": "pg_temp", "sqlite": "temp"}


def draw_scope(regulator: Regulator, agencies: list[Regulator]) -> RawSQL:
    """Draw the keys of the inspections in scope (``inspections_in_scope``) into
    ``SCOPE_TABLE``, and answer the query of those keys, which every count and every
    collection then reads.

    Drawing the scope is the dear part of each of RCMEQ's queries on a large agency (a hash of
    every facility whose elements it handles, some 100,000, built for each per program element
    group); drawn once, the counts and the first batch read a table of the inspections' keys
    instead. The table lives on the connection, outside the answer's transactions (the counts
    run before the body streams, each collection in a transaction of its own): it is dropped
    after the last record (``forget_scope``), and one left by an answer cut off is dropped by
    the connection's next RCMEQ or with the connection. One name serves: a connection answers
    one request at a time (WSGI's sync workers, as the answers' server-side cursors need)."""
    inspections = inspections_in_scope(regulator, agencies).order_by().values("pk")
    sql, params = inspections.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_scope_table()}")
        cursor.execute(f"CREATE TEMPORARY TABLE {SCOPE_TABLE} AS {sql}", params)
        # Its statistics, without which PostgreSQL takes its keys for 200 and probes the
        # inspections' index once per key where a hash join reads them in a fraction of that.
        cursor.execute(f"ANALYZE {_scope_table()}")
    return RawSQL(f"SELECT pk FROM {_scope_table()}", ())  # noqa: S608, S611 - a fixed name


def forget_scope() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_scope_table()}")


def _scope_table() -> str:
    return f"{TEMPORARY_SCHEMA[connection.vendor]}.{SCOPE_TABLE}"


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
    if backwards(low, high):
        raise EdtError("startDate is after endDate; nothing can match.")
    return {
        "cers_id": cers_id,
        "since": timezone.localdate(low) if low else None,
        "until": timezone.localdate(high) if high else None,
    }


def narrowed(queryset, filters: dict, facility: str, occurred_on: str):
    if filters["cers_id"] is not None:
        queryset = queryset.filter(**{f"{facility}__cers_id": filters["cers_id"]})
    if filters["since"] is not None:
        queryset = queryset.filter(**{f"{occurred_on}__gte": filters["since"]})
    if filters["until"] is not None:
        queryset = queryset.filter(**{f"{occurred_on}__lte": filters["until"]})
    return queryset


class AnyOf(In):
    """``IN`` with a batch's keys as one array on PostgreSQL (``= ANY(%s)``): one parameter
    however many the keys, where ``IN`` binds and parses a placeholder for each, which cost
    more than the grouped query itself. Elsewhere, plain ``IN``."""

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


def latest_changes(model, ids) -> dict[int, datetime]:
    """The moment of the latest audit event of each of ``model``'s records ``ids`` that has
    one: one grouped query, its events found on the ``(object_type, object_id)`` index."""
    rows = (
        AuditEvent.objects.filter(
            AnyOf(F("object_id"), [str(pk) for pk in ids]),
            object_type=model._meta.label_lower,
        )
        .order_by()
        .values("object_id")
        .annotate(latest=Max("created_at"))
        .values_list("object_id", "latest")
    )
    return {int(object_id): latest for object_id, latest in rows}


def matching_records(regulator: Regulator, filters: dict) -> dict[str, models.QuerySet]:
    """The four entities' records in scope and matching ``filters``, in the schema's order,
    the inspections in scope drawn once (``draw_scope``)."""
    agencies = answering_for(regulator)
    scope = draw_scope(regulator, agencies)
    inspections = Inspection.objects.filter(pk__in=scope)
    enforcements = enforcements_in_scope(regulator, agencies, scope)
    violations = Violation.objects.filter(inspection__in=scope)
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


def counted(regulator: Regulator, collections: dict[str, models.QuerySet]) -> int:
    """The records of all four collections: one statement, a count of each (exact, from the
    drawn scope) read beside the agency's row."""
    counts = {
        f"{tag}_count": Subquery(
            queryset.order_by()
            .annotate(n=Func(template="COUNT(*)", output_field=models.IntegerField()))
            .values("n")
        )
        for tag, queryset in collections.items()
    }
    [row] = Regulator.objects.filter(pk=regulator.pk).order_by().values(**counts)
    return sum(count or 0 for count in row.values())  # a collection that cannot match: NULL


def violation_counts(inspection_ids) -> dict[int, tuple[int, int, int]]:
    """Each inspection's Class I, Class II and minor violations: one grouped query."""
    rows = (
        Violation.objects.filter(AnyOf(F("inspection_id"), inspection_ids))
        .order_by()
        .values("inspection_id")
        .annotate(
            class_i=Count("pk", filter=Q(violation_class=1)),
            class_ii=Count("pk", filter=Q(violation_class=2)),
            minor=Count("pk", filter=Q(violation_class=9)),
        )
        .values_list("inspection_id", "class_i", "class_ii", "minor")
    )
    return {inspection: tuple(counts) for inspection, *counts in rows}


# --- elements ------------------------------------------------------------------------------

# The violation counts of an inspection, in their children's order: not columns of its row but
# counted once per batch (``violation_counts``).
COUNTED = ("class_i", "class_ii", "minor")
NO_VIOLATIONS = (0, 0, 0)


@dataclass(frozen=True)
class Entity:
    """How one entity's records are read and written: its element, the field paths (from its
    own model) of its regulator's code, of the record whose audit events date it (``dated``)
    and of the creation time used where none has; and its children, in the schema's order,
    each the tag and the field path (or the name in ``COUNTED``) that gives the value. Every
    element starts with its ``{element}Header``."""

    tag: str
    regulator: str
    dated: type[models.Model]
    dated_key: str
    created: str
    children: tuple[tuple[str, str], ...]

    @cached_property
    def header(self) -> str:
        return f"{self.tag}Header"

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """What a row holds: the record's key, the agency's action time, the dating record's
        key, the creation time, the regulator's code, then each child's column."""
        fixed = ("pk", "regulator_action_at", self.dated_key, self.created, self.regulator)
        return fixed + tuple(path for _tag, path in self.children if path not in COUNTED)

    @cached_property
    def layout(self) -> tuple[tuple[str, int, bool], ...]:
        """Each child's tag, and where its value is: the row's column, or the count."""
        columns = self.columns
        return tuple(
            (tag, COUNTED.index(path), True)
            if path in COUNTED
            else (tag, columns.index(path), False)
            for tag, path in self.children
        )


# Per collection, in the schema's order.
ENTITIES = {
    "Inspections": Entity(
        "Inspection",
        "regulator__code",
        Inspection,
        "pk",
        "created_at",
        (
            ("CERSID", "facility__cers_id"),
            ("InspectionRegulatorKey", "regulator_key"),
            ("InspectionCERSUniqueKey", "cers_key"),
            ("ProgramElement", "program_element"),
            ("OccurredOn", "occurred_on"),
            ("Type", "inspection_type"),
            ("ClassIViolationCount", "class_i"),
            ("ClassIIViolationCount", "class_ii"),
            ("MinorViolationCount", "minor"),
            ("SOCDetermination", "ust_operational_compliance"),
            ("ViolationsRTCOn", "violations_rtc_on"),
            ("Comment", "comments"),
        ),
    ),
    "Enforcements": Entity(
        "Enforcement",
        "regulator__code",
        Enforcement,
        "pk",
        "created_at",
        (
            ("CERSID", "facility__cers_id"),
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
    "Violations": Entity(
        "Violation",
        "inspection__regulator__code",
        Violation,
        "pk",
        "inspection__created_at",
        (
            ("InspectionRegulatorKey", "inspection__regulator_key"),
            ("InspectionCERSUniqueKey", "inspection__cers_key"),
            ("ViolationRegulatorKey", "regulator_key"),
            ("ViolationCERSUniqueKey", "cers_key"),
            ("TypeID", "violation_type__type_number"),
            ("Class", "violation_class"),
            ("OccurredOn", "occurred_on"),
            ("ScheduledRTCOn", "scheduled_rtc_on"),
            ("ActualRTCOn", "return_to_compliance_on"),
            ("ActualRTCQualifier", "rtc_qualifier"),
            ("Comment", "comments"),
        ),
    ),
    "EnforcementViolations": Entity(
        "EnforcementViolation",
        "enforcement__regulator__code",
        Enforcement,
        "enforcement_id",
        "enforcement__created_at",
        (
            ("EnforcementRegulatorKey", "enforcement__regulator_key"),
            ("EnforcementCERSUniqueKey", "enforcement__cers_key"),
            ("ViolationRegulatorKey", "violation__regulator_key"),
            ("ViolationCERSUniqueKey", "violation__cers_key"),
            ("EnforcementViolationRegulatorKey", "regulator_key"),
            ("EnforcementViolationCERSUniqueKey", "cers_key"),
        ),
    ),
}

# A value's text as ``output.text`` writes it, by its type (what the columns hold); text is
# written as it is, a datetime in the current time zone (``Writer``).
_AS_TEXT = {int: str, UUID: str, date: date.isoformat, Decimal: str}
APPROVED = str(int(CMEDataStatus.APPROVED))


class Writer:
    """Writes the records of one answer as the XML text of their schema elements, from rows of
    ``Entity.columns``: what ``output.sub`` would write into an lxml element, child by child,
    written as lxml writes it (``submittal_query.escaped``), without building the element, and
    without looking up the time zone or the value's kind more than once."""

    def __init__(self):
        zone = timezone.get_current_timezone()
        self.as_text = _AS_TEXT | {
            datetime: lambda value: value.astimezone(zone).isoformat(timespec="seconds")
        }

    def element(self, entity: Entity, row: tuple, action_at, counts=NO_VIOLATIONS) -> str:
        """One record: its header (``CMEHeaderType``), then its children; an empty value
        is left out, as ``output.sub`` leaves it."""
        as_text = self.as_text
        tag = entity.tag
        out = [f"<{tag}><{entity.header}>"]
        if row[4]:
            out.append(f"<RegulatorCode>{escaped(row[4])}</RegulatorCode>")
        out.append(
            f"<RegulatorActionDateTime>{as_text[datetime](action_at)}</RegulatorActionDateTime>"
            f"<CMEDataStatus>{APPROVED}</CMEDataStatus></{entity.header}>"
        )
        for child, index, counted in entity.layout:
            if counted:
                out.append(f"<{child}>{min(counts[index], COUNT_MAX)}</{child}>")
                continue
            value = row[index]
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                if value:
                    out.append(f"<{child}>{escaped(value)}</{child}>")
            else:
                convert = as_text.get(kind)
                value = convert(value) if convert else escaped(text(value))
                out.append(f"<{child}>{value}</{child}>")
        out.append(f"</{tag}>")
        return "".join(out)


# --- reading -------------------------------------------------------------------------------


def ready_to_write(collections: dict[str, models.QuerySet]) -> dict[str, models.QuerySet]:
    """Each entity's rows in its order, as tuples of ``Entity.columns`` (joined to what its
    element writes of related rows): one query, read in batches through a server-side cursor,
    with no sub-query per row; what is counted or looked up for a record is read once per
    batch (``record_batches``)."""
    return {
        collection: queryset.order_by("pk").values_list(*ENTITIES[collection].columns)
        for collection, queryset in collections.items()
    }


def record_batches(collection: str, rows) -> Iterator[list]:
    """``collection``'s rows (``ready_to_write``), ``BATCH_SIZE`` at a time, each as
    ``(row, action_at, violation counts)``: the action time the agency's system sent, else the
    record's latest audit event, else its creation time. One query a batch for the audit
    events, and for inspections one more for their violation counts."""
    entity = ENTITIES[collection]
    for batch in row_batches(rows):
        latest = latest_changes(entity.dated, {row[2] for row in batch if row[1] is None})
        counts = violation_counts([row[0] for row in batch]) if collection == "Inspections" else {}
        yield [
            (row, row[1] or latest.get(row[2]) or row[3], counts.get(row[0], NO_VIOLATIONS))
            for row in batch
        ]


# --- streaming -----------------------------------------------------------------------------


def collection_records(collection: str, rows, writer: Writer) -> Iterator[list[str]]:
    """``collection``'s records as XML text, a batch at a time."""
    entity = ENTITIES[collection]
    for batch in record_batches(collection, rows):
        yield [writer.element(entity, *record) for record in batch]


def xml_records(status: dict, collections: dict) -> Iterator[etree._Element | str]:
    """The root's children: the data set's time and key, then each entity's records in
    collections of at most ``BATCH_SIZE`` (the schema lets a collection repeat), as text."""
    for tag, value in status.items():
        element = etree.Element(tag)
        element.text = text(value)
        yield element
    written = False
    writer = Writer()
    for tag, rows in collections.items():
        for records in collection_records(tag, rows, writer):
            written = True
            yield f"<{tag}>{''.join(records)}</{tag}>"
    forget_scope()
    if not written:
        yield etree.Element("Inspections", {XSI_NIL: "true"})


def json_stream(version: str, status: dict, collections: dict) -> Iterator[bytes]:
    """The same answer as JSON, streamed: one list per entity, each record as
    ``element_to_json`` writes it, from the record's XML text read back as an element."""
    head = {"schema": SCHEMA, "version": version, "root": "CMESubmittals"}
    head |= {tag: text(value) for tag, value in status.items()}
    writer = Writer()

    def pieces() -> Iterator[str]:
        yield json.dumps(head)[:-1]
        for tag, rows in collections.items():
            yield f", {json.dumps(tag)}: ["
            records = map(
                etree.fromstring, chain.from_iterable(collection_records(tag, rows, writer))
            )
            yield from json_items(records)
            yield "]"
        forget_scope()
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
        count = counted(call.regulator, collections)
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
