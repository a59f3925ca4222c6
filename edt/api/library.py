"""The Tier 1 library queries: the violation library (VLQ), the chemical library (CLQ) and the
data dictionary (DDQ).

The libraries are statewide reference data that belong to no agency, so there is no
jurisdiction to draw: every EDT account holding tier 1 in the environment reads all of them
(no ``regulatorCode``). The portal's ``for_user`` querysets deliberately refuse EDT service
accounts (``libraries.querysets``), so these queries start from the whole library; the tier
check in ``EndpointView`` is the permission.

Paths (the trailing segment is optional):

- ``Library/Violations[/{violationTypeNumber}]``: the number has 4 or 7 digits, anything else
  is a 400; a well-formed number the library does not hold answers an empty ``Violations``
  (as CERS answers numbers missing from its public library), not a 404.
- ``Library/Chemicals[/{identifier}]``: a CAS number (``1330-20-7``) or a CCL ID, written
  ``CCL-102843`` as CERS writes them or bare (``102843``); both name the same chemical.
  Anything else is a 400; an unknown identifier answers an empty ``Chemicals``.
- ``Library/DataDictionary/{UPDD|System|Supplemental}[/{identifier}]``: the dictionary name in
  any case; any other name (or none) is a 400 naming the three. An unknown identifier, or one
  of another dictionary, answers an empty ``DataElements``.

What the answers hold where the project's models differ from CERS's:

- VLQ ``Category`` is the type's category as the library words it; ``ProgramElement`` is
  the name of the type's program element code ("Underground Storage Tanks"). 1/06's
  ``EndDate`` is required: a type still current (no end date) is written 9999-12-31, the
  open end. ``Citations`` needs one ``Citation``: a type
  with none gets one whose parts are all empty.
- CLQ ``CCLID`` is CalEPA's CCL ID, as the facility submittal's field 250 carries it (the
  library's primary key is never shown); an entry without one (added here, or seeded before
  CalEPA's ID was known) has an empty ``CCLID`` and comes last.
  Federal hazard categories (216a-216cc) are Y when the library lists the category, N
  otherwise; 1/05 has only the first five (216a-216e). Fire code hazard classes fill
  ``FireCode1`` onwards and components ``Component1`` onwards; missing numbers are written
  ``xsi:nil``. ``Prop65Types`` holds one ``Prop65Type`` per type Proposition 65 lists the
  chemical for (Cancer, Developmental, Female, Male: ``libraries.models.Prop65Type``, in that
  order), none when it is not listed. ``USEPASRSNumber``, ``STACode`` (the state waste code),
  ``Comments`` and ``AdditionalMixtureComponent`` are the library's text; ``RadioActive`` and
  ``TradeSecret`` are Y or N, empty where the library does not say; ``Curies`` is the number,
  nil where there is none. The schema requires every one of these elements, so what the
  library does not say is written empty.
- DDQ entries come from ``libraries.dictionary`` (the submittal field registry), one per
  number. ``CERSDataRegistryID`` (a decimal) is the number itself where it is one (``205``,
  ``20.0005``); a lettered or dashed UPDD number (``216cc``, ``490-47``) gets the number it
  extends (216, 490), and ``FieldIdentifier`` keeps the exact one. ``Section`` names the
  submittal elements that use the field; ``Instructions`` lists where each use sits in the
  element's XML; ``DataLength`` is the maximum length or number of digits (a code field's
  longest code); ``CERSMinimallyRequiredField`` is the registry's required flag (required
  wherever its group is present); ``LastUpdated`` is when the registry data on this server
  last changed. The registry has no CERS Supplemental Fields yet: that dictionary is empty.

Each answer is in the version ``schemaVersion`` asks for, the newest by default. JSON answers
carry the same elements, an ``xsi:nil`` value as ""; a chemical's ``Prop65Types`` is the list
of its types ("" when it has none, as any empty element).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

from django.db.models import F
from django.http import StreamingHttpResponse
from django.utils import timezone
from lxml import etree

from core.registry import DATA_DIR
from libraries import dictionary
from libraries.models import Chemical, Prop65Type, ViolationType
from libraries.services import federal_hazard_category_fields

from .base import EdtCall, EdtError, EndpointView, check_ceiling, in_batches
from .catalogue import schema_namespace
from .output import FLUSH_BYTES, query_response, streaming_answer, text
from .registry import serves

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def put(parent: etree._Element, tag: str, content="") -> etree._Element:
    """Append ``<tag>content</tag>``, empty included: these schemas require every element
    (unlike ``output.sub``, which leaves empty ones out)."""
    element = etree.SubElement(parent, tag)
    if content is not None and content != "":
        element.text = text(content)
    return element


def nillable(parent: etree._Element, tag: str, content) -> etree._Element:
    """Append ``<tag>content</tag>``, or ``<tag xsi:nil="true"/>`` when there is no content
    (numbers, which cannot be empty)."""
    if content is None or content == "":
        return etree.SubElement(parent, tag, {XSI_NIL: "true"})
    return put(parent, tag, content)


def for_json(element: etree._Element) -> etree._Element:
    """The element without ``xsi:nil`` marks, so JSON shows a missing number as ""."""
    for item in element.iter():
        item.attrib.pop(XSI_NIL, None)
    return element


def library_response(
    call: EdtCall,
    *,
    schema: str,
    version: str,
    root: str,
    record_name: str,
    records: Iterable[etree._Element],
) -> StreamingHttpResponse:
    """A streamed library answer, stamped with the time the data set was read."""
    if call.wants_json:
        records = (for_json(record) for record in records)
    return query_response(
        call,
        schema=schema,
        version=version,
        root=root,
        attributes={"dataSetDateTime": timezone.now()},
        record_name=record_name,
        records=records,
    )


class LibraryQueryView(EndpointView):
    """A library query answered from the database: the VLQ and the CLQ differ only in what
    they select and how one record is written; the ceiling, the acceptance and the streamed
    answer are the same."""

    # Not ``schema``: that name is DRF's (the view's OpenAPI schema, drf-spectacular's).
    schema_name = ""
    root = ""
    record_name = ""
    what = ""  # the records, in the ceiling's message

    def selected(self, argument: str | None):
        """The ordered queryset the path ``argument`` (or no argument) asks for."""
        raise NotImplementedError

    def element(self, record, version: str) -> etree._Element:
        raise NotImplementedError

    def answer(self, call: EdtCall, argument: str | None = None):
        version = call.schema_version(self.schema_name)
        records = self.selected(argument)
        count = records.count()
        check_ceiling(count, self.what, self.NARROW)
        self.accepted(call, count)
        return library_response(
            call,
            schema=self.schema_name,
            version=version,
            root=self.root,
            record_name=self.record_name,
            records=(self.element(record, version) for record in in_batches(records)),
        )


# --- VLQ: the violation library ------------------------------------------------------------

VIOLATION_SCHEMA = "ViolationLibraryQuery"
TYPE_NUMBER = re.compile(r"\d{4}|\d{7}")
OPEN_END = date(9999, 12, 31)  # EndDate of a type still current (1/06 requires one)
CITATION_PARTS = (
    ("Chapter", "chapter"),
    ("Section", "section"),
    ("Name", "name"),
    ("Description", "description"),
    ("Source", "source"),
)


def violation_element(violation_type: ViolationType, version: str) -> etree._Element:
    """One ``Violation``: 1/06 added the validity window in front."""
    element = etree.Element("Violation")
    if version != "1/05":
        put(element, "BeginDate", violation_type.begin_date)
        put(element, "EndDate", violation_type.end_date or OPEN_END)
    put(element, "TypeNumber", violation_type.type_number)
    put(element, "Name", violation_type.name)
    put(element, "Description", violation_type.description)
    put(element, "Category", violation_type.category)
    put(element, "ProgramElement", violation_type.get_program_element_display())
    citations = etree.SubElement(element, "Citations")
    for citation in violation_type.citations or [{}]:  # the schema needs one Citation
        item = etree.SubElement(citations, "Citation")
        for tag, key in CITATION_PARTS:
            put(item, tag, citation.get(key, ""))
    return element


@serves("VLQ")
class ViolationLibraryQueryView(LibraryQueryView):
    """VLQ: the violation library, or the one type a 4- or 7-digit number names, by number."""

    NARROW = "one violation type number in the path (Library/Violations/{violationTypeNumber})"

    schema_name = VIOLATION_SCHEMA
    root = "Violations"
    record_name = "Violation"
    what = "violation types"

    def selected(self, argument: str | None):
        types = ViolationType.objects.order_by("type_number")
        if argument is not None:
            number = argument.strip().strip("/")
            if not TYPE_NUMBER.fullmatch(number):
                raise EdtError(
                    f"A violation type number has 4 or 7 digits (such as 2030026); "
                    f"'{number}' is not one."
                )
            types = types.filter(type_number=number)
        return types

    def element(self, record, version: str) -> etree._Element:
        return violation_element(record, version)


# --- CLQ: the chemical library -------------------------------------------------------------

CHEMICAL_SCHEMA = "ChemicalLibraryQuery"
CAS_NUMBER = re.compile(r"\d{2,7}-\d{2}-\d")
CCL_ID = re.compile(r"(?:CCL-)?(\d+)", re.IGNORECASE)
LARGEST_CCL_ID = 2_147_483_647  # the column's range: a larger number names no chemical
FIRE_CODES = 8  # FireCode1..8 (210a-210h)
COMPONENTS = 5  # Component1..5 (226-245)
FIRST_FEDERAL_CATEGORIES = ("216a", "216b", "216c", "216d", "216e")  # all 1/05 has


@cache
def hazard_category_tags() -> tuple[tuple[str, str], ...]:
    """(number, tag) of the federal hazard categories 216a-216cc, in schema order. The
    library's tags are the inventory's (FHCFire ... FHCHealthHazardNotOtherwiseClassified)."""
    return tuple((f.number, f.tag) for f in federal_hazard_category_fields())


def yes_no(flag) -> str:
    return "" if flag is None else ("Y" if flag else "N")


def plain_decimal(raw) -> str | None:
    """A stored percentage as xs:decimal text ("1e2" -> "100"); None when blank or not a
    number."""
    try:
        number = Decimal(str(raw).strip()) if str(raw or "").strip() else None
    except InvalidOperation:
        return None
    return None if number is None or not number.is_finite() else format(number, "f")


def curies_text(curies) -> str | None:
    """Stored curies as xs:float text without trailing zeros ("0.0025"), zero included;
    None when there are none."""
    if curies is None or curies == "":
        return None
    number = Decimal(str(curies)).normalize()
    return format(number, "f")


def chemical_element(chemical: Chemical, version: str) -> etree._Element:
    """One ``Chemical``, every element in schema order (the schema requires them all)."""
    element = etree.Element("Chemical")
    put(element, "CCLID", chemical.ccl_id)
    put(element, "CAS", chemical.cas_number)
    put(element, "USEPASRSNumber", chemical.usepa_srs_number)
    put(element, "ChemicalName", chemical.chemical_name)
    put(element, "CommonName", chemical.common_name)
    put(element, "PhysState", chemical.physical_state)
    put(element, "HMType", chemical.hm_type)
    put(element, "EHS", yes_no(chemical.ehs))
    classes = list(chemical.fire_code_hazard_classes or [])[:FIRE_CODES]
    for position in range(FIRE_CODES):
        fire_code = classes[position] if position < len(classes) else None
        nillable(element, f"FireCode{position + 1}", fire_code)
    listed = set(chemical.federal_hazard_categories or [])
    for number, tag in hazard_category_tags():
        if version == "1/05" and number not in FIRST_FEDERAL_CATEGORIES:
            continue
        put(element, tag, yes_no(number in listed))
    put(element, "STACode", chemical.sta_code)
    put(element, "RadioActive", yes_no(chemical.radioactive))
    nillable(element, "Curies", curies_text(chemical.curies))
    put(element, "TradeSecret", yes_no(chemical.trade_secret))
    put(element, "Comments", chemical.comments)
    components = list(chemical.components or [])[:COMPONENTS]
    for position in range(COMPONENTS):
        component = components[position] if position < len(components) else {}
        number = position + 1
        percent = component.get("percent_by_weight") or component.get("percent")
        nillable(element, f"Component{number}Percent", plain_decimal(percent))
        put(element, f"Component{number}Name", component.get("name", ""))
        put(element, f"Component{number}EHS", yes_no(component.get("ehs")) if component else "")
        put(element, f"Component{number}CAS", component.get("cas_number") or "")
    put(element, "AdditionalMixtureComponent", chemical.additional_mixture_components)
    nillable(element, "DOTHazClassID", chemical.dot_hazard_class)
    put(element, "LastUpdated", chemical.updated_at)
    kinds = etree.SubElement(element, "Prop65Types")
    listed_kinds = set(chemical.prop65_types or [])
    for kind in Prop65Type:
        if kind in listed_kinds:
            put(kinds, "Prop65Type", kind.value)
    return element


def chemicals_named(identifier: str):
    """The chemicals a path identifier names: a CAS number, or a CCL ID (``CCL-14``, ``14``)."""
    if CAS_NUMBER.fullmatch(identifier):
        return Chemical.objects.filter(cas_number=identifier)
    match = CCL_ID.fullmatch(identifier)
    if match is None:
        raise EdtError(
            f"Name a chemical by its CAS number (such as 1330-20-7) or its CCL ID (such as "
            f"CCL-102843 or 102843); '{identifier}' is neither."
        )
    ccl_id = int(match[1])
    if ccl_id > LARGEST_CCL_ID:
        return Chemical.objects.none()
    return Chemical.objects.filter(ccl_id=ccl_id)


@serves("CLQ")
class ChemicalLibraryQueryView(LibraryQueryView):
    """CLQ: the chemical library, or the chemicals a CAS number or CCL ID names, by CCL ID."""

    NARROW = "a CAS number or CCL ID in the path (Library/Chemicals/{identifier})"

    schema_name = CHEMICAL_SCHEMA
    root = "Chemicals"
    record_name = "Chemical"
    what = "chemicals"

    def selected(self, argument: str | None):
        chemicals = Chemical.objects.all()
        if argument is not None:
            chemicals = chemicals_named(argument.strip().strip("/"))
        return chemicals.order_by(F("ccl_id").asc(nulls_last=True), "pk")

    def element(self, record, version: str) -> etree._Element:
        return chemical_element(record, version)


# --- DDQ: the data dictionary --------------------------------------------------------------

DICTIONARY_SCHEMA = "DictionaryDataQuery"
DICTIONARIES = {
    "updd": dictionary.Dictionary.UPDD,
    "system": dictionary.Dictionary.SYSTEM,
    "supplemental": dictionary.Dictionary.SUPPLEMENTAL,
}
_LEADING_NUMBER = re.compile(r"\d+")
_DECIMAL_NUMBER = re.compile(r"\d+(\.\d+)?")
_FORMATS = {"date": "YYYY-MM-DD", "datetime": "YYYY-MM-DDThh:mm:ss"}


@cache
def dictionary_updated() -> datetime:
    """When the registry data the dictionary is built from last changed on this server."""
    newest = max(path.stat().st_mtime for path in DATA_DIR.glob("*.json"))
    return datetime.fromtimestamp(newest, tz=UTC)


def registry_id(number: str) -> Decimal:
    """``CERSDataRegistryID``: the number as a decimal, or the number a lettered or dashed
    UPDD number extends (216cc -> 216, 490-47 -> 490)."""
    if _DECIMAL_NUMBER.fullmatch(number):
        return Decimal(number)
    return Decimal(_LEADING_NUMBER.match(number)[0])  # not Decimal(): 464e1 is no exponent


def data_element(entry: dictionary.Entry) -> etree._Element:
    """One ``DataElement``, in schema order."""
    field = entry.field
    element = etree.Element("DataElement")
    put(element, "Name", entry.name)
    put(element, "FieldIdentifier", entry.number)
    put(element, "CERSDataRegistryID", registry_id(entry.number))
    put(element, "DataStandard", entry.dictionary.label)
    labels = entry.element_labels
    put(element, "Section", labels[:1].upper() + labels[1:])
    put(element, "Description", entry.definition)
    put(element, "XMLTag", entry.tag)
    put(
        element,
        "Instructions",
        "; ".join(f"{usage.element_label}: {usage.location}" for usage in entry.usages),
    )
    put(element, "FieldFormat", field.pattern or _FORMATS.get(field.type, ""))
    put(element, "GenericDataType", entry.type_name)
    length = field.max_length or field.total_digits
    if length is None and field.codes:
        length = max(len(code) for code, _ in field.codes)  # a code field: its longest code
    if length is not None:
        put(element, "DataLength", length)
    put(element, "CERSMinimallyRequiredField", any(u.field.required for u in entry.usages))
    put(element, "LastUpdated", dictionary_updated())
    if field.codes:
        codes = etree.SubElement(element, "Values")
        for code, label in field.codes:
            item = etree.SubElement(codes, "Value", code=code)
            item.text = label
    return element


def dictionary_entries(argument: str | None) -> list[dictionary.Entry]:
    """The entries ``{dictionary}[/{identifier}]`` names."""
    name, _, identifier = (argument or "").strip().strip("/").partition("/")
    chosen = DICTIONARIES.get(name.strip().lower())
    if chosen is None:
        named = f"'{name}' is not one" if name else "none was named"
        raise EdtError(
            "Name a data dictionary in the path: Library/DataDictionary/UPDD, "
            f"Library/DataDictionary/System or Library/DataDictionary/Supplemental; {named}."
        )
    if "/" in identifier:
        raise EdtError(
            f"Name one field after the dictionary (such as UPDD/205); '{identifier}' is not one."
        )
    if not identifier.strip():
        return [entry for entry in dictionary.entries() if entry.dictionary == chosen]
    found = dictionary.entry(identifier)
    return [found] if found is not None and found.dictionary == chosen else []


def dictionary_xml(version: str, attributes: dict, records: Iterable[etree._Element]):
    """The DDQ document in chunks. Its records sit one level deeper than ``output.stream_xml``
    writes them (``DictionaryData/DataElements/DataElement``), so the two wrappers are opened
    here; memory stays flat the same way."""
    buffer = io.BytesIO()

    def take() -> bytes:
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data

    namespace = schema_namespace(DICTIONARY_SCHEMA, version)
    root = f"{{{namespace}}}DictionaryData"
    root_attributes = {key: text(item) for key, item in attributes.items()}
    with etree.xmlfile(buffer, encoding="utf-8") as xf:
        xf.write_declaration()
        with (
            xf.element(root, root_attributes, nsmap={"cers": namespace}),
            xf.element("DataElements"),
        ):
            yield take()
            for record in records:
                xf.write(record)
                if buffer.tell() >= FLUSH_BYTES:
                    yield take()
    yield take()


@serves("DDQ")
class DataDictionaryQueryView(EndpointView):
    """DDQ: one data dictionary (UPDD, System or Supplemental), or one field of it, in
    dictionary order. Read from the registry in memory: no database query."""

    NARROW = "one field identifier after the dictionary (such as UPDD/205)"

    def answer(self, call: EdtCall, argument: str | None = None):
        version = call.schema_version(DICTIONARY_SCHEMA)
        entries = dictionary_entries(argument)
        check_ceiling(len(entries), "data dictionary fields", self.NARROW)
        self.accepted(call, len(entries))
        records: Iterator[etree._Element] = (data_element(entry) for entry in entries)
        if call.wants_json:
            return library_response(
                call,
                schema=DICTIONARY_SCHEMA,
                version=version,
                root="DictionaryData",
                record_name="DataElement",
                records=records,
            )
        attributes = {"dataSetDateTime": timezone.now()}
        return streaming_answer(
            call, dictionary_xml(version, attributes, records), "text/xml; charset=utf-8"
        )
