"""RFSQ and RFSDQ: submitted facility submittals, and their documents, for a regulator's system.

RFSQ answers the submitted elements routed to the calling agency (``SubmittalElementRecord.
objects.in_jurisdiction``, the
rule the regulator portal's review queue uses: a CUPA its own elements, a PA the elements it
regulates), narrowed by the catalogue's filters and grouped per facility submittal, in
RegulatorFacilitySubmittalQuery 1/05 or 1/10. RFSDQ hands over the bytes of one uploaded
document, named by the CERS unique key RFSQ gives each attachment.

The output is written from the field registry (``core.registry``) in the shape of the query
schema that ``edt.codecs.submittal.layout`` gives each element and version; that module lists
how the query schema differs from the upload schema. A value a version cannot carry (outside
its facets) is left out of that version.
CalARP (element 10) is in neither version and is never answered. What an upload (RFS) sent
beyond the element's data comes back as sent: the header's submitter, the facility's
FacilityID and FacilityRegulatorKey, each file's DateAuthored and DocumentRegulatorKey; the
facility's GeographicInformation, which uploads do not carry, is written as RFQ writes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse
from django.utils import timezone
from lxml import etree

from core.elements import SubmittalElement
from core.registry import HEADER_TAG, ElementSchema, Field, schema_for, validate_value
from submittals.inventory import component_fields
from submittals.models import (
    DocumentFile,
    DocumentSource,
    ElementDocument,
    ElementStatus,
    FacilitySubmittal,
    HazardousMaterial,
    MixtureComponent,
    SubmittalElementRecord,
)

from ..codecs.submittal import (
    ALWAYS_WRITTEN,
    EMPTY_WHEN_BLANK,
    HEADER_FROM_DATA,
    REQUIRED_TO_WRITE_GROUP,
    Leaf,
    Node,
    Slot,
    UniqueKey,
    layout,
    version_field,
)
from .base import EdtCall, EdtError, EndpointView, check_ceiling, in_batches
from .output import query_response, text
from .queries import geographic_information
from .registry import serves

SCHEMA = "RegulatorFacilitySubmittalQuery"

# Element statuses a client may ask for. 8 (Certified) is listed by CalEPA's page; this CERS
# never records it, so asking for it matches nothing.
QUERYABLE_STATUSES = frozenset({2, 3, 4, 5, 6, 8})
NOT_IN_QUERY_SCHEMA = SubmittalElement.CALARP

NARROW_WITH = (
    "status, submittalElement, CERSID, submittedOnStart/submittedOnEnd or "
    "submittalActionOnStart/submittalActionOnEnd"
)


# -- writing one facility submittal -----------------------------------------------------------


def _raw_text(raw) -> str:
    return text(raw) if isinstance(raw, bool) else str(raw).strip()


def fitting(f: Field, raw) -> str | None:
    """``raw`` as the text to write, or None when it is blank or outside the field's facets."""
    if raw is None or isinstance(raw, dict | list):
        return None
    _clean, problem = validate_value(f, raw)
    if problem or _raw_text(raw) == "":
        return None
    return _raw_text(raw)


def _add(parent: etree._Element, tag: str, value: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if value is not None:
        element.text = value
    return element


class ElementWriter:
    """Writes one submitted element in one version of the query schema, from a record
    prefetched as ``facility_submittals`` does."""

    def __init__(self, record: SubmittalElementRecord, facility, version: str):
        self.record = record
        self.facility = facility
        self.version = version
        self.schema: ElementSchema = schema_for(record.element)
        self.documents = {document.slot: document for document in record.answers}

    def write(self) -> etree._Element:
        root = layout(self.record.element, self.version)
        element = etree.Element(root.tag)
        self.header(element)
        self.children(element, root, self.record.data or {}, "")
        return element

    # The header: the record's own columns, not its data.
    def header(self, parent: etree._Element) -> None:
        record = self.record
        header = _add(parent, HEADER_TAG)
        _add(header, "SubmittedOn", text(record.submitted_at))
        for tag, value, longest in zip(
            ("SubmittedByFirstName", "SubmittedByLastName", "SubmittedByEmail"),
            self.submitter(),
            (80, 80, 254),
            strict=True,
        ):
            if value and len(value) <= longest:
                _add(header, tag, value)
        comments = record.submitter_comments or record.facility_submittal.submitter_comments
        if comments:
            _add(header, "SubmittedByComments", comments)
        _add(header, "RegulatorCode", record.regulator.code)
        _add(header, "SubmittalStatus", str(record.status))
        if record.action_at is not None:
            action = _add(header, "SubmittalActionDetails")
            _add(action, "SubmittalActionOn", text(record.action_at))
            for tag, value in (
                ("SubmittalActionAgentName", record.action_agent_name),
                ("SubmittalActionAgentEmail", record.action_agent_email),
                ("SubmittalActionComments", record.action_comments),
            ):
                if value:
                    _add(action, tag, value)
        data = record.data or {}
        for number, tag in HEADER_FROM_DATA:
            value = fitting(version_field(self.schema.get(number), self.version), data.get(number))
            if value is not None:
                _add(header, tag, value)
        _add(header, "CERSUniqueKey", str(record.key))

    def submitter(self) -> tuple[str, str, str]:
        """First name, last name and e-mail: as an EDT upload's header sent them, else the
        account that submitted in the portal."""
        record = self.record
        sent = (record.submitter_first_name, record.submitter_last_name, record.submitter_email)
        if any(sent) or record.submitted_by is None:
            return sent
        user = record.submitted_by
        return user.first_name, user.last_name, user.email

    # The element's data, following the layout.
    def children(self, element: etree._Element, node: Node, values: dict, scope: str) -> bool:
        """Write ``node``'s children into ``element`` from ``values`` (the element's data or
        one row of it). True when a value was written; False also when the group cannot be
        written (a value it needs is missing), which the caller then leaves out."""
        wrote = chosen = False
        for child in node.children:
            alternative = child.choice
            if alternative and node.one_choice and chosen:
                continue  # one alternative of an xs:choice is written, the first with data
            written = self.child(element, child, values, scope)
            if written is None:
                return False
            chosen = chosen or (written and alternative)
            wrote = wrote or written
        return wrote

    def child(self, element, child, values: dict, scope: str) -> bool | None:
        if isinstance(child, Leaf):
            return self.leaf(element, child, values)
        if isinstance(child, UniqueKey):
            _add(element, "CERSUniqueKey", str(uuid.uuid5(self.record.key, scope)))
            return False
        if isinstance(child, Slot):
            return self.slot(element, child)
        if child.repeats:
            return self.rows(element, child, values, scope)
        group = etree.Element(child.tag)
        wrote = self.children(group, child, values, f"{scope}/{child.tag}")
        if wrote or child.tag in ALWAYS_WRITTEN:
            element.append(group)
        return wrote

    def leaf(self, element, leaf: Leaf, values: dict) -> bool | None:
        value = fitting(leaf.field, values.get(leaf.key))
        if value is None:
            if leaf.field.number in REQUIRED_TO_WRITE_GROUP:
                return None
            if leaf.field.number in EMPTY_WHEN_BLANK:
                _add(element, leaf.tag)
            return False
        if leaf.field.attribute:
            element.set(leaf.tag, value)
        else:
            _add(element, leaf.tag, value)
        return True

    def rows(self, element, node: Node, values: dict, scope: str) -> bool:
        rows = self.row_values(node, values)
        if not rows and any(isinstance(c, Slot) for c in node.children):
            rows = [{}]  # a row that only holds a document slot (HWTankClosure/Document)
        wrote = False
        for index, row in enumerate(rows):
            item = etree.Element(node.tag)
            if self.children(item, node, row, f"{scope}/{node.tag}[{index}]"):
                element.append(item)
                wrote = True
        return wrote

    def row_values(self, node: Node, values: dict) -> list[dict]:
        if self.record.element == SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY and (
            node.key == "Chemicals/Chemical"
        ):
            return [material_values(m) for m in self.record.inventory]
        rows = values.get(node.key)
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    # Document slots (DocumentType).
    def slot(self, element, slot: Slot) -> bool:
        answer = self.documents.get(slot.slot)
        content = self.document(slot.slot, answer) if answer is not None else None
        if content is None:
            return False
        outer = inner = etree.Element(slot.tags[0])
        for tag in slot.tags[1:]:
            inner = _add(inner, tag)
        inner.append(content)
        element.append(outer)
        return True

    def _slot_field(self, slot: str, *tail: str) -> Field:
        path = next(g.path for g in self.schema.document_slots if g.tag == slot)
        return version_field(self.schema.get("/".join((*path, *tail))), self.version)

    def document(self, slot: str, answer: ElementDocument) -> etree._Element | None:
        """The DocumentType alternative for how the slot is answered; None when the answer
        cannot be written in this version (a value outside its facets)."""
        choice = None
        if answer.source == DocumentSource.EXEMPT:
            comment = fitting(self._slot_field(slot, "Exempt", "Comment"), answer.comment)
            if comment is not None:
                choice = etree.Element("Exempt")
                _add(choice, "Comment", comment)
        elif answer.source == DocumentSource.PROVIDED_TO_REGULATOR:
            field = self._slot_field(slot, "ProvidedToRegulator", "DateProvided")
            provided = fitting(field, answer.date_provided)
            if provided is not None:
                choice = etree.Element("ProvidedToRegulator")
                _add(choice, "DateProvided", provided)
        elif answer.source == DocumentSource.STORED_AT_FACILITY:
            choice = etree.Element("StoredAtFacility")
            _add(choice, "CERSID", str(self.facility.cers_id))
        elif answer.source == DocumentSource.PROVIDED_IN_OTHER_ELEMENT:
            if answer.other_element:
                choice = etree.Element("ProvidedInOtherSubmittalElement")
                if answer.comment:
                    _add(choice, "Comment", answer.comment[:500])
                _add(choice, "SubmittalElementCode", str(answer.other_element))
        elif answer.source == DocumentSource.PUBLIC_URL:
            if answer.url:
                choice = etree.Element("PublicInternetUri")
                choice.text = answer.url
        elif answer.source == DocumentSource.UPLOAD:
            choice = self.attachments(slot, answer)
        return choice

    def attachments(self, slot: str, answer: ElementDocument) -> etree._Element | None:
        authored_field = self._slot_field(slot, "Attachments", "Attachment", "DateAuthored")
        attachments = etree.Element("Attachments")
        for upload in answer.uploads:
            # DateAuthored is required: as an EDT upload sent it, else the date the portal
            # asked for, else the upload's date.
            if upload.authored_as:
                authored = upload.authored_as
            elif upload.date_authored is not None:
                authored = f"{upload.date_authored.isoformat()}T00:00:00"
            else:
                authored = text(upload.uploaded_at)
            if fitting(authored_field, authored) is None or len(upload.file_name) < 5:
                continue  # outside what the version carries (the name's minimum is 5)
            attachment = _add(attachments, "Attachment")
            _add(attachment, "AttachmentFileName", upload.file_name[:254])
            _add(attachment, "DocumentTitle", upload.title[:300])
            _add(attachment, "DocumentDescription", upload.description[:500])
            _add(attachment, "DateAuthored", authored)
            _add(attachment, "DocumentRegulatorKey", upload.regulator_key or None)  # required
            _add(attachment, "CERSUniqueKey", str(upload.key))
        return attachments if len(attachments) else None


def material_values(material: HazardousMaterial) -> dict:
    """One inventory row's values by field number: the material's data and its mixture
    components (HC1-HC5, prefetched as ``mixture``)."""
    values = dict(material.data or {})
    for component in material.mixture:
        for attribute, f in component_fields().get(component.position, {}).items():
            value = getattr(component, attribute)
            if value is not None and value != "":
                values[f.number] = _percent(value, f) if attribute == "percent_by_weight" else value
    return values


def _percent(value: Decimal, f: Field) -> str:
    """A component's percent by weight, kept as a number with four places: written with the
    schema type's places (12.5000 as 12.50), or fewer trailing zeros if it needs more."""
    if f.fraction_digits is not None:
        places = value.quantize(Decimal(1).scaleb(-f.fraction_digits))
        if places == value:
            return format(places, "f")
    return format(value.normalize(), "f")


def facility_submittal_element(group: FacilitySubmittal, version: str) -> etree._Element:
    """One ``FacilitySubmittal`` with the matching elements prefetched as ``matching``."""
    facility = group.facility
    organization = facility.organization
    root = etree.Element("FacilitySubmittal")
    _add(root, "CERSID", str(facility.cers_id))
    cers_organization = _add(root, "CERSOrganization")
    _add(cers_organization, "OrganizationCode", str(organization.code))
    _add(cers_organization, "OrganizationName", organization.name[:100])
    # As the submittal's upload sent them, else the facility's own (as RFQ gives them).
    local_id = group.facility_local_id or facility.local_facility_id
    regulator_key = group.facility_regulator_key or facility.regulator_key
    if local_id:
        _add(root, "FacilityID", local_id)
    if regulator_key:
        _add(root, "FacilityRegulatorKey", regulator_key)
    for record in group.matching:
        element = ElementWriter(record, facility, version).write()
        if record.element == SubmittalElement.FACILITY_INFORMATION:
            _place_geographic_information(element, facility)
        root.append(element)
    return root


def _place_geographic_information(element: etree._Element, facility) -> None:
    """The facility's location, where the query schema has it in Facility Information (after
    the owner/operator form, before the document slots); the upload schema has no place for
    it, so it comes from the facility (set by RFC and RFMS), as RFQ gives it."""
    info = geographic_information(facility)
    if info is None:
        return
    before = ("BusinessActivities", "OwnerOperatorInformation", HEADER_TAG)
    previous = [child for child in element if child.tag in before]
    previous[-1].addnext(info)


# -- the query ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    statuses: list[int] | None
    element: int | None
    cers_id: int | None
    submitted: tuple[datetime | None, datetime | None]
    acted: tuple[datetime | None, datetime | None]


def _date(call: EdtCall, name: str, old_name: str | None = None, *, end: bool = False):
    """A date parameter, or the older name it replaces (RFSQ's ``start`` and ``end``)."""
    value = call.date(name, end=end)
    old = call.date(old_name, end=end) if old_name else None
    if value is not None and old is not None:
        raise EdtError(f"Give {name} or its older name {old_name}, not both.")
    return value if value is not None else old


def _range(call: EdtCall, start: str, end: str, old_names=(None, None)) -> tuple:
    low = _date(call, start, old_names[0])
    high = _date(call, end, old_names[1], end=True)
    if low is not None and high is not None and low > high:
        raise EdtError(f"{start} is after {end}: nothing can match.")
    return low, high


def read_filters(call: EdtCall) -> Filters:
    statuses = call.integers("status") or None
    if statuses:
        if ElementStatus.DRAFT in statuses:
            raise EdtError(
                "Draft (status 1) elements are never exported: a draft is the business's "
                "until it is submitted. Ask for 2, 3, 4, 5, 6 or 8."
            )
        unknown = sorted(set(statuses) - QUERYABLE_STATUSES)
        if unknown:
            raise EdtError(
                f"status {', '.join(map(str, unknown))} is not an element status to query; "
                "use 2 Submitted, 3 Under Review, 4 Accepted, 5 Not Accepted, "
                "6 Not Applicable or 8 Certified."
            )
    element = call.integer("submittalElement", low=1, high=10)
    if element == NOT_IN_QUERY_SCHEMA:
        raise EdtError(
            "CalARP (submittalElement=10) is not part of RegulatorFacilitySubmittalQuery "
            "1/05 or 1/10, so it cannot be queried here."
        )
    return Filters(
        statuses=statuses,
        element=element,
        cers_id=call.integer("CERSID"),
        submitted=_range(call, "submittedOnStart", "submittedOnEnd", ("start", "end")),
        acted=_range(call, "submittalActionOnStart", "submittalActionOnEnd"),
    )


def matching_elements(regulator, filters: Filters):
    """The submitted elements routed to ``regulator`` that the filters keep."""
    elements = SubmittalElementRecord.objects.in_jurisdiction(regulator).exclude(
        element=NOT_IN_QUERY_SCHEMA
    )
    conditions = Q()
    if filters.statuses:
        conditions &= Q(status__in=filters.statuses)
    if filters.element is not None:
        conditions &= Q(element=filters.element)
    if filters.cers_id is not None:
        conditions &= Q(facility__cers_id=filters.cers_id)
    for column, (start, end) in (("submitted_at", filters.submitted), ("action_at", filters.acted)):
        if start is not None:
            conditions &= Q(**{f"{column}__gte": start})
        if end is not None:
            conditions &= Q(**{f"{column}__lte": end})
    return elements.filter(conditions)


def facility_submittals(elements):
    """The facility submittals holding ``elements``, oldest first, each with its matching
    elements (``matching``) and their inventory rows (``inventory``, each with its ``mixture``
    components), document answers (``answers``) and files (``uploads``) prefetched per batch,
    into lists: a queryset per row and relation would be built and dropped for nothing."""
    element_rows = (
        elements.select_related("regulator", "submitted_by")
        .prefetch_related(
            Prefetch(
                "materials",
                queryset=HazardousMaterial.objects.order_by("position").prefetch_related(
                    Prefetch(
                        "components",
                        queryset=MixtureComponent.objects.order_by("position"),
                        to_attr="mixture",
                    )
                ),
                to_attr="inventory",
            ),
            Prefetch(
                "documents",
                queryset=ElementDocument.objects.prefetch_related(
                    Prefetch(
                        "files",
                        queryset=DocumentFile.objects.order_by("uploaded_at", "pk"),
                        to_attr="uploads",
                    )
                ),
                to_attr="answers",
            ),
        )
        .order_by("element")
    )
    return (
        FacilitySubmittal.objects.filter(Exists(elements.filter(facility_submittal=OuterRef("pk"))))
        .select_related("facility__organization")
        .prefetch_related(Prefetch("elements", queryset=element_rows, to_attr="matching"))
        .order_by("submitted_at", "pk")
    )


@serves("RFSQ")
class FacilitySubmittalQueryView(EndpointView):
    """RFSQ: the agency's submitted elements, grouped per facility submittal."""

    def answer(self, call: EdtCall):
        version = call.schema_version(SCHEMA)
        filters = read_filters(call)
        elements = matching_elements(call.regulator, filters)
        totals = elements.aggregate(
            elements=Count("pk"), submittals=Count("facility_submittal", distinct=True)
        )
        check_ceiling(totals["elements"], "submittal elements", NARROW_WITH)
        self.accepted(call, totals["submittals"])

        def records() -> Iterator[etree._Element]:
            for group in in_batches(facility_submittals(elements)):
                yield facility_submittal_element(group, version)

        status = {
            "DataSetDateTime": timezone.now(),
            "TransactionKey": call.transaction.key,
            "TransactionStatus": "Accepted",
        }
        if call.wants_json:
            attributes, items = status, records
        else:  # the schema has these as the root's first children, not attributes
            attributes, items = {}, lambda: _leading(status, records())
        return query_response(
            call,
            schema=SCHEMA,
            version=version,
            root="RegulatorFacilitySubmittals",
            attributes=attributes,
            record_name="FacilitySubmittal",
            records=items,
        )


def _leading(values: dict, records: Iterator[etree._Element]) -> Iterator[etree._Element]:
    for tag, value in values.items():
        element = etree.Element(tag)
        element.text = text(value)
        yield element
    yield from records


# -- RFSDQ --------------------------------------------------------------------------------------

NOT_AUTHORIZED = "Account is not authorized to download this document."


@serves("RFSDQ")
class DocumentQueryView(EndpointView):
    """RFSDQ: the bytes of one uploaded document, for the agency its element was routed to."""

    def answer(self, call: EdtCall, argument: str | None = None):
        if not argument or not argument.strip("/ "):
            raise EdtError(
                "Name the document: Regulator/FacilitySubmittal/Query/Document/{CERSUniqueKey}, "
                "the key RFSQ gives each attachment."
            )
        try:
            key = uuid.UUID(argument.strip("/ "))
        except ValueError:
            raise EdtError(
                f"'{argument}' is not a CERSUniqueKey: give the GUID RFSQ lists for the "
                "attachment, such as 0f8fad5b-d9cb-469f-a165-70867728950e."
            ) from None
        upload = DocumentFile.objects.select_related("document").filter(key=key).first()
        if upload is None:
            raise EdtError(f"No document has the CERSUniqueKey {key}.", status=404)
        in_scope = SubmittalElementRecord.objects.filter(
            pk=upload.document.record_id
        ).in_jurisdiction(call.regulator)
        if not in_scope.exists():
            raise EdtError(NOT_AUTHORIZED, status=401)
        try:
            handle = upload.file.storage.open(upload.file.name, "rb")
        except OSError:
            raise EdtError(
                f"The document {key} is recorded but its file is missing from storage.",
                status=404,
            ) from None
        self.accepted(call, 1)
        response = FileResponse(
            handle,
            content_type="application/octet-stream",
            as_attachment=True,
            filename=upload.file_name,
        )
        response["X-CERS-Transaction-Key"] = str(call.transaction.key)
        return response
