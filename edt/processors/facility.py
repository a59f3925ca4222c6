"""Tier 5 uploads: RFC (Regulator Facility Create) and RFMS (Regulator Facility Metadata).

Only a CUPA uses them, for facilities in its own jurisdiction: those whose Facility
Information it handles, and for a new facility, an address whose ZIP code it serves. They
write through the facilities and organizations services, so what EDT creates or changes looks
in the portals, and in the audit history (actor: the EDT account's user), as if done there.

RFC, ``mode="Commit"``: the facility is added to the organization ``OrganizationCode`` names,
or to a new organization (``OrganizationName`` and ``OrganizationHeadquarters``; named after
the facility when neither is given; it has no members until its people join with its code).
``SiteAddress`` and ``SupplementalAddress`` are kept together as the street. A facility at the
exact address of another (``facilities.services.address_key``) is refused unless
``IgnoreExactDuplicateAddressWarning`` is true: then it is created with a Warning, and the
audit event names the other facilities and keeps the ``Comments``. ``SubmittalElements`` may
give elements to the CUPA or to its Participating Agencies that serve them, and set reporting
requirements and next due dates. The answer's ``Result`` has the CERS ID, the organization
and every element's regulator and reporting requirement (one the CUPA did not set reads as
for a new facility: Facility Information Applicable, the others Not Applicable); in 1/06 a
``PotentialDuplicates`` block lists facilities at the same address (score 100) or at the same
site address in the same ZIP code (another suite or city spelling: score 50).

Only potential duplicates in the CUPA's own jurisdiction are named (name, CERS ID,
organization, in messages and in ``PotentialDuplicates``). Of one elsewhere the answer says
only that a facility at this address exists in another jurisdiction (a Warning, code 1013);
an exact one still needs ``IgnoreExactDuplicateAddressWarning``.

RFC, ``mode="Trial"``: nothing is written. A document a Commit would reject is Rejected, as
CalEPA's Facility Create answers in either mode, listing every problem (type Error); a clean
one is Accepted. Either way the answer lists each potential duplicate (type Warning; in 1/06
the ``PotentialDuplicates`` block too); there is no ``Result``, which would need a CERS ID. A
Commit sent after its Trial with the same ``RegulatorTransactionKey`` is another document, so
it is processed (``edt.uploads``). A rejected Commit's 1/06 answer lists the potential
duplicates too.

RFMS: for a facility of the CUPA (else "There is no facility with CERSID n", guidance 1054,
whoever's facility it is), changes ``FacilityID``, ``FacilityRegulatorKey``, the geographic
point and, per element, its regulator, reporting requirement and next due date. Facility
Information stays the CUPA's and always applies. Only what changes is written.

Every problem of a document is listed before anything is written: one problem rejects the
whole upload. CalEPA's 1/05-1/06 schemas bound ``nextDueDate`` at 2024-12-31, so a date in the
past is accepted (RFSAN's rule against past due dates cannot apply here). The facility is
reported as an entity key with the resource name ``Facility``: CERS's EntityResource list has
no code for a facility, and these responses carry no entity keys (the key is in the
transaction log only).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from lxml import etree

from core.elements import SubmittalElement
from core.xmlsafe import GuidanceLevel, GuidanceMessage
from facilities.models import Facility, FacilityRegulator
from facilities.schedule import stated_requirement
from facilities.services import (
    ElementChange,
    add_facility,
    address_key,
    apply_facility_metadata,
    element_change_problems,
    element_regulator_problem,
    is_zip_code,
    jurisdiction_problem,
)
from organizations.models import CREATED_BY_EDT, Organization
from organizations.services import add_organization
from regulators.models import Regulator

from ..api.location import geographic_information
from ..api.queries import ELEMENT_TAGS, NOTHING_ANSWERED
from ..uploads import UploadContext, UploadRejected, processes
from .reading import text

# Guidance message codes (CDR 20.0078).
REQUIRED_FIELD_MISSING = 1002
VALUE_OUT_OF_RANGE = 1012
ENTITY_VALIDATION_ERROR = 1013  # also: no such organization, an exact duplicate address
DOES_NOT_MATCH_PATTERN = 1017
INVALID_REGULATOR_CODE = 1049
NOT_AUTHORIZED = 1053
INVALID_CERSID = 1054
DATE_OUT_OF_RANGE = 1073
EPAID_TOO_SHORT = 1077

ENTITY_FACILITY = "Facility"

TAG_ELEMENTS = {tag: element for element, tag in ELEMENT_TAGS.items()}
EXACT_SCORE, SAME_SITE_SCORE = 100, 50
MAX_POTENTIAL_DUPLICATES = 20
EARLIEST_COLLECTION_DATE = date(1970, 1, 1)
DEGREES = Decimal("0.00000001")  # what Facility.latitude / longitude keep
METERS = Decimal("0.001")


class Problems(list):
    """The Required messages of one document, collected before anything is written."""

    def add(
        self,
        code: int,
        message: str,
        element: etree._Element | None = None,
        *,
        at: tuple[int, str] | None = None,
    ) -> None:
        """``element``: where in the document, or ``at``, its line and path (``element_path``)
        remembered from an element no longer held."""
        if element is not None:
            at = element.sourceline, element_path(element)
        location = f"line {at[0]} ({at[1]})" if at is not None else ""
        self.append(GuidanceMessage(code, GuidanceLevel.REQUIRED, message, location=location))


def element_path(element: etree._Element) -> str:
    """The element's path from the root, by local names: "/Root/Parent/Element"."""
    names = [etree.QName(e).localname for e in reversed(list(element.iterancestors()))]
    names.append(etree.QName(element).localname)
    return f"/{'/'.join(names)}"


def _date(value: str) -> date:
    return date.fromisoformat(value.strip()[:10])  # xs:date may carry a time zone


def require_cupa(context: UploadContext, problems: Problems) -> None:
    # Tier 5 is granted to CUPAs only; this keeps the rule should a grant ever say otherwise.
    if context.regulator.kind != Regulator.Kind.CUPA:
        problems.add(NOT_AUTHORIZED, f"{context.regulator} is not a CUPA: only CUPAs do this.")


# --- reading the parts both documents share ---------------------------------------------------


def _decimal(value: str | None) -> Decimal | None:
    try:
        number = Decimal((value or "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def read_geographic_point(root: etree._Element, problems: Problems) -> dict:
    """``GeographicInformation/CERSPoint`` as Facility fields (empty when absent)."""
    point = root.find("GeographicInformation/CERSPoint")
    if point is None:
        return {}
    details = {}
    for tag, field, limit in (
        ("LatitudeMeasure", "latitude", 90),
        ("LongitudeMeasure", "longitude", 180),
    ):
        element = point.find(tag)
        number = _decimal(element.text)
        if number is None or abs(number) > limit:
            problems.add(
                VALUE_OUT_OF_RANGE,
                f"{tag} is a number of degrees from -{limit} to {limit}; "
                f"'{(element.text or '').strip()}' is not.",
                element,
            )
        else:
            details[field] = number.quantize(DEGREES)
    element = point.find("HorizontalAccuracyMeasure")
    accuracy = _decimal(element.text)
    if accuracy is None or not 0 <= accuracy < 10**9:
        problems.add(
            VALUE_OUT_OF_RANGE,
            "HorizontalAccuracyMeasure is a distance in meters, 0 or more and under a billion.",
            element,
        )
    else:
        details["horizontal_accuracy"] = accuracy.quantize(METERS)
    details["horizontal_collection_method"] = int(point.findtext("HorizontalCollectionMethod"))
    details["geographic_reference_point"] = int(point.findtext("GeographicReferencePoint"))
    details["horizontal_reference_datum"] = point.findtext("HorizontalReferenceDatum").strip()
    element = point.find("DataCollectionDate")
    details["location_collected_on"] = None  # 1/06 may send a point without its date
    if element is not None:
        try:  # xs:date also allows years before 1 and after 9999
            collected = _date(element.text)
        except ValueError:
            collected = None
        today = timezone.localdate()
        if collected is None or not EARLIEST_COLLECTION_DATE <= collected <= today:
            problems.add(
                DATE_OUT_OF_RANGE,
                f"DataCollectionDate must be between {EARLIEST_COLLECTION_DATE} and today "
                f"({today}); {(element.text or '').strip()} is not.",
                element,
            )
        else:
            details["location_collected_on"] = collected
    return details


def read_element_changes(
    block: etree._Element | None, cupa: Regulator, problems: Problems
) -> dict[int, ElementChange]:
    """``SubmittalElements``: per element code, what the CUPA sets."""
    changes: dict[int, ElementChange] = {}
    if block is None:
        return changes
    children = [child for child in block if isinstance(child.tag, str)]
    codes = {str(int(c.get("regulatorCode"))) for c in children if c.get("regulatorCode")}
    agencies = {r.code: r for r in Regulator.objects.filter(code__in=codes)}
    for child in children:
        element = TAG_ELEMENTS[child.tag]
        label = SubmittalElement(element).label
        if element in changes:
            problems.add(ENTITY_VALIDATION_ERROR, f"{label} is given twice; give it once.", child)
            continue
        regulator = None
        if child.get("regulatorCode"):
            code = str(int(child.get("regulatorCode")))
            regulator = agencies.get(code)
            if regulator is None:
                problems.add(
                    INVALID_REGULATOR_CODE, f"There is no regulator with code {code}.", child
                )
                continue
            problem = element_regulator_problem(cupa, element, regulator)
            if problem:
                problems.add(NOT_AUTHORIZED, f"{label} cannot go to {regulator}: {problem}", child)
        requirement = child.get("reportingRequirement")
        change = ElementChange(
            regulator=regulator,
            reporting_requirement=int(requirement) if requirement else None,
            next_due_date=_date(child.get("nextDueDate")) if child.get("nextDueDate") else None,
        )
        # The regulator's rule was checked above, with its own code; this adds the others.
        requirement_only = ElementChange(
            reporting_requirement=change.reporting_requirement, next_due_date=change.next_due_date
        )
        for problem in element_change_problems(cupa, element, requirement_only):
            problems.add(VALUE_OUT_OF_RANGE, problem, child)
        changes[element] = change
    return changes


def read_identifiers(root: etree._Element) -> dict:
    """``FacilityID`` and ``FacilityRegulatorKey`` as Facility fields; an empty element clears
    the value, an absent one leaves it."""
    details = {}
    for tag, field in (
        ("FacilityID", "local_facility_id"),
        ("FacilityRegulatorKey", "regulator_key"),
    ):
        value = text(root, tag, default=None)
        if value is not None:
            details[field] = value
    return details


def _rejected(error: ValidationError | PermissionDenied, code: int) -> UploadRejected:
    texts = error.messages if isinstance(error, ValidationError) else [str(error)]
    return UploadRejected([GuidanceMessage(code, GuidanceLevel.REQUIRED, t) for t in texts])


# --- RFC -------------------------------------------------------------------------------------


def potential_duplicates(site: str, street: str, city: str, zip_code: str) -> list:
    """(facility, score) for the facilities at ``street, city zip_code`` (score 100) or at
    the same ``site`` address in the same ZIP code (score 50), best first."""
    exact = address_key(street, city, zip_code)
    folded_site = address_key(site, "", "").split("|")[0]
    candidates = (
        Facility.objects.filter(zip_code__startswith=zip_code.strip()[:5])
        .filter(
            Q(address_key=exact)
            | Q(address_key__startswith=f"{folded_site}|")
            | Q(address_key__startswith=f"{folded_site} ")
        )
        .select_related("organization")
        .order_by("cers_id")[: MAX_POTENTIAL_DUPLICATES * 2]
    )
    scored = [(f, EXACT_SCORE if f.address_key == exact else SAME_SITE_SCORE) for f in candidates]
    scored.sort(key=lambda pair: (-pair[1], pair[0].cers_id))
    return scored[:MAX_POTENTIAL_DUPLICATES]


def _add(parent: etree._Element, tag: str, value="") -> etree._Element:
    """Append ``<tag>value</tag>``, written even when empty (required by the schema)."""
    element = etree.SubElement(parent, tag)
    element.text = value.isoformat() if isinstance(value, date) else str(value)
    return element


def create_result(facility: Facility, cupa: Regulator) -> etree._Element:
    """RFC's ``Result`` for a created facility."""
    organization = facility.organization
    result = etree.Element("Result")
    _add(result, "CERSID", facility.cers_id)
    _add(result, "OrganizationCode", organization.code)
    _add(result, "OrganizationName", organization.name)
    _add(result, "OrganizationHeadquarters", organization.headquarters)
    elements = etree.SubElement(result, "SubmittalElements")
    rows = {
        row.element: row
        for row in FacilityRegulator.objects.filter(facility=facility).select_related("regulator")
    }
    for element, tag in ELEMENT_TAGS.items():
        row = rows.get(element)
        # Not set: as for any new facility (CalEPA's manual, App. G): no Business Activities
        # answered yet, so the one rule says Facility Information only.
        requirement = stated_requirement(element, row, NOTHING_ANSWERED)
        item = etree.SubElement(
            elements,
            tag,
            regulatorCode=row.regulator.code if row else cupa.code,
            reportingRequirement=str(int(requirement)),
        )
        if row and row.next_due_date:
            item.set("nextDueDate", row.next_due_date.isoformat())
    geographic = geographic_information(facility)
    if geographic is not None:
        result.append(geographic)
    return result


def potential_duplicates_block(duplicates: list) -> etree._Element:
    """1/06's ``PotentialDuplicates``."""
    block = etree.Element("PotentialDuplicates")
    for facility, score in duplicates:
        item = etree.SubElement(block, "PotentialDuplicate", score=str(score))
        _add(item, "CERSID", facility.cers_id)
        _add(item, "OrganizationCode", facility.organization.code)
        _add(item, "OrganizationName", facility.organization.name)
        _add(item, "OrganizationHeadquarters", facility.organization.headquarters)
        _add(item, "SiteAddress", facility.street)
        _add(item, "City", facility.city)
        _add(item, "ZipCode", facility.zip_code)
        _add(item, "EstablishedOn", timezone.localdate(facility.created_at))
    return block


def _version_at_least(version: str, wanted: tuple[int, int]) -> bool:
    major, minor = version.split("/")
    return (int(major), int(minor)) >= wanted


@processes("RFC")
def create_facility(context: UploadContext) -> None:
    """Check an RFC document, then (Commit) create the facility; see the module docstring."""
    root, cupa = context.root, context.regulator
    commit = root.get("mode") == "Commit"
    problems = Problems()
    require_cupa(context, problems)

    organization, new_organization = None, None
    code = text(root, "OrganizationCode", default=None)
    if code is not None:
        organization = Organization.objects.filter(code=int(code)).first()
        if organization is None:
            problems.add(
                ENTITY_VALIDATION_ERROR,
                f"There is no organization with code {int(code)}.",
                root.find("OrganizationCode"),
            )

    name = text(root, "FacilityName", default=None)
    address = root.find("FacilityAddress")
    site, city = text(address, "SiteAddress", default=None), text(address, "City", default=None)
    supplemental, zip_code = (
        text(address, "SupplementalAddress"),
        text(address, "ZipCode", default=None),
    )
    for tag, value, element in (
        ("FacilityName", name, root.find("FacilityName")),
        ("SiteAddress", site, address.find("SiteAddress")),
        ("City", city, address.find("City")),
    ):
        if not value:
            problems.add(REQUIRED_FIELD_MISSING, f"{tag} is required.", element)
    if code is None:
        new_organization = (
            text(root, "OrganizationName") or name or "",
            text(root, "OrganizationHeadquarters"),
        )
    street = f"{site}, {supplemental}" if supplemental else site
    duplicates = []
    if not is_zip_code(zip_code):
        problems.add(
            DOES_NOT_MATCH_PATTERN,
            f"ZipCode is 5 digits, or ZIP+4 (95814-1234); '{zip_code}' is not.",
            address.find("ZipCode"),
        )
    else:
        problem = jurisdiction_problem(cupa, zip_code)
        if problem:
            problems.add(NOT_AUTHORIZED, problem, address.find("ZipCode"))
        if site and city:
            duplicates = potential_duplicates(site, street, city, zip_code)
    # Only facilities the agency sees are named; of others it learns only that they exist.
    duplicates, elsewhere = seen_by(cupa, duplicates)

    details = {
        **read_identifiers(root),
        **read_geographic_point(root, problems),
    }
    epa_id = text(root, "EPAID", default=None)
    if epa_id:
        details["epa_id"] = epa_id
    elements = read_element_changes(root.find("SubmittalElements"), cupa, problems)

    exact = [f for f, score in duplicates if score == EXACT_SCORE]
    exact_elsewhere = EXACT_SCORE in elsewhere
    ignore = text(root, "IgnoreExactDuplicateAddressWarning").lower() in ("true", "1")
    if (exact or exact_elsewhere) and not ignore:
        problems.add(
            ENTITY_VALIDATION_ERROR,
            f"A facility at this address is already in CERS: {_named(exact, exact_elsewhere)}. "
            "To create another one there, set IgnoreExactDuplicateAddressWarning to true and "
            "say why in Comments.",
            address,
        )
    if epa_id and len(epa_id) < 12:
        context.warn(f"EPAID '{epa_id}' is shorter than 12 characters.", code=EPAID_TOO_SHORT)

    listed = []  # 1/06 answers list the potential duplicates, whatever the outcome
    if duplicates and _version_at_least(context.version, (1, 6)):
        listed.append(potential_duplicates_block(duplicates))
    if not commit:
        for facility, score in duplicates:
            context.warn(
                f"Potential duplicate (score {score}): {_named([facility])} at {facility.address}.",
                code=ENTITY_VALIDATION_ERROR,
            )
        for score in sorted(elsewhere, reverse=True):
            context.warn(ELSEWHERE[score], code=ENTITY_VALIDATION_ERROR)
    if problems:
        raise UploadRejected(problems, result=listed)
    if not commit:
        context.result.extend(listed)
        return

    try:
        if organization is None:
            organization = add_organization(
                actor=context.actor,
                name=new_organization[0],
                headquarters=new_organization[1],
                how=CREATED_BY_EDT,
            )
        facility = add_facility(
            actor=context.actor,
            organization=organization,
            name=name,
            street=street,
            city=city,
            zip_code=zip_code,
            allow_duplicate_address=ignore,
            comments=text(root, "Comments"),
            details=details,
        )
        if elements:
            apply_facility_metadata(actor=context.actor, facility=facility, elements=elements)
    except (ValidationError, PermissionDenied) as error:
        raise _rejected(error, ENTITY_VALIDATION_ERROR) from None
    if exact or exact_elsewhere:
        context.warn(
            f"Created although {_named(exact, exact_elsewhere)} has the same address, as "
            "IgnoreExactDuplicateAddressWarning asked; the Comments were recorded.",
            code=ENTITY_VALIDATION_ERROR,
        )
    facility = Facility.objects.select_related("organization").get(pk=facility.pk)
    context.entity(ENTITY_FACILITY, facility.cers_id, facility.regulator_key)
    context.result.append(create_result(facility, cupa))
    context.result.extend(listed)


ELSEWHERE = {
    EXACT_SCORE: "A facility at this address exists in another jurisdiction.",
    SAME_SITE_SCORE: "A facility at this site address exists in another jurisdiction.",
}


def seen_by(agency: Regulator, duplicates: list) -> tuple[list, set[int]]:
    """Split potential duplicates into those in ``agency``'s jurisdiction, which the answer
    names, and the scores of the others, of which it says only that they exist."""
    if not duplicates:
        return duplicates, set()
    seen = set(
        Facility.objects.in_jurisdiction(agency)
        .filter(pk__in=[f.pk for f, _score in duplicates])
        .values_list("pk", flat=True)
    )
    return (
        [(f, score) for f, score in duplicates if f.pk in seen],
        {score for f, score in duplicates if f.pk not in seen},
    )


def _named(facilities: list[Facility], elsewhere: bool = False) -> str:
    named = [f"{f.name} (CERS ID {f.cers_id}, {f.organization.name})" for f in facilities]
    if elsewhere:
        named.append("a facility in another jurisdiction")
    return ", ".join(named)


# --- RFMS ------------------------------------------------------------------------------------


@processes("RFMS")
def change_facility_metadata(context: UploadContext) -> None:
    """Check an RFMS document, then change the facility; see the module docstring."""
    root, cupa = context.root, context.regulator
    problems = Problems()
    require_cupa(context, problems)
    cers_id = int(text(root, "CERSID", default=None))
    facility = (
        Facility.objects.filter(
            cers_id=cers_id,
            regulators__element=SubmittalElement.FACILITY_INFORMATION,
            regulators__regulator=cupa,
        )
        .select_related("organization")
        .first()
    )
    if facility is None:
        # The same answer whether the facility is another agency's or does not exist.
        problems.add(
            INVALID_CERSID, f"There is no facility with CERSID {cers_id}.", root.find("CERSID")
        )
        raise UploadRejected(problems)
    details = {**read_identifiers(root), **read_geographic_point(root, problems)}
    elements = read_element_changes(root.find("SubmittalElements"), cupa, problems)
    if problems:
        raise UploadRejected(problems)
    try:
        apply_facility_metadata(
            actor=context.actor,
            facility=facility,
            details=details,
            elements=elements,
        )
    except (ValidationError, PermissionDenied) as error:
        raise _rejected(error, NOT_AUTHORIZED) from None
    facility.refresh_from_db(fields=["regulator_key"])
    context.entity(ENTITY_FACILITY, facility.cers_id, facility.regulator_key)
