"""Reading CalEPA's published chemical library from a file.

The file is the XML the Chemical Library Query answers with: ``ChemicalLibraryQuery`` 1/05 or
later (1/08 in the cers3 set), as CERS serves it to any regulator's EDT account and as this
project's own CLQ writes it. It is read with the EDT services' hardened parser (no DTD, no
entities, no network) and checked against the schema of its version before a single entry is
looked at.

What the file says becomes the values ``libraries.services.load_chemical_library`` takes (the
names of ``libraries.services.CHEMICAL_FIELDS``):

- ``CCLID`` is CalEPA's chemical library ID, written ``CCL-102843`` or ``102843``; it is kept
  as the number. An entry without one cannot be matched, so it is a problem.
- Codes are kept as the inventory fields code them (physical state 214 a/b/c, type 211
  a/b/c): given as the code, as its label, or as the label's first letter where that names one
  code only ("L" for Liquid).
- ``FireCode1..8`` become the fire code hazard classes, the federal hazard categories marked Y
  the category numbers (216a-216cc), and ``Component1..5`` the components (name, CAS number,
  percent by weight, EHS); a component with nothing in it is left out.
- What the library says beyond the inventory's fields is kept too: each ``Prop65Types/
  Prop65Type`` (a word such as Cancer or Developmental: ``libraries.models.Prop65Type``),
  ``USEPASRSNumber``, ``STACode`` (the state waste code), ``RadioActive`` and
  ``TradeSecret`` (Y or N; empty: not stated), ``Curies``, ``Comments`` and
  ``AdditionalMixtureComponent`` (their line breaks kept). These elements are in every version
  of the schema; a file that leaves them empty (as this project's CLQ wrote them before it
  kept them) loads with them empty.
- Nothing in the file names synonyms; the ones stored stay.

Each entry's line in the file is kept (``LibraryFile.lines``): the load's problems name it.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from core.elements import SubmittalElement
from core.registry import field as registry_field

from .library_file import LibraryFile, read_checked

SCHEMA = "ChemicalLibraryQuery"
MAX_BYTES = 100 * 1024 * 1024
CCL_ID = re.compile(r"(?:CCL-?)?(\d{1,10})", re.IGNORECASE)
LARGEST_CCL_ID = 2_147_483_647  # the column's range
FIRE_CODES = 8
COMPONENTS = 5
INVENTORY = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY


def ccl_number(text: str) -> int | None:
    """The CCL ID ``text`` names (``CCL-102843``, ``102843``), or None."""
    match = CCL_ID.fullmatch(" ".join(text.split()))
    if match is None:
        return None
    number = int(match[1])
    return number if 0 < number <= LARGEST_CCL_ID else None


def _code(number: str, text: str) -> str:
    """A code of inventory field ``number``: the text itself when it is a code or a label (the
    library's service checks it), or the one code whose label starts with the letter given."""
    if len(text) != 1:
        return text
    f = registry_field(INVENTORY, number)
    if text in f.code_values:
        return text
    starting = [code for code, label in f.codes if label[:1].casefold() == text.casefold()]
    return starting[0] if len(starting) == 1 else text


def _hazard_tags() -> list[tuple[str, str]]:
    from .services import federal_hazard_category_fields

    return [(f.number, f.tag) for f in federal_hazard_category_fields()]


def _entry(element, problems: list[str], where: str) -> dict:
    def text(tag: str) -> str:
        return " ".join((element.findtext(tag) or "").split())

    def kept(tag: str) -> str:
        """Free text with its line breaks (comments)."""
        return (element.findtext(tag) or "").strip()

    ccl_id = ccl_number(text("CCLID"))
    if ccl_id is None:
        problems.append(
            f"{where}: CCLID '{text('CCLID')}' is not a CCL ID (such as CCL-102843 or 102843)."
        )
    components = []
    for position in range(1, COMPONENTS + 1):
        component = {
            "name": text(f"Component{position}Name"),
            "cas_number": text(f"Component{position}CAS"),
            "percent_by_weight": text(f"Component{position}Percent"),
            "ehs": text(f"Component{position}EHS").upper() == "Y",
        }
        if component["name"] or component["cas_number"] or component["percent_by_weight"]:
            components.append(component)
    return {
        "ccl_id": ccl_id,
        "cas_number": text("CAS"),
        "chemical_name": text("ChemicalName"),
        "common_name": text("CommonName"),
        "ehs": text("EHS").upper() == "Y",
        "physical_state": _code("214", text("PhysState")),
        "hm_type": _code("211", text("HMType")),
        "dot_hazard_class": text("DOTHazClassID"),
        "fire_code_hazard_classes": [
            value for n in range(1, FIRE_CODES + 1) if (value := text(f"FireCode{n}"))
        ],
        "federal_hazard_categories": [
            number for number, tag in _hazard_tags() if text(tag).upper() == "Y"
        ],
        "components": components,
        "prop65_types": [
            " ".join((kind.text or "").split())
            for kind in element.iterfind("Prop65Types/Prop65Type")
            if (kind.text or "").strip()
        ],
        "usepa_srs_number": text("USEPASRSNumber"),
        "sta_code": text("STACode"),
        "radioactive": text("RadioActive"),
        "curies": text("Curies"),
        "trade_secret": text("TradeSecret"),
        "comments": kept("Comments"),
        "additional_mixture_components": kept("AdditionalMixtureComponent"),
    }


def read_chemical_library(data: bytes) -> LibraryFile:
    """The entries of a chemical library file; ``ValidationError`` listing every problem
    (unsafe or malformed XML, another schema, schema errors, entries without a CCL ID or
    listed twice)."""
    document = read_checked(data, SCHEMA, MAX_BYTES)

    library = LibraryFile(version=document.version)
    problems: list[str] = []
    seen: dict[int, int] = {}
    for position, element in enumerate(document.root.iterfind("Chemical"), start=1):
        name = " ".join((element.findtext("ChemicalName") or "").split())
        where = f"Chemical {position} ({name or 'no name'}) on line {element.sourceline}"
        entry = _entry(element, problems, where)
        ccl_id = entry["ccl_id"]
        if ccl_id is not None and ccl_id in seen:
            problems.append(
                f"{where}: CCL ID {ccl_id} is listed twice (also chemical {seen[ccl_id]})."
            )
        elif ccl_id is not None:
            seen[ccl_id] = position
        library.entries.append(entry)
        library.lines.append(element.sourceline)
    if problems:
        raise ValidationError(problems)
    return library
