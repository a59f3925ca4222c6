"""Every write to the libraries: one durable transaction and one audit event each.

Only the state administrator (staff of the state agency holding ``manage_facilities``
there) maintains the libraries; ``actor`` None is the system itself (data loads). A refusal
raises ``PermissionDenied``; bad input raises ``ValidationError`` naming the field, and
nothing is stored.

Rules:

- Violation types: the type number has 4 or 7 digits and is unique; a category (the
  library's text) and a program element are given; the end date (the day
  the type is retired) comes after the begin date; each citation has a section and a source.
  A type cited by CME violations is never deleted: it is retired by an end date, which may
  not fall before the last violation citing it (nor the begin date after the first), and it
  keeps its number and program element, which the CME data carries.
- Chemicals: the CCL ID is CalEPA's (not the primary key): empty when not known, else a
  positive number, unique, that stays fixed once an inventory picked the chemical by it; CAS
  numbers (the chemical's and its components') have the CAS shape
  and a correct check digit; codes (physical state, type, DOT hazard class, fire code hazard
  classes, federal hazard categories) are those of the inventory fields in the registry, so
  a library entry always fills a valid inventory row; at most five components, each with a
  name, a CAS number or a percentage (CalEPA's library, like CERS inventories, has components
  known only by their percentage).
- What CalEPA's library says beyond the inventory's fields: Proposition 65 types among
  ``Prop65Type`` (given as the value or in words, "Female reproductive toxicity"; kept once
  each, in the type's order); the US EPA SRS number up to 50 characters; the state waste code
  three digits; radioactive and trade secret Y, N or not stated; curies a number, not
  negative, below 10**10 with at most 10 decimal places; comments up to 1000 characters and
  additional mixture components up to 2000 (the schema's lengths), and none of these texts
  with a control character XML cannot carry (the Chemical Library Query writes them).
- Loading CalEPA's published library (``load_chemical_library``): every entry checked as
  above, all or nothing; an entry is matched by its CCL ID, else by its CAS number to one
  entry without a CCL ID (a seeded chemical then takes CalEPA's ID), else added. Entries the
  file does not list stay.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from core.elements import SubmittalElement
from core.keys import column_range
from core.registry import field as registry_field
from core.registry import schema_for
from core.services import as_text, audit_value, record_event, snapshot
from core.xmlsafe import control_character
from regulators.querysets import state_agencies_administered

from . import hooks
from .models import (
    Chemical,
    ChemicalLibraryLoad,
    Prop65Type,
    ViolationLibraryLoad,
    ViolationType,
)
from .violation_file import EARLIEST_BEGIN

VIOLATION_TYPE_FIELDS = (
    "type_number",
    "name",
    "description",
    "category",
    "program_element",
    "begin_date",
    "end_date",
    "citations",
)
CITATION_KEYS = ("chapter", "section", "name", "description", "source")

CHEMICAL_FIELDS = (
    "ccl_id",
    "cas_number",
    "chemical_name",
    "common_name",
    "synonyms",
    "ehs",
    "physical_state",
    "hm_type",
    "dot_hazard_class",
    "fire_code_hazard_classes",
    "federal_hazard_categories",
    "components",
    "prop65_types",
    "usepa_srs_number",
    "sta_code",
    "radioactive",
    "curies",
    "trade_secret",
    "comments",
    "additional_mixture_components",
)
COMPONENT_KEYS = ("name", "cas_number", "percent_by_weight", "ehs")
MAX_COMPONENTS = 5  # fields 226-245: HC1 to HC5
MAX_FIRE_CODE_CLASSES = 8  # fields 210a-210h

# CAS Registry Number: 2 to 7 digits, 2 digits, one check digit.
_CAS = re.compile(r"(\d{2,7})-(\d{2})-(\d)")
_TYPE_NUMBER = re.compile(r"\d{4}|\d{7}")
_STATE_WASTE_CODE = re.compile(r"\d{3}")

INVENTORY = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY


# -- shared helpers ----------------------------------------------------------------------------


def _state_agency(actor):
    """The state agency ``actor`` administers (the audit event's scope); None for the system.

    Raises PermissionDenied for anyone but the state administrator.
    """
    if actor is None:
        return None
    agency = state_agencies_administered(actor).first()
    if agency is None or getattr(actor, "is_service_account", False):
        raise PermissionDenied("Only the state administrator maintains the libraries.")
    return agency


def _others(model, instance):
    """Rows of ``model`` other than ``instance`` (all of them for a new row)."""
    rows = model.objects.all()
    return rows.exclude(pk=instance.pk) if instance is not None else rows


def _date(value, errors, name: str) -> datetime.date | None:
    """A date given as a date or as YYYY-MM-DD text; None when blank."""
    if isinstance(value, datetime.date) or value in (None, ""):
        return value or None
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[name] = ["Enter a date as YYYY-MM-DD."]
        return None


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def cas_problem(text: str) -> str | None:
    """Why ``text`` is not a CAS Registry Number, or None when it is one.

    The last digit is a check digit: the other digits, from the right, times 1, 2, 3...,
    summed, modulo 10.
    """
    match = _CAS.fullmatch(text)
    if match is None:
        return "A CAS number has the form 1234567-12-3: 2 to 7 digits, 2 digits, 1 check digit."
    digits = (match[1] + match[2])[::-1]
    check = sum(position * int(digit) for position, digit in enumerate(digits, start=1)) % 10
    if check != int(match[3]):
        return f"{text} is not a valid CAS number: its check digit should be {check}."
    return None


# -- violation types ---------------------------------------------------------------------------


def _clean_citations(raw, errors) -> list[dict[str, str]]:
    citations = []
    for position, citation in enumerate(raw or [], start=1):
        cleaned = {key: as_text(citation.get(key)) for key in CITATION_KEYS}
        if not any(cleaned.values()):
            continue  # an empty row of the form
        if not cleaned["section"] or not cleaned["source"]:
            errors.setdefault("citations", []).append(
                f"Citation {position}: give at least the section and the source "
                "(such as California Health and Safety Code)."
            )
        citations.append(cleaned)
    return citations


def _clean_violation_type(
    values: dict[str, Any], instance: ViolationType | None, *, check_unique: bool = True
):
    """The values to store and the problems found, by field (``check_unique`` False when the
    caller has matched rows to numbers itself, as a library load does)."""
    unknown = set(values) - set(VIOLATION_TYPE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown violation type fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    current = snapshot(instance, VIOLATION_TYPE_FIELDS) if instance else {}
    merged = {**current, **values}
    clean: dict[str, Any] = {}

    number = as_text(merged.get("type_number"))
    if not _TYPE_NUMBER.fullmatch(number):
        errors["type_number"] = ["A violation type number has 4 or 7 digits."]
    elif check_unique and _others(ViolationType, instance).filter(type_number=number).exists():
        errors["type_number"] = [f"Violation type {number} is already in the library."]
    clean["type_number"] = number

    clean["name"] = as_text(merged.get("name"))
    if not clean["name"]:
        errors["name"] = ["Give the violation type a name."]
    elif len(clean["name"]) > ViolationType._meta.get_field("name").max_length:
        errors["name"] = ["The name is at most 300 characters."]
    clean["description"] = as_text(merged.get("description"))

    clean["category"] = as_text(merged.get("category"))
    if not clean["category"]:
        errors["category"] = ["Give the type's category, such as Administration/Documentation."]
    elif len(clean["category"]) > ViolationType._meta.get_field("category").max_length:
        errors["category"] = ["The category is at most 100 characters."]
    try:
        clean["program_element"] = ViolationType.ProgramElement(int(merged.get("program_element")))
    except (TypeError, ValueError):
        errors["program_element"] = ["Choose one of the program element codes."]

    begin = _date(merged.get("begin_date"), errors, "begin_date")
    end = _date(merged.get("end_date"), errors, "end_date")
    if begin is None and "begin_date" not in errors:
        errors["begin_date"] = ["Give the first day the type may be cited."]
    elif end is not None and end <= begin:
        errors["end_date"] = ["The end date must come after the begin date."]
    clean["begin_date"], clean["end_date"] = begin, end

    clean["citations"] = _clean_citations(merged.get("citations"), errors)
    return clean, errors


def _check_cited_type(
    violation_type: ViolationType, clean: dict[str, Any], errors, cited: dict | None = None
) -> None:
    """A type CME violations cite keeps its identity, and its validity covers them all.
    ``cited``: the first and last ``occurred_on`` of its violations, when already known."""
    if cited is None:
        cited = violation_type.violations.aggregate(
            first=Min("occurred_on"), last=Max("occurred_on")
        )
    if cited["first"] is None:
        return
    kept = (("type_number", "type number"), ("program_element", "program element"))
    for name, label in kept:
        if name in clean and clean[name] != getattr(violation_type, name):
            errors.setdefault(name, []).append(
                f"Violations cite this type, so its {label} cannot change: "
                "retire it with an end date and add a new type instead."
            )
    if clean["begin_date"] and clean["begin_date"] > cited["first"]:
        errors.setdefault("begin_date", []).append(
            f"A violation of {cited['first']:%Y-%m-%d} cites this type: "
            "it must be valid from that day."
        )
    if clean["end_date"] and clean["end_date"] < cited["last"]:
        errors.setdefault("end_date", []).append(
            f"A violation of {cited['last']:%Y-%m-%d} cites this type: "
            "retire it on that day or later."
        )


def _save_unique(obj, field_name: str, message: str) -> None:
    """Save, turning a lost race for a unique value into the same message a check gives."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError({field_name: [message]}) from None


# Per library model: its audit name, its audited fields, its unique field and the message
# when another entry already has that value.
_ENTRIES = {
    ViolationType: (
        "violation_type",
        VIOLATION_TYPE_FIELDS,
        "type_number",
        "Violation type {} is already in the library.",
    ),
    Chemical: ("chemical", CHEMICAL_FIELDS, "ccl_id", "CCL ID {} is already in the library."),
}


def _save_entry(actor, agency, entry, clean: dict[str, Any], *, before) -> None:
    """Write checked values onto a library entry, save it and audit it. Both libraries add
    and change entries the same way: a lost race for the unique value gets the message a
    check gives, and the event says created (no ``before``) or updated."""
    name, fields, unique, duplicate = _ENTRIES[type(entry)]
    for field, value in clean.items():
        setattr(entry, field, value)
    _save_unique(entry, unique, duplicate.format(clean[unique]))
    record_event(
        actor,
        f"library.{name}.{'created' if before is None else 'updated'}",
        entry,
        before=before,
        after=chemical_snapshot(entry) if isinstance(entry, Chemical) else snapshot(entry, fields),
        regulator=agency,
    )


@transaction.atomic(durable=True)
def create_violation_type(*, actor, **values) -> ViolationType:
    """Add a violation type to the violation library."""
    agency = _state_agency(actor)
    clean, errors = _clean_violation_type(values, None)
    _raise(errors)
    violation_type = ViolationType()
    _save_entry(actor, agency, violation_type, clean, before=None)
    return violation_type


@transaction.atomic(durable=True)
def update_violation_type(*, actor, violation_type: ViolationType, **values) -> ViolationType:
    """Change a violation type; setting ``end_date`` retires it from that day on."""
    agency = _state_agency(actor)
    violation_type = ViolationType.objects.select_for_update().get(pk=violation_type.pk)
    before = snapshot(violation_type, VIOLATION_TYPE_FIELDS)
    clean, errors = _clean_violation_type(values, violation_type)
    _check_cited_type(violation_type, clean, errors)
    _raise(errors)
    _save_entry(actor, agency, violation_type, clean, before=before)
    return violation_type


@transaction.atomic(durable=True)
def delete_violation_type(*, actor, violation_type: ViolationType) -> None:
    """Remove a violation type no violation cites (one added by mistake). A type in use is
    refused: it is retired by an end date instead."""
    agency = _state_agency(actor)
    violation_type = ViolationType.objects.select_for_update().get(pk=violation_type.pk)
    if violation_type.violations.exists():
        raise ValidationError(
            f"Violations cite type {violation_type.type_number}, so it cannot be deleted: "
            "retire it by giving it an end date."
        )
    record_event(
        actor,
        "library.violation_type.deleted",
        violation_type,
        before=snapshot(violation_type, VIOLATION_TYPE_FIELDS),
        after=None,
        regulator=agency,
    )
    violation_type.delete()


@transaction.atomic(durable=True)
def load_violation_library(*, actor, entries: list[dict[str, Any]], source: str):
    """Load the published violation library: ``entries`` (one dict of ``VIOLATION_TYPE_FIELDS``
    per type number, as ``libraries.violation_file.read_violation_library`` gives them) are
    added or brought up to date, and the examples the library started with that the file does
    not list are removed (kept, and reported, while violations cite them). Types the file does
    not list and that are not examples stay: the state administrator added them.

    All or nothing: every problem of every entry is reported at once (a ``ValidationError``
    whose messages name the entry), and then nothing changes. Returns the
    ``ViolationLibraryLoad`` recorded.
    """
    agency = _state_agency(actor)
    existing = {t.type_number: t for t in ViolationType.objects.select_for_update()}
    cited = {
        row["pk"]: row
        for row in ViolationType.objects.filter(violations__isnull=False)
        .values("pk")
        .annotate(first=Min("violations__occurred_on"), last=Max("violations__occurred_on"))
        .order_by()
    }
    problems: list[str] = []
    created, changed, unchanged = [], [], 0
    listed = set()
    for position, values in enumerate(entries, start=1):
        instance = existing.get(as_text(values.get("type_number")))
        if instance is None and "begin_date" not in values:  # a file without dates (1/05)
            values = {**values, "begin_date": EARLIEST_BEGIN}
        clean, errors = _clean_violation_type(values, instance, check_unique=False)
        if instance is not None:
            _check_cited_type(instance, clean, errors, cited.get(instance.pk, {"first": None}))
        if clean["type_number"] in listed:
            errors.setdefault("type_number", []).append("The file lists this type twice.")
        listed.add(clean["type_number"])
        for name, messages in errors.items():
            label = ViolationType._meta.get_field(name).verbose_name
            for message in messages:
                problems.append(
                    f"Violation type {position} ({clean['type_number'] or 'no number'}), "
                    f"{label}: {message}"
                )
        if errors:
            continue
        if instance is None:
            created.append(ViolationType(**clean))
        elif instance.example or snapshot(instance, VIOLATION_TYPE_FIELDS) != {
            name: audit_value(value) for name, value in clean.items()
        }:
            for name, value in clean.items():
                setattr(instance, name, value)
            instance.example = False
            changed.append(instance)
        else:
            unchanged += 1
    if problems:
        raise ValidationError(problems)

    leftover = [t for n, t in existing.items() if t.example and n not in listed]
    kept = sorted(t.type_number for t in leftover if t.pk in cited)
    removed = [t for t in leftover if t.pk not in cited]
    ViolationType.objects.filter(pk__in=[t.pk for t in removed]).delete()
    ViolationType.objects.bulk_create(created)
    ViolationType.objects.bulk_update(changed, [*VIOLATION_TYPE_FIELDS, "example"])

    load = ViolationLibraryLoad.objects.create(
        source=source[:255],
        loaded_by=actor if getattr(actor, "pk", None) else None,
        listed=len(listed),
        created=len(created),
        updated=len(changed),
        unchanged=unchanged,
        examples_removed=len(removed),
        examples_kept=kept,
    )
    record_event(
        actor,
        "library.violation_library.loaded",
        load,
        before=None,
        after={
            "source": load.source,
            "created": sorted(t.type_number for t in created),
            "updated": sorted(t.type_number for t in changed),
            "unchanged": unchanged,
            "examples_removed": sorted(t.type_number for t in removed),
            "examples_kept": kept,
        },
        regulator=agency,
    )
    return load


# -- chemicals ---------------------------------------------------------------------------------


def _code(number: str, value, errors, name: str) -> str:
    """A code of inventory field ``number``, given as the code or its label; "" when blank."""
    text = as_text(value)
    if not text:
        return ""
    f = registry_field(INVENTORY, number)
    for code, label in f.codes:
        if text.casefold() in (code.casefold(), label.casefold()):
            return code
    errors.setdefault(name, []).append(
        f"Choose one of the {f.label} codes: {', '.join(c for c, _ in f.codes)}."
    )
    return text


def _fire_code_classes(raw, errors) -> list[int]:
    f = registry_field(INVENTORY, "210a")
    low, high = int(f.min_value), int(f.max_value)
    classes = []
    for value in raw or []:
        text = as_text(value)
        if not text:
            continue
        if not text.isdecimal() or not low <= int(text) <= high:
            errors.setdefault("fire_code_hazard_classes", []).append(
                f"A fire code hazard class is a number from {low} to {high} (not {text!r})."
            )
            continue
        if int(text) not in classes:
            classes.append(int(text))
    if len(classes) > MAX_FIRE_CODE_CLASSES:
        errors.setdefault("fire_code_hazard_classes", []).append(
            f"At most {MAX_FIRE_CODE_CLASSES} fire code hazard classes (fields 210a-210h)."
        )
    return classes


def federal_hazard_category_fields():
    """The inventory's federal hazard category fields (216a-216cc), in schema order."""
    return [f for f in schema_for(INVENTORY).data_fields if f.number.startswith("216")]


def _hazard_categories(raw, errors) -> list[str]:
    known = [f.number for f in federal_hazard_category_fields()]
    given = {as_text(value) for value in raw or []} - {""}
    unknown = sorted(given - set(known))
    if unknown:
        errors.setdefault("federal_hazard_categories", []).append(
            f"Not a federal hazard category field: {', '.join(unknown)} (216a-216cc)."
        )
    return [number for number in known if number in given]


def _components(raw, errors) -> list[dict[str, Any]]:
    components = []
    for position, component in enumerate(raw or [], start=1):
        cleaned = {key: as_text(component.get(key)) for key in COMPONENT_KEYS if key != "ehs"}
        ehs = component.get("ehs")
        if not any(cleaned.values()) and not ehs:
            continue  # an empty row of the form
        problems = []
        if not any(cleaned.values()):
            problems.append("give its name, its CAS number or its percent by weight")
        if cleaned["cas_number"] and (problem := cas_problem(cleaned["cas_number"])):
            problems.append(problem[0].lower() + problem[1:].rstrip("."))
        if cleaned["percent_by_weight"]:
            try:
                percent = Decimal(cleaned["percent_by_weight"])
            except InvalidOperation:
                percent = None
            if percent is None or not 0 < percent <= 100:
                problems.append("its percent by weight is a number above 0, up to 100")
        for problem in problems:
            errors.setdefault("components", []).append(f"Component {position}: {problem}.")
        components.append({**cleaned, "ehs": ehs in (True, "Y", "y", "on", "true", "True")})
    if len(components) > MAX_COMPONENTS:
        errors.setdefault("components", []).append(
            f"At most {MAX_COMPONENTS} components (fields 226-245); list others in the "
            "inventory's additional mixture components."
        )
    return components


def prop65_type(text: str) -> Prop65Type | None:
    """The Proposition 65 type ``text`` names: its value or its words, in any case, with or
    without "reproductive" and "toxicity" ("Female reproductive toxicity", "developmental");
    None when it names none."""
    words = " ".join(text.casefold().replace("-", " ").split())
    words = words.removesuffix(" toxicity").removesuffix(" reproductive").strip()
    for kind in Prop65Type:
        if words in (kind.value.casefold(), kind.label.casefold()):
            return kind
    return None


def _prop65_types(raw, errors) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    given = set()
    for value in raw or []:
        text = as_text(value)
        if not text:
            continue
        kind = prop65_type(text)
        if kind is None:
            errors.setdefault("prop65_types", []).append(
                f"{text!r} is not a Proposition 65 type: give cancer, developmental, female or "
                "male (reproductive toxicity)."
            )
        else:
            given.add(kind)
    return [kind.value for kind in Prop65Type if kind in given]


_YES = {"y", "yes", "true", "on", "1"}
_NO = {"n", "no", "false", "off", "0"}


def _flag(value, errors, name: str) -> bool | None:
    """A yes/no fact: True, False, or None when not stated ("" or None)."""
    if value is None or isinstance(value, bool):
        return value
    text = as_text(value).casefold()
    if not text:
        return None
    if text in _YES or text in _NO:
        return text in _YES
    label = Chemical._meta.get_field(name).verbose_name
    errors.setdefault(name, []).append(
        f"{label[:1].upper()}{label[1:]} is Y (yes) or N (no), or empty when not stated; "
        f"not {as_text(value)!r}."
    )
    return None


def _curies(value, errors) -> Decimal | None:
    text = as_text(value)
    if not text:
        return None
    f = Chemical._meta.get_field("curies")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        problem = f"Give the curies as a number, such as 0.25 (not {text!r})."
    elif number < 0:
        problem = "Curies are not negative: give 0 or more."
    elif number >= Decimal(10) ** (f.max_digits - f.decimal_places):
        problem = f"Give curies below {10 ** (f.max_digits - f.decimal_places)}."
    elif -number.normalize().as_tuple().exponent > f.decimal_places:
        problem = f"Give the curies with at most {f.decimal_places} decimal places."
    else:
        return number
    errors.setdefault("curies", []).append(problem)
    return None


def _limited_text(merged, errors, name: str, limit: int) -> str:
    """Text up to ``limit`` characters (the schema's length), its line breaks kept, and none
    that XML cannot carry."""
    text = as_text(merged.get(name))
    if len(text) > limit:
        errors.setdefault(name, []).append(f"Give at most {limit} characters ({len(text)} given).")
    if problem := control_character(text):
        # EDT's Chemical Library Query could not write it: every vendor's answer would fail.
        errors.setdefault(name, []).append(problem)
    return text


def _clean_chemical(
    values: dict[str, Any], instance: Chemical | None, *, check_unique: bool = True
):
    """The values to store and the problems found, by field (``check_unique`` False when the
    caller has matched rows to CCL IDs itself, as a library load does)."""
    unknown = set(values) - set(CHEMICAL_FIELDS)
    if unknown:
        raise ValueError(f"Unknown chemical fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    current = chemical_snapshot(instance) if instance else {}
    merged = {**current, **values}
    clean: dict[str, Any] = {}

    raw = merged.get("ccl_id")
    ccl_id = None
    if raw is not None and as_text(raw) != "":
        try:
            ccl_id = int(as_text(raw))
        except ValueError:
            ccl_id = 0
        highest = column_range(Chemical._meta.get_field("ccl_id"))[1]
        if ccl_id <= 0:
            errors["ccl_id"] = [
                "The CCL ID is CalEPA's, a positive whole number; leave it empty if not known."
            ]
        elif ccl_id > highest:
            errors["ccl_id"] = [
                f"The CCL ID is CalEPA's, a whole number of at most {highest}; check it, or "
                "leave it empty if not known."
            ]
        elif check_unique and _others(Chemical, instance).filter(ccl_id=ccl_id).exists():
            errors["ccl_id"] = [f"CCL ID {ccl_id} is already in the library."]
    clean["ccl_id"] = ccl_id

    clean["cas_number"] = as_text(merged.get("cas_number"))
    if clean["cas_number"] and (problem := cas_problem(clean["cas_number"])):
        errors["cas_number"] = [problem]

    for name in ("chemical_name", "common_name"):
        clean[name] = as_text(merged.get(name))
        if len(clean[name]) > 500:
            errors[name] = ["At most 500 characters."]
    if not clean["chemical_name"]:
        errors["chemical_name"] = ["Give the chemical name."]
    synonyms = merged.get("synonyms") or ""
    if not isinstance(synonyms, str):
        synonyms = "\n".join(synonyms)
    clean["synonyms"] = "\n".join(line.strip() for line in synonyms.splitlines() if line.strip())
    clean["ehs"] = bool(merged.get("ehs"))

    clean["physical_state"] = _code("214", merged.get("physical_state"), errors, "physical_state")
    clean["hm_type"] = _code("211", merged.get("hm_type"), errors, "hm_type")
    clean["dot_hazard_class"] = _code(
        "252", merged.get("dot_hazard_class"), errors, "dot_hazard_class"
    )
    clean["fire_code_hazard_classes"] = _fire_code_classes(
        merged.get("fire_code_hazard_classes"), errors
    )
    clean["federal_hazard_categories"] = _hazard_categories(
        merged.get("federal_hazard_categories"), errors
    )
    clean["components"] = _components(merged.get("components"), errors)

    clean["prop65_types"] = _prop65_types(merged.get("prop65_types"), errors)
    clean["usepa_srs_number"] = _limited_text(merged, errors, "usepa_srs_number", 50)
    clean["sta_code"] = as_text(merged.get("sta_code"))
    if clean["sta_code"] and not _STATE_WASTE_CODE.fullmatch(clean["sta_code"]):
        errors["sta_code"] = [
            f"A state waste code is three digits, such as 221 (not {clean['sta_code']!r})."
        ]
    clean["radioactive"] = _flag(merged.get("radioactive"), errors, "radioactive")
    clean["curies"] = _curies(merged.get("curies"), errors)
    clean["trade_secret"] = _flag(merged.get("trade_secret"), errors, "trade_secret")
    clean["comments"] = _limited_text(merged, errors, "comments", 1000)
    clean["additional_mixture_components"] = _limited_text(
        merged, errors, "additional_mixture_components", 2000
    )
    return clean, errors


def chemical_snapshot(values) -> dict[str, Any]:
    """A chemical's ``CHEMICAL_FIELDS`` (of a row, or of checked values) as an audit event
    records them: curies as decimal text, so that the event is JSON and compares by value."""
    if isinstance(values, Chemical):
        values = {name: getattr(values, name) for name in CHEMICAL_FIELDS}
    recorded = {name: audit_value(value) for name, value in values.items()}
    if recorded.get("curies") is not None:
        recorded["curies"] = format(Decimal(recorded["curies"]).normalize(), "f")
    return recorded


def _picked_by_inventories(chemical: Chemical) -> bool:
    return any(picked(chemical) for picked in hooks.chemical_picked)


@transaction.atomic(durable=True)
def create_chemical(*, actor, **values) -> Chemical:
    """Add a chemical to the chemical library."""
    agency = _state_agency(actor)
    clean, errors = _clean_chemical(values, None)
    _raise(errors)
    chemical = Chemical()
    _save_entry(actor, agency, chemical, clean, before=None)
    return chemical


@transaction.atomic(durable=True)
def update_chemical(*, actor, chemical: Chemical, **values) -> Chemical:
    """Change a chemical of the library. Inventories that picked it keep the values they
    copied; the library entry serves the next pick."""
    agency = _state_agency(actor)
    chemical = Chemical.objects.select_for_update().get(pk=chemical.pk)
    before = chemical_snapshot(chemical)
    clean, errors = _clean_chemical(values, chemical)
    changed = chemical.ccl_id is not None and clean["ccl_id"] != chemical.ccl_id
    if changed and _picked_by_inventories(chemical):
        errors.setdefault("ccl_id", []).append(
            "Inventories picked this chemical by its CCL ID, so the CCL ID cannot change."
        )
    _raise(errors)
    _save_entry(actor, agency, chemical, clean, before=before)
    return chemical


def _unnumbered_by_cas(entries) -> dict[str, Chemical]:
    """Entries without a CCL ID that a file entry may adopt by CAS number: those whose CAS
    number one library entry without a CCL ID and one file entry share."""
    in_file: dict[str, int] = {}
    for values in entries:
        cas = as_text(values.get("cas_number"))
        if cas:
            in_file[cas] = in_file.get(cas, 0) + 1
    candidates: dict[str, list[Chemical]] = {}
    for chemical in Chemical.objects.select_for_update().filter(ccl_id__isnull=True):
        if chemical.cas_number and in_file.get(chemical.cas_number) == 1:
            candidates.setdefault(chemical.cas_number, []).append(chemical)
    return {cas: rows[0] for cas, rows in candidates.items() if len(rows) == 1}


@transaction.atomic(durable=True)
def load_chemical_library(
    *, actor, entries: list[dict[str, Any]], source: str, lines: Sequence[int] = ()
):
    """Load CalEPA's published chemical library: ``entries`` (one dict of ``CHEMICAL_FIELDS``
    per CCL ID, as ``libraries.chemical_file.read_chemical_library`` gives them) are added or
    brought up to date. An entry is matched by its CCL ID, else by its CAS number to the one
    library entry without a CCL ID that has it (so a seeded chemical takes CalEPA's ID and the
    inventories that picked it stay linked), else added. Entries the file does not list stay.

    All or nothing: every problem of every entry is reported at once (a ``ValidationError``
    whose messages name the entry, and the line of the file it starts on where ``lines``,
    one per entry, says), and then nothing changes. Returns the ``ChemicalLibraryLoad``
    recorded.
    """
    agency = _state_agency(actor)
    existing = {
        c.ccl_id: c for c in Chemical.objects.select_for_update().filter(ccl_id__isnull=False)
    }
    adoptable = _unnumbered_by_cas(entries)
    problems: list[str] = []
    created: list[Chemical] = []
    changed: list[Chemical] = []
    unchanged = 0
    listed: set[int] = set()
    for position, values in enumerate(entries, start=1):
        ccl_id = values.get("ccl_id")
        instance = existing.get(ccl_id)
        if instance is None:
            instance = adoptable.pop(as_text(values.get("cas_number")), None)
        clean, errors = _clean_chemical(values, instance, check_unique=False)
        if clean["ccl_id"] is None and "ccl_id" not in errors:
            errors["ccl_id"] = ["Every chemical of CalEPA's library has a CCL ID."]
        elif clean["ccl_id"] in listed:
            errors.setdefault("ccl_id", []).append("The file lists this CCL ID twice.")
        listed.add(clean["ccl_id"])
        line = f" on line {lines[position - 1]}" if position <= len(lines) else ""
        for name, messages in errors.items():
            label = Chemical._meta.get_field(name).verbose_name
            for message in messages:
                problems.append(
                    f"Chemical {position} (CCL ID {clean['ccl_id'] or 'none'}, "
                    f"{clean['chemical_name'] or 'no name'}){line}, {label}: {message}"
                )
        if errors:
            continue
        if instance is None:
            created.append(Chemical(**clean))
        elif chemical_snapshot(instance) != chemical_snapshot(clean):
            for name, value in clean.items():
                setattr(instance, name, value)
            changed.append(instance)
        else:
            unchanged += 1
    if problems:
        raise ValidationError(problems)

    now = timezone.now()
    for chemical in [*created, *changed]:
        chemical.updated_at = now
    Chemical.objects.bulk_create(created, batch_size=1000)
    Chemical.objects.bulk_update(changed, [*CHEMICAL_FIELDS, "updated_at"], batch_size=1000)

    load = ChemicalLibraryLoad.objects.create(
        source=source[:255],
        loaded_by=actor if getattr(actor, "pk", None) else None,
        listed=len(listed),
        created=len(created),
        updated=len(changed),
        unchanged=unchanged,
    )
    record_event(
        actor,
        "library.chemical_library.loaded",
        load,
        before=None,
        after={
            "source": load.source,
            "created": sorted(c.ccl_id for c in created),
            "updated": sorted(c.ccl_id for c in changed),
            "unchanged": unchanged,
        },
        regulator=agency,
    )
    return load
