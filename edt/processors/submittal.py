"""RFS, the Regulator Facility Submittal Submit (tier 6): a CUPA's own reporting portal hands
CERS one facility submittal that a business submitted there (Pass-Through) or that the CUPA
submits on the business's behalf (Proxy).

The document carries one ``FacilitySubmittal`` for a facility of the calling CUPA (its Facility
Information is the CUPA's; else 1054, whoever's facility it is), with Facility Information and
any other elements. Each element is read through the field registry, the inverse of what RFSQ
writes (``edt.codecs.submittal.layout``): its forms into the element's data by field number,
the inventory's chemicals into materials (``submittals.inventory.add_materials``), its document
slots into answers and files (``submittals.documents``; a ZIP package's files by
``AttachmentFileName``), through the portal's own services with the EDT account as the actor.
The elements are then validated as the portal's submit validates them
(``submittals.validation``): one Required message rejects the whole upload, every message listed.

Neither the queries nor the memory grow with the inventory. The document is held as a tree
without the inventory's chemicals (``read_document``: each ``Chemical`` dropped as the parser
reaches its end, only their number and path remembered), one facility's elements, small
whatever the inventory's length; each node of an element's layout is read from it by a plan
made once (its child elements gone over once, not each field asked for by name). The
chemicals are read again from the document's bytes, streaming (``ChemicalRows``, as RFSAN
reads its notifications: each dropped once read), as ``add_materials`` asks for them, each
read in one pass over its children as text that ``add_materials`` checks and converts once;
it checks and stores them a thousand at a time (their rows and components through COPY on
PostgreSQL, an audit event each through ``record_events``), as the validation reads them back.
A chemical's problem names the line its element starts on (one number a chemical is kept for
that). The duplicates and the submitters are read in one query each, the elements are stored
and submitted at once, and the entity keys are reported from the stored rows' regulator keys
read through a cursor; an element's document slots are answered in one call
(``submittals.documents.set_document_answers``), its attached files one by one. So the queries
grow with the elements and the files, not with the chemicals or the slots, and the memory with
the answer alone, which lists every chemical's entity key.

The submittal and its elements are stored by ``submittals.services.store_submitted_elements``
(the account must handle the facility's Facility Information). Stored, the elements are
submitted by the portal's submit path
(``submittals.services.submit_elements``): routed to the element's regulator, with the portal's
audit events (actor: the EDT account's user) and receipt e-mail (to the header's submitter). The
header adds what the portal has no form for: the submittal type (2 Pass-Through, 3 Proxy), the
element's regulator key (data "20.0004") and next due date (data "20.0087", and the facility's
element row, through ``facilities.services.set_next_due_dates`` as RFSAN sets it), and an
optional regulator action; the elements' actions are applied together as RFSAN applies its
(``submittals.services.lock_for_review`` and ``apply_reviews``: one e-mail per address).

What RFSQ gives back is kept as sent (see the README's EDT section): each header's submitter
(names, e-mail, comments) on its element, whether or not the e-mail is a CERS account's (the
account, when it is a member's, is also the element's ``submitted_by``); the FacilityID and
FacilityRegulatorKey on the facility submittal; each file's DateAuthored and
DocumentRegulatorKey; decimals, dates and date-times in their lexical form.

Rules besides validation: the header's RegulatorCode is the regulator the element is routed to
(1049), the CUPA or one of its PAs (1053); an element with the same SubmittedOn as one already
stored for that element type and facility is a duplicate (1013); dates are not in the future
(1056) and an action is not before the submittal (1055); a next due date is not before the
submittal (1074).

Schema 1/05 has no SubmittalType (stored as Pass-Through) and nests the regulator's part of the
header in ``Regulator``, where the action's status is required (2 Submitted means no action).
"""

from __future__ import annotations

import io
import uuid
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from django.utils import timezone
from lxml import etree

from core.elements import SubmittalElement
from core.registry import schema_for, validate_value
from core.xmlsafe import PARSER_OPTIONS, GuidanceLevel
from facilities.models import Facility, FacilityRegulator
from facilities.services import set_next_due_dates
from submittals import documents
from submittals.data import to_json
from submittals.inventory import REGULATOR_KEY, add_materials, component_fields
from submittals.models import (
    DocumentSource,
    ElementStatus,
    SubmittalElementRecord,
    SubmittalType,
)
from submittals.services import (
    ReceivedElement,
    ReviewAction,
    apply_reviews,
    check_review,
    element_routes,
    lock_for_review,
    store_submitted_elements,
    submit_elements,
)
from submittals.validation import ADVISORY, REQUIRED, WARNING, validate_submittal

from ..codecs.submittal import GROUPS_NOT_IN_1_05, Leaf, Node, Slot, UniqueKey, layout
from ..uploads import UploadContext, UploadRejected, processes
from .facility import Problems, element_path, require_cupa
from .reading import day, in_the_future, moment, text

# Guidance message codes (CDR 20.0078).
REQUIRED_FIELD_MISSING = 1002
MISSING_DOCUMENT = 1003
MISSING_RESOURCE = 1004
VALUE_OUT_OF_RANGE = 1012
ENTITY_VALIDATION_ERROR = 1013
MINIMUM_COUNT = 1014
INVALID_REGULATOR_CODE = 1049
NOT_AUTHORIZED = 1053
INVALID_CERSID = 1054
DATE_BEFORE = 1055
DATE_IN_FUTURE = 1056
NEXT_DUE_BEFORE_SUBMITTED = 1074

ELEMENTS = tuple(e for e in SubmittalElement if schema_for(e).in_facility_submittal)
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
_HMI_TAG = schema_for(HMI).xml_tag
CHEMICAL_ROWS = "Chemicals/Chemical"
HEADER_KEYS = {"regulator_key": "20.0004", "next_due": "20.0087"}
SCHEMA_VERSION = "1/10"  # the registry's (and layout's) shape of the upload schema

# Entity resources (RegulatorFacilitySubmittalResponse's EntityResourceType) of the resources
# that carry a regulator key, by the resource's tag.
ENTITY_RESOURCES = {
    "BusinessActivities": "BA",
    "OwnerOperatorInformation": "BOOI",
    "Chemical": "HMI",
    "USTFacilityInformation": "USTOPF",
    "USTTank": "USTOPT",
    "MonitoringPlan": "USTMP",
    "USTCertificationOfInstallationModification": "USTCIM",
    "HWFacility": "OHWTF",
    "HWUnit": "OHWTU",
    "HWCertificationOfFinancialAssurance": "HWCFA",
    "RWConsolidationSite": "RWCSAN",
    "APSAFacilityInformation": "APSAFI",
}

LEVELS = {WARNING: GuidanceLevel.WARNING, ADVISORY: GuidanceLevel.ADVISORY}

# The portal's validation codes, as guidance codes.
VALIDATION_CODES = (
    ("-REQ", REQUIRED_FIELD_MISSING),
    ("-VAL", VALUE_OUT_OF_RANGE),
    ("-MIN", MINIMUM_COUNT),
)


@dataclass
class Header:
    """One element's ``SubmittalElementHeader``."""

    submittal_type: int
    submitted_on: datetime | None
    first_name: str
    last_name: str
    email: str
    comments: str
    regulator_code: str
    regulator_key: str
    next_due: date | None
    action: dict | None  # status, action_at, agent_name, agent_email, comments


@dataclass
class Incoming:
    """One element of the document, read: its header, data and document slots (an inventory's
    chemicals are read when stored: ``store_materials``)."""

    element: SubmittalElement
    container: etree._Element
    header: Header
    data: dict
    slots: dict[str, list[etree._Element]] = field(default_factory=dict)  # documents by slot
    route: FacilityRegulator | None = None
    inventory: Inventory | None = None  # an inventory's chemicals, left in the document


# How often a large inventory's progress is reported (chemicals read), for the transaction log.
PROGRESS_EVERY = 1000

# -- the document, less its chemicals -----------------------------------------------------------


def _is_chemical_row(chemical: etree._Element) -> bool:
    """Whether a ``Chemical`` is a row of the inventory (``FacilitySubmittal/
    HazardousMaterialsInventory/Chemicals/Chemical`` under the root), as ``CHEMICAL_ROWS``
    finds them under the element's container."""
    chemicals = chemical.getparent()
    if chemicals is None or chemicals.tag != "Chemicals":
        return False
    container = chemicals.getparent()
    if container is None or container.tag != _HMI_TAG:
        return False
    submittal = container.getparent()
    return (
        submittal is not None
        and submittal.tag == "FacilitySubmittal"
        and submittal.getparent() is not None
        and submittal.getparent().getparent() is None
    )


class ChemicalRows:
    """The inventory's chemicals (``Chemical`` elements) of a document, read streaming: each is
    handed over as the parser reaches its end and dropped when the next is (its line noted,
    its children cleared, the chemicals before it removed), so the parsed tree holds no more
    than the parser reads in one go, never the inventory. Going over them all leaves ``root``,
    the document's tree without its chemicals, and ``lines``, the line of each chemical as the
    whole tree gives it (``sourceline``, which past line 65,535 libxml2 finds in the text
    inside and after the element: both read by the time the next chemical ends)."""

    def __init__(self, data: bytes):
        self.data = data
        self.root: etree._Element | None = None
        self.lines = array("I")

    def __iter__(self) -> Iterator[etree._Element]:
        events = etree.iterparse(
            io.BytesIO(self.data), events=("end",), tag="Chemical", **PARSER_OPTIONS
        )
        previous = rows = None
        for _event, chemical in events:
            # Every row has the one ``Chemicals`` as parent: that one is checked once.
            parent = chemical.getparent()
            if parent is not rows:
                if not _is_chemical_row(chemical):
                    continue
                rows = parent
            if previous is not None:
                self._drop(previous)
            yield chemical
            previous = chemical
        if previous is not None:
            self._drop(previous)
            previous.getparent().remove(previous)
        self.root = events.root

    def _drop(self, chemical: etree._Element) -> None:
        self.lines.append(chemical.sourceline)
        chemicals = chemical.getparent()
        chemical.clear(keep_tail=True)
        while chemical.getprevious() is not None:
            del chemicals[0]


@dataclass
class Inventory:
    """What the processing remembers of the inventory's chemicals besides the document's
    bytes, which ``ChemicalRows`` reads again when they are stored: how many there are and the
    path of their elements (the locations of their messages)."""

    data: bytes
    count: int = 0
    path: str = ""

    def rows(self) -> ChemicalRows:
        return ChemicalRows(self.data)


def read_document(data: bytes) -> tuple[etree._Element, Inventory]:
    """The document's tree without the inventory's chemicals (one facility's elements, small
    whatever the inventory's length), and its ``Inventory``."""
    inventory = Inventory(data)
    rows = inventory.rows()
    for chemical in rows:
        if not inventory.count:
            inventory.path = element_path(chemical)
        inventory.count += 1
    return rows.root, inventory


def read_header(container: etree._Element, version: str) -> Header:
    header = container.find("SubmittalElementHeader")
    submitter = header.find("Submitter")
    if version == "1/05":
        regulator = header.find("Regulator")
        status = text(regulator, "SubmittalAction")
        action = None
        if status and status != str(ElementStatus.SUBMITTED):
            action = {
                "status": status,
                "action_at": text(regulator, "SubmittalActionOn"),
                "agent_name": text(regulator, "SubmittalActionAgentName"),
                "agent_email": text(regulator, "SubmittalActionAgentEmail"),
                "comments": text(regulator, "SubmittalActionComments"),
            }
        submittal_type = SubmittalType.PASS_THROUGH  # 1/05 does not say
        code = text(regulator, "RegulatorCode")
        key = text(regulator, "SubmittalElementRegulatorKey")
        next_due = text(regulator, "NextDueDate") or text(header, "NextDueDate")
    else:
        found = header.find("RegulatorSubmittalAction")
        action = None
        if found is not None:
            action = {
                "status": text(found, "Status"),
                "action_at": text(found, "OccurredOn"),
                "agent_name": text(found, "AgentName"),
                "agent_email": text(found, "AgentEmail"),
                "comments": text(found, "Comments"),
            }
        submittal_type = int(text(header, "SubmittalType"))
        code = text(header, "RegulatorCode")
        key = text(header, "SubmittalElementRegulatorKey")
        next_due = text(header, "NextDueDate")
    return Header(
        submittal_type=submittal_type,
        submitted_on=moment(text(submitter, "SubmittedOn")),
        first_name=text(submitter, "SubmitterFirstName"),
        last_name=text(submitter, "SubmitterLastName"),
        email=text(submitter, "SubmitterEmail"),
        comments=text(submitter, "SubmitterComments"),
        regulator_code=code,
        regulator_key=key,
        next_due=day(next_due),
        action=action,
    )


# -- the element's body: the inverse of RFSQ's writer -----------------------------------------


# Types the element's data keeps as text: their lexical form as sent is kept (a decimal's
# trailing zeros, a date's or date-time's zone and fraction of a second), so RFSQ gives back
# what was sent. Integers and booleans are stored as JSON numbers and booleans: their
# canonical form comes back ("007" as 7, "1" as true), the same value in the schema's type.
LEXICAL_TYPES = frozenset({"decimal", "date", "datetime"})


def _stored_value(registry_field, raw: str):
    """The value as the portal's forms store it (``registry_field``, the registry's own, not
    the version's); a value that fails its field is kept as given, so the validation below
    reports it as the portal's live validation does."""
    if registry_field.type in LEXICAL_TYPES:
        return raw
    clean, problem = validate_value(registry_field, raw)
    return raw if problem else to_json(clean)


# The alternatives of DocumentType: an element holding one of them is a document, not a wrapper.
DOCUMENT_ALTERNATIVES = frozenset(
    {
        "Exempt",
        "ProvidedToRegulator",
        "StoredAtFacility",
        "ProvidedInOtherSubmittalElement",
        "PublicInternetUri",
        "Attachments",
    }
)


def _is_document(element: etree._Element) -> bool:
    return any(child.tag in DOCUMENT_ALTERNATIVES for child in element)


def _slot_contents(parent: etree._Element, slot: Slot) -> list[etree._Element]:
    """The slot's documents (DocumentType), whether the version writes one under the slot's
    own tag (1/10) or a list of them wrapped as the query schema does (1/05's
    ``SiteMaps/SiteMap/SiteMapDocument``). A wrapper may carry the slot's own name (1/05's
    ``USTMonitoringSitePlanDocuments/USTMonitoringSitePlanDocument``): only an element holding
    one of DocumentType's alternatives is taken as the document."""
    paths = [slot.tags] if len(slot.tags) > 1 else []
    paths.append((slot.slot,))
    for path in paths:
        found = [e for e in parent.findall("/".join(path)) if _is_document(e)]
        if found:
            return found
    return []


@dataclass(frozen=True)
class _Plan:
    """How ``read_values`` reads one node of an element's layout: its children by the tag of
    the child elements they are read from (each with its place among the node's children),
    the leaves read from attributes and the document slots."""

    by_tag: dict[str, tuple[tuple[int, object, object], ...]]  # (place, child, registry field)
    others: tuple[tuple[int, object, object], ...]  # attribute leaves and slots


_PLANS: dict[int, tuple[Node, _Plan]] = {}


def _plan(element: int, node: Node) -> _Plan:
    """``node``'s plan, made once per node of the (cached) layouts."""
    known = _PLANS.get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    schema = schema_for(element)
    by_tag: dict[str, list] = {}
    others = []
    for place, child in enumerate(node.children):
        if isinstance(child, Leaf):
            step = (place, child, schema.get(child.field.key))
            if child.field.attribute:
                others.append(step)
            else:
                by_tag.setdefault(child.field.tag, []).append(step)
        elif isinstance(child, Slot):
            others.append((place, child, None))
        elif isinstance(child, Node):
            by_tag.setdefault(child.tag, []).append((place, child, None))
    plan = _Plan({tag: tuple(steps) for tag, steps in by_tag.items()}, tuple(others))
    _PLANS[id(node)] = node, plan
    return plan


def read_values(
    element: int,
    xml: etree._Element,
    node: Node,
    values: dict,
    slots: dict,
    later: str | None = None,
) -> None:
    """Read ``node``'s children from ``xml`` into ``values`` (the element's data or one row),
    document slots into ``slots``; the rows of the repeating group ``later`` (its key) are left
    for the caller to read.

    The child elements of ``xml`` are gone over once, each read as ``findtext`` / ``find`` /
    ``findall`` by tag would (the first of a tag, or every one for a repeating group), and
    what they hold is taken in the layout's order: asking each of an inventory's thousands of
    chemicals for its every field by name cost more than all the rest."""
    plan = _plan(element, node)
    every: dict[str, list[etree._Element]] = {}
    for found in xml:  # a comment's tag is a function: in no plan
        if found.tag in plan.by_tag:
            every.setdefault(found.tag, []).append(found)
    steps = [step for tag in every for step in plan.by_tag[tag]]
    steps.extend(plan.others)
    steps.sort(key=lambda step: step[0])
    for _place, child, registry_field in steps:
        if isinstance(child, Leaf):
            f = child.field
            raw = xml.get(f.tag) if f.attribute else every[f.tag][0].text
            if raw is not None and raw.strip():
                values[child.key] = _stored_value(registry_field, raw.strip())
        elif isinstance(child, Slot):
            contents = _slot_contents(xml, child)
            if contents:
                slots.setdefault(child.slot, contents)
        elif child.repeats:
            if child.key == later:
                continue
            rows = []
            for item in every[child.tag]:
                row: dict = {}
                read_values(element, item, child, row, slots)
                if row:
                    rows.append(row)
            if rows:
                values[child.key] = rows
        else:
            read_values(element, every[child.tag][0], child, values, slots, later)


def read_element(
    element: SubmittalElement, container, version: str, inventory: Inventory | None = None
) -> Incoming:
    """The element's header, data and document slots; an inventory's chemicals are left in
    the document (``inventory``) for ``store_materials``, which reads them a batch at a time."""
    data: dict = {}
    slots: dict = {}
    later = CHEMICAL_ROWS if element == HMI else None
    read_values(element, container, layout(element, SCHEMA_VERSION), data, slots, later)
    header = read_header(container, version)
    if element != HMI:
        inventory = None
    return Incoming(element, container, header, data, slots=slots, inventory=inventory)


def _chemical_node() -> Node:
    """The inventory's ``Chemicals/Chemical`` node in the layout."""
    nodes = [layout(HMI, SCHEMA_VERSION)]
    while nodes:
        node = nodes.pop()
        if node.key == CHEMICAL_ROWS:
            return node
        nodes.extend(child for child in node.children if isinstance(child, Node))
    raise LookupError(CHEMICAL_ROWS)


# -- checks ------------------------------------------------------------------------------------


def _route_problems(incoming: Incoming, cupa, problems: Problems, facility) -> None:
    header, name = incoming.header, incoming.element.label
    where = incoming.container.find("SubmittalElementHeader")
    route = incoming.route
    if route is None or (route.regulator != cupa and route.regulator.parent_id != cupa.pk):
        problems.add(
            NOT_AUTHORIZED,
            f"{name} of CERSID {facility.cers_id} is not regulated by {cupa.name} or its PAs.",
            where,
        )
    elif header.regulator_code != route.regulator.code:
        problems.add(
            INVALID_REGULATOR_CODE,
            f"{name}: RegulatorCode {header.regulator_code} is not the regulator of this "
            f"element, {route.regulator.name} ({route.regulator.code}).",
            where,
        )


def _second(moment: datetime) -> tuple[datetime, datetime]:
    start = moment.replace(microsecond=0)
    return start, start + timedelta(seconds=1)


def _already_stored(incoming: list[Incoming], facility) -> set[SubmittalElement]:
    """The elements of the document of which the facility has one submitted in the same
    second as the header's SubmittedOn: one query for them all."""
    wanted = Q()
    for item in incoming:
        if item.header.submitted_on is not None:
            start, end = _second(item.header.submitted_on)
            wanted |= Q(element=item.element, submitted_at__gte=start, submitted_at__lt=end)
    if not wanted:
        return set()
    return set(
        SubmittalElementRecord.objects.exclude(status=ElementStatus.DRAFT)
        .filter(wanted, facility=facility)
        .values_list("element", flat=True)
        .distinct()
    )


def _date_problems(incoming: Incoming, problems: Problems, facility, duplicates) -> None:
    """``duplicates``: the elements ``_already_stored`` found."""
    header, name = incoming.header, incoming.element.label
    where = incoming.container.find("SubmittalElementHeader")
    now = timezone.now()
    submitted = header.submitted_on
    if submitted is None:
        problems.add(ENTITY_VALIDATION_ERROR, f"{name}: SubmittedOn is not a date and time.", where)
        return
    if submitted > now:
        late = in_the_future("SubmittedOn", submitted, now)
        problems.add(DATE_IN_FUTURE, f"{name}: {late}", where)
    start, _end = _second(submitted)
    if incoming.element in duplicates:
        problems.add(
            ENTITY_VALIDATION_ERROR,
            f"Submittal already exists for {name} of CERSID {facility.cers_id} submitted on "
            f"{timezone.localtime(submitted):%Y-%m-%d %H:%M:%S}.",
            where,
        )
    if header.next_due is not None and header.next_due < timezone.localtime(submitted).date():
        problems.add(
            NEXT_DUE_BEFORE_SUBMITTED,
            f"{name}: NextDueDate {header.next_due} is before the submittal date.",
            where,
        )
    action = header.action
    if action is None:
        return
    if action["status"] == str(ElementStatus.DRAFT):
        problems.add(
            ENTITY_VALIDATION_ERROR,
            f"{name}: a submitted element cannot be set to Draft (status 1).",
            where,
        )
    else:
        try:
            action["status"], action["comments"] = check_review(
                action["status"], action["comments"]
            )
        except ValidationError as error:
            for message in error.messages:
                problems.add(ENTITY_VALIDATION_ERROR, f"{name}: {message}", where)
    acted = moment(action["action_at"])
    action["action_at"] = acted
    if acted is None:
        problems.add(ENTITY_VALIDATION_ERROR, f"{name}: the action date is not a date.", where)
    elif acted > now:
        late = in_the_future("The regulator's action", acted, now)
        problems.add(DATE_IN_FUTURE, f"{name}: {late}", where)
    elif acted < start:
        problems.add(DATE_BEFORE, f"{name}: the regulator's action is before the submittal.", where)


# -- storing -----------------------------------------------------------------------------------


def _submitters(headers: list[Header], organization) -> dict[str, object]:
    """The members of the facility's organization the headers' e-mails belong to, by the
    e-mail in lower case, read in one query: the portal names the submitter by the account
    that submitted."""
    emails = {header.email.lower() for header in headers if header.email}
    found: dict[str, object] = {}
    if emails:
        members = (
            get_user_model()
            .objects.annotate(address=Lower("email"))
            .filter(address__in=emails, memberships__organization=organization)
            .order_by("pk")
        )
        for user in members:
            found.setdefault(user.address, user)
    return found


def _submitter(header: Header, members: dict[str, object]):
    """The member the header's e-mail belongs to, if any (``members``: ``_submitters``)."""
    return members.get(header.email.lower()) if header.email else None


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [m for messages in error.message_dict.values() for m in messages]
    return list(error.messages)


@dataclass(frozen=True)
class _RowReading:
    """How ``_read_chemical`` reads a chemical: the field number of each child's tag (the
    layout's leaves, which are all a chemical has), and for a mixture component's field its
    position and its ``MixtureComponent`` attribute instead."""

    numbers: dict[str, str]
    components: dict[str, tuple[int, str]]


@cache
def _row_reading() -> _RowReading:
    node = _chemical_node()
    leaves = [child for child in node.children if isinstance(child, Leaf)]
    if any(leaf.field.attribute for leaf in leaves) or any(
        not isinstance(child, Leaf | UniqueKey) for child in node.children
    ):
        raise LookupError(f"{CHEMICAL_ROWS} holds more than child elements of one value each.")
    components = {
        f.number: (position, name)
        for position, by_name in component_fields().items()
        for name, f in by_name.items()
    }
    numbers, in_mixture = {}, {}
    for leaf in leaves:
        tag, number = leaf.field.tag, leaf.key
        if tag in numbers or tag in in_mixture:
            continue  # the first leaf of a tag, as ``read_values`` reads it
        if number in components:
            in_mixture[tag] = components[number]
        else:
            numbers[tag] = number
    return _RowReading(numbers, in_mixture)


def _read_chemical(chemical: etree._Element, reading: _RowReading):
    """A chemical's values by field number and its mixture components (their positions kept,
    none after the last given), each the stripped text of the first child of its tag that has
    any, as ``read_values`` reads a row: None when the chemical has no value at all.

    Read as text: ``add_materials`` checks and converts each value as the portal's forms do
    (converting it here first, as ``read_values`` does for the element's data, gave it the same
    value and message, twice the work)."""
    values: dict[str, str] = {}
    mixture: dict[int, dict[str, str]] = {}
    seen = set()
    numbers, components = reading.numbers, reading.components
    for child in chemical:
        tag = child.tag
        if tag in seen:
            continue
        seen.add(tag)
        raw = child.text
        if raw is None or not (raw := raw.strip()):
            continue
        number = numbers.get(tag)
        if number is not None:
            values[number] = raw
        elif tag in components:
            position, name = components[tag]
            mixture.setdefault(position, {})[name] = raw
    if not values and not mixture:
        return None
    key = values.pop(REGULATOR_KEY, "")
    last = max(mixture, default=0)
    return values, [mixture.get(position, {}) for position in range(1, last + 1)], key


def store_materials(context, record, incoming: Incoming, problems: Problems) -> None:
    """The inventory's chemicals, read from the document streaming as ``add_materials`` takes
    them (``ChemicalRows``) and stored by it a batch at a time, so neither their elements nor
    their values and rows are ever all held at once; each that cannot be stored is a problem
    of its own, located by the line it starts on."""
    inventory = incoming.inventory
    if inventory is None:
        return
    reading = _row_reading()
    chemicals = inventory.rows()
    sent = array("I")  # the chemical of each row, by its place among them

    def rows():
        for index, chemical in enumerate(chemicals):
            if index and index % PROGRESS_EVERY == 0:
                context.progress(index, inventory.count)  # read so far: the rest written
            row = _read_chemical(chemical, reading)
            if row is not None:
                sent.append(index)
                yield row
        context.progress(inventory.count, inventory.count)

    try:
        errors = add_materials(actor=context.actor, record=record, rows=rows())
    except ValidationError as error:  # the inventory itself refuses them: each row says so
        chemicals = inventory.rows()
        sent = array("I", range(sum(1 for _chemical in chemicals)))
        errors = dict.fromkeys(sent, error)
    for index, error in sorted(errors.items()):
        for message in _messages(error):
            problems.add(
                VALUE_OUT_OF_RANGE,
                f"Chemical {index + 1}: {message}",
                at=(chemicals.lines[sent[index]], inventory.path),
            )


def _attachment_file(context, name: str) -> bytes | None:
    wanted = name.lower()
    return next((data for key, data in context.documents.items() if key.lower() == wanted), None)


def store_documents(context, record, incoming: Incoming, problems: Problems, stored) -> None:
    """Answer the element's document slots, each as its first document says: the answers in
    words together (``set_document_answers``), the attached files one by one; the problems
    listed in the slots' order."""
    answers, attached = [], []
    for slot, contents in incoming.slots.items():
        answer = _slot_answer(slot, contents[0])
        if answer is None:
            attached.append((slot, contents))
        else:
            answers.append(answer)
    errors: dict[str, ValidationError] = {}
    if answers:
        try:
            _answered, errors = documents.set_document_answers(
                actor=context.actor, record=record, answers=answers
            )
        except ValidationError as error:  # the element itself refuses them: each slot says so
            errors = {answer.slot: error for answer in answers}
    for slot, contents in attached:
        try:
            _attach_files(context, record, slot, contents, stored)
        except ValidationError as error:
            errors[slot] = error
    for slot in incoming.slots:
        for message in _messages(errors[slot]) if slot in errors else ():
            problems.add(MISSING_DOCUMENT, f"{incoming.element.label}, {slot}: {message}")


def _slot_answer(slot: str, content: etree._Element) -> documents.DocumentAnswer | None:
    """The answer in words a slot's first document gives; None when it attaches files."""
    if (exempt := content.find("Exempt")) is not None:
        return documents.DocumentAnswer(
            slot, DocumentSource.EXEMPT, comment=text(exempt, "Comment")
        )
    if (provided := content.find("ProvidedToRegulator")) is not None:
        return documents.DocumentAnswer(
            slot,
            DocumentSource.PROVIDED_TO_REGULATOR,
            date_provided=text(provided, "DateProvided")[:10],
        )
    if content.find("StoredAtFacility") is not None:
        return documents.DocumentAnswer(slot, DocumentSource.STORED_AT_FACILITY)
    if (other := content.find("ProvidedInOtherSubmittalElement")) is not None:
        return documents.DocumentAnswer(
            slot,
            DocumentSource.PROVIDED_IN_OTHER_ELEMENT,
            comment=text(other, "Comment"),
            other_element=text(other, "SubmittalElementCode"),
        )
    if content.find("PublicInternetUri") is not None:
        return documents.DocumentAnswer(
            slot, DocumentSource.PUBLIC_URL, url=text(content, "PublicInternetUri")
        )
    return None


def _attach_files(context, record, slot: str, contents: list[etree._Element], stored) -> None:
    """The files of every document of the slot's list (1/05 lists site maps, plot plans...)
    all go to the slot."""
    for attachment in (a for c in contents for a in c.iterfind("Attachments/Attachment")):
        name = text(attachment, "AttachmentFileName")
        data = _attachment_file(context, name)
        if data is None:  # edt.zips checks references; XML alone carries no file
            raise ValidationError(f"The document {name} is not in the ZIP package.")
        authored = text(attachment, "DateAuthored")
        documents.add_document_file(
            actor=context.actor,
            record=record,
            slot=slot,
            uploaded_file=ContentFile(data, name=name),
            title=text(attachment, "DocumentTitle"),
            description=text(attachment, "DocumentDescription"),
            date_authored=authored[:10] or None,
            authored_as=authored,
            regulator_key=text(attachment, "DocumentRegulatorKey"),
            stored=stored,
        )


def _guidance_code(code: str) -> int:
    if code == "inventory_empty":
        return MISSING_RESOURCE
    if code.startswith("DOC-"):
        return MISSING_DOCUMENT
    return next(
        (number for suffix, number in VALIDATION_CODES if code.endswith(suffix)),
        ENTITY_VALIDATION_ERROR,
    )


def _not_in_version(message, version: str) -> bool:
    """A Required message about a field the document's version cannot carry (1/05 has no APSA
    facility form): listed as a warning, since no 1/05 document could satisfy it."""
    if version != "1/05" or not message.element or not message.field:
        return False
    try:
        path = schema_for(message.element).get(message.field).path
    except LookupError:
        return False
    return bool(GROUPS_NOT_IN_1_05.intersection(path))


def _entity_keys(context, record: SubmittalElementRecord, node: Node, values: dict, scope: str):
    """Report each resource with a regulator key, its CERSUniqueKey derived as RFSQ does."""
    for child in node.children:
        if not isinstance(child, Node):
            continue
        resource = ENTITY_RESOURCES.get(child.tag)
        if child.repeats:
            rows = values.get(child.key) or []
            for index, row in enumerate(rows):
                row_scope = f"{scope}/{child.tag}[{index}]"
                key_field = next((c for c in child.children if _is_key(c)), None)
                if resource and key_field is not None:
                    context.entity(
                        resource,
                        uuid.uuid5(record.key, row_scope),
                        str(row.get(key_field.key, "")),
                    )
                _entity_keys(context, record, child, row, row_scope)
        else:
            group_scope = f"{scope}/{child.tag}"
            if resource:
                key_field = next((c for c in child.children if _is_key(c)), None)
                regulator_key = values.get(key_field.key) if key_field else None
                if regulator_key:
                    context.entity(resource, uuid.uuid5(record.key, group_scope), regulator_key)
            _entity_keys(context, record, child, values, group_scope)


def _is_key(child) -> bool:
    return isinstance(child, Leaf) and child.field.xsd_type == "RegulatorEntityKeyType"


def _chemical_keys(context, record: SubmittalElementRecord) -> None:
    """Each stored chemical's entity key: its regulator key alone read from its data."""
    keys = record.materials.order_by("position").values_list(
        KT(f"data__{REGULATOR_KEY}"), flat=True
    )
    for index, key in enumerate(keys.iterator(chunk_size=2000)):
        scope = f"/Chemicals/Chemical[{index}]"
        context.entity("HMI", uuid.uuid5(record.key, scope), "" if key is None else key)


def _cleanup(stored: list[str]) -> None:
    for name in stored:
        default_storage.delete(name)


@processes("RFS")
def submit_facility_submittal(context: UploadContext) -> None:
    """Check and store one facility submittal; see the module docstring."""
    stored: list[str] = []  # files written to storage, deleted again if nothing is kept
    try:
        _submit(context, stored)
    except BaseException:
        _cleanup(stored)
        raise
    if context.environment == "testing":
        _cleanup(stored)  # the upload framework rolls the rows back


def _submit(context: UploadContext, stored: list[str]) -> None:
    cupa = context.regulator
    problems = Problems()
    require_cupa(context, problems)
    root, inventory = read_document(context.data)  # never context.root: it holds the chemicals
    submittal = root.find("FacilitySubmittal")
    cers_id = int(text(submittal, "CERSID"))
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
            INVALID_CERSID,
            f"There is no facility with CERSID {cers_id}.",
            submittal.find("CERSID"),
        )
        raise UploadRejected(problems)
    routes = element_routes(facility)
    incoming = []
    for element in ELEMENTS:
        container = submittal.find(schema_for(element).xml_tag)
        if container is None:
            continue
        item = read_element(element, container, context.version, inventory)
        item.route = routes.get(element)
        incoming.append(item)
    duplicates = _already_stored(incoming, facility)
    for item in incoming:
        _route_problems(item, cupa, problems, facility)
        _date_problems(item, problems, facility, duplicates)
    if problems:
        raise UploadRejected(problems)

    organization = facility.organization
    members = _submitters([item.header for item in incoming], organization)
    first = incoming[0].header  # Facility Information: the schema requires it
    received = []
    for item in incoming:
        header = item.header
        data = dict(item.data)
        data[HEADER_KEYS["regulator_key"]] = header.regulator_key
        if header.next_due is not None:
            data[HEADER_KEYS["next_due"]] = header.next_due.isoformat()
        received.append(
            ReceivedElement(
                element=item.element,
                data=data,
                submittal_type=header.submittal_type,
                submitted_by=_submitter(header, members),
                submitted_at=header.submitted_on,
                submitter_first_name=header.first_name,
                submitter_last_name=header.last_name,
                submitter_email=header.email,
                submitter_comments=header.comments,
            )
        )
    group, records = store_submitted_elements(
        actor=context.actor,
        facility=facility,
        elements=received,
        submitted_by=_submitter(first, members),
        submitted_at=first.submitted_on,
        certifier_name=f"{first.first_name} {first.last_name}",
        comments=first.comments,
        facility_local_id=text(submittal, "FacilityID"),
        facility_regulator_key=text(submittal, "FacilityRegulatorKey"),
    )
    for item, record in zip(incoming, records, strict=True):
        store_materials(context, record, item, problems)
        store_documents(context, record, item, problems, stored)
    for message in validate_submittal(facility, records):
        if message.level == REQUIRED and not _not_in_version(message, context.version):
            problems.add(_guidance_code(message.code), str(message))
        else:  # listed with the answer; only Required messages block, as in the portal
            level = LEVELS.get(message.level, GuidanceLevel.WARNING)
            context.warn(str(message), code=_guidance_code(message.code), level=level)
    if problems:
        raise UploadRejected(problems)

    submit_elements(
        actor=context.actor,
        facility=facility,
        group=group,
        records=records,
        receipt_to=[first.email] if first.email else [],
        submitter=group.submitted_by or group.certifier_name,
        via="EDT",
    )
    set_next_due_dates(
        actor=context.actor,
        due_dates={
            (facility.pk, item.element): item.header.next_due
            for item in incoming
            if item.header.next_due is not None
        },
    )
    acted = [
        (item.header.action, record)
        for item, record in zip(incoming, records, strict=True)
        if item.header.action is not None
    ]
    if acted:
        locked = lock_for_review(record.key for _action, record in acted)
        apply_reviews(
            actor=context.actor,
            actions=[
                ReviewAction(
                    record=locked[record.key],
                    status=action["status"],
                    comments=action["comments"],
                    action_at=action["action_at"],
                    agent_name=action["agent_name"],
                    agent_email=action["agent_email"],
                )
                for action, record in acted
            ],
        )
    _report(context, records)


def _report(context: UploadContext, records: list[SubmittalElementRecord]) -> None:
    """EntityKeys and, where the response version has them, SubmittalElementKeys."""
    for record in records:
        _entity_keys(context, record, layout(record.element, SCHEMA_VERSION), record.data, "")
        if record.element == HMI:
            _chemical_keys(context, record)
    if context.version == "1/05":
        return  # RegulatorFacilitySubmittalResponse 1/05 has no SubmittalElementKeys
    keys = etree.Element("SubmittalElementKeys")
    for record in records:
        item = etree.SubElement(keys, "SubmittalElementKey")
        etree.SubElement(item, "CERSUniqueKey").text = str(record.key)
        etree.SubElement(item, "SubmittalElementRegulatorKey").text = record.data["20.0004"]
    context.result.append(keys)
