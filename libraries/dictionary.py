"""The data dictionary: every numbered field of the submittal field registry, by number.

CERS numbers its data in three dictionaries: the Unified Program Data Dictionary (UPDD:
``1``, ``1a``, ``205``, ``216cc``, ``490-47``), the CERS System Fields (``20.0001``...) and
the CERS Supplemental Fields (``21.0001``...). The registry (``core.registry``,
generated from CalEPA's facility submittal schema) records each field's number, tag, type,
length and code list; this module groups its fields by number (a number such as the
submitter's 20.0011 appears in every element) so each number has one entry listing every
place it is used. Nothing here is stored in the database: the dictionary changes only when
the registry is regenerated from a new schema. Fields the schema gives no number (a document
slot's comment, the facility submittal's own CERSID element) are not in the dictionary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.db import models

from core.elements import SubmittalElement
from core.registry import Field, all_schemas, facility_submittal_fields

_NUMBER_RUNS = re.compile(r"\d+|[a-z]+")

TYPE_NAMES = {
    "string": "Text",
    "code": "Code",
    "integer": "Whole number",
    "decimal": "Decimal number",
    "date": "Date",
    "datetime": "Date and time",
    "boolean": "True or false",
}


class Dictionary(models.TextChoices):
    """The three numbered dictionaries of the CERS Data Registry."""

    UPDD = "updd", "Unified Program Data Dictionary"
    SYSTEM = "system", "CERS System Fields"
    SUPPLEMENTAL = "supplemental", "CERS Supplemental Fields"


def dictionary_of(number: str) -> Dictionary:
    if number.startswith("20."):
        return Dictionary.SYSTEM
    if number.startswith("21."):
        return Dictionary.SUPPLEMENTAL
    return Dictionary.UPDD


def sort_key(number: str) -> tuple:
    """Dictionary order: the UPDD first (1, 1a, 2, ... 216z, 216aa, 217, ... 422-1, 422-2,
    422-10, ... 631-2a), then the system and supplemental fields by their decimal number.

    A number is compared run by run: digit runs as numbers, letter runs by length then
    alphabet (so 216z comes before 216aa), a shorter number before its longer forms.
    """
    runs = tuple(
        (0, int(run), "") if run.isdigit() else (1, len(run), run)
        for run in _NUMBER_RUNS.findall(number)
    )
    return (list(Dictionary).index(dictionary_of(number)), runs, number)


@dataclass(frozen=True)
class Usage:
    """One place a numbered field appears: in an element (None: around the elements, in the
    facility submittal itself)."""

    element: SubmittalElement | None
    field: Field

    @property
    def element_label(self) -> str:
        return self.element.label if self.element is not None else "The facility submittal"

    @property
    def location(self) -> str:
        """The XML path inside the element, groups separated by '/'."""
        return self.field.key


@dataclass(frozen=True)
class Entry:
    """A data dictionary entry: one number and every field of the registry that carries it.

    Fields sharing a number share their definition (name, type, length, codes); the first
    use is the one described.
    """

    number: str
    usages: tuple[Usage, ...]

    @property
    def field(self) -> Field:
        return self.usages[0].field

    @property
    def name(self) -> str:
        return self.field.label

    @property
    def tag(self) -> str:
        return self.field.tag

    @property
    def dictionary(self) -> Dictionary:
        return dictionary_of(self.number)

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.field.type, self.field.type)

    @property
    def elements(self) -> tuple[SubmittalElement, ...]:
        seen = []
        for usage in self.usages:
            if usage.element is not None and usage.element not in seen:
                seen.append(usage.element)
        return tuple(seen)

    @property
    def element_labels(self) -> str:
        if len(self.elements) == len(SubmittalElement):
            labels = ["every submittal element"]
        else:
            labels = [element.label for element in self.elements]
        if any(usage.element is None for usage in self.usages):
            labels.insert(0, "the facility submittal")
        return ", ".join(labels)

    @property
    def length(self) -> str:
        """The allowed length or size, in words; "" when the schema sets none."""
        f = self.field
        if f.min_length is not None and f.min_length == f.max_length:
            return f"exactly {f.max_length} characters"
        if f.max_length is not None:
            return f"at most {f.max_length} characters"
        if f.total_digits is not None:
            fraction = f", {f.fraction_digits} after the decimal point" if f.fraction_digits else ""
            return f"at most {f.total_digits} digits{fraction}"
        if f.codes:
            longest = max(len(code) for code, _ in f.codes)
            return f"a code of up to {longest} character{'s' if longest > 1 else ''}"
        return ""

    @property
    def value_range(self) -> str:
        f = self.field
        if f.min_value is not None and f.max_value is not None:
            return f"from {f.min_value} to {f.max_value}"
        if f.min_value is not None:
            return f"at least {f.min_value}"
        if f.max_value is not None:
            return f"at most {f.max_value}"
        return ""

    @property
    def definition(self) -> str:
        """What the registry says the field holds, as one sentence or two."""
        f = self.field
        parts = [f"{self.name}: the {f.tag} value of {self.element_labels}."]
        kind = {
            "string": "Text",
            "code": f"One of {len(f.codes)} codes",
            "integer": "A whole number",
            "decimal": "A decimal number",
            "date": "A date (YYYY-MM-DD)",
            "datetime": "A date and time (YYYY-MM-DDThh:mm:ss)",
            "boolean": "True or false",
        }.get(f.type, f.type)
        limits = ", ".join(part for part in (self.length, self.value_range) if part)
        parts.append(f"{kind}{', ' + limits if limits else ''}.")
        if f.pattern:
            parts.append(f"It matches the pattern {f.pattern}.")
        if f.locally_collected:
            parts.append("A locally collected field: a regulator may ask for it.")
        return " ".join(parts)

    @property
    def locally_collected(self) -> bool:
        return any(usage.field.locally_collected for usage in self.usages)

    def matches(self, words: list[str]) -> bool:
        """Every word appears in the number, name or tag (case-insensitive)."""
        haystack = f"{self.number} {self.name} {self.tag}".casefold()
        return all(word.casefold() in haystack for word in words)


@cache
def entries() -> tuple[Entry, ...]:
    """Every entry of the dictionary, in dictionary order (built once, from the registry)."""
    usages: dict[str, list[Usage]] = {}
    for f in facility_submittal_fields():
        if f.number:
            usages.setdefault(f.number, []).append(Usage(None, f))
    for schema in all_schemas():
        for f in schema.fields:
            if f.number:
                usages.setdefault(f.number, []).append(Usage(schema.element, f))
    return tuple(
        Entry(number=number, usages=tuple(found))
        for number, found in sorted(usages.items(), key=lambda item: sort_key(item[0]))
    )


@cache
def _by_number() -> dict[str, Entry]:
    return {entry.number: entry for entry in entries()}


def entry(number: str) -> Entry | None:
    """The entry for a number ("205", "216cc", "20.0005"), or None."""
    return _by_number().get(number.strip().lower())


def search(
    text: str = "",
    element: SubmittalElement | None = None,
    dictionary: Dictionary | None = None,
) -> list[Entry]:
    """Entries matching every word of ``text`` (number, name or tag), used in ``element``,
    in ``dictionary``. An exact number comes first."""
    words = text.split()[:10]
    found = [
        e
        for e in entries()
        if (element is None or element in e.elements)
        and (dictionary is None or e.dictionary == dictionary)
        and e.matches(words)
    ]
    exact = text.strip().lower()
    found.sort(key=lambda e: e.number != exact)  # stable: the rest keep dictionary order
    return found
