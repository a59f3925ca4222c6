"""Reading the published Unified Program Violation Library from a file.

The file is the XML the Violation Library Query answers with: ``ViolationLibraryQuery`` 1/05
or 1/06, as CERS serves it to any regulator's EDT account and as this project's own VLQ
writes it. It is read with the EDT services' hardened parser (no DTD, no entities, no
network) and checked against the schema of its version before a single entry is looked at.

What the file says becomes the values ``libraries.services.load_violation_library`` takes:

- ``Category`` is kept as text; ``ProgramElement`` is matched to the library's program element
  list by its code, its label here, or the program's name as the published library words it
  ("Business Plan Program", "Underground Storage Tank Program", ...).
- A type listed several times, for successive validity windows, becomes one entry (a type
  number is one entry here) valid from the earliest begin date to the latest end date, with
  the name, description, category and citations of its latest window; each join is reported.
- An end date of 9999-12-31 (what this project's VLQ writes for a type still current) means
  no end date. Version 1/05 carries no dates: its entries keep the dates already stored, and
  new ones are valid from ``EARLIEST_BEGIN``.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError

from .library_file import LibraryFile, read_checked
from .models import ViolationType

SCHEMA = "ViolationLibraryQuery"
MAX_BYTES = 20 * 1024 * 1024
OPEN_END = datetime.date(9999, 12, 31)
EARLIEST_BEGIN = datetime.date(1980, 10, 1)  # the earliest date CME data may carry
CITATION_TAGS = {
    "chapter": "Chapter",
    "section": "Section",
    "name": "Name",
    "description": "Description",
    "source": "Source",
}

PE = ViolationType.ProgramElement
# Words of a program's name, most specific first: "RCRA Large Quantity Generator" must not
# be read as the hazardous waste generator program.
PROGRAM_WORDS: tuple[tuple[str, PE], ...] = (
    ("household", PE.HHW),
    ("rcra", PE.RCRA_LQG),
    ("large quantity", PE.RCRA_LQG),
    ("tiered permitting", PE.TIERED_PERMITTING),
    ("accidental release", PE.CALARP),
    ("calarp", PE.CALARP),
    ("aboveground", PE.APSA),
    ("apsa", PE.APSA),
    ("underground", PE.UST),
    ("ust", PE.UST),
    ("business plan", PE.BUSINESS_PLAN),
    ("hmbp", PE.BUSINESS_PLAN),
    ("hazardous waste", PE.HW_GENERATOR),
    ("generator", PE.HW_GENERATOR),
)


def program_element_code(text: str) -> PE | None:
    """The program element ``text`` names, or None."""
    words = " ".join(text.split()).lower()
    if words.isdecimal():
        return PE(int(words)) if int(words) in PE.values else None
    for element in PE:
        if words == element.label.lower():
            return element
    for word, element in PROGRAM_WORDS:
        if re.search(rf"\b{re.escape(word)}\b", words):
            return element
    return None


def _date(element, tag: str, problems: list[str], where: str) -> datetime.date | None:
    text = (element.findtext(tag) or "").strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        problems.append(f"{where}: {tag} '{text}' is not a date.")
        return None


def _entry(element, version: str, problems: list[str], where: str) -> dict:
    def text(tag: str) -> str:
        return " ".join((element.findtext(tag) or "").split())

    entry = {
        "type_number": text("TypeNumber"),
        "name": text("Name"),
        "description": (element.findtext("Description") or "").strip(),
        "category": text("Category"),
        "citations": [
            {key: (citation.findtext(tag) or "").strip() for key, tag in CITATION_TAGS.items()}
            for citation in element.iterfind("Citations/Citation")
        ],
    }
    program = text("ProgramElement")
    element_code = program_element_code(program)
    if element_code is None:
        problems.append(
            f"{where}: the program element '{program}' is not one of {', '.join(PE.labels)}."
        )
    entry["program_element"] = element_code
    if version != "1/05":
        entry["begin_date"] = _date(element, "BeginDate", problems, where)
        end = _date(element, "EndDate", problems, where)
        entry["end_date"] = None if end == OPEN_END else end
    return entry


def _join(windows: list[dict]) -> dict:
    """One entry for a type listed for several validity windows."""
    if "begin_date" not in windows[0]:  # 1/05: no windows to join
        return dict(windows[-1])
    ordered = sorted(windows, key=lambda w: w.get("begin_date") or datetime.date.min)
    joined = dict(ordered[-1])
    joined["begin_date"] = ordered[0].get("begin_date")
    ends = [w.get("end_date") for w in windows]
    joined["end_date"] = None if None in ends else max(ends)
    return joined


def read_violation_library(data: bytes) -> LibraryFile:
    """The entries of a violation library file; ``ValidationError`` listing every problem
    (unsafe or malformed XML, another schema, schema errors, unknown program elements)."""
    document = read_checked(data, SCHEMA, MAX_BYTES)

    library = LibraryFile(version=document.version)
    problems: list[str] = []
    by_number: dict[str, list[dict]] = {}
    for position, element in enumerate(document.root.iterfind("Violation"), start=1):
        number = " ".join((element.findtext("TypeNumber") or "").split())
        where = f"Violation {position} (type {number or 'without a number'})"
        by_number.setdefault(number, []).append(_entry(element, document.version, problems, where))
    if problems:
        raise ValidationError(problems)
    for number, windows in by_number.items():
        if len(windows) == 1:
            library.entries.append(windows[0])
            continue
        joined = _join(windows)
        library.entries.append(joined)
        end = joined["end_date"] or "no end date"
        library.notes.append(
            f"Type {number} is listed for {len(windows)} validity windows; they are joined "
            f"into one entry valid from {joined['begin_date'] or 'its stored begin date'} "
            f"to {end}, worded as its latest window."
        )
    return library
