"""The submittal field registry: one description of every field a submittal element carries.

Forms, validation and the EDT XML codecs all read fields from here instead of declaring their
own copies. The data is generated from CalEPA's ``RegulatorFacilitySubmittal.xsd`` (version
1/10) by ``tools/build_registry.py`` into ``core/registry_data/`` and loaded once, lazily.
It sits in ``core`` because the apps that read it (libraries' data dictionary, submittals,
the EDT codecs) stand in different layers, and it needs nothing but ``core.elements``.

Shape:

- :class:`ElementSchema` per submittal element (``core.elements.SubmittalElement`` 1..10): the
  element's container tag in the facility submittal XML, its groups and its fields, in schema
  order (which is also the order the XML sequence requires).
- :class:`Group` for each complex XML element (a form such as ``BusinessActivities``, a
  repeating row such as ``Chemicals/Chemical``, a document slot such as ``SiteMapDocuments``
  and its alternatives ``Exempt``, ``ProvidedToRegulator``, ``Attachments``...).
- :class:`Field` for each simple value (an XML element with text, or an XML attribute).

Semantics worth knowing:

- ``path`` is relative to the element's container tag; ``group`` is the tag of the nearest
  enclosing complex element.
- ``required`` is relative to the enclosing group: ``ChemicalName`` is required in every
  ``Chemical`` row that exists, not in the element. A field that is one alternative of an
  ``xs:choice`` (``choice=True``) is never required by itself: a document slot needs exactly one
  of its alternatives.
- ``repeats`` reflects the field's own ``maxOccurs``. The UST monitoring plan wraps some fields in
  a repeating ``xs:choice`` (any order, each listed once in practice); those fields keep
  ``repeats=False`` and the element's ``notes`` name the places.
- CalARP (element 10) is declared in the schema only as a type (a header and one document slot)
  that the facility submittal never places: its ``xml_tag`` is "" and
  ``in_facility_submittal`` is False.
- Every element repeats the ``SubmittalElementHeader`` fields (submitter, regulator action,
  next due date, reporting requirement): they are part of each element's XML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from core.elements import SubmittalElement

DATA_DIR = Path(__file__).resolve().parent / "registry_data"
FACILITY_SUBMITTAL_FILE = "facility_submittal.json"
HEADER_TAG = "SubmittalElementHeader"

FIELD_TYPES = ("string", "integer", "decimal", "date", "datetime", "boolean", "code")

# Codes are listed in a message when there are at most this many.
_MAX_CODES_IN_MESSAGE = 25
_GUID_TYPES = {"GUID", "RegulatorKeyType"}

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class FieldLookupError(LookupError):
    """No field, or more than one, answers to the name asked for."""


@dataclass(frozen=True)
class Field:
    """One simple value of a submittal element, as the schema defines it."""

    number: str  # data-dictionary number ("205", "1a", "20.0005"); "" when the schema has none
    tag: str  # XML element (or attribute) name
    label: str  # our short human label
    type: str  # one of FIELD_TYPES
    path: tuple[str, ...]  # tags from the element's container down to this field
    group: str  # tag of the nearest enclosing complex element
    required: bool = False  # within its group; see the module docstring
    repeats: bool = False
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None  # XSD pattern; the whole value must match
    total_digits: int | None = None
    fraction_digits: int | None = None
    min_value: str | None = None  # inclusive bound, in the type's lexical form
    max_value: str | None = None
    # (value, label): the code list of a "code" field, or the labelled values of an "integer"
    # field whose numbers are codes (fire code hazard classes 1-39, counties 1-58). Labels
    # come from core.code_lists.
    codes: tuple[tuple[str, str], ...] = ()
    choice: bool = False  # one alternative of an xs:choice
    attribute: bool = False  # an XML attribute of its group, not a child element
    nillable: bool = False
    default: str | None = None
    locally_collected: bool = False  # marked "Locally Collected Field" in the schema
    xsd_type: str = ""  # the named schema type it derives from, for codecs

    @property
    def key(self) -> str:
        """The field's path as one string: "Chemicals/Chemical/ChemicalName"."""
        return "/".join(self.path)

    @cached_property
    def code_values(self) -> tuple[str, ...]:
        """The codes' values, in order: made once, as every value of the field is checked
        against them (an upload checks thousands)."""
        return tuple(value for value, _ in self.codes)

    def code_label(self, value: str) -> str:
        """The label of one code, or the value itself when the code list does not have it."""
        return dict(self.codes).get(value, value)


@dataclass(frozen=True)
class Group:
    """A complex XML element inside a submittal element: a form, a row, or a document slot."""

    tag: str
    label: str
    path: tuple[str, ...]
    group: str  # tag of the enclosing group ("" or the element's container tag at the top)
    number: str = ""
    required: bool = False
    repeats: bool = False
    choice: bool = False
    document: bool = False  # a document slot (schema type DocumentType)
    xsd_type: str = ""

    @property
    def key(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True)
class ElementSchema:
    """Everything the schema defines for one submittal element."""

    element: SubmittalElement
    xml_tag: str  # container tag under FacilitySubmittal; "" if the submittal never carries it
    xsd_type: str
    in_facility_submittal: bool
    namespace: str
    fields: tuple[Field, ...]
    groups: tuple[Group, ...]
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.element.label

    def get(self, name: str) -> Field:
        """The field named by tag ("ChemicalName"), number ("205") or path ("Chemicals/...").

        Tags start with a letter and data-dictionary numbers with a digit, so one argument
        serves both. Outside the header and the document slots every field has a number of its
        own; a tag or number used in several places (each document slot's ``Comment`` or
        ``DateProvided``, the tiered-permitting unit types' shared tags) needs its path.
        """
        if "/" in name:
            matches = self._by_key.get(name, [])
        elif name[:1].isdigit():
            matches = self._by_number.get(name, [])
        else:
            matches = self._by_tag.get(name, [])
        if not matches:
            raise FieldLookupError(f"{self.element.label} has no field {name!r}.")
        if len(matches) > 1:
            paths = ", ".join(f.key for f in matches)
            raise FieldLookupError(
                f"{self.element.label} has {len(matches)} fields {name!r}; ask by path: {paths}."
            )
        return matches[0]

    def group_at(self, path: tuple[str, ...] | str) -> Group:
        key = path if isinstance(path, str) else "/".join(path)
        for group in self.groups:
            if group.key == key:
                return group
        raise FieldLookupError(f"{self.element.label} has no group {key!r}.")

    def fields_under(self, *prefix: str) -> tuple[Field, ...]:
        """Fields whose path starts with ``prefix``: ``fields_under("Chemicals", "Chemical")``."""
        n = len(prefix)
        return tuple(f for f in self.fields if f.path[:n] == prefix)

    @cached_property
    def header_fields(self) -> tuple[Field, ...]:
        return self.fields_under(HEADER_TAG)

    @cached_property
    def data_fields(self) -> tuple[Field, ...]:
        """Fields outside the header and the document slots: what the element's forms hold."""
        slots = {g.path for g in self.groups if g.document}
        return tuple(
            f
            for f in self.fields
            if f.path[0] != HEADER_TAG and not any(f.path[: len(slot)] == slot for slot in slots)
        )

    @cached_property
    def document_slots(self) -> tuple[Group, ...]:
        return tuple(g for g in self.groups if g.document)

    def record_path(self, item: Field | Group) -> tuple[str, ...]:
        """Path of the nearest repeating group holding ``item`` (its row), () if none."""
        for depth in range(len(item.path) - 1, 0, -1):
            if item.path[:depth] in self._repeating_paths:
                return item.path[:depth]
        return ()

    @cached_property
    def _repeating_paths(self) -> frozenset[tuple[str, ...]]:
        return frozenset(g.path for g in self.groups if g.repeats)

    @cached_property
    def _by_tag(self) -> dict[str, list[Field]]:
        return _index(self.fields, lambda f: f.tag)

    @cached_property
    def _by_number(self) -> dict[str, list[Field]]:
        return _index((f for f in self.fields if f.number), lambda f: f.number)

    @cached_property
    def _by_key(self) -> dict[str, list[Field]]:
        return _index(self.fields, lambda f: f.key)


def _index(fields, key) -> dict[str, list[Field]]:
    out: dict[str, list[Field]] = {}
    for f in fields:
        out.setdefault(key(f), []).append(f)
    return out


# -- loading ----------------------------------------------------------------------------------


def _field(row: dict[str, Any]) -> Field:
    row = dict(row)
    row["path"] = tuple(row["path"])
    row["codes"] = tuple(tuple(code) for code in row.get("codes", ()))
    row.setdefault("number", "")
    return Field(**row)


def _group(row: dict[str, Any]) -> Group:
    row = dict(row)
    row["path"] = tuple(row["path"])
    return Group(**row)


@cache
def _schemas() -> dict[SubmittalElement, ElementSchema]:
    schemas = {}
    for path in sorted(DATA_DIR.glob("[0-9][0-9]_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        element = SubmittalElement(data["element"])
        schemas[element] = ElementSchema(
            element=element,
            xml_tag=data["xml_tag"],
            xsd_type=data["xsd_type"],
            in_facility_submittal=data["in_facility_submittal"],
            namespace=data["namespace"],
            fields=tuple(_field(row) for row in data["fields"]),
            groups=tuple(_group(row) for row in data["groups"]),
            notes=tuple(data.get("notes", ())),
        )
    return schemas


@cache
def facility_submittal_fields() -> tuple[Field, ...]:
    """The fields of the facility submittal around its elements (CERS ID, facility keys)."""
    data = json.loads((DATA_DIR / FACILITY_SUBMITTAL_FILE).read_text(encoding="utf-8"))
    return tuple(_field(row) for row in data["fields"])


def schema_for(element: SubmittalElement | int) -> ElementSchema:
    """The schema of one submittal element."""
    try:
        return _schemas()[SubmittalElement(element)]
    except (KeyError, ValueError):
        raise FieldLookupError(f"No registry data for submittal element {element!r}.") from None


def all_schemas() -> tuple[ElementSchema, ...]:
    """Every element's schema, in element order."""
    return tuple(_schemas()[element] for element in sorted(_schemas()))


def field(element: SubmittalElement | int, tag_or_number: str) -> Field:
    """One field of an element, by tag, data-dictionary number or path (see ElementSchema.get)."""
    return schema_for(element).get(tag_or_number)


# -- validation -------------------------------------------------------------------------------


def validate_value(field: Field, raw: Any) -> tuple[Any, str | None]:
    """Check one raw value against its field; return (clean value, None) or (None, message).

    ``raw`` is text from a form or an XML document (Python dates, numbers and booleans are also
    accepted). Surrounding whitespace is ignored. Blank means absent: an error only when the
    field is required within its group. Clean values are ``str`` (string and code fields),
    ``int``, ``Decimal``, ``date``, ``datetime`` or ``bool``. Messages start with the field's
    label and say what to enter.
    """
    text = (raw if type(raw) is str else _as_text(raw)).strip()  # most values come as text
    if text == "":
        return None, (f"{field.label}: required." if field.required else None)
    check = _CHECKS.get(field.type)
    if check is None:
        raise ValueError(f"Field {field.key} has unknown type {field.type!r}.")
    value, problem = check(field, text)
    if problem:
        return None, f"{field.label}: {problem}"
    return value, None


def _as_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, date | datetime):
        return raw.isoformat()
    return str(raw)


def _check_string(field: Field, text: str) -> tuple[Any, str | None]:
    length = len(text)
    exact = field.min_length is not None and field.min_length == field.max_length
    if exact and length != field.min_length:
        return None, f"exactly {field.min_length} characters (now {length})."
    if field.max_length is not None and length > field.max_length:
        return None, f"at most {field.max_length} characters (now {length})."
    if field.min_length is not None and length < field.min_length:
        return None, f"at least {field.min_length} characters (now {length})."
    if field.pattern and not _pattern(field.pattern).fullmatch(text):
        if field.xsd_type in _GUID_TYPES:
            return None, "enter a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e."
        return None, f"does not match the required format {field.pattern}."
    return text, None


def _check_code(field: Field, text: str) -> tuple[Any, str | None]:
    if text in field.code_values:
        return text, None
    if len(field.codes) <= _MAX_CODES_IN_MESSAGE:
        choices = ", ".join(
            value if label == value else f"{value} ({label})" for value, label in field.codes
        )
        return None, f"choose one of {choices}."
    return None, f"{text!r} is not one of its codes."


def _check_integer(field: Field, text: str) -> tuple[Any, str | None]:
    if not _INTEGER.fullmatch(text):
        return None, "enter a whole number."
    value = int(text)
    if field.total_digits is not None and len(str(abs(value))) > field.total_digits:
        return None, f"at most {field.total_digits} digits."
    return _check_range(field, value, int)


def _check_decimal(field: Field, text: str) -> tuple[Any, str | None]:
    if not _DECIMAL.fullmatch(text):
        return None, "enter a number, such as 12.5."
    value = Decimal(text)
    total, fraction = _digits(value)
    if field.fraction_digits is not None and fraction > field.fraction_digits:
        if field.fraction_digits == 0:
            return None, "enter a whole number."
        return None, f"at most {field.fraction_digits} decimal places."
    if field.total_digits is not None and total > field.total_digits:
        return None, f"at most {field.total_digits} digits."
    return _check_range(field, value, Decimal)


def _digits(value: Decimal) -> tuple[int, int]:
    """(total digits, fraction digits) the XSD facets count for a decimal value."""
    sign, digits, exponent = value.normalize().as_tuple()
    if value == 0:
        return 1, 0
    if exponent >= 0:
        return len(digits) + exponent, 0
    fraction = -exponent
    return max(len(digits), fraction), fraction


def _check_date(field: Field, text: str) -> tuple[Any, str | None]:
    match = _DATE.fullmatch(text)
    try:
        value = date.fromisoformat(match[1]) if match else None
    except ValueError:
        value = None
    if value is None:
        return None, "enter a date as YYYY-MM-DD."
    return _check_range(field, value, lambda s: date.fromisoformat(s[:10]), on_date=True)


def _check_datetime(field: Field, text: str) -> tuple[Any, str | None]:
    try:
        value = datetime.fromisoformat(text) if _DATETIME.fullmatch(text) else None
    except ValueError:
        value = None
    if value is None:
        return None, "enter a date and time as YYYY-MM-DDThh:mm:ss."
    return _check_range(field, value, datetime.fromisoformat, on_date=True)


def _check_range(field: Field, value, parse, *, on_date: bool = False):
    def comparable(bound):
        if isinstance(value, datetime) and isinstance(bound, datetime):
            # Naive values are compared as UTC against the schema's UTC bounds.
            if value.tzinfo is None and bound.tzinfo is not None:
                return bound.astimezone(UTC).replace(tzinfo=None)
            if value.tzinfo is not None and bound.tzinfo is None:
                return bound.replace(tzinfo=UTC)
        return bound

    if field.min_value is not None and value < comparable(parse(field.min_value)):
        return (
            None,
            f"on or after {field.min_value}." if on_date else f"at least {field.min_value}.",
        )
    if field.max_value is not None and value > comparable(parse(field.max_value)):
        return (
            None,
            f"on or before {field.max_value}." if on_date else f"at most {field.max_value}.",
        )
    return value, None


def _check_boolean(field: Field, text: str) -> tuple[Any, str | None]:
    value = _BOOLEANS.get(text.lower())
    if value is None:
        return None, "enter true or false."
    return value, None


_CHECKS = {
    "string": _check_string,
    "code": _check_code,
    "integer": _check_integer,
    "decimal": _check_decimal,
    "date": _check_date,
    "datetime": _check_datetime,
    "boolean": _check_boolean,
}


def text_check(field: Field) -> Callable[[str], bool]:
    """A check that stripped, non-blank text is a valid value of ``field``: what
    ``validate_value`` decides, with the type's check chosen once (for writers that check
    many values of one field)."""
    if field.type == "code":
        codes = frozenset(field.code_values)
        return codes.__contains__
    if field.type == "string":  # what ``_check_string`` decides, without its messages
        low, high = field.min_length, field.max_length
        pattern = _pattern(field.pattern) if field.pattern else None
        if low is None and high is None and pattern is None:
            return any_text
        low = low or 0

        def fits(text: str) -> bool:
            length = len(text)
            if length < low or (high is not None and length > high):
                return False
            return pattern is None or pattern.fullmatch(text) is not None

        return fits
    check = _CHECKS.get(field.type)
    if check is None:
        raise ValueError(f"Field {field.key} has unknown type {field.type!r}.")
    return lambda text: check(field, text)[1] is None


def any_text(text: str) -> bool:
    """The check of a field without facets: every text fits (a writer may skip the call)."""
    return True


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    # XSD patterns are implicitly anchored; fullmatch gives the same meaning. The schema's
    # patterns use only syntax Python's re shares with XSD.
    return re.compile(pattern)
