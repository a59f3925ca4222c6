"""The Tier 2 queries about facilities, organizations, transfers and action items: RFQ, ROQ,
RFTQ and RAIQ.

Scope. The caller is an EDT account, a service user that ``for_user`` querysets deliberately
refuse; ``EndpointView`` has already authenticated it for its agency (``call.regulator``). Every
query therefore starts from the agency's jurisdiction, drawn with the same queryset methods the
regulator portal uses: ``Facility.objects.in_jurisdiction`` (the facilities for which the agency
handles at least one submittal element; every facility for the state agency),
``Organization.objects.in_jurisdiction`` (organizations with such a facility) and
``SubmittalElementRecord.objects.in_jurisdiction`` (submitted elements routed to it). A CERS ID
or organization code outside the jurisdiction gives an empty answer.

What the answers hold where the project's models differ from CERS's:

- RFQ ``SubmittalElements``: each element's regulator is its ``FacilityRegulator`` row (the
  facility's Facility Information regulator, else the calling agency, where an element has no
  row), with the reporting requirement (CDR 20.0088) and next due date its regulator set
  (Facility Create and Metadata). Where none was set, the requirement is the status grid's
  (``facilities.schedule.stated_requirement``, the one rule): Applicable (2) for Facility
  Information and for an element the facility's Business Activities answers that count switch
  on, Not Applicable (1) otherwise, whether or not the element was ever submitted. ``FacilityID``,
  ``FacilityRegulatorKey`` and ``GeographicInformation`` are what the CUPA set; the
  optional ``StandardizedAddress`` is omitted: nothing standardizes addresses.
- ``RegulatorCode`` of a facility is its Facility Information regulator (always a CUPA).
- Organization ``Origin``: Seeding (5) for organizations the legacy import created, EDT (1)
  for those a Facility Create made, Business (2) for every other (they are created in the
  business portal). ``FacilityCount`` and
  ``UserCount`` count all of the organization's facilities and members, wherever they are.
  ``IsMJB``: its facilities' Facility Information goes to more than one CUPA.
- ``EstablishedOn`` is the day the row was created; ``LastSubmittalOn`` the last day an element
  was submitted (a facility's own, or any of the organization's facilities').
- Names and addresses longer than ROQ's schema allows are cut to its maximum lengths.
- RFTQ: moves of a facility to another organization, and merges of a duplicate facility into
  another, from ``FacilityTransfer``. ``Organization`` is the new owner (for a merge, the
  surviving facility's organization); ``AssumedOwnershipOn`` is the day the transfer was made,
  the only date recorded (so ``assumedOwnershipOnStart/End`` filter on that day too);
  ``Comments`` says what happened and the regulator's reason. ``organizationCode`` matches the
  new or the former owner, ``CERSID`` the facility or the facility it was merged into.
  Organization merges are not listed: their row does not say which facilities moved.

RAIQ action items, with CERS's event type codes (``typeID``):

- 12 Facility Submittal Notification: a submitted element routed to the agency; outstanding
  while it is Submitted or Under Review (the review queue's default), completed once reviewed.
  Requested on its submission; the link opens its review page.
- 26 Facility Transfer Request and 25 Facility Merge Request: a facility in the jurisdiction
  moved to another organization, or a duplicate merged into one, at the business's request.
  Regulators make these changes themselves, so they are always completed; requested on the
  day of the change; the link opens the facility's page.
- 6 Regulator User Access Request: a person's request to join the agency's own staff
  (``StaffAccessRequest``; the state agency's too are its own only); outstanding while it
  waits, completed once its administrators approved or declined it (one the person withdrew
  is not listed). Requested when asked; the summary names the person, their e-mail address,
  the role asked for, their message and the answer; the link opens the request on the staff
  page. It concerns no facility or organization, so ``CERSID`` or ``organizationCode`` leave
  it out (the schema's item has no such element to fill).
- CERS's other types (21 business user access, 24 facility delete) have no counterpart:
  join requests are answered by the organization's Lead Users, and facilities are not
  deleted.
- A summary quotes what people typed (names, messages, reasons): a character XML cannot carry
  in it (a control character pasted in) is written as U+FFFD (``output.readable``), so one
  person's text never stops the agency's answer.
- Without ``completed`` the answer lists outstanding items only (``completed=false``);
  ``completed=true`` lists the completed ones.

Dates: CalEPA's 1/05-1/06 schemas bound ``cers:Date`` and ``cers:DateTime`` at 2024-12-31, and
RAIQ's and RFTQ's ``timeStamp`` is such a ``cers:DateTime``. The answers carry the true dates,
so an answer dated after 2024 does not validate against those schema files. Likewise RAIQ's
and RFTQ's ``OrganizationCodeType`` starts at 100000001 (9 digits) where RFQ's ends at
99999999: organization codes are written as they are.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from django.db import models
from django.db.models import CharField, Count, Exists, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from core.elements import SubmittalElement
from core.models import AuditEvent
from facilities.models import Facility, FacilityRegulator, FacilityTransfer
from facilities.schedule import ELEMENTS_BY_ACTIVITY, elements_required_by, stated_requirement
from organizations.models import (
    CREATED_BY_EDT,
    CREATED_BY_LEGACY_IMPORT,
    Membership,
    Organization,
)
from regulators.models import Regulator, StaffAccessRequest
from submittals.models import AWAITING_STATUSES, ElementStatus, SubmittalElementRecord
from submittals.querysets import answer_column, counted_answers

from .base import (
    EdtCall,
    EdtError,
    EndpointView,
    backwards,
    check_ceiling,
    key_batches,
    release,
    row_batches,
)
from .location import LOCATION_PARTS, location_texts
from .output import query_response, readable, sub, text
from .registry import serves
from .submittal_query import ByKeys, escaped, escaped_attribute

# --- codes ---------------------------------------------------------------------------------


class OrganizationOrigin(models.IntegerChoices):
    """How an organization came into CERS (RFQ writes the code, ROQ the name)."""

    EDT = 1, "EDT"
    BUSINESS = 2, "Business"
    CALEPA = 3, "Cal/EPA"
    LETTER = 4, "Letter"
    SEEDING = 5, "Seeding"
    CUPA = 6, "CUPA"


class ActionItemType(models.IntegerChoices):
    """The CERS event types this server produces as action items (RAIQ ``typeID``)."""

    REGULATOR_USER_ACCESS_REQUEST = 6, "Regulator User Access Request"
    FACILITY_SUBMITTAL = 12, "Facility Submittal Notification"
    FACILITY_MERGE_REQUEST = 25, "Facility Merge Request"
    FACILITY_TRANSFER_REQUEST = 26, "Facility Transfer Request"


# RFQ's SubmittalElements children, in the schema's order (element codes 1-10).
ELEMENT_TAGS = {
    SubmittalElement.FACILITY_INFORMATION: "FacilityInformation",
    SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY: "HazardousMaterialsInventory",
    SubmittalElement.EMERGENCY_RESPONSE: "EmergencyResponseTrainingPlans",
    SubmittalElement.UST: "UndergroundStorageTanks",
    SubmittalElement.TIERED_PERMITTING: "OnsiteHazardousWasteTreatmentNotification",
    SubmittalElement.RECYCLABLE_MATERIALS: "RecyclableMaterialsReport",
    SubmittalElement.REMOTE_WASTE_CONSOLIDATION: "RemoteWasteConsolidationsAnnualNotification",
    SubmittalElement.HW_TANK_CLOSURE: "HWTankClosureCertification",
    SubmittalElement.APSA: "AbovegroundPetroleumStorageTanks",
    SubmittalElement.CALARP: "CaliforniaAccidentalReleasePrevention",
}

ORIGINS = {
    CREATED_BY_LEGACY_IMPORT: OrganizationOrigin.SEEDING,
    CREATED_BY_EDT: OrganizationOrigin.EDT,
}
_ZIP = re.compile(r"\d{5}(-\d{4})?")


# --- parameters and small helpers ----------------------------------------------------------


def date_range(call: EdtCall, start: str, end: str) -> tuple[datetime | None, datetime | None]:
    """Two date parameters; a start after the end is refused rather than answered empty."""
    low, high = call.date(start), call.date(end, end=True)
    if backwards(low, high):
        raise EdtError(f"{start} is after {end}; nothing can match.")
    return low, high


def within(queryset, field: str, low: datetime | None, high: datetime | None):
    if low is not None:
        queryset = queryset.filter(**{f"{field}__gte": low})
    if high is not None:
        queryset = queryset.filter(**{f"{field}__lte": high})
    return queryset


def day(moment: datetime | None) -> date | None:
    """The Pacific day of a stored moment."""
    return timezone.localtime(moment).date() if moment else None


def clip(value: str, length: int) -> str:
    """``value`` cut to the schema's maximum length."""
    return (value or "")[:length]


def required(parent: etree._Element, tag: str, value) -> etree._Element:
    """A child the schema requires, written even when empty (``sub`` omits empty ones)."""
    element = etree.SubElement(parent, tag)
    element.text = "" if value is None else text(value)
    return element


def last_submitted(path: str, ref: OuterRef) -> Subquery:
    """The latest submission moment of the submitted elements whose ``path`` is ``ref``."""
    return Subquery(
        SubmittalElementRecord.objects.filter(**{path: ref}, status__gt=ElementStatus.DRAFT)
        .order_by()
        .values(path)
        .annotate(last=Max("submitted_at"))
        .values("last")
    )


def organization_facts(ref: str) -> dict:
    """Annotations of an organization reached by ``OuterRef(ref)``: its facility and member
    counts, its last submission, whether the legacy import created it, and how many CUPAs
    receive its facilities' Facility Information. Subqueries of the list's own query."""
    organization = OuterRef(ref)

    def count(queryset, group: str):
        return Coalesce(
            Subquery(queryset.order_by().values(group).annotate(n=Count("pk")).values("n")), 0
        )

    cupas = (
        FacilityRegulator.objects.filter(
            facility__organization=organization,
            element=SubmittalElement.FACILITY_INFORMATION,
            regulator__kind=Regulator.Kind.CUPA,
        )
        .order_by()
        .values("facility__organization")
        .annotate(n=Count("regulator", distinct=True))
        .values("n")
    )
    return {
        "org_facility_count": count(
            Facility.objects.filter(organization=organization), "organization"
        ),
        "org_user_count": count(
            Membership.objects.filter(organization=organization), "organization"
        ),
        "org_last_submitted": last_submitted("facility__organization", organization),
        "org_created_how": Subquery(
            AuditEvent.objects.filter(
                action="organization.created",
                object_type=Organization._meta.label_lower,
                object_id=Cast(organization, output_field=CharField()),
            )
            .order_by("pk")
            .values("after__how")[:1]
        ),
        "org_cupa_count": Coalesce(Subquery(cupas), 0),
    }


def origin(record) -> OrganizationOrigin:
    return ORIGINS.get(record.org_created_how, OrganizationOrigin.BUSINESS)


def respond(call: EdtCall, schema: str, root: str, attributes: dict, record_name: str, records):
    version = call.schema_version(schema)
    return query_response(
        call,
        schema=schema,
        version=version,
        root=root,
        attributes=attributes,
        record_name=record_name,
        records=records,
    )


# --- RFQ -----------------------------------------------------------------------------------


# How many organizations' facts RFQ keeps between batches (their facilities come in CERS ID
# order, so an organization's may be in many batches): beyond, the facts are dropped.
FACTS_KEPT = 10_000

# What RFQ writes of a facility, read as one tuple per facility through one cursor joined to
# its organization and the organization's lead regulator: names and the paths they are read
# from. The location's names are those ``location_texts`` reads.
FACILITY_COLUMNS = {
    "pk": "pk",
    "cers_id": "cers_id",
    "local_facility_id": "local_facility_id",
    "regulator_key": "regulator_key",
    "name": "name",
    "created_at": "created_at",
    "organization_id": "organization_id",
    "organization_code": "organization__code",
    "organization_name": "organization__name",
    "headquarters": "organization__headquarters",
    "lead_regulator_code": "organization__lead_regulator__code",
    "street": "street",
    "city": "city",
    "zip_code": "zip_code",
    **{column: column for _tag, column in LOCATION_PARTS},
}
FacilityRow = NamedTuple("FacilityRow", [(name, object) for name in FACILITY_COLUMNS])  # noqa: UP014

# The facts of an organization RFQ writes (``organization_facts``), in this order.
FACT_NAMES = ("org_facility_count", "org_user_count", "org_last_submitted", "org_created_how")


class ElementRow(NamedTuple):
    """A facility's ``FacilityRegulator`` row, as RFQ writes it."""

    element: int
    regulator_code: str
    reporting_requirement: int | None
    next_due_date: date | None


class FacilityBatches:
    """What RFQ writes of each batch of facilities besides their own columns, read by arrays
    of keys with queries compiled once (``ByKeys``): the element regulators, each facility's
    last submission, the Business Activities answers that count (``counted_answers``: the
    elements they switch on, for the reporting requirement, ``schedule.stated_requirement``),
    and the facts of the organizations not met in the batches before (each organization's
    facilities counted once, not once for each of its facilities in the answer)."""

    def __init__(self):
        self.element_rows = ByKeys(
            FacilityRegulator.objects.all(),
            "facility__pk",
            {
                "facility_id": "facility_id",
                "element": "element",
                "regulator_code": "regulator__code",
                "reporting_requirement": "reporting_requirement",
                "next_due_date": "next_due_date",
            },
            (),
        )
        self.submissions = ByKeys(
            SubmittalElementRecord.objects.filter(status__gt=ElementStatus.DRAFT)
            .values("facility_id")
            .annotate(last=Max("submitted_at")),
            "facility__pk",
            {"facility_id": "facility_id", "last": "last"},
            (),
        )
        self.numbers = tuple(ELEMENTS_BY_ACTIVITY)
        self.answers = ByKeys(
            counted_answers(),
            "facility__pk",
            {"facility_id": "facility_id"}
            | {answer_column(number): answer_column(number) for number in self.numbers},
            (),
        )
        facts = organization_facts("pk")
        self.facts_of = ByKeys(
            Organization.objects.annotate(**{name: facts[name] for name in FACT_NAMES}),
            "pk",
            {"pk": "pk", **{name: name for name in FACT_NAMES}},
            (),
        )
        self.facts: dict[int, tuple] = {}  # per organization, kept while it may come again

    def read(self, facilities: list[FacilityRow]):
        """For a batch: each facility's element rows by element, its last submission, the
        elements its Business Activities answers that count switch on (by facility; absent:
        none answered); and the batch's organizations' facts, kept in ``facts``."""
        keys = [facility.pk for facility in facilities]
        routed: dict[int, dict[int, ElementRow]] = {}
        for row in self.element_rows(keys):
            routed.setdefault(row.facility_id, {})[row.element] = ElementRow(
                row.element, row.regulator_code, row.reporting_requirement, row.next_due_date
            )
        last: dict[int, datetime] = {}
        for row in self.submissions(keys):
            if row.last is not None:
                last[row.facility_id] = row.last
        numbers = self.numbers
        derived = {
            row.facility_id: elements_required_by(
                {number: getattr(row, answer_column(number)) for number in numbers}
            )
            for row in self.answers(keys)
        }
        if len(self.facts) > FACTS_KEPT:
            self.facts.clear()  # memory stays flat; an organization met again is recounted
        new = list({facility.organization_id for facility in facilities} - self.facts.keys())
        for row in self.facts_of(new):
            self.facts[row.pk] = tuple(getattr(row, name) for name in FACT_NAMES)
        return routed, last, derived


# The elements switched on for a facility without Business Activities answers that count.
NOTHING_ANSWERED = elements_required_by(None)


def _leaf(out: list[str], tag: str, value) -> None:
    """``sub``'s element as text: nothing for None or an empty text."""
    if value is None or value == "":
        return
    out.append(f"<{tag}>{escaped(value if type(value) is str else str(value))}</{tag}>")


def facility_text(
    facility: FacilityRow,
    rows: dict[int, ElementRow],
    last_submitted: datetime | None,
    derived: frozenset[int],
    facts: tuple,
    agency_code: str,
    zone,
) -> str:
    """One RFQ ``Facility`` (FacilityType, 1/05) as XML text, what lxml writes for it (its
    dates' days in ``zone``, the current time zone). ``derived``: the elements its Business
    Activities answers that count switch on (``schedule.elements_required_by``)."""
    information = rows.get(SubmittalElement.FACILITY_INFORMATION)
    main = information.regulator_code if information is not None else agency_code
    facility_count, user_count, organization_last, created_how = facts
    out = [f"<Facility><CERSID>{facility.cers_id}</CERSID>"]
    _leaf(out, "FacilityID", facility.local_facility_id)
    _leaf(out, "FacilityRegulatorKey", facility.regulator_key)
    _leaf(out, "RegulatorCode", main)
    _leaf(out, "Name", facility.name)
    _leaf(out, "LastSubmittalOn", day_in(last_submitted, zone))
    _leaf(out, "EstablishedOn", day_in(facility.created_at, zone))
    out.append("<Organization>")
    _leaf(out, "Code", facility.organization_code)
    _leaf(out, "Name", facility.organization_name)
    _leaf(out, "Headquarters", facility.headquarters)
    _leaf(out, "FacilityCount", facility_count)
    _leaf(out, "UserCount", user_count)
    # Unset only for an organization none of whose facilities a CUPA regulates.
    lead = facility.lead_regulator_code
    _leaf(out, "LeadRegulatorCode", lead if lead is not None else main)
    _leaf(out, "LastSubmittalOn", day_in(organization_last, zone))
    out.append(f"<Origin>{ORIGINS.get(created_how, OrganizationOrigin.BUSINESS).value}</Origin>")
    out.append("</Organization><SubmittalElements>")
    for code, tag in ELEMENT_TAGS.items():
        row = rows.get(code)
        requirement = stated_requirement(code, row, derived)
        regulator = escaped_attribute(row.regulator_code if row is not None else main)
        due = (
            f' nextDueDate="{row.next_due_date.isoformat()}"'
            if row is not None and row.next_due_date
            else ""
        )
        out.append(
            f'<{tag} regulatorCode="{regulator}" reportingRequirement="{requirement.value}"{due}/>'
        )
    out.append("</SubmittalElements>")
    address: list[str] = []
    _leaf(address, "SiteAddress", facility.street)
    _leaf(address, "City", facility.city)
    _leaf(address, "ZipCode", facility.zip_code)
    out.append(
        f"<FacilityAddress>{''.join(address)}</FacilityAddress>"
        if address
        else "<FacilityAddress/>"
    )
    texts = location_texts(facility)
    if texts is not None:
        out.append("<GeographicInformation><CERSPoint>")
        for (tag, _column), value in zip(LOCATION_PARTS, texts, strict=True):
            out.append(f"<{tag}>{escaped(value)}</{tag}>")
        out.append("</CERSPoint></GeographicInformation>")
    out.append("</Facility>")
    return "".join(out)


def day_in(moment: datetime | None, zone) -> date | None:
    """``day``, in a time zone read once by the caller."""
    return moment.astimezone(zone).date() if moment is not None else None


@serves("RFQ")
class RegulatorFacilityQueryView(EndpointView):
    """RFQ: the facilities in the agency's jurisdiction, with their organization, their
    element regulators and their address, by CERS ID order."""

    NARROW = "CERSID, organizationCode, createdOnStart/createdOnEnd, street, city or zip"

    def answer(self, call: EdtCall):
        version = call.schema_version("RegulatorFacilityQuery")
        wanted = self.facilities(call).order_by("cers_id")
        count = wanted.count()  # the agency's routings, on their (regulator, facility) index
        check_ceiling(count, "facilities", self.NARROW)
        agency_code = call.regulator.code

        def records() -> Iterator[str]:
            zone = timezone.get_current_timezone()
            batches = FacilityBatches()
            facts = batches.facts
            write = facility_text  # looked up once (the tests replace it)
            for rows in row_batches(wanted.values_list(*FACILITY_COLUMNS.values())):
                batch = list(map(FacilityRow._make, rows))
                del rows
                routed, last, derived = batches.read(batch)
                for facility in batch:
                    yield write(
                        facility,
                        routed.get(facility.pk, {}),
                        last.get(facility.pk),
                        derived.get(facility.pk, NOTHING_ANSWERED),
                        facts[facility.organization_id],
                        agency_code,
                        zone,
                    )

        self.accepted(call, count)
        attributes = {
            "timeStamp": timezone.now(),
            "returnedResultCount": count,
            "totalQueryResultCount": count,
            "transactionKey": call.transaction.key,
        }
        # JSON is made from the same text, read back as elements.
        items = (lambda: map(etree.fromstring, records())) if call.wants_json else records
        return query_response(
            call,
            schema="RegulatorFacilityQuery",
            version=version,
            root="RegulatorFacilityQuery",
            attributes=attributes,
            record_name="Facility",
            records=items,
        )

    @staticmethod
    def facilities(call: EdtCall):
        facilities = Facility.objects.in_jurisdiction(call.regulator)
        cers_id = call.integer("CERSID")
        if cers_id is not None:
            facilities = facilities.filter(cers_id=cers_id)
        organization_code = call.integer("organizationCode")
        if organization_code is not None:
            facilities = facilities.filter(organization__code=organization_code)
        low, high = date_range(call, "createdOnStart", "createdOnEnd")
        facilities = within(facilities, "created_at", low, high)
        street = call.param("street")
        if street:
            facilities = facilities.filter(street__icontains=street)
        city = call.param("city")
        if city:
            facilities = facilities.filter(city__iexact=city)
        zip_code = call.param("zip")
        if zip_code:
            if not _ZIP.fullmatch(zip_code):
                raise EdtError(f"zip is a 5-digit ZIP code or ZIP+4; '{zip_code}' is not.")
            if len(zip_code) == 5:  # also the facilities recorded with ZIP+4
                facilities = facilities.filter(zip_code__startswith=zip_code)
            else:
                facilities = facilities.filter(zip_code=zip_code)
        return facilities


# --- ROQ -----------------------------------------------------------------------------------


def organization_element(organization, include_facilities: bool) -> etree._Element:
    """One ROQ ``Organization`` (OrganizationType, 1/05)."""
    element = etree.Element("Organization")
    sub(element, "OrganizationCode", organization.code)
    sub(element, "OrganizationName", clip(organization.name, 100))
    sub(element, "OrganizationHeadquarters", clip(organization.headquarters, 75))
    sub(element, "FacilityCount", organization.org_facility_count)
    sub(element, "UserCount", organization.org_user_count)
    sub(element, "EstablishedOn", day(organization.created_at))
    sub(element, "IsMJB", organization.org_cupa_count > 1)
    sub(element, "Origin", origin(organization).label)
    sub(element, "LastSubmittalDate", day(organization.org_last_submitted))
    if include_facilities:
        facilities = etree.SubElement(element, "Facilities")
        for facility in organization.listed_facilities:
            item = etree.SubElement(facilities, "Facility")
            sub(item, "CERSID", facility.cers_id)
            required(item, "FacilityName", clip(facility.name, 70))
            required(item, "SiteAddress", clip(facility.street, 70))
            required(item, "City", clip(facility.city, 60))
            required(item, "ZipCode", clip(facility.zip_code, 10))
            sub(item, "LastSubmittalDate", day(facility.last_submitted))
    return element


@serves("ROQ")
class RegulatorOrganizationQueryView(EndpointView):
    """ROQ: organizations with at least one facility in the agency's jurisdiction; with
    ``includeFacilities``, each with those of its facilities that are in the jurisdiction."""

    NARROW = (
        "organizationName, organizationHeadquarters, organizationCode, CERSID or establishedSince"
    )

    def answer(self, call: EdtCall):
        call.schema_version("RegulatorOrganizationQuery")
        include_facilities = call.boolean("includeFacilities")
        wanted = self.organizations(call).order_by("code")
        count = wanted.count()
        check_ceiling(count, "organizations", self.NARROW)
        # The facts are computed for a batch's organizations when the batch is read, not for
        # every organization before the first is written.
        organizations = Organization.objects.annotate(**organization_facts("pk")).order_by("code")
        if include_facilities:
            listed = (
                Facility.objects.in_jurisdiction(call.regulator)
                .annotate(last_submitted=last_submitted("facility", OuterRef("pk")))
                .order_by("cers_id")
            )
            organizations = organizations.prefetch_related(
                Prefetch("facilities", queryset=listed, to_attr="listed_facilities")
            )

        def records() -> Iterator[etree._Element]:
            for chunk in key_batches(wanted):
                batch = list(organizations.filter(pk__in=chunk))
                for organization in batch:
                    yield organization_element(organization, include_facilities)
                release(batch)

        self.accepted(call, count)
        attributes = {
            "timeStamp": timezone.now(),
            "resultCount": count,
            "transactionKey": call.transaction.key,
        }
        return respond(
            call,
            "RegulatorOrganizationQuery",
            "RegulatorOrganizationQuery",
            attributes,
            "Organization",
            records,
        )

    @staticmethod
    def organizations(call: EdtCall):
        organizations = Organization.objects.in_jurisdiction(call.regulator)
        name = call.param("organizationName")
        if name:
            organizations = organizations.filter(name__icontains=name)
        headquarters = call.param("organizationHeadquarters")
        if headquarters:
            organizations = organizations.filter(headquarters__icontains=headquarters)
        code = call.integer("organizationCode")
        if code is not None:
            organizations = organizations.filter(code=code)
        cers_id = call.integer("CERSID")
        if cers_id is not None:
            in_scope = Facility.objects.filter(
                organization=OuterRef("pk"), cers_id=cers_id
            ).in_jurisdiction(call.regulator)
            organizations = organizations.filter(Exists(in_scope))
        since = call.date("establishedSince")
        return within(organizations, "created_at", since, None)


# --- RFTQ ----------------------------------------------------------------------------------

LISTED_TRANSFERS = (FacilityTransfer.Kind.MOVE, FacilityTransfer.Kind.MERGE_FACILITY)


def transfers_in_jurisdiction(regulator: Regulator):
    """Moves and facility merges of a facility in the agency's jurisdiction, or merged into
    one (a merged duplicate is gone; the facility it became is what the agency regulates)."""
    if regulator.is_statewide:
        facilities = Facility.objects.in_jurisdiction(regulator).values("pk")
    else:
        # The facilities of the agency's element rows, read from their (regulator, facility)
        # index alone: the jurisdiction ``Facility.objects.in_jurisdiction`` draws, without
        # joining every one of its facilities to count the transfers.
        facilities = FacilityRegulator.objects.in_jurisdiction(regulator).values("facility_id")
    return FacilityTransfer.objects.filter(
        Q(kind__in=LISTED_TRANSFERS)
        & Q(to_organization__isnull=False)
        & (Q(facility__in=facilities) | Q(merged_into_facility__in=facilities))
    )


class TransferRow(NamedTuple):
    """What RFTQ and RAIQ write of a transfer, read as a tuple (``TRANSFER_COLUMNS``; RFTQ's
    ``RFTQ_COLUMNS``, its last left None)."""

    kind: str
    facility_cers_id: int
    facility_name: str
    from_organization_code: int
    from_organization_name: str
    reason: str
    performed_at: datetime
    owner_code: int
    owner_name: str
    owner_headquarters: str
    survivor_cers_id: int | None  # the facility a duplicate was merged into
    survivor_name: str | None
    current_cers_id: int | None  # the moved facility's, while it exists


TRANSFER_COLUMNS = (
    "kind",
    "facility_cers_id",
    "facility_name",
    "from_organization_code",
    "from_organization_name",
    "reason",
    "performed_at",
    "to_organization__code",
    "to_organization__name",
    "to_organization__headquarters",
    "merged_into_facility__cers_id",
    "merged_into_facility__name",
    "facility__cers_id",
)


def transfer_rows(transfers) -> Iterator[TransferRow]:
    """``transfers`` in their order, read as tuples a batch at a time (``row_batches``)."""
    for batch in row_batches(transfers.values_list(*TRANSFER_COLUMNS)):
        yield from map(TransferRow._make, batch)


def transfer_comments(transfer: TransferRow) -> str:
    if transfer.kind == FacilityTransfer.Kind.MERGE_FACILITY:
        what = (
            f"Merged into CERS ID {transfer.survivor_cers_id} ({transfer.survivor_name})"
            if transfer.survivor_cers_id is not None
            else "Merged into another facility"
        )
    else:
        what = (
            f"Moved from organization {transfer.from_organization_code} "
            f"({transfer.from_organization_name})"
        )
    return f"{what}: {transfer.reason}"


# What RFTQ writes of a transfer, read as one tuple per transfer through one cursor joined to
# its new owner and the facility it was merged into (``TRANSFER_COLUMNS`` less the moved
# facility's current CERS ID, which only RAIQ links to).
RFTQ_COLUMNS = TRANSFER_COLUMNS[:-1]


def transfer_text(transfer: TransferRow, zone) -> str:
    """One ``RegulatorFacilityTransfer`` (1/06) as XML text, what lxml writes for it (its
    dates in ``zone``, the current time zone). Every element is written, even empty, as the
    schema requires; a listed transfer always keeps its CERS ID (a constraint of
    ``FacilityTransfer``)."""
    local = transfer.performed_at.astimezone(zone)
    return "".join(
        (
            f"<RegulatorFacilityTransfer><Facility><CERSID>{transfer.facility_cers_id}</CERSID>",
            f"<FacilityName>{escaped(transfer.facility_name or '')}</FacilityName></Facility>",
            f"<Organization><OrganizationCode>{transfer.owner_code}</OrganizationCode>",
            f"<OrganizationName>{escaped(transfer.owner_name or '')}</OrganizationName>",
            "<OrganizationHeadquarters>",
            escaped(transfer.owner_headquarters or ""),
            "</OrganizationHeadquarters></Organization>",
            f"<AssumedOwnershipOn>{local.date().isoformat()}</AssumedOwnershipOn>",
            f"<OccurredOn>{local.isoformat(timespec='seconds')}</OccurredOn>",
            f"<Comments>{escaped(transfer_comments(transfer))}</Comments>",
            "</RegulatorFacilityTransfer>",
        )
    )


@serves("RFTQ")
class RegulatorFacilityTransferQueryView(EndpointView):
    """RFTQ: facilities of the agency's jurisdiction moved to another organization or merged
    into another facility, oldest first."""

    NARROW = (
        "CERSID, organizationCode, occurredOnStart/occurredOnEnd or "
        "assumedOwnershipOnStart/assumedOwnershipOnEnd"
    )

    def answer(self, call: EdtCall):
        call.schema_version("RegulatorFacilityTransferQuery")
        transfers = self.transfers(call)
        count = transfers.count()
        check_ceiling(count, "facility transfers", self.NARROW)
        rows = transfers.order_by("performed_at", "pk").values_list(*RFTQ_COLUMNS)

        def records() -> Iterator[str]:
            zone = timezone.get_current_timezone()
            write = transfer_text  # looked up once
            make = TransferRow._make
            for batch in row_batches(rows):
                for row in batch:
                    yield write(make((*row, None)), zone)

        self.accepted(call, count)
        attributes = {"timeStamp": timezone.now(), "transactionKey": call.transaction.key}
        # JSON is made from the same text, read back as elements.
        items = (lambda: map(etree.fromstring, records())) if call.wants_json else records
        return respond(
            call,
            "RegulatorFacilityTransferQuery",
            "RegulatorFacilityTransferQuery",
            attributes,
            "RegulatorFacilityTransfer",
            items,
        )

    @staticmethod
    def transfers(call: EdtCall):
        transfers = transfers_in_jurisdiction(call.regulator)
        cers_id = call.integer("CERSID")
        if cers_id is not None:
            transfers = transfers.filter(
                Q(facility_cers_id=cers_id) | Q(merged_into_facility__cers_id=cers_id)
            )
        code = call.integer("organizationCode")
        if code is not None:
            transfers = transfers.filter(
                Q(to_organization__code=code) | Q(from_organization_code=code)
            )
        low, high = date_range(call, "occurredOnStart", "occurredOnEnd")
        transfers = within(transfers, "performed_at", low, high)
        # The transfer is the only date recorded: the new owner took over that day.
        low, high = date_range(call, "assumedOwnershipOnStart", "assumedOwnershipOnEnd")
        return within(transfers, "performed_at", low, high)


# --- RAIQ ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionItem:
    """One action item, before it is written."""

    requested_on: datetime
    kind: ActionItemType
    summary: str
    path: str  # the regulator portal page, made absolute when written


def path_of(view: str) -> Callable[[int], str]:
    """``reverse(view, args=[key])`` for many keys: the URL is reversed once, and each key
    written where it goes."""
    head, tail = reverse(view, args=[PATH_KEY]).rsplit(str(PATH_KEY), 1)
    return lambda key: f"{head}{key}{tail}"


PATH_KEY = 987654321  # a key that stands nowhere else in a path
ELEMENT_COLUMNS = (
    "pk",
    "submitted_at",
    "element",
    "status",
    "facility__name",
    "facility__cers_id",
    "facility__organization__name",
    "facility__organization__code",
)


def labels(model, field: str) -> dict:
    """The labels of a field's choices, as ``get_FOO_display`` writes them."""
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


def submitted_items(elements) -> Iterator[ActionItem]:
    element_names = labels(SubmittalElementRecord, "element")
    status_names = labels(SubmittalElementRecord, "status")
    review = path_of("regulator:review")
    for batch in row_batches(elements.values_list(*ELEMENT_COLUMNS)):
        for pk, submitted_at, element, status, name, cers_id, owner, code in batch:
            yield ActionItem(
                submitted_at,
                ActionItemType.FACILITY_SUBMITTAL,
                f"{element_names.get(element, element)} of {name} (CERS ID {cers_id}), "
                f"{owner} ({code}): {status_names.get(status, status)}.",
                review(pk),
            )


def transfer_items(transfers) -> Iterator[ActionItem]:
    facility = path_of("regulator:facility")
    for transfer in transfer_rows(transfers):
        merge = transfer.kind == FacilityTransfer.Kind.MERGE_FACILITY
        yield ActionItem(
            transfer.performed_at,
            ActionItemType.FACILITY_MERGE_REQUEST
            if merge
            else ActionItemType.FACILITY_TRANSFER_REQUEST,
            f"{transfer.facility_name} (CERS ID {transfer.facility_cers_id}) of "
            f"{transfer.owner_name} ({transfer.owner_code}). {transfer_comments(transfer)}",
            facility(transfer.survivor_cers_id if merge else transfer.current_cers_id),
        )


STAFF_REQUEST_COLUMNS = (
    "pk",
    "created_at",
    "user__first_name",
    "user__last_name",
    "user__email",
    "role",
    "message",
    "status",
    "granted_role",
    "decision_reason",
)


def staff_request_items(requests) -> Iterator[ActionItem]:
    """Requests to join the agency's staff (type 6), each linked to its place on the staff
    page."""
    role_names = labels(StaffAccessRequest, "role")
    status_names = labels(StaffAccessRequest, "status")
    staff_page = reverse("regulator:staff")
    for batch in row_batches(requests.values_list(*STAFF_REQUEST_COLUMNS)):
        for pk, created_at, first, last, email, role, message, status, granted, reason in batch:
            name = f"{first} {last}".strip()
            who = f"{name} ({email})" if name else email
            answer = status_names.get(status, status)
            if granted:
                answer = f"{answer} as {role_names.get(granted, granted)}"
            said = f" Their message: {message}" if message else ""
            why = f" Reason: {reason}" if reason else ""
            yield ActionItem(
                created_at,
                ActionItemType.REGULATOR_USER_ACCESS_REQUEST,
                f"{who} asks to join the agency's staff as {role_names.get(role, role)}: "
                f"{answer}.{why}{said}",
                f"{staff_page}#staff-request-{pk}",
            )


def action_item_element(item: ActionItem, base: str) -> etree._Element:
    """One ``ActionItem`` (1/06)."""
    element = etree.Element("ActionItem")
    sub(element, "Type", item.kind.label)
    sub(element, "Summary", readable(item.summary))
    sub(element, "LinkUri", base + item.path)
    sub(element, "RequestedOn", item.requested_on)
    return element


@serves("RAIQ")
class RegulatorActionItemQueryView(EndpointView):
    """RAIQ: what waits for the agency in CERS (see the module docstring for the types),
    oldest first."""

    NARROW = "CERSID, organizationCode, typeID, completed or requestedOnStart/requestedOnEnd"

    def answer(self, call: EdtCall):
        call.schema_version("RegulatorActionItemQuery")
        elements, transfers, staff_requests = self.sources(call)
        # An empty queryset (a filter no request can meet) is counted and read without a query.
        count = elements.count() + transfers.count() + staff_requests.count()
        check_ceiling(count, "action items", self.NARROW)
        elements = elements.order_by("submitted_at", "pk")
        transfers = transfers.order_by("performed_at", "pk")
        staff_requests = staff_requests.order_by("created_at", "pk")
        base = call.request.build_absolute_uri("/").rstrip("/")

        def records() -> Iterator[etree._Element]:
            items = heapq.merge(
                submitted_items(elements),
                transfer_items(transfers),
                staff_request_items(staff_requests),
                key=lambda item: item.requested_on,
            )
            for item in items:
                yield action_item_element(item, base)

        self.accepted(call, count)
        attributes = {"transactionKey": call.transaction.key, "timeStamp": timezone.now()}
        return respond(
            call,
            "RegulatorActionItemQuery",
            "RegulatorActionItemQuery",
            attributes,
            "ActionItem",
            records,
        )

    @staticmethod
    def sources(call: EdtCall):
        """The agency's submitted elements, transfers and requests to join its staff that the
        parameters select."""
        elements = SubmittalElementRecord.objects.in_jurisdiction(call.regulator)
        transfers = transfers_in_jurisdiction(call.regulator)
        staff_requests = StaffAccessRequest.objects.in_jurisdiction(call.regulator)
        types = call.integers("typeID")
        completed = call.boolean("completed")
        if completed:
            elements = elements.exclude(status__in=AWAITING_STATUSES)
            staff_requests = staff_requests.decided()
        else:
            elements = elements.awaiting_review()
            transfers = transfers.none()  # always completed
            staff_requests = staff_requests.pending()
        if types is not None:
            if ActionItemType.FACILITY_SUBMITTAL not in types:
                elements = elements.none()
            if ActionItemType.REGULATOR_USER_ACCESS_REQUEST not in types:
                staff_requests = staff_requests.none()
            kinds = [
                kind
                for kind, code in (
                    (FacilityTransfer.Kind.MOVE, ActionItemType.FACILITY_TRANSFER_REQUEST),
                    (FacilityTransfer.Kind.MERGE_FACILITY, ActionItemType.FACILITY_MERGE_REQUEST),
                )
                if code in types
            ]
            transfers = transfers.filter(kind__in=kinds)
        cers_id = call.integer("CERSID")
        if cers_id is not None:
            elements = elements.filter(facility__cers_id=cers_id)
            transfers = transfers.filter(
                Q(facility_cers_id=cers_id) | Q(merged_into_facility__cers_id=cers_id)
            )
            staff_requests = staff_requests.none()  # about no facility
        code = call.integer("organizationCode")
        if code is not None:
            elements = elements.filter(facility__organization__code=code)
            transfers = transfers.filter(
                Q(to_organization__code=code) | Q(from_organization_code=code)
            )
            staff_requests = staff_requests.none()  # about no organization
        low, high = date_range(call, "requestedOnStart", "requestedOnEnd")
        return (
            within(elements, "submitted_at", low, high),
            within(transfers, "performed_at", low, high),
            within(staff_requests, "created_at", low, high),
        )
