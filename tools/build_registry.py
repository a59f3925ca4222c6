"""Generate the submittal field registry from CalEPA's facility submittal schema.

Run by hand, from the project root, whenever the schema the project follows changes:

    python tools/build_registry.py [XSD]

XSD defaults to ``cers3/RegulatorFacilitySubmittal.xsd`` (version 1/10) in the EDT schema
folder: ``CERS_EDT_SCHEMA_DIR`` when set, as for the service itself, else ``edt/schemas/``.
Run without an argument, it also reads the older upload schema the service accepts
(``1.05/RegulatorFacilitySubmittal.xsd``, ``--also``): a data field that schema defines and the
newer one dropped (the UST element's TotalUSTAtFacility, 404) is kept, at its place, never
required, so what a 1/05 upload carries is stored and answered rather than lost.

It rewrites ``core/registry_data/`` (one JSON file per submittal element plus
``facility_submittal.json`` for the fields around the elements). Nothing at runtime reads the
schema itself; ``core.registry`` reads only the generated files, and
``tests/core/test_registry.py`` re-runs :func:`build` to prove they are up to date.

What is taken from the schema: element tags, data-dictionary numbers (the ``xs:documentation``
of each element), types and facets (resolved through named simple types and restriction
chains), code lists, occurrence (required / repeats) and nesting. Labels are our own, derived
from the tag. Code labels come from ``core.code_lists`` (the one table of what each code
means, with its sources); a code list it lacks stops the generator. A whole-number field the
schema states as a range whose numbers are codes (the fire code hazard classes 1-39, the
counties 1-58) keeps its type and gets the labelled codes of its range.

Constructs the schema does not use (``xs:any``, ``ref=``, ``xs:group``, ``xs:union``,
``xs:list``, ``simpleContent``, restriction of complex types, patterns at two derivation steps)
stop the generator with an error instead of being silently dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
# The schema the registry follows, where the service finds it (the EDT_SCHEMA_DIR setting's
# default and environment variable, read without starting Django).
SCHEMA_DIR = Path(os.environ.get("CERS_EDT_SCHEMA_DIR") or ROOT / "edt" / "schemas")
DEFAULT_XSD = SCHEMA_DIR / "cers3" / "RegulatorFacilitySubmittal.xsd"
# The other upload schemas served, whose data fields the registry keeps too (see ``build``).
DEFAULT_ALSO = (SCHEMA_DIR / "1.05" / "RegulatorFacilitySubmittal.xsd",)
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from core.code_lists import CODE_LABELS, YES_NO  # noqa: E402
from core.elements import SubmittalElement  # noqa: E402

XS_NS = "http://www.w3.org/2001/XMLSchema"
XS = f"{{{XS_NS}}}"
OUT_DIR = ROOT / "core" / "registry_data"
FACILITY_SUBMITTAL_FILE = "facility_submittal.json"

# The complex type of each submittal element. The element's container tag is read from the
# FacilitySubmittalType sequence (the child declared with this type), not assumed.
ELEMENT_TYPES = {
    SubmittalElement.FACILITY_INFORMATION: "FacilityInformationType",
    SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY: "HazardousMaterialsInventoryType",
    SubmittalElement.EMERGENCY_RESPONSE: "EmergencyResponseTrainingPlansType",
    SubmittalElement.UST: "UndergroundStorageTanksType",
    SubmittalElement.TIERED_PERMITTING: "OnsiteHazardousWasteTreatmentNotificationType",
    SubmittalElement.RECYCLABLE_MATERIALS: "RecyclableMaterialsReportType",
    SubmittalElement.REMOTE_WASTE_CONSOLIDATION: "RemoteWasteConsolidationsAnnualNotificationType",
    SubmittalElement.HW_TANK_CLOSURE: "HWTankClosureCertificationType",
    SubmittalElement.APSA: "AbovegroundPetroleumStorageTanksType",
    # Declared as a type but (in 1/05 and 1/10) not placed in FacilitySubmittalType.
    SubmittalElement.CALARP: "CaliforniaAccidentalReleaseProgramType",
}

DOCUMENT_TYPE = "DocumentType"

# Words in tags that read better spelled out or re-cased in a label.
LABEL_WORDS = {
    "Num": "number",
    "Nbr": "number",
    "Info": "information",
    "Hr": "hour",
    "Uri": "URI",
    "USEPA": "US EPA",
    "PH": "pH",
    "Bradstreet": "Bradstreet",
}
# Prefixes that abbreviate a data-dictionary section, spelled out when a tag starts with one.
LABEL_PREFIXES = {
    "CL": "Location",  # 202, location confidential (EPCRA)
    "E": "Environmental",  # owner/operator environmental contact
    "FHC": "Hazard category:",  # 216a-216cc, federal hazard categories
    "FF": "Fourth fire",  # 210d
    "HC": "Component",  # 226-245, hazardous components 1-5 of a mixture
    "PEC": "Primary emergency contact",
    "PF": "Primary fire",  # 210a
    "SC": "Container:",  # 223a-223r, storage containers
    "SEC": "Secondary emergency contact",
    "SF": "Secondary fire",  # 210b
    "T": "Tank",  # UST tank owner
    "TF": "Tertiary fire",  # 210c
}
KEEP_CASE = {"CalARP"}
_LABEL_TOKENS = re.compile(r"CalARP|USEPA|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

_NUMBER = re.compile(r"^(?P<number>[0-9][0-9A-Za-z.\-]*)\s*(?:\((?P<note>[^()]*)\))?$")
_INTEGER_BASES = {
    "int",
    "integer",
    "long",
    "short",
    "byte",
    "positiveInteger",
    "nonNegativeInteger",
    "unsignedInt",
    "unsignedShort",
}
_STRING_BASES = {"string", "normalizedString", "token"}
_SCALAR_TYPES = {"decimal": "decimal", "date": "date", "dateTime": "datetime", "boolean": "boolean"}
_IMPLICIT_MIN = {"positiveInteger": "1", "nonNegativeInteger": "0", "unsignedInt": "0"}
_KNOWN_FACETS = {
    "enumeration",
    "length",
    "minLength",
    "maxLength",
    "pattern",
    "totalDigits",
    "fractionDigits",
    "minInclusive",
    "maxInclusive",
}


class SchemaError(Exception):
    """The schema uses a construct this generator does not understand."""


def label_from_tag(tag: str) -> str:
    """A short human label from a CamelCase XML tag: "ChemicalName" -> "Chemical name"."""
    tokens = _LABEL_TOKENS.findall(re.sub(r"pH(?=[A-Z])", "PH", tag))  # "InorganicpH..."
    words: list[str] = []
    for i, token in enumerate(tokens):
        if i == 0 and token in LABEL_PREFIXES and len(tokens) > 1:
            words.append(LABEL_PREFIXES[token])
        elif token in LABEL_WORDS:
            words.append(LABEL_WORDS[token])
        elif token.isupper() and len(token) > 2 and token.endswith("ID"):
            words.extend([token[:-2], "ID"])  # "CERSID" -> "CERS ID"
        elif (token.isupper() and len(token) > 1) or token.isdigit() or token in KEEP_CASE:
            words.append(token)  # acronyms and numbers keep their form
        else:
            words.append(token.lower())
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _occurs(el, attr: str, default: int = 1) -> int | None:
    """minOccurs/maxOccurs as an int; None means unbounded."""
    value = el.get(attr)
    if value is None:
        return default
    if value == "unbounded":
        return None
    return int(value)


def _documentation(el) -> str:
    doc = el.find(f"{XS}annotation/{XS}documentation")
    return " ".join((doc.text or "").split()) if doc is not None else ""


def _number_and_note(doc: str) -> tuple[str, str]:
    """Split "178 (Locally Collected Field)" into ("178", "Locally Collected Field")."""
    match = _NUMBER.match(doc)
    if not match:
        return "", ""
    return match["number"], (match["note"] or "")


def _locally_collected(note: str, where) -> bool:
    """The one note the schema puts after a field number marks a locally collected field."""
    if note and note.lower() != "locally collected field":
        raise SchemaError(
            f"unexpected note {note!r} after a field number (line {where.sourceline})"
        )
    return bool(note)


def _plain_name(doc: str) -> str:
    """Documentation usable as a label: a short name, not a sentence."""
    if doc and len(doc) <= 40 and not re.search(r"[.;:!?]", doc) and not _NUMBER.match(doc):
        return doc
    return ""


class Schema:
    """The parsed XSD with its named types, and the walk that turns it into registry rows."""

    def __init__(self, path: Path):
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
        )
        self.root = etree.parse(str(path), parser).getroot()
        self.target_ns = self.root.get("targetNamespace", "")
        self.complex_types = {el.get("name"): el for el in self.root.iterfind(f"{XS}complexType")}
        self.simple_types = {el.get("name"): el for el in self.root.iterfind(f"{XS}simpleType")}

    # -- names --------------------------------------------------------------------------

    def _qname(self, el, value: str) -> tuple[str, str]:
        """("xs", local) for a built-in type, ("", local) for one declared in this schema."""
        prefix, _, local = value.rpartition(":")
        namespace = el.nsmap.get(prefix or None)
        if namespace == XS_NS:
            return "xs", local
        if namespace == self.target_ns:
            return "", local
        raise SchemaError(f"type {value!r} is from an unknown namespace {namespace!r}")

    # -- simple types -------------------------------------------------------------------

    def _simple(self, simple_type) -> dict:
        """Facets of an xs:simpleType, base facets first and narrowed by each restriction."""
        for child in simple_type:
            if child.tag in (f"{XS}union", f"{XS}list"):
                raise SchemaError(f"{child.tag} is not supported (line {child.sourceline})")
        restriction = simple_type.find(f"{XS}restriction")
        if restriction is None:
            raise SchemaError(f"simpleType without restriction at line {simple_type.sourceline}")
        return self._restriction(restriction)

    def _named_simple(self, el, type_name: str) -> dict:
        kind, local = self._qname(el, type_name)
        if kind == "xs":
            facets: dict = {"base": local, "xsd_type": local}
            if local in _IMPLICIT_MIN:
                facets["min_value"] = _IMPLICIT_MIN[local]
            return facets
        if local not in self.simple_types:
            raise SchemaError(f"unknown simple type {type_name!r} (line {el.sourceline})")
        facets = self._simple(self.simple_types[local])
        facets["xsd_type"] = local
        return facets

    def _restriction(self, restriction) -> dict:
        base = restriction.get("base")
        inline = restriction.find(f"{XS}simpleType")
        if base:
            facets = dict(self._named_simple(restriction, base))
        elif inline is not None:
            facets = dict(self._simple(inline))
        else:
            raise SchemaError(f"restriction without a base at line {restriction.sourceline}")
        codes = []
        for facet in restriction:
            name = etree.QName(facet).localname
            if name in ("annotation", "simpleType"):
                continue
            if name not in _KNOWN_FACETS:
                raise SchemaError(f"facet {name} is not supported (line {facet.sourceline})")
            value = facet.get("value")
            if name == "enumeration":
                codes.append((value, _plain_name(_documentation(facet)) or value))
            elif name == "length":
                facets["min_length"] = facets["max_length"] = int(value)
            elif name in ("minLength", "maxLength", "totalDigits", "fractionDigits"):
                key = re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
                facets[key] = int(value)
            elif name == "pattern":
                if "pattern" in facets:
                    raise SchemaError(f"patterns at two derivation steps (line {facet.sourceline})")
                facets["pattern"] = value
            elif name == "minInclusive":
                facets["min_value"] = value
            elif name == "maxInclusive":
                facets["max_value"] = value
        if codes:
            facets["codes"] = codes
        return facets

    def _field_facets(self, facets: dict, where) -> dict:
        """Registry attributes (type, limits, codes) from resolved facets."""
        base = facets["base"]
        out: dict = {}
        if "codes" in facets:
            out["type"] = "code"
        elif base in _STRING_BASES:
            out["type"] = "string"
        elif base in _INTEGER_BASES:
            out["type"] = "integer"
        elif base in _SCALAR_TYPES:
            out["type"] = _SCALAR_TYPES[base]
        else:
            raise SchemaError(f"built-in type xs:{base} is not supported (line {where.sourceline})")
        out["xsd_type"] = facets["xsd_type"]
        if facets.get("max_length") is not None:
            out["max_length"] = facets["max_length"]
        if facets.get("min_length"):  # minLength 0 says nothing
            out["min_length"] = facets["min_length"]
        for key in ("pattern", "total_digits", "fraction_digits", "min_value", "max_value"):
            if facets.get(key) is not None:
                out[key] = facets[key]
        if "codes" in facets:
            out["codes"] = [list(code) for code in facets["codes"]]
        return out

    # -- complex types ------------------------------------------------------------------

    def walk(self, complex_type, path: tuple[str, ...], group: str, rows: dict) -> None:
        """Append the fields and groups under ``complex_type`` to ``rows`` in document order."""
        for child in complex_type:
            name = etree.QName(child).localname
            if name == "annotation":
                continue
            if name == "complexContent":
                self._complex_content(child, path, group, rows)
            elif name in ("sequence", "choice", "all"):
                self._particle(child, path, group, rows, optional=False, choice=False)
            elif name == "attribute":
                self._attribute(child, path, group, rows)
            else:
                raise SchemaError(
                    f"{name} in a complexType is not supported (line {child.sourceline})"
                )

    def _complex_content(self, content, path, group, rows) -> None:
        extension = content.find(f"{XS}extension")
        if extension is None:
            raise SchemaError(f"complexContent without extension at line {content.sourceline}")
        kind, local = self._qname(extension, extension.get("base"))
        if kind == "xs" or local not in self.complex_types:
            raise SchemaError(f"extension of unknown complex type at line {extension.sourceline}")
        self.walk(self.complex_types[local], path, group, rows)
        self.walk(extension, path, group, rows)

    def _particle(self, particle, path, group, rows, *, optional: bool, choice: bool) -> None:
        name = etree.QName(particle).localname
        optional = optional or _occurs(particle, "minOccurs") == 0
        repeats = _occurs(particle, "maxOccurs") != 1
        if name == "choice":
            choice = True
        if repeats and name == "choice":
            # A repeating choice lets its alternatives come in any order; each is still
            # recorded as one value (see the registry module docstring).
            rows["oddities"].append(f"repeating xs:choice at {'/'.join(path)}")
        for child in particle:
            child_name = etree.QName(child).localname
            if child_name == "annotation":
                continue
            if child_name == "element":
                self._element(child, path, group, rows, optional=optional, choice=choice)
            elif child_name in ("sequence", "choice"):
                self._particle(child, path, group, rows, optional=optional, choice=choice)
            else:
                raise SchemaError(f"{child_name} is not supported (line {child.sourceline})")

    def _element(self, el, path, group, rows, *, optional: bool, choice: bool) -> None:
        if el.get("ref"):
            raise SchemaError(f"element references are not supported (line {el.sourceline})")
        tag = el.get("name")
        if el.get("fixed") is not None or el.get("substitutionGroup"):
            raise SchemaError(f"fixed values and substitution groups are not supported ({tag})")
        doc = _documentation(el)
        number, note = _number_and_note(doc)
        max_occurs = _occurs(el, "maxOccurs")
        common = {
            "tag": tag,
            "number": number,
            "label": _plain_name(doc) or label_from_tag(tag),
            "path": [*path, tag],
            "group": group,
            "required": _occurs(el, "minOccurs") != 0 and not optional and not choice,
            "repeats": max_occurs is None or max_occurs > 1,
            "choice": choice,
        }
        common["locally_collected"] = _locally_collected(note, el)
        if el.get("nillable") == "true":
            common["nillable"] = True
        if el.get("default") is not None:
            common["default"] = el.get("default")

        type_name = el.get("type")
        inline_simple = el.find(f"{XS}simpleType")
        inline_complex = el.find(f"{XS}complexType")
        complex_type = None
        facets = None
        if type_name:
            kind, local = self._qname(el, type_name)
            if kind == "" and local in self.complex_types:
                complex_type = self.complex_types[local]
                common["xsd_type"] = local
            else:
                facets = self._named_simple(el, type_name)
        elif inline_simple is not None:
            facets = self._simple(inline_simple)
        elif inline_complex is not None:
            complex_type = inline_complex
        else:
            raise SchemaError(f"element {tag} has no type (line {el.sourceline})")

        if facets is not None:
            rows["fields"].append(_compact({**common, **self._field_facets(facets, el)}))
            return
        if inline_complex is not None:
            # Anonymous wrapper around a named base: the base type names the group's shape.
            ext = inline_complex.find(f"{XS}complexContent/{XS}extension")
            if ext is not None:
                common["xsd_type"] = self._qname(ext, ext.get("base"))[1]
        common["document"] = common.get("xsd_type") == DOCUMENT_TYPE
        group_keys = ("tag", "number", "label", "path", "group", "required", "repeats")
        group_keys += ("choice", "document", "xsd_type")
        rows["groups"].append(_compact({k: common[k] for k in group_keys if k in common}))
        self.walk(complex_type, (*path, tag), tag, rows)

    def _attribute(self, attr, path, group, rows) -> None:
        if attr.get("ref"):
            raise SchemaError(f"attribute references are not supported (line {attr.sourceline})")
        tag = attr.get("name")
        doc = _documentation(attr)
        number, note = _number_and_note(doc)
        if attr.get("type"):
            facets = self._named_simple(attr, attr.get("type"))
        elif attr.find(f"{XS}simpleType") is not None:
            facets = self._simple(attr.find(f"{XS}simpleType"))
        else:
            raise SchemaError(f"attribute {tag} has no type (line {attr.sourceline})")
        row = {
            "tag": tag,
            "number": number,
            "label": _plain_name(doc) or label_from_tag(tag),
            "path": [*path, tag],
            "group": group,
            "required": attr.get("use") == "required",
            "repeats": False,
            "attribute": True,
            "locally_collected": _locally_collected(note, attr),
            "default": attr.get("default"),
            **self._field_facets(facets, attr),
        }
        rows["fields"].append(_compact(row))

    # -- the document -------------------------------------------------------------------

    def facility_submittal(self):
        """The FacilitySubmittalType sequence: the envelope fields and the element slots."""
        if "FacilitySubmittalType" not in self.complex_types:
            raise SchemaError("FacilitySubmittalType is not declared")
        return self.complex_types["FacilitySubmittalType"]

    def is_complex(self, el, type_name: str) -> bool:
        kind, local = self._qname(el, type_name)
        return kind == "" and local in self.complex_types

    def element_slots(self) -> dict[str, str]:
        """complexType name -> container tag, for the elements FacilitySubmittalType places."""
        return {
            self._qname(el, el.get("type"))[1]: el.get("name")
            for el in self.facility_submittal().iter(f"{XS}element")
            if el.get("type") and self.is_complex(el, el.get("type"))
        }


def _compact(row: dict) -> dict:
    """Drop keys that hold their default, so the data files list only what a field has."""
    defaults = {
        "number": "",
        "locally_collected": False,
        "required": False,
        "repeats": False,
        "choice": False,
        "attribute": False,
        "nillable": False,
        "default": None,
        "document": False,
    }
    return {k: v for k, v in row.items() if k not in defaults or v != defaults[k]}


def _apply_code_labels(fields: list[dict]) -> None:
    """Give every code list its labels (``core.code_lists``); a list may name codes this
    schema version lacks. A code list without labels, or labels missing a code, is an error:
    no form shows a bare code."""
    for row in fields:
        labels = (
            CODE_LABELS.get(row.get("number", ""))
            or CODE_LABELS.get(row["tag"])
            or CODE_LABELS.get(row.get("xsd_type", ""))
        )
        if "codes" in row and {value for value, _ in row["codes"]} == set(YES_NO):
            labels = labels or YES_NO  # a Y/N list declared inline
        if "codes" not in row:
            if labels and row.get("type") == "integer":
                row["codes"] = _range_codes(row, labels)
            continue
        if not labels:
            raise SchemaError(
                f"{row['tag']} ({row.get('number') or 'no number'}) has codes "
                f"{[value for value, _ in row['codes']]} and no labels in core.code_lists"
            )
        missing = [value for value, _ in row["codes"] if value not in labels]
        if missing:
            raise SchemaError(f"core.code_lists labels for {row['tag']} lack codes {missing}")
        row["codes"] = [[value, labels[value]] for value, _ in row["codes"]]


def _range_codes(row: dict, labels: dict[str, str]) -> list[list[str]]:
    """The labelled codes of a whole-number range (minInclusive..maxInclusive), which the
    labels must cover exactly."""
    try:
        numbers = range(int(row["min_value"]), int(row["max_value"]) + 1)
    except KeyError:
        raise SchemaError(f"{row['tag']} has code labels but no range of numbers") from None
    if {str(n) for n in numbers} != set(labels):
        raise SchemaError(f"core.code_lists labels for {row['tag']} do not match its range")
    return [[str(n), labels[str(n)]] for n in numbers]


def _dump(document: dict) -> str:
    """JSON with one field or group per line: readable, and diffs show which field changed."""
    lines = ["{"]
    items = list(document.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"  {json.dumps(key)}: [")
            for j, row in enumerate(value):
                row_comma = "," if j < len(value) - 1 else ""
                lines.append(f"    {json.dumps(row, ensure_ascii=False)}{row_comma}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def element_file_name(element: SubmittalElement) -> str:
    return f"{element.value:02d}_{element.name.lower()}.json"


HEADER_TAG = "SubmittalElementHeader"


def _merge_fields(rows: dict, extra: list[dict]) -> None:
    """Add the numbered data fields of another version's element (``extra``) that ``rows``
    lacks, each after the field that precedes it there. Only plain data fields: the header
    and document slots are shaped per version by the EDT codecs. A field whose group this
    version does not have stops the generator rather than being dropped."""
    fields = rows["fields"]
    numbers = {row.get("number") for row in fields if row.get("number")}
    groups = {tuple(g["path"]) for g in rows["groups"]}
    slots = [tuple(g["path"]) for g in rows["groups"] if g.get("document")]
    previous = None
    for row in extra:
        number = row.get("number")
        path = tuple(row["path"])
        in_slot = any(path[: len(s)] == s for s in slots)
        if not number or number in numbers or path[0] == HEADER_TAG or in_slot:
            if number in numbers:
                previous = number
            continue
        if len(path) > 1 and path[:-1] not in groups:
            raise SchemaError(f"field {number} ({'/'.join(path)}) is in a group not declared here")
        added = {**row, "required": False}
        added = _compact(added)
        at = next(
            (i + 1 for i, f in enumerate(fields) if previous and f.get("number") == previous), 0
        )
        fields.insert(at, added)
        numbers.add(number)
        previous = number


def build(xsd_path: Path | str, also: tuple[Path | str, ...] = ()) -> dict[str, str]:
    """File name -> file text for every registry data file generated from ``xsd_path``, with
    the data fields only the schemas ``also`` define (see the module docstring)."""
    schema = Schema(Path(xsd_path))
    others = [Schema(Path(path)) for path in also]
    source = {"schema": Path(xsd_path).name, "namespace": schema.target_ns}
    slots = schema.element_slots()
    files: dict[str, str] = {}

    unmapped = set(slots) - set(ELEMENT_TYPES.values())
    if unmapped:
        raise SchemaError(f"FacilitySubmittalType has elements not in ELEMENT_TYPES: {unmapped}")

    for element, type_name in ELEMENT_TYPES.items():
        if type_name not in schema.complex_types:
            continue  # an element this version of the schema does not define
        xml_tag = slots.get(type_name, "")
        rows: dict = {"fields": [], "groups": [], "oddities": []}
        schema.walk(schema.complex_types[type_name], (), xml_tag, rows)
        for other in others:
            if type_name in other.complex_types:
                extra: dict = {"fields": [], "groups": [], "oddities": []}
                other.walk(other.complex_types[type_name], (), xml_tag, extra)
                _merge_fields(rows, extra["fields"])
        _apply_code_labels(rows["fields"])
        document = {
            **source,
            "element": element.value,
            "xml_tag": xml_tag,
            "xsd_type": type_name,
            "in_facility_submittal": bool(xml_tag),
            "notes": sorted(set(rows["oddities"])),
            "groups": rows["groups"],
            "fields": rows["fields"],
        }
        files[element_file_name(element)] = _dump(document)

    # The fields of the facility submittal itself (CERS ID and the facility's keys).
    rows = {"fields": [], "groups": [], "oddities": []}
    for el in schema.facility_submittal().iterfind(f"{XS}sequence/{XS}element"):
        if el.get("type") and schema.is_complex(el, el.get("type")):
            continue  # an element slot, described in its own file
        schema._element(el, (), "FacilitySubmittal", rows, optional=False, choice=False)
    document = {**source, "xml_tag": "FacilitySubmittal", "fields": rows["fields"]}
    files[FACILITY_SUBMITTAL_FILE] = _dump(document)
    return files


def write(files: dict[str, str], out_dir: Path = OUT_DIR) -> None:
    """Write the generated files and remove data files the schema no longer produces."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "xsd",
        type=Path,
        nargs="?",
        default=DEFAULT_XSD,
        help=f"path to RegulatorFacilitySubmittal.xsd (default: {DEFAULT_XSD})",
    )
    parser.add_argument(
        "--also",
        type=Path,
        action="append",
        help="another version's schema whose extra data fields are kept (default: "
        f"{', '.join(map(str, DEFAULT_ALSO))} when XSD is not given)",
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    args = parser.parse_args(argv)
    also = args.also if args.also is not None else (DEFAULT_ALSO if args.xsd == DEFAULT_XSD else ())
    try:
        files = build(args.xsd, tuple(also))
    except SchemaError as exc:
        print(f"build_registry: {exc}", file=sys.stderr)
        return 1
    write(files, args.out)
    for name, text in sorted(files.items()):
        data = json.loads(text)
        print(f"{name}: {len(data['fields'])} fields, {len(data.get('groups', []))} groups")
    return 0


if __name__ == "__main__":
    sys.exit(main())
